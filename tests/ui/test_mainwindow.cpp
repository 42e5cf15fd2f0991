// The main window driven as a user would: open workspaces, run, stop, list runs, grab the window.
#include "MainWindow.h"
#include "compare/CompareView.h"
#include "dashboard/LiveChart.h"
#include "designer/FederationModel.h"
#include "run/Run.h"
#include "run/RunTypes.h"
#include "run/StoreRecorder.h"
#include "runs/RunsBrowser.h"
#include "runs/RunsModel.h"
#include "spec/Registry.h"
#include "store/RunStore.h"

#include <QAction>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineSeries>
#include <QListWidget>
#include <QProcess>
#include <QPushButton>
#include <QSet>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <sys/stat.h>

using namespace fedwb;

namespace {

constexpr int kRunTimeoutMs = 180000;

// The lines a problems widget shows: a label's text, or the items of the validation panel's list.
QString shownText(const QWidget *widget) {
    if (const auto *label = qobject_cast<const QLabel *>(widget)) return label->text();
    QStringList lines;
    for (const QListWidget *list : widget->findChildren<QListWidget *>())
        for (int i = 0; i < list->count(); ++i)
            lines.append(list->item(i)->text());
    return lines.join(QLatin1Char('\n'));
}

QJsonObject tinyWorkspace(int rounds) {
    return QJsonObject{
        {QStringLiteral("format"), 1},
        {QStringLiteral("name"), QStringLiteral("ui-test")},
        {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("synthetic")},
                                                {QStringLiteral("max_samples"), 200}}},
        {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
        {QStringLiteral("clients"),
         QJsonObject{{QStringLiteral("count"), 4}, {QStringLiteral("per_round"), 4}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
        {QStringLiteral("training"), QJsonObject{{QStringLiteral("epochs"), 1}}},
        {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), rounds}, {QStringLiteral("seed"), 7}}},
    };
}

QTreeWidgetItem *childItem(QTreeWidgetItem *parent, const QString &text) {
    for (int i = 0; i < parent->childCount(); ++i)
        if (parent->child(i)->text(0) == text) return parent->child(i);
    return nullptr;
}

QTreeWidgetItem *findTopLevel(QTreeWidget *tree, const QString &text) {
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
        if (tree->topLevelItem(i)->text(0) == text) return tree->topLevelItem(i);
    return nullptr;
}

// The text the Runs list shows for a run in a column, or a null string when the run is not listed.
QString runCell(const MainWindow &w, qint64 runId, int column) {
    const RunsModel *m = w.runsBrowser()->model();
    const int row = m->rowOf(runId);
    return row < 0 ? QString() : m->index(row, column).data().toString();
}

// Colours in a thumbnail of the image: a blank or single-colour grab has very few.
int distinctColors(const QImage &image) {
    const QImage small = image.scaled(64, 40);
    QSet<QRgb> colors;
    for (int y = 0; y < small.height(); ++y)
        for (int x = 0; x < small.width(); ++x)
            colors.insert(small.pixel(x, y));
    return int(colors.size());
}

