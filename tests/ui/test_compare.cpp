// The Compare view fed with recorded runs (offscreen): what each part shows, checked against values worked
// out by hand here.
#include "compare/CompareView.h"
#include "widgets/ChartExport.h"

#include <QApplication>
#include <QFile>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace fedwb;

namespace {

ReportRun recorded(qint64 id, const QString &strategy, const QList<double> &accuracy,
                   const QString &sweep = {}, const QJsonObject &point = {}) {
    ReportRun r;
    r.run.id = id;
    r.run.name = QStringLiteral("run %1").arg(id);
    r.run.spec = QJsonObject{{QStringLiteral("strategy"), QJsonObject{{QStringLiteral("name"), strategy}}},
                             {QStringLiteral("run"), QJsonObject{{QStringLiteral("seed"), double(id)}}}};
    r.run.sweepId = sweep;
    r.run.sweepPoint = point;
    for (qsizetype i = 0; i < accuracy.size(); ++i) {
        RoundMetrics m;
        m.round = int(i) + 1;
        m.evaluated = std::isfinite(accuracy[i]);
        m.testAccuracy = accuracy[i];
        m.testLoss = 1 - accuracy[i];
        m.fairness = Fairness{accuracy[i], 0, accuracy[i] / 2, accuracy[i], 1};
        m.wallSeconds = double(i + 1);
        m.bytesUp = 10;
        r.rounds.append(m);
    }
    return r;
}

} // namespace

