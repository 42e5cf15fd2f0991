#include "strategy/UpdateStage.h"

#include "spec/Registry.h"

#include <cmath>
#include <stdexcept>

namespace fedwb {

double l2Norm(std::span<const float> values) {
    double sum = 0;
    for (float v : values)
        sum += double(v) * double(v);
    return std::sqrt(sum);
}

UpdateStage::~UpdateStage() = default;

std::unique_ptr<UpdateStage> makeUpdateStage(const StageRef &ref) {
    const auto *factory =
        Registry::global().factory<UpdateStageFactory>(QStringLiteral("update-stage"), ref.name);
    if (!factory) throw std::invalid_argument("unknown update stage '" + ref.name.toStdString() + "'");
    return (*factory)(ref.params);
}

UpdatePipeline::UpdatePipeline(const QList<StageRef> &stages) {
    for (const StageRef &s : stages)
        m_stages.push_back(makeUpdateStage(s));
}

void UpdatePipeline::apply(std::span<float> update, const StageContext &context) const {
    for (const auto &s : m_stages)
        s->apply(update, context);
}

NormClipStage::NormClipStage(double maxNorm)
    : m_maxNorm(maxNorm) {
    if (!(maxNorm > 0) || !std::isfinite(maxNorm))
        throw std::invalid_argument("norm clipping needs a finite maximum norm > 0");
}

void NormClipStage::clip(std::span<float> update) const {
    const double norm = l2Norm(update);
    if (!(norm > m_maxNorm)) return; // within the bound (or NaN, which no scale would repair)
    const double scale = m_maxNorm / norm;
    for (float &v : update)
        v = float(double(v) * scale);
}

void registerUpdateStages() {
    auto clip = ComponentSchema::make(
        QStringLiteral("update-stage"), QStringLiteral("norm-clip"), QStringLiteral("Norm clipping"),
        QStringLiteral("Scales an update down to an L2 norm of at most max_norm."),
        {explained(realParam(QStringLiteral("max_norm"), 1.0, 0.0, 1e6,
                             QStringLiteral("Largest L2 norm an update may have."), {}, true),
                   QStringLiteral("Updates longer than this are shortened to it, keeping their direction; "
                                  "shorter ones pass unchanged."))});
    clip.explanation =
        QStringLiteral("Limits how far any single update can move the model: the building block of "
                       "norm-bounded averaging and of differential privacy.");
    clip.factory = UpdateStageFactory([](const QJsonObject &p) -> std::unique_ptr<UpdateStage> {
        return std::make_unique<NormClipStage>(p.value(QStringLiteral("max_norm")).toDouble(1.0));
    });
    Registry::global().addComponent(std::move(clip));
}

} // namespace fedwb
