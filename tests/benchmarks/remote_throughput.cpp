// remote_throughput: remote execution against the local executor on the same work, side by side in one
// process. (1) Serialization: a task message carrying a LeNet-5 model and one carrying 16 M parameters,
// encoded and decoded (remote::encode / decode / ClientTask::fromCbor), in GB/s of model bytes. (2) The round
// loop on quickstart rounds (5 clients of LeNet-5 a round): local with run.threads 2, then a coordinator on
// tcp://127.0.0.1 with two fedwb workers of one thread each (in this process, the same engine code), best of
// three each, alternated; the ratio of the training time per client (round time minus evaluation) and the
// final models compared bitwise. (3) With --portable-cost: the local run in portable mode (a child process
// started with the pinned environment) against the default kernels.
#include "remote/Portable.h"
#include "remote/Protocol.h"
#include "remote/WorkerNode.h"
#include "remote/WorkerPool.h"
#include "run/Run.h"
#include "spec/Registry.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>

#include <algorithm>
#include <cstdio>
#include <thread>

using namespace fedwb;

namespace {

FederationSpec quickstart(int rounds) {
    QString error;
    auto raw =
        FederationSpec::readFile(QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb"), &error);
    if (!raw) qFatal("%s", qPrintable(error));
    for (const QString &s : {QStringLiteral("run.rounds=%1").arg(rounds), QStringLiteral("run.threads=2"),
                             QStringLiteral("run.eval_every=1000")})
        FederationSpec::applyOverride(*raw, s, &error);
    auto parsed = FederationSpec::parse(*raw);
    if (!parsed.ok()) qFatal("%s", qPrintable(parsed.errorText()));
    return *parsed.spec;
}

struct Timing : RunObserver {
    double trainSeconds = 0; // the rounds' time before evaluation (the last round evaluates)
    int clients = 0;
    QByteArray model;
    QElapsedTimer round;
    void roundStarted(int, int selected) override {
        clients += selected;
        round.start();
    }
    void message(const QString &text) override {
        if (text.startsWith(QLatin1String("evaluating"))) trainSeconds += double(round.nsecsElapsed()) * 1e-9;
    }
    void roundFinished(const RoundMetrics &m) override {
        if (!m.evaluated) trainSeconds += double(round.nsecsElapsed()) * 1e-9;
    }
    void finalModel(const QByteArray &flat, std::int64_t) override { model = flat; }
};

Timing runOnce(const FederationSpec &spec, remote::WorkerPool *pool) {
    Run run(spec);
    Timing t;
    run.addObserver(&t);
    if (pool)
        run.setExecutorFactory([pool](const ExecutorSetup &s) -> std::unique_ptr<Executor> {
            return std::make_unique<remote::RemoteExecutor>(*pool, s, remote::RemoteOptions{2, 600, -1});
        });
    const RunSummary s = run.exec();
    if (s.status != RunStatus::Finished) qFatal("run: %s", qPrintable(s.message));
    return t;
}

void serialization(std::int64_t parameters) {
    ClientTask task;
    task.round = 1;
    task.clientId = 0;
    task.model = QByteArray(qsizetype(parameters * 4), '\x11');
    const int reps = parameters > 1000000 ? 5 : 200;
    double encodeS = 1e30, decodeS = 1e30;
    for (int k = 0; k < 3; ++k) {
        QElapsedTimer t;
        t.start();
        QByteArray bytes;
        for (int i = 0; i < reps; ++i)
            bytes = remote::encode(remote::MessageType::Task, {{QStringLiteral("run"), 1},
                                                               {QStringLiteral("id"), QStringLiteral("r1c0")},
                                                               {QStringLiteral("task"), task.toCbor()}});
        encodeS = std::min(encodeS, double(t.nsecsElapsed()) * 1e-9 / reps);
        t.start();
        for (int i = 0; i < reps; ++i) {
            const remote::Decoded d = remote::decode(bytes);
            const auto back = ClientTask::fromCbor(d.message->fields.value(QStringLiteral("task")).toMap());
            if (!back || back->model.size() != task.model.size()) qFatal("round trip failed");
        }
        decodeS = std::min(decodeS, double(t.nsecsElapsed()) * 1e-9 / reps);
    }
    const double gb = double(task.model.size()) * 1e-9;
    std::printf("serialization, %lld parameters (%.1f MB): encode %.2f GB/s, decode + check %.2f GB/s\n",
                (long long)parameters, gb * 1e3, gb / encodeS, gb / decodeS);
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    registerBuiltins();
    const QStringList args = app.arguments();
    if (args.contains(QStringLiteral("--local-child"))) { // one local run; prints its training seconds
        const Timing t = runOnce(quickstart(3), nullptr);
        std::printf("%.6f %s\n", t.trainSeconds / t.clients,
                    qPrintable(remote::currentKernelSettings().describe()));
        return 0;
    }
    serialization(61706); // LeNet-5
    serialization(16 * 1000 * 1000);

    remote::PoolOptions options;
    options.bind = QStringLiteral("tcp://127.0.0.1:*");
    remote::WorkerPool pool(options);
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int i = 0; i < 2; ++i)
        workers.emplace_back([&, i] {
            remote::WorkerOptions w;
            w.connect = pool.endpoint();
            w.threads = 1;
            w.name = QStringLiteral("bench-%1").arg(i + 1);
            remote::runWorker(w, stop, [](const QString &) {});
        });
    const FederationSpec spec = quickstart(3);
    double local = 1e30, remoteBest = 1e30;
    QByteArray localModel, remoteModel;
    for (int k = 0; k < 3; ++k) {
        const Timing l = runOnce(spec, nullptr);
        local = std::min(local, l.trainSeconds / l.clients);
        localModel = l.model;
        const Timing r = runOnce(spec, &pool);
        remoteBest = std::min(remoteBest, r.trainSeconds / r.clients);
        remoteModel = r.model;
    }
    std::printf("training time per client (3 quickstart rounds, 5 clients each, best of 3):\n"
                "  local executor, run.threads 2:        %.4f s\n"
                "  2 loopback workers of 1 thread each:  %.4f s\n"
                "  remote / local: %.3f (target <= 1.10); final models %s\n",
                local, remoteBest, remoteBest / local,
                remoteModel == localModel ? "bitwise equal" : "DIFFER");
    stop.store(true);
    for (auto &w : workers)
        w.join();

    if (args.contains(QStringLiteral("--portable-cost"))) {
        const auto child = [&](bool portable) {
            QProcess p;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            if (portable) {
                env.insert(QStringLiteral("ATEN_CPU_CAPABILITY"), QStringLiteral("avx2"));
                env.insert(QStringLiteral("OPENBLAS_CORETYPE"), QStringLiteral("Haswell"));
                env.insert(QStringLiteral("OPENBLAS_NUM_THREADS"), QStringLiteral("1"));
            }
            p.setProcessEnvironment(env);
            p.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--local-child")});
            p.waitForFinished(-1);
            return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
        };
        double plain = 1e30, pinned = 1e30;
        QString plainKernel, pinnedKernel;
        for (int k = 0; k < 3; ++k) {
            const QString a = child(false), b = child(true);
            plain = std::min(plain, a.section(QLatin1Char(' '), 0, 0).toDouble());
            pinned = std::min(pinned, b.section(QLatin1Char(' '), 0, 0).toDouble());
            plainKernel = a.section(QLatin1Char(' '), 1);
            pinnedKernel = b.section(QLatin1Char(' '), 1);
        }
        std::printf("portable mode (local, run.threads 2, best of 3 processes each):\n"
                    "  default (%s): %.4f s per client\n  portable (%s): %.4f s per client\n"
                    "  portable / default: %.3f\n",
                    qPrintable(plainKernel), plain, qPrintable(pinnedKernel), pinned, pinned / plain);
    }
    return 0;
}
