// The layer structure of a flat parameter vector: named segments, so strategies that treat layers
// differently (FedBN keeps batch-norm layers local, FedPer keeps the head local) can do so on flat vectors.
#pragma once

#include <QString>

#include <cstdint>
#include <vector>

namespace fedwb {

enum class SegmentKind { Weight, Bias, BnWeight, BnBias, BnStat };

struct ModelSegment {
    QString name; // "conv1.weight", "bn1.running_mean"
    std::int64_t offset = 0;
    std::int64_t size = 0;
    SegmentKind kind = SegmentKind::Weight;
    bool head = false;      // part of the last (classifier) layer
    bool trainable = true;  // false for batch-norm running statistics (buffers)
    std::int64_t fanOut = 0; // rows of a weight matrix / output channels of a convolution (0 for vectors)
    bool isBatchNorm() const { return kind == SegmentKind::BnWeight || kind == SegmentKind::BnBias || kind == SegmentKind::BnStat; }
};

struct ModelLayout {
    std::vector<ModelSegment> segments; // in offset order, covering [0, parameterCount) without gaps
    std::int64_t parameterCount() const {
        return segments.empty() ? 0 : segments.back().offset + segments.back().size;
    }
    bool hasBatchNorm() const {
        for (const ModelSegment &s : segments)
            if (s.isBatchNorm()) return true;
        return false;
    }
    // A mask over the flat vector: true where `pick(segment)` holds.
    template <typename Pred> std::vector<bool> mask(Pred pick) const {
        std::vector<bool> m(static_cast<std::size_t>(parameterCount()), false);
        for (const ModelSegment &s : segments)
            if (pick(s))
                for (std::int64_t i = s.offset; i < s.offset + s.size; ++i)
                    m[std::size_t(i)] = true;
        return m;
    }
};

} // namespace fedwb
