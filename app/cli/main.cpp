// fedwb-cli: runs workspaces headless (scripts, CI, benchmarks). Argument parsing and printing only.
#include "metrics/Report.h"
#include "privacy/Accountant.h"
#include "privacy/PrivacyLedger.h"
#include "remote/Coordinator.h"
#include "remote/Keys.h"
#include "remote/Portable.h"
#include "remote/WorkerPool.h"
#include "run/Experiment.h"
#include "run/Run.h"
#include "run/StoreRecorder.h"
#include "run/Sweep.h"
#include "spec/Registry.h"
#include "store/RunStore.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTextStream>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unistd.h>

using namespace fedwb;

namespace {

QTextStream &out() {
    static QTextStream s(stdout);
    return s;
}
QTextStream &err() {
    static QTextStream s(stderr);
    return s;
}

// Exit codes (README): 0 finished, 1 failed (a store that cannot be written, an internal error), 2 invalid
// input or usage (also a run that fails on its workspace or data: missing files, impossible partition), 3
// stopped by a signal (SIGINT, SIGTERM, SIGHUP; resumable), 4 diverged (NaN/Inf).
constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitStopped = 3, kExitDiverged = 4;

const char *kUsage = R"(usage: fedwb-cli COMMAND [options]

commands:
  run WORKSPACE [--db FILE] [--set KEY=VALUE]... [--json] [--name NAME] [REMOTE OPTIONS]
                            run every round; progress on stderr/stdout, the run stored in the db
  resume --run ID [--db FILE] [--set KEY=VALUE]... [--json] [REMOTE OPTIONS]
                            continue a stopped, interrupted, failed or diverged run from its last
                            checkpoint (ends bitwise equal to an uninterrupted run); run.rounds may grow
  sweep WORKSPACE --vary KEY=V1,V2,... [--vary ...] [--seeds N] [--db FILE] [--set KEY=VALUE]... [--json]
                            every point of the grid (all combinations of the --vary values), each with N
                            training seeds (run.seed, +1, ...) over the same data and partition; the runs
                            are stored tagged with one sweep id; prints mean +- std (over the seeds) of
                            final accuracy, worst-10% client accuracy and wall time per point
  validate WORKSPACE [--set KEY=VALUE]...
                            exit 0 when valid, else exit 2 with one 'key.path: problem' line per error
  partition WORKSPACE [--set KEY=VALUE]... [--json]
                            per client: id, train_samples, test_samples, label histogram
  runs [--db FILE] [--json] list the runs in a store
  export --run ID [--db FILE] [--format json|csv] [--output FILE [--force]]
                            every round of a run with its metrics (written whole or not at all;
                            an output that is a SQLite file, the store above all, needs --force)
  report --run A --run B ... [--db FILE] --output report.html [--target-accuracy X] [--force]
                            a one-page HTML comparison: the runs, the settings that differ, final metrics
                            (final and best accuracy, rounds to X, worst-10%, Jain, epsilon, bytes, wall
                            time) and the curves, one colour per run
  schema [--json]           every registered component and its parameters
  dp-calibrate --rate Q --rounds R --delta D --target-epsilon E [--sampling poisson|fixed] [--json]
                            the smallest noise multiplier (within 1e-4) whose (epsilon, delta) after R
                            rounds of the sampled Gaussian mechanism (rate Q in (0, 1]) is <= E (RDP
                            accountant; fixed = Q N of N without replacement, replace-one neighbours)

  keys generate --out DIR [--name NAME]
                            a CurveZMQ key pair: DIR/NAME.pub (give it to peers) and DIR/NAME.key
                            (private, mode 0600); NAME defaults to coordinator

remote options (run, resume): clients train on fedwb-worker processes instead of this machine
  --executor local|remote   where clients train (default local)
  --bind ENDPOINT           where workers connect, e.g. tcp://0.0.0.0:5555
  --key FILE --allow FILE   this coordinator's key pair and the public keys of the workers it accepts
                            (CurveZMQ: encrypted and authenticated; `cat workers/*.pub > allow`)
  --insecure                plaintext without keys: loopback only, unless --force is given too
  --min-workers N           the first round waits for N ready workers (default 1)
  --task-timeout S          a task without a result after S seconds is dealt out again (default 600)
  --heartbeat-interval S    seconds between heartbeats, both ways (0.05-60; default 1, or a third of
                            --heartbeat-timeout when that is shorter than 3 s)
  --heartbeat-timeout S     a worker silent for S seconds is gone; its tasks go to others (default 6; at
                            least twice the heartbeat interval)
  --max-message-mb N        the largest message taken or sent, in MiB (1-2048, default 256): a task and
                            a result carry the model, so it bounds the model size
  --fallback-local S        with no worker for S seconds, train on this machine (default: wait)
  --stop-workers            tell the workers to exit when the run ends (batch jobs, Slurm)

exit codes: 0 done, 1 failed, 2 invalid input or usage, 3 stopped (SIGINT/SIGTERM), 4 diverged

--db defaults to )";

struct Args {
    QString command;
    QStringList positional;
    QStringList sets;
    QList<QPair<QString, QStringList>> varies; // sweep: key and its values
    int seeds = 1;
    QString db, format = QStringLiteral("json"), output, name;
    qint64 runId = -1;
    QList<qint64> runIds; // every --run, in order (report)
    std::optional<double> targetAccuracy;
    bool json = false;
    bool force = false;
    // dp-calibrate
    std::optional<double> rate, delta, targetEpsilon;
    std::optional<qint64> rounds;
    QString sampling = QStringLiteral("poisson");
    // remote execution and keys
    QString executor = QStringLiteral("local"), bind, key, allow, out,
            keyName = QStringLiteral("coordinator");
    bool insecure = false, stopWorkers = false;
    int minWorkers = 1;
    double taskTimeout = 600, fallbackLocal = -1;
    std::optional<double> heartbeatInterval, heartbeatTimeout; // seconds; unset: the defaults
    std::optional<int> maxMessageMiB;
};

