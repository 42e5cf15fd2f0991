// Per-update processing stages: a stage transforms one client's update (a flat delta) in place before it is
// aggregated. Norm clipping is the first; differential-privacy noise and compression can follow the same
// interface.
#pragma once

#include <QString>

#include <span>

namespace fedwb {

// The Euclidean norm sqrt(sum x_i^2), accumulated in double.
double l2Norm(std::span<const float> values);

class UpdateStage {
public:
    virtual ~UpdateStage();
    virtual QString name() const = 0;
    virtual void apply(std::span<float> update) = 0;
};

// Scales an update down to an L2 norm of at most maxNorm: delta * min(1, maxNorm / ||delta||). An update
// already within the bound (including the zero vector) is left bit-for-bit unchanged.
class NormClipStage : public UpdateStage {
public:
    explicit NormClipStage(double maxNorm); // throws std::invalid_argument unless maxNorm > 0 and finite
    QString name() const override { return QStringLiteral("norm-clip"); }
    void apply(std::span<float> update) override;
    double maxNorm() const { return m_maxNorm; }

private:
    double m_maxNorm;
};

} // namespace fedwb
