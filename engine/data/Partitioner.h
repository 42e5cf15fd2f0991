// Splitting a dataset over clients. Partitioners see only labels (and natural owner ids when the dataset has
// them), so they are torch-free and cheap to test on hand-made label vectors.
#pragma once

#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

namespace fedwb {

struct ClientShard {
    std::vector<std::int64_t> train; // indices into the dataset's training pool
    std::vector<std::int64_t> test;  // the client's local test split, same distribution as `train`
};

struct PartitionInput {
    const std::vector<int> *labels = nullptr; // label of every training-pool sample
    int numClasses = 0;
    const std::vector<int> *naturalIds = nullptr; // owner id per sample, or null when the dataset has none
    int clientCount = 0;
    std::uint64_t seed = 0;
    int minSamples = 1;        // every client gets at least this many samples (train + test)
    double testFraction = 0.1; // share of each client's samples kept as its local test split
};

// Thrown for a partition that cannot be made; `path` names the workspace key to change.
class PartitionError : public std::runtime_error {
public:
    PartitionError(QString path, const QString &message)
        : std::runtime_error(QString(path + QStringLiteral(": ") + message).toStdString())
        , m_path(std::move(path)) {}
    const QString &path() const { return m_path; }

private:
    QString m_path;
};

class Partitioner {
public:
    virtual ~Partitioner() = default;
    // Assigns each client its samples (before the train/test split).
    virtual std::vector<std::vector<std::int64_t>> assign(const PartitionInput &in) const = 0;
};

// A partitioner's factory as registered in its ComponentSchema (category "partitioner").
using PartitionerFactory = std::function<std::unique_ptr<Partitioner>(const QJsonObject &params)>;

// Creates the registered partitioner `name` with its validated parameters (the `partition` section).
std::unique_ptr<Partitioner> makePartitioner(const QString &name, const QJsonObject &params);

// assign() + minimum-size check + the per-client train/test split. Deterministic in in.seed.
std::vector<ClientShard> partitionDataset(const Partitioner &partitioner, const PartitionInput &in);

// Label histogram of a set of indices.
std::vector<std::int64_t> labelHistogram(const std::vector<int> &labels, int numClasses,
                                         const std::vector<std::int64_t> &indices);

void registerPartitioners();

} // namespace fedwb