bool parseArgs(const QStringList &argv, Args &a, QString *error) {
    if (argv.size() < 2) {
        *error = QStringLiteral("missing COMMAND");
        return false;
    }
    a.command = argv[1];
    for (qsizetype i = 2; i < argv.size(); ++i) {
        const QString &arg = argv[i];
        auto value = [&](QString &dst) {
            if (i + 1 >= argv.size()) {
                *error = arg + QStringLiteral(" needs a value");
                return false;
            }
            dst = argv[++i];
            return true;
        };
        QString v;
        if (arg == QLatin1String("--set")) {
            if (!value(v)) return false;
            a.sets.append(v);
        } else if (arg.startsWith(QLatin1String("--set="))) {
            a.sets.append(arg.mid(6));
        } else if (arg == QLatin1String("--vary")) {
            if (!value(v)) return false;
            const qsizetype eq = v.indexOf(QLatin1Char('='));
            const QStringList values = v.mid(eq + 1).split(QLatin1Char(','));
            if (eq <= 0 || values.contains(QString())) {
                *error =
                    QStringLiteral("--vary %1: expected KEY=V1,V2,..., e.g. partition.alpha=0.1,1,10").arg(v);
                return false;
            }
            for (const auto &[key, _] : std::as_const(a.varies))
                if (key == v.left(eq).trimmed()) {
                    *error = QStringLiteral("--vary %1: %2 is varied twice").arg(v, key);
                    return false;
                }
            a.varies.append({v.left(eq).trimmed(), values});
        } else if (arg == QLatin1String("--seeds")) {
            if (!value(v)) return false;
            bool ok = false;
            a.seeds = v.toInt(&ok);
            if (!ok || a.seeds < 1 || a.seeds > 1000) {
                *error = QStringLiteral("--seeds %1: out of range; allowed: an integer in [1, 1000]").arg(v);
                return false;
            }
        } else if (arg == QLatin1String("--db")) {
            if (!value(a.db)) return false;
        } else if (arg == QLatin1String("--format")) {
            if (!value(a.format)) return false;
            if (a.format != QLatin1String("json") && a.format != QLatin1String("csv")) {
                *error = QStringLiteral("--format %1: allowed: json, csv").arg(a.format);
                return false;
            }
        } else if (arg == QLatin1String("--output") || arg == QLatin1String("-o") ||
                   arg == QLatin1String("--out")) {
            if (!value(a.output)) return false;
        } else if (arg == QLatin1String("--name")) {
            if (!value(a.name)) return false;
        } else if (arg == QLatin1String("--run")) {
            if (!value(v)) return false;
            bool ok = false;
            a.runId = v.toLongLong(&ok);
            if (!ok || a.runId < 1) {
                *error = QStringLiteral("--run %1: expected a run id (a whole number >= 1)").arg(v);
                return false;
            }
            a.runIds.append(a.runId);
        } else if (arg == QLatin1String("--target-accuracy")) {
            if (!value(v)) return false;
            bool ok = false;
            const double x = v.toDouble(&ok);
            if (!ok || !(x > 0) || x > 1) {
                *error =
                    QStringLiteral("--target-accuracy %1: out of range; allowed: a number in (0, 1]").arg(v);
                return false;
            }
            a.targetAccuracy = x;
        } else if (arg == QLatin1String("--rate") || arg == QLatin1String("--delta") ||
                   arg == QLatin1String("--target-epsilon")) {
            if (!value(v)) return false;
            bool ok = false;
            const double x = v.toDouble(&ok);
            const bool rate = arg == QLatin1String("--rate"), delta = arg == QLatin1String("--delta");
            const bool inRange = rate ? x > 0 && x <= 1 : delta ? x > 0 && x < 1 : x > 0 && std::isfinite(x);
            if (!ok || !inRange) {
                *error = QStringLiteral("%1 %2: out of range; allowed: %3")
                             .arg(arg, v,
                                  rate    ? QStringLiteral("a number in (0, 1]")
                                  : delta ? QStringLiteral("a number in (0, 1)")
                                          : QStringLiteral("a number > 0"));
                return false;
            }
            (rate ? a.rate : delta ? a.delta : a.targetEpsilon) = x;
        } else if (arg == QLatin1String("--rounds")) {
            if (!value(v)) return false;
            bool ok = false;
            const qint64 r = v.toLongLong(&ok);
            if (!ok || r < 1) {
                *error = QStringLiteral("--rounds %1: out of range; allowed: an integer >= 1").arg(v);
                return false;
            }
            a.rounds = r;
        } else if (arg == QLatin1String("--sampling")) {
            if (!value(a.sampling)) return false;
            if (a.sampling != QLatin1String("poisson") && a.sampling != QLatin1String("fixed")) {
                *error = QStringLiteral("--sampling %1: allowed: poisson, fixed").arg(a.sampling);
                return false;
            }
        } else if (arg == QLatin1String("--executor")) {
            if (!value(a.executor)) return false;
            if (a.executor != QLatin1String("local") && a.executor != QLatin1String("remote")) {
                *error = QStringLiteral("--executor %1: allowed: local, remote").arg(a.executor);
                return false;
            }
        } else if (arg == QLatin1String("--bind")) {
            if (!value(a.bind)) return false;
        } else if (arg == QLatin1String("--key")) {
            if (!value(a.key)) return false;
        } else if (arg == QLatin1String("--allow")) {
            if (!value(a.allow)) return false;
        } else if (arg == QLatin1String("--min-workers")) {
            if (!value(v)) return false;
            bool ok = false;
            a.minWorkers = v.toInt(&ok);
            if (!ok || a.minWorkers < 1 || a.minWorkers > 100000) {
                *error = QStringLiteral("--min-workers %1: out of range; allowed: an integer >= 1").arg(v);
                return false;
            }
        } else if (arg == QLatin1String("--task-timeout") || arg == QLatin1String("--heartbeat-timeout") ||
                   arg == QLatin1String("--fallback-local")) {
            if (!value(v)) return false;
            bool ok = false;
            const double x = v.toDouble(&ok);
            const bool fallback = arg == QLatin1String("--fallback-local");
            if (!ok || !std::isfinite(x) || (fallback ? x < 0 : x <= 0) || x > 1e6) {
                *error = QStringLiteral("%1 %2: out of range; allowed: seconds %3")
                             .arg(arg, v, fallback ? ">= 0" : "> 0");
                return false;
            }
            if (arg == QLatin1String("--task-timeout"))
                a.taskTimeout = x;
            else if (fallback)
                a.fallbackLocal = x;
            else
                a.heartbeatTimeout = x;
        } else if (arg == QLatin1String("--heartbeat-interval")) {
            if (!value(v)) return false;
            bool ok = false;
            const double x = v.toDouble(&ok);
            if (!ok || !(x >= 0.05) || x > 60) { // NaN fails the first test
                *error =
                    QStringLiteral("--heartbeat-interval %1: out of range; allowed: seconds in [0.05, 60]")
                        .arg(v);
                return false;
            }
            a.heartbeatInterval = x;
        } else if (arg == QLatin1String("--max-message-mb")) {
            if (!value(v)) return false;
            bool ok = false;
            const int n = v.toInt(&ok);
            if (!ok || n < 1 || n > 2048) {
                *error = QStringLiteral("--max-message-mb %1: out of range; allowed: an integer in [1, 2048] "
                                        "(MiB)")
                             .arg(v);
                return false;
            }
            a.maxMessageMiB = n;
        } else if (arg == QLatin1String("--insecure")) {
            a.insecure = true;
        } else if (arg == QLatin1String("--stop-workers")) {
            a.stopWorkers = true;
        } else if (arg == QLatin1String("--json")) {
            a.json = true;
        } else if (arg == QLatin1String("--force")) {
            a.force = true;
        } else if (arg.startsWith(QLatin1Char('-')) && arg.size() > 1) {
            *error = QStringLiteral("unknown option %1").arg(arg);
            return false;
        } else {
            a.positional.append(arg);
        }
    }
    if (a.db.isEmpty()) a.db = RunStore::defaultPath();
    if ((a.executor != QLatin1String("local") || !a.bind.isEmpty()) && a.command != QLatin1String("run") &&
        a.command != QLatin1String("resume")) {
        *error = QStringLiteral("--executor and --bind are options of run and resume");
        return false;
    }
    const bool takesWorkspace = a.command == QLatin1String("run") || a.command == QLatin1String("validate") ||
                                a.command == QLatin1String("partition") ||
                                a.command == QLatin1String("sweep") || a.command == QLatin1String("keys");
    if (a.command == QLatin1String("keys") && a.name.size()) a.keyName = a.name;
    if (a.positional.size() > (takesWorkspace ? 1 : 0)) {
        *error = QStringLiteral("unexpected argument '%1'").arg(a.positional.value(takesWorkspace ? 1 : 0));
        return false;
    }
    return true;
}

