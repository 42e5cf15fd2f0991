// The privacy accountant (engine/privacy/Accountant.h) against independent computations written here in
// plain double arithmetic (the binomial sums, a numerical integral, the conversions) and against published
// values of TF Privacy, never against its own output.
#include "privacy/Accountant.h"
#include "privacy/CentralDp.h"
#include "privacy/LocalDp.h"
#include "strategy/Strategy.h"

#include <QTest>

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <vector>

using namespace fedwb::privacy;

namespace {

// C(n, k) in double by the product formula.
double binomial(int n, int k) {
    double c = 1;
    for (int i = 1; i <= k; ++i)
        c = c * (n - k + i) / i;
    return c;
}

// Mironov, Talwar, Zhang 2019, integer alpha: A = sum_k C(a,k) (1-q)^(a-k) q^k exp((k^2-k)/(2 z^2)),
// RDP = log(A) / (a - 1). Plain doubles: only for moderate a and z (no overflow).
double plainPoisson(double q, double z, int a) {
    double sum = 0;
    for (int k = 0; k <= a; ++k)
        sum += binomial(a, k) * std::pow(1 - q, a - k) * std::pow(q, k) * std::exp((k * k - k) / (2 * z * z));
    return std::log(sum) / (a - 1);
}

// Wang, Balle, Kasiviswanathan 2019, Theorem 9 with the replace-one Gaussian eps(j) = 2 j / z^2, capped by
// the Gaussian mechanism itself.
double plainFixedSize(double q, double z, int a) {
    auto eps = [&](int j) { return 2.0 * j / (z * z); };
    double sum = 1 + q * q * binomial(a, 2) * std::min(4 * (std::exp(eps(2)) - 1), 2 * std::exp(eps(2)));
    for (int j = 3; j <= a; ++j)
        sum += 2 * std::pow(q, j) * binomial(a, j) * std::exp((j - 1) * eps(j));
    return std::min(eps(a), std::log(sum) / (a - 1));
}

// A_alpha = integral of N(x; 0, z^2) ((1-q) + q exp((2x - 1) / (2 z^2)))^alpha dx by composite Simpson over
// [-14 z, alpha + 14 z] (the integrand's mass lies within), for fractional alpha.
double integralPoisson(double q, double z, double a) {
    const double lo = -14 * z, hi = a + 14 * z;
    const int n = 400000;
    const double h = (hi - lo) / n;
    auto f = [&](double x) {
        const double normal = std::exp(-x * x / (2 * z * z)) / (z * std::sqrt(2 * std::numbers::pi));
        return normal * std::pow((1 - q) + q * std::exp((2 * x - 1) / (2 * z * z)), a);
    };
    double s = f(lo) + f(hi);
    for (int i = 1; i < n; ++i)
        s += f(lo + i * h) * (i % 2 ? 4 : 2);
    return std::log(s * h / 3) / (a - 1);
}

double relDiff(double a, double b) {
    return std::abs(a - b) / std::max(std::abs(b), 1e-300);
}

// TF Privacy's tutorial mnist_dpsgd_tutorial.py computes epsilon with the orders
// [1 + x / 10 for x in 1..99] + [12..63] and the conversion of its rdp_accountant.get_privacy_spent at the
// time, eps = min_alpha rdp - log(delta) / (alpha - 1) (Mironov 2017, Proposition 3).
double classicEpsilon(double q, double z, std::int64_t steps, double delta) {
    std::vector<double> orders;
    for (int x = 1; x < 100; ++x)
        orders.push_back(1 + x / 10.0);
    for (int a = 12; a < 64; ++a)
        orders.push_back(a);
    double best = INFINITY;
    for (double a : orders)
        best = std::min(best, steps * rdpPoisson(q, z, a) - std::log(delta) / (a - 1));
    return best;
}

// The improved conversion, written out: min over orders of rdp + log((a-1)/a) - (log delta + log a)/(a-1).
double improvedEpsilon(Sampling s, double q, double z, std::int64_t steps, double delta,
                       const std::vector<double> &orders) {
    double best = INFINITY;
    for (double a : orders)
        best = std::min(best, steps * rdpSampledGaussian(s, q, z, a) + std::log((a - 1) / a) -
                                  (std::log(delta) + std::log(a)) / (a - 1));
    return std::max(0.0, best);
}

// TF Privacy compute_dp_sgd_privacy_lib.compute_dp_sgd_privacy's orders.
std::vector<double> tfOrders() {
    std::vector<double> o{1.25, 1.5, 1.75, 2., 2.25, 2.5, 3., 3.5, 4., 4.5};
    for (int a = 5; a < 64; ++a)
        o.push_back(a);
    for (double a : {128., 256., 512.})
        o.push_back(a);
    return o;
}

double epsilonOf(Sampling s, double q, double z, std::int64_t rounds, double delta) {
    return PrivacyAccountant(s, q, z, delta).epsilonAfter(rounds).epsilon;
}

// One update per delta (client ids 0, 1, ...), viewing `deltas`.
std::vector<fedwb::ClientUpdate> updatesOf(const std::vector<std::vector<float>> &deltas) {
    std::vector<fedwb::ClientUpdate> updates;
    for (std::size_t i = 0; i < deltas.size(); ++i) {
        fedwb::ClientUpdate u;
        u.clientId = int(i);
        u.delta = deltas[i];
        updates.push_back(u);
    }
    return updates;
}

// Standard normal CDF.
double phi(double x) {
    return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}

// The exact privacy curve of the Gaussian mechanism with mu = sensitivity / sigma (Balle & Wang 2018,
// Theorem 8; Dong, Roth, Su 2019 for k-fold composition, mu -> sqrt(k) mu):
//   delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2),
// inverted by bisection (delta is decreasing in eps). No RDP at all: an independent reference.
double exactGaussianEpsilon(double mu, double delta) {
    auto deltaOf = [&](double eps) {
        return phi(-eps / mu + mu / 2) - std::exp(eps) * phi(-eps / mu - mu / 2);
    };
    double lo = 0, hi = 500;
    for (int i = 0; i < 200; ++i) {
        const double mid = (lo + hi) / 2;
        (deltaOf(mid) > delta ? lo : hi) = mid;
    }
    return hi;
}

} // namespace

