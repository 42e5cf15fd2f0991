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
    const QList<ClientGroup> groups = spec.groups();
    for (std::size_t c = 0; c < shards.size(); ++c) {
        ClientSummary cs;
        cs.id = int(c);
        cs.group = groups.value(spec.groupOf(int(c))).name;
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
