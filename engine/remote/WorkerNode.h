// fedwb-worker's engine: connects to a coordinator (DEALER socket), registers, rebuilds the run's data from
// the workspace it is sent (checking the dataset and partition digests), trains the client tasks it is given
// with the code the local executor uses, and returns the results; reconnects with backoff when the
// coordinator is lost. Torch-free and zmq-free header.
#pragma once

#include "remote/Keys.h"
#include "remote/Protocol.h"

#include <QString>

#include <atomic>
#include <functional>
#include <optional>

namespace fedwb::remote {

struct WorkerOptions {
    QString connect;                   // tcp://HOST:PORT
    std::optional<CurveKeyPair> curve; // the worker's key pair (with serverKey: CURVE)
    QByteArray serverKey;              // the coordinator's public key (Z85)
    int threads = 1;
    QString name;
    QString datasetPath; // replaces the workspace's dataset.path (data in another folder on this machine)
    int coordinatorTimeoutMs = 10000; // no word from the coordinator this long: reconnect
    int maxBackoffMs = 30000;
    std::int64_t maxMessageBytes = kDefaultMaxMessageBytes;
};

// Exit codes of runWorker (and fedwb-worker).
inline constexpr int kWorkerStopped = 0;  // SIGINT/SIGTERM or told to stop by the coordinator
inline constexpr int kWorkerRejected = 2; // the coordinator refused its key or its protocol version

// Serves coordinators until `stop` is set or it is told to stop. `log` gets one line per event (any thread).
int runWorker(const WorkerOptions &options, const std::atomic<bool> &stop,
              const std::function<void(const QString &)> &log);

} // namespace fedwb::remote
