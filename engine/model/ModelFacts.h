// What validation and estimates know about a registered model without building it. Torch-free: the
// descriptor lives in the model's one registry entry (category "model", registered by registerModels()).
#pragma once

#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <functional>

namespace fedwb {

struct DatasetFacts;

struct ModelInfo {
    // Trainable parameters plus batch-norm statistics, in closed form (no torch).
    std::function<std::int64_t(const DatasetFacts &, const QJsonObject &params)> parameterCount;
    // Rough memory one training sample needs for activations (outputs, their gradients, workspace), bytes.
    std::function<std::int64_t(const DatasetFacts &, const QJsonObject &params)> activationBytesPerSample;
};

// Capabilities a model entry may declare.
inline const QString kNeedsImage = QStringLiteral("needs-image");
inline const QString kHasBatchNorm = QStringLiteral("batch-norm");
inline const QString kHiddenLayers =
    QStringLiteral("hidden-layers"); // layers before the head (FedPer's body)

// Parameter count of a registered model for a dataset; -1 for an unknown name.
std::int64_t modelParameterCount(const QString &name, const DatasetFacts &data,
                                 const QJsonObject &params = {});
// Activation-memory estimate per sample; 0 for an unknown name.
std::int64_t activationBytesPerSample(const QString &name, const DatasetFacts &data,
                                      const QJsonObject &params = {});
// The memory budget those estimates are checked against.
inline constexpr std::int64_t kActivationBudgetBytes = std::int64_t(8) << 30;
// Registers every built-in model (schema, capabilities, ModelInfo, factory) — defined with the models.
void registerModels();

} // namespace fedwb
