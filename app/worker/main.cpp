// fedwb-worker: trains the client tasks a coordinator (fedwb-cli run --executor remote, or the GUI) sends.
// Argument parsing only; the worker itself is remote/WorkerNode.
#include "remote/Keys.h"
#include "remote/Portable.h"
#include "remote/WorkerNode.h"
#include "spec/Registry.h"

#include <QCoreApplication>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

using namespace fedwb;

namespace {

constexpr int kExitUsage = 2;

const char *kUsage = R"(usage: fedwb-worker --connect tcp://HOST:PORT [options]

  --connect ENDPOINT   the coordinator (fedwb-cli run --executor remote --bind ...)
  --server-key FILE    the coordinator's public key (its .pub file from fedwb-cli keys generate)
  --key FILE           this worker's key pair (.key); its .pub goes on the coordinator's --allow list
  --insecure           plaintext without keys: loopback only, unless --force is given too
  --threads N          clients trained in parallel (default: one per core)
  --name NAME          shown by the coordinator (default: HOST-PID)
  --dataset-path DIR   read the dataset from DIR instead of the workspace's dataset.path
  --portable           pin the CPU kernels (ATen AVX2, OpenBLAS Haswell, one intra-op thread) so that
                       every x86-64 machine with AVX2 computes the same bits (for run.portable)
  --coordinator-timeout S  reconnect after S seconds without a word from the coordinator (default 10;
                       at least three of the coordinator's heartbeat intervals)
  --max-message-mb N   the largest message taken, in MiB (1-2048, default 256): a run whose model does
                       not fit is refused with a message on both sides

Runs until SIGINT/SIGTERM or until the coordinator tells it to stop; a lost coordinator makes it reconnect
with backoff. Exit codes: 0 stopped, 2 invalid options or refused by the coordinator.
)";

std::atomic<bool> g_stop{false};
extern "C" void onSignal(int) {
    g_stop.store(true);
}

void logLine(const QString &text) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&now));
    std::fprintf(stderr, "%s fedwb-worker: %s\n", stamp, qPrintable(text));
    std::fflush(stderr);
}

int usage(const QString &error) {
    std::fprintf(stderr, "fedwb-worker: %s\n%s", qPrintable(error), kUsage);
    return kExitUsage;
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("fedwb-worker"));
    QCoreApplication::setApplicationVersion(QStringLiteral(FEDWB_VERSION));
    const QStringList args = QCoreApplication::arguments();
    remote::WorkerOptions o;
    o.threads = int(std::max(1u, std::thread::hardware_concurrency()));
    QString serverKey, key;
    bool insecure = false, force = false, portable = false;
    for (qsizetype i = 1; i < args.size(); ++i) {
        const QString &arg = args[i];
        auto value = [&](QString &dst) {
            if (i + 1 >= args.size()) return false;
            dst = args[++i];
            return true;
        };
        QString v;
        if (arg == QLatin1String("--help") || arg == QLatin1String("-h")) {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg == QLatin1String("--version")) {
            std::printf("fedwb-worker %s\n", FEDWB_VERSION);
            return 0;
        } else if (arg == QLatin1String("--connect")) {
            if (!value(o.connect)) return usage(arg + QStringLiteral(" needs a value"));
        } else if (arg == QLatin1String("--server-key")) {
            if (!value(serverKey)) return usage(arg + QStringLiteral(" needs a value"));
        } else if (arg == QLatin1String("--key")) {
            if (!value(key)) return usage(arg + QStringLiteral(" needs a value"));
        } else if (arg == QLatin1String("--name")) {
            if (!value(o.name)) return usage(arg + QStringLiteral(" needs a value"));
        } else if (arg == QLatin1String("--dataset-path")) {
            if (!value(o.datasetPath)) return usage(arg + QStringLiteral(" needs a value"));
        } else if (arg == QLatin1String("--threads")) {
            bool ok = false;
            if (!value(v)) return usage(arg + QStringLiteral(" needs a value"));
            o.threads = v.toInt(&ok);
            if (!ok || o.threads < 1 || o.threads > 256)
                return usage(QStringLiteral("--threads %1: out of range; allowed: 1-256").arg(v));
        } else if (arg == QLatin1String("--coordinator-timeout")) {
            bool ok = false;
            if (!value(v)) return usage(arg + QStringLiteral(" needs a value"));
            const double s = v.toDouble(&ok);
            if (!ok || !(s >= 0.5) || s > 3600)
                return usage(
                    QStringLiteral("--coordinator-timeout %1: out of range; allowed: 0.5-3600 seconds")
                        .arg(v));
            o.coordinatorTimeoutMs = int(s * 1000);
        } else if (arg == QLatin1String("--max-message-mb")) {
            bool ok = false;
            if (!value(v)) return usage(arg + QStringLiteral(" needs a value"));
            const int n = v.toInt(&ok);
            if (!ok || n < 1 || n > 2048)
                return usage(QStringLiteral(
                                 "--max-message-mb %1: out of range; allowed: an integer in [1, 2048] (MiB)")
                                 .arg(v));
            o.maxMessageBytes = std::int64_t(n) << 20;
        } else if (arg == QLatin1String("--insecure")) {
            insecure = true;
        } else if (arg == QLatin1String("--force")) {
            force = true;
        } else if (arg == QLatin1String("--portable")) {
            portable = true;
        } else {
            return usage(QStringLiteral("unknown option %1").arg(arg));
        }
    }
    if (o.connect.isEmpty()) return usage(QStringLiteral("--connect ENDPOINT is required"));
    if (serverKey.isEmpty() != key.isEmpty())
        return usage(serverKey.isEmpty()
                         ? QStringLiteral("--key needs --server-key FILE (the coordinator's .pub)")
                         : QStringLiteral("--server-key needs --key FILE (this worker's key pair)"));
    QString warning;
    if (const QString problem = remote::securityProblem(o.connect, !key.isEmpty(), insecure, force,
                                                        QStringLiteral("--connect"), &warning);
        !problem.isEmpty())
        return usage(problem);
    if (!warning.isEmpty()) logLine(warning);
    QString error;
    if (!key.isEmpty()) {
        if (!remote::curveAvailable())
            return usage(QStringLiteral("--key: this libzmq has no CURVE support"));
        o.curve = remote::readKeyPair(key, &error);
        if (!o.curve) return usage(QStringLiteral("--key ") + error);
        const auto server = remote::readPublicKey(serverKey, &error);
        if (!server) return usage(QStringLiteral("--server-key ") + error);
        o.serverKey = *server;
    }
    if (portable && !remote::enterPortableMode(argv, &error))
        return usage(QStringLiteral("--portable: ") + error);
    registerBuiltins();
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    const int code = remote::runWorker(o, g_stop, logLine);
    logLine(code == remote::kWorkerStopped ? QStringLiteral("stopped") : QStringLiteral("exiting (refused)"));
    return code;
}
