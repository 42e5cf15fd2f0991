// The coordinator's side of remote execution. A WorkerPool binds one ZeroMQ ROUTER socket and serves it from
// its own thread: workers register, heartbeat both ways, get the run (workspace and data digests) and client
// tasks, and return results. A RemoteExecutor is the Executor of one run on a pool: it ships the round's
// ClientTasks, deals them out by measured throughput, re-dispatches the tasks of a worker that died or timed
// out, ignores late duplicates (task ids are idempotent) and, with no worker left, waits with a visible
// message (or falls back to this machine). Torch-free and zmq-free header.
#pragma once

#include "remote/Keys.h"
#include "remote/Protocol.h"
#include "run/Run.h"

#include <QJsonObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace fedwb::remote {

struct PoolOptions {
    QString bind;                      // e.g. tcp://0.0.0.0:5555 (tcp://127.0.0.1:* picks a free port)
    std::optional<CurveKeyPair> curve; // the coordinator's key pair: CURVE encryption + ZAP allow-list
    QSet<QByteArray> allow;            // Z85 public keys of the workers that may connect (with curve)
    int heartbeatMs = 1000;            // both ways
    int heartbeatTimeoutMs = 6000;     // a worker silent this long is gone: its tasks go to others
    std::int64_t maxMessageBytes = kDefaultMaxMessageBytes;
    bool stopWorkersOnExit = false; // tell every worker to exit when the pool closes
};

// One connected worker, as the workers panel shows it.
struct WorkerInfo {
    QString name;
    QString state; // joined, preparing, ready, refused; of a departed worker: left, lost
    QString note;  // why it was refused, or its last problem (of a departed worker: why it is gone)
    QString device, build;
    QString address;       // where it connected from (the peer's IP address; empty when unknown)
    QString kernel;        // its kernel settings (KernelSettings::describe)
    bool portable = false; // its kernel settings are portable mode's (fedwb-worker --portable)
    int threads = 0;
    double heartbeatAgeSeconds = 0; // since its last message (of a departed worker: still growing)
    int inFlight = 0;
    int tasksDone = 0;
    double tasksPerSecond = 0; // measured: 0 until its first result
};

// The pool at one moment, read under its lock (any thread; the pool's thread keeps running).
struct PoolSnapshot {
    std::vector<WorkerInfo> workers;  // connected, by name
    std::vector<WorkerInfo> departed; // the most recent workers that left or were lost, newest first
    int readyWorkers = 0;
    bool bound = false; // a run's RemoteExecutor uses the pool
};

class RemoteExecutor;

class WorkerPool {
public:
    // Binds; throws std::runtime_error naming the address when it cannot.
    explicit WorkerPool(PoolOptions options);
    ~WorkerPool();
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;

    QString endpoint() const; // as bound (a wildcard port resolved)
    std::vector<WorkerInfo> workers() const;
    int readyWorkers() const;
    PoolSnapshot snapshot() const; // workers, departed ones and whether a run uses the pool, at once
    bool encrypted() const;        // CurveZMQ (the options had a key pair)
    // Pool events (worker joined, left, refused; bad messages): called on the pool's thread.
    void setLogger(std::function<void(const QString &)> log);

    struct Impl;

private:
    friend class RemoteExecutor;
    std::unique_ptr<Impl> d;
};

struct RemoteOptions {
    int minWorkers = 1;               // the first round waits until this many workers are ready
    double taskTimeoutSeconds = 600;  // a task without a result this long is dealt out again
    double fallbackAfterSeconds = -1; // with no worker ready this long, train on this machine; < 0: wait
};

class RemoteExecutor : public Executor {
public:
    // Binds the run to the pool: every worker gets the workspace and the digests and prepares its data;
    // returns when minWorkers are ready (or the run is stopped), with a message on the way.
    RemoteExecutor(WorkerPool &pool, const ExecutorSetup &setup, RemoteOptions options);
    ~RemoteExecutor() override;

    void run(const std::vector<ClientTask> &tasks, const Sink &sink) override;
    void cancel() override;
    QString describe() const override;

private:
    WorkerPool &m_pool;
    RemoteOptions m_options;
    Executor &m_local;
    const std::atomic<bool> &m_stop;
    std::function<void(const QString &)> m_message;
    std::atomic<bool> m_cancelled{false};
    void waitForWorkers();
};

} // namespace fedwb::remote
