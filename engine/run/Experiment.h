// Preparing an experiment without training: dataset facts and the client partition. Torch-free header.
#pragma once

#include "spec/FederationSpec.h"
#include "spec/SpecError.h"

#include <QList>
#include <QString>

#include <cstdint>
#include <vector>

namespace fedwb {

struct ClientSummary {
    int id = 0;
    QString group;
    std::int64_t trainSamples = 0;
    std::int64_t testSamples = 0;
    std::vector<std::int64_t> labelHistogram; // over train + test, one entry per class
};

struct PartitionSummary {
    QString dataset;
    int numClasses = 0;
    std::int64_t trainPool = 0;
    std::int64_t testSet = 0;
    std::vector<ClientSummary> clients;
};

// Loads the dataset and partitions it as a run would. Throws SpecError.
PartitionSummary summarizePartition(const FederationSpec &spec);

} // namespace fedwb