// What `fedwb-cli validate PATH` prints on stderr, one entry per line.
QStringList cliValidate(const QString &path, int *exitCode) {
    QProcess p;
    p.start(QStringLiteral(FEDWB_CLI), {QStringLiteral("validate"), path});
    if (!p.waitForFinished(60000)) p.kill();
    p.waitForFinished();
    *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return QString::fromUtf8(p.readAllStandardError()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

QByteArray be32(quint32 v) {
    QByteArray b(4, 0);
    b[0] = char(v >> 24), b[1] = char(v >> 16), b[2] = char(v >> 8), b[3] = char(v);
    return b;
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void opensValidWorkspace();
    void showsInvalidWorkspace();
    void reportsUnreadableWorkspace();
    void showsTheCliMessages_data();
    void showsTheCliMessages();
    void showsTheCliDataMessage();
    void runsTinyWorkspace();
    void stopsLongRun();
    void resumesStoppedRun();
    void sweepFromTheDesigner();
    void unusableStoreBlocksRun();
    void destroyWhileRunning();
    void grabsWindow();
    void screenshotExecutable();
    void plotExecutable();

private:
    QString writeWorkspace(const QString &name, const QJsonObject &object);
    QString dbPath(const QString &name) const { return m_dir.filePath(name + QStringLiteral(".sqlite")); }

    QTemporaryDir m_dir;
};

QString TestMainWindow::writeWorkspace(const QString &name, const QJsonObject &object) {
    const QString path = m_dir.filePath(name + QStringLiteral(".fedwb"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) return {};
    file.write(QJsonDocument(object).toJson());
    return path;
}

void TestMainWindow::initTestCase() {
    QVERIFY(m_dir.isValid());
    registerBuiltins();
}

void TestMainWindow::opensValidWorkspace() {
    const QString path = writeWorkspace(QStringLiteral("valid"), tinyWorkspace(2));
    MainWindow w;
    w.setDatabasePath(dbPath(QStringLiteral("valid")));
    QSignalSpy loaded(&w, &MainWindow::workspaceLoaded);
    // A new window starts from the IID baseline template: untitled and runnable.
    QVERIFY(w.document()->isUntitled());
    QVERIFY(w.runAction()->isEnabled());

    QVERIFY(w.openWorkspace(path));
    QCOMPARE(loaded.count(), 1);
    QCOMPARE(loaded.at(0).at(0).toBool(), true);
    QVERIFY(w.hasValidWorkspace());
    QVERIFY(w.runAction()->isEnabled());
    QVERIFY(!w.stopAction()->isEnabled());
    QVERIFY(w.windowTitle().contains(QStringLiteral("valid.fedwb")));
    QCOMPARE(w.document()->path(), path);
    // The designer's model holds the file, defaults filled in where the file says nothing.
    QCOMPARE(w.model()->value(QStringLiteral("run.rounds")).toInt(), 2);
    QVERIFY(!w.model()->isSet(QStringLiteral("training.batch_size")));
    QCOMPARE(w.model()->effectiveValue(QStringLiteral("training.batch_size")),
             w.model()->spec()->value(QStringLiteral("training.batch_size")));
    QCOMPARE(w.model()->effectiveValue(QStringLiteral("model.name")).toString(), QStringLiteral("logreg"));
    // The header names the federation.
    auto *header = w.findChild<QLabel *>(QStringLiteral("designHeader"));
    QVERIFY(header);
    QVERIFY2(header->text().contains(QStringLiteral("logreg")), qPrintable(header->text()));
}

void TestMainWindow::showsInvalidWorkspace() {
    QJsonObject ws = tinyWorkspace(2);
    ws.insert(QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("dirichlet")},
                                                       {QStringLiteral("alpha"), -1}});
    const QString path = writeWorkspace(QStringLiteral("invalid"), ws);
    MainWindow w;
    w.setDatabasePath(dbPath(QStringLiteral("invalid")));

    QVERIFY(!w.openWorkspace(path));
    QVERIFY(!w.hasValidWorkspace());
    QVERIFY(!w.runAction()->isEnabled());
    QVERIFY2(w.validationText().contains(QStringLiteral("partition.alpha")), qPrintable(w.validationText()));

    auto *problems = w.findChild<QWidget *>(QStringLiteral("designProblems"));
    QVERIFY(problems);
    QVERIFY(!problems->isHidden());
    QVERIFY(shownText(problems).contains(QStringLiteral("partition.alpha")));

    // The model knows the offending key; Run says why it is disabled.
    QCOMPARE(w.model()->errorsAt(QStringLiteral("partition.alpha")).size(), 1);
    QVERIFY2(w.runAction()->toolTip().contains(QStringLiteral("partition.alpha")),
             qPrintable(w.runAction()->toolTip()));

    // startRun() on an invalid workspace does nothing.
    w.startRun();
    QVERIFY(!w.isRunning());

    // Opening a valid workspace afterwards clears the errors and enables Run again.
    QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("valid-again"), tinyWorkspace(2))));
    QVERIFY(problems->isHidden());
    QVERIFY(w.runAction()->isEnabled());
}

