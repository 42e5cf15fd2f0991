// Privacy accounting for the sampled Gaussian mechanism: Rényi DP per round, composed over rounds, converted
// to (epsilon, delta). Plain double arithmetic (no Qt, no torch).
//
// The mechanism of one round: a subset of the population is sampled, each sampled contribution is clipped to
// L2 norm C, the contributions are summed and Gaussian noise N(0, (z C)^2 I) is added; z is the noise
// multiplier. Two ways of sampling:
//
//  - Sampling::Poisson: every member is included independently with probability q. Neighbouring datasets:
//    add/remove one member (the relation of DP-SGD accountants, Abadi et al. 2016). RDP at order alpha is
//    the exact value of Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian
//    Mechanism" (arXiv:1908.10530): (1/(alpha-1)) log A_alpha with
//      A_alpha = E_{x ~ N(0, z^2)} [((1-q) + q exp((2x - 1) / (2 z^2)))^alpha],
//    for integer alpha the binomial expansion (their Section 3.2)
//      A_alpha = sum_{k=0}^{alpha} C(alpha, k) (1-q)^{alpha-k} q^k exp((k^2 - k) / (2 z^2)),
//    for fractional alpha the two convergent series of their Section 3.3 (split at
//    x0 = 1/2 + z^2 log(1/q - 1)), all in log space. q = 1 is the Gaussian mechanism, alpha / (2 z^2).
//
//  - Sampling::FixedSize: a uniformly random subset of exactly m = q N of the N members, without
//    replacement. Neighbouring datasets: replace one member (N is public; add/remove is not defined for a
//    fixed-size sample). Bound used: Wang, Balle, Kasiviswanathan 2019, "Subsampled Rényi Differential
//    Privacy and Analytical Moments Accountant" (AISTATS 2019, arXiv:1808.00087), Theorem 9, for integer
//    alpha >= 2 with gamma = q and a base mechanism of RDP eps(j):
//      eps'(alpha) <= 1/(alpha-1) log(1 + gamma^2 C(alpha,2) min{4 (e^{eps(2)} - 1), 2 e^{eps(2)}}
//                                      + sum_{j=3}^{alpha} 2 gamma^j C(alpha,j) e^{(j-1) eps(j)})
//    (the theorem's min{2, (e^{eps(inf)} - 1)^j} factors are 2: the Gaussian has eps(inf) = inf).
//    Replacing one clipped contribution moves the sum by up to 2C, so the base Gaussian mechanism has
//    eps(j) = j (2C)^2 / (2 (zC)^2) = 2 j / z^2. (Accountants that state this bound with sensitivity 1,
//    e.g. "noise multiplier s" for replace-one, correspond to z = 2 s here.) Fractional orders: for
//    alpha in (1, 2) eps'(2) (RDP is nondecreasing in alpha); above 2, (alpha-1) eps'(alpha) is
//    interpolated linearly between the neighbouring integers ((alpha-1) D_alpha is convex in alpha, van
//    Erven and Harremoës 2014). It is an UPPER bound on the RDP, not the exact value.
//
// Composition: RDP at each order adds over rounds. Conversion to (epsilon, delta) on a grid of orders, the
// optimal-order conversion of Balle, Barthe, Gaboardi, Hsu, Sato 2020 ("Hypothesis testing interpretations
// and Rényi differential privacy", AISTATS) and Canonne, Kamath, Steinke 2020 ("The discrete Gaussian for
// differential privacy"), the one established RDP accountants use:
//      epsilon = min_alpha  rdp(alpha) + log((alpha-1)/alpha) - (log delta + log alpha) / (alpha - 1),
// clamped at 0; the minimizing order is reported.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace fedwb::privacy {

enum class Sampling { Poisson, FixedSize };

// "poisson" / "fixed"; fromName returns false for anything else.
const char *samplingName(Sampling s);
bool samplingFromName(const std::string &name, Sampling *s);

// RDP at `order` (> 1) of one round. q in (0, 1], z > 0; throw std::invalid_argument otherwise.
double rdpPoisson(double q, double z, double order);
double rdpFixedSize(double q, double z, double order);
double rdpSampledGaussian(Sampling sampling, double q, double z, double order);

// The default order grid (sorted, 1.01 to 1024): alpha - 1 from 0.01 growing by 2% per order, joined with
// the orders of TF Privacy's compute_dp_sgd_privacy and of Opacus (so the grid alone never gives a larger
// epsilon than theirs for the same RDP curve) and every integer up to 256.
const std::vector<double> &defaultOrders();

struct EpsilonAndOrder {
    double epsilon = 0;
    double order = 0; // the order reaching the minimum
};

// The conversion above for a composed RDP curve `rdp` (same length as `orders`, every order > 1).
EpsilonAndOrder epsilonFromRdp(std::span<const double> orders, std::span<const double> rdp, double delta);

// A running account of one mechanism (fixed sampling, q, z) over rounds, at a fixed delta. The per-round
// RDP curve on the grid is computed once in the constructor; epsilon() takes the best grid order and then
// (refine) searches the interval between its grid neighbours by golden section (~30 more RDP evaluations),
// so epsilon is the optimum over all orders to about 1e-6 (relative; tests/benchmarks/README.md, "privacy
// accountant"), not only over the grid. refine = false: the minimum over `orders` only.
class PrivacyAccountant {
public:
    // q in (0, 1], z > 0 and finite, delta in (0, 1), orders sorted and > 1; throws std::invalid_argument
    // otherwise.
    PrivacyAccountant(Sampling sampling, double q, double z, double delta,
                      std::vector<double> orders = defaultOrders(), bool refine = true);

    void step(std::int64_t rounds = 1); // rounds >= 0
    std::int64_t rounds() const { return m_rounds; }
    double epsilon() const;      // after rounds(); 0 before the first round
    double optimalOrder() const; // the order reaching epsilon()
    EpsilonAndOrder
    epsilonAfter(std::int64_t totalRounds) const; // after totalRounds rounds in all:
                                                  // epsilonAfter(rounds() + 1) is the next one

    Sampling sampling() const { return m_sampling; }
    double rate() const { return m_q; }
    double noiseMultiplier() const { return m_z; }
    double delta() const { return m_delta; }
    const std::vector<double> &orders() const { return m_orders; }
    const std::vector<double> &rdpPerRound() const { return m_rdp; }

private:
    Sampling m_sampling;
    double m_q, m_z, m_delta;
    std::vector<double> m_orders, m_rdp;
    bool m_refine = true;
    std::int64_t m_rounds = 0;
};

struct Calibration {
    double noiseMultiplier = 0; // the smallest z (within `tolerance`) reaching epsilon <= target
    double epsilon = 0;         // the epsilon it reaches
    double order = 0;           // its optimal order
    double tolerance = 0;       // noiseMultiplier - tolerance does not reach the target
};

// Absolute tolerance of calibrateNoise on z.
inline constexpr double kCalibrationTolerance = 1e-4;

// The smallest noise multiplier whose epsilon after `rounds` rounds is <= targetEpsilon, by bisection on z
// (epsilon is nonincreasing in z) down to kCalibrationTolerance. Throws std::invalid_argument naming the
// parameter and its range: rate q in (0, 1], rounds >= 1, delta in (0, 1), target epsilon > 0; and when the
// target is below what the order grid can certify at this delta (even with z -> infinity).
Calibration calibrateNoise(double q, std::int64_t rounds, double delta, double targetEpsilon,
                           Sampling sampling = Sampling::Poisson);

} // namespace fedwb::privacy
