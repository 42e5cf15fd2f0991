#include "metrics/Fairness.h"

#include <algorithm>
#include <cmath>

namespace fedwb {

Fairness computeFairness(const std::vector<double> &values) {
    Fairness f;
    const std::size_t n = values.size();
    if (n == 0) return f;
    double sum = 0, sumSq = 0;
    for (double v : values) {
        sum += v;
        sumSq += v * v;
    }
    f.mean = sum / double(n);
    double var = 0;
    for (double v : values)
        var += (v - f.mean) * (v - f.mean);
    f.std = std::sqrt(var / double(n));
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t k = std::max<std::size_t>(1, std::size_t(std::ceil(0.1 * double(n) - 1e-9)));
    double worst = 0, best = 0;
    for (std::size_t i = 0; i < k; ++i) {
        worst += sorted[i];
        best += sorted[n - 1 - i];
    }
    f.worst10 = worst / double(k);
    f.best10 = best / double(k);
    f.jain = sumSq > 0 ? (sum * sum) / (double(n) * sumSq) : 0.0;
    return f;
}

} // namespace fedwb
