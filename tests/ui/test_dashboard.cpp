// The dashboard fed with recorded rounds (offscreen): charts shown or hidden by what was stored, values at
// points, heatmap pixel colours for known accuracies, the participation timeline, the client table, the
// x-axis switch and batching — each against values worked out here.
#include "dashboard/Dashboard.h"

#include <QAbstractItemModel>
#include <QApplication>
#include <QTableView>
#include <QTest>

#include <cmath>

using namespace fedwb;

namespace {

// 4 clients in two groups ("a": 0-1, "b": 2-3). Round r: clients 0 and 2 train (client 3 drops in round
// 2); evaluated rounds 1 and 2 give client c accuracy (c + 1) / 4 * r / 2.
QList<RoundMetrics> recorded(bool withEpsilon) {
    QList<RoundMetrics> rounds;
    for (int r = 1; r <= 3; ++r) {
        RoundMetrics m;
        m.round = r;
        m.evaluated = r <= 2;
        m.testAccuracy = 0.5 + 0.1 * r;
        m.testLoss = 1.0 / r;
        m.trainLoss = 2.0 / r;
        m.fairness = Fairness{0.5, 0.1, 0.2 * r, 0.9, 0.95};
        m.wallSeconds = 10.0 * r;
        m.bytesUp = 1'000'000;
        m.bytesDown = 3'000'000;
        if (withEpsilon) m.epsilon = 0.5 * r;
        for (int c = 0; c < 4; ++c) {
            ClientRoundMetrics cm;
            cm.clientId = c;
            cm.group = c < 2 ? QStringLiteral("a") : QStringLiteral("b");
            cm.trainSamples = 100 * (4 - c);
            cm.testSamples = 10;
            cm.trained = c == 0 || c == 2;
            cm.dropped = r == 2 && c == 3;
            if (m.evaluated) cm.accuracy = (c + 1) / 4.0 * r / 2.0;
            if (r == 2 && c < 2) cm.personalAccuracy = c == 0 ? 0.9 : 0.7; // personalized: mean 0.8
            m.clients.push_back(cm);
        }
        rounds.append(m);
    }
    return rounds;
}

} // namespace

class TestDashboard : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void storedRunShowsWhatItStored() {
        Dashboard d;
        d.resize(1200, 800);
        d.setRounds(recorded(false));
        QCOMPARE(d.roundCount(), 3);
        QCOMPARE(d.clientCount(), 4);
        // No epsilon, no attack: those charts are hidden; the others are shown.
        QVERIFY(!d.panel(QStringLiteral("privacy"))->hasData());
        QVERIFY(!d.panel(QStringLiteral("attack"))->hasData());
        QVERIFY(d.panel(QStringLiteral("convergence"))->hasData());
        QVERIFY(d.panel(QStringLiteral("bytes"))->hasData());
        const auto &convergence = d.panel(QStringLiteral("convergence"))->series();
        QCOMPARE(convergence[0].points,
                 (QList<QPointF>{{1, 0.6}, {2, 0.7}})); // test accuracy, evaluated only
        QCOMPARE(convergence[2].points.size(), 3);      // train loss every round
        const auto &fairness = d.panel(QStringLiteral("fairness"))->series();
        QCOMPARE(fairness[1].points, (QList<QPointF>{{1, 0.2}, {2, 0.4}})); // worst 10%
        // Distribution of round 2: accuracies 0.25, 0.5, 0.75, 1.0: median 0.625, 10% 0.325, 90% 0.925.
        const auto &median = d.panel(QStringLiteral("distribution"))->series()[0];
        QVERIFY(std::abs(median.points[1].y() - 0.625) < 1e-9);
        QVERIFY(std::abs(median.bandLower[1].y() - 0.325) < 1e-9);
        QVERIFY(std::abs(median.bandUpper[1].y() - 0.925) < 1e-9);
        // MB per round: 1 up, 3 down.
        QCOMPARE(d.panel(QStringLiteral("bytes"))->series()[1].points[0], QPointF(1, 3.0));

