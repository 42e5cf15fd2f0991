// The formulas are in Accountant.h, with their references.
#include "privacy/Accountant.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace fedwb::privacy {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

void checkRate(double q) {
    if (!(q > 0 && q <= 1))
        throw std::invalid_argument("rate " + num(q) + " is out of range; allowed: a number in (0, 1]");
}
void checkNoise(double z) {
    if (!(z > 0 && std::isfinite(z)))
        throw std::invalid_argument("noise multiplier " + num(z) + " is out of range; allowed: a number > 0");
}
void checkDelta(double delta) {
    if (!(delta > 0 && delta < 1))
        throw std::invalid_argument("delta " + num(delta) + " is out of range; allowed: a number in (0, 1)");
}
void checkOrder(double order) {
    if (!(order > 1 && std::isfinite(order)))
        throw std::invalid_argument("RDP order " + num(order) + " is out of range; allowed: a number > 1");
}

// log(exp(a) + exp(b)), exact for infinite arguments.
double logAdd(double a, double b) {
    if (a == -kInf) return b;
    if (b == -kInf) return a;
    const double m = std::max(a, b);
    return m + std::log1p(std::exp(-std::abs(a - b)));
}

// log(exp(a) - exp(b)) for a >= b.
double logSub(double a, double b) {
    if (b == -kInf) return a;
    if (b >= a) return -kInf;
    return a + std::log1p(-std::exp(b - a));
}

// log(erfc(x) / 2), also where erfc(x) underflows (x > ~26): the asymptotic expansion
// erfc(x) = exp(-x^2) / (x sqrt(pi)) (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6) + 105/(16x^8) - ...).
double logHalfErfc(double x) {
    if (x < 25) return std::log(0.5 * std::erfc(x));
    const double u = 1 / (x * x);
    const double series = 1 + u * (-0.5 + u * (0.75 + u * (-1.875 + u * 6.5625)));
    return -x * x - std::log(x) - 0.5 * std::log(std::numbers::pi) - std::numbers::ln2 + std::log(series);
}

// log(e^x - 1) for x > 0.
double logExpm1(double x) {
    return x > 30 ? x + std::log1p(-std::exp(-x)) : std::log(std::expm1(x));
}

bool isInteger(double order) {
    return order == std::floor(order);
}

// log A_alpha for an integer alpha >= 2 (Poisson, q < 1): the binomial expansion.
double logAPoissonInteger(double q, double z, int alpha) {
    const double logQ = std::log(q), log1mQ = std::log1p(-q), twoZ2 = 2 * z * z;
    double logA = -kInf, logBinom = 0; // log C(alpha, k)
    for (int k = 0; k <= alpha; ++k) {
        if (k > 0) logBinom += std::log(double(alpha - k + 1)) - std::log(double(k));
        const double kk = k;
        logA = logAdd(logA, logBinom + (alpha - kk) * log1mQ + kk * logQ + (kk * kk - kk) / twoZ2);
    }
    return logA;
}