// Reads, overrides and validates a workspace. On failure prints one line per error (stderr) and returns
// nullopt with the lines in *errors; warnings are printed only for a valid workspace.
std::optional<FederationSpec> loadSpec(const Args &a, QStringList *errors = nullptr) {
    QStringList problems;
    auto failed = [&]() -> std::optional<FederationSpec> {
        for (const QString &p : problems)
            err() << p << "\n";
        if (errors) *errors = problems;
        return std::nullopt;
    };
    if (a.positional.isEmpty()) {
        problems << QStringLiteral("fedwb-cli %1: missing WORKSPACE").arg(a.command);
        return failed();
    }
    QString error;
    QList<SpecIssue> readWarnings; // duplicate keys: printed even when the workspace is invalid
    auto raw = FederationSpec::readFile(a.positional.first(), &error, &readWarnings);
    if (!raw) {
        problems << error;
        return failed();
    }
    for (const SpecIssue &w : readWarnings)
        err() << "warning: " << w.text() << "\n";
    for (const QString &s : a.sets) {
        if (!FederationSpec::applyOverride(*raw, s, &error)) {
            problems << error;
            return failed();
        }
    }
    auto parsed = FederationSpec::parse(*raw);
    if (!parsed.ok()) {
        for (const SpecIssue &e : parsed.errors)
            problems << e.text();
        return failed();
    }
    for (const SpecIssue &w : parsed.warnings)
        err() << "warning: " << w.text() << "\n";
    return parsed.spec;
}

// Text from a store or a workspace, safe to print on a terminal: control characters (newlines, escape
// sequences) are shown escaped, so a run name cannot break a table or drive the terminal.
QString printable(const QString &text) {
    QString out;
    out.reserve(text.size());
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u == u'\n')
            out += QLatin1String("\\n");
        else if (u == u'\t')
            out += QLatin1String("\\t");
        else if (u == u'\r')
            out += QLatin1String("\\r");
        else if (u < 0x20 || u == 0x7f || (u >= 0x80 && u < 0xa0))
            out += QStringLiteral("\\x%1").arg(int(u), 2, 16, QLatin1Char('0'));
        else
            out += c;
    }
    return out;
}

void printJson(const QJsonObject &o) {
    out() << QJsonDocument(o).toJson(QJsonDocument::Compact) << "\n";
}

QJsonValue optionalNumber(const std::optional<double> &v) {
    return v ? QJsonValue(*v) : QJsonValue();
}

// Prints progress: a bar redrawn in place on a terminal, one line per round otherwise.
class ProgressPrinter : public RunObserver {
public:
    ProgressPrinter(FILE *stream, bool quiet)
        : m_stream(stream)
        , m_tty(isatty(fileno(stream)) != 0)
        , m_quiet(quiet) {}

    void runStarted(int totalRounds, std::int64_t parameterCount) override {
        m_total = totalRounds;
        m_clock.start();
        if (!m_quiet)
            std::fprintf(m_stream, "model: %lld parameters; %d rounds\n", (long long)parameterCount,
                         totalRounds);
    }
    void message(const QString &text) override {
        if (!m_quiet && !m_tty && !text.startsWith(QLatin1String("evaluating"))) {
            std::fprintf(m_stream, "%s\n", qPrintable(text));
            std::fflush(m_stream); // a line at a time, also into a pipe: nothing is lost when killed
        }
    }
    void clientFinished(int round, int done, int total) override {
        if (m_quiet || !m_tty) return;
        drawBar(round - 1 + double(done) / total,
                QStringLiteral("round %1/%2  client %3/%4").arg(round).arg(m_total).arg(done).arg(total));
    }
    void roundFinished(const RoundMetrics &m) override {
        if (m_quiet) return;
        QString line = m.clientsSelected == 0 // clients.sampling poisson drew nobody
                           ? QStringLiteral("round %1/%2  no client sampled").arg(m.round).arg(m_total)
                           : QStringLiteral("round %1/%2  train_loss %3")
                                 .arg(m.round)
                                 .arg(m_total)
                                 .arg(m.trainLoss, 0, 'f', 4);
        if (m.evaluated && std::isfinite(m.testAccuracy))
            line += QStringLiteral("  test_acc %1  test_loss %2  clients mean %3 worst10 %4 jain %5")
                        .arg(m.testAccuracy, 0, 'f', 4)
                        .arg(m.testLoss, 0, 'f', 4)
                        .arg(m.fairness.mean, 0, 'f', 3)
                        .arg(m.fairness.worst10, 0, 'f', 3)
                        .arg(m.fairness.jain, 0, 'f', 3);
        else if (m.evaluated) // a regression dataset: loss only
            line += QStringLiteral("  test_loss %1").arg(m.testLoss, 0, 'g', 6);
        // Personalized accuracy (run.personalize_steps, FedBN / FedPer / Ditto): the mean over clients.
        double personal = 0;
        int personalCount = 0;
        for (const ClientRoundMetrics &c : m.clients)
            if (c.personalAccuracy) personal += *c.personalAccuracy, ++personalCount;
        if (personalCount > 0)
            line += QStringLiteral("  personalized mean %1").arg(personal / personalCount, 0, 'f', 3);
        if (std::isfinite(m.epsilon)) line += QStringLiteral("  epsilon %1").arg(m.epsilon, 0, 'f', 3);
        if (m.evaluated && std::isfinite(m.asr)) line += QStringLiteral("  asr %1").arg(m.asr, 0, 'f', 4);
        line += QStringLiteral("  %1 s").arg(m.wallSeconds, 0, 'f', 1);
        if (m_tty) std::fprintf(m_stream, "\r\033[K");
        std::fprintf(m_stream, "%s\n", qPrintable(line));
        std::fflush(m_stream);
        if (m_tty) drawBar(m.round, QStringLiteral("round %1/%2").arg(m.round).arg(m_total));
    }
    void runFinished(const RunSummary &) override {
        if (m_tty && !m_quiet) std::fprintf(m_stream, "\r\033[K");
        std::fflush(m_stream);
    }

private:
    void drawBar(double progress, const QString &label) {
        const int width = 30;
        const int filled = m_total > 0 ? int(width * progress / m_total) : 0;
        QString eta;
        if (progress > 0 && progress < m_total)
            eta = QStringLiteral("  ETA %1 s")
                      .arg(double(m_clock.elapsed()) / 1000.0 * (m_total - progress) / progress, 0, 'f', 0);
        std::fprintf(m_stream, "\r\033[K[%s%s] %s%s", QByteArray(filled, '#').constData(),
                     QByteArray(width - filled, '.').constData(), qPrintable(label), qPrintable(eta));
        std::fflush(m_stream);
    }
    FILE *m_stream;
    bool m_tty;
    bool m_quiet;
    int m_total = 0;
    QElapsedTimer m_clock;
};

Run *g_activeRun = nullptr;
extern "C" void onInterrupt(int) {
    if (g_activeRun) g_activeRun->requestStop(); // an atomic store: safe in a signal handler
}

// Ends a command: the message on stderr and, with --json, the one JSON object on stdout.
int finish(const Args &a, int code, const QString &status, const QString &message, QJsonObject o = {}) {
    if (!message.isEmpty()) err() << message << "\n";
    err().flush();
    if (a.json) {
        o.insert(QStringLiteral("status"), status);
        if (!message.isEmpty() && !o.contains(QStringLiteral("message")))
            o.insert(QStringLiteral("message"), message);
        printJson(o);
    }
    out().flush();
    return code;
}

// A run needs a store that outlives the process.
bool refuseMemoryStore(const Args &a, int *code) {
    if (a.db != QLatin1String(":memory:")) return false;
    *code = finish(a, kExitUsage, QStringLiteral("invalid"),
                   QStringLiteral("--db :memory:: a run kept in memory is lost when fedwb-cli exits; give a "
                                  "file (or leave --db out for %1)")
                       .arg(RunStore::defaultPath()));
    return true;
}

