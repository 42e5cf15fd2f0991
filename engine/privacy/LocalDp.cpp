#include "privacy/LocalDp.h"

#include "privacy/Accountant.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "util/Rng.h"

#include <cmath>
#include <stdexcept>

namespace fedwb::privacy {

double localEpsilon(double z, std::int64_t releases, double delta) {
    if (releases <= 0) return 0;
    if (!(z > 0) || !std::isfinite(z)) throw std::invalid_argument("the noise multiplier must be > 0");
    const std::vector<double> &orders = defaultOrders();
    std::vector<double> rdp(orders.size());
    for (std::size_t i = 0; i < orders.size(); ++i)
        rdp[i] = 2.0 * double(releases) * orders[i] / (z * z);
    return epsilonFromRdp(orders, rdp, delta).epsilon;
}

LocalGaussianStage::LocalGaussianStage(double clipNorm, double noiseMultiplier)
    : m_clip(clipNorm)
    , m_z(noiseMultiplier) {
    if (!(clipNorm > 0) || !std::isfinite(clipNorm))
        throw std::invalid_argument("privacy.clip_norm must be a finite number > 0");
    if (!(noiseMultiplier > 0) || !std::isfinite(noiseMultiplier))
        throw std::invalid_argument("privacy.noise_multiplier must be a finite number > 0");
}

void LocalGaussianStage::apply(std::span<float> update, const StageContext &context) {
    const double norm = l2Norm(update);
    const double scale = norm > m_clip ? m_clip / norm : 1.0;
    const double sigma = m_z * m_clip;
    Rng rng(deriveSeed(context.rngKey, "local-dp"));
    for (float &v : update)
        v = float(scale * double(v) + sigma * rng.normal());
}

StageRef LocalGroupPrivacy::stage() const {
    return {QStringLiteral("local-dp"), QJsonObject{{QStringLiteral("clip_norm"), clipNorm},
                                                    {QStringLiteral("noise_multiplier"), noiseMultiplier}}};
}

QList<LocalGroupPrivacy> localPrivacyOf(const FederationSpec &spec) {
    QList<LocalGroupPrivacy> out;
    const double clip = spec.real(QStringLiteral("privacy.clip_norm"));
    const double z = spec.real(QStringLiteral("privacy.noise_multiplier"));
    for (const ClientGroup &g : spec.groups())
        out.append({g.name, g.privacy.value(QStringLiteral("clip_norm")).toDouble(clip),
                    g.privacy.value(QStringLiteral("noise_multiplier")).toDouble(z)});
    return out;
}

void registerLocalDp(Registry &registry) {
    auto stage = ComponentSchema::make(
        QStringLiteral("update-stage"), QStringLiteral("local-dp"),
        QStringLiteral("Local differential privacy"),
        QStringLiteral("Clips an update to an L2 norm of at most clip_norm and adds Gaussian noise of "
                       "standard deviation noise_multiplier * clip_norm to every coordinate."),
        {explained(
             realParam(QStringLiteral("clip_norm"), 1.0, 0.0, 1e6,
                       QStringLiteral("Largest L2 norm an update may have."), {}, true),
             QStringLiteral("Every update is shortened to at most this length before noise is added, so "
                            "that the noise hides any one update equally well.")),
         explained(
             realParam(QStringLiteral("noise_multiplier"), 1.0, 0.0, 1000.0,
                       QStringLiteral("Noise standard deviation in units of clip_norm."), {}, true),
             QStringLiteral("How much noise the client adds, relative to clip_norm. More noise protects "
                            "the client better and makes its update less useful."))});
    stage.explanation = QStringLiteral("The client hides its own update in noise before sending it, so it "
                                       "need not trust the server.");
    stage.factory = UpdateStageFactory([](const QJsonObject &p) -> std::unique_ptr<UpdateStage> {
        return std::make_unique<LocalGaussianStage>(
            p.value(QStringLiteral("clip_norm")).toDouble(1.0),
            p.value(QStringLiteral("noise_multiplier")).toDouble(1.0));
    });
    registry.addComponent(std::move(stage));
}

} // namespace fedwb::privacy
