// Engine-internal (includes torch): data poisoning on a client's own copy of its training samples, and the
// triggered test set a backdoor's attack success rate is measured on.
#pragma once

#include "adversary/Behaviour.h"
#include "data/dataset_p.h"
#include "train/trainer_p.h"

#include <memory>
#include <vector>

namespace fedwb {

// A poisoning client's copy of its training samples, changed by its behaviour; `local` reads the copy
// (rows 0..n-1 in the order of the shard, so batches hold the same samples as unpoisoned; no local test
// split). Never moved: `local` points into it.
struct PoisonedData {
    torch::Tensor x, y;
    std::vector<std::int64_t> rows, noTest;
    LocalData local;
};

// `data.train`'s samples copied and poisoned by `behaviour` (`key`: the task's generator key). Throws
// std::invalid_argument when the data cannot be poisoned so (validation keeps such workspaces out).
std::unique_ptr<PoisonedData> poisonedCopy(const Behaviour &behaviour, const LocalData &data,
                                           const DatasetFacts &facts, std::uint64_t key);

// The test images whose label is not the trigger's target class, with the trigger stamped on, all labelled
// as the target: the share of them a model classifies "correctly" is the attack success rate.
struct TriggeredSet {
    torch::Tensor x, y;
};
TriggeredSet triggeredTestSet(const LoadedDataset &data, const BackdoorTrigger &trigger);

} // namespace fedwb