// Trains `run` (already set up to start or continue) with its progress printed and every round recorded.
int execute(const Args &a, Run &run, StoreRecorder &recorder, const QString &headline, int resumedFrom) {
    // With --json, stdout carries only the final object; progress goes to stderr.
    ProgressPrinter printer(a.json ? stderr : stdout, false);
    run.addObserver(&recorder); // first: a round is in the store before it is printed
    run.addObserver(&printer);
    g_activeRun = &run;
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
    std::signal(SIGHUP, onInterrupt);
    if (!a.json) {
        out() << headline << "\n";
        out().flush();
    }
    const RunSummary summary = run.exec();
    g_activeRun = nullptr;
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    std::signal(SIGHUP, SIG_DFL);
    // A round the store could not record is lost: say so and fail, even when training went well.
    const bool storeFailed = !recorder.error().isEmpty();
    const bool failed = summary.status == RunStatus::Failed || storeFailed;
    if (storeFailed && summary.message != recorder.error())
        err() << "error: run store " << a.db << ": " << recorder.error() << "\n";
    if (summary.status == RunStatus::Failed) err() << "run failed: " << summary.message << "\n";
    if (summary.status == RunStatus::Diverged || summary.status == RunStatus::BudgetSpent)
        err() << summary.message << "\n";
    if (summary.status == RunStatus::Stopped)
        err() << "stopped after round " << summary.roundsDone << "; continue with: fedwb-cli resume --db "
              << a.db << " --run " << recorder.runId() << "\n";
    err().flush();
    const QString status = failed ? runStatusName(RunStatus::Failed) : runStatusName(summary.status);
    if (a.json) {
        QJsonObject o{{QStringLiteral("run_id"), recorder.runId()},
                      {QStringLiteral("status"), status},
                      {QStringLiteral("rounds"), summary.roundsDone},
                      {QStringLiteral("final_test_accuracy"), optionalNumber(summary.finalTestAccuracy)},
                      {QStringLiteral("final_test_loss"), optionalNumber(summary.finalTestLoss)},
                      {QStringLiteral("wall_seconds"), summary.wallSeconds},
                      {QStringLiteral("db"), a.db},
                      {QStringLiteral("message"), storeFailed ? recorder.error() : summary.message}};
        if (resumedFrom >= 0) o.insert(QStringLiteral("resumed_from_round"), resumedFrom);
        if (summary.epsilon) o.insert(QStringLiteral("epsilon"), *summary.epsilon);
        if (summary.finalAsr) // null when no test image of another class than the target exists
            o.insert(QStringLiteral("final_asr"),
                     std::isfinite(*summary.finalAsr) ? QJsonValue(*summary.finalAsr) : QJsonValue());
        if (summary.status == RunStatus::Diverged)
            o.insert(QStringLiteral("diverged_round"), summary.divergedRound);
        printJson(o);
    } else {
        out() << "run " << recorder.runId() << " " << status << " after " << summary.roundsDone
              << " rounds in " << QString::number(summary.wallSeconds, 'f', 1) << " s";
        if (summary.finalTestAccuracy)
            out() << ": test accuracy " << QString::number(*summary.finalTestAccuracy, 'f', 4)
                  << ", test loss " << QString::number(*summary.finalTestLoss, 'f', 4);
        if (summary.finalAsr && std::isfinite(*summary.finalAsr))
            out() << ", attack success rate " << QString::number(*summary.finalAsr, 'f', 4);
        out() << "\n";
    }
    out().flush();
    if (failed) return summary.inputError && !storeFailed ? kExitUsage : kExitFailed; // data: as validate
    if (summary.status == RunStatus::Stopped) return kExitStopped;
    if (summary.status == RunStatus::Diverged) return kExitDiverged;
    return kExitOk;
}

// Portable mode (run.portable): restarts this program with the pinned kernel settings unless they are in
// effect already. False (and *code) when that is impossible.
char **g_argv = nullptr;
bool portableReady(const Args &a, const FederationSpec &spec, int *code) {
    if (!spec.boolean(QStringLiteral("run.portable"))) return true;
    QString error;
    if (remote::enterPortableMode(g_argv, &error)) return true;
    *code = finish(a, kExitUsage, QStringLiteral("invalid"), QStringLiteral("run.portable: ") + error);
    return false;
}

// --executor remote: binds the coordinator and makes `run` train on its workers. False (and *code) on bad
// options; the pool must outlive the run.
bool setupRemote(const Args &a, Run &run, std::unique_ptr<remote::WorkerPool> &pool, int *code) {
    const auto refuse = [&](const QString &message) {
        *code = finish(a, kExitUsage, QStringLiteral("invalid"), message);
        return false;
    };
    if (a.executor != QLatin1String("remote")) {
        for (const auto &[given, option] : {std::pair{!a.bind.isEmpty(), "--bind"},
                                            {!a.allow.isEmpty(), "--allow"},
                                            {!a.key.isEmpty(), "--key"},
                                            {a.insecure, "--insecure"},
                                            {a.heartbeatInterval.has_value(), "--heartbeat-interval"},
                                            {a.heartbeatTimeout.has_value(), "--heartbeat-timeout"},
                                            {a.maxMessageMiB.has_value(), "--max-message-mb"}})
            if (given)
                return refuse(
                    QStringLiteral("%1 is an option of --executor remote").arg(QLatin1String(option)));
        return true;
    }
    remote::ListenSettings settings;
    settings.bind = a.bind;
    settings.keyFile = a.key;
    settings.allowFile = a.allow;
    settings.insecure = a.insecure;
    settings.force = a.force;
    settings.heartbeatIntervalSeconds = a.heartbeatInterval;
    settings.heartbeatTimeoutSeconds = a.heartbeatTimeout;
    settings.maxMessageMiB = a.maxMessageMiB;
    settings.stopWorkersOnExit = a.stopWorkers;
    remote::Listening listening = remote::listen(settings);
    for (const QString &warning : std::as_const(listening.warnings))
        err() << warning << "\n";
    if (!listening.pool) return refuse(listening.error);
    pool = std::move(listening.pool);
    static std::mutex printing;
    pool->setLogger([](const QString &line) {
        std::lock_guard lock(printing);
        std::fprintf(stderr, "[remote] %s\n", qPrintable(line));
        std::fflush(stderr);
    });
    err() << "coordinator listening on " << pool->endpoint()
          << (pool->encrypted() ? " (CurveZMQ)" : " (plaintext)") << "\n";
    err().flush();
    remote::RemoteOptions ro;
    ro.minWorkers = a.minWorkers;
    ro.taskTimeoutSeconds = a.taskTimeout;
    ro.fallbackAfterSeconds = a.fallbackLocal;
    run.setExecutorFactory(remote::remoteExecutorFactory(*pool, ro));
    return true;
}

int cmdKeys(const Args &a) {
    if (a.positional.value(0) != QLatin1String("generate"))
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("fedwb-cli keys: expected 'keys generate --out DIR'"));
    if (a.output.isEmpty()) // --out DIR (an alias of --output)
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("fedwb-cli keys generate: --out DIR is required"));
    static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9._-]{1,64}$"));
    if (!safe.match(a.keyName).hasMatch() || a.keyName.startsWith(QLatin1Char('.')))
        return finish(
            a, kExitUsage, QStringLiteral("invalid"),
            QStringLiteral("--name %1: allowed: 1-64 letters, digits, '.', '_' or '-'").arg(a.keyName));
    if (!remote::curveAvailable())
        return finish(a, kExitFailed, QStringLiteral("failed"),
                      QStringLiteral("this libzmq has no CURVE support"));
    QString error;
    const remote::CurveKeyPair keys = remote::generateKeyPair();
    if (!remote::writeKeyPair(a.output, a.keyName, keys, &error))
        return finish(a, kExitUsage, QStringLiteral("invalid"), error);
    const QString base = QDir(a.output).filePath(a.keyName);
    if (a.json)
        printJson(QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")},
                              {QStringLiteral("public_key"), QString::fromLatin1(keys.publicKey)},
                              {QStringLiteral("public_file"), QString(base + QStringLiteral(".pub"))},
                              {QStringLiteral("secret_file"), QString(base + QStringLiteral(".key"))}});
    else
        out() << "wrote " << base << ".pub (public: " << keys.publicKey << ") and " << base
              << ".key (private)\n";
    return kExitOk;
}