        // The heatmap: a column per evaluated round (2), a row per client; client 3 in round 2 has accuracy
        // 1.0 (green end of the scale), client 0 in round 1 has 0.125.
        QCOMPARE(d.heatmap().width(), 2);
        QCOMPARE(d.heatmap().height(), 4);
        QCOMPARE(QColor(d.heatmap().pixel(1, 3)), Dashboard::accuracyColour(1.0));
        QCOMPARE(QColor(d.heatmap().pixel(0, 0)),
                 Dashboard::accuracyColour(std::lround(0.125 * 255) / 255.0));
        // The timeline: a column per round; client 0 trained (its group colour), client 3 dropped in round 2
        // (black), client 1 never selected (light grey).
        QCOMPARE(d.participation().width(), 3);
        QCOMPARE(QColor(d.participation().pixel(0, 0)), d.groupColour(QStringLiteral("a")));
        QCOMPARE(QColor(d.participation().pixel(0, 2)), d.groupColour(QStringLiteral("b")));
        QCOMPARE(QColor(d.participation().pixel(1, 3)), QColor(0x20, 0x20, 0x20));
        QCOMPARE(QColor(d.participation().pixel(2, 1)), QColor(0xf7, 0xf7, 0xf7));
        QVERIFY(d.groupColour(QStringLiteral("a")) != d.groupColour(QStringLiteral("b")));

        // Sorted by size (client 0 is the largest) and by final accuracy (client 3 best).
        d.setRowOrder(Dashboard::ByFinalAccuracy);
        QCOMPARE(d.rowOrder(), (QList<int>{3, 2, 1, 0}));
        QCOMPARE(QColor(d.heatmap().pixel(1, 0)), Dashboard::accuracyColour(1.0)); // client 3 is row 0 now
        d.setRowOrder(Dashboard::BySize);
        QCOMPARE(d.rowOrder(), (QList<int>{0, 1, 2, 3}));

        // The client table: times selected and dropped, latest accuracy.
        const QAbstractItemModel *t = d.clientTable()->model();
        QCOMPARE(t->rowCount(), 4);
        QCOMPARE(t->index(3, 5).data().toInt(), 1); // client 3 selected once (it dropped)
        QCOMPARE(t->index(3, 6).data().toInt(), 1);
        QCOMPARE(t->index(0, 5).data().toInt(), 3);
        QCOMPARE(t->index(1, 4).data().toString(), QStringLiteral("0.5000")); // client 1, round 2: 2/4 * 1

        // Selecting a client adds its own line to the distribution chart.
        d.selectClient(1);
        const auto &dist = d.panel(QStringLiteral("distribution"))->series();
        QCOMPARE(dist.size(), 2);
        QCOMPARE(dist[1].points, (QList<QPointF>{{1, 0.25}, {2, 0.5}}));
        // Against wall time, the same values at other x.
        d.setXAxis(Dashboard::ByWallTime);
        QCOMPARE(d.panel(QStringLiteral("convergence"))->series()[0].points,
                 (QList<QPointF>{{10, 0.6}, {20, 0.7}}));
        d.setXAxis(Dashboard::ByBytes); // MB sent so far: 4, 8
        QCOMPARE(d.panel(QStringLiteral("convergence"))->series()[0].points,
                 (QList<QPointF>{{4, 0.6}, {8, 0.7}}));
    }

    // Privacy: epsilon against its target, shown only when stored.
    void epsilonAgainstTarget() {
        Dashboard d;
        d.setRounds(recorded(true), 2.0);
        const auto &privacy = d.panel(QStringLiteral("privacy"))->series();
        QVERIFY(d.panel(QStringLiteral("privacy"))->hasData());
        QCOMPARE(privacy[0].points, (QList<QPointF>{{1, 0.5}, {2, 1.0}, {3, 1.5}}));
        QCOMPARE(privacy[1].points.first().y(), 2.0);
    }

    // Live: rounds arriving in a burst are drawn once, after the redraw delay.
    void burstIsBatched() {
        Dashboard d;
        d.startRun(4, {QStringLiteral("a"), QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("b")},
                   0);
        for (const RoundMetrics &m : recorded(false))
            d.addRound(m);
        QCOMPARE(d.roundCount(), 0); // not yet drawn
        QVERIFY(d.redrawPending());
        QTRY_COMPARE(d.roundCount(), 3);
        QVERIFY(!d.redrawPending());
        QCOMPARE(d.panel(QStringLiteral("convergence"))->series()[0].points.size(), 2);
    }
};

QTEST_MAIN(TestDashboard)
#include "test_dashboard.moc"