void TestMainWindow::reportsUnreadableWorkspace() {
    MainWindow w;
    w.setDatabasePath(dbPath(QStringLiteral("unreadable")));
    QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("before-unreadable"), tinyWorkspace(2))));
    const QJsonObject before = w.model()->raw();
    QVERIFY(!w.openWorkspace(m_dir.filePath(QStringLiteral("does-not-exist.fedwb"))));
    QVERIFY(!w.validationText().isEmpty());
    // The workspace that was open stays open, unchanged, and the notice names the file that failed.
    QCOMPARE(w.model()->raw(), before);
    QVERIFY(w.document()->path().endsWith(QStringLiteral("before-unreadable.fedwb")));
    auto *notice = w.findChild<QLabel *>(QStringLiteral("designNotice"));
    QVERIFY(notice && !notice->isHidden());
    QVERIFY2(notice->text().contains(QStringLiteral("does-not-exist.fedwb")), qPrintable(notice->text()));

    const QString broken = m_dir.filePath(QStringLiteral("broken.fedwb"));
    QFile file(broken);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{ \"format\": 1, ");
    file.close();
    QVERIFY(!w.openWorkspace(broken));
    QVERIFY(w.validationText().contains(QStringLiteral("JSON")));
}

// A workspace that fails to load shows, in the Design tab and in validationText(), the very lines
// `fedwb-cli validate` prints.
void TestMainWindow::showsTheCliMessages_data() {
    QTest::addColumn<QByteArray>("text"); // the workspace file; "@fifo" and "@folder" for special files
    QTest::addColumn<bool>("loads");
    QTest::newRow("invalid JSON") << QByteArray("{\n  \"format\": 1,\n  \"run\": {\"rounds\": 3,}\n}\n")
                                  << false;
    QTest::newRow("null") << QByteArray("null") << false;
    QTest::newRow("string") << QByteArray("\"quickstart\"") << false;
    QTest::newRow("empty") << QByteArray("") << false;
    QTest::newRow("FIFO") << QByteArray("@fifo") << false;
    QTest::newRow("folder") << QByteArray("@folder") << false;
    QTest::newRow("errors") << QByteArray(R"({"format": 1, "run": {"rounds": 0, "colour": 1},
        "clients": {"count": 4, "per_round": 9}, "dataset": {"name": "synthetic"}})")
                            << false;
    QTest::newRow("duplicate keys, invalid")
        << QByteArray(R"({"format": 1, "run": {"rounds": 3, "rounds": 0}})") << false;
    QTest::newRow("duplicate keys, valid")
        << QByteArray(R"({"format": 1, "dataset": {"name": "synthetic", "max_samples": 200},
        "partition": {"name": "natural"}, "clients": {"count": 4, "count": 4},
        "model": {"name": "logreg"}, "run": {"rounds": 1}})")
        << true;
}

void TestMainWindow::showsTheCliMessages() {
    QFETCH(QByteArray, text);
    QFETCH(bool, loads);
    const QString name =
        QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-'));
    QString path = m_dir.filePath(name + QStringLiteral(".fedwb"));
    if (text == "@fifo") {
        QFile::remove(path);
        QCOMPARE(::mkfifo(QFile::encodeName(path).constData(), 0600), 0);
    } else if (text == "@folder") {
        QVERIFY(QDir().mkpath(path));
    } else {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(text);
    }
    int exitCode = -1;
    const QStringList cliLines = cliValidate(path, &exitCode);
    QCOMPARE(exitCode, loads ? 0 : 2);
    QVERIFY(!cliLines.isEmpty());

    MainWindow w;
    w.setDatabasePath(dbPath(QStringLiteral("messages")));
    QCOMPARE(w.openWorkspace(path), loads);
    // A file that opened (valid or not) is listed in the problems box; one that cannot be read in the
    // notice above the design.
    const bool opened = w.document()->path() == QFileInfo(path).absoluteFilePath();
    auto *problems =
        w.findChild<QWidget *>(opened ? QStringLiteral("designProblems") : QStringLiteral("designNotice"));
    QVERIFY(problems);
    QVERIFY(!problems->isHidden());
    for (const QString &line : cliLines) {
        if (line.endsWith(QLatin1String(": valid"))) continue;
        QVERIFY2(w.validationText().contains(line),
                 qPrintable(QStringLiteral("CLI: %1\nGUI: %2").arg(line, w.validationText())));
        // The validation panel lists each line as the CLI prints it; the notice of an unreadable file shows
        // it as rich text.
        const QString shown = opened ? line : line.toHtmlEscaped();
        QVERIFY2(shownText(problems).contains(shown),
                 qPrintable(QStringLiteral("CLI: %1\nGUI: %2").arg(line, shownText(problems))));
    }
}

