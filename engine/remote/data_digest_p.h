// Engine-internal (torch): content digests of a loaded dataset and of a partition, so that a coordinator
// and a worker that rebuilt the data from the same spec can tell they hold the same samples.
#pragma once

#include "data/dataset_p.h"

#include <QString>

namespace fedwb::remote {

// SHA-256 (hex) over the dataset's name and its train and test tensors (shape, dtype and bytes).
QString datasetDigest(const LoadedDataset &data);
// SHA-256 (hex) over every client's train and test indices, in client order.
QString partitionDigest(const std::vector<ClientShard> &shards);

} // namespace fedwb::remote
