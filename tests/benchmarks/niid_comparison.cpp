// niid_comparison: FedAvg, FedProx, SCAFFOLD and FedNova side by side on two non-IID splits of Fashion-MNIST,
// in one process, through the public engine API only (Run + FederationSpec + Registry).
//
// Setting: 10 clients, all of them in every round; LeNet-5; SGD lr 0.01 momentum 0.9, batch 64, one local
// epoch; partitions Dirichlet(0.5) and two classes per client; N rounds (default 20). Every cell uses the same
// seed, so the partition, the initial model and the batch order are identical across strategies: only the
// aggregation (and each strategy's client-side correction) differs.
//
// Prints, per partition x strategy: final test accuracy, best test accuracy (and its round), the mean local
// test accuracy of the worst 10% of clients (with 10 clients: the worst one) and Jain's index after the last
// round, and wall seconds; then each strategy relative to FedAvg on the same partition. A run that does not
// finish (e.g. 'training diverged') is reported and makes the exit status 1; the other cells still run.
//
// usage: niid_comparison [ROUNDS] [--train-limit N] [--threads N] [--data DIR] [--set KEY=VALUE]...
//   ROUNDS          federated rounds (default 20)
//   --train-limit   use only the first N training images (quick runs; default all 60,000)
//   --threads       run.threads (0 = one per core; never changes results)
//   --data          folder with the Fashion-MNIST IDX gzip files (default: the schema's dataset.path)
//   --set KEY=VALUE any further workspace override, applied to every cell (e.g. --set training.lr=0.05)
#include "run/Run.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include <unistd.h>

using namespace fedwb;

namespace {

struct Options {
    int rounds = 20;
    int trainLimit = 0; // 0 = all
    int threads = 0;
    QString dataPath;   // empty = the schema default
    QStringList sets;   // extra KEY=VALUE overrides
};

struct PartitionCase {
    QString label; // shown in the table
    QJsonObject section;
};

struct StrategyCase {
    QString label;
    QJsonObject section;
};

struct Cell {
    QString partition;
    QString strategy;
    RunSummary summary;
    std::optional<double> best;
    int bestRound = 0;
    std::optional<double> worst10; // of the last evaluated round
    std::optional<double> jain;
};

// Records what the table needs from every evaluated round; shows progress on a terminal.
class Collector final : public RunObserver {
public:
    Collector(QString label, bool tty)
        : m_label(std::move(label))
        , m_tty(tty) {}

    void runStarted(int totalRounds, std::int64_t /*parameterCount*/) override { m_total = totalRounds; }

    void roundFinished(const RoundMetrics &m) override {
        if (m.evaluated && std::isfinite(m.testAccuracy)) {
            if (!best || m.testAccuracy > *best) {
                best = m.testAccuracy;
                bestRound = m.round;
            }
            worst10 = m.fairness.worst10;
            jain = m.fairness.jain;
        }
        if (m_tty) {
            std::fprintf(stderr, "\r\033[K  %s: round %d/%d  test_acc %.4f  %.1f s", qPrintable(m_label), m.round,
                         m_total, m.testAccuracy, m.wallSeconds);
            std::fflush(stderr);
        }
    }

    void runFinished(const RunSummary & /*summary*/) override {
        if (m_tty) std::fprintf(stderr, "\r\033[K");
    }

    std::optional<double> best;
    int bestRound = 0;
    std::optional<double> worst10;
    std::optional<double> jain;

private:
    QString m_label;
    bool m_tty = false;
    int m_total = 0;
};

void usage() {
    std::fprintf(stderr, "usage: niid_comparison [ROUNDS] [--train-limit N] [--threads N] [--data DIR] "
                         "[--set KEY=VALUE]...\n");
}

bool parseInt(const char *text, int min, int max, int *out) {
    bool ok = false;
    const int v = QString::fromLocal8Bit(text).toInt(&ok);
    if (!ok || v < min || v > max) return false;
    *out = v;
    return true;
}

std::optional<Options> parseArgs(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const QString a = QString::fromLocal8Bit(argv[i]);
        const bool hasValue = i + 1 < argc;
        if (a == QStringLiteral("--help") || a == QStringLiteral("-h")) {
            return std::nullopt;
        } else if (a == QStringLiteral("--train-limit") && hasValue) {
            if (!parseInt(argv[++i], 0, 60000, &o.trainLimit)) {
                std::fprintf(stderr, "--train-limit: expected an integer in [0, 60000], got '%s'\n", argv[i]);
                return std::nullopt;
            }
        } else if (a == QStringLiteral("--threads") && hasValue) {
            if (!parseInt(argv[++i], 0, 256, &o.threads)) {
                std::fprintf(stderr, "--threads: expected an integer in [0, 256], got '%s'\n", argv[i]);
                return std::nullopt;
            }
        } else if (a == QStringLiteral("--data") && hasValue) {
            o.dataPath = QString::fromLocal8Bit(argv[++i]);
        } else if (a == QStringLiteral("--set") && hasValue) {
            o.sets << QString::fromLocal8Bit(argv[++i]);
        } else if (i == 1 && !a.startsWith(QLatin1Char('-'))) {
            if (!parseInt(argv[i], 1, 100000, &o.rounds)) {
                std::fprintf(stderr, "ROUNDS: expected an integer in [1, 100000], got '%s'\n", argv[i]);
                return std::nullopt;
            }
        } else {
            std::fprintf(stderr, "unknown or incomplete argument '%s'\n", argv[i]);
            return std::nullopt;
        }
    }
    return o;
}

