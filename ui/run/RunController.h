// Drives one fedwb::Run at a time on a worker thread and reports it back as queued signals.
#pragma once

#include "remote/WorkerPool.h"
#include "run/RunTypes.h"
#include "spec/FederationSpec.h"

#include <QMutex>
#include <QObject>
#include <QString>

#include <memory>

class QThread;

namespace fedwb {

class Run;

class RunController : public QObject {
    Q_OBJECT

public:
    explicit RunController(QObject *parent = nullptr);
    ~RunController() override; // stops a run in progress and joins the worker thread

    // Starts `spec` on the worker thread, recorded into the store at `dbPath` (opened on that thread).
    // Returns false when a run is already in progress.
    // With `sweepId`, the run is recorded as a run of that sweep at `sweepPoint` and named `name`.
    bool start(const fedwb::FederationSpec &spec, const QString &workspacePath, const QString &dbPath,
               const QString &name = {}, const QString &sweepId = {}, const QJsonObject &sweepPoint = {});
    // Continues stored run `runId` of the store at `dbPath` from its last checkpoint (continuationOf): the
    // rounds after it are computed again, bitwise as they would have been. A run that cannot be continued
    // ends at once: finished() with status Failed and the reason. False when a run is already in progress.
    bool resume(qint64 runId, const QString &dbPath);
    // Asks the run to stop after the client currently training; finished() follows with status Stopped.
    void stop();
    bool isRunning() const { return m_running; }
    // Where the runs started from now on train their clients: on the workers of `pool` (kept alive while a
    // run uses it), as fedwb-cli run --executor remote does; a null pool: on this machine.
    void setRemoteExecution(std::shared_ptr<remote::WorkerPool> pool, const remote::RemoteOptions &options);
    bool isRemote() const { return m_pool != nullptr; }
    // Whether the run in progress trains on workers.
    bool runIsRemote() const { return m_running && m_runRemote; }
    // The store id of the current (or last) run; -1 before the run row exists or when recording failed.
    qint64 runId() const { return m_runId; }

Q_SIGNALS:
    // All signals are emitted on the controller's thread.
    void started(qint64 runId, int totalRounds);
    void roundFinished(const fedwb::RoundMetrics &metrics);
    void progress(int round, int totalRounds, int clientsDone, int clientsTotal);
    void message(const QString &text);
    // The remote executor's own messages ("waiting for 2 workers on ..."); also sent as message().
    void executorMessage(const QString &text);
    void finished(const fedwb::RunSummary &summary, qint64 runId);

private:
    class Forwarder;
    friend class Forwarder;

    // What the worker thread runs: a new run of `spec`, or (resumeRunId >= 0) the continuation of a stored
    // one.
    struct Job {
        fedwb::FederationSpec spec;
        QString workspacePath, dbPath;
        qint64 resumeRunId = -1;
        QString name, sweepId;
        QJsonObject sweepPoint;
        std::shared_ptr<remote::WorkerPool> pool; // remote execution; null: this machine
        remote::RemoteOptions remoteOptions;
    };
    bool launch(Job job);
    void work(const Job &job);
    void postProgress(int round, int totalRounds, int clientsDone, int clientsTotal);

    QThread *m_thread = nullptr;
    bool m_running = false;
    bool m_runRemote = false;
    qint64 m_runId = -1;
    std::shared_ptr<remote::WorkerPool> m_pool;
    remote::RemoteOptions m_remoteOptions;

    // Shared with the worker thread.
    QMutex m_mutex;
    fedwb::Run *m_run = nullptr;
    bool m_stopRequested = false;
    struct PendingProgress {
        int round = 0, totalRounds = 0, clientsDone = 0, clientsTotal = 0;
        bool posted = false;
    } m_progress;
};

} // namespace fedwb
