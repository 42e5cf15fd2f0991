// A RunObserver that records a run into a RunStore: the run row at start, one transaction per round, the
// final model and the final status. Used by the CLI and the GUI alike.
#pragma once

#include "run/Run.h"
#include "store/RunStore.h"

namespace fedwb {

class StoreRecorder : public RunObserver {
public:
    // Creates the run row immediately; runId() is -1 (and error() set) when that failed.
    StoreRecorder(RunStore &store, const FederationSpec &spec, const QString &name, const QString &workspace);

    qint64 runId() const { return m_runId; }
    QString error() const { return m_error; }

    void environment(const RunEnvironment &where) override;
    void roundFinished(const RoundMetrics &metrics) override;
    void finalModel(const QByteArray &flatParameters, std::int64_t parameterCount) override;
    void runFinished(const RunSummary &summary) override;

private:
    RunStore &m_store;
    qint64 m_runId = -1;
    int m_lastRound = 0;
    int m_checkpointsKept = 2;
    QString m_error;
};

} // namespace fedwb
