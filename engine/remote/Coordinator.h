// Setting up the coordinator's side of remote execution, the same for fedwb-cli (--executor remote) and the
// GUI's workers panel: the listening options checked and read (the security rules, the key pair and the
// allow-list), the pool bound, and the executor factory a Run trains its clients with. Torch-free and
// zmq-free header.
#pragma once

#include "remote/WorkerPool.h"
#include "run/Run.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace fedwb::remote {

// Where and how the coordinator listens: fedwb-cli's --bind, --key, --allow, --insecure, --force,
// --heartbeat-interval, --heartbeat-timeout, --max-message-mb and --stop-workers.
struct ListenSettings {
    QString bind;          // e.g. tcp://0.0.0.0:5555 (tcp://127.0.0.1:* picks a free port)
    QString keyFile;       // this coordinator's key pair (.key); given together with allowFile
    QString allowFile;     // the public keys of the workers it accepts
    bool insecure = false; // plaintext without keys (loopback only unless `force`)
    bool force = false;
    // Unset: the pool's defaults (the interval 1 s, or a third of a shorter timeout).
    std::optional<double> heartbeatIntervalSeconds, heartbeatTimeoutSeconds;
    std::optional<int> maxMessageMiB;
    bool stopWorkersOnExit = false;
};

struct Listening {
    std::unique_ptr<WorkerPool> pool; // null when the settings were refused or the address is unusable
    QString error;                    // why not (names the option), when pool is null
    QStringList warnings;             // plaintext, an empty allow-list ("warning: ...")
    QByteArray publicKey;             // the coordinator's Z85 public key (empty for plaintext)
};

// Checks the settings (securityProblem, keys and allow-list read) and binds the pool.
Listening listen(const ListenSettings &settings);

// A Run's executor factory for training on `pool`, which must outlive the run.
ExecutorFactory remoteExecutorFactory(WorkerPool &pool, RemoteOptions options);

// The .pub file next to a .key file (DIR/NAME.key -> DIR/NAME.pub), when it exists; else empty.
QString publicKeyFileOf(const QString &keyFile);

} // namespace fedwb::remote