// The workspace shared by every cell; partition and strategy are filled in per cell.
QJsonObject baseWorkspace(const Options &o) {
    QJsonObject dataset{{QStringLiteral("name"), QStringLiteral("fashion-mnist")},
                        {QStringLiteral("train_limit"), o.trainLimit}};
    if (!o.dataPath.isEmpty()) dataset.insert(QStringLiteral("path"), o.dataPath);
    return QJsonObject{
        {QStringLiteral("format"), kWorkspaceFormat},
        {QStringLiteral("name"), QStringLiteral("niid_comparison")},
        {QStringLiteral("dataset"), dataset},
        {QStringLiteral("clients"),
         QJsonObject{{QStringLiteral("count"), 10}, {QStringLiteral("per_round"), 10}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("cnn-lenet5")}}},
        {QStringLiteral("training"),
         QJsonObject{{QStringLiteral("epochs"), 1},
                     {QStringLiteral("batch_size"), 64},
                     {QStringLiteral("optimizer"), QStringLiteral("sgd")},
                     {QStringLiteral("lr"), 0.01},
                     {QStringLiteral("momentum"), 0.9}}},
        {QStringLiteral("run"),
         QJsonObject{{QStringLiteral("rounds"), o.rounds},
                     {QStringLiteral("seed"), 1},
                     {QStringLiteral("eval_every"), 1},
                     {QStringLiteral("threads"), o.threads},
                     // Only the last round is a checkpoint: nothing is stored, so do not pay for it each round.
                     {QStringLiteral("checkpoint_every"), o.rounds}}},
    };
}

// A validated spec for one cell, or nullopt (the errors are printed).
std::optional<FederationSpec> specFor(const Options &o, const PartitionCase &p, const StrategyCase &s) {
    QJsonObject raw = baseWorkspace(o);
    raw.insert(QStringLiteral("partition"), p.section);
    raw.insert(QStringLiteral("strategy"), s.section);
    for (const QString &assignment : o.sets) {
        QString error;
        if (!FederationSpec::applyOverride(raw, assignment, &error)) {
            std::fprintf(stderr, "--set %s: %s\n", qPrintable(assignment), qPrintable(error));
            return std::nullopt;
        }
    }
    const FederationSpec::Parsed parsed = FederationSpec::parse(raw);
    for (const SpecIssue &w : parsed.warnings)
        std::fprintf(stderr, "warning: %s / %s: %s\n", qPrintable(p.label), qPrintable(s.label),
                     qPrintable(w.text()));
    if (!parsed.ok()) {
        std::fprintf(stderr, "%s / %s: invalid workspace:\n%s\n", qPrintable(p.label), qPrintable(s.label),
                     qPrintable(parsed.errorText()));
        return std::nullopt;
    }
    return *parsed.spec;
}

QString number(const std::optional<double> &v, int decimals = 4) {
    return v && std::isfinite(*v) ? QString::number(*v, 'f', decimals) : QStringLiteral("-");
}

QString ratio(const std::optional<double> &a, const std::optional<double> &b) {
    if (!a || !b || !std::isfinite(*a) || !std::isfinite(*b) || *b <= 0) return QStringLiteral("-");
    return QString::number(*a / *b, 'f', 3);
}

} // namespace

