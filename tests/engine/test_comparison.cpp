// Comparing runs (engine/metrics/Comparison.h, Report.h) on hand-made specs and rounds whose answers are
// written out here.
#include "metrics/Comparison.h"
#include "metrics/Report.h"

#include <QJsonArray>
#include <QTest>

#include <cmath>

using namespace fedwb;

namespace {

RoundMetrics round(int r, bool evaluated, double accuracy, double worst10 = std::nan(""),
                   double epsilon = std::nan("")) {
    RoundMetrics m;
    m.round = r;
    m.evaluated = evaluated;
    m.testAccuracy = evaluated ? accuracy : std::nan("");
    m.testLoss = evaluated ? 1.0 - accuracy : std::nan("");
    m.fairness = Fairness{accuracy, 0.1, worst10, accuracy, 0.9};
    m.bytesUp = 100 * r;
    m.bytesDown = 1000;
    m.wallSeconds = 1.5 * r;
    m.epsilon = epsilon;
    return m;
}

} // namespace

class TestComparison : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Only the keys whose values differ somewhere, as section.key, sorted; name/description never.
    void differingKeysByHand() {
        const QJsonObject a{
            {QStringLiteral("name"), QStringLiteral("a")},
            {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("dirichlet")},
                                                      {QStringLiteral("alpha"), 0.1}}},
            {QStringLiteral("strategy"), QJsonObject{{QStringLiteral("name"), QStringLiteral("fedavg")}}},
            {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), 10}}}};
        QJsonObject b = a, c = a;
        b.insert(QStringLiteral("name"), QStringLiteral("b"));
        QJsonObject strategy{{QStringLiteral("name"), QStringLiteral("fedprox")},
                             {QStringLiteral("mu"), 0.01}};
        b.insert(QStringLiteral("strategy"), strategy);
        QJsonObject partition = a.value(QStringLiteral("partition")).toObject();
        partition.insert(QStringLiteral("alpha"), 1.0);
        c.insert(QStringLiteral("partition"), partition);
        QCOMPARE(differingKeys({a, a}), QStringList());
        QCOMPARE(differingKeys({a, b}),
                 (QStringList{QStringLiteral("strategy.mu"), QStringLiteral("strategy.name")}));
        QCOMPARE(differingKeys({a, b, c}),
                 (QStringList{QStringLiteral("partition.alpha"), QStringLiteral("strategy.mu"),
                              QStringLiteral("strategy.name")}));
        QCOMPARE(specValueText(b, QStringLiteral("strategy.mu")), QStringLiteral("0.01"));
        QCOMPARE(specValueText(a, QStringLiteral("strategy.mu")), QStringLiteral("—"));
        QCOMPARE(specValueText(a, QStringLiteral("strategy.name")), QStringLiteral("fedavg"));
    }

    // Final metrics of: round 1 evaluated 0.5, round 2 not, round 3 evaluated 0.8, round 4 evaluated 0.7.
    void finalMetricsByHand() {
        const QList<RoundMetrics> rounds{round(1, true, 0.5, 0.2, 1.0), round(2, false, 0, std::nan(""), 1.5),
                                         round(3, true, 0.8, 0.4, 2.0), round(4, true, 0.7, 0.3, 2.5)};
        const FinalMetrics f = finalMetrics(rounds, 0.75);
        QCOMPARE(f.finalAccuracy, std::optional<double>(0.7));
        QCOMPARE(f.bestAccuracy, std::optional<double>(0.8));
        QCOMPARE(f.bestRound, std::optional<int>(3));
        QCOMPARE(f.roundsToTarget, std::optional<int>(3));
        QCOMPARE(f.worst10, std::optional<double>(0.3));
        QCOMPARE(f.jain, std::optional<double>(0.9));
        QCOMPARE(f.epsilon, std::optional<double>(2.5));
        QVERIFY(!f.asr);
        QCOMPARE(f.bytes, std::int64_t(100 + 200 + 300 + 400 + 4 * 1000));
        QCOMPARE(f.wallSeconds, 6.0);
        QCOMPARE(f.rounds, 4);
        QVERIFY(!finalMetrics(rounds, 0.9).roundsToTarget); // never reached
        QVERIFY(!finalMetrics(rounds).roundsToTarget);      // no target
        QVERIFY(!finalMetrics({}).finalAccuracy);
    }

    // The report: one row per run in the tables, the differing setting with each run's value, one polyline
    // per run in each chart that has data, no chart for what no run stored, and names escaped.
    void reportHtml() {
        ReportRun a, b;
        a.run.id = 7;
        a.run.name = QStringLiteral("<script>alert(1)</script>");
        a.run.spec = QJsonObject{
            {QStringLiteral("strategy"), QJsonObject{{QStringLiteral("name"), QStringLiteral("fedavg")}}}};
        a.rounds = {round(1, true, 0.5, 0.2), round(2, true, 0.6, 0.3)};
        b.run.id = 9;
        b.run.spec = QJsonObject{
            {QStringLiteral("strategy"), QJsonObject{{QStringLiteral("name"), QStringLiteral("median")}}}};
        b.rounds = {round(1, true, 0.4, 0.1), round(2, true, 0.7, 0.2)};
        const QString html = comparisonReportHtml({a, b}, 0.65);
        QVERIFY(!html.contains(QStringLiteral("<script>")));
        QVERIFY(html.contains(QStringLiteral("&lt;script&gt;")));
        QVERIFY(html.contains(QStringLiteral("<td>strategy.name</td><td>fedavg</td><td>median</td>")));
        QCOMPARE(html.count(QStringLiteral("<svg")), 3); // accuracy, loss, worst-10%; no epsilon, no asr
        QCOMPARE(html.count(QStringLiteral("<polyline")), 6);
        QVERIFY(!html.contains(QStringLiteral("Privacy loss")));
        QVERIFY(html.contains(QStringLiteral("rounds to 0.65")));
        QVERIFY(html.contains(QStringLiteral("not reached"))); // run 7 ends at 0.6
        // Run 9 reaches 0.7 in round 2; its colour is the second of the palette everywhere.
        QVERIFY(html.contains(QStringLiteral("stroke='%1'").arg(runColour(1))));
        QVERIFY(html.contains(QStringLiteral("background:%1").arg(runColour(1))));
    }
};

QTEST_GUILESS_MAIN(TestComparison)
#include "test_comparison.moc"