// Data files are checked when a workspace opens (the designer's pre-flight): the problem is what
// `fedwb-cli validate` says (here: an empty test set, which used to give a test accuracy of 0).
void TestMainWindow::showsTheCliDataMessage() {
    const QString data = m_dir.filePath(QStringLiteral("empty-test-data"));
    QVERIFY(QDir().mkpath(data));
    const auto write = [&](const QString &file, const QByteArray &bytes) {
        QFile f(data + QLatin1Char('/') + file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
    };
    // Plain (not gzip) IDX files: 20 training images and labels, no test images.
    write(QStringLiteral("train-images-idx3-ubyte"),
          QByteArray::fromHex("00000803") + be32(20) + be32(28) + be32(28) + QByteArray(20 * 784, 7));
    write(QStringLiteral("train-labels-idx1-ubyte"),
          QByteArray::fromHex("00000801") + be32(20) + QByteArray(20, 3));
    write(QStringLiteral("t10k-images-idx3-ubyte"),
          QByteArray::fromHex("00000803") + be32(0) + be32(28) + be32(28));
    write(QStringLiteral("t10k-labels-idx1-ubyte"), QByteArray::fromHex("00000801") + be32(0));
    QJsonObject ws = tinyWorkspace(1);
    ws.insert(QStringLiteral("dataset"),
              QJsonObject{{QStringLiteral("name"), QStringLiteral("fashion-mnist")},
                          {QStringLiteral("path"), data}});
    ws.insert(QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("iid")}});
    const QString path = writeWorkspace(QStringLiteral("empty-test"), ws);
    int exitCode = -1;
    const QStringList cliLines = cliValidate(path, &exitCode);
    QCOMPARE(exitCode, 2);
    QCOMPARE(cliLines.size(), 1);
    QVERIFY2(cliLines.first().contains(QStringLiteral("t10k-images-idx3-ubyte holds 0 images")),
             qPrintable(cliLines.first()));

    MainWindow w;
    w.setDatabasePath(dbPath(QStringLiteral("empty-test")));
    QVERIFY(w.openWorkspace(path)); // the settings are valid ...
    // ... but the data pre-flight (off the GUI thread) finds the problem before any run: Run is disabled
    // with the very line fedwb-cli validate prints, and nothing is started.
    QTRY_VERIFY_WITH_TIMEOUT(!w.runAction()->isEnabled(), 60000);
    QVERIFY2(w.validationText().contains(cliLines.first()), qPrintable(w.validationText()));
    QVERIFY2(w.runAction()->toolTip().contains(QStringLiteral("t10k-images-idx3-ubyte holds 0 images")),
             qPrintable(w.runAction()->toolTip()));
    auto *problems = w.findChild<QWidget *>(QStringLiteral("designProblems"));
    QVERIFY(problems && !problems->isHidden());
    QVERIFY2(shownText(problems).contains(cliLines.first()), qPrintable(shownText(problems)));
    w.startRun();
    QVERIFY(!w.isRunning());
}

