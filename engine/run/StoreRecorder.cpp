#include "run/StoreRecorder.h"

namespace fedwb {

std::optional<Continuation> continuationOf(RunStore &store, qint64 runId, const QStringList &overrides,
                                           QString *error) {
    const auto fail = [&](const QString &why) -> std::optional<Continuation> {
        if (error) *error = QStringLiteral("run %1: %2").arg(runId).arg(why);
        return std::nullopt;
    };
    const std::optional<StoredRun> stored = store.run(runId);
    if (!stored) return fail(store.lastError().isEmpty() ? QStringLiteral("no such run") : store.lastError());
    if (stored->status == RunStatus::Running)
        return fail(QStringLiteral("it is still running (in another process); stop it first"));
    if (stored->status == RunStatus::BudgetSpent)
        return fail(QStringLiteral("it ended at its privacy budget (privacy.target_epsilon); a continuation "
                                   "would spend more than the budget"));
    QJsonObject raw = stored->spec;
    for (const QString &assignment : overrides) {
        QString why;
        if (!FederationSpec::applyOverride(raw, assignment, &why)) return fail(why);
    }
    FederationSpec::Parsed parsed = FederationSpec::parse(raw);
    if (!parsed.ok()) {
        QStringList problems;
        for (const SpecIssue &e : parsed.errors)
            problems << e.text();
        return fail(QStringLiteral("its workspace does not validate here: ") +
                    problems.join(QStringLiteral("; ")));
    }
    Continuation c;
    c.runId = runId;
    c.name = stored->name;
    c.workspace = stored->workspace;
    c.spec = std::move(*parsed.spec);
    if (std::optional<QByteArray> state = store.latestCheckpoint(runId, &c.fromRound))
        c.state = std::move(*state);
    else if (!store.lastError().isEmpty())
        return fail(store.lastError());
    else
        c.fromRound = 0;
    if (c.fromRound >= c.spec.rounds())
        return fail(
            QStringLiteral("it has completed all %1 rounds: nothing to continue (--set run.rounds=N with "
                           "N > %1 continues it further)")
                .arg(c.fromRound));
    return c;
}

StoreRecorder::StoreRecorder(RunStore &store, const FederationSpec &spec, const QString &name,
                             const QString &workspace)
    : m_store(store) {
    m_runId = m_store.createRun(name, workspace, spec.json(), spec.seed(), spec.rounds());
    if (m_runId < 0) m_error = m_store.lastError();
    m_checkpointsKept = int(spec.integer(QStringLiteral("run.checkpoints_kept")));
}

StoreRecorder::StoreRecorder(RunStore &store, const FederationSpec &spec, qint64 runId, int fromRound)
    : m_store(store) {
    m_checkpointsKept = int(spec.integer(QStringLiteral("run.checkpoints_kept")));
    m_lastRound = fromRound;
    if (!m_store.continueRun(runId, fromRound, spec.json(), spec.rounds())) {
        m_error = m_store.lastError();
        return;
    }
    m_runId = runId;
    if (const std::optional<StoredRun> run = m_store.run(runId)) m_wallOffset = run->wallSeconds;
}

void StoreRecorder::abort() {
    m_error = m_store.lastError();
    throw RunAborted(m_error.toStdString());
}

void StoreRecorder::environment(const RunEnvironment &where) {
    if (m_runId < 0) return;
    if (!m_store.setEnvironment(m_runId, where.toJson())) abort();
}

void StoreRecorder::roundFinished(const RoundMetrics &metrics) {
    if (m_runId < 0) return;
    m_lastRound = metrics.round;
    bool ok = false;
    if (m_wallOffset > 0) {
        RoundMetrics continued = metrics; // a copy of the client rows: small next to a round of training
        continued.wallSeconds += m_wallOffset;
        ok = m_store.recordRound(m_runId, continued, m_checkpointsKept);
    } else {
        ok = m_store.recordRound(m_runId, metrics, m_checkpointsKept);
    }
    if (!ok) abort();
}

void StoreRecorder::finalModel(const QByteArray &flatParameters, std::int64_t parameterCount) {
    if (m_runId < 0) return;
    if (!m_store.saveModel(m_runId, m_lastRound, flatParameters, parameterCount)) abort();
}

void StoreRecorder::runFinished(const RunSummary &summary) {
    if (m_runId < 0) return;
    RunSummary total = summary;
    total.wallSeconds += m_wallOffset;
    // Never throws: the run has ended; a status that cannot be written leaves it "running" in the store,
    // shown as interrupted (and resumable) the next time the store is opened.
    if (!m_store.finishRun(m_runId, total) && m_error.isEmpty()) m_error = m_store.lastError();
}

} // namespace fedwb