// log A_alpha for a fractional alpha > 1 (Poisson, q < 1): A = sum_k (T1_k + T2_k) with
//   T1_k = C(alpha,k) (1-q)^{alpha-k} q^k     exp((k^2 - k)/(2z^2)) erfc((k - x0)/(sqrt2 z)) / 2
//   T2_k = C(alpha,k) (1-q)^k     q^{alpha-k} exp((j^2 - j)/(2z^2)) erfc((x0 - j)/(sqrt2 z)) / 2,  j =
//   alpha-k
// (the integral of N(0,z^2)^{1-alpha} ((1-q) N(0,z^2) + q N(1,z^2))^alpha, expanded by the generalized
// binomial series below and above x0 = 1/2 + z^2 log(1/q - 1), where the two mixture parts are equal).
// C(alpha, k) changes sign for k > alpha: positive and negative parts are summed separately in log space.
// Past k > alpha the terms alternate and shrink; the sum stops when a term is below e^-44 of the total.
double logAPoissonFractional(double q, double z, double alpha) {
    const double logQ = std::log(q), log1mQ = std::log1p(-q), twoZ2 = 2 * z * z;
    const double x0 = 0.5 + z * z * (log1mQ - logQ);
    const double sqrt2Z = std::numbers::sqrt2 * z;
    double logPos = -kInf, logNeg = -kInf;
    double logBinom = 0; // log |C(alpha, k)|
    bool negative = false;
    constexpr int kMaxTerms = 1000000;
    for (int k = 0; k < kMaxTerms; ++k) {
        if (k > 0) {
            const double factor = alpha - (k - 1);
            logBinom += std::log(std::abs(factor)) - std::log(double(k));
            if (factor < 0) negative = !negative;
        }
        const double kk = k, j = alpha - kk;
        const double t1 =
            logBinom + j * log1mQ + kk * logQ + (kk * kk - kk) / twoZ2 + logHalfErfc((kk - x0) / sqrt2Z);
        const double t2 =
            logBinom + kk * log1mQ + j * logQ + (j * j - j) / twoZ2 + logHalfErfc((x0 - j) / sqrt2Z);
        const double t = logAdd(t1, t2);
        if (negative)
            logNeg = logAdd(logNeg, t);
        else
            logPos = logAdd(logPos, t);
        if (kk > alpha + 1 && t < logPos - 30) break;
    }
    return logSub(logPos, logNeg);
}

// The fixed-size (without replacement, replace-one) bound at an integer alpha >= 2: Wang, Balle,
// Kasiviswanathan 2019, Theorem 9, base Gaussian eps(j) = 2 j / z^2; never above the base mechanism itself
// (Rényi divergence is jointly quasi-convex, so subsampling cannot increase it).
double rdpFixedSizeInteger(double q, double z, int alpha) {
    const double base = 2.0 * alpha / (z * z);
    if (q == 1) return base;
    const double logQ = std::log(q), eps2 = 4 / (z * z);
    double logBinom = std::log(alpha * (alpha - 1) / 2.0); // log C(alpha, 2)
    double logSum = 0;                                     // the leading 1
    logSum = logAdd(logSum,
                    logBinom + 2 * logQ + std::min(std::log(4.0) + logExpm1(eps2), std::numbers::ln2 + eps2));
    for (int j = 3; j <= alpha; ++j) {
        logBinom += std::log(double(alpha - j + 1)) - std::log(double(j));
        const double jj = j;
        logSum = logAdd(logSum, std::numbers::ln2 + logBinom + jj * logQ + (jj - 1) * (2 * jj / (z * z)));
    }
    return std::min(base, logSum / (alpha - 1));
}

} // namespace

const char *samplingName(Sampling s) {
    return s == Sampling::FixedSize ? "fixed" : "poisson";
}

bool samplingFromName(const std::string &name, Sampling *s) {
    if (name == "poisson") {
        *s = Sampling::Poisson;
        return true;
    }
    if (name == "fixed") {
        *s = Sampling::FixedSize;
        return true;
    }
    return false;
}

double rdpPoisson(double q, double z, double order) {
    checkRate(q);
    checkNoise(z);
    checkOrder(order);
    if (q == 1) return order / (2 * z * z);
    const double logA = isInteger(order) && order <= std::numeric_limits<int>::max()
                            ? logAPoissonInteger(q, z, int(order))
                            : logAPoissonFractional(q, z, order);
    return std::max(0.0, logA / (order - 1)); // A >= 1 exactly; rounding may leave -1e-17
}

double rdpFixedSize(double q, double z, double order) {
    checkRate(q);
    checkNoise(z);
    checkOrder(order);
    const double base = 2 * order / (z * z);
    if (order <= 2) return std::min(base, rdpFixedSizeInteger(q, z, 2)); // RDP is nondecreasing in alpha
    if (isInteger(order) && order <= std::numeric_limits<int>::max())
        return rdpFixedSizeInteger(q, z, int(order));
    // (alpha - 1) eps(alpha) is convex in alpha: interpolate it between the neighbouring integers.
    const double a = std::floor(order), b = a + 1, t = order - a;
    const double cgf = (1 - t) * (a - 1) * rdpFixedSizeInteger(q, z, int(a)) +
                       t * (b - 1) * rdpFixedSizeInteger(q, z, int(b));
    return std::min(base, cgf / (order - 1));
}