void TestMainWindow::runsTinyWorkspace() {
    MainWindow w;
    w.setDatabasePath(dbPath(QStringLiteral("tiny")));
    QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("tiny"), tinyWorkspace(2))));
    QSignalSpy started(&w, &MainWindow::runStarted);
    QSignalSpy finished(&w, &MainWindow::runFinished);

    w.startRun();
    QVERIFY(w.isRunning());
    QVERIFY(!w.runAction()->isEnabled());
    QVERIFY(w.stopAction()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kRunTimeoutMs);
    QCOMPARE(started.count(), 1);

    const auto summary = finished.at(0).at(0).value<RunSummary>();
    const qint64 runId = finished.at(0).at(1).toLongLong();
    QVERIFY2(summary.status == RunStatus::Finished,
             qPrintable(runStatusName(summary.status) + QStringLiteral(": ") + summary.message));
    QCOMPARE(summary.roundsDone, 2);
    QVERIFY(runId > 0);
    QCOMPARE(started.at(0).at(0).toLongLong(), runId);
    QVERIFY(!w.isRunning());
    QVERIFY(w.runAction()->isEnabled());
    QVERIFY(!w.stopAction()->isEnabled());

    // The chart shows both rounds (after its redraw timer).
    QTRY_COMPARE(w.liveChart()->plottedRoundCount(), 2);
    QCOMPARE(w.liveChart()->testAccuracySeries()->count(), 2);
    QCOMPARE(w.liveChart()->trainLossSeries()->count(), 2);
    QCOMPARE(w.displayedRunId(), runId);

    // The runs list shows it as finished.
    QCOMPARE(runCell(w, runId, RunsModel::Status), runStatusName(RunStatus::Finished));
    QCOMPARE(runCell(w, runId, RunsModel::Rounds), QStringLiteral("2 / 2"));
    QVERIFY(runCell(w, runId, RunsModel::FinalAccuracy) != QStringLiteral("—"));
    QCOMPARE(runCell(w, runId, RunsModel::BestAccuracy).isEmpty(), false);

    // Selecting another run and back reloads the curves from the store.
    w.liveChart()->clear();
    QCOMPARE(w.liveChart()->plottedRoundCount(), 0);
    w.showStoredRun(runId);
    QCOMPARE(w.liveChart()->plottedRoundCount(), 2);

    // A second run in the same window gets a new id and both are listed.
    finished.clear();
    w.startRun();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kRunTimeoutMs);
    QVERIFY(finished.at(0).at(1).toLongLong() > runId);
    QCOMPARE(w.runsBrowser()->model()->rowCount(), 2);

    // Both selected (Ctrl+click): side by side in the Compare tab, one curve each, the same settings.
    w.runsBrowser()->view()->selectAll();
    QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::CompareTab));
    QCOMPARE(w.compareView()->curves().size(), 2);
    QCOMPARE(w.compareView()->curves()[0].points.size(), 2);
    QCOMPARE(w.compareView()->differencesTable()->rowCount(), 0); // one workspace, one seed: nothing differs
    QVERIFY(!w.compareRuns({runId, 9999}));                       // an unknown run is refused

    // Another workspace opened: a stored run still shows ITS settings, read-only, and opens as a new one.
    QJsonObject other = tinyWorkspace(5);
    other.insert(QStringLiteral("name"), QStringLiteral("another"));
    QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("another"), other)));
    w.showStoredRun(runId);
    auto *tree = w.findChild<QTreeWidget *>(QStringLiteral("runSpecTree"));
    QVERIFY(tree && !tree->parentWidget()->isHidden()); // the settings panel beside the rounds
    QTreeWidgetItem *run = findTopLevel(tree, QStringLiteral("run"));
    QVERIFY(run);
    QVERIFY(childItem(run, QStringLiteral("rounds"))->text(1).startsWith(QStringLiteral("2")));
    QCOMPARE(tree->editTriggers(), QAbstractItemView::NoEditTriggers);
    auto *openSpec = w.findChild<QPushButton *>(QStringLiteral("openRunSpec"));
    QVERIFY(openSpec);
    openSpec->click();
    QVERIFY(w.document()->isUntitled());
    QVERIFY(w.document()->isDirty());
    QCOMPARE(w.model()->value(QStringLiteral("run.rounds")).toInt(), 2);
    QVERIFY2(w.model()->isValid(), qPrintable(w.model()->validationText()));
    QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::DesignTab));
}

// "Vary this parameter": two learning rates x two seeds run one after another, recorded with one sweep id,
// then compared as two mean +- std curves; a bad value is refused before anything runs.
void TestMainWindow::sweepFromTheDesigner() {
    const QString db = dbPath(QStringLiteral("sweep"));
    MainWindow w;
    w.setDatabasePath(db);
    QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("sweep"), tinyWorkspace(2))));
    QString error;
    QVERIFY(!w.startSweep({{QStringLiteral("training.lr"), {QStringLiteral("0.1"), QStringLiteral("-3")}}}, 1,
                          &error));
    QVERIFY2(error.contains(QStringLiteral("training.lr: -3 is out of range")), qPrintable(error));
    QVERIFY(!w.isRunning());
    QSignalSpy done(&w, &MainWindow::sweepFinished);
    QVERIFY2(w.startSweep({{QStringLiteral("training.lr"), {QStringLiteral("0.05"), QStringLiteral("0.2")}}},
                          2, &error),
             qPrintable(error));
    QVERIFY(w.isSweeping());
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 4 * kRunTimeoutMs);
    const QList<qint64> ids = done.at(0).at(1).value<QList<qint64>>();
    QCOMPARE(ids.size(), 4);
    QVERIFY(!w.isSweeping());
    RunStore store(db);
    const QString sweepId = done.at(0).at(0).toString();
    for (qint64 id : ids) {
        const std::optional<StoredRun> r = store.run(id);
        QVERIFY(r);
        QCOMPARE(r->sweepId, sweepId);
        QCOMPARE(r->status, RunStatus::Finished);
        QVERIFY2(r->name.contains(QStringLiteral("[training.lr=")), qPrintable(r->name));
    }
    QCOMPARE(store.run(ids[0])->sweepPoint.value(QStringLiteral("training.lr")).toDouble(), 0.05);
    QCOMPARE(store.run(ids[3])->sweepPoint.value(QStringLiteral("training.lr")).toDouble(), 0.2);
    QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::CompareTab));
    QCOMPARE(w.compareView()->curves().size(), 2); // one per learning rate, over its two seeds
    QCOMPARE(w.compareView()->curves()[0].runIds.size(), 2);
    QVERIFY(!w.compareView()->curves()[0].upper.isEmpty());
}

