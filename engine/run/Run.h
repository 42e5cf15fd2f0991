// One federated run: select clients -> train them -> aggregate -> evaluate, round after round.
// The GUI, the CLI and (later) the worker drive this same class. Public header: torch-free.
#pragma once

#include "run/Executor.h"
#include "run/RunTypes.h"
#include "spec/FederationSpec.h"

#include <QByteArray>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>

namespace fedwb {

// Thrown by an observer that cannot do its job (a run store that cannot record a round: disk full, read-only,
// damaged): the run ends at once as Failed with this message; nothing after it is trained.
class RunAborted : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Called from the thread that runs exec(). Implementations must not block for long. Any of them but
// runFinished may throw RunAborted.
class RunObserver {
public:
    virtual ~RunObserver() = default;
    virtual void runStarted(int /*totalRounds*/, std::int64_t /*parameterCount*/) {}
    virtual void environment(const RunEnvironment & /*where*/) {} // right after runStarted
    virtual void roundStarted(int /*round*/, int /*selectedClients*/) {}
    virtual void clientFinished(int /*round*/, int /*clientsDone*/, int /*clientsTotal*/) {}
    virtual void roundFinished(const RoundMetrics & /*metrics*/) {}
    // Final global parameters (little-endian float32, flat) right before runFinished.
    virtual void finalModel(const QByteArray & /*flatParameters*/, std::int64_t /*parameterCount*/) {}
    virtual void runFinished(const RunSummary & /*summary*/) {}
    virtual void message(const QString & /*text*/) {} // phases and warnings, e.g. "loading dataset"
};

// Where a run's clients train when not on this machine's thread pool (the remote executor). The factory is
// called once the data is prepared, on the thread that runs exec().
struct ExecutorSetup {
    const FederationSpec &spec;
    QString datasetDigest;   // of the data as loaded here: a worker must hold the same
    QString partitionDigest; // of the client shards
    std::int64_t parameterCount = 0;
    Executor &local;                              // this machine's executor (a fallback; it also evaluates)
    const std::atomic<bool> &stop;                // set by requestStop()
    std::function<void(const QString &)> message; // to the run's observers; call on the exec() thread
};
using ExecutorFactory = std::function<std::unique_ptr<Executor>(const ExecutorSetup &)>;

class Run {
public:
    explicit Run(FederationSpec spec);
    ~Run();
    Run(const Run &) = delete;
    Run &operator=(const Run &) = delete;

    const FederationSpec &spec() const;
    void addObserver(RunObserver *observer); // not owned; add before exec()
    // Trains the clients on the executor the factory makes (default: this machine's); before exec().
    void setExecutorFactory(ExecutorFactory factory);

    // Continue from a RunState (RoundMetrics::checkpoint of an earlier run of the same spec) instead of
    // starting at round 1; call before exec(). False (and *error) for a state that does not fit this spec.
    // A run continued from round k ends bitwise equal to one that was never interrupted.
    bool resumeFrom(const QByteArray &runState, QString *error = nullptr);

    // This machine and build, as recorded with each run.
    static RunEnvironment environment(int threads);

    // Runs every round; blocks. Errors (missing data, impossible partition) end the run as Failed with a
    // message naming the workspace key; they never throw out of exec(). A NaN or infinite loss or parameter
    // ends it as Diverged: the rounds before stay, the final model is the last finite one.
    RunSummary exec();

    // Thread-safe: training stops at the next mini-batch, the unfinished round is discarded, and the run
    // reports Stopped with the rounds completed so far.
    void requestStop();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace fedwb