int cmdRun(const Args &a) {
    QStringList errors;
    auto spec = loadSpec(a, &errors);
    if (!spec) {
        if (a.json)
            printJson({{QStringLiteral("status"), QStringLiteral("invalid")},
                       {QStringLiteral("errors"), QJsonArray::fromStringList(errors)}});
        return kExitUsage;
    }
    if (int code = 0; refuseMemoryStore(a, &code)) return code;
    if (int code = 0; !portableReady(a, *spec, &code)) return code;
    RunStore store(a.db);
    if (!store.isOpen())
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("--db %1: %2").arg(a.db, store.lastError()));
    const QString workspace = QFileInfo(a.positional.first()).absoluteFilePath();
    const QString name = !a.name.isEmpty() ? a.name
                         : !spec->string(QStringLiteral("name")).isEmpty()
                             ? spec->string(QStringLiteral("name"))
                             : QFileInfo(workspace).completeBaseName();
    std::unique_ptr<remote::WorkerPool> pool; // outlives the run's executor
    Run run(*spec);
    if (int code = 0; !setupRemote(a, run, pool, &code)) return code; // before the run is in the store
    StoreRecorder recorder(store, *spec, name, workspace);
    if (recorder.runId() < 0)
        return finish(a, kExitFailed, QStringLiteral("failed"),
                      QStringLiteral("--db %1: %2").arg(a.db, recorder.error()));
    return execute(a, run, recorder,
                   QStringLiteral("run %1 (%2) -> %3").arg(recorder.runId()).arg(printable(name), a.db), -1);
}

int cmdResume(const Args &a) {
    if (a.runId < 1)
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("fedwb-cli resume: --run ID is required"));
    if (int code = 0; refuseMemoryStore(a, &code)) return code;
    if (!QFileInfo(a.db).isFile())
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("--db %1: no such run store").arg(a.db));
    RunStore store(a.db);
    if (!store.isOpen())
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("--db %1: %2").arg(a.db, store.lastError()));
    QString error;
    std::optional<Continuation> c = continuationOf(store, a.runId, a.sets, &error);
    if (!c)
        return finish(a, kExitUsage, QStringLiteral("invalid"), QStringLiteral("--run ") + error,
                      {{QStringLiteral("run_id"), a.runId}});
    if (int code = 0; !portableReady(a, c->spec, &code)) return code;
    std::unique_ptr<remote::WorkerPool> pool; // outlives the run's executor
    Run run(c->spec);
    if (int code = 0; !setupRemote(a, run, pool, &code)) return code;
    if (!c->state.isEmpty() && !run.resumeFrom(c->state, &error))
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("--run %1: cannot continue: %2").arg(a.runId).arg(error),
                      {{QStringLiteral("run_id"), a.runId}});
    StoreRecorder recorder(store, c->spec, a.runId, c->fromRound);
    if (recorder.runId() < 0)
        return finish(a, kExitFailed, QStringLiteral("failed"),
                      QStringLiteral("--db %1: %2").arg(a.db, recorder.error()),
                      {{QStringLiteral("run_id"), a.runId}});
    const QString headline =
        c->fromRound > 0
            ? QStringLiteral("run %1 (%2) continues after round %3 -> %4")
                  .arg(a.runId)
                  .arg(printable(c->name))
                  .arg(c->fromRound)
                  .arg(a.db)
            : QStringLiteral("run %1 (%2) has no checkpoint yet: it starts over from round 1 -> %3")
                  .arg(a.runId)
                  .arg(printable(c->name), a.db);
    return execute(a, run, recorder, headline, c->fromRound);
}

// Mean and sample standard deviation (n - 1; absent below two values) of the finite values.
QJsonObject meanAndStd(const QList<double> &values) {
    QList<double> v;
    for (double x : values)
        if (std::isfinite(x)) v.append(x);
    if (v.isEmpty())
        return {{QStringLiteral("mean"), QJsonValue()},
                {QStringLiteral("std"), QJsonValue()},
                {QStringLiteral("n"), 0}};
    double mean = 0;
    for (double x : v)
        mean += x;
    mean /= double(v.size());
    QJsonValue sd;
    if (v.size() > 1) {
        double ss = 0;
        for (double x : v)
            ss += (x - mean) * (x - mean);
        sd = std::sqrt(ss / double(v.size() - 1));
    }
    return {
        {QStringLiteral("mean"), mean}, {QStringLiteral("std"), sd}, {QStringLiteral("n"), int(v.size())}};
}

QString meanStdText(const QJsonObject &o, int decimals) {
    if (o.value(QStringLiteral("mean")).isNull()) return QStringLiteral("—");
    QString t = QString::number(o.value(QStringLiteral("mean")).toDouble(), 'f', decimals);
    if (!o.value(QStringLiteral("std")).isNull())
        t +=
            QStringLiteral(" ± ") + QString::number(o.value(QStringLiteral("std")).toDouble(), 'f', decimals);
    return t;
}

