// ui_latency: does the dashboard stay fluid at scale? A synthetic event stream of 1000 clients x 500 rounds
// (every client evaluated each round, 10% trained, a few dropped) is fed through the Dashboard offscreen as
// fast as a fast run would produce it (a round every 4 ms), while a probe timer that should fire every
// 2 ms measures how late the event loop is. Prints the 99th-percentile and the worst stall, and the cost of
// one full redraw at the end of the stream. Target: p99 < 50 ms.
#include "dashboard/Dashboard.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace fedwb;

int main(int argc, char **argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const int clients = 1000, rounds = 500;
    Dashboard d;
    d.resize(1600, 1000);
    d.show();
    QStringList groups;
    for (int c = 0; c < clients; ++c)
        groups << QStringLiteral("g%1").arg(c % 4);
    d.startRun(clients, groups, 8.0);

    std::mt19937 gen(1);
    std::uniform_real_distribution<double> noise(-0.05, 0.05);
    QList<RoundMetrics> stream;
    for (int r = 1; r <= rounds; ++r) {
        RoundMetrics m;
        m.round = r;
        m.evaluated = true;
        m.testAccuracy = 0.9 - 0.5 * std::exp(-r / 50.0);
        m.testLoss = 1 - m.testAccuracy;
        m.trainLoss = m.testLoss * 1.1;
        m.fairness = Fairness{m.testAccuracy, 0.1, m.testAccuracy - 0.2, m.testAccuracy + 0.05, 0.97};
        m.wallSeconds = 0.5 * r;
        m.bytesUp = 100 * 250'000;
        m.bytesDown = 100 * 250'000;
        m.epsilon = 0.1 * std::sqrt(double(r));
        for (int c = 0; c < clients; ++c) {
            ClientRoundMetrics cm;
            cm.clientId = c;
            cm.group = groups[c];
            cm.trainSamples = 60 + c % 50;
            cm.testSamples = 10;
            cm.trained = (c + r) % 10 == 0;
            cm.dropped = (c + r) % 97 == 0;
            cm.accuracy = std::clamp(m.testAccuracy + noise(gen), 0.0, 1.0);
            m.clients.push_back(cm);
        }
        stream.append(std::move(m));
    }

    std::vector<double> lateness;
    QElapsedTimer clock;
    clock.start();
    qint64 lastProbe = clock.nsecsElapsed();
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(2);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        lateness.push_back(std::max(0.0, double(now - lastProbe) * 1e-6 - 2.0));
        lastProbe = now;
    });
    int next = 0;
    QTimer producer;
    producer.setTimerType(Qt::PreciseTimer);
    producer.setInterval(4);
    QObject::connect(&producer, &QTimer::timeout, [&] {
        if (next < rounds)
            d.addRound(stream[next++]);
        else if (!d.redrawPending())
            app.quit();
    });
    probe.start();
    producer.start();
    app.exec();
    const double streamSeconds = double(clock.nsecsElapsed()) * 1e-9;

    std::sort(lateness.begin(), lateness.end());
    const double p99 = lateness.empty() ? 0 : lateness[std::size_t(double(lateness.size() - 1) * 0.99)];
    const double p50 = lateness.empty() ? 0 : lateness[lateness.size() / 2];
    const double worst = lateness.empty() ? 0 : lateness.back();

    // One full redraw of everything at the end (what selecting a client or switching the axis costs).
    QElapsedTimer one;
    one.start();
    d.setXAxis(Dashboard::ByWallTime);
    const double redrawMs = double(one.nsecsElapsed()) * 1e-6;
    one.restart();
    d.setRowOrder(Dashboard::ByFinalAccuracy);
    const double reorderMs = double(one.nsecsElapsed()) * 1e-6;

    std::printf("ui_latency: %d clients x %d rounds fed in %.2f s (a round every 4 ms), %zu probes\n",
                clients, rounds, streamSeconds, lateness.size());
    std::printf("  event-loop stall: median %.1f ms, p99 %.1f ms, worst %.1f ms (target p99 < 50 ms): %s\n",
                p50, p99, worst, p99 < 50 ? "ok" : "TOO SLOW");
    std::printf("  full chart redraw (x axis switch) %.1f ms; heatmap re-sort %.1f ms\n", redrawMs,
                reorderMs);
    std::printf("  drawn: %d rounds, heatmap %dx%d, timeline %dx%d\n", d.roundCount(), d.heatmap().width(),
                d.heatmap().height(), d.participation().width(), d.participation().height());
    return d.roundCount() == rounds ? 0 : 1;
}
