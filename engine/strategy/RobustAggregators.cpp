// Byzantine-robust aggregators: rules that stay close to the honest clients' updates when some clients send
// arbitrary vectors. Krum / multi-Krum and Bulyan pick updates by their distances, median and trimmed mean
// work per coordinate, norm-bounded averaging clips every update first.
#include "strategy/UpdateStage.h"
#include "strategy/strategy_p.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace fedwb::strategy_p {

namespace {

std::invalid_argument error(const char *who, const std::string &what) {
    return std::invalid_argument(std::string(who) + ": " + what);
}

// The bound n >= factor f + 3 that Krum (factor 2) and Bulyan (factor 4) need, as an error naming the keys.
void checkByzantineBound(const char *who, int byzantine, int factor, std::size_t n) {
    const long long need = (long long)factor * byzantine + 3;
    if ((long long)n < need)
        throw error(who, "strategy.byzantine = " + std::to_string(byzantine) + " needs at least " +
                             std::to_string(factor) + " * " + std::to_string(byzantine) +
                             " + 3 = " + std::to_string(need) + " updates per round, got " +
                             std::to_string(n) + "; raise clients.per_round or lower strategy.byzantine");
}

// Squared L2 distances between every pair of updates (n x n, row-major), in double.
std::vector<double> pairwiseSquaredDistances(const std::vector<ClientUpdate> &updates) {
    const std::size_t n = updates.size();
    std::vector<double> dist(n * n, 0.0);
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t b = a + 1; b < n; ++b) {
            double s = 0;
            const float *x = updates[a].delta.data();
            const float *y = updates[b].delta.data();
            for (std::size_t i = 0; i < updates[a].delta.size(); ++i) {
                const double d = double(x[i]) - double(y[i]);
                s += d * d;
            }
            dist[a * n + b] = dist[b * n + a] = s;
        }
    return dist;
}

// Krum scores (Blanchard et al. 2017) of the candidates `set` (indices into the n updates): the sum of the
// squared distances to the r - f - 2 nearest other candidates (r = set size; at least 0 neighbours).
std::vector<double> krumScores(const std::vector<double> &dist, std::size_t n,
                               const std::vector<std::size_t> &set, int byzantine) {
    const long long r = (long long)set.size();
    const std::size_t neighbours = std::size_t(std::max(0LL, r - byzantine - 2));
    std::vector<double> scores;
    std::vector<double> others;
    for (std::size_t a : set) {
        others.clear();
        for (std::size_t b : set)
            if (b != a) others.push_back(dist[a * n + b]);
        std::sort(others.begin(), others.end());
        double s = 0;
        for (std::size_t j = 0; j < neighbours && j < others.size(); ++j)
            s += others[j];
        scores.push_back(s);
    }
    return scores;
}

// Positions 0..scores.size()-1 ordered by (score, position): ties go to the earlier update (lower client id).
std::vector<std::size_t> byScore(const std::vector<double> &scores) {
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
    return order;
}

// The uniform mean of the updates at `picked`, in the given order.
std::vector<double> meanOf(const std::vector<ClientUpdate> &updates, const std::vector<std::size_t> &picked,
                           std::size_t size) {
    std::vector<double> acc(size, 0.0);
    for (std::size_t k : picked) {
        const float *d = updates[k].delta.data();
        for (std::size_t i = 0; i < size; ++i)
            acc[i] += double(d[i]);
    }
    for (double &a : acc)
        a /= double(picked.size());
    return acc;
}

// Median of sorted values (even count: the mean of the two middle ones).
double sortedMedian(const std::vector<double> &sorted) {
    const std::size_t n = sorted.size();
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

// Krum (multi = false, one update) and multi-Krum (the m lowest scores, averaged uniformly).
class KrumStrategy : public Strategy {
public:
    KrumStrategy(int byzantine, int selected, bool multi)
        : m_byzantine(byzantine)
        , m_selected(selected)
        , m_multi(multi) {}

    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &) override {
        const char *who = m_multi ? "multi-krum" : "krum";
        checkUpdates(who, global.size(), updates);
        if (updates.empty()) return;
        const std::size_t n = updates.size();
        checkByzantineBound(who, m_byzantine, 2, n);
        std::size_t m = 1;
        if (m_multi) {
            m = m_selected > 0 ? std::size_t(m_selected) : n - std::size_t(m_byzantine);
            if (m > n)
                throw error(who, "strategy.selected = " + std::to_string(m_selected) + " is more than the " +
                                     std::to_string(n) + " updates of the round (clients.per_round)");
        }
        std::vector<std::size_t> all(n);
        std::iota(all.begin(), all.end(), std::size_t(0));
        const std::vector<std::size_t> order =
            byScore(krumScores(pairwiseSquaredDistances(updates), n, all, m_byzantine));
        const std::vector<std::size_t> picked(order.begin(), order.begin() + std::ptrdiff_t(m));
        addToGlobal(global, meanOf(updates, picked, global.size()));
    }

private:
    int m_byzantine, m_selected;
    bool m_multi;
};

