#include "privacy/CentralDp.h"

#include "privacy/Accountant.h"
#include "privacy/LocalDp.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "strategy/UpdateStage.h"
#include "util/Rng.h"

#include <cmath>
#include <stdexcept>

namespace fedwb::privacy {

namespace {

// sigma_b of privacy.clip_count_stddev: 0 means the paper's recommendation, the expected round size / 20.
double countStdOf(const FederationSpec &spec) {
    const double given = spec.real(QStringLiteral("privacy.clip_count_stddev"));
    return given > 0 ? given : spec.samplingRate() * double(spec.clientCount()) / 20.0;
}

} // namespace

GaussianSumMean::GaussianSumMean(double clipNorm, double noiseMultiplier, double denominator,
                                 std::uint64_t seed, std::optional<AdaptiveClipping> adaptive)
    : m_clip(clipNorm)
    , m_noiseMultiplier(noiseMultiplier)
    , m_updateNoiseMultiplier(noiseMultiplier)
    , m_denominator(denominator)
    , m_seed(seed)
    , m_adaptive(adaptive) {
    if (!(clipNorm > 0) || !std::isfinite(clipNorm))
        throw std::invalid_argument("privacy.clip_norm must be a finite number > 0");
    if (!(noiseMultiplier >= 0) || !std::isfinite(noiseMultiplier))
        throw std::invalid_argument("privacy.noise_multiplier must be a finite number >= 0");
    if (!(denominator > 0) || !std::isfinite(denominator))
        throw std::invalid_argument("the private mean needs a denominator > 0");
    if (adaptive && noiseMultiplier > 0) {
        const double countMultiplier = 2.0 * adaptive->countStd;
        if (!(countMultiplier > noiseMultiplier))
            throw std::invalid_argument(
                "adaptive clipping needs 2 * privacy.clip_count_stddev above privacy.noise_multiplier");
        m_updateNoiseMultiplier = 1.0 / std::sqrt(1.0 / (noiseMultiplier * noiseMultiplier) -
                                                  1.0 / (countMultiplier * countMultiplier));
    }
}

void GaussianSumMean::setClipNorm(double clip) {
    if (!(clip > 0) || !std::isfinite(clip))
        throw std::invalid_argument("the adaptive clip norm must be a finite number > 0");
    m_clip = clip;
}

std::vector<double> GaussianSumMean::mean(const std::vector<ClientUpdate> &updates, std::size_t size,
                                          int round) {
    return release(clippedSum(updates, size), round);
}

GaussianSumMean::ClippedSum GaussianSumMean::clippedSum(const std::vector<ClientUpdate> &updates,
                                                        std::size_t size) const {
    ClippedSum c;
    c.sum.assign(size, 0.0);
    for (const ClientUpdate &u : updates) {
        // Exact clipping to the L2 ball of radius C: the factor min(1, C / ||delta||), applied in double.
        const double norm = l2Norm(u.delta);
        const double scale = clipFactor(norm, m_clip);
        if (norm <= m_clip) c.unclipped += 1;
        const float *d = u.delta.data();
        for (std::size_t i = 0; i < size; ++i)
            c.sum[i] += scale * double(d[i]);
    }
    c.count = double(updates.size());
    return c;
}

std::vector<double> GaussianSumMean::release(ClippedSum clipped, int round) {
    std::vector<double> &sum = clipped.sum;
    if (m_updateNoiseMultiplier > 0) {
        Rng rng(m_seed, "dp-noise", round);
        const double sigma = noiseStd();
        for (double &v : sum)
            v += sigma * rng.normal();
    }
    for (double &v : sum)
        v /= m_denominator;
    if (m_adaptive) { // the clip norm of the next round, from the privatized share of unclipped updates
        Rng rng(m_seed, "dp-clip-count", round);
        const double centred = clipped.unclipped - 0.5 * clipped.count;
        const double noise = m_noiseMultiplier > 0 ? m_adaptive->countStd * rng.normal() : 0.0;
        m_lastFraction = 0.5 + (centred + noise) / m_denominator;
        m_clip *= std::exp(-m_adaptive->learningRate * (m_lastFraction - m_adaptive->targetQuantile));
    }
    return std::move(clipped.sum);
}

std::shared_ptr<GaussianSumMean> centralMechanismFor(const FederationSpec &spec) {
    if (spec.string(QStringLiteral("privacy.mode")) != QLatin1String("central")) return nullptr;
    const double clip = spec.real(QStringLiteral("privacy.clip_norm"));
    const double z = spec.real(QStringLiteral("privacy.noise_multiplier"));
    // Poisson: the expected number of clients; fixed size: the round size (q N = m).
    const double denominator = spec.samplingRate() * double(spec.clientCount());
    std::optional<AdaptiveClipping> adaptive;
    if (spec.boolean(QStringLiteral("privacy.adaptive_clipping")))
        adaptive =
            AdaptiveClipping{spec.real(QStringLiteral("privacy.target_quantile")),
                             spec.real(QStringLiteral("privacy.clip_learning_rate")), countStdOf(spec)};
    return std::make_shared<GaussianSumMean>(clip, z, denominator, spec.seed(), adaptive);
}

QStringList privateMeanStrategies() {
    const Registry &reg = Registry::global();
    QStringList names;
    for (const QString &name : reg.componentNames(QStringLiteral("strategy")))
        if (reg.component(QStringLiteral("strategy"), name)->has(QStringLiteral("private-mean")))
            names << name;
    return names;
}

namespace {

void checkPrivacy(const FederationSpec &spec, QList<SpecIssue> &errors, QList<SpecIssue> &warnings) {
    const QString mode = spec.string(QStringLiteral("privacy.mode"));
    const bool adaptive = spec.boolean(QStringLiteral("privacy.adaptive_clipping"));
    if (adaptive && mode != QLatin1String("central"))
        errors.append(
            {QStringLiteral("privacy.adaptive_clipping"),
             QStringLiteral("adapts the server's clip norm: needs privacy.mode central (it is '%1')")
                 .arg(mode)});
    if (mode == QLatin1String("none")) return;
    const Registry &reg = Registry::global();
    const QString model = spec.string(QStringLiteral("model.name"));
    if (const ComponentSchema *m = reg.component(QStringLiteral("model"), model);
        m && m->has(QStringLiteral("batch-norm")))
        errors.append({QStringLiteral("privacy.mode"),
                       QStringLiteral("%1 DP cannot be used with model.name '%2': its batch-norm running "
                                      "statistics are computed from client data and are part of the update, "
                                      "where noise would break them; use a model without batch norm")
                           .arg(mode, model)});
    const double target = spec.real(QStringLiteral("privacy.target_epsilon"));
    if (spec.boolean(QStringLiteral("privacy.stop_at_budget")) && !(target > 0))
        errors.append({QStringLiteral("privacy.stop_at_budget"),
                       QStringLiteral("needs a budget: set privacy.target_epsilon > 0")});
    if (mode == QLatin1String("local")) return; // any strategy: the server only post-processes noisy updates
    if (adaptive) {
        const double z = spec.real(QStringLiteral("privacy.noise_multiplier"));
        const double countStd = countStdOf(spec);
        if (!(2.0 * countStd > z))
            errors.append({QStringLiteral("privacy.clip_count_stddev"),
                           QStringLiteral("the noise on the clipped count (%1 clients) must be above "
                                          "privacy.noise_multiplier / 2 = %2 so that the update noise "
                                          "(z^-2 - (2 sigma_b)^-2)^-1/2 exists; raise it or lower the noise")
                               .arg(countStd, 0, 'g', 4)
                               .arg(z / 2, 0, 'g', 4)});
    }
    const QString strategy = spec.string(QStringLiteral("strategy.name"));
    const ComponentSchema *entry = reg.component(QStringLiteral("strategy"), strategy);
    if (entry && !entry->has(QStringLiteral("private-mean")))
        errors.append({QStringLiteral("privacy.mode"),
                       QStringLiteral("central differential privacy replaces the server's mean of the "
                                      "updates, but strategy.name '%1' is not such a mean; allowed with "
                                      "privacy.mode central: %2")
                           .arg(strategy, privateMeanStrategies().join(QStringLiteral(", ")))});
    if (strategy == QLatin1String("fedavg") &&
        spec.string(QStringLiteral("strategy.weighting")) == QLatin1String("samples"))
        warnings.append({QStringLiteral("strategy.weighting"),
                         QStringLiteral("with privacy.mode central every client counts equally (its clipped "
                                        "update, summed); 'samples' is not used")});
}

} // namespace

void registerPrivacy(Registry &registry) {
    ParamSchema mode = choiceParam(
        QStringLiteral("mode"), QStringLiteral("none"),
        {QStringLiteral("none"), QStringLiteral("central"), QStringLiteral("local")},
        QStringLiteral("none; central: the server clips each update, adds Gaussian noise to their sum and "
                       "tracks epsilon; local: every client clips and noises its own update (epsilon per "
                       "group)."));
    mode.explanation = QStringLiteral(
        "Differential privacy limits what anyone can learn about one client from the trained model. With "
        "central DP the server bounds each client's influence (clipping) and hides it in random noise; the "
        "privacy loss epsilon grows each round: smaller is more private (below 1 is strong, 1 to 10 is "
        "common in practice), and it is reported after every round. With local DP every client adds its own "
        "noise before sending, so it need not trust the server; that costs far more accuracy for the same "
        "epsilon, and each group can choose its own noise (clients.groups[i].privacy). Epsilon covers what "
        "is released (the global models; under local DP each update): this simulator's own records "
        "(per-client metrics, who was sampled, the seed in the store) are not protected.");
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
    delta.explanation = QStringLiteral(
        "Differential privacy promises 'epsilon', except with a tiny probability delta. Keep delta much "
        "smaller than one over the number of clients (with 1000 clients, 1e-5 or less), so that the "
        "exception cannot amount to exposing one client. Smaller delta gives a slightly larger epsilon for "
        "the same noise.");
    ParamSchema target = realParam(
        QStringLiteral("target_epsilon"), 0.0, 0.0, 1e6,
        QStringLiteral("The privacy budget: warn (or stop, with stop_at_budget) before a round would take "
                       "epsilon above it; 0 = no budget."));
    target.explanation = QStringLiteral(
        "The most privacy loss you are willing to accept for the whole run. Each round spends some of it; "
        "when the next round would go over, the run warns you (or stops, with stop_at_budget). Values of 1 "
        "to 10 are common; the dashboard shows how much has been spent. 0 sets no budget.");
    ParamSchema stop = boolParam(QStringLiteral("stop_at_budget"), false,
                                 QStringLiteral("End the run cleanly before the round that would exceed "
                                                "target_epsilon (status budget-spent)."));
    stop.explanation = QStringLiteral(
        "With a budget set, end the run before the round that would spend more than target_epsilon instead "
        "of only warning. The model trained so far is kept and the run is marked as having spent its "
        "budget.");
    ParamSchema adaptive =
        boolParam(QStringLiteral("adaptive_clipping"), false,
                  QStringLiteral("Central DP: let the clip norm follow target_quantile of the update norms "
                                 "(clip_norm is its start)."));
    adaptive.explanation = QStringLiteral(
        "A good clip norm is hard to guess and changes as training goes on. With adaptive clipping the "
        "server "
        "counts, privately, how many updates were not clipped and moves the clip norm towards the norm that "
        "target_quantile of the updates stay under (Andrew et al. 2021). Part of the noise budget goes to "
        "that count, so the updates get slightly more noise for the same epsilon.");
    ParamSchema quantile =
        realParam(QStringLiteral("target_quantile"), 0.5, 0.0, 1.0,
                  QStringLiteral("Adaptive clipping: the share of updates that should stay "
                                 "unclipped (0.5 = the median norm)."));
    quantile.explanation = QStringLiteral(
        "With adaptive clipping, the share of client updates that should pass unclipped. 0.5 puts the clip "
        "norm at the median update size, a good balance; higher values clip less (less bias, more noise per "
        "update), lower values clip more.");
    ParamSchema clipRate = realParam(QStringLiteral("clip_learning_rate"), 0.2, 0.0, 10.0,
                                     QStringLiteral("Adaptive clipping: how fast the clip norm moves (C <- C "
                                                    "exp(-rate (unclipped share - target_quantile)))."));
    clipRate.explanation = QStringLiteral(
        "How quickly the adaptive clip norm follows the updates' sizes. 0.2 (the paper's value) settles "
        "within some tens of rounds; higher values react faster but jump around more.");
    ParamSchema countStd = realParam(
        QStringLiteral("clip_count_stddev"), 0.0, 0.0, 1e6,
        QStringLiteral("Adaptive clipping: noise on the count of unclipped updates, in clients; 0 = the "
                       "expected round size / 20 (the paper's choice)."),
        QStringLiteral("clients"));
    countStd.zeroText = QStringLiteral("expected round size / 20");
    countStd.explanation = QStringLiteral(
        "Adaptive clipping counts privately how many updates were clipped, so this count gets noise too. 0 "
        "picks the paper's amount; more noise on the count leaves more of the privacy budget for the "
        "updates but makes the clip norm wander.");
    SectionSchema section{QStringLiteral("privacy"),
                          {},
                          QStringLiteral("Differential privacy of the clients' updates."),
                          {mode, clip, noise, delta, target, stop, adaptive, quantile, clipRate, countStd}};
    section.check = checkPrivacy;
    section.explanation = QStringLiteral(
        "Federated learning keeps the data on the clients, but the updates they send can still give away "
        "details of that data. Differential privacy bounds what the trained model (or, with local DP, each "
        "update) can reveal about any one client: updates are clipped to a maximum size and hidden in random "
        "noise. The guarantee is the number epsilon, tracked every round: smaller is more private. It costs "
        "accuracy, so compare runs with and without it.");
    registry.addSection(std::move(section));
    registerLocalDp(registry);
}

} // namespace fedwb::privacy
