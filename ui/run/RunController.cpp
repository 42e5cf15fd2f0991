#include "run/RunController.h"

#include "remote/Coordinator.h"
#include "run/Run.h"
#include "run/StoreRecorder.h"
#include "store/RunStore.h"

#include <QFileInfo>
#include <QMetaObject>
#include <QMutexLocker>
#include <QThread>

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>

namespace fedwb {

// Runs on the worker thread: turns observer callbacks into events posted to the controller's thread.
class RunController::Forwarder : public RunObserver {
public:
    explicit Forwarder(RunController *controller)
        : m_controller(controller) {}

    void runStarted(int totalRounds, std::int64_t /*parameterCount*/) override {
        m_totalRounds = totalRounds;
    }
    void roundStarted(int round, int selectedClients) override {
        m_controller->postProgress(round, m_totalRounds, 0, selectedClients);
    }
    void clientFinished(int round, int clientsDone, int clientsTotal) override {
        m_controller->postProgress(round, m_totalRounds, clientsDone, clientsTotal);
    }
    void roundFinished(const RoundMetrics &metrics) override {
        RunController *c = m_controller;
        QMetaObject::invokeMethod(
            c, [c, metrics] { Q_EMIT c->roundFinished(metrics); }, Qt::QueuedConnection);
    }
    void message(const QString &text) override {
        RunController *c = m_controller;
        QMetaObject::invokeMethod(
            c, [c, text] { Q_EMIT c->message(text); }, Qt::QueuedConnection);
    }
    void setTotalRounds(int rounds) { m_totalRounds = rounds; }

private:
    RunController *m_controller;
    int m_totalRounds = 0;
};

RunController::RunController(QObject *parent)
    : QObject(parent) {
    qRegisterMetaType<fedwb::RoundMetrics>();
    qRegisterMetaType<fedwb::RunSummary>();
}

RunController::~RunController() {
    stop();
    if (m_thread) {
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
    }
}

void RunController::setRemoteExecution(std::shared_ptr<remote::WorkerPool> pool,
                                       const remote::RemoteOptions &options) {
    m_pool = std::move(pool);
    m_remoteOptions = options;
}

bool RunController::start(const FederationSpec &spec, const QString &workspacePath, const QString &dbPath,
                          const QString &name, const QString &sweepId, const QJsonObject &sweepPoint) {
    return launch(Job{spec, workspacePath, dbPath, -1, name, sweepId, sweepPoint, {}, {}});
}

bool RunController::resume(qint64 runId, const QString &dbPath) {
    return launch(Job{FederationSpec(), QString(), dbPath, runId, {}, {}, {}, {}, {}});
}

bool RunController::launch(Job job) {
    if (m_running) return false;
    if (m_thread) { // a finished thread whose completion event has not been handled yet
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
    }
    {
        QMutexLocker lock(&m_mutex);
        m_stopRequested = false;
        m_progress = {};
    }
    m_running = true;
    m_runId = -1;
    job.pool = m_pool;
    job.remoteOptions = m_remoteOptions;
    m_runRemote = job.pool != nullptr;
    m_thread = QThread::create([this, job = std::move(job)] { work(job); });
    m_thread->setObjectName(QStringLiteral("fedwb-run"));
    m_thread->start();
    return true;
}

void RunController::stop() {
    QMutexLocker lock(&m_mutex);
    m_stopRequested = true;
    if (m_run) m_run->requestStop();
}

void RunController::postProgress(int round, int totalRounds, int clientsDone, int clientsTotal) {
    QMutexLocker lock(&m_mutex);
    m_progress.round = round;
    m_progress.totalRounds = totalRounds;
    m_progress.clientsDone = clientsDone;
    m_progress.clientsTotal = clientsTotal;
    if (m_progress.posted) return; // coalesce: many fast clients cost one queued event
    m_progress.posted = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            PendingProgress p;
            {
                QMutexLocker l(&m_mutex);
                p = m_progress;
                m_progress.posted = false;
            }
            Q_EMIT progress(p.round, p.totalRounds, p.clientsDone, p.clientsTotal);
        },
        Qt::QueuedConnection);
}

