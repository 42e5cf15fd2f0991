// Everything needed to continue a run: the round reached, the global model, the strategy's server state,
// every client's state and the counters. One blob (CBOR), written in the round's transaction. Torch-free.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <map>
#include <optional>

namespace fedwb {

// Per-client state by id (control variates, personal layers, personal models), kept by the coordinator and
// shipped inside tasks: memory grows with the clients that HAVE state, not with the population.
class ClientStateStore {
public:
    QByteArray get(int clientId) const {
        const auto it = m_states.find(clientId);
        return it == m_states.end() ? QByteArray() : it->second;
    }
    void set(int clientId, QByteArray state) { m_states[clientId] = std::move(state); }
    std::size_t size() const { return m_states.size(); }
    const std::map<int, QByteArray> &all() const { return m_states; }
    void clear() { m_states.clear(); }

private:
    std::map<int, QByteArray> m_states;
};

inline constexpr int kRunStateVersion = 1;

struct RunState {
    int version = kRunStateVersion;
    int round = 0; // rounds completed
    std::int64_t parameterCount = 0;
    QByteArray model; // global parameters, float32 flat
    QString strategy; // strategy.name, so a state is never loaded into another strategy
    QJsonObject
        spec; // the validated workspace the state belongs to (a run continues only under the same one)
    QByteArray strategyState;
    ClientStateStore clients;
    std::int64_t bytesUp = 0, bytesDown = 0; // totals so far
    std::optional<double> lastTestAccuracy, lastTestLoss;
    // Privacy state: "ledger" (PrivacyLedger::saveState: local DP's release counts), "clip_norm" (the
    // adaptive clip norm of the next round). Empty without DP.
    QJsonObject privacy;

    QByteArray toBytes() const;
    // nullopt (and *error) for bytes that are not a RunState this build reads.
    static std::optional<RunState> fromBytes(const QByteArray &bytes, QString *error = nullptr);
};

// The keys in which `a` and `b` (validated workspaces) differ in a way that changes what a run computes:
// everything but run.rounds, run.threads, run.eval_every, run.checkpoint_every, run.checkpoints_kept, name
// and description. Empty: a state of one may continue under the other.
QStringList resultChangingDifferences(const QJsonObject &a, const QJsonObject &b);

} // namespace fedwb
