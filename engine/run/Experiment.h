// Preparing an experiment without training: dataset facts and the client partition. Torch-free header.
#pragma once

#include "spec/FederationSpec.h"

#include <QList>
#include <QString>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace fedwb {

// An error that a user can fix by changing the workspace; `path` names the key ("dataset.path").
class SpecError : public std::runtime_error {
public:
    SpecError(QString path, const QString &message)
        : std::runtime_error(
              (path.isEmpty() ? message : QString(path + QStringLiteral(": ") + message)).toStdString())
        , m_path(std::move(path)) {}
    const QString &path() const { return m_path; }

private:
    QString m_path;
};

struct ClientSummary {
    int id = 0;
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