// Coordinate-wise median.
class MedianStrategy : public Strategy {
public:
    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &) override {
        checkUpdates("median", global.size(), updates);
        if (updates.empty()) return;
        std::vector<double> result(global.size()), column(updates.size());
        for (std::size_t i = 0; i < global.size(); ++i) {
            for (std::size_t k = 0; k < updates.size(); ++k)
                column[k] = double(updates[k].delta[i]);
            std::sort(column.begin(), column.end());
            result[i] = sortedMedian(column);
        }
        addToGlobal(global, result);
    }
};

// Coordinate-wise trimmed mean (Yin et al. 2018): drop the k = floor(beta n) largest and k smallest values
// of every coordinate, average the rest.
class TrimmedMeanStrategy : public Strategy {
public:
    explicit TrimmedMeanStrategy(double beta)
        : m_beta(beta) {}

    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &) override {
        checkUpdates("trimmed-mean", global.size(), updates);
        if (updates.empty()) return;
        const std::size_t n = updates.size();
        // The tiny slack keeps products such as 0.29 * 100 = 28.999999999999996 at their intended 29.
        const std::size_t k = std::size_t(std::floor(m_beta * double(n) + 1e-9));
        if (2 * k >= n)
            throw error("trimmed-mean",
                        "strategy.beta = " + std::to_string(m_beta) + " trims " + std::to_string(k) +
                            " values from each side of " + std::to_string(n) +
                            " updates, leaving none; raise clients.per_round or lower strategy.beta");
        std::vector<double> result(global.size()), column(n);
        for (std::size_t i = 0; i < global.size(); ++i) {
            for (std::size_t j = 0; j < n; ++j)
                column[j] = double(updates[j].delta[i]);
            std::sort(column.begin(), column.end());
            double s = 0;
            for (std::size_t j = k; j < n - k; ++j)
                s += column[j];
            result[i] = s / double(n - 2 * k);
        }
        addToGlobal(global, result);
    }

private:
    double m_beta;
};

// Bulyan (El Mhamdi et al. 2018): select theta = n - 2f updates by running Krum again and again on the
// remaining ones, then average, per coordinate, the beta = theta - 2f selected values closest to their
// median.
class BulyanStrategy : public Strategy {
public:
    explicit BulyanStrategy(int byzantine)
        : m_byzantine(byzantine) {}

    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &) override {
        checkUpdates("bulyan", global.size(), updates);
        if (updates.empty()) return;
        const std::size_t n = updates.size();
        checkByzantineBound("bulyan", m_byzantine, 4, n);
        const std::size_t f = std::size_t(m_byzantine);
        const std::size_t theta = n - 2 * f;
        const std::size_t beta = theta - 2 * f;

        const std::vector<double> dist = pairwiseSquaredDistances(updates);
        std::vector<std::size_t> remaining(n), selection;
        std::iota(remaining.begin(), remaining.end(), std::size_t(0));
        while (selection.size() < theta) {
            const std::size_t winner = byScore(krumScores(dist, n, remaining, m_byzantine)).front();
            selection.push_back(remaining[winner]);
            remaining.erase(remaining.begin() + std::ptrdiff_t(winner));
        }

        std::vector<double> result(global.size()), column(theta);
        for (std::size_t i = 0; i < global.size(); ++i) {
            for (std::size_t j = 0; j < theta; ++j)
                column[j] = double(updates[selection[j]].delta[i]);
            std::sort(column.begin(), column.end());
            const double med = sortedMedian(column);
            std::stable_sort(column.begin(), column.end(), [med](double a, double b) {
                const double da = std::abs(a - med), db = std::abs(b - med);
                return da < db || (da == db && a < b);
            });
            double s = 0;
            for (std::size_t j = 0; j < beta; ++j)
                s += column[j];
            result[i] = s / double(beta);
        }
        addToGlobal(global, result);
    }

private:
    int m_byzantine;
};

// Norm-bounded averaging (Sun et al. 2019): every update is clipped to an L2 norm of at most max_norm by the
// norm-clip server stage, then the clipped updates are averaged by sample count.
class NormBoundedStrategy : public FedAvgStrategy {
public:
    explicit NormBoundedStrategy(double maxNorm)
        : m_maxNorm(maxNorm) {
        NormClipStage check(maxNorm); // refuses a bound that is not > 0 now, not at the first round
    }
    QList<StageRef> serverStages() const override {
        return {{QStringLiteral("norm-clip"), QJsonObject{{QStringLiteral("max_norm"), m_maxNorm}}}};
    }

private:
    double m_maxNorm;
};

} // namespace

std::unique_ptr<Strategy> makeKrum(int byzantine, int selected, bool multi) {
    return std::make_unique<KrumStrategy>(byzantine, selected, multi);
}
std::unique_ptr<Strategy> makeMedian() {
    return std::make_unique<MedianStrategy>();
}
std::unique_ptr<Strategy> makeTrimmedMean(double beta) {
    return std::make_unique<TrimmedMeanStrategy>(beta);
}
std::unique_ptr<Strategy> makeBulyan(int byzantine) {
    return std::make_unique<BulyanStrategy>(byzantine);
}
std::unique_ptr<Strategy> makeNormBounded(double maxNorm) {
    return std::make_unique<NormBoundedStrategy>(maxNorm);
}

} // namespace fedwb::strategy_p