// The worker thread's body. The store, the recorder and the run are created, used and destroyed here.
void RunController::work(const Job &job) {
    RunSummary summary;
    qint64 runId = -1;
    const auto post = [this](auto fn) {
        QMetaObject::invokeMethod(this, std::move(fn), Qt::QueuedConnection);
    };
    {
        RunStore store(job.dbPath);
        std::optional<StoreRecorder> recorder;
        Forwarder forwarder(this);
        std::unique_ptr<Run> run;
        try {
            if (job.resumeRunId >= 0) { // a continuation is recorded or not run at all
                QString error;
                std::optional<Continuation> c;
                if (!store.isOpen())
                    error = tr("Cannot open the run store %1: %2").arg(job.dbPath, store.lastError());
                else
                    c = continuationOf(store, job.resumeRunId, {}, &error);
                if (c) {
                    run = std::make_unique<Run>(c->spec);
                    if (!c->state.isEmpty() && !run->resumeFrom(c->state, &error)) run.reset();
                }
                if (run) {
                    recorder.emplace(store, c->spec, job.resumeRunId, c->fromRound);
                    runId = recorder->runId();
                    if (runId < 0) {
                        error = recorder->error();
                        run.reset();
                    }
                }
                if (!run)
                    throw std::runtime_error(
                        tr("Cannot resume run #%1: %2").arg(job.resumeRunId).arg(error).toStdString());
            } else {
                QString name = job.name;
                if (name.isEmpty())
                    name = job.spec.string(QStringLiteral("name")); // the workspace's own name
                if (name.isEmpty()) name = QFileInfo(job.workspacePath).completeBaseName();
                // A run that cannot be recorded is not started: its results would be lost.
                if (!store.isOpen())
                    throw std::runtime_error(tr("Cannot open the run store %1: %2. The run was not started.")
                                                 .arg(job.dbPath, store.lastError())
                                                 .toStdString());
                recorder.emplace(store, job.spec, name, job.workspacePath);
                runId = recorder->runId();
                if (runId < 0)
                    throw std::runtime_error(tr("Cannot record the run: %1. The run was not started.")
                                                 .arg(recorder->error())
                                                 .toStdString());
                if (!job.sweepId.isEmpty() && !store.setSweep(runId, job.sweepId, job.sweepPoint))
                    throw std::runtime_error(
                        tr("Cannot record the run's sweep: %1").arg(store.lastError()).toStdString());
                run = std::make_unique<Run>(job.spec);
            }
            if (job.pool) { // as fedwb-cli run --executor remote, its messages also to executorMessage()
                ExecutorFactory onWorkers = remote::remoteExecutorFactory(*job.pool, job.remoteOptions);
                run->setExecutorFactory([this, onWorkers](const ExecutorSetup &setup) {
                    const ExecutorSetup own{setup.spec,
                                            setup.datasetDigest,
                                            setup.partitionDigest,
                                            setup.parameterCount,
                                            setup.local,
                                            setup.stop,
                                            [this, forward = setup.message](const QString &text) {
                                                forward(text);
                                                QMetaObject::invokeMethod(
                                                    this, [this, text] { Q_EMIT executorMessage(text); },
                                                    Qt::QueuedConnection);
                                            }};
                    return onWorkers(own);
                });
            }
            const int totalRounds = run->spec().rounds();
            forwarder.setTotalRounds(totalRounds);
            // The recorder first, so a round is in the store by the time the GUI hears about it.
            if (runId >= 0) run->addObserver(&*recorder);
            run->addObserver(&forwarder);
            post([this, runId, totalRounds] {
                m_runId = runId;
                Q_EMIT started(runId, totalRounds);
            });
            {
                QMutexLocker lock(&m_mutex);
                m_run = run.get();
                if (m_stopRequested) m_run->requestStop();
            }
            summary = run->exec();
            if (runId >= 0 && !recorder->error().isEmpty()) { // trained, but the store did not take it all
                summary.message = tr("The run store could not record everything: %1").arg(recorder->error());
                summary.status = RunStatus::Failed;
            }
        } catch (const std::exception &e) {
            summary.status = RunStatus::Failed;
            summary.message = QString::fromUtf8(e.what());
            if (runId >= 0) recorder->runFinished(summary);
        }
        {
            QMutexLocker lock(&m_mutex);
            m_run = nullptr;
        }
    }
    post([this, summary, runId] {
        if (m_thread) { // the thread body ends right after this post
            m_thread->wait();
            delete m_thread;
            m_thread = nullptr;
        }
        m_running = false;
        m_runId = runId;
        Q_EMIT finished(summary, runId);
    });
}

} // namespace fedwb