double rdpSampledGaussian(Sampling sampling, double q, double z, double order) {
    return sampling == Sampling::FixedSize ? rdpFixedSize(q, z, order) : rdpPoisson(q, z, order);
}

const std::vector<double> &defaultOrders() {
    static const std::vector<double> orders = [] {
        std::vector<double> o;
        // alpha - 1 from 0.01 growing by a factor 1.02, rounded to 1e-4 below 52 and to integers above.
        for (double beta = 0.01; 1 + beta < 52; beta *= 1.02)
            o.push_back(std::round((1 + beta) * 1e4) / 1e4);
        for (double a = 52; a <= 1024; a = std::max(a + 1, std::round(1 + (a - 1) * 1.02)))
            o.push_back(a);
        // The orders of established accountants, so that the grid alone never gives a larger epsilon than
        // theirs for the same RDP curve: TF Privacy's compute_dp_sgd_privacy (1.25, 1.5, 1.75, 2, 2.25,
        // 2.5, 3, 3.5, 4, 4.5, 5..63, 128, 256, 512), Opacus (1.1..10.9 in steps of 0.1, 12..63).
        for (double a : {1.25, 1.5, 1.75, 2.25, 2.5, 3.5, 4.5, 128.0, 256.0, 512.0, 1024.0})
            o.push_back(a);
        for (int i = 11; i <= 109; ++i)
            o.push_back(i / 10.0);
        for (int i = 2; i <= 256; ++i)
            o.push_back(i);
        std::sort(o.begin(), o.end());
        o.erase(std::unique(o.begin(), o.end()), o.end());
        return o;
    }();
    return orders;
}

EpsilonAndOrder epsilonFromRdp(std::span<const double> orders, std::span<const double> rdp, double delta) {
    checkDelta(delta);
    if (orders.size() != rdp.size() || orders.empty())
        throw std::invalid_argument("epsilonFromRdp: orders and rdp must be non-empty and of one size");
    const double logDelta = std::log(delta);
    EpsilonAndOrder best{kInf, orders[0]};
    for (size_t i = 0; i < orders.size(); ++i) {
        const double a = orders[i];
        checkOrder(a);
        const double eps = rdp[i] + std::log1p(-1 / a) - (logDelta + std::log(a)) / (a - 1);
        if (eps < best.epsilon) best = {eps, a};
    }
    best.epsilon = std::max(0.0, best.epsilon);
    return best;
}

PrivacyAccountant::PrivacyAccountant(Sampling sampling, double q, double z, double delta,
                                     std::vector<double> orders, bool refine)
    : m_sampling(sampling)
    , m_q(q)
    , m_z(z)
    , m_delta(delta)
    , m_orders(std::move(orders))
    , m_refine(refine) {
    checkRate(q);
    checkNoise(z);
    checkDelta(delta);
    if (m_orders.empty()) throw std::invalid_argument("PrivacyAccountant: no RDP orders");
    if (!std::is_sorted(m_orders.begin(), m_orders.end()))
        throw std::invalid_argument("PrivacyAccountant: RDP orders must be sorted");
    m_rdp.reserve(m_orders.size());
    for (double a : m_orders)
        m_rdp.push_back(rdpSampledGaussian(sampling, q, z, a));
}

void PrivacyAccountant::step(std::int64_t rounds) {
    if (rounds < 0) throw std::invalid_argument("PrivacyAccountant::step: rounds must be >= 0");
    m_rounds += rounds;
}

