// Plain value types a run reports. Torch-free: shared by the engine, the run store, the CLI and the GUI.
#pragma once

#include "metrics/Fairness.h"

#include <QByteArray>
#include <QJsonObject>
#include <QMetaType>
#include <QString>

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace fedwb {

// Diverged: a loss or a parameter became NaN or infinite; the rounds before it are kept. BudgetSpent: ended
// cleanly before the round that would take epsilon above privacy.target_epsilon (privacy.stop_at_budget).
enum class RunStatus { Pending, Running, Finished, Stopped, Failed, Interrupted, Diverged, BudgetSpent };
QString runStatusName(RunStatus status);
RunStatus runStatusFromName(const QString &name);

struct ClientRoundMetrics {
    int clientId = -1;
    bool trained = false;            // selected and trained this round
    std::optional<double> trainLoss; // mean training loss over its local steps (when trained)
    std::optional<double> accuracy;  // on its local test split (evaluation rounds)
    std::optional<double> loss;      // on its local test split (evaluation rounds)
    std::int64_t trainSamples = 0;
    std::int64_t testSamples = 0;
    QString group;                          // the client's group (clients.groups)
    std::optional<double> personalAccuracy; // after personalization (run.personalize_steps, personal layers)
    std::int64_t steps = 0;                 // local optimizer steps (when trained)
    bool dropped = false;                   // selected, but its update never arrived (a dropout behaviour)
};

struct RoundMetrics {
    int round = 0;           // 1-based
    bool evaluated = false;  // test metrics and fairness are set on evaluation rounds
    double testAccuracy = 0; // global model on the dataset's test set
    double testLoss = 0;
    double trainLoss = 0;                    // sample-weighted mean over the trained clients
    Fairness fairness;                       // of per-client local-test accuracy
    std::vector<ClientRoundMetrics> clients; // every client that trained or was evaluated, by id
    int clientsSelected = 0;
    double roundSeconds = 0;    // wall time of this round
    double wallSeconds = 0;     // wall time since the run started, at the end of this round
    std::int64_t bytesUp = 0;   // client -> server payload this round
    std::int64_t bytesDown = 0; // server -> client payload this round
    double clientLr = 0;        // local learning rate of this round (after training.lr_decay)
    // privacy.mode central: epsilon after this round at privacy.delta (NaN without DP)
    double epsilon = std::numeric_limits<double>::quiet_NaN();
    // A backdoor attack's success rate on evaluation rounds: the share of triggered test images (of other
    // classes) the global model assigns to the target class (NaN without a backdoor group).
    double asr = std::numeric_limits<double>::quiet_NaN();
    // Further measurements of this round, stored and exported as they are, e.g. "secure_aggregation"
    // (bytes and seconds of each protocol step) and "epsilon_by_group" (local DP).
    QJsonObject extra;
    QByteArray checkpoint; // RunState bytes when this round is a checkpoint (run.checkpoint_every)
};

// Where a run was computed: enough to explain last-bit differences between machines.
struct RunEnvironment {
    QString torchVersion;
    QString blas; // the BLAS library actually loaded
    QString cpuModel;
    QString cpuCapability; // the ATen kernel ISA in use (default, avx2, avx512)
    int threads = 0;
    QJsonObject toJson() const;
};

struct RunSummary {
    RunStatus status = RunStatus::Pending;
    int roundsDone = 0;
    std::optional<double> finalTestAccuracy;
    std::optional<double> finalTestLoss;
    double wallSeconds = 0;
    QString message;         // why, for Failed, Diverged and a budget stop
    int divergedRound = 0;   // Diverged: the round whose loss or parameters were not finite (not recorded)
    bool inputError = false; // Failed because of the workspace or its data (the message names the key)
    std::optional<double> epsilon;  // privacy.mode central: epsilon after the last completed round
    std::optional<double> finalAsr; // a backdoor group's attack success rate on the final model
};

} // namespace fedwb

Q_DECLARE_METATYPE(fedwb::RoundMetrics)
Q_DECLARE_METATYPE(fedwb::RunSummary)
