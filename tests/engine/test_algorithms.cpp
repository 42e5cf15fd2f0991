// FedAvg aggregation and the fairness metrics, checked against values computed by hand (never against the
// code's own output).
#include "metrics/Fairness.h"
#include "strategy/Strategy.h"

#include "test_support.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

using namespace fedwb;
using fedwb::test::describe;
using fedwb::test::difference;

namespace {

ClientUpdate update(int id, const std::vector<float> &delta, double weight) {
    ClientUpdate u;
    u.clientId = id;
    u.delta = std::span<const float>(delta.data(), delta.size());
    u.weight = weight;
    return u;
}

// Runs FedAvg on `global` and returns how the result differs from `expected` (empty when within `tol`).
QString fedAvgDifference(std::vector<float> global, const std::vector<ClientUpdate> &updates,
                         const std::vector<double> &expected, double tol = 1e-6) {
    FedAvgStrategy().aggregate(global, updates, RoundContext{});
    return difference(global, expected, tol);
}

// step, 2 step, ..., n step
std::vector<double> multiples(double step, int n) {
    std::vector<double> v;
    for (int i = 1; i <= n; ++i)
        v.push_back(step * i);
    return v;
}

// Empty when every field of `f` is within `tol` of the hand-computed `expected`, else the first that is not.
QString fairnessDifference(const Fairness &f, const Fairness &expected, double tol) {
    const std::pair<const char *, double Fairness::*> fields[] = {{"mean", &Fairness::mean},
                                                                  {"std", &Fairness::std},
                                                                  {"worst10", &Fairness::worst10},
                                                                  {"best10", &Fairness::best10},
                                                                  {"jain", &Fairness::jain}};
    for (const auto &[name, field] : fields)
        if (!(std::abs(f.*field - expected.*field) <= tol))
            return QStringLiteral("%1 = %2, expected %3")
                .arg(QLatin1String(name))
                .arg(f.*field, 0, 'g', 17)
                .arg(expected.*field, 0, 'g', 17);
    return {};
}

#define FEDWB_NEAR(actual, expected, tol)                                                                    \
    do {                                                                                                     \
        const double a_ = (actual);                                                                          \
        const double e_ = (expected);                                                                        \
        QVERIFY2(std::abs(a_ - e_) <= (tol), qPrintable(QStringLiteral("%1 = %2, expected %3")               \
                                                            .arg(QStringLiteral(#actual))                    \
                                                            .arg(a_, 0, 'g', 17)                             \
                                                            .arg(e_, 0, 'g', 17)));                          \
    } while (false)

} // namespace

class TestAlgorithms : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // --- FedAvg --------------------------------------------------------------------------------------
    void fedAvgSingleClientAddsItsDelta() {
        // One client: its weight cancels (w / w = 1), so global + delta = [0.5 + 0.25, -1 - 2, 4 + 0] =
        // [0.75, -3, 4].
        const std::vector<float> d{0.25f, -2.f, 0.f};
        const QString diff = fedAvgDifference({0.5f, -1.f, 4.f}, {update(7, d, 123.0)}, {0.75, -3.0, 4.0});
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    void fedAvgWeightedMean_data() {
        QTest::addColumn<double>("weightA");
        QTest::addColumn<double>("weightB");
        QTest::newRow("weights 1 and 3") << 1.0 << 3.0;
        // Weights 100 and 300 are the same proportions as 1 and 3 (100/400 = 1/4, 300/400 = 3/4), so the
        // result is the same hand-computed [1.25, 4.25, 2.75]: the weights are sample counts.
        QTest::newRow("sample counts 100 and 300") << 100.0 << 300.0;
    }
    void fedAvgWeightedMean() {
        // global = [1, 2, 3]; A = [1, 0, -1] (weight 1), B = [0, 3, 0] (weight 3).
        // (1*A + 3*B) / 4 = ([1, 0, -1] + [0, 9, 0]) / 4 = [1, 9, -1] / 4 = [0.25, 2.25, -0.25]
        // global + that = [1.25, 4.25, 2.75]   (all exactly representable as float)
        QFETCH(double, weightA);
        QFETCH(double, weightB);
        const std::vector<float> a{1.f, 0.f, -1.f};
        const std::vector<float> b{0.f, 3.f, 0.f};
        const QString diff = fedAvgDifference({1.f, 2.f, 3.f}, {update(0, a, weightA), update(1, b, weightB)},
                                              {1.25, 4.25, 2.75});
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    void fedAvgEqualWeightsIsPlainMean() {
        // global [0, 0]; deltas [1, 2], [3, 4], [5, 9] with equal weights: mean = [9/3, 15/3] = [3, 5].
        const std::vector<float> d1{1.f, 2.f}, d2{3.f, 4.f}, d3{5.f, 9.f};
        const QString diff = fedAvgDifference(
            {0.f, 0.f}, {update(0, d1, 2.0), update(1, d2, 2.0), update(2, d3, 2.0)}, {3.0, 5.0});
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    void fedAvgSizeMismatchThrows() {
        std::vector<float> global{1.f, 2.f, 3.f};
        const std::vector<float> ok{1.f, 1.f, 1.f};
        const std::vector<float> shortDelta{1.f, 1.f};
        FedAvgStrategy fedavg;
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument,
            fedavg.aggregate(global, {update(0, ok, 1.0), update(1, shortDelta, 1.0)}, RoundContext{}));
        // The check happens before anything is written: the global parameters are untouched.
        const QString diff = difference(global, {1.0, 2.0, 3.0}, 0.0);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
        const std::vector<float> longDelta{1.f, 1.f, 1.f, 1.f};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 fedavg.aggregate(global, {update(0, longDelta, 1.0)}, RoundContext{}));
    }

    void fedAvgNoUpdatesLeavesGlobalUnchanged() {
        const QString diff = fedAvgDifference({1.f, -2.f, 3.5f}, {}, {1.0, -2.0, 3.5}, 0.0);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    void fedAvgOrderDoesNotMatter() {
        // Awkward values (not exactly representable sums) and weights; permuting the updates may only change
        // the result by float rounding. The accumulation is in double, so |difference| stays far below 1e-6
        // here.
        const std::size_t n = 257;
        std::vector<std::vector<float>> deltas(5, std::vector<float>(n));
        for (std::size_t c = 0; c < deltas.size(); ++c)
            for (std::size_t i = 0; i < n; ++i)
                deltas[c][i] = float(std::sin(double(c * 31 + i) * 0.37) * (1.0 + double(c)) / 3.0);
        const std::vector<double> weights{17, 250, 3, 1000, 42};
        std::vector<float> start(n);
        for (std::size_t i = 0; i < n; ++i)
            start[i] = float(std::cos(double(i) * 0.11));

        std::vector<int> order{0, 1, 2, 3, 4};
        std::vector<float> reference;
        int permutations = 0;
        do {
            std::vector<ClientUpdate> updates;
            for (int c : order)
                updates.push_back(update(c, deltas[std::size_t(c)], weights[std::size_t(c)]));
            std::vector<float> global = start;
            FedAvgStrategy().aggregate(global, updates, RoundContext{});
            if (reference.empty()) {
                reference = global;
            } else {
                for (std::size_t i = 0; i < n; ++i)
                    QVERIFY2(
                        std::abs(double(global[i]) - double(reference[i])) <= 1e-6,
                        qPrintable(QStringLiteral("element %1 differs after permuting the updates").arg(i)));
            }
            ++permutations;
        } while (std::next_permutation(order.begin(), order.end()));
        QCOMPARE(permutations, 120);

        // And the reference matches a direct evaluation of the formula: start + sum_k w_k d_k / sum_k w_k.
        const double total = 17 + 250 + 3 + 1000 + 42; // = 1312
        for (std::size_t i = 0; i < n; ++i) {
            double expected = double(start[i]);
            for (std::size_t c = 0; c < deltas.size(); ++c)
                expected += weights[c] / total * double(deltas[c][i]);
            FEDWB_NEAR(double(reference[i]), expected, 1e-6);
        }
    }

    // --- Fairness ------------------------------------------------------------------------------------
    void fairnessFourClientsVariance() {
        // The "four clients" row of fairnessExact: population variance 0.1475 / 4 = 0.036875.
        const Fairness f = computeFairness({0.5, 0.7, 0.9, 1.0});
        FEDWB_NEAR(f.std * f.std, 0.036875, 1e-12);
    }

    void fairnessElevenClientsRoundsTheTailUp() {
        // 10% of 11 = 1.1 -> ceil = 2 clients.
        // values 0.1 .. 1.1 (step 0.1): worst = (0.1 + 0.2) / 2 = 0.15, best = (1.0 + 1.1) / 2 = 1.05
        const Fairness f = computeFairness(multiples(0.1, 11));
        FEDWB_NEAR(f.worst10, 0.15, 1e-12);
        FEDWB_NEAR(f.best10, 1.05, 1e-12);
        // mean = 0.1 * 66 / 11 = 0.6
        FEDWB_NEAR(f.mean, 0.6, 1e-12);
    }

    void fairnessTenClientsUsesOne() {
        // 10% of 10 = 1 exactly (must not become 2 through rounding): worst = 0.1, best = 1.0
        const Fairness f = computeFairness(multiples(0.1, 10));
        FEDWB_NEAR(f.worst10, 0.1, 1e-12);
        FEDWB_NEAR(f.best10, 1.0, 1e-12);
    }

    void fairnessExact_data() {
        QTest::addColumn<std::vector<double>>("values");
        QTest::addColumn<Fairness>("expected");
        QTest::addColumn<double>("tol");
        // expected: Fairness{mean, std, worst10, best10, jain}
        // mean = (0.5 + 0.7 + 0.9 + 1.0) / 4 = 3.1 / 4 = 0.775
        // deviations: -0.275, -0.075, 0.125, 0.225; squares 0.075625 + 0.005625 + 0.015625 + 0.050625 =
        // 0.1475; population variance 0.1475 / 4 = 0.036875; std = sqrt(0.036875) = 0.19202864369671...
        // 10% of 4 clients = 0.4 -> ceil = 1 client: worst = 0.5, best = 1.0
        // Jain = (sum x)^2 / (n sum x^2) = 3.1^2 / (4 * (0.25 + 0.49 + 0.81 + 1.0)) = 9.61 / (4 * 2.55)
        //      = 9.61 / 10.2 = 0.94215686274509...
        QTest::newRow("four clients")
            << std::vector<double>{0.5, 0.7, 0.9, 1.0}
            << Fairness{0.775, 0.1920286436967152, 0.5, 1.0, 0.9421568627450980} << 1e-12;
        // 0.05, 0.10, ..., 1.00, given in reverse: input order must not matter.
        // sum = 0.05 * (1 + ... + 20) = 0.05 * 210 = 10.5; mean = 10.5 / 20 = 0.525
        // variance = 0.05^2 * var(1..20) = 0.0025 * (20^2 - 1) / 12 = 0.0025 * 33.25 = 0.083125
        // std = sqrt(0.083125) = 0.28831406486677...
        // 10% of 20 = 2 clients: worst = (0.05 + 0.10) / 2 = 0.075, best = (0.95 + 1.00) / 2 = 0.975
        // sum x^2 = 0.0025 * (1^2 + ... + 20^2) = 0.0025 * 2870 = 7.175
        // Jain = 10.5^2 / (20 * 7.175) = 110.25 / 143.5 = 0.76829268292682...
        std::vector<double> twenty = multiples(0.05, 20);
        std::reverse(twenty.begin(), twenty.end());
        QTest::newRow("twenty clients, reversed")
            << twenty << Fairness{0.525, 0.2883140648667699, 0.075, 0.975, 0.7682926829268293} << 1e-12;
        // Jain = (5 * 0.8)^2 / (5 * 5 * 0.64) = 16 / 16 = 1
        QTest::newRow("all equal") << std::vector<double>{0.8, 0.8, 0.8, 0.8, 0.8}
                                   << Fairness{0.8, 0.0, 0.8, 0.8, 1.0} << 1e-12;
        // Jain's index is 0/0 here; Fairness.h documents 0.
        QTest::newRow("all zero") << std::vector<double>{0.0, 0.0, 0.0} << Fairness{0.0, 0.0, 0.0, 0.0, 0.0}
                                  << 0.0;
        QTest::newRow("empty") << std::vector<double>{} << Fairness{0.0, 0.0, 0.0, 0.0, 0.0} << 0.0;
        // One client: mean = worst = best = the value, std 0, Jain = x^2 / (1 * x^2) = 1.
        QTest::newRow("single client")
            << std::vector<double>{0.42} << Fairness{0.42, 0.0, 0.42, 0.42, 1.0} << 1e-12;
        // {1, 0, 0, 0}: mean 0.25; variance ((0.75)^2 + 3 * (0.25)^2) / 4 = (0.5625 + 0.1875) / 4 = 0.1875,
        // std = sqrt(0.1875) = 0.43301270189221...; Jain = 1^2 / (4 * 1) = 0.25 (= 1/n, the minimum).
        QTest::newRow("one non-zero") << std::vector<double>{1.0, 0.0, 0.0, 0.0}
                                      << Fairness{0.25, 0.4330127018922193, 0.0, 1.0, 0.25} << 1e-12;
    }
    void fairnessExact() {
        QFETCH(std::vector<double>, values);
        QFETCH(Fairness, expected);
        QFETCH(double, tol);
        const Fairness f = computeFairness(values);
        const QString diff = fairnessDifference(f, expected, tol);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
        QVERIFY(!std::isnan(f.jain));
    }
};

QTEST_GUILESS_MAIN(TestAlgorithms)
#include "test_algorithms.moc"