// fedwb-cli sweep: the grid of --vary values x --seeds training seeds, every run stored with the sweep id.
int cmdSweep(const Args &a) {
    const auto invalid = [&](const QString &message) {
        return finish(a, kExitUsage, QStringLiteral("invalid"), message);
    };
    if (a.positional.isEmpty()) return invalid(QStringLiteral("fedwb-cli sweep: missing WORKSPACE"));
    if (int code = 0; refuseMemoryStore(a, &code)) return code;
    QString error;
    QList<SpecIssue> readWarnings;
    auto raw = FederationSpec::readFile(a.positional.first(), &error, &readWarnings);
    if (!raw) return invalid(error);
    for (const SpecIssue &w : readWarnings)
        err() << "warning: " << w.text() << "\n";
    for (const QString &set : a.sets)
        if (!FederationSpec::applyOverride(*raw, set, &error)) return invalid(error);
    QList<SweepVary> varies;
    for (const auto &[key, values] : a.varies)
        varies.append({key, values});
    // The grid, in order (the first --vary varies slowest); every point validated before anything runs.
    const SweepPlan plan = planSweep(*raw, varies, a.seeds);
    if (!plan.ok())
        return invalid(QStringLiteral("fedwb-cli sweep: ") + (plan.errors.isEmpty()
                                                                  ? QStringLiteral("nothing to run")
                                                                  : plan.errors.join(QStringLiteral("\n"))));
    for (const SpecIssue &w : plan.warnings)
        err() << "warning: " << w.text() << "\n";
    const QList<SweepPoint> &grid = plan.points;
    const QList<SweepJob> &jobs = plan.jobs;

    RunStore store(a.db);
    if (!store.isOpen()) return invalid(QStringLiteral("--db %1: %2").arg(a.db, store.lastError()));
    const QString sweepId = newSweepId();
    const QString workspace = QFileInfo(a.positional.first()).absoluteFilePath();
    const QString baseName = !a.name.isEmpty() ? a.name
                             : !raw->value(QStringLiteral("name")).toString().isEmpty()
                                 ? raw->value(QStringLiteral("name")).toString()
                                 : QFileInfo(workspace).completeBaseName();
    FILE *progress = a.json ? stderr : stdout;
    std::fprintf(progress, "%s: %lld grid point(s) x %d seed(s) = %lld runs -> %s\n", qPrintable(sweepId),
                 (long long)grid.size(), a.seeds, (long long)jobs.size(), qPrintable(a.db));
    std::fflush(progress);

    QList<QList<qint64>> runsOfPoint(grid.size());
    QList<QList<RunStatus>> statusOfPoint(grid.size());
    int code = kExitOk;
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
    std::signal(SIGHUP, onInterrupt);
    for (qsizetype j = 0; j < jobs.size() && code == kExitOk; ++j) {
        const SweepJob &job = jobs[j];
        const QString name = sweepRunName(baseName, grid[job.point], job.spec.seed());
        StoreRecorder recorder(store, job.spec, name, workspace);
        if (recorder.runId() < 0 || !store.setSweep(recorder.runId(), sweepId, grid[job.point].values)) {
            err() << "--db " << a.db << ": " << (recorder.runId() < 0 ? recorder.error() : store.lastError())
                  << "\n";
            code = kExitFailed;
            break;
        }
        Run run(job.spec);
        run.addObserver(&recorder);
        g_activeRun = &run;
        const RunSummary summary = run.exec();
        g_activeRun = nullptr;
        runsOfPoint[job.point].append(recorder.runId());
        statusOfPoint[job.point].append(summary.status);
        std::fprintf(progress, "run %lld/%lld  %s: run %lld %s", (long long)(j + 1), (long long)jobs.size(),
                     qPrintable(printable(name)), (long long)recorder.runId(),
                     qPrintable(runStatusName(summary.status)));
        if (summary.finalTestAccuracy)
            std::fprintf(progress, ", test accuracy %.4f", *summary.finalTestAccuracy);
        std::fprintf(progress, " (%.1f s)\n", summary.wallSeconds);
        std::fflush(progress);
        if (!recorder.error().isEmpty()) {
            err() << "error: run store " << a.db << ": " << recorder.error() << "\n";
            code = kExitFailed;
        } else if (summary.status == RunStatus::Stopped) {
            code = kExitStopped;
        } else if (summary.status == RunStatus::Failed) {
            err() << "run failed: " << summary.message << "\n";
            if (summary.inputError) code = kExitUsage; // the data: every other point would fail the same way
        }
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    std::signal(SIGHUP, SIG_DFL);

    // The statistics come from what the store holds, as anyone reading it later would compute them.
    QJsonArray points;
    for (qsizetype i = 0; i < grid.size(); ++i) {
        QList<double> accuracy, worst10, wall;
        QJsonArray statuses;
        for (qsizetype k = 0; k < runsOfPoint[i].size(); ++k) {
            const qint64 id = runsOfPoint[i][k];
            const std::optional<StoredRun> r = store.run(id);
            statuses.append(runStatusName(statusOfPoint[i][k]));
            if (!r) continue;
            accuracy.append(r->finalTestAccuracy.value_or(std::nan("")));
            wall.append(r->wallSeconds);
            double w = std::nan("");
            for (const RoundMetrics &m : store.rounds(id))
                if (m.evaluated) w = m.fairness.worst10; // the last evaluated round's
            worst10.append(w);
        }
        QJsonArray ids;
        for (qint64 id : runsOfPoint[i])
            ids.append(id);
        points.append(QJsonObject{{QStringLiteral("values"), grid[i].values},
                                  {QStringLiteral("runs"), ids},
                                  {QStringLiteral("statuses"), statuses},
                                  {QStringLiteral("final_accuracy"), meanAndStd(accuracy)},
                                  {QStringLiteral("worst10"), meanAndStd(worst10)},
                                  {QStringLiteral("wall_seconds"), meanAndStd(wall)}});
    }
    QJsonArray keys;
    for (const auto &[key, _] : a.varies)
        keys.append(key);
    const QString status = code == kExitOk        ? QStringLiteral("finished")
                           : code == kExitStopped ? QStringLiteral("stopped")
                                                  : QStringLiteral("failed");
    if (a.json) {
        printJson({{QStringLiteral("status"), status},
                   {QStringLiteral("sweep_id"), sweepId},
                   {QStringLiteral("db"), a.db},
                   {QStringLiteral("keys"), keys},
                   {QStringLiteral("seeds"), a.seeds},
                   {QStringLiteral("points"), points}});
    } else {
        QStringList header;
        for (const auto &[key, _] : a.varies)
            header << key;
        header << QStringLiteral("runs") << QStringLiteral("final accuracy") << QStringLiteral("worst-10%")
               << QStringLiteral("wall s");
        QList<QStringList> rows;
        for (const QJsonValue &pv : std::as_const(points)) {
            const QJsonObject p = pv.toObject();
            QStringList row;
            for (const auto &[key, _] : a.varies) {
                const QJsonValue v = p.value(QStringLiteral("values")).toObject().value(key);
                row << printable(
                    v.isString()
                        ? v.toString()
                        : QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact))
                              .mid(1)
                              .chopped(1));
            }
            row << QString::number(p.value(QStringLiteral("runs")).toArray().size())
                << meanStdText(p.value(QStringLiteral("final_accuracy")).toObject(), 4)
                << meanStdText(p.value(QStringLiteral("worst10")).toObject(), 4)
                << meanStdText(p.value(QStringLiteral("wall_seconds")).toObject(), 2);
            rows.append(row);
        }
        QList<qsizetype> width;
        for (const QString &h : header)
            width.append(h.size());
        for (const QStringList &row : rows)
            for (qsizetype c = 0; c < row.size(); ++c)
                width[c] = std::max(width[c], row[c].size());
        const auto line = [&](const QStringList &cells) {
            QStringList padded;
            for (qsizetype c = 0; c < cells.size(); ++c)
                padded << cells[c].leftJustified(width[c]);
            out() << padded.join(QStringLiteral("  ")).trimmed() << "\n";
        };
        out() << "sweep " << sweepId << " " << status << " (mean ± std over the seeds)\n";
        line(header);
        for (const QStringList &row : rows)
            line(row);
    }
    out().flush();
    return code;
}

int cmdValidate(const Args &a) {
    auto spec = loadSpec(a);
    if (!spec) return kExitUsage;
    // Beyond the schema: the data must be readable and the partition possible.
    try {
        const PartitionSummary p = summarizePartition(*spec);
        out() << a.positional.first() << ": valid (" << p.clients.size() << " clients over " << p.trainPool
              << " samples of " << p.dataset << ")\n";
        if (const auto planned = privacy::plannedPrivacy(*spec))
            out() << "privacy: " << planned->text() << "\n";
    } catch (const std::exception &e) {
        err() << e.what() << "\n";
        return kExitUsage;
    }
    return kExitOk;
}