void TestMainWindow::stopsLongRun() {
    MainWindow w;
    w.setDatabasePath(dbPath(QStringLiteral("long")));
    QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("long"), tinyWorkspace(200))));
    QSignalSpy finished(&w, &MainWindow::runFinished);

    w.startRun();
    QVERIFY(w.isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(w.liveChart()->roundCount() >= 1, kRunTimeoutMs);
    // Another workspace opened while the run goes on: the designer says it is not the one running, and the
    // Run tab still shows the run's own settings.
    auto *notice = w.findChild<QLabel *>(QStringLiteral("designNotice"));
    QVERIFY(notice && notice->isHidden());
    QJsonObject other = tinyWorkspace(3);
    other.insert(QStringLiteral("name"), QStringLiteral("while-running"));
    QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("while-running"), other)));
    QVERIFY(w.isRunning());
    QVERIFY(!notice->isHidden());
    QVERIFY2(notice->text().contains(QStringLiteral("long.fedwb")) &&
                 notice->text().contains(QStringLiteral("not the one running")),
             qPrintable(notice->text()));
    QVERIFY(!w.runAction()->isEnabled()); // one run at a time
    auto *runTree = w.findChild<QTreeWidget *>(QStringLiteral("runSpecTree"));
    QVERIFY(runTree);
    QVERIFY(childItem(findTopLevel(runTree, QStringLiteral("run")), QStringLiteral("rounds"))
                ->text(1)
                .startsWith(QStringLiteral("200")));
    w.stopRun();
    QVERIFY(!w.stopAction()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kRunTimeoutMs);

    const auto summary = finished.at(0).at(0).value<RunSummary>();
    const qint64 runId = finished.at(0).at(1).toLongLong();
    QVERIFY2(summary.status == RunStatus::Stopped, qPrintable(runStatusName(summary.status)));
    QVERIFY(summary.roundsDone >= 1);
    QVERIFY(summary.roundsDone < 200);
    QVERIFY(!w.isRunning());
    QVERIFY(notice->isHidden()); // the run is over

    QCOMPARE(runCell(w, runId, RunsModel::Status), runStatusName(RunStatus::Stopped));
}

// Stop, then Run > Resume on the selected run: it finishes in the same stored run with exactly the model of a
// run that was never stopped.
void TestMainWindow::resumesStoppedRun() {
    const QString db = dbPath(QStringLiteral("resume"));
    const QJsonObject workspace = tinyWorkspace(400);
    MainWindow w;
    w.setDatabasePath(db);
    QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("resume"), workspace)));
    QVERIFY(!w.resumeAction()->isEnabled()); // nothing selected yet
    QSignalSpy finished(&w, &MainWindow::runFinished);
    w.startRun();
    QTRY_VERIFY_WITH_TIMEOUT(w.liveChart()->roundCount() >= 2, kRunTimeoutMs);
    w.stopRun();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kRunTimeoutMs);
    const qint64 runId = finished.at(0).at(1).toLongLong();
    const int stoppedAt = finished.at(0).at(0).value<RunSummary>().roundsDone;
    if (stoppedAt >= 400) QSKIP("the run finished before Stop reached it; nothing to resume");
    QCOMPARE(w.displayedRunId(), runId);
    QVERIFY(w.resumeAction()->isEnabled());

    w.resumeAction()->trigger();
    QVERIFY(w.isRunning());
    QVERIFY(!w.resumeAction()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kRunTimeoutMs);
    const auto summary = finished.at(1).at(0).value<RunSummary>();
    QVERIFY2(summary.status == RunStatus::Finished, qPrintable(summary.message));
    QCOMPARE(finished.at(1).at(1).toLongLong(), runId);
    QCOMPARE(summary.roundsDone, 400);
    QCOMPARE(w.liveChart()->roundCount(), 400); // the kept rounds and the continued ones, once each
    QVERIFY(!w.resumeAction()->isEnabled());    // finished: nothing left to continue
    QCOMPARE(runCell(w, runId, RunsModel::Status), runStatusName(RunStatus::Finished));

    RunStore store(db);
    const std::optional<QByteArray> resumed = store.model(runId);
    QVERIFY(resumed);
    QCOMPARE(store.rounds(runId).size(), 400);
    const auto parsed = FederationSpec::parse(workspace);
    QVERIFY(parsed.ok());
    RunStore reference(QStringLiteral(":memory:"));
    StoreRecorder recorder(reference, *parsed.spec, QStringLiteral("reference"), QString());
    Run whole(*parsed.spec);
    whole.addObserver(&recorder);
    QCOMPARE(whole.exec().status, RunStatus::Finished);
    QVERIFY(*resumed == *reference.model(recorder.runId())); // bitwise
}

