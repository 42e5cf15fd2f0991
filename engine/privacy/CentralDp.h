// Central (client-level) differential privacy as in DP-FedAvg (McMahan, Ramage, Talwar, Zhang 2018, "Learning
// Differentially Private Recurrent Language Models"): the server clips every client update to L2 norm S, sums
// them, adds Gaussian noise N(0, (z S)^2 I) to the sum and divides by a denominator fixed in advance (the
// expected number of clients q N under Poisson sampling, the round size m under fixed-size sampling), so the
// released mean is the sampled Gaussian mechanism the accountant (privacy/Accountant.h) measures.
//
// Workspace: privacy.mode central, privacy.clip_norm (S), privacy.noise_multiplier (z), privacy.delta,
// privacy.target_epsilon and privacy.stop_at_budget. Strategies whose server step is a mean of the updates
// declare the capability "private-mean" and take that mean from the round (RoundContext::privateMean).
// What epsilon covers: the released sequence of global models, against someone who knows neither the run's
// seed nor its store. The simulator's own records (per-client losses and accuracies, who was sampled, round
// sizes and times, the seed) are not privatized: the store is the experimenter's trusted view. Torch-free.
#pragma once

#include "strategy/Strategy.h"

#include <QStringList>

#include <cstdint>
#include <optional>
#include <vector>

namespace fedwb {

class FederationSpec;
class Registry;

namespace privacy {

// Adaptive clipping (Andrew, Thakkar, McMahan, Ramaswamy 2021, "Differentially Private Learning with
// Adaptive Clipping", Algorithm 1 with geometric updates): the clip norm C follows a target quantile gamma
// of the update norms. Each round, with b_k = 1 if ||delta_k|| <= C (centred: b_k - 1/2, sensitivity 1/2),
//   b~ = 1/2 + (sum_k (b_k - 1/2) + N(0, sigma_b^2)) / denominator,   C <- C exp(-eta (b~ - gamma)),
// and the updates' noise multiplier is z_delta = (z^-2 - (2 sigma_b)^-2)^-1/2, so the round as a whole (sum
// and count) is the Gaussian mechanism of noise multiplier z that the accountant measures.
struct AdaptiveClipping {
    double targetQuantile = 0.5; // gamma
    double learningRate = 0.2;   // eta
    double countStd = 1;         // sigma_b, in clients
};

// min(1, clipNorm / norm): the factor that scales a vector of L2 norm `norm` into the ball of radius
// clipNorm (exact clipping; 1 for a zero vector).
inline double clipFactor(double norm, double clipNorm) {
    return norm > clipNorm ? clipNorm / norm : 1.0;
}

class GaussianSumMean : public PrivateMean {
public:
    // clipNorm > 0, noiseMultiplier >= 0 (0, for tests: clipping only), denominator > 0; throws
    // std::invalid_argument otherwise. Noise of round r comes from the generator keyed (seed, "dp-noise", r)
    // (the count's from (seed, "dp-clip-count", r)). With adaptive clipping 2 sigma_b must exceed z.
    GaussianSumMean(double clipNorm, double noiseMultiplier, double denominator, std::uint64_t seed,
                    std::optional<AdaptiveClipping> adaptive = std::nullopt);

    // release(clippedSum(updates, size), round): (sum_k clip_C(delta_k) + N(0, (z_delta C)^2 I)) /
    // denominator, in double, updates in the order given; also for no updates at all (a Poisson round that
    // sampled nobody still releases noise). With adaptive clipping C then moves for the next round.
    std::vector<double> mean(const std::vector<ClientUpdate> &updates, std::size_t size, int round) override;

    // A round's clipped updates, summed: what release() takes.
    struct ClippedSum {
        std::vector<double> sum; // sum_k clip_C(delta_k)
        double unclipped = 0;    // how many updates had norm <= C (adaptive clipping's count)
        double count = 0;        // how many updates were summed
    };
    // The clipped sum of `updates` in double, in the order given, with C = clipNorm().
    ClippedSum clippedSum(const std::vector<ClientUpdate> &updates, std::size_t size) const;
    // (sum + N(0, (z_delta C)^2 I)) / denominator, and with adaptive clipping the next round's C from the
    // noised share of unclipped updates: the release of a clipped sum, whether summed here or by secure
    // aggregation (privacy/SecureAggregation.h: each client clips to clipNorm() before masking).
    std::vector<double> release(ClippedSum clipped, int round);

    double clipNorm() const { return m_clip; } // for the next round
    void setClipNorm(double clip);             // a continued run's; throws unless > 0 and finite
    double noiseStd() const { return m_updateNoiseMultiplier * m_clip; }     // of the sum, per coordinate
    double updateNoiseMultiplier() const { return m_updateNoiseMultiplier; } // z_delta (z without adaptation)
    double denominator() const { return m_denominator; }
    const std::optional<AdaptiveClipping> &adaptive() const { return m_adaptive; }
    double lastUnclippedFraction() const { return m_lastFraction; } // b~ of the last round (adaptive)

private:
    double m_clip, m_noiseMultiplier, m_updateNoiseMultiplier, m_denominator;
    std::uint64_t m_seed;
    std::optional<AdaptiveClipping> m_adaptive;
    double m_lastFraction = 0;
};

// The mechanism of a workspace with privacy.mode central (nullptr otherwise); its accountant is the run's
// PrivacyLedger (privacy/PrivacyLedger.h).
std::shared_ptr<GaussianSumMean> centralMechanismFor(const FederationSpec &spec);

// The registered strategies whose server step is a mean of the updates (capability "private-mean"), in
// registration order: the ones central DP and secure aggregation can replace the mean of.
QStringList privateMeanStrategies();

// The `privacy` section of the workspace schema (with its cross-field check).
void registerPrivacy(Registry &registry);

} // namespace privacy
} // namespace fedwb