class TestCompare : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Two plain runs: one curve each with their values, the differing keys exactly, final metrics per row.
    void twoRuns() {
        CompareView view;
        const double skip = std::nan("");
        view.setRuns({recorded(3, QStringLiteral("fedavg"), {0.5, skip, 0.75}),
                      recorded(8, QStringLiteral("median"), {0.25, 0.5, 0.625})});
        QCOMPARE(view.curves().size(), 2);
        QCOMPARE(view.curves()[0].points, (QList<QPointF>{{1, 0.5}, {3, 0.75}})); // round 2 not evaluated
        QCOMPARE(view.curves()[1].points, (QList<QPointF>{{1, 0.25}, {2, 0.5}, {3, 0.625}}));
        QVERIFY(view.curves()[0].upper.isEmpty());
        QVERIFY(view.curves()[0].colour != view.curves()[1].colour);
        QTableWidget *diff = view.differencesTable();
        QCOMPARE(diff->rowCount(), 2);
        QCOMPARE(diff->item(0, 0)->text(), QStringLiteral("run.seed"));
        QCOMPARE(diff->item(1, 0)->text(), QStringLiteral("strategy.name"));
        QCOMPARE(diff->item(1, 1)->text(), QStringLiteral("fedavg"));
        QCOMPARE(diff->item(1, 2)->text(), QStringLiteral("median"));
        QTableWidget *metrics = view.metricsTable();
        QCOMPARE(metrics->rowCount(), 2);
        QCOMPARE(metrics->item(0, 3)->text(), QStringLiteral("0.7500")); // final accuracy of run 3
        QCOMPARE(metrics->item(1, 4)->text(), QStringLiteral("0.6250 (3)"));
        QCOMPARE(metrics->item(1, 5)->text(), QStringLiteral("0.3125")); // worst-10% = accuracy / 2 here
        QCOMPARE(metrics->item(0, 7)->text(), QStringLiteral("—"));      // no epsilon stored
        // Rounds to a target accuracy of 0.7: run 3 in round 3 (0.75), run 8 not (its best is 0.625).
        view.setTargetAccuracy(0.7);
        QCOMPARE(view.metricsTable()->item(0, 11)->text(), QStringLiteral("3"));
        QCOMPARE(view.metricsTable()->item(1, 11)->text(), QStringLiteral("not reached"));
        QVERIFY(view.reportHtml().contains(QStringLiteral("rounds to 0.7")));
        // Another metric: the loss curve, 1 - accuracy.
        view.setMetric(CompareView::TestLoss);
        QCOMPARE(view.curves()[1].points, (QList<QPointF>{{1, 0.75}, {2, 0.5}, {3, 0.375}}));
    }

    // Three seeds of one sweep point: one mean line with a band of one sample std, worked out by hand;
    // ungrouped, three lines.
    void sweepPointBand() {
        const QJsonObject point{{QStringLiteral("training.lr"), 0.1}};
        CompareView view;
        view.setRuns({recorded(1, QStringLiteral("fedavg"), {0.2, 0.4}, QStringLiteral("s"), point),
                      recorded(2, QStringLiteral("fedavg"), {0.4, 0.6}, QStringLiteral("s"), point),
                      recorded(3, QStringLiteral("fedavg"), {0.6, 0.5}, QStringLiteral("s"), point),
                      recorded(4, QStringLiteral("median"), {0.1, 0.2})});
        QCOMPARE(view.curves().size(), 2);
        const CompareView::Curve &band = view.curves()[0];
        QCOMPARE(band.runIds, (QList<qint64>{1, 2, 3}));
        // Round 1: 0.2, 0.4, 0.6: mean 0.4, sample std 0.2. Round 2: 0.4, 0.6, 0.5: mean 0.5, std 0.1.
        QCOMPARE(band.points.size(), 2);
        QVERIFY(std::abs(band.points[0].y() - 0.4) < 1e-12 && std::abs(band.points[1].y() - 0.5) < 1e-12);
        QVERIFY(std::abs(band.upper[0].y() - 0.6) < 1e-12 && std::abs(band.lower[0].y() - 0.2) < 1e-12);
        QVERIFY(std::abs(band.upper[1].y() - 0.6) < 1e-12 && std::abs(band.lower[1].y() - 0.4) < 1e-12);
        QVERIFY2(band.label.contains(QStringLiteral("lr=0.1")) &&
                     band.label.contains(QStringLiteral("3 seeds")),
                 qPrintable(band.label));
        // The tables colour a run like the curve that draws it.
        QCOMPARE(view.colourOfRun(2), band.colour);
        QCOMPARE(view.metricsTable()->item(1, 0)->data(Qt::DecorationRole).value<QColor>(),
                 QColor(band.colour));
        view.setGroupSweeps(false);
        QCOMPARE(view.curves().size(), 4);
    }

    // Saved images and reports: by suffix, whole, with a clear error otherwise.
    void savesImagesAndReports() {
        QTemporaryDir dir;
        CompareView view;
        view.resize(900, 600);
        view.setRuns({recorded(3, QStringLiteral("fedavg"), {0.5, 0.75}),
                      recorded(8, QStringLiteral("median"), {0.25, 0.5})});
        const QList<std::pair<QString, QByteArray>> kinds{{QStringLiteral("c.png"), QByteArray("\x89PNG")},
                                                          {QStringLiteral("c.svg"), QByteArray("<?xml")},
                                                          {QStringLiteral("c.pdf"), QByteArray("%PDF")}};
        for (const auto &[name, magic] : kinds) {
            QString error;
            QVERIFY2(saveWidgetImage(view.chartView(), dir.filePath(name), &error), qPrintable(error));
            QFile f(dir.filePath(name));
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray head = f.read(64);
            QVERIFY2(head.startsWith(magic) || head.contains("<svg"), qPrintable(name));
        }
        QString error;
        QVERIFY(!saveWidgetImage(view.chartView(), dir.filePath(QStringLiteral("c.gif")), &error));
        QVERIFY(error.contains(QStringLiteral("allowed: .png, .svg, .pdf")));
        QVERIFY(!saveWidgetImage(view.chartView(), dir.filePath(QStringLiteral("no/c.png")), &error));
        QVERIFY(view.saveReport(dir.filePath(QStringLiteral("r.html")), &error));
        QFile report(dir.filePath(QStringLiteral("r.html")));
        QVERIFY(report.open(QIODevice::ReadOnly));
        QVERIFY(report.readAll().contains("<td>strategy.name</td><td>fedavg</td><td>median</td>"));
    }
};

QTEST_MAIN(TestCompare)
#include "test_compare.moc"