int cmdPartition(const Args &a) {
    auto spec = loadSpec(a);
    if (!spec) return kExitUsage;
    PartitionSummary p;
    try {
        p = summarizePartition(*spec);
    } catch (const std::exception &e) {
        err() << e.what() << "\n";
        return kExitUsage;
    }
    if (a.json) {
        QJsonArray clients;
        for (const ClientSummary &c : p.clients) {
            QJsonArray h;
            for (auto v : c.labelHistogram)
                h.append(qint64(v));
            clients.append(QJsonObject{{QStringLiteral("id"), c.id},
                                       {QStringLiteral("group"), c.group},
                                       {QStringLiteral("train_samples"), qint64(c.trainSamples)},
                                       {QStringLiteral("test_samples"), qint64(c.testSamples)},
                                       {QStringLiteral("label_histogram"), h}});
        }
        out() << QJsonDocument(QJsonObject{{QStringLiteral("dataset"), p.dataset},
                                           {QStringLiteral("num_classes"), p.numClasses},
                                           {QStringLiteral("train_pool"), qint64(p.trainPool)},
                                           {QStringLiteral("test_set"), qint64(p.testSet)},
                                           {QStringLiteral("clients"), clients}})
                     .toJson(QJsonDocument::Compact)
              << "\n";
        return kExitOk;
    }
    out() << "dataset " << p.dataset << ": " << p.trainPool << " training samples over " << p.clients.size()
          << " clients, " << p.testSet << " test samples\n";
    std::int64_t assigned = 0;
    for (const ClientSummary &c : p.clients)
        assigned += c.trainSamples + c.testSamples;
    if (assigned < p.trainPool)
        out() << "note: " << (p.trainPool - assigned) << " samples are unused (classes no client holds)\n";
    out() << QStringLiteral("%1 %2 %3  labels")
                 .arg(QStringLiteral("client"), 6)
                 .arg(QStringLiteral("train"), 7)
                 .arg(QStringLiteral("test"), 6);
    for (int k = 0; k < p.numClasses; ++k)
        out() << QStringLiteral("%1").arg(k, 6);
    // The group column only when the workspace has groups of its own.
    const bool grouped = std::any_of(p.clients.begin(), p.clients.end(), [&](const ClientSummary &c) {
        return c.group != p.clients.front().group;
    });
    out() << (grouped ? "  group\n" : "\n");
    for (const ClientSummary &c : p.clients) {
        out() << QStringLiteral("%1 %2 %3  ").arg(c.id, 6).arg(c.trainSamples, 7).arg(c.testSamples, 6)
              << "      ";
        for (auto v : c.labelHistogram)
            out() << QStringLiteral("%1").arg(v, 6);
        if (grouped) out() << "  " << c.group;
        out() << "\n";
    }
    return kExitOk;
}

// Opens a store for reading only: works in a read-only folder and never changes the file.
std::unique_ptr<RunStore> openForReading(const Args &a, int *code) {
    if (!QFileInfo(a.db).isFile()) { // read-only commands never create a store where a path was mistyped
        *code = finish(a, kExitUsage, QStringLiteral("invalid"),
                       QStringLiteral("--db %1: no such run store").arg(a.db));
        return nullptr;
    }
    auto store = std::make_unique<RunStore>(a.db, RunStore::Access::ReadOnly);
    if (!store->isOpen()) {
        *code = finish(a, kExitUsage, QStringLiteral("invalid"),
                       QStringLiteral("--db %1: %2").arg(a.db, store->lastError()));
        return nullptr;
    }
    return store;
}

int cmdRuns(const Args &a) {
    int code = 0;
    const auto store = openForReading(a, &code);
    if (!store) return code;
    const auto runs = store->runs();
    if (!store->lastError().isEmpty())
        return finish(a, kExitFailed, QStringLiteral("failed"),
                      QStringLiteral("--db %1: %2").arg(a.db, store->lastError()));
    if (a.json) {
        QJsonArray list;
        for (const StoredRun &r : runs) {
            const QList<int> checkpoints = store->checkpointRounds(r.id);
            list.append(QJsonObject{
                {QStringLiteral("run_id"), r.id},
                {QStringLiteral("name"), r.name},
                {QStringLiteral("workspace"), r.workspace},
                {QStringLiteral("status"), runStatusName(r.status)},
                {QStringLiteral("rounds_done"), r.roundsDone},
                {QStringLiteral("rounds"), r.roundsPlanned},
                {QStringLiteral("checkpoint_round"),
                 checkpoints.isEmpty() ? QJsonValue() : checkpoints.last()},
                {QStringLiteral("final_test_accuracy"), optionalNumber(r.finalTestAccuracy)},
                {QStringLiteral("final_test_loss"), optionalNumber(r.finalTestLoss)},
                {QStringLiteral("started_at"), r.startedAt.toString(Qt::ISODateWithMs)},
                {QStringLiteral("ended_at"),
                 r.endedAt.isValid() ? QJsonValue(r.endedAt.toString(Qt::ISODateWithMs)) : QJsonValue()},
                {QStringLiteral("wall_seconds"), r.wallSeconds},
                {QStringLiteral("message"), r.message},
                {QStringLiteral("tags"), QJsonArray::fromStringList(r.tags)},
                {QStringLiteral("sweep_id"), r.sweepId},
                {QStringLiteral("sweep_point"), r.sweepPoint}});
        }
        out() << QJsonDocument(list).toJson(QJsonDocument::Compact) << "\n";
        out().flush();
        return kExitOk;
    }
    out() << QStringLiteral("%1  %2  %3  %4  %5  %6\n")
                 .arg(QStringLiteral("id"), 5)
                 .arg(QStringLiteral("status"), -11)
                 .arg(QStringLiteral("rounds"), 9)
                 .arg(QStringLiteral("accuracy"), 8)
                 .arg(QStringLiteral("started (UTC)"), -19)
                 .arg(QStringLiteral("name"));
    for (const StoredRun &r : runs)
        out() << QStringLiteral("%1  %2  %3  %4  %5  %6\n")
                     .arg(r.id, 5)
                     .arg(runStatusName(r.status), -11)
                     .arg(QStringLiteral("%1/%2").arg(r.roundsDone).arg(r.roundsPlanned), 9)
                     .arg(r.finalTestAccuracy ? QString::number(*r.finalTestAccuracy, 'f', 4)
                                              : QStringLiteral("-"),
                          8)
                     .arg(r.startedAt.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")), -19)
                     .arg(printable(r.name));
    out().flush();
    return kExitOk;
}

// True for the store itself (or its -wal/-shm files) and for any SQLite database: exporting over one would
// destroy it.
bool isDatabaseFile(const QString &output, const QString &db) {
    const QString target = QFileInfo(output).canonicalFilePath();
    const QString store = QFileInfo(db).canonicalFilePath();
    if (!target.isEmpty() && !store.isEmpty() &&
        (target == store || target == store + QLatin1String("-wal") ||
         target == store + QLatin1String("-shm")))
        return true;
    QFile f(output);
    if (!QFileInfo(output).isFile() || !f.open(QIODevice::ReadOnly)) return false;
    return f.read(16) == QByteArray("SQLite format 3\0", 16);
}

// Writes all of `bytes` to `path` or fails: a regular file through a temporary file and a rename (never a
// truncated file), a device or pipe (/dev/stdout) directly with every write checked.
bool writeWhole(const QString &path, const QByteArray &bytes, QString *error) {
    const QFileInfo info(path);
    if (info.exists() && !info.isFile()) {
        if (info.isDir()) {
            *error = QStringLiteral("is a folder");
            return false;
        }
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Unbuffered) || f.write(bytes) != bytes.size()) {
            *error = f.errorString();
            return false;
        }
        f.close();
        if (f.error() != QFileDevice::NoError) {
            *error = f.errorString();
            return false;
        }
        return true;
    }
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit()) {
        *error = f.errorString();
        f.cancelWriting();
        return false;
    }
    return true;
}

bool writeStdout(const QByteArray &bytes, QString *error) {
    out().flush();
    if (std::fwrite(bytes.constData(), 1, std::size_t(bytes.size()), stdout) != std::size_t(bytes.size()) ||
        std::fflush(stdout) != 0) {
        *error = QString::fromLocal8Bit(std::strerror(errno));
        return false;
    }
    return true;
}

