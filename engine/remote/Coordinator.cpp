#include "remote/Coordinator.h"

#include "remote/Keys.h"

#include <QDir>
#include <QFileInfo>

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
    options.heartbeatTimeoutMs = int(settings.heartbeatTimeoutSeconds * 1000);
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
