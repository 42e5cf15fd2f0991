// Every run, its per-round and per-client metrics and its final model, in one SQLite file (WAL).
// One transaction per round: a process killed mid-run leaves every completed round intact, and the run is
// marked `interrupted` the next time a store is opened and its owning process is gone.
#pragma once

#include "run/RunTypes.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace fedwb {

struct StoredRun {
    qint64 id = 0;
    QString name;
    QString workspace;
    QJsonObject spec;
    quint64 seed = 0;
    RunStatus status = RunStatus::Pending;
    QDateTime startedAt;
    QDateTime endedAt;
    QString appVersion;
    int roundsPlanned = 0;
    int roundsDone = 0;
    std::optional<double> finalTestAccuracy;
    std::optional<double> finalTestLoss;
    double wallSeconds = 0;
    QString message;
    QStringList tags;
    QString notes;
    QString sweepId;        // the sweep this run belongs to (fedwb-cli sweep), empty for none
    QJsonObject sweepPoint; // its grid point: {"strategy.name": "median", ...}; the training seed is run.seed
};

class RunStore {
public:
    static constexpr int kSchemaVersion = 5;

    // ReadWrite creates and migrates the store as needed; ReadOnly never writes (a store in a read-only
    // folder, or one another program is writing) and shows a run whose process is gone as interrupted.
    enum class Access { ReadWrite, ReadOnly };

    // Opens the store at `path` (":memory:" for tests). Opening checks that it is a FedWorkbench store
    // (schema version, tables) and not damaged (PRAGMA quick_check): isOpen() is false with the reason
    // otherwise. Each RunStore owns its own connection and must be used from one thread at a time.
    explicit RunStore(const QString &path, Access access = Access::ReadWrite);
    ~RunStore();
    RunStore(const RunStore &) = delete;
    RunStore &operator=(const RunStore &) = delete;

    bool isOpen() const;
    bool isReadOnly() const;
    // The error of the latest call (empty when it succeeded): reading calls return empty results on error,
    // so a caller that must tell "no runs" from "could not read" checks this.
    QString lastError() const;
    int schemaVersion() const;
    static QString defaultPath(); // <user data dir>/runs.sqlite

    // Writing (the run's thread).
    qint64 createRun(const QString &name, const QString &workspace, const QJsonObject &spec, quint64 seed,
                     int roundsPlanned);
    // One transaction: the round, its clients and (when metrics.checkpoint is set) the RunState, keeping the
    // newest `checkpointsKept` checkpoints of the run.
    bool recordRound(qint64 runId, const RoundMetrics &metrics, int checkpointsKept = 2);
    bool setEnvironment(qint64 runId, const QJsonObject &environment);
    bool saveModel(qint64 runId, int round, const QByteArray &flatParameters, qint64 parameterCount);
    bool finishRun(qint64 runId, const RunSummary &summary);
    // Continues a stopped, interrupted, failed or diverged run after `fromRound` (its checkpoint's round, or
    // 0 to start over): in one transaction the rounds after it and their checkpoints are removed, the run is
    // running again and owned by this process, its wall time is that of the kept rounds, and its spec and
    // planned rounds are `spec` and `roundsPlanned` (run.rounds may have grown).
    bool continueRun(qint64 runId, int fromRound, const QJsonObject &spec, int roundsPlanned);

    // Reading.
    QList<StoredRun> runs() const;
    std::optional<StoredRun> run(qint64 runId) const;
    QList<RoundMetrics> rounds(qint64 runId) const; // with per-client metrics
    // The best test accuracy of every run that has one (the runs browser's column), in one query.
    QHash<qint64, double> bestAccuracies() const;
    std::optional<QByteArray> model(qint64 runId, int *round = nullptr) const;
    // The newest stored RunState of a run (and its round), to continue it.
    std::optional<QByteArray> latestCheckpoint(qint64 runId, int *round = nullptr) const;
    QList<int> checkpointRounds(qint64 runId) const;
    QJsonObject environment(qint64 runId) const; // torch, BLAS, CPU, kernel ISA
    bool deleteRun(qint64 runId);
    // What users say about a run; each fails (lastError) for a run that does not exist.
    bool renameRun(qint64 runId, const QString &name);
    bool setTags(qint64 runId, const QStringList &tags);
    bool setNotes(qint64 runId, const QString &notes);
    bool setSweep(qint64 runId, const QString &sweepId, const QJsonObject &point);

    // Export: every round with round, test_accuracy, test_loss, train_loss, client_accuracy (id -> accuracy),
    // fairness {mean, std, worst10, best10, jain}, round_seconds, wall_seconds, bytes_up, bytes_down,
    // epsilon (privacy.mode central; null otherwise).
    QJsonObject exportJson(qint64 runId) const;
    QString exportCsv(qint64 runId) const;

private:
    struct Impl;
    Impl *d;
};

} // namespace fedwb