// A store that cannot record (another program's database here) is named in the status bar, and Run stays
// disabled: a run whose results cannot be kept is not started.
void TestMainWindow::unusableStoreBlocksRun() {
    const QString db = dbPath(QStringLiteral("foreign"));
    {
        QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("foreign"));
        raw.setDatabaseName(db);
        QVERIFY(raw.open());
        QVERIFY(QSqlQuery(QStringLiteral("CREATE TABLE contacts (name TEXT)"), raw).isActive());
        raw.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("foreign"));
    MainWindow w;
    w.setDatabasePath(db);
    QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("foreign"), tinyWorkspace(3))));
    QVERIFY(!w.runAction()->isEnabled());
    w.startRun(); // a shortcut or script cannot get around it either
    QVERIFY(!w.isRunning());
    QVERIFY2(
        w.statusBar()->currentMessage().contains(QStringLiteral("not a FedWorkbench run store (it holds the "
                                                                "tables contacts)")),
        qPrintable(w.statusBar()->currentMessage()));
}

void TestMainWindow::destroyWhileRunning() {
    const QString db = dbPath(QStringLiteral("destroy"));
    qint64 runId = -1;
    {
        MainWindow w;
        w.setDatabasePath(db);
        QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("destroy"), tinyWorkspace(200))));
        QSignalSpy started(&w, &MainWindow::runStarted);
        w.startRun();
        QTRY_COMPARE_WITH_TIMEOUT(started.count(), 1, kRunTimeoutMs);
        runId = started.at(0).at(0).toLongLong();
        QVERIFY(w.isRunning());
    } // the window stops the run and joins its thread
    RunStore store(db);
    QVERIFY(store.isOpen());
    const std::optional<StoredRun> run = store.run(runId);
    QVERIFY(run);
    QVERIFY2(run->status == RunStatus::Stopped || run->status == RunStatus::Finished,
             qPrintable(runStatusName(run->status)));
}

void TestMainWindow::grabsWindow() {
    MainWindow w;
    w.setDatabasePath(dbPath(QStringLiteral("grab")));
    QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("grab"), tinyWorkspace(2))));
    w.resize(1280, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    const QImage image = w.grab().toImage();
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), QSize(1280, 800) * w.devicePixelRatio());
    // Not a blank image: the Design tree and the toolbar draw something.
    QVERIFY(distinctColors(image) > 4);
}

