// Engine-internal (includes torch): the built-in models, with all parameters (and batch-norm statistics)
// living in one flat tensor described by a ModelLayout.
#pragma once

#include "data/DatasetFacts.h"
#include "model/ModelLayout.h"

#include <torch/torch.h>

#include <QJsonObject>
#include <QString>

#include <functional>
#include <memory>

namespace fedwb {

struct Net : torch::nn::Module {
    virtual torch::Tensor forward(torch::Tensor x) = 0;
    // Name of the classifier layer whose parameters are the "head" (FedPer).
    virtual std::string headName() const = 0;
};

// A model's factory as registered in its ComponentSchema (category "model").
using NetFactory = std::function<std::shared_ptr<Net>(const DatasetFacts &, const QJsonObject &params)>;

// A model whose parameters and float buffers are views into one contiguous float vector `flat`: updates,
// aggregation and the wire format work on `flat`; the module's layers see the same memory.
class FlatModel {
public:
    // Initialized from the keyed generator (seed, "model-init"): never from torch's global generator.
    FlatModel(const QString &name, const DatasetFacts &data, const QJsonObject &params = {},
              std::uint64_t initSeed = 0);

    Net &net() { return *m_net; }
    std::shared_ptr<Net> netPtr() { return m_net; }
    torch::Tensor &flat() { return m_flat; }
    std::int64_t parameterCount() const { return m_flat.numel(); }
    const ModelLayout &layout() const { return m_layout; }
    // Trainable parameters with their offsets in flat (in layout order).
    const std::vector<std::pair<torch::Tensor, std::int64_t>> &trainable() const { return m_trainable; }
    void load(const torch::Tensor &flatParameters); // copies into flat()

private:
    std::shared_ptr<Net> m_net;
    torch::Tensor m_flat;
    ModelLayout m_layout;
    std::vector<std::pair<torch::Tensor, std::int64_t>> m_trainable;
};

// The registered model `name`; throws SpecError naming model.name.
std::shared_ptr<Net> makeNet(const QString &name, const DatasetFacts &data, const QJsonObject &params = {});

} // namespace fedwb
