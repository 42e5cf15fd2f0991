// The designer's partition preview and data pre-flight (offscreen) over the real Fashion-MNIST files: the
// client sizes against what the real `fedwb-cli partition --json` prints, recomputation only for edits that
// change the partition, stale results discarded, the pre-flight's failures with their key paths, export,
// the hover tooltip, the per-group label shares, and grabs of the states for a look.
#include "designer/FederationModel.h"
#include "designer/PartitionPreview.h"
#include "run/Experiment.h"
#include "spec/FederationSpec.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHelpEvent>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QProcess>
#include <QSignalSpy>
#include <QStyleFactory>
#include <QTemporaryDir>
#include <QTest>
#include <QToolTip>

#include <cmath>
#include <numeric>

using namespace fedwb;

namespace {

constexpr int kTimeout = 120000; // the first load decodes 70,000 images; the machine may be shared
const QString kDataset = QStringLiteral("/usr/share/datasets/fashion-mnist");
const QString kQuickstart = QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb");

QJsonObject quickstart() {
    QFile f(kQuickstart);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

// `fedwb-cli partition WORKSPACE --json [--set ...]`, parsed; empty on failure.
QJsonObject cliPartition(const QStringList &sets = {}) {
    QStringList args{QStringLiteral("partition"), kQuickstart, QStringLiteral("--json")};
    for (const QString &s : sets)
        args << QStringLiteral("--set") << s;
    QProcess p;
    p.start(QStringLiteral(FEDWB_CLI), args);
    if (!p.waitForFinished(kTimeout) || p.exitCode() != 0) return {};
    return QJsonDocument::fromJson(p.readAllStandardOutput()).object();
}

// Mean over clients of the total-variation distance between the client's label shares and the pooled label
// mix, computed here from the histograms (independently of the widget's own number).
double meanTvFromPooled(const PartitionSummary &s) {
    std::vector<double> pooled(std::size_t(s.numClasses), 0.0);
    for (const ClientSummary &c : s.clients)
        for (int k = 0; k < s.numClasses; ++k)
            pooled[std::size_t(k)] += double(c.labelHistogram[std::size_t(k)]);
    const double all = std::accumulate(pooled.begin(), pooled.end(), 0.0);
    double mean = 0;
    for (const ClientSummary &c : s.clients) {
        const double n = double(c.trainSamples + c.testSamples);
        double tv = 0;
        for (int k = 0; k < s.numClasses; ++k)
            tv += std::fabs(double(c.labelHistogram[std::size_t(k)]) / n - pooled[std::size_t(k)] / all);
        mean += tv / 2 / double(s.clients.size());
    }
    return mean;
}

bool sameSummary(const PartitionSummary &a, const PartitionSummary &b) {
    if (a.dataset != b.dataset || a.numClasses != b.numClasses || a.trainPool != b.trainPool ||
        a.testSet != b.testSet || a.clients.size() != b.clients.size())
        return false;
    for (std::size_t c = 0; c < a.clients.size(); ++c) {
        const ClientSummary &x = a.clients[c], &y = b.clients[c];
        if (x.id != y.id || x.group != y.group || x.trainSamples != y.trainSamples ||
            x.testSamples != y.testSamples || x.labelHistogram != y.labelHistogram)
            return false;
    }
    return true;
}

// A preview of `raw` that has applied its first result.
struct Fixture {
    FederationModel model;
    PartitionPreview preview{&model};
    explicit Fixture(const QJsonObject &raw, QSize size = QSize(960, 520)) {
        model.reset(raw);
        preview.resize(size);
    }
};

// Waits until the fixture's preview has applied the result of its latest request.
#define SETTLE(f) QTRY_VERIFY_WITH_TIMEOUT(!(f).preview.isComputing(), kTimeout)

QString shotDir() {
    const QString dir = QDir::temp().filePath(QStringLiteral("fedwb-partition-preview"));
    QDir().mkpath(dir);
    return dir;
}

} // namespace

class TestPartitionPreview : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(!quickstart().isEmpty());
        if (!QFileInfo::exists(kDataset + QStringLiteral("/train-labels-idx1-ubyte.gz")))
            QSKIP("Fashion-MNIST is not installed (Debian package dataset-fashion-mnist)");
    }

    void quickstartMatchesTheCli() {
        Fixture f(quickstart());
        QSignalSpy updated(&f.preview, &PartitionPreview::updated);
        QSignalSpy preflight(&f.preview, &PartitionPreview::preflightChanged);
        QVERIFY(f.preview.isComputing()); // requested at once, computed off the GUI thread
        QTRY_COMPARE_WITH_TIMEOUT(updated.count(), 1, kTimeout);
        QVERIFY(!f.preview.isComputing());
        QCOMPARE(preflight.count(), 1);
        QCOMPARE(preflight.at(0).at(0).toBool(), true);
        QVERIFY(f.preview.preflightOk());
        QVERIFY(f.preview.preflightProblem().isEmpty());
        const PartitionSummary *s = f.preview.summary();
        QVERIFY(s);
        QCOMPARE(int(s->clients.size()), 20);

        const QJsonObject cli = cliPartition();
        QVERIFY2(!cli.isEmpty(), "fedwb-cli partition --json failed");
        QCOMPARE(cli.value(QStringLiteral("train_pool")).toInteger(), qint64(s->trainPool));
        QCOMPARE(cli.value(QStringLiteral("test_set")).toInteger(), qint64(s->testSet));
        const QJsonArray clients = cli.value(QStringLiteral("clients")).toArray();
        QCOMPARE(clients.size(), qsizetype(20));
        for (qsizetype c = 0; c < clients.size(); ++c) {
            const QJsonObject o = clients[c].toObject();
            const ClientSummary &mine = s->clients[std::size_t(c)];
            QCOMPARE(o.value(QStringLiteral("id")).toInt(), mine.id);
            QCOMPARE(o.value(QStringLiteral("train_samples")).toInteger(), qint64(mine.trainSamples));
            QCOMPARE(o.value(QStringLiteral("test_samples")).toInteger(), qint64(mine.testSamples));
            const QJsonArray h = o.value(QStringLiteral("label_histogram")).toArray();
            QCOMPARE(h.size(), qsizetype(mine.labelHistogram.size()));
            for (qsizetype k = 0; k < h.size(); ++k)
                QCOMPARE(h[k].toInteger(), qint64(mine.labelHistogram[std::size_t(k)]));
        }
    }

    void largerAlphaIsMoreUniform() {
        Fixture f(quickstart());
        SETTLE(f);
        const PartitionSummary skewed = *f.preview.summary();
        const double tvSkewed = meanTvFromPooled(skewed);
        QVERIFY(std::fabs(PartitionPreview::meanLabelDistance(skewed) - tvSkewed) < 1e-12);

        QSignalSpy updated(&f.preview, &PartitionPreview::updated);
        QElapsedTimer clock;
        clock.start();
        f.model.setValue(QStringLiteral("partition.alpha"), 100.0);
        QVERIFY(f.preview.isComputing());
        QVERIFY(f.preview.summary()); // the old bars stay while it computes
        f.preview.grab().save(shotDir() + QStringLiteral("/updating.png"));
        QVERIFY(updated.wait(kTimeout));
        qInfo("edit to applied result: %.0f ms (debounce %d ms)", double(clock.nsecsElapsed()) * 1e-6,
              PartitionPreview::kDebounceMs);
        QCOMPARE(updated.count(), 1);
        const PartitionSummary uniform = *f.preview.summary();
        const double tvUniform = meanTvFromPooled(uniform);
        // Dirichlet(0.5) over 20 clients leaves most clients with a few dominant classes (mean TV ~0.5);
        // Dirichlet(100) gives each client ~1/20 of every class (TV a few hundredths).
        QVERIFY2(tvSkewed > 0.3, qPrintable(QString::number(tvSkewed)));
        QVERIFY2(tvUniform < 0.1, qPrintable(QString::number(tvUniform)));
        QVERIFY(std::fabs(PartitionPreview::meanLabelDistance(uniform) - tvUniform) < 1e-12);
        QVERIFY(PartitionPreview::meanClassesFor90Percent(uniform) >
                PartitionPreview::meanClassesFor90Percent(skewed));
        // The CLI agrees on the new partition too.
        const QJsonArray cli =
            cliPartition({QStringLiteral("partition.alpha=100")}).value(QStringLiteral("clients")).toArray();
        QCOMPARE(cli.size(), qsizetype(20));
        for (qsizetype c = 0; c < cli.size(); ++c)
            QCOMPARE(cli[c].toObject().value(QStringLiteral("train_samples")).toInteger(),
                     qint64(uniform.clients[std::size_t(c)].trainSamples));
    }

    void unrelatedEditsDoNotRecompute() {
        Fixture f(quickstart());
        SETTLE(f);
        const int started = f.preview.computationsStarted();
        QSignalSpy updated(&f.preview, &PartitionPreview::updated);
        f.model.setValue(QStringLiteral("training.lr"), 0.01);
        f.model.setValue(QStringLiteral("run.rounds"), 3);
        f.model.setValue(QStringLiteral("clients.per_round"), 4);
        QVERIFY(!f.preview.isComputing()); // decided at once: nothing requested
        QTest::qWait(4 * PartitionPreview::kDebounceMs);
        QCOMPARE(f.preview.computationsStarted(), started);
        QCOMPARE(updated.count(), 0);
        // An edit of the partition does recompute; opening a workspace (reset) recomputes even when its
        // partition is the same (the files may have changed).
        f.model.setValue(QStringLiteral("partition.test_fraction"), 0.2);
        QVERIFY(f.preview.isComputing());
        QTRY_COMPARE_WITH_TIMEOUT(updated.count(), 1, kTimeout);
        f.model.reset(f.model.raw());
        QVERIFY(f.preview.isComputing());
        QTRY_COMPARE_WITH_TIMEOUT(updated.count(), 2, kTimeout);
        QCOMPARE(f.preview.computationsStarted(), started + 2);
    }

    void invalidWorkspaceKeepsTheLastBars() {
        Fixture f(quickstart());
        SETTLE(f);
        const int started = f.preview.computationsStarted();
        const PartitionSummary before = *f.preview.summary();
        QSignalSpy updated(&f.preview, &PartitionPreview::updated);
        f.model.setValue(QStringLiteral("partition.alpha"), -1.0);
        QVERIFY(!f.model.isValid());
        QVERIFY(f.preview.showsStaleWorkspace());
        QVERIFY(!f.preview.isComputing());
        QVERIFY(f.preview.summary() && sameSummary(*f.preview.summary(), before));
        QVERIFY(f.preview.preflightOk()); // validation reports the error; the pre-flight is about the data
        f.preview.grab().save(shotDir() + QStringLiteral("/invalid-workspace.png"));
        // Valid again with the partition shown: nothing to compute.
        f.model.setValue(QStringLiteral("partition.alpha"), 0.5);
        QVERIFY(f.model.isValid());
        QVERIFY(!f.preview.showsStaleWorkspace());
        QVERIFY(!f.preview.isComputing());
        QCOMPARE(f.preview.computationsStarted(), started);
        QCOMPARE(updated.count(), 0);
    }

    void onlyTheLatestRequestIsApplied() {
        Fixture f(quickstart());
        SETTLE(f);
        QSignalSpy updated(&f.preview, &PartitionPreview::updated);
        // A burst of five edits (faster than the debounce): one computation, one result.
        const int before = f.preview.computationsStarted();
        for (double alpha : {0.1, 0.2, 0.3, 0.4, 3.0})
            f.model.setValue(QStringLiteral("partition.alpha"), alpha);
        QTRY_COMPARE_WITH_TIMEOUT(updated.count(), 1, kTimeout);
        QCOMPARE(f.preview.computationsStarted(), before + 1);
        QVERIFY(sameSummary(*f.preview.summary(), summarizePartition(*f.model.spec())));
        QCOMPARE(f.model.spec()->real(QStringLiteral("partition.alpha")), 3.0);

        // Edits while a computation runs: a dataset folder not loaded yet (the files, linked) takes the
        // decoding time, and the alpha edits made meanwhile make its result stale.
        QTemporaryDir copy;
        QVERIFY(copy.isValid());
        for (const char *name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
            QVERIFY(QFile::link(kDataset + QLatin1Char('/') + QLatin1String(name),
                                copy.filePath(QLatin1String(name))));
        updated.clear();
        const int started = f.preview.computationsStarted();
        f.model.setValue(QStringLiteral("dataset.path"), copy.path());
        QTRY_VERIFY_WITH_TIMEOUT(f.preview.computationsStarted() == started + 1, kTimeout);
        QVERIFY2(updated.isEmpty(), "the new folder was decoded before the next edit: nothing was stale");
        for (double alpha : {0.15, 0.25, 0.35, 0.45, 7.0})
            f.model.setValue(QStringLiteral("partition.alpha"), alpha);
        QTRY_VERIFY_WITH_TIMEOUT(!f.preview.isComputing(), kTimeout);
        QCOMPARE(f.preview.computationsStarted(), started + 2); // the stale one and the latest
        QCOMPARE(updated.count(), 1);                           // only the latest was applied
        const PartitionSummary expected = summarizePartition(*f.model.spec());
        QVERIFY(sameSummary(*f.preview.summary(), expected));
        QCOMPARE(f.model.spec()->real(QStringLiteral("partition.alpha")), 7.0);
    }

    void missingDatasetFailsThePreflight() {
        QTemporaryDir empty;
        QVERIFY(empty.isValid());
        Fixture f(quickstart());
        SETTLE(f);
        QSignalSpy preflight(&f.preview, &PartitionPreview::preflightChanged);
        f.model.setValue(QStringLiteral("dataset.path"), empty.path());
        QTRY_COMPARE_WITH_TIMEOUT(preflight.count(), 1, kTimeout);
        QCOMPARE(preflight.at(0).at(0).toBool(), false);
        QCOMPARE(preflight.at(0).at(1).toString(), QStringLiteral("dataset.path"));
        QVERIFY(preflight.at(0).at(2).toString().contains(empty.path()));
        QVERIFY(!f.preview.preflightOk());
        QCOMPARE(f.preview.preflightPath(), QStringLiteral("dataset.path"));
        QVERIFY(f.preview.preflightProblem().startsWith(QStringLiteral("dataset.path: ")));
        QVERIFY(f.preview.preflightProblem().contains(empty.path()));
        QVERIFY(!f.preview.summary());
        QVERIFY(f.preview.groupLabelShares().isEmpty());
        f.preview.grab().save(shotDir() + QStringLiteral("/error-missing-dataset.png"));

        // Back to the real folder: the pre-flight passes again.
        f.model.setValue(QStringLiteral("dataset.path"), kDataset);
        QTRY_COMPARE_WITH_TIMEOUT(preflight.count(), 2, kTimeout);
        QCOMPARE(preflight.at(1).at(0).toBool(), true);
        QVERIFY(f.preview.summary());

        // Opening a workspace whose dataset is missing fails the pre-flight without any edit.
        QJsonObject raw = quickstart();
        QJsonObject dataset = raw.value(QStringLiteral("dataset")).toObject();
        dataset.insert(QStringLiteral("path"), empty.path());
        raw.insert(QStringLiteral("dataset"), dataset);
        Fixture opened(raw);
        QSignalSpy openedPreflight(&opened.preview, &PartitionPreview::preflightChanged);
        QTRY_COMPARE_WITH_TIMEOUT(openedPreflight.count(), 1, kTimeout);
        QCOMPARE(openedPreflight.at(0).at(0).toBool(), false);
        QCOMPARE(opened.preview.preflightPath(), QStringLiteral("dataset.path"));
    }

    void impossiblePartitionFailsThePreflight() {
        Fixture f(quickstart());
        SETTLE(f);
        QSignalSpy preflight(&f.preview, &PartitionPreview::preflightChanged);
        f.model.setValue(QStringLiteral("partition.min_samples"), 5000); // 20 x 5000 > 60,000
        QTRY_COMPARE_WITH_TIMEOUT(preflight.count(), 1, kTimeout);
        QCOMPARE(preflight.at(0).at(0).toBool(), false);
        const QString path = preflight.at(0).at(1).toString();
        QVERIFY2(path.startsWith(QStringLiteral("partition.")), qPrintable(path));
        QVERIFY(f.preview.preflightProblem().startsWith(path + QStringLiteral(": ")));
        QVERIFY(f.preview.preflightProblem().contains(QStringLiteral("60000")));
        // The same message as the CLI's.
        QProcess cli;
        cli.start(QStringLiteral(FEDWB_CLI),
                  {QStringLiteral("partition"), kQuickstart, QStringLiteral("--set"),
                   QStringLiteral("partition.min_samples=5000")});
        QVERIFY(cli.waitForFinished(kTimeout));
        QVERIFY(cli.exitCode() != 0);
        QCOMPARE(QString::fromUtf8(cli.readAllStandardError()).trimmed(), f.preview.preflightProblem());
        f.preview.grab().save(shotDir() + QStringLiteral("/error-min-samples.png"));
    }

    void exportsPngAndSvg() {
        Fixture f(quickstart());
        SETTLE(f);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QString error;
        const QString png = dir.filePath(QStringLiteral("preview.png"));
        QVERIFY2(f.preview.exportImage(png, &error), qPrintable(error));
        QFile pf(png);
        QVERIFY(pf.open(QIODevice::ReadOnly));
        QCOMPARE(pf.read(8), QByteArray("\x89PNG\r\n\x1a\n", 8));
        const QImage image(png);
        QCOMPARE(image.width(), f.preview.width()); // the chart, as wide as the preview (never shown here)
        QVERIFY(image.height() > f.preview.height() / 2 && image.height() < f.preview.height());
        const QString svg = dir.filePath(QStringLiteral("preview.svg"));
        QVERIFY2(f.preview.exportImage(svg, &error), qPrintable(error));
        QFile sf(svg);
        QVERIFY(sf.open(QIODevice::ReadOnly));
        const QByteArray text = sf.readAll();
        QVERIFY(text.contains("<svg"));
        QVERIFY(text.contains("</svg>"));
        QVERIFY2(!text.contains("<image"), "the SVG should hold shapes, not an embedded picture");
        QVERIFY(text.contains("T-shirt/top")); // the legend as text
        QVERIFY(!f.preview.exportImage(dir.filePath(QStringLiteral("preview.bmpx")), &error));
        QVERIFY(!error.isEmpty());
    }

    void hoverShowsTheClientsNumbers() {
        Fixture f(quickstart());
        f.preview.show();
        QVERIFY(QTest::qWaitForWindowExposed(&f.preview));
        SETTLE(f);
        const ClientSummary &c = f.preview.summary()->clients[3];
        const QRect bar = f.preview.barRect(3);
        QVERIFY(!bar.isEmpty());
        QWidget *chart = f.preview.chart();
        QHelpEvent help(QEvent::ToolTip, bar.center(), chart->mapToGlobal(bar.center()));
        QApplication::sendEvent(chart, &help);
        QTRY_VERIFY(QToolTip::isVisible());
        const QString tip = QToolTip::text();
        QCOMPARE(tip, f.preview.clientToolTip(3));
        const QLocale locale;
        QVERIFY2(tip.contains(QStringLiteral("Client 3")), qPrintable(tip));
        QVERIFY(tip.contains(QStringLiteral("clients"))); // the group
        QVERIFY(tip.contains(QStringLiteral("train %1").arg(locale.toString(qint64(c.trainSamples)))));
        QVERIFY(tip.contains(QStringLiteral("test %1").arg(locale.toString(qint64(c.testSamples)))));
        for (std::size_t k = 0; k < c.labelHistogram.size(); ++k)
            QVERIFY(tip.contains(
                QStringLiteral(">&nbsp;%1</td>").arg(locale.toString(qint64(c.labelHistogram[k])))));
        QVERIFY(tip.contains(QStringLiteral("Ankle boot")));
        QToolTip::hideText();

        // Sorted by size, the largest client's bar comes first.
        f.preview.setSortBySize(true);
        int largest = 0;
        for (const ClientSummary &x : f.preview.summary()->clients)
            if (x.trainSamples + x.testSamples >
                f.preview.summary()->clients[std::size_t(largest)].trainSamples +
                    f.preview.summary()->clients[std::size_t(largest)].testSamples)
                largest = x.id;
        for (const ClientSummary &x : f.preview.summary()->clients)
            if (x.id != largest) QVERIFY(f.preview.barRect(largest).left() < f.preview.barRect(x.id).left());
    }

    void groupSharesForTheCanvas() {
        QJsonObject raw = quickstart();
        QJsonObject clients = raw.value(QStringLiteral("clients")).toObject();
        clients.insert(QStringLiteral("groups"),
                       QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("north")},
                                              {QStringLiteral("count"), 12}},
                                  QJsonObject{{QStringLiteral("name"), QStringLiteral("south")},
                                              {QStringLiteral("count"), 8}}});
        raw.insert(QStringLiteral("clients"), clients);
        Fixture f(raw);
        SETTLE(f);
        QVERIFY2(f.model.isValid(), qPrintable(f.model.validationText()));
        const PartitionSummary &s = *f.preview.summary();
        const auto shares = f.preview.groupLabelShares();
        QCOMPARE(shares.size(), qsizetype(2));
        for (const QString &group : {QStringLiteral("north"), QStringLiteral("south")}) {
            const QVector<double> v = shares.value(group);
            QCOMPARE(v.size(), qsizetype(10));
            std::vector<double> expected(10, 0.0);
            int members = 0;
            for (const ClientSummary &c : s.clients) {
                if (c.group != group) continue;
                ++members;
                for (int k = 0; k < 10; ++k)
                    expected[std::size_t(k)] +=
                        double(c.labelHistogram[std::size_t(k)]) / double(c.trainSamples + c.testSamples);
            }
            QCOMPARE(members, group == QLatin1String("north") ? 12 : 8);
            for (int k = 0; k < 10; ++k)
                QVERIFY(std::fabs(v[k] - expected[std::size_t(k)] / members) < 1e-12);
            QVERIFY(std::fabs(std::accumulate(v.begin(), v.end(), 0.0) - 1.0) < 1e-9);
        }
        f.preview.grab().save(shotDir() + QStringLiteral("/two-groups.png"));
        // Renaming a group is a change of the partition's groups: recomputed, the new name in the shares.
        QSignalSpy updated(&f.preview, &PartitionPreview::updated);
        f.model.setValue(QStringLiteral("clients.groups[1].name"), QStringLiteral("east"));
        QTRY_COMPARE_WITH_TIMEOUT(updated.count(), 1, kTimeout);
        QVERIFY(f.preview.groupLabelShares().contains(QStringLiteral("east")));
    }

    // Grabs of the states for a look (written to $TMPDIR/fedwb-partition-preview; only checked for size).
    void grabs_data() {
        QTest::addColumn<QStringList>("sets");
        QTest::addColumn<bool>("dark");
        QTest::addColumn<QSize>("size");
        QTest::newRow("quickstart") << QStringList() << false << QSize(960, 520);
        QTest::newRow("alpha-0.1") << QStringList{QStringLiteral("partition.alpha=0.1")} << false
                                   << QSize(960, 520);
        QTest::newRow("iid") << QStringList{QStringLiteral("partition.name=iid")} << false << QSize(960, 520);
        QTest::newRow("200-clients") << QStringList{QStringLiteral("clients.count=200"),
                                                    QStringLiteral("partition.min_samples=20")}
                                     << false << QSize(960, 520);
        QTest::newRow("1000-clients")
            << QStringList{QStringLiteral("clients.count=1000"), QStringLiteral("partition.min_samples=10")}
            << false << QSize(960, 520);
        QTest::newRow("synthetic") << QStringList{QStringLiteral("dataset={\"name\":\"synthetic\"}"),
                                                  QStringLiteral("partition={\"name\":\"natural\"}"),
                                                  QStringLiteral("model={\"name\":\"logreg\"}"),
                                                  QStringLiteral("clients.count=30")}
                                   << false << QSize(960, 520);
        QTest::newRow("quadratic") << QStringList{QStringLiteral("dataset={\"name\":\"quadratic\"}"),
                                                  QStringLiteral("partition={\"name\":\"natural\"}"),
                                                  QStringLiteral("model={\"name\":\"logreg\"}"),
                                                  QStringLiteral("clients.count=30")}
                                   << false << QSize(960, 520);
        QTest::newRow("narrow") << QStringList() << false << QSize(420, 360);
        QTest::newRow("narrow-error")
            << QStringList{QStringLiteral("partition.min_samples=5000")} << false << QSize(420, 360);
        QTest::newRow("quickstart-dark") << QStringList() << true << QSize(960, 520);
        QTest::newRow("error-dark") << QStringList{QStringLiteral("dataset.path=/nonexistent/fashion")}
                                    << true << QSize(960, 520);
    }
    void grabs() {
        QFETCH(QStringList, sets);
        QFETCH(bool, dark);
        QFETCH(QSize, size);
        QJsonObject raw = quickstart();
        for (const QString &s : sets) {
            QString error;
            QVERIFY2(FederationSpec::applyOverride(raw, s, &error), qPrintable(error));
        }
        Fixture f(raw, size);
        if (dark) {
            f.preview.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
            QPalette p;
            p.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
            p.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
            p.setColor(QPalette::Text, QColor(0xe8, 0xe8, 0xe8));
            p.setColor(QPalette::WindowText, QColor(0xe8, 0xe8, 0xe8));
            p.setColor(QPalette::ButtonText, QColor(0xe8, 0xe8, 0xe8));
            p.setColor(QPalette::Button, QColor(0x3a, 0x3a, 0x3a));
            f.preview.setPalette(p);
        }
        SETTLE(f);
        QVERIFY(f.preview.summary() || !f.preview.preflightOk());
        QElapsedTimer clock;
        clock.start();
        const QImage image = f.preview.grab().toImage(); // a full redraw: nothing cached at this size yet
        qInfo("%s: drawn in %.1f ms", QTest::currentDataTag(), double(clock.nsecsElapsed()) * 1e-6);
        QCOMPARE(image.size(), f.preview.size() * image.devicePixelRatio());
        QVERIFY(image.save(shotDir() + QLatin1Char('/') + QLatin1String(QTest::currentDataTag()) +
                           QStringLiteral(".png")));
    }
};

QTEST_MAIN(TestPartitionPreview)
#include "test_partition_preview.moc"
