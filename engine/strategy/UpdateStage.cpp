#include "strategy/UpdateStage.h"

#include <cmath>
#include <stdexcept>

namespace fedwb {

double l2Norm(std::span<const float> values) {
    double sum = 0;
    for (float v : values)
        sum += double(v) * double(v);
    return std::sqrt(sum);
}

UpdateStage::~UpdateStage() = default;

NormClipStage::NormClipStage(double maxNorm)
    : m_maxNorm(maxNorm) {
    if (!(maxNorm > 0) || !std::isfinite(maxNorm))
        throw std::invalid_argument("norm clipping needs a finite maximum norm > 0");
}

void NormClipStage::apply(std::span<float> update) {
    const double norm = l2Norm(update);
    if (!(norm > m_maxNorm)) return; // within the bound (or NaN, which no scale would repair)
    const double scale = m_maxNorm / norm;
    for (float &v : update)
        v = float(double(v) * scale);
}

} // namespace fedwb