void TestMainWindow::screenshotExecutable() {
    const QString workspace = QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb");
    QVERIFY(QFileInfo::exists(workspace));
    const QString png = m_dir.filePath(QStringLiteral("shot.png"));
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(FEDWB_GUI_EXECUTABLE),
                  {QStringLiteral("--db"), dbPath(QStringLiteral("shot")), QStringLiteral("--screenshot"),
                   png, workspace});
    QVERIFY2(process.waitForFinished(120000), qPrintable(process.errorString()));
    QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0,
             process.readAllStandardError().constData());
    QVERIFY(QFileInfo(png).size() > 0);
    const QImage image(png);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() >= 1280 && image.height() >= 800);

    // An invalid workspace: exit code 1, a message, no file.
    QJsonObject ws = tinyWorkspace(2);
    ws.insert(QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), 0}});
    const QString badPng = m_dir.filePath(QStringLiteral("bad.png"));
    process.start(QStringLiteral(FEDWB_GUI_EXECUTABLE),
                  {QStringLiteral("--db"), dbPath(QStringLiteral("shot")), QStringLiteral("--screenshot"),
                   badPng, writeWorkspace(QStringLiteral("bad"), ws)});
    QVERIFY(process.waitForFinished(120000));
    QCOMPARE(process.exitCode(), 1);
    QVERIFY(process.readAllStandardError().contains("run.rounds"));
    QVERIFY(!QFileInfo::exists(badPng));

    // The dashboard and compare views of stored runs; an unknown run id is an error, no file written.
    const QString db = dbPath(QStringLiteral("views"));
    {
        RunStore store(db);
        for (int i = 0; i < 2; ++i) {
            const qint64 id = store.createRun(QStringLiteral("v"), QString(), QJsonObject(), 1, 1);
            RoundMetrics m;
            m.round = 1;
            m.evaluated = true;
            m.testAccuracy = 0.5 + 0.1 * i;
            m.testLoss = 1;
            QVERIFY(store.recordRound(id, m));
        }
    }
    for (const QStringList &view :
         {QStringList{QStringLiteral("dashboard"), QStringLiteral("1")},
          QStringList{QStringLiteral("compare"), QStringLiteral("1"), QStringLiteral("2")}}) {
        const QString out = m_dir.filePath(view.first() + QStringLiteral(".png"));
        QStringList args{QStringLiteral("--db"),         db, QStringLiteral("--view"), view.first(),
                         QStringLiteral("--screenshot"), out};
        for (qsizetype i = 1; i < view.size(); ++i)
            args << QStringLiteral("--run") << view[i];
        process.start(QStringLiteral(FEDWB_GUI_EXECUTABLE), args);
        QVERIFY(process.waitForFinished(120000));
        QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());
        QVERIFY(!QImage(out).isNull());
        args.last() = QStringLiteral("99");
        QFile::remove(out);
        process.start(QStringLiteral(FEDWB_GUI_EXECUTABLE), args);
        QVERIFY(process.waitForFinished(120000));
        QVERIFY(process.exitCode() != 0);
        QVERIFY(process.readAllStandardError().contains("--run 99: no such run"));
        QVERIFY(!QFileInfo::exists(out));
    }
}

// `fedwb --db DB --run ID --plot FILE` renders a stored run's curves (the headless main job uses it).
void TestMainWindow::plotExecutable() {
    const QString db = dbPath(QStringLiteral("plot"));
    qint64 runId = -1;
    { // a stored run of 3 rounds, made by the engine directly
        RunStore store(db);
        const auto parsed = FederationSpec::parse(tinyWorkspace(3));
        QVERIFY(parsed.ok());
        StoreRecorder recorder(store, *parsed.spec, QStringLiteral("plot"), QString());
        Run run(*parsed.spec);
        run.addObserver(&recorder);
        QCOMPARE(run.exec().status, RunStatus::Finished);
        runId = recorder.runId();
    }
    auto plot = [&](const QStringList &args, QByteArray *err) {
        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        process.setProcessEnvironment(env);
        process.start(QStringLiteral(FEDWB_GUI_EXECUTABLE), args);
        process.waitForFinished(120000);
        *err = process.readAllStandardError();
        return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    };
    QByteArray err;
    const QString png = m_dir.filePath(QStringLiteral("plot.png"));
    QCOMPARE(plot({QStringLiteral("--db"), db, QStringLiteral("--run"), QString::number(runId),
                   QStringLiteral("--plot"), png},
                  &err),
             0);
    const QImage image(png);
    QCOMPARE(image.size(), QSize(900, 560));
    QVERIFY(distinctColors(image) > 4);

    QCOMPARE(plot({QStringLiteral("--db"), db, QStringLiteral("--run"), QStringLiteral("999"),
                   QStringLiteral("--plot"), png},
                  &err),
             1);
    QVERIFY2(err.contains("no such run"), err.constData());
    QCOMPARE(plot({QStringLiteral("--db"), db, QStringLiteral("--plot"), png}, &err), 1);
    QVERIFY2(err.contains("--plot needs --run"), err.constData());
}

QTEST_MAIN(TestMainWindow)
#include "test_mainwindow.moc"
