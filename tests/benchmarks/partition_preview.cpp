// partition_preview: how fast can the designer's partition preview (and data pre-flight) follow an edit?
// Times summarizePartition — what the preview computes off the GUI thread — for the quickstart workspace: the
// first call (the dataset is decoded), then calls with the dataset cached and only the partition recomputed
// (alpha changed each time), then the same for 200 and 1000 clients, iid, and the generated datasets
// (synthetic, quadratic). Prints the median and the worst of each. Target: the cached path well under 150 ms.
#include "run/Experiment.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <vector>

using namespace fedwb;

namespace {

QJsonObject quickstart() {
    QFile f(QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb"));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

FederationSpec specWith(QJsonObject raw, const QStringList &overrides) {
    for (const QString &o : overrides) {
        QString error;
        if (!FederationSpec::applyOverride(raw, o, &error)) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            std::exit(2);
        }
    }
    const auto parsed = FederationSpec::parse(raw);
    if (!parsed.ok()) {
        std::fprintf(stderr, "%s\n", qPrintable(parsed.errorText()));
        std::exit(2);
    }
    return *parsed.spec;
}

double cpuMillis() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
}

// Wall and CPU time of `f` (this thread's CPU: on a shared machine the steadier number).
std::pair<double, double> millis(const std::function<void()> &f) {
    QElapsedTimer t;
    const double cpu0 = cpuMillis();
    t.start();
    f();
    return {double(t.nsecsElapsed()) * 1e-6, cpuMillis() - cpu0};
}

// Times `reps` calls, each with the spec `make(i)`; prints the medians (wall and CPU) and the worst wall.
void series(const char *label, int reps, const std::function<FederationSpec(int)> &make) {
    std::vector<double> wall, cpu;
    std::size_t clients = 0;
    for (int i = 0; i < reps; ++i) {
        const FederationSpec spec = make(i);
        const auto [w, c] = millis([&] { clients = summarizePartition(spec).clients.size(); });
        wall.push_back(w);
        cpu.push_back(c);
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    std::printf("%-56s %5zu clients  median %7.1f ms (cpu %7.1f)  worst %7.1f ms  (%d calls)\n", label,
                clients, wall[wall.size() / 2], cpu[cpu.size() / 2], wall.back(), reps);
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    registerBuiltins();
    const QJsonObject raw = quickstart();
    if (raw.isEmpty()) return 2;
    const auto alpha = [](int i) { return QStringLiteral("partition.alpha=%1").arg(0.3 + 0.05 * i); };

    // --only-1000 N: just N calls of the 1000-client dirichlet case (for a profiler).
    if (argc == 3 && QByteArray(argv[1]) == "--only-1000") {
        summarizePartition(specWith(raw, {})); // the dataset, decoded once
        series("1000 clients, dirichlet, alpha changed", std::atoi(argv[2]), [&](int i) {
            return specWith(raw, {QStringLiteral("clients.count=1000"), alpha(i)});
        });
        return 0;
    }
    const FederationSpec first = specWith(raw, {});
    const auto [wall, cpu] = millis([&] { summarizePartition(first); });
    std::printf("%-56s %5d clients  %7.1f ms (cpu %7.1f)\n", "quickstart, first call (dataset decoded)",
                first.clientCount(), wall, cpu);
    series("quickstart, cached dataset, alpha changed", 9, [&](int i) { return specWith(raw, {alpha(i)}); });
    series("quickstart, cached dataset, iid", 9,
           [&](int) { return specWith(raw, {QStringLiteral("partition.name=iid")}); });
    series("200 clients, dirichlet, alpha changed", 9, [&](int i) {
        return specWith(raw, {QStringLiteral("clients.count=200"), alpha(i)});
    });
    series("1000 clients, dirichlet, alpha changed", 5, [&](int i) {
        return specWith(raw, {QStringLiteral("clients.count=1000"), alpha(i)});
    });
    series("1000 clients, dirichlet 0.5, min_samples 10", 5, [&](int i) {
        return specWith(raw,
                        {QStringLiteral("clients.count=1000"), QStringLiteral("partition.min_samples=10"),
                         QStringLiteral("partition.alpha=%1").arg(0.5 + 0.001 * i)});
    });
    series("1000 clients, iid", 5, [&](int) {
        return specWith(raw, {QStringLiteral("clients.count=1000"), QStringLiteral("partition.name=iid")});
    });
    const QStringList synthetic{QStringLiteral("dataset={\"name\":\"synthetic\"}"),
                                QStringLiteral("partition={\"name\":\"natural\"}"),
                                QStringLiteral("model={\"name\":\"logreg\"}")};
    series("synthetic, 20 natural clients, test_fraction changed", 5, [&](int i) {
        return specWith(
            raw, synthetic + QStringList{QStringLiteral("partition.test_fraction=%1").arg(0.1 + 0.01 * i)});
    });
    series("synthetic, 1000 natural clients, test_fraction changed", 3, [&](int i) {
        return specWith(
            raw, synthetic + QStringList{QStringLiteral("clients.count=1000"),
                                         QStringLiteral("clients.per_round=10"),
                                         QStringLiteral("partition.test_fraction=%1").arg(0.1 + 0.01 * i)});
    });
    const QStringList quadratic{QStringLiteral("dataset={\"name\":\"quadratic\"}"),
                                QStringLiteral("partition={\"name\":\"natural\"}"),
                                QStringLiteral("model={\"name\":\"logreg\"}")};
    series("quadratic, 1000 natural clients, test_fraction changed", 3, [&](int i) {
        return specWith(
            raw, quadratic + QStringList{QStringLiteral("clients.count=1000"),
                                         QStringLiteral("clients.per_round=10"),
                                         QStringLiteral("partition.test_fraction=%1").arg(0.1 + 0.01 * i)});
    });
    return 0;
}
