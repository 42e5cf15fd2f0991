// Drives one fedwb::Run at a time on a worker thread and reports it back as queued signals.
#pragma once

#include "run/RunTypes.h"
#include "spec/FederationSpec.h"

#include <QMutex>
#include <QObject>
#include <QString>

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
    // The store id of the current (or last) run; -1 before the run row exists or when recording failed.
    qint64 runId() const { return m_runId; }

Q_SIGNALS:
    // All signals are emitted on the controller's thread.
    void started(qint64 runId, int totalRounds);
    void roundFinished(const fedwb::RoundMetrics &metrics);
    void progress(int round, int totalRounds, int clientsDone, int clientsTotal);
    void message(const QString &text);
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
    };
    bool launch(Job job);
    void work(const Job &job);
    void postProgress(int round, int totalRounds, int clientsDone, int clientsTotal);

    QThread *m_thread = nullptr;
    bool m_running = false;
    qint64 m_runId = -1;

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