class TestPrivacy : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void integerOrdersMatchThePlainBinomialSum() {
        struct P {
            double q, z;
            int a;
        };
        for (const P &p : {P{0.01, 1.0, 2}, P{0.01, 1.0, 8}, P{0.01, 1.0, 32}, P{0.1, 2.0, 5},
                           P{0.05, 0.8, 10}, P{0.3, 1.5, 20}, P{0.5, 3.0, 40}, P{0.9, 1.0, 3},
                           P{0.02, 0.7, 12}, P{0.01, 4.0, 30}, P{0.2, 6.0, 64}}) {
            const double mine = rdpPoisson(p.q, p.z, p.a), plain = plainPoisson(p.q, p.z, p.a);
            QVERIFY2(relDiff(mine, plain) < 1e-10, qPrintable(QStringLiteral("q %1 z %2 alpha %3: %4 vs %5")
                                                                  .arg(p.q)
                                                                  .arg(p.z)
                                                                  .arg(p.a)
                                                                  .arg(mine, 0, 'g', 15)
                                                                  .arg(plain, 0, 'g', 15)));
            if ((p.a - 1) * 2.0 * p.a / (p.z * p.z) > 700) continue; // exp overflows in plain doubles
            const double fixedMine = rdpFixedSize(p.q, p.z, p.a), fixedPlain = plainFixedSize(p.q, p.z, p.a);
            QVERIFY2(relDiff(fixedMine, fixedPlain) < 1e-10,
                     qPrintable(QStringLiteral("fixed q %1 z %2 alpha %3: %4 vs %5")
                                    .arg(p.q)
                                    .arg(p.z)
                                    .arg(p.a)
                                    .arg(fixedMine, 0, 'g', 15)
                                    .arg(fixedPlain, 0, 'g', 15)));
        }
        // q = 1: the Gaussian mechanism, alpha / (2 z^2), for either sampling (fixed-size with replace-one
        // neighbours: sensitivity 2, so 4 alpha / (2 z^2)).
        for (double a : {1.5, 2.0, 7.3, 64.0}) {
            QVERIFY(relDiff(rdpPoisson(1, 1.7, a), a / (2 * 1.7 * 1.7)) < 1e-14);
            QVERIFY(relDiff(rdpFixedSize(1, 1.7, a), 4 * a / (2 * 1.7 * 1.7)) < 1e-14);
        }
    }

    void fractionalOrdersMatchANumericalIntegral() {
        struct P {
            double q, z, a;
        };
        for (const P &p : {P{0.01, 1.0, 1.5}, P{0.05, 0.8, 2.5}, P{0.2, 1.2, 3.7}, P{0.5, 2.0, 1.1},
                           P{0.01, 2.5, 1.5}, P{0.1, 1.0, 10.3}, P{0.003, 1.1, 8.7}, P{0.7, 3.0, 1.03}}) {
            const double mine = rdpPoisson(p.q, p.z, p.a), integral = integralPoisson(p.q, p.z, p.a);
            QVERIFY2(relDiff(mine, integral) < 1e-6, qPrintable(QStringLiteral("q %1 z %2 alpha %3: %4 vs %5")
                                                                    .arg(p.q)
                                                                    .arg(p.z)
                                                                    .arg(p.a)
                                                                    .arg(mine, 0, 'g', 12)
                                                                    .arg(integral, 0, 'g', 12)));
        }
    }

    // TF Privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (test_compute_rdp_scalar,
    // test_compute_rdp_sequence, test_compute_rdp_no_sampling): compute_rdp(q, noise_multiplier, steps,
    // orders) is steps x the RDP of one step.
    void rdpMatchesTfPrivacyReferenceValues() {
        QVERIFY(std::abs(10 * rdpPoisson(0.1, 2, 5) - 0.07737) < 0.5e-5);
        QCOMPARE(rdpPoisson(1, 10, 20), 0.1);
        const double orders[] = {1.5, 2.5, 5, 50, 100};
        const double expected[] = {0.00065, 0.001085, 0.00218075, 0.023846, 167.416307};
        for (int i = 0; i < 5; ++i)
            QVERIFY2(std::abs(50 * rdpPoisson(0.01, 2.5, orders[i]) - expected[i]) < 1e-5,
                     qPrintable(QString::number(orders[i])));
        // The same file, test_compute_rdp_sequence_without_replacement:
        // compute_rdp_sample_without_replacement (0.01, 2.5, 50, orders) states the bound for sensitivity 1
        // under replace-one, which is our z = 2 x 2.5. Where TF Privacy uses the Theorem 9 bound too (orders
        // < 2 take order 2; 100; and above 256, where it switches to it) the values agree; at 2.5 .. 256 it
        // uses a tighter Gaussian-specific bound from the paper's extended version and ours, the general
        // bound, is above it.
        const double same[] = {1.001, 1.5, 100, 512, 1024};
        const double sameExpected[] = {0.003470, 0.003470, 167.766388, 1817.35871, 3865.55029};
        for (int i = 0; i < 5; ++i)
            QVERIFY2(std::abs(50 * rdpFixedSize(0.01, 5, same[i]) - sameExpected[i]) < 1e-5,
                     qPrintable(QString::number(same[i])));
        const double tighter[] = {2.5, 5, 50, 256};
        const double tighterExpected[] = {0.004638, 0.0087633, 0.098474, 792.838516};
        for (int i = 0; i < 4; ++i)
            QVERIFY(50 * rdpFixedSize(0.01, 5, tighter[i]) >= tighterExpected[i] - 1e-5);
    }

    // TF Privacy, tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py (test_compute_dp_sgd_
    // privacy): n 60000, batch 150, noise 1.3, 15 epochs, delta 1e-5 -> eps 0.7242234026109595 at order 19;
    // n 100000, batch 100, noise 1.0, 30 epochs, delta 1e-7 -> eps 1.4154988495444842 at order 13 (q = batch
    // / n, steps = ceil(epochs n / batch), the improved conversion, the orders of tfOrders()).
    void epsilonMatchesTfPrivacyDpSgdValues() {
        struct C {
            double q, z;
            std::int64_t steps;
            double delta, eps, order;
        };
        for (const C &c : {C{150.0 / 60000, 1.3, 6000, 1e-5, 0.7242234026109595, 19},
                           C{100.0 / 100000, 1.0, 30000, 1e-7, 1.4154988495444842, 13}}) {
            // On TF's orders, without refinement: the same number to 1e-9.
            const EpsilonAndOrder onTf =
                PrivacyAccountant(Sampling::Poisson, c.q, c.z, c.delta, tfOrders(), false)
                    .epsilonAfter(c.steps);
            QVERIFY2(relDiff(onTf.epsilon, c.eps) < 1e-9, qPrintable(QString::number(onTf.epsilon, 'g', 16)));
            QCOMPARE(onTf.order, c.order);
            // The default (grid + refinement between grid orders) is the optimum over all orders: never above
            // TF's figure and below it only by TF's grid error (0.03% and 0.13% here: the optimal orders are
            // 19.09 and 12.91). The brute-force scan over 12,000 orders around the optimum agrees.
            const EpsilonAndOrder mine =
                PrivacyAccountant(Sampling::Poisson, c.q, c.z, c.delta).epsilonAfter(c.steps);
            QVERIFY(mine.epsilon <= c.eps);
            QVERIFY2(relDiff(mine.epsilon, c.eps) < 2e-3, qPrintable(QString::number(mine.epsilon, 'g', 10)));
            std::vector<double> scan;
            for (int i = 0; i <= 12000; ++i)
                scan.push_back(c.order - 3 + i * 0.0005);
            const double brute = improvedEpsilon(Sampling::Poisson, c.q, c.z, c.steps, c.delta, scan);
            QVERIFY2(
                relDiff(mine.epsilon, brute) < 1e-6,
                qPrintable(QStringLiteral("%1 vs %2").arg(mine.epsilon, 0, 'g', 12).arg(brute, 0, 'g', 12)));
        }
    }

    // TF Privacy, tutorials/README.md ("Expected Output") for mnist_dpsgd_tutorial.py with its defaults
    // (noise_multiplier 1.12, batch 256 of 60000, 60 epochs of 60000 // 256 = 234 steps, delta 1e-5):
    // "For delta=1e-5, the current epsilon is: 1.00" after 1 epoch, 1.04 after 2, 2.92 after 60 (printed
    // with two decimals; the old conversion, see classicEpsilon). With the improved conversion and all
    // orders the same run is (2.5164, 1e-5)-DP.
    void epsilonMatchesTheTfPrivacyTutorial() {
        const double q = 256.0 / 60000;
        QVERIFY(std::abs(classicEpsilon(q, 1.12, 234, 1e-5) - 1.00) < 0.005);
        QVERIFY(std::abs(classicEpsilon(q, 1.12, 2 * 234, 1e-5) - 1.04) < 0.005);
        QVERIFY(std::abs(classicEpsilon(q, 1.12, 60 * 234, 1e-5) - 2.92) < 0.005);
        const double improved = epsilonOf(Sampling::Poisson, q, 1.12, 60 * 234, 1e-5);
        QVERIFY(improved < classicEpsilon(q, 1.12, 60 * 234, 1e-5));
        QVERIFY(std::abs(improved - 2.5164) < 1e-4);
    }

    void epsilonIsMonotone() {
        for (Sampling s : {Sampling::Poisson, Sampling::FixedSize}) {
            double last = 0;
            for (double q : {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0}) { // increases with q
                const double e = epsilonOf(s, q, 1.0, 100, 1e-5);
                // Fixed-size: at q = 1 the bound is the Gaussian mechanism's, which it may reach before.
                QVERIFY2(s == Sampling::FixedSize && q == 1 ? e >= last : e > last,
                         qPrintable(QStringLiteral("q %1").arg(q)));
                last = e;
            }
            last = 0;
            for (std::int64_t r : {1, 2, 10, 100, 1000, 10000}) { // increases with rounds
                const double e = epsilonOf(s, 0.01, 1.0, r, 1e-5);
                QVERIFY2(e > last, qPrintable(QStringLiteral("rounds %1").arg(r)));
                last = e;
            }
            last = INFINITY;
            for (double z : {0.5, 0.7, 1.0, 1.5, 2.0, 5.0, 20.0}) { // decreases with z
                const double e = epsilonOf(s, 0.01, z, 1000, 1e-5);
                QVERIFY2(e < last, qPrintable(QStringLiteral("z %1").arg(z)));
                last = e;
            }
            last = INFINITY;
            for (double d : {1e-12, 1e-9, 1e-7, 1e-5, 1e-3, 0.1}) { // decreases with delta
                const double e = epsilonOf(s, 0.01, 1.0, 1000, d);
                QVERIFY2(e < last, qPrintable(QStringLiteral("delta %1").arg(d)));
                last = e;
            }
        }
        // Fixed-size sampling (replace-one, an upper bound) is never below Poisson sampling at the same rate.
        QVERIFY(epsilonOf(Sampling::FixedSize, 0.01, 1.0, 1000, 1e-5) >
                epsilonOf(Sampling::Poisson, 0.01, 1.0, 1000, 1e-5));
    }

    void accountantStepsRoundByRound() {
        PrivacyAccountant acc(Sampling::Poisson, 0.02, 1.1, 1e-5);
        QCOMPARE(acc.rounds(), std::int64_t(0));
        QCOMPARE(acc.epsilon(), 0.0);
        double last = 0;
        for (int r = 1; r <= 5; ++r) {
            const double next = acc.epsilonAfter(acc.rounds() + 1).epsilon; // "would the next round exceed?"
            acc.step();
            QCOMPARE(acc.epsilon(), next);
            QVERIFY(acc.epsilon() > last);
            last = acc.epsilon();
        }
        acc.step(95);
        QCOMPARE(acc.rounds(), std::int64_t(100));
        QCOMPARE(acc.epsilon(), epsilonOf(Sampling::Poisson, 0.02, 1.1, 100, 1e-5));
        QVERIFY(acc.optimalOrder() > 1);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, PrivacyAccountant(Sampling::Poisson, 0, 1, 1e-5));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, PrivacyAccountant(Sampling::Poisson, 0.1, 0, 1e-5));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, PrivacyAccountant(Sampling::Poisson, 0.1, 1, 1));
    }

    void calibrationRoundTrip() {
        struct C {
            double q;
            std::int64_t rounds;
            double delta, target;
            Sampling s;
        };
        for (const C &c :
             {C{256.0 / 60000, 14040, 1e-5, 2.92, Sampling::Poisson},
              C{0.01, 1000, 1e-5, 1.0, Sampling::Poisson}, C{0.1, 50, 1e-6, 8.0, Sampling::Poisson},
              C{1.0, 10, 1e-5, 5.0, Sampling::Poisson}, C{0.05, 200, 1e-5, 3.0, Sampling::FixedSize}}) {
            const Calibration cal = calibrateNoise(c.q, c.rounds, c.delta, c.target, c.s);
            QCOMPARE(cal.tolerance, kCalibrationTolerance);
            const double reached = epsilonOf(c.s, c.q, cal.noiseMultiplier, c.rounds, c.delta);
            QCOMPARE(reached, cal.epsilon);
            QVERIFY(reached <= c.target);
            QVERIFY(epsilonOf(c.s, c.q, cal.noiseMultiplier - cal.tolerance, c.rounds, c.delta) > c.target);
        }
        // The Gaussian mechanism at q = 1 with one round, checked against the conversion written out over
        // all orders (fine scan): the calibrated z reaches the target there too.
        const Calibration g = calibrateNoise(1.0, 1, 1e-5, 1.0);
        std::vector<double> scan;
        for (int i = 1; i <= 20000; ++i)
            scan.push_back(1 + i * 0.005);
        QVERIFY(improvedEpsilon(Sampling::Poisson, 1, g.noiseMultiplier, 1, 1e-5, scan) <= 1.0 + 1e-6);
        QVERIFY(improvedEpsilon(Sampling::Poisson, 1, g.noiseMultiplier - g.tolerance, 1, 1e-5, scan) > 1.0);
    }

    void calibrationRefusesImpossibleInputs() {
        auto message = [](auto f) {
            try {
                f();
            } catch (const std::invalid_argument &e) {
                return QString::fromUtf8(e.what());
            }
            return QString();
        };
        QVERIFY(message([] { calibrateNoise(0, 10, 1e-5, 1); }).startsWith(QStringLiteral("rate 0 ")));
        QVERIFY(message([] { calibrateNoise(1.5, 10, 1e-5, 1); }).contains(QStringLiteral("(0, 1]")));
        QVERIFY(message([] { calibrateNoise(0.1, 0, 1e-5, 1); }).startsWith(QStringLiteral("rounds 0 ")));
        QVERIFY(message([] { calibrateNoise(0.1, 10, 0, 1); }).contains(QStringLiteral("(0, 1)")));
        QVERIFY(message([] { calibrateNoise(0.1, 10, 1, 1); }).startsWith(QStringLiteral("delta 1 ")));
        QVERIFY(message([] {
                    calibrateNoise(0.1, 10, 1e-5, 0);
                }).startsWith(QStringLiteral("target epsilon 0 ")));
        QVERIFY(message([] { calibrateNoise(0.1, 10, 1e-5, -1); }).contains(QStringLiteral("> 0")));
        // Below what the conversion certifies at all at this delta (even with no loss per round).
        QVERIFY(
            message([] { calibrateNoise(0.1, 10, 1e-5, 1e-4); }).contains(QStringLiteral("not reachable")));
    }

    // --- The central-DP mechanism (privacy/CentralDp.h) ---------------------------------------------------

    // Exact clipping: (3, 4) has norm 5 and becomes (0.6, 0.8) at S = 1; an update inside the ball is kept;
    // without noise the result is the clipped sum over the fixed denominator, worked by hand.
    void centralMechanismClipsExactly() {
        GaussianSumMean clipOnly(1.0, 0.0, 2.0, 7);
        const std::vector<float> big{3.0f, 4.0f}, small{0.25f, -0.5f};
        std::vector<fedwb::ClientUpdate> updates(2);
        updates[0].clientId = 0, updates[0].delta = big, updates[0].weight = 100;
        updates[1].clientId = 1, updates[1].delta = small, updates[1].weight = 1; // weights play no part
        const std::vector<double> m = clipOnly.mean(updates, 2, 1);
        QCOMPARE(m.size(), std::size_t(2));
        QVERIFY(std::abs(m[0] - (0.6 + 0.25) / 2) < 1e-15);
        QVERIFY(std::abs(m[1] - (0.8 - 0.5) / 2) < 1e-15);
        // The clipped update lies on the sphere of radius S.
        const std::vector<double> one = GaussianSumMean(2.5, 0.0, 1.0, 7).mean({updates[0]}, 2, 1);
        QVERIFY(std::abs(std::hypot(one[0], one[1]) - 2.5) < 1e-15);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, GaussianSumMean(0.0, 1.0, 1.0, 7));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, GaussianSumMean(1.0, -1.0, 1.0, 7));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, GaussianSumMean(1.0, 1.0, 0.0, 7));
    }

    // Noise: with no updates every coordinate is N(0, (z S)^2) / D. S = 2, z = 1.5, D = 4: std 0.75. Over
    // 40,000 coordinates the sample mean has a standard error of 0.00375 and the sample std one of 0.0027:
    // bounds of 5 standard errors.
    void centralMechanismNoiseHasTheRightDistribution() {
        GaussianSumMean dp(2.0, 1.5, 4.0, 11);
        QCOMPARE(dp.noiseStd(), 3.0);
        const std::size_t n = 40000;
        const std::vector<double> noise = dp.mean({}, n, 3);
        double sum = 0, squares = 0;
        for (double v : noise)
            sum += v, squares += v * v;
        const double mean = sum / double(n), sd = std::sqrt(squares / double(n) - mean * mean);
        QVERIFY2(std::abs(mean) < 5 * 0.00375, qPrintable(QString::number(mean)));
        QVERIFY2(std::abs(sd - 0.75) < 5 * 0.0027, qPrintable(QString::number(sd)));
        // Seeded: the same round draws the same noise, another round or seed other noise.
        QCOMPARE(dp.mean({}, 64, 3), std::vector<double>(noise.begin(), noise.begin() + 64));
        QVERIFY(dp.mean({}, 64, 4) != std::vector<double>(noise.begin(), noise.begin() + 64));
        QVERIFY(GaussianSumMean(2.0, 1.5, 4.0, 12).mean({}, 64, 3) != dp.mean({}, 64, 3));
    }

    // A strategy with the capability "private-mean" takes the round's private mean instead of its own
    // sample-weighted one: FedAvg moves the model by exactly the mechanism's output.
    void strategiesUseThePrivateMean() {
        GaussianSumMean clipOnly(1.0, 0.0, 4.0, 7);
        const std::vector<float> a{3.0f, 4.0f}, b{0.0f, 0.5f};
        std::vector<fedwb::ClientUpdate> updates(2);
        updates[0].delta = a, updates[0].weight = 9;
        updates[1].clientId = 1, updates[1].delta = b, updates[1].weight = 1;
        std::vector<float> global{1.0f, 1.0f};
        fedwb::RoundContext context;
        context.privateMean = &clipOnly;
        fedwb::FedAvgStrategy fedavg;
        fedavg.aggregate(global, updates, context);
        QCOMPARE(global[0], float(1.0 + 0.6 / 4));
        QCOMPARE(global[1], float(1.0 + (0.8 + 0.5) / 4));
        std::vector<float> plain{1.0f, 1.0f}; // and without it, the weighted mean (9 a + b) / 10
        fedavg.aggregate(plain, updates, fedwb::RoundContext{});
        QCOMPARE(plain[0], float(1.0 + 2.7));
        QCOMPARE(plain[1], float(1.0 + (36.0 + 0.5) / 10));
    }
    // Local DP's epsilon of k releases (sensitivity 2S, noise zS): never below the exact optimum of the
    // composed Gaussian (mu = 2 sqrt(k) / z) and never above the zCDP bound rho + 2 sqrt(rho log(1/delta))
    // with rho = mu^2 / 2 (Bun & Steinke 2016); both computed here without RDP.
    void localEpsilonBetweenExactAndZcdp() {
        QCOMPARE(localEpsilon(1.0, 0, 1e-5), 0.0);
        for (const double z : {0.8, 2.0, 5.0, 20.0})
            for (const int k : {1, 10, 100})
                for (const double delta : {1e-5, 1e-3}) {
                    const double mu = 2.0 * std::sqrt(double(k)) / z;
                    const double rho = mu * mu / 2;
                    const double exact = exactGaussianEpsilon(mu, delta);
                    const double zcdp = rho + 2 * std::sqrt(rho * std::log(1 / delta));
                    const double eps = localEpsilon(z, k, delta);
                    QVERIFY2(eps >= exact * (1 - 1e-9) && eps <= zcdp,
                             qPrintable(QStringLiteral("z %1 k %2 delta %3: exact %4 <= %5 <= zCDP %6")
                                            .arg(z)
                                            .arg(k)
                                            .arg(delta)
                                            .arg(exact)
                                            .arg(eps)
                                            .arg(zcdp)));
                    // The RDP conversion is tight for the Gaussian: within 25% of the exact optimum.
                    QVERIFY2(eps <= 1.25 * exact + 0.05, qPrintable(QString::number(eps / exact)));
                }
        // Monotone: more releases or less noise or smaller delta cost more.
        QVERIFY(localEpsilon(2.0, 11, 1e-5) > localEpsilon(2.0, 10, 1e-5));
        QVERIFY(localEpsilon(1.9, 10, 1e-5) > localEpsilon(2.0, 10, 1e-5));
        QVERIFY(localEpsilon(2.0, 10, 1e-6) > localEpsilon(2.0, 10, 1e-5));
    }

    // The local stage clips exactly to S, then adds N(0, (zS)^2) per coordinate: the noise (output minus
    // the hand-clipped input) has mean ~0 and std ~zS; the same key gives the same noise, another key other.
    void localStageClipsThenNoises() {
        const std::size_t n = 200000;
        std::vector<float> update(n, 0.01f); // norm 0.01 sqrt(n) = 4.47 > S = 1.5
        const double norm = 0.01 * std::sqrt(double(n));
        const double clipped = 0.01 * 1.5 / norm;
        LocalGaussianStage stage(1.5, 0.4);
        std::vector<float> a = update, b = update, c = update;
        stage.apply(a, {3, 7, 42});
        stage.apply(b, {3, 7, 42});
        stage.apply(c, {3, 7, 43});
        QVERIFY(a == b);
        QVERIFY(a != c);
        double sum = 0, sq = 0;
        for (float v : a) {
            const double noise = double(v) - clipped;
            sum += noise;
            sq += noise * noise;
        }
        const double mean = sum / double(n), sd = std::sqrt(sq / double(n) - mean * mean);
        const double sigma = 0.4 * 1.5;
        QVERIFY2(std::abs(mean) < 5 * sigma / std::sqrt(double(n)), qPrintable(QString::number(mean)));
        QVERIFY2(std::abs(sd - sigma) < 0.01 * sigma, qPrintable(QString::number(sd)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LocalGaussianStage(1.0, 0.0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LocalGaussianStage(0.0, 1.0));
    }

    // Adaptive clipping by hand (Andrew et al. 2021, geometric update, centred count): norms 1, 2, 3, 4 and
    // no noise, denominator 4, target quantile 0.5, rate 0.2.
    void adaptiveClippingByHand() {
        const std::vector<std::vector<float>> deltas{{1, 0}, {0, 2}, {3, 0}, {0, 4}};
        const std::vector<fedwb::ClientUpdate> updates = updatesOf(deltas);
        const AdaptiveClipping rule{0.5, 0.2, 1.0};
        // C = 2.5: two unclipped, b~ = 0.5 + (2 - 2) / 4 = 0.5 = the target: C stays.
        GaussianSumMean atMedian(2.5, 0.0, 4.0, 1, rule);
        const std::vector<double> mean = atMedian.mean(updates, 2, 1);
        QCOMPARE(mean[0], (1 + 2.5) / 4.0); // clip(3) = 2.5
        QCOMPARE(mean[1], (2 + 2.5) / 4.0); // clip(4) = 2.5
        QCOMPARE(atMedian.lastUnclippedFraction(), 0.5);
        QCOMPARE(atMedian.clipNorm(), 2.5);
        // C = 5: all unclipped, b~ = 0.5 + (4 - 2) / 4 = 1, C <- 5 exp(-0.2 (1 - 0.5)) = 5 e^-0.1.
        GaussianSumMean wide(5.0, 0.0, 4.0, 1, rule);
        wide.mean(updates, 2, 1);
        QCOMPARE(wide.lastUnclippedFraction(), 1.0);
        QVERIFY(std::abs(wide.clipNorm() - 4.524187090179797) < 1e-12);
        // C = 0.5: none unclipped, b~ = 0, C <- 0.5 e^0.1.
        GaussianSumMean narrow(0.5, 0.0, 4.0, 1, rule);
        narrow.mean(updates, 2, 1);
        QVERIFY(std::abs(narrow.clipNorm() - 0.5 * std::exp(0.1)) < 1e-12);
        // The noise split: z = 1 overall with sigma_b = 1 leaves z_delta = (1 - 1/4)^-1/2 for the updates.
        GaussianSumMean split(1.0, 1.0, 4.0, 1, rule);
        QVERIFY(std::abs(split.updateNoiseMultiplier() - 1.0 / std::sqrt(0.75)) < 1e-12);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, GaussianSumMean(1.0, 2.0, 4.0, 1, rule)); // 2 sb = z
    }

    // Fed the same norm distribution every round (1..100, no noise), the clip norm settles at the median.
    void adaptiveClippingFindsTheQuantile() {
        std::vector<std::vector<float>> deltas;
        for (int i = 1; i <= 100; ++i)
            deltas.push_back({float(i)});
        const std::vector<fedwb::ClientUpdate> updates = updatesOf(deltas);
        for (const double quantile : {0.5, 0.9}) {
            GaussianSumMean dp(1.0, 0.0, 100.0, 1, AdaptiveClipping{quantile, 0.2, 5.0});
            for (int round = 1; round <= 300; ++round)
                dp.mean(updates, 1, round);
            // Each step moves C by at most a factor e^(0.2 * 0.5): around the quantile within that band.
            const double target = 100 * quantile;
            QVERIFY2(dp.clipNorm() > target * std::exp(-0.11) - 1 &&
                         dp.clipNorm() < target * std::exp(0.11) + 1,
                     qPrintable(QString::number(dp.clipNorm())));
        }
    }
};

QTEST_GUILESS_MAIN(TestPrivacy)
#include "test_privacy.moc"
