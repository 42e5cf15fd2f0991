// Soak: 1000 rounds of a small federation (Synthetic(0.5, 0.5), 30 natural clients, 10 a round, logistic
// regression, SCAFFOLD so client state is kept too), recorded into a store with a checkpoint every round, as
// a user's long run is. Resident memory after round 100 and after the last round must differ by under 5%:
// nothing grows with the number of rounds.
//
// usage: soak [ROUNDS]   (default 1000)
#include "run/Run.h"
#include "run/StoreRecorder.h"
#include "spec/Registry.h"
#include "store/RunStore.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <cstdio>

using namespace fedwb;

namespace {

// VmRSS of this process in KiB.
long residentKiB() {
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:")) return line.mid(6).trimmed().split(' ').first().toLong();
    return -1;
}

struct Sampler : RunObserver {
    int rounds = 0;
    long at100 = -1, last = -1, peak = 0;
    QElapsedTimer clock;
    void runStarted(int, std::int64_t) override { clock.start(); }
    void roundFinished(const RoundMetrics &m) override {
        const long rss = residentKiB();
        peak = std::max(peak, rss);
        if (m.round == 100) at100 = rss;
        if (m.round % 100 == 0)
            std::printf("round %4d  rss %7ld KiB  %.1f s\n", m.round, rss, double(clock.elapsed()) / 1000.0);
        std::fflush(stdout);
        last = rss;
        rounds = m.round;
    }
};

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    registerBuiltins();
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 1000;
    if (rounds < 200) {
        std::fprintf(stderr, "soak: ROUNDS must be at least 200\n");
        return 2;
    }
    const QJsonObject raw{
        {QStringLiteral("format"), 1},
        {QStringLiteral("name"), QStringLiteral("soak")},
        {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("synthetic")},
                                                {QStringLiteral("alpha"), 0.5},
                                                {QStringLiteral("beta"), 0.5}}},
        {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
        {QStringLiteral("clients"),
         QJsonObject{{QStringLiteral("count"), 30}, {QStringLiteral("per_round"), 10}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
        {QStringLiteral("training"),
         QJsonObject{{QStringLiteral("lr"), 0.05}, {QStringLiteral("batch_size"), 16}}},
        {QStringLiteral("strategy"), QJsonObject{{QStringLiteral("name"), QStringLiteral("scaffold")}}},
        {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), rounds},
                                            {QStringLiteral("seed"), 7},
                                            {QStringLiteral("threads"), 2}}}};
    const auto parsed = FederationSpec::parse(raw);
    if (!parsed.ok()) {
        std::fprintf(stderr, "soak: %s\n", qPrintable(parsed.errorText()));
        return 2;
    }
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("soak.sqlite")));
    StoreRecorder recorder(store, *parsed.spec, QStringLiteral("soak"), QString());
    if (recorder.runId() < 0) {
        std::fprintf(stderr, "soak: %s\n", qPrintable(recorder.error()));
        return 1;
    }
    Sampler sampler;
    Run run(*parsed.spec);
    run.addObserver(&recorder);
    run.addObserver(&sampler);
    const RunSummary summary = run.exec();
    if (summary.status != RunStatus::Finished || sampler.at100 <= 0) {
        std::fprintf(stderr, "soak: the run ended %s: %s\n", qPrintable(runStatusName(summary.status)),
                     qPrintable(summary.message));
        return 1;
    }
    const double ratio = double(sampler.last) / double(sampler.at100);
    const qint64 storeBytes = QFileInfo(dir.filePath(QStringLiteral("soak.sqlite"))).size();
    std::printf("\nsoak: %d rounds in %.1f s; final accuracy %.4f; store %.1f MiB\n", sampler.rounds,
                summary.wallSeconds, summary.finalTestAccuracy.value_or(-1),
                double(storeBytes) / (1024.0 * 1024.0));
    std::printf("rss after round 100: %ld KiB; after round %d: %ld KiB; peak %ld KiB\n", sampler.at100,
                sampler.rounds, sampler.last, sampler.peak);
    std::printf("ratio last / round 100: %.4f (target: within 0.95-1.05) -> %s\n", ratio,
                ratio < 1.05 && ratio > 0.95 ? "ok" : "FAILED");
    return ratio < 1.05 && ratio > 0.95 ? 0 : 1;
}
