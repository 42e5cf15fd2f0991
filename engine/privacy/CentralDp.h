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

#include <cstdint>
#include <optional>
#include <vector>

namespace fedwb {

class FederationSpec;
class Registry;

namespace privacy {

class PrivacyAccountant;

class GaussianSumMean : public PrivateMean {
public:
    // clipNorm > 0, noiseMultiplier >= 0 (0, for tests: clipping only), denominator > 0; throws
    // std::invalid_argument otherwise. Noise of round r comes from the generator keyed (seed, "dp-noise", r).
    GaussianSumMean(double clipNorm, double noiseMultiplier, double denominator, std::uint64_t seed);

    // (sum_k clip_S(delta_k) + N(0, (z S)^2 I)) / denominator, in double, updates in the order given; also
    // for no updates at all (a Poisson round that sampled nobody still releases noise).
    std::vector<double> mean(const std::vector<ClientUpdate> &updates, std::size_t size,
                             int round) const override;

    double clipNorm() const { return m_clip; }
    double noiseStd() const { return m_noiseMultiplier * m_clip; } // of the sum, per coordinate
    double denominator() const { return m_denominator; }

private:
    double m_clip, m_noiseMultiplier, m_denominator;
    std::uint64_t m_seed;
};

// The mechanism and the accountant of a workspace with privacy.mode central (nullopt parts for none).
struct CentralPrivacy {
    std::shared_ptr<GaussianSumMean> mechanism;
    std::shared_ptr<PrivacyAccountant> accountant;
    double targetEpsilon = 0; // 0: no budget
    bool stopAtBudget = false;
};
// Throws std::invalid_argument for settings the accountant refuses (validation keeps them out).
std::optional<CentralPrivacy> centralPrivacyFor(const FederationSpec &spec);

// The `privacy` section of the workspace schema (with its cross-field check).
void registerPrivacy(Registry &registry);

} // namespace privacy
} // namespace fedwb
