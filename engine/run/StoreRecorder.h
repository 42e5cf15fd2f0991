// A RunObserver that records a run into a RunStore: the run row at start, one transaction per round, the
// final model and the final status. Used by the CLI and the GUI alike. A write that fails ends the run at
// once (RunAborted): training never carries on into rounds that cannot be kept.
#pragma once

#include "run/Run.h"
#include "store/RunStore.h"

#include <optional>

namespace fedwb {

// What continuing a stored run needs: its workspace (with the overrides applied), the newest checkpoint and
// its round. `state` is empty when the run has no checkpoint yet: it then starts over from round 1, which
// gives the same result.
struct Continuation {
    qint64 runId = -1;
    QString name, workspace;
    FederationSpec spec;
    QByteArray state;
    int fromRound = 0;
};

// Reads run `runId` of `store` for `fedwb-cli resume` and the GUI's Resume. `overrides` are KEY=VALUE
// assignments (run.rounds may grow, run.threads change; anything that changes the result is refused by
// Run::resumeFrom). nullopt and *error (naming the run and why) when it cannot be continued: no such run,
// still running, already finished, or a workspace that no longer validates.
std::optional<Continuation> continuationOf(RunStore &store, qint64 runId, const QStringList &overrides,
                                           QString *error);

class StoreRecorder : public RunObserver {
public:
    // Creates the run row immediately; runId() is -1 (and error() set) when that failed.
    StoreRecorder(RunStore &store, const FederationSpec &spec, const QString &name, const QString &workspace);
    // Continues the stored run `runId` after round `fromRound` (RunStore::continueRun); runId() is -1 (and
    // error() set) when that failed. Wall times go on from the recorded ones.
    StoreRecorder(RunStore &store, const FederationSpec &spec, qint64 runId, int fromRound);

    qint64 runId() const { return m_runId; }
    QString error() const { return m_error; }

    void environment(const RunEnvironment &where) override;
    void roundFinished(const RoundMetrics &metrics) override;
    void finalModel(const QByteArray &flatParameters, std::int64_t parameterCount) override;
    void runFinished(const RunSummary &summary) override;

private:
    [[noreturn]] void abort();

    RunStore &m_store;
    qint64 m_runId = -1;
    int m_lastRound = 0;
    int m_checkpointsKept = 2;
    double m_wallOffset = 0; // seconds already spent before a continuation
    QString m_error;
};

} // namespace fedwb
