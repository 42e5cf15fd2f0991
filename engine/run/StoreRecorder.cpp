#include "run/StoreRecorder.h"

namespace fedwb {

StoreRecorder::StoreRecorder(RunStore &store, const FederationSpec &spec, const QString &name,
                             const QString &workspace)
    : m_store(store) {
    m_runId = m_store.createRun(name, workspace, spec.json(), spec.seed(), spec.rounds());
    if (m_runId < 0) m_error = m_store.lastError();
    m_checkpointsKept = int(spec.integer(QStringLiteral("run.checkpoints_kept")));
}

void StoreRecorder::environment(const RunEnvironment &where) {
    if (m_runId < 0) return;
    if (!m_store.setEnvironment(m_runId, where.toJson())) m_error = m_store.lastError();
}

void StoreRecorder::roundFinished(const RoundMetrics &metrics) {
    if (m_runId < 0) return;
    m_lastRound = metrics.round;
    if (!m_store.recordRound(m_runId, metrics, m_checkpointsKept)) m_error = m_store.lastError();
}

void StoreRecorder::finalModel(const QByteArray &flatParameters, std::int64_t parameterCount) {
    if (m_runId < 0) return;
    if (!m_store.saveModel(m_runId, m_lastRound, flatParameters, parameterCount))
        m_error = m_store.lastError();
}

void StoreRecorder::runFinished(const RunSummary &summary) {
    if (m_runId < 0) return;
    if (!m_store.finishRun(m_runId, summary)) m_error = m_store.lastError();
}

} // namespace fedwb
