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
void registerModelSchemas();

} // namespace fedwb
