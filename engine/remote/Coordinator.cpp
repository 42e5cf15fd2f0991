#include "remote/Coordinator.h"

#include "remote/Keys.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fedwb::remote {

Listening listen(const ListenSettings &settings) {
    Listening out;
    const auto refuse = [&](const QString &message) {
        out.error = message;
        return std::move(out);
    };
    if (settings.bind.isEmpty())
        return refuse(QStringLiteral("--executor remote needs --bind ENDPOINT (e.g. tcp://0.0.0.0:5555)"));
    PoolOptions options;
    options.bind = settings.bind;
    // The interval defaults to 1 s, or a third of a shorter timeout; a timeout shorter than two intervals
    // would lose a worker over one late heartbeat.
    const double timeout = settings.heartbeatTimeoutSeconds.value_or(options.heartbeatTimeoutMs / 1000.0);
    const double interval = settings.heartbeatIntervalSeconds.value_or(
        std::max(0.05, std::min(options.heartbeatMs / 1000.0, timeout / 3)));
    if (timeout < 2 * interval && !settings.heartbeatTimeoutSeconds)
        return refuse(
            QStringLiteral("--heartbeat-interval %1: too long for the default --heartbeat-timeout of %2 s; "
                           "allowed: at most half of it (%3 s), or give a longer --heartbeat-timeout")
                .arg(interval)
                .arg(timeout)
                .arg(timeout / 2));
    if (timeout < 2 * interval)
        return refuse(QStringLiteral("--heartbeat-timeout %1: too short for a heartbeat every %2 s; allowed: "
                                     "at least twice --heartbeat-interval (%3 s or more)")
                          .arg(timeout)
                          .arg(interval)
                          .arg(2 * interval));
    options.heartbeatMs = int(std::lround(interval * 1000));
    options.heartbeatTimeoutMs = int(std::lround(std::min(timeout, 1e6) * 1000));
    if (settings.maxMessageMiB) options.maxMessageBytes = std::int64_t(*settings.maxMessageMiB) << 20;
    options.stopWorkersOnExit = settings.stopWorkersOnExit;
    const bool keys = !settings.keyFile.isEmpty();
    if (keys != !settings.allowFile.isEmpty())
        return refuse(!keys ? QStringLiteral("--allow needs --key FILE (this coordinator's key pair)")
                            : QStringLiteral("--key needs --allow FILE (the public keys of the workers)"));
    QString warning;
    if (const QString problem = securityProblem(settings.bind, keys, settings.insecure, settings.force,
                                                QStringLiteral("--bind"), &warning);
        !problem.isEmpty())
        return refuse(problem);
    if (!warning.isEmpty()) out.warnings.append(warning);
    if (keys) {
        if (!curveAvailable()) return refuse(QStringLiteral("--key: this libzmq has no CURVE support"));
        QString error;
        options.curve = readKeyPair(settings.keyFile, &error);
        if (!options.curve) return refuse(QStringLiteral("--key ") + error);
        const auto allow = readAllowList(settings.allowFile, &error);
        if (!allow) return refuse(QStringLiteral("--allow ") + error);
        if (allow->isEmpty())
            out.warnings.append(QStringLiteral("warning: --allow %1 lists no key: no worker can connect")
                                    .arg(settings.allowFile));
        options.allow = *allow;
        out.publicKey = options.curve->publicKey;
    }
    try {
        out.pool = std::make_unique<WorkerPool>(options);
    } catch (const std::exception &e) {
        out.publicKey.clear();
        return refuse(QString::fromStdString(e.what()));
    }
    return out;
}

ExecutorFactory remoteExecutorFactory(WorkerPool &pool, RemoteOptions options) {
    WorkerPool *p = &pool;
    return [p, options](const ExecutorSetup &setup) -> std::unique_ptr<Executor> {
        return std::make_unique<RemoteExecutor>(*p, setup, options);
    };
}

QString publicKeyFileOf(const QString &keyFile) {
    const QFileInfo key(keyFile);
    if (key.suffix() != QLatin1String("key")) return {};
    const QString pub = key.dir().filePath(key.completeBaseName() + QStringLiteral(".pub"));
    return QFileInfo(pub).isFile() ? pub : QString();
}

} // namespace fedwb::remote
