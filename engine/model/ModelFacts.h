// What the engine knows about each built-in model without building it.
#pragma once

#include <QString>

#include <cstdint>

namespace fedwb {

struct DatasetFacts;

struct ModelFacts {
    bool needsImage = false; // convolutional: needs 1x28x28 input
};

ModelFacts modelFacts(const QString &name);
// Trainable parameters of `name` for a dataset (closed form, no torch); -1 for an unknown name.
std::int64_t modelParameterCount(const QString &name, const DatasetFacts &data);
// Rough memory one training sample needs for activations (forward outputs and their gradients), in bytes;
// used to refuse batch sizes that cannot fit in memory.
std::int64_t activationBytesPerSample(const QString &name, const DatasetFacts &data);
// The memory budget those estimates are checked against.
inline constexpr std::int64_t kActivationBudgetBytes = std::int64_t(8) << 30;
void registerModelSchemas();

} // namespace fedwb