EpsilonAndOrder PrivacyAccountant::epsilonAfter(std::int64_t totalRounds) const {
    if (totalRounds < 0) throw std::invalid_argument("PrivacyAccountant: rounds must be >= 0");
    if (totalRounds == 0) return {0, m_orders.front()};
    const double r = double(totalRounds);
    std::vector<double> composed(m_rdp.size());
    for (size_t i = 0; i < m_rdp.size(); ++i)
        composed[i] = r * m_rdp[i];
    EpsilonAndOrder best = epsilonFromRdp(m_orders, composed, m_delta);
    if (!m_refine || m_orders.size() < 2 || best.epsilon == 0 || !std::isfinite(best.epsilon)) return best;
    // Refine between the grid neighbours of the best order (golden-section search; every order gives a
    // valid bound, so this can only lower epsilon). The RDP of the sampled Gaussian bends sharply where
    // the q^alpha exp(alpha^2 / (2 z^2)) term takes over, and the optimal order often sits on that bend,
    // where a fixed grid alone is off in the third digit.
    const size_t i =
        size_t(std::lower_bound(m_orders.begin(), m_orders.end(), best.order) - m_orders.begin());
    double lo = m_orders[i > 0 ? i - 1 : 0], hi = m_orders[std::min(i + 1, m_orders.size() - 1)];
    const double logDelta = std::log(m_delta);
    auto f = [&](double a) {
        const double eps = r * rdpSampledGaussian(m_sampling, m_q, m_z, a) + std::log1p(-1 / a) -
                           (logDelta + std::log(a)) / (a - 1);
        if (eps < best.epsilon) best = {std::max(0.0, eps), a};
        return eps;
    };
    const double g = (std::sqrt(5.0) - 1) / 2;
    double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo), f1 = f(x1), f2 = f(x2);
    for (int it = 0; it < 40 && hi - lo > 1e-6 * lo; ++it) {
        if (f1 <= f2) {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - g * (hi - lo);
            f1 = f(x1);
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + g * (hi - lo);
            f2 = f(x2);
        }
    }
    return best;
}

double PrivacyAccountant::epsilon() const {
    return epsilonAfter(m_rounds).epsilon;
}

double PrivacyAccountant::optimalOrder() const {
    return epsilonAfter(m_rounds).order;
}

Calibration calibrateNoise(double q, std::int64_t rounds, double delta, double targetEpsilon,
                           Sampling sampling) {
    checkRate(q);
    if (rounds < 1)
        throw std::invalid_argument("rounds " + std::to_string(rounds) +
                                    " is out of range; allowed: an integer >= 1");
    checkDelta(delta);
    if (!(targetEpsilon > 0 && std::isfinite(targetEpsilon)))
        throw std::invalid_argument("target epsilon " + num(targetEpsilon) +
                                    " is out of range; allowed: a number > 0");
    const std::vector<double> &orders = defaultOrders();
    // Even with no privacy loss per round (z -> infinity) the conversion certifies no less than this.
    const std::vector<double> zeros(orders.size(), 0.0);
    const double floorEps = epsilonFromRdp(orders, zeros, delta).epsilon;
    if (targetEpsilon <= floorEps)
        throw std::invalid_argument("target epsilon " + num(targetEpsilon) + " is not reachable at delta " +
                                    num(delta) + " (RDP orders up to " + num(orders.back()) +
                                    "); allowed: a target epsilon above " + num(floorEps));
    auto at = [&](double z) { return PrivacyAccountant(sampling, q, z, delta).epsilonAfter(rounds); };
    double lo = 0, hi = 1; // epsilon(lo) > target (epsilon(0) is infinite), epsilon(hi) <= target
    EpsilonAndOrder atHi = at(hi);
    while (atHi.epsilon > targetEpsilon) {
        lo = hi;
        hi *= 2;
        if (hi > 1e7)
            throw std::invalid_argument("target epsilon " + num(targetEpsilon) +
                                        " needs a noise multiplier above 1e7 at this rate, rounds and delta");
        atHi = at(hi);
    }
    while (hi - lo > kCalibrationTolerance) {
        const double mid = 0.5 * (lo + hi);
        const EpsilonAndOrder e = at(mid);
        if (e.epsilon <= targetEpsilon) {
            hi = mid;
            atHi = e;
        } else {
            lo = mid;
        }
    }
    return {hi, atHi.epsilon, atHi.order, kCalibrationTolerance};
}

} // namespace fedwb::privacy
