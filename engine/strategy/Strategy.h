// Server-side strategies. Updates are flat float vectors (the one parameter representation):
// delta = local parameters after training - global parameters sent to the client. A strategy owns its
// server state (momentum, adaptive moments, control variates), says which client algorithm the selected
// clients run, and saves/loads its state so a run can be continued bitwise-equal.
#pragma once

#include "model/ModelLayout.h"
#include "strategy/UpdateStage.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace fedwb {

struct ClientUpdate {
    int clientId = -1;
    std::span<const float> delta;
    double weight = 1.0;            // the client's number of training samples
    std::int64_t steps = 0;         // local optimizer steps taken this round (FedNova)
    double startLoss = 0;           // mean training loss of the global model on the client's data, measured
                                    // before training (only when the strategy has "needs-start-loss")
    std::span<const float> payload; // the client algorithm's payload up (SCAFFOLD: change of c_i)
};

// A mean of the round's updates computed by a privacy mechanism instead of the strategy's own weighted mean
// (privacy.mode central: clipped sum plus Gaussian noise over a fixed denominator, privacy/CentralDp.h).
// Called once per aggregated round; a mechanism may adapt between rounds (adaptive clipping).
class PrivateMean {
public:
    virtual ~PrivateMean() = default;
    virtual std::vector<double> mean(const std::vector<ClientUpdate> &updates, std::size_t size,
                                     int round) = 0;
};

// What a round tells the strategy besides the updates.
struct RoundContext {
    int round = 1;                       // 1-based
    int populationSize = 0;              // clients.count (SCAFFOLD's |S| / N)
    double clientLr = 0.05;              // local learning rate this round (q-FedAvg's L = 1 / lr)
    double clientMomentum = 0;           // local SGD momentum (FedNova's normalizer)
    bool clientNesterov = false;         // the local momentum is Nesterov's
    const ModelLayout *layout = nullptr; // segments of the flat vector (FedBN, FedPer)
    // Central DP: strategies with the capability "private-mean" take their mean from here (never null for
    // them when privacy.mode is central; the round loop then aggregates even a round without updates).
    PrivateMean *privateMean = nullptr;
};

// The algorithm every selected client runs inside local training, with its parameters. Names are
// registered client algorithms: "sgd" (plain local training), "fedprox" {mu}, "scaffold", "ditto" {lambda},
// "personal-segments" {segments: "batch-norm" | "head"}.
struct ClientAlgorithmRef {
    QString name = QStringLiteral("sgd");
    QJsonObject params;
};

class Strategy {
public:
    virtual ~Strategy() = default;
    // Applies one round's updates to the global parameters in place. Updates are combined in the order
    // given (the engine passes them sorted by client id, so the result never depends on arrival order).
    // Throws std::invalid_argument when an update's size differs from the model's (global is untouched).
    virtual void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                           const RoundContext &context) = 0;
    // Which client algorithm the selected clients run.
    virtual ClientAlgorithmRef clientAlgorithm() const { return {}; }
    // The stages this strategy needs on each side: client stages run inside every task after local training;
    // server stages run on every update before aggregate() (see aggregateRound).
    virtual QList<StageRef> clientStages() const { return {}; }
    virtual QList<StageRef> serverStages() const { return {}; }
    // Sent with every task of the next round (float32 little-endian), e.g. SCAFFOLD's server control variate.
    virtual QByteArray payloadDown() const { return {}; }
    // The server state (empty for a stateless strategy) and its restoration; loadState throws
    // std::invalid_argument for a blob it did not write.
    virtual QByteArray saveState() const { return {}; }
    virtual void loadState(const QByteArray &state);
};

// FedAvg (McMahan et al. 2017): global += sum_k w_k delta_k / sum_k w_k with w_k = the client's sample
// count, or w_k = 1 with uniform weighting. The strategy "fedavg"; also usable directly.
class FedAvgStrategy : public Strategy {
public:
    explicit FedAvgStrategy(bool uniform = false)
        : m_uniform(uniform) {}
    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &context) override;

protected:
    bool m_uniform;
};

// The server side of one round: every update through the strategy's server stages (in the given order, on
// copies), then aggregate(). The round loop and the tests use this one path.
void aggregateRound(Strategy &strategy, const UpdatePipeline &serverStages, std::span<float> global,
                    const std::vector<ClientUpdate> &updates, const RoundContext &context);

// A strategy's factory as registered in its ComponentSchema (category "strategy"): the validated
// `strategy` section in, the strategy out.
using StrategyFactory = std::function<std::unique_ptr<Strategy>(const QJsonObject &params)>;

// The registered strategy `name` (category "strategy") built from `params` (the `strategy` section; missing
// keys take the schema's defaults, present ones are range-checked). Throws std::invalid_argument for an
// unknown name (the message names strategy.name and lists the registered names) or a bad parameter.
std::unique_ptr<Strategy> makeStrategy(const QString &name, const QJsonObject &params);
void registerStrategies();

} // namespace fedwb
