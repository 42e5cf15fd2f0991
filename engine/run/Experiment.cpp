#include "run/Experiment.h"

#include "data/dataset_p.h"

namespace fedwb {

PartitionSummary summarizePartition(const FederationSpec &spec) {
    const auto data = loadDataset(spec);
    const auto shards = partitionFor(spec, *data);
    PartitionSummary s;
    s.dataset = data->name;
    s.numClasses = data->facts.numClasses;
    s.trainPool = data->trainY.size(0);
    s.testSet = data->testY.size(0);
    // The group of each client (spec.groupOf() per client would resolve the groups again each time).
    std::vector<QString> groupOf(shards.size(), spec.groups().value(0).name);
    for (const ClientGroup &g : spec.groups())
        for (int i = g.firstClient; i < g.firstClient + g.count && i < int(groupOf.size()); ++i)
            groupOf[std::size_t(i)] = g.name;
    for (std::size_t c = 0; c < shards.size(); ++c) {
        ClientSummary cs;
        cs.id = int(c);
        cs.group = groupOf[c];
        cs.trainSamples = std::int64_t(shards[c].train.size());
        cs.testSamples = std::int64_t(shards[c].test.size());
        cs.labelHistogram = labelHistogram(data->trainLabels, s.numClasses, shards[c].train);
        const auto testHist = labelHistogram(data->trainLabels, s.numClasses, shards[c].test);
        for (std::size_t k = 0; k < testHist.size(); ++k)
            cs.labelHistogram[k] += testHist[k];
        s.clients.push_back(std::move(cs));
    }
    return s;
}

} // namespace fedwb
