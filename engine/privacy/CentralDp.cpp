#include "privacy/CentralDp.h"

#include "privacy/Accountant.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "strategy/UpdateStage.h"
#include "util/Rng.h"

#include <cmath>
#include <stdexcept>

namespace fedwb::privacy {

GaussianSumMean::GaussianSumMean(double clipNorm, double noiseMultiplier, double denominator,
                                 std::uint64_t seed)
    : m_clip(clipNorm)
    , m_noiseMultiplier(noiseMultiplier)
    , m_denominator(denominator)
    , m_seed(seed) {
    if (!(clipNorm > 0) || !std::isfinite(clipNorm))
        throw std::invalid_argument("privacy.clip_norm must be a finite number > 0");
    if (!(noiseMultiplier >= 0) || !std::isfinite(noiseMultiplier))
        throw std::invalid_argument("privacy.noise_multiplier must be a finite number >= 0");
    if (!(denominator > 0) || !std::isfinite(denominator))
        throw std::invalid_argument("the private mean needs a denominator > 0");
}

std::vector<double> GaussianSumMean::mean(const std::vector<ClientUpdate> &updates, std::size_t size,
                                          int round) const {
    std::vector<double> sum(size, 0.0);
    for (const ClientUpdate &u : updates) {
        // Exact clipping to the L2 ball of radius S: the factor min(1, S / ||delta||), applied in double.
        const double norm = l2Norm(u.delta);
        const double scale = norm > m_clip ? m_clip / norm : 1.0;
        const float *d = u.delta.data();
        for (std::size_t i = 0; i < size; ++i)
            sum[i] += scale * double(d[i]);
    }
    if (m_noiseMultiplier > 0) {
        Rng rng(m_seed, "dp-noise", round);
        const double sigma = noiseStd();
        for (double &v : sum)
            v += sigma * rng.normal();
    }
    for (double &v : sum)
        v /= m_denominator;
    return sum;
}

std::optional<CentralPrivacy> centralPrivacyFor(const FederationSpec &spec) {
    if (spec.string(QStringLiteral("privacy.mode")) != QLatin1String("central")) return std::nullopt;
    const double clip = spec.real(QStringLiteral("privacy.clip_norm"));
    const double z = spec.real(QStringLiteral("privacy.noise_multiplier"));
    const double q = spec.samplingRate();
    // Poisson: the expected number of clients; fixed size: the round size (q N = m).
    const double denominator = q * double(spec.clientCount());
    CentralPrivacy p;
    p.mechanism = std::make_shared<GaussianSumMean>(clip, z, denominator, spec.seed());
    p.accountant =
        std::make_shared<PrivacyAccountant>(spec.poissonSampling() ? Sampling::Poisson : Sampling::FixedSize,
                                            q, z, spec.real(QStringLiteral("privacy.delta")));
    p.targetEpsilon = spec.real(QStringLiteral("privacy.target_epsilon"));
    p.stopAtBudget = spec.boolean(QStringLiteral("privacy.stop_at_budget"));
    return p;
}

namespace {

void checkPrivacy(const FederationSpec &spec, QList<SpecIssue> &errors, QList<SpecIssue> &warnings) {
    if (spec.string(QStringLiteral("privacy.mode")) != QLatin1String("central")) return;
    const Registry &reg = Registry::global();
    const QString strategy = spec.string(QStringLiteral("strategy.name"));
    const ComponentSchema *entry = reg.component(QStringLiteral("strategy"), strategy);
    if (entry && !entry->has(QStringLiteral("private-mean"))) {
        QStringList able;
        for (const QString &name : reg.componentNames(QStringLiteral("strategy")))
            if (reg.component(QStringLiteral("strategy"), name)->has(QStringLiteral("private-mean")))
                able << name;
        errors.append({QStringLiteral("privacy.mode"),
                       QStringLiteral("central differential privacy replaces the server's mean of the "
                                      "updates, but strategy.name '%1' is not such a mean; allowed with "
                                      "privacy.mode central: %2")
                           .arg(strategy, able.join(QStringLiteral(", ")))});
    }
    if (strategy == QLatin1String("fedavg") &&
        spec.string(QStringLiteral("strategy.weighting")) == QLatin1String("samples"))
        warnings.append({QStringLiteral("strategy.weighting"),
                         QStringLiteral("with privacy.mode central every client counts equally (its clipped "
                                        "update, summed); 'samples' is not used")});
    const QString model = spec.string(QStringLiteral("model.name"));
    if (const ComponentSchema *m = reg.component(QStringLiteral("model"), model);
        m && m->has(QStringLiteral("batch-norm")))
        errors.append(
            {QStringLiteral("privacy.mode"),
             QStringLiteral("central DP cannot be used with model.name '%1': its batch-norm running "
                            "statistics are computed from client data and are part of the update, "
                            "where noise would break them; use a model without batch norm")
                 .arg(model)});
    const double target = spec.real(QStringLiteral("privacy.target_epsilon"));
    if (spec.boolean(QStringLiteral("privacy.stop_at_budget")) && !(target > 0))
        errors.append({QStringLiteral("privacy.stop_at_budget"),
                       QStringLiteral("needs a budget: set privacy.target_epsilon > 0")});
}

} // namespace

void registerPrivacy(Registry &registry) {
    ParamSchema mode = choiceParam(
        QStringLiteral("mode"), QStringLiteral("none"), {QStringLiteral("none"), QStringLiteral("central")},
        QStringLiteral("none, or central: the server clips each update, adds Gaussian noise to their sum and "
                       "tracks epsilon."));
    mode.explanation = QStringLiteral(
        "Differential privacy limits what anyone can learn about one client from the trained model. With "
        "central DP the server bounds each client's influence (clipping) and hides it in random noise; the "
        "privacy loss epsilon grows each round: smaller is more private (below 1 is strong, 1 to 10 is "
        "common in practice), and it is reported after every round. Epsilon covers the sequence of global "
        "models only: this simulator's own records (per-client metrics, who was sampled, the seed in the "
        "store) are not protected.");
    ParamSchema clip =
        realParam(QStringLiteral("clip_norm"), 1.0, 0.0, 1e6,
                  QStringLiteral("S: every client update is scaled down to an L2 norm of at most S "
                                 "before summing."),
                  {}, true);
    clip.explanation = QStringLiteral(
        "Clipping bounds how much one client can change the sum. Too small slows learning (every update is "
        "cut down); too large needs more noise for the same privacy. A typical start is the median update "
        "norm.");
    ParamSchema noise =
        realParam(QStringLiteral("noise_multiplier"), 1.0, 0.0, 1000.0,
                  QStringLiteral("z: the noise added to the sum has standard deviation z * S per "
                                 "coordinate."),
                  {}, true);
    noise.explanation = QStringLiteral(
        "More noise gives a smaller epsilon (more privacy) and a noisier model. fedwb-cli dp-calibrate "
        "finds the z that reaches a target epsilon after a number of rounds.");
    ParamSchema delta =
        realParam(QStringLiteral("delta"), 1e-5, 0.0, 0.1,
                  QStringLiteral("delta of the (epsilon, delta) guarantee: the small chance that the "
                                 "epsilon bound does not hold; below 1 / clients.count."),
                  {}, true);
    delta.explanation = QStringLiteral("Keep delta much smaller than one over the number of clients.");
    ParamSchema target = realParam(
        QStringLiteral("target_epsilon"), 0.0, 0.0, 1e6,
        QStringLiteral("The privacy budget: warn (or stop, with stop_at_budget) before a round would take "
                       "epsilon above it; 0 = no budget."));
    ParamSchema stop = boolParam(QStringLiteral("stop_at_budget"), false,
                                 QStringLiteral("End the run cleanly before the round that would exceed "
                                                "target_epsilon (status budget-spent)."));
    SectionSchema section{QStringLiteral("privacy"),
                          {},
                          QStringLiteral("Differential privacy of the clients' updates."),
                          {mode, clip, noise, delta, target, stop}};
    section.check = checkPrivacy;
    registry.addSection(std::move(section));
}

} // namespace fedwb::privacy
