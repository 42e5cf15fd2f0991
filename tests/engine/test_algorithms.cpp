// FedAvg aggregation and the fairness metrics, checked against values computed by hand (never against the
// code's own output).
#include "metrics/Fairness.h"
#include "strategy/Strategy.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

using namespace fedwb;

namespace {

ClientUpdate update(int id, const std::vector<float> &delta, double weight) {
    ClientUpdate u;
    u.clientId = id;
    u.delta = std::span<const float>(delta.data(), delta.size());
    u.weight = weight;
    return u;
}

QString describe(const std::vector<float> &v) {
    QStringList parts;
    for (float x : v)
        parts.append(QString::number(double(x), 'g', 9));
    return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

// Element-wise |a - b| <= tol; returns a description of the first difference, or an empty string.
QString difference(const std::vector<float> &actual, const std::vector<double> &expected, double tol) {
    if (actual.size() != expected.size())
        return QStringLiteral("size %1, expected %2").arg(actual.size()).arg(expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i)
        if (std::abs(double(actual[i]) - expected[i]) > tol)
            return QStringLiteral("element %1 is %2, expected %3 (all: %4)")
                .arg(i)
                .arg(double(actual[i]), 0, 'g', 9)
                .arg(expected[i], 0, 'g', 9)
                .arg(describe(actual));
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
    void fedAvgWeightedMean() {
        // global = [1, 2, 3]; A = [1, 0, -1] (weight 1), B = [0, 3, 0] (weight 3).
        // (1*A + 3*B) / 4 = ([1, 0, -1] + [0, 9, 0]) / 4 = [1, 9, -1] / 4 = [0.25, 2.25, -0.25]
        // global + that = [1.25, 4.25, 2.75]   (all exactly representable as float)
        std::vector<float> global{1.f, 2.f, 3.f};
        const std::vector<float> a{1.f, 0.f, -1.f};
        const std::vector<float> b{0.f, 3.f, 0.f};
        FedAvgStrategy fedavg;
        fedavg.aggregate(global, {update(0, a, 1.0), update(1, b, 3.0)});
        const QString diff = difference(global, {1.25, 4.25, 2.75}, 1e-6);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    void fedAvgSingleClientAddsItsDelta() {
        // One client: its weight cancels (w / w = 1), so global + delta = [0.5 + 0.25, -1 - 2, 4 + 0] =
        // [0.75, -3, 4].
        std::vector<float> global{0.5f, -1.f, 4.f};
        const std::vector<float> d{0.25f, -2.f, 0.f};
        FedAvgStrategy fedavg;
        fedavg.aggregate(global, {update(7, d, 123.0)});
        const QString diff = difference(global, {0.75, -3.0, 4.0}, 1e-6);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    void fedAvgWeightsAreSampleCounts() {
        // Weights 100 and 300 are the same proportions as 1 and 3 (100/400 = 1/4, 300/400 = 3/4), so the
        // result is the hand-computed [1.25, 4.25, 2.75] of fedAvgWeightedMean.
        std::vector<float> global{1.f, 2.f, 3.f};
        const std::vector<float> a{1.f, 0.f, -1.f};
        const std::vector<float> b{0.f, 3.f, 0.f};
        FedAvgStrategy fedavg;
        fedavg.aggregate(global, {update(0, a, 100.0), update(1, b, 300.0)});
        const QString diff = difference(global, {1.25, 4.25, 2.75}, 1e-6);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    void fedAvgEqualWeightsIsPlainMean() {
        // global [0, 0]; deltas [1, 2], [3, 4], [5, 9] with equal weights: mean = [9/3, 15/3] = [3, 5].
        std::vector<float> global{0.f, 0.f};
        const std::vector<float> d1{1.f, 2.f}, d2{3.f, 4.f}, d3{5.f, 9.f};
        FedAvgStrategy fedavg;
        fedavg.aggregate(global, {update(0, d1, 2.0), update(1, d2, 2.0), update(2, d3, 2.0)});
        const QString diff = difference(global, {3.0, 5.0}, 1e-6);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    void fedAvgSizeMismatchThrows() {
        std::vector<float> global{1.f, 2.f, 3.f};
        const std::vector<float> ok{1.f, 1.f, 1.f};
        const std::vector<float> shortDelta{1.f, 1.f};
        FedAvgStrategy fedavg;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 fedavg.aggregate(global, {update(0, ok, 1.0), update(1, shortDelta, 1.0)}));
        // The check happens before anything is written: the global parameters are untouched.
        const QString diff = difference(global, {1.0, 2.0, 3.0}, 0.0);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
        const std::vector<float> longDelta{1.f, 1.f, 1.f, 1.f};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 fedavg.aggregate(global, {update(0, longDelta, 1.0)}));
    }

    void fedAvgNoUpdatesLeavesGlobalUnchanged() {
        std::vector<float> global{1.f, -2.f, 3.5f};
        FedAvgStrategy fedavg;
        fedavg.aggregate(global, {});
        const QString diff = difference(global, {1.0, -2.0, 3.5}, 0.0);
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
            FedAvgStrategy().aggregate(global, updates);
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
    void fairnessFourClients() {
        const Fairness f = computeFairness({0.5, 0.7, 0.9, 1.0});
        // mean = (0.5 + 0.7 + 0.9 + 1.0) / 4 = 3.1 / 4 = 0.775
        FEDWB_NEAR(f.mean, 0.775, 1e-12);
        // deviations: -0.275, -0.075, 0.125, 0.225; squares 0.075625 + 0.005625 + 0.015625 + 0.050625 =
        // 0.1475; population variance 0.1475 / 4 = 0.036875; std = sqrt(0.036875) = 0.19202864369671...
        FEDWB_NEAR(f.std, 0.1920286436967152, 1e-12);
        FEDWB_NEAR(f.std * f.std, 0.036875, 1e-12);
        // 10% of 4 clients = 0.4 -> ceil = 1 client: worst = 0.5, best = 1.0
        FEDWB_NEAR(f.worst10, 0.5, 1e-12);
        FEDWB_NEAR(f.best10, 1.0, 1e-12);
        // Jain = (sum x)^2 / (n sum x^2) = 3.1^2 / (4 * (0.25 + 0.49 + 0.81 + 1.0)) = 9.61 / (4 * 2.55)
        //      = 9.61 / 10.2 = 0.94215686274509...
        FEDWB_NEAR(f.jain, 0.9421568627450980, 1e-12);
    }

    void fairnessTwentyClients() {
        std::vector<double> v;
        for (int i = 1; i <= 20; ++i)
            v.push_back(0.05 * i);        // 0.05, 0.10, ..., 1.00
        std::reverse(v.begin(), v.end()); // input order must not matter
        const Fairness f = computeFairness(v);
        // sum = 0.05 * (1 + ... + 20) = 0.05 * 210 = 10.5; mean = 10.5 / 20 = 0.525
        FEDWB_NEAR(f.mean, 0.525, 1e-12);
        // variance = 0.05^2 * var(1..20) = 0.0025 * (20^2 - 1) / 12 = 0.0025 * 33.25 = 0.083125
        // std = sqrt(0.083125) = 0.28831406486677...
        FEDWB_NEAR(f.std, 0.2883140648667699, 1e-12);
        // 10% of 20 = 2 clients: worst = (0.05 + 0.10) / 2 = 0.075, best = (0.95 + 1.00) / 2 = 0.975
        FEDWB_NEAR(f.worst10, 0.075, 1e-12);
        FEDWB_NEAR(f.best10, 0.975, 1e-12);
        // sum x^2 = 0.0025 * (1^2 + ... + 20^2) = 0.0025 * 2870 = 7.175
        // Jain = 10.5^2 / (20 * 7.175) = 110.25 / 143.5 = 0.76829268292682...
        FEDWB_NEAR(f.jain, 0.7682926829268293, 1e-12);
    }

    void fairnessElevenClientsRoundsTheTailUp() {
        // 10% of 11 = 1.1 -> ceil = 2 clients.
        // values 0.1 .. 1.1 (step 0.1): worst = (0.1 + 0.2) / 2 = 0.15, best = (1.0 + 1.1) / 2 = 1.05
        std::vector<double> v;
        for (int i = 1; i <= 11; ++i)
            v.push_back(0.1 * i);
        const Fairness f = computeFairness(v);
        FEDWB_NEAR(f.worst10, 0.15, 1e-12);
        FEDWB_NEAR(f.best10, 1.05, 1e-12);
        // mean = 0.1 * 66 / 11 = 0.6
        FEDWB_NEAR(f.mean, 0.6, 1e-12);
    }

    void fairnessTenClientsUsesOne() {
        // 10% of 10 = 1 exactly (must not become 2 through rounding): worst = 0.1, best = 1.0
        std::vector<double> v;
        for (int i = 1; i <= 10; ++i)
            v.push_back(0.1 * i);
        const Fairness f = computeFairness(v);
        FEDWB_NEAR(f.worst10, 0.1, 1e-12);
        FEDWB_NEAR(f.best10, 1.0, 1e-12);
    }

    void fairnessAllEqual() {
        const Fairness f = computeFairness({0.8, 0.8, 0.8, 0.8, 0.8});
        FEDWB_NEAR(f.mean, 0.8, 1e-12);
        FEDWB_NEAR(f.std, 0.0, 1e-12);
        FEDWB_NEAR(f.worst10, 0.8, 1e-12);
        FEDWB_NEAR(f.best10, 0.8, 1e-12);
        // Jain = (5 * 0.8)^2 / (5 * 5 * 0.64) = 16 / 16 = 1
        FEDWB_NEAR(f.jain, 1.0, 1e-12);
    }

    void fairnessAllZero() {
        // Jain's index is 0/0 here; Fairness.h documents 0.
        const Fairness f = computeFairness({0.0, 0.0, 0.0});
        FEDWB_NEAR(f.mean, 0.0, 0.0);
        FEDWB_NEAR(f.std, 0.0, 0.0);
        FEDWB_NEAR(f.worst10, 0.0, 0.0);
        FEDWB_NEAR(f.best10, 0.0, 0.0);
        FEDWB_NEAR(f.jain, 0.0, 0.0);
        QVERIFY(!std::isnan(f.jain));
    }

    void fairnessEmpty() {
        const Fairness f = computeFairness({});
        FEDWB_NEAR(f.mean, 0.0, 0.0);
        FEDWB_NEAR(f.std, 0.0, 0.0);
        FEDWB_NEAR(f.worst10, 0.0, 0.0);
        FEDWB_NEAR(f.best10, 0.0, 0.0);
        FEDWB_NEAR(f.jain, 0.0, 0.0);
    }

    void fairnessSingleClient() {
        // One client: mean = worst = best = the value, std 0, Jain = x^2 / (1 * x^2) = 1.
        const Fairness f = computeFairness({0.42});
        FEDWB_NEAR(f.mean, 0.42, 1e-12);
        FEDWB_NEAR(f.std, 0.0, 1e-12);
        FEDWB_NEAR(f.worst10, 0.42, 1e-12);
        FEDWB_NEAR(f.best10, 0.42, 1e-12);
        FEDWB_NEAR(f.jain, 1.0, 1e-12);
    }

    void fairnessOneNonZero() {
        // {1, 0, 0, 0}: mean 0.25; variance ((0.75)^2 + 3 * (0.25)^2) / 4 = (0.5625 + 0.1875) / 4 = 0.1875,
        // std = sqrt(0.1875) = 0.43301270189221...; Jain = 1^2 / (4 * 1) = 0.25 (= 1/n, the minimum).
        const Fairness f = computeFairness({1.0, 0.0, 0.0, 0.0});
        FEDWB_NEAR(f.mean, 0.25, 1e-12);
        FEDWB_NEAR(f.std, 0.4330127018922193, 1e-12);
        FEDWB_NEAR(f.worst10, 0.0, 1e-12);
        FEDWB_NEAR(f.best10, 1.0, 1e-12);
        FEDWB_NEAR(f.jain, 0.25, 1e-12);
    }
};

QTEST_GUILESS_MAIN(TestAlgorithms)
#include "test_algorithms.moc"
