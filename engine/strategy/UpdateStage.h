// Per-update processing stages: a stage transforms one client's update (a flat delta) in place. Stages form
// chains on both sides of the wire: the client side (in each task, applied right after local training:
// adversary -> clip -> local noise -> compress -> mask) and the server side (applied to every update before
// the strategy aggregates: unmask -> decompress -> clip ...). Each stage is a registry entry of category
// "update-stage" (schema + factory); norm clipping is the first.
#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace fedwb {

// The Euclidean norm sqrt(sum x_i^2), accumulated in double.
double l2Norm(std::span<const float> values);

// A stage by name with its parameters: what strategies declare and tasks carry.
struct StageRef {
    QString name;
    QJsonObject params;
    bool operator==(const StageRef &) const = default;
};

// Where an update is when a stage sees it: keys a stage's random draws (noise) like everything else.
struct StageContext {
    int round = 0;
    int clientId = -1;
    std::uint64_t rngKey = 0;
};

class UpdateStage {
public:
    virtual ~UpdateStage();
    virtual QString name() const = 0;
    virtual void apply(std::span<float> update, const StageContext &context) = 0;
};

// A stage's factory as registered in its ComponentSchema (category "update-stage").
using UpdateStageFactory = std::function<std::unique_ptr<UpdateStage>(const QJsonObject &params)>;
// The registered stage; throws std::invalid_argument for an unknown name or bad parameters.
std::unique_ptr<UpdateStage> makeUpdateStage(const StageRef &ref);

// A chain of stages, applied in order.
class UpdatePipeline {
public:
    UpdatePipeline() = default;
    explicit UpdatePipeline(const QList<StageRef> &stages); // throws like makeUpdateStage
    bool empty() const { return m_stages.empty(); }
    void apply(std::span<float> update, const StageContext &context) const;

private:
    std::vector<std::shared_ptr<UpdateStage>> m_stages;
};

// Scales an update down to an L2 norm of at most maxNorm: delta * min(1, maxNorm / ||delta||). An update
// already within the bound (including the zero vector) is left bit-for-bit unchanged.
class NormClipStage : public UpdateStage {
public:
    explicit NormClipStage(double maxNorm); // throws std::invalid_argument unless maxNorm > 0 and finite
    QString name() const override { return QStringLiteral("norm-clip"); }
    void apply(std::span<float> update, const StageContext &) override { clip(update); }
    void clip(std::span<float> update) const;
    double maxNorm() const { return m_maxNorm; }

private:
    double m_maxNorm;
};

void registerUpdateStages();

} // namespace fedwb
