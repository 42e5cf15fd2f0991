// Engine-internal (includes torch): a loaded dataset as tensors, and the partition of its training pool.
#pragma once

#include "data/DatasetFacts.h"
#include "data/Partitioner.h"
#include "spec/FederationSpec.h"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

namespace fedwb {

struct LoadedDataset {
    QString name;
    DatasetFacts facts;
    torch::Tensor trainX, trainY; // float [N, C, H, W] or [N, F]; int64 [N]
    torch::Tensor testX, testY;
    std::vector<int> trainLabels; // the same labels as trainY, for partitioners
    std::vector<int> naturalIds;  // owner of each training sample (empty when the dataset has none)
    // How an image pixel of intensity v in [0, 1] is stored: (v - pixelOffset) / pixelScale.
    float pixelOffset = 0, pixelScale = 1;
};

// A dataset's loader as registered in its ComponentSchema (category "dataset"). Throws SpecError.
using DatasetLoader = std::function<std::shared_ptr<const LoadedDataset>(const FederationSpec &)>;

// Loads (and caches, for file-backed datasets) the dataset the spec names. Throws SpecError.
std::shared_ptr<const LoadedDataset> loadDataset(const FederationSpec &spec);

// Reads one IDX file (optionally gzip-compressed). Throws SpecError naming `keyPath` on a missing or corrupt
// file.
struct IdxArray {
    std::vector<int> dims;
    std::vector<std::uint8_t> data;
};
IdxArray readIdxFile(const QString &file, const QString &keyPath);

// The spec's partitioner applied to the dataset's training pool. Throws SpecError.
std::vector<ClientShard> partitionFor(const FederationSpec &spec, const LoadedDataset &data);

} // namespace fedwb
