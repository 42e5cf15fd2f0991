// Engine-internal (includes torch): the built-in models, with all parameters living in one flat tensor.
#pragma once

#include "data/DatasetFacts.h"

#include <torch/torch.h>

#include <QString>

#include <memory>

namespace fedwb {

struct Net : torch::nn::Module {
    virtual torch::Tensor forward(torch::Tensor x) = 0;
};

// A model whose parameters are views into one contiguous float vector `flat`: updates, aggregation and the
// wire format work on `flat`; the module's layers see the same memory.
class FlatModel {
public:
    FlatModel(const QString &name, const DatasetFacts &data);

    Net &net() { return *m_net; }
    std::shared_ptr<Net> netPtr() { return m_net; }
    torch::Tensor &flat() { return m_flat; }
    std::int64_t parameterCount() const { return m_flat.numel(); }
    void load(const torch::Tensor &flatParameters); // copies into flat()

private:
    std::shared_ptr<Net> m_net;
    torch::Tensor m_flat;
};

std::shared_ptr<Net> makeNet(const QString &name, const DatasetFacts &data); // throws SpecError

} // namespace fedwb