int cmdExport(const Args &a) {
    if (a.runId < 1)
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("fedwb-cli export: --run ID is required"));
    if (!a.output.isEmpty() && !a.force && isDatabaseFile(a.output, a.db))
        return finish(
            a, kExitUsage, QStringLiteral("invalid"),
            QStringLiteral("--output %1: is %2; exporting would overwrite it (--force to do so anyway)")
                .arg(a.output, QFileInfo(a.output).canonicalFilePath() == QFileInfo(a.db).canonicalFilePath()
                                   ? QStringLiteral("the run store itself")
                                   : QStringLiteral("a SQLite database")));
    int code = 0;
    const auto store = openForReading(a, &code);
    if (!store) return code;
    if (!store->run(a.runId)) {
        if (!store->lastError().isEmpty())
            return finish(a, kExitFailed, QStringLiteral("failed"),
                          QStringLiteral("--db %1: %2").arg(a.db, store->lastError()));
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("--run %1: no such run in %2").arg(a.runId).arg(a.db));
    }
    const QByteArray text = a.format == QLatin1String("csv")
                                ? store->exportCsv(a.runId).toUtf8()
                                : QJsonDocument(store->exportJson(a.runId)).toJson(QJsonDocument::Indented);
    if (!store->lastError().isEmpty())
        return finish(a, kExitFailed, QStringLiteral("failed"),
                      QStringLiteral("--db %1: %2").arg(a.db, store->lastError()));
    QString error;
    if (a.output.isEmpty()) {
        if (!writeStdout(text, &error)) {
            err() << "stdout: " << error << "\n";
            return kExitFailed;
        }
        return kExitOk;
    }
    if (!writeWhole(a.output, text, &error)) {
        err() << "--output " << a.output << ": " << error << "\n";
        return kExitFailed;
    }
    return kExitOk;
}

int cmdReport(const Args &a) {
    if (a.runIds.isEmpty())
        return finish(
            a, kExitUsage, QStringLiteral("invalid"),
            QStringLiteral("fedwb-cli report: give the runs to compare with --run ID (one or more)"));
    if (a.output.isEmpty())
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("fedwb-cli report: --output FILE is required (the HTML report)"));
    if (!a.force && isDatabaseFile(a.output, a.db))
        return finish(
            a, kExitUsage, QStringLiteral("invalid"),
            QStringLiteral("--output %1: is a SQLite database; writing the report would overwrite it "
                           "(--force to do so anyway)")
                .arg(a.output));
    int code = 0;
    const auto store = openForReading(a, &code);
    if (!store) return code;
    QList<ReportRun> runs;
    for (qint64 id : a.runIds) {
        std::optional<StoredRun> r = store->run(id);
        if (!r) {
            if (!store->lastError().isEmpty())
                return finish(a, kExitFailed, QStringLiteral("failed"),
                              QStringLiteral("--db %1: %2").arg(a.db, store->lastError()));
            return finish(a, kExitUsage, QStringLiteral("invalid"),
                          QStringLiteral("--run %1: no such run in %2").arg(id).arg(a.db));
        }
        runs.append({*r, store->rounds(id)});
        if (!store->lastError().isEmpty())
            return finish(a, kExitFailed, QStringLiteral("failed"),
                          QStringLiteral("--db %1: %2").arg(a.db, store->lastError()));
    }
    QString error;
    if (!writeWhole(a.output, comparisonReportHtml(runs, a.targetAccuracy.value_or(0)).toUtf8(), &error)) {
        err() << "--output " << a.output << ": " << error << "\n";
        return kExitFailed;
    }
    if (!a.json) out() << "report of " << runs.size() << " run(s) -> " << a.output << "\n";
    return finish(a, kExitOk, QStringLiteral("written"), {}, {{QStringLiteral("output"), a.output}});
}

int cmdSchema(const Args &a) {
    if (a.json)
        out() << QJsonDocument(Registry::global().toJson()).toJson(QJsonDocument::Indented);
    else
        out() << Registry::global().toText();
    return kExitOk;
}

// The noise multiplier for a privacy budget: the RDP accountant (engine/privacy/Accountant.h), by bisection.
int cmdDpCalibrate(const Args &a) {
    const char *missing = !a.rate            ? "--rate"
                          : !a.rounds        ? "--rounds"
                          : !a.delta         ? "--delta"
                          : !a.targetEpsilon ? "--target-epsilon"
                                             : nullptr;
    if (missing)
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("fedwb-cli dp-calibrate: missing %1").arg(QLatin1String(missing)));
    privacy::Sampling sampling = privacy::Sampling::Poisson;
    privacy::samplingFromName(a.sampling.toStdString(), &sampling);
    privacy::Calibration c;
    try {
        c = privacy::calibrateNoise(*a.rate, *a.rounds, *a.delta, *a.targetEpsilon, sampling);
    } catch (const std::invalid_argument &e) { // the only input left to refuse: an unreachable target
        return finish(a, kExitUsage, QStringLiteral("invalid"),
                      QStringLiteral("--target-epsilon: ") + QString::fromUtf8(e.what()));
    }
    if (a.json) {
        printJson({{QStringLiteral("noise_multiplier"), c.noiseMultiplier},
                   {QStringLiteral("epsilon"), c.epsilon},
                   {QStringLiteral("delta"), *a.delta},
                   {QStringLiteral("rate"), *a.rate},
                   {QStringLiteral("rounds"), *a.rounds},
                   {QStringLiteral("sampling"), a.sampling},
                   {QStringLiteral("order"), c.order}});
    } else {
        out() << "noise multiplier " << QString::number(c.noiseMultiplier, 'f', 4) << " reaches epsilon "
              << QString::number(c.epsilon, 'g', 6) << " at delta " << *a.delta << " (rate " << *a.rate
              << ", " << *a.rounds << " rounds, " << a.sampling << " sampling; optimal RDP order " << c.order
              << ")\n";
    }
    return kExitOk;
}

} // namespace

int main(int argc, char **argv) {
    g_argv = argv;
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("fedwb-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(FEDWB_VERSION));
    registerBuiltins();
    const QStringList argv_ = QCoreApplication::arguments();
    if (argv_.size() >= 2 && (argv_[1] == QLatin1String("--help") || argv_[1] == QLatin1String("-h") ||
                              argv_[1] == QLatin1String("help"))) {
        out() << kUsage << RunStore::defaultPath() << "\n";
        return kExitOk;
    }
    if (argv_.size() >= 2 && argv_[1] == QLatin1String("--version")) {
        out() << "fedwb-cli " << FEDWB_VERSION << "\n";
        return kExitOk;
    }
    Args a;
    QString error;
    if (!parseArgs(argv_, a, &error)) {
        err() << "fedwb-cli: " << error << "\n" << kUsage << RunStore::defaultPath() << "\n";
        if (argv_.contains(QLatin1String("--json"))) // --json promises an object on every exit
            printJson({{QStringLiteral("status"), QStringLiteral("invalid")},
                       {QStringLiteral("message"), QString(QStringLiteral("fedwb-cli: ") + error)}});
        return kExitUsage;
    }
    if (a.command == QLatin1String("run")) return cmdRun(a);
    if (a.command == QLatin1String("resume")) return cmdResume(a);
    if (a.command == QLatin1String("validate")) return cmdValidate(a);
    if (a.command == QLatin1String("sweep")) return cmdSweep(a);
    if (a.command == QLatin1String("report")) return cmdReport(a);
    if (a.command == QLatin1String("partition")) return cmdPartition(a);
    if (a.command == QLatin1String("runs")) return cmdRuns(a);
    if (a.command == QLatin1String("export")) return cmdExport(a);
    if (a.command == QLatin1String("schema")) return cmdSchema(a);
    if (a.command == QLatin1String("dp-calibrate")) return cmdDpCalibrate(a);
    if (a.command == QLatin1String("keys")) return cmdKeys(a);
    err() << "fedwb-cli: unknown command '" << a.command << "'\n"
          << kUsage << RunStore::defaultPath() << "\n";
    return kExitUsage;
}