int main(int argc, char **argv) {
    const std::optional<Options> parsedOptions = parseArgs(argc, argv);
    if (!parsedOptions) {
        usage();
        return 2;
    }
    const Options &o = *parsedOptions;
    registerBuiltins();

    const QList<PartitionCase> partitions{
        {QStringLiteral("dirichlet 0.5"),
         QJsonObject{{QStringLiteral("name"), QStringLiteral("dirichlet")}, {QStringLiteral("alpha"), 0.5}}},
        {QStringLiteral("2 classes/client"),
         QJsonObject{{QStringLiteral("name"), QStringLiteral("classes-per-client")},
                     {QStringLiteral("classes_per_client"), 2}}},
    };
    const QList<StrategyCase> strategies{
        {QStringLiteral("fedavg"), QJsonObject{{QStringLiteral("name"), QStringLiteral("fedavg")}}},
        {QStringLiteral("fedprox"),
         QJsonObject{{QStringLiteral("name"), QStringLiteral("fedprox")}, {QStringLiteral("mu"), 0.01}}},
        {QStringLiteral("scaffold"), QJsonObject{{QStringLiteral("name"), QStringLiteral("scaffold")}}},
        {QStringLiteral("fednova"), QJsonObject{{QStringLiteral("name"), QStringLiteral("fednova")}}},
    };

    // Validate every cell before the first (long) run.
    QList<QList<FederationSpec>> specs;
    for (const PartitionCase &p : partitions) {
        QList<FederationSpec> row;
        for (const StrategyCase &s : strategies) {
            std::optional<FederationSpec> spec = specFor(o, p, s);
            if (!spec) return 2;
            row.push_back(*spec);
        }
        specs.push_back(row);
    }

    const QString trainLimit =
        o.trainLimit > 0 ? QStringLiteral("first %1 training images").arg(o.trainLimit) : QStringLiteral("all");
    std::printf("niid_comparison: Fashion-MNIST (%s), 10 clients, all 10 per round, LeNet-5, SGD lr 0.01 "
                "momentum 0.9, batch 64, 1 local epoch, %d rounds, seed 1, run.threads %d%s%s\n",
                qPrintable(trainLimit), o.rounds, o.threads, o.sets.isEmpty() ? "" : ", overrides: ",
                qPrintable(o.sets.join(QStringLiteral(" "))));
    std::fflush(stdout);

    const bool tty = isatty(fileno(stderr)) != 0;
    std::vector<Cell> cells;
    bool anyFailed = false;
    for (qsizetype pi = 0; pi < partitions.size(); ++pi)
        for (qsizetype si = 0; si < strategies.size(); ++si) {
            const PartitionCase &p = partitions[pi];
            const StrategyCase &s = strategies[si];
            Collector collector(p.label + QStringLiteral(" / ") + s.label, tty);
            Run run(specs[pi][si]);
            run.addObserver(&collector);
            Cell c;
            c.partition = p.label;
            c.strategy = s.label;
            c.summary = run.exec();
            c.best = collector.best;
            c.bestRound = collector.bestRound;
            c.worst10 = collector.worst10;
            c.jain = collector.jain;
            if (c.summary.status != RunStatus::Finished) {
                anyFailed = true;
                std::fprintf(stderr, "%s / %s: %s after %d rounds%s%s\n", qPrintable(p.label),
                             qPrintable(s.label), qPrintable(runStatusName(c.summary.status)),
                             c.summary.roundsDone, c.summary.message.isEmpty() ? "" : ": ",
                             qPrintable(c.summary.message));
            }
            std::printf("  done %-17s %-9s final %s  best %s  %.1f s\n", qPrintable(p.label), qPrintable(s.label),
                        qPrintable(number(c.summary.finalTestAccuracy)), qPrintable(number(c.best)),
                        c.summary.wallSeconds);
            std::fflush(stdout);
            cells.push_back(std::move(c));
        }

    std::printf("\n%-17s %-9s %9s %15s %12s %8s %9s\n", "partition", "strategy", "final acc", "best acc (rnd)",
                "worst10 end", "jain end", "wall s");
    for (const Cell &c : cells) {
        const QString best = c.best ? QStringLiteral("%1 (%2)").arg(number(c.best)).arg(c.bestRound)
                                    : QStringLiteral("-");
        std::printf("%-17s %-9s %9s %15s %12s %8s %9.1f%s\n", qPrintable(c.partition), qPrintable(c.strategy),
                    qPrintable(number(c.summary.finalTestAccuracy)), qPrintable(best),
                    qPrintable(number(c.worst10)), qPrintable(number(c.jain, 3)), c.summary.wallSeconds,
                    c.summary.status == RunStatus::Finished ? "" : "  (not finished)");
    }

    std::printf("\nrelative to FedAvg on the same partition (same seed, same process):\n");
    std::printf("%-17s %-9s %13s %12s %15s %12s\n", "partition", "strategy", "final/fedavg", "best/fedavg",
                "worst10/fedavg", "wall/fedavg");
    for (const PartitionCase &p : partitions) {
        const auto ref = std::find_if(cells.begin(), cells.end(), [&](const Cell &c) {
            return c.partition == p.label && c.strategy == QStringLiteral("fedavg");
        });
        if (ref == cells.end()) continue;
        for (const Cell &c : cells) {
            if (c.partition != p.label || c.strategy == QStringLiteral("fedavg")) continue;
            std::printf("%-17s %-9s %13s %12s %15s %12s\n", qPrintable(c.partition), qPrintable(c.strategy),
                        qPrintable(ratio(c.summary.finalTestAccuracy, ref->summary.finalTestAccuracy)),
                        qPrintable(ratio(c.best, ref->best)), qPrintable(ratio(c.worst10, ref->worst10)),
                        qPrintable(ratio(c.summary.wallSeconds, ref->summary.wallSeconds)));
        }
    }
    return anyFailed ? 1 : 0;
}
