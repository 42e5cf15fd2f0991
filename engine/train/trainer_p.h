// Engine-internal (includes torch): local training and evaluation of one model replica, with the client
// algorithm's hooks inside the training loop.
#pragma once

#include "data/dataset_p.h"
#include "model/model_p.h"
#include "train/ClientTask.h"
#include "util/Rng.h"

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace fedwb {

class ClientTrainer;
class ClientAlgorithm;

// The client's data: rows of the dataset's training pool.
struct LocalData {
    const torch::Tensor *x = nullptr;
    const torch::Tensor *y = nullptr;
    const std::vector<std::int64_t> *train = nullptr; // indices into x / y
    const std::vector<std::int64_t> *test = nullptr;  // the local test split
    // How the dataset stores an image pixel of intensity v in [0, 1]: (v - pixelOffset) / pixelScale.
    float pixelOffset = 0, pixelScale = 1;
};

// A client's data in a loaded dataset: its shard's rows of the training pool (the same on a worker).
inline LocalData localDataOf(const LoadedDataset &data, const ClientShard &shard) {
    return {&data.trainX, &data.trainY, &shard.train, &shard.test, data.pixelOffset, data.pixelScale};
}

// What a client algorithm sees while one task runs.
struct LocalContext {
    const ClientTask &task;
    ClientTrainer &trainer;
    FlatModel &model;
    torch::Tensor global;      // the task's global parameters (flat, read-only view)
    torch::Tensor payloadDown; // the strategy's payload (flat), undefined when the task carries none
    const LocalData &data;
    const std::atomic<bool> *stop = nullptr;
};

// Hooks inside local training. One instance serves one task (it may keep per-task values between hooks).
class ClientAlgorithm {
public:
    virtual ~ClientAlgorithm() = default;
    // After the global model is loaded, before the first step.
    virtual void begin(LocalContext &) {}
    // After each backward pass, before the optimizer step: may change the gradients of model.trainable().
    virtual void afterBackward(LocalContext &) {}
    // After training; result.update already holds local - global. May set payloadUp and newState.
    virtual void end(LocalContext &, ClientResult &) {}
    // Before a personalized evaluation: turn the loaded global model into this client's own starting point
    // (its personal layers, its personal model) from the task's client state.
    virtual void personalize(LocalContext &) {}
};

// A client algorithm's factory as registered in its ComponentSchema (category "client-algorithm").
using ClientAlgorithmFactory = std::function<std::unique_ptr<ClientAlgorithm>(const QJsonObject &params)>;
// The registered algorithm; throws std::invalid_argument for an unknown name.
std::unique_ptr<ClientAlgorithm> makeClientAlgorithm(const QString &name, const QJsonObject &params);

struct EvalResult {
    double lossSum = 0;
    std::int64_t correct = 0;
    std::int64_t count = 0;
};

// Statistics of a stretch of local training.
struct TrainStats {
    double lossSum = 0; // per-sample loss summed over all samples seen
    std::int64_t seen = 0;
    std::int64_t steps = 0;
    bool stopped = false;
    bool diverged = false;
};

// Evaluation always runs in chunks of this many samples, so results never depend on how work is split.
inline constexpr std::int64_t kEvalChunk = 1000;

// One replica of the model, used by one thread at a time.
class ClientTrainer {
public:
    ClientTrainer(const QString &modelName, const DatasetFacts &facts, const QJsonObject &modelParams = {})
        : m_model(modelName, facts, modelParams)
        , m_facts(facts)
        , m_regression(facts.regression) {}

    FlatModel &model() { return m_model; }

    // Runs one task: loads its global model, runs the client algorithm's hooks around local training on
    // `data.train` (on a poisoned copy of it when the task's behaviour poisons data), returns the update
    // (local - global) after the task's client stages, with its statistics.
    ClientResult run(const ClientTask &task, const LocalData &data, const std::atomic<bool> *stop);

    // Local training of the currently loaded parameters: `epochs` passes over `indices` (or at most
    // `maxSteps` steps when > 0), batches drawn from `rng`; `afterBackward` may change the gradients.
    TrainStats trainLoaded(const TrainingConfig &config, const LocalData &data, Rng rng,
                           std::int64_t maxSteps, const std::function<void()> &afterBackward,
                           const std::atomic<bool> *stop);

    // Mean loss of the loaded parameters on x[indices] (no gradients).
    double meanLoss(const LocalData &data);

    // Evaluates the currently loaded parameters on x[indices] (or rows [begin, end) when indices is null).
    EvalResult evaluate(const torch::Tensor &x, const torch::Tensor &y,
                        const std::vector<std::int64_t> *indices, std::int64_t begin, std::int64_t end);

private:
    // Mean loss of a batch: cross-entropy, or half the squared error for a regression dataset.
    torch::Tensor batchLoss(const torch::Tensor &output, const torch::Tensor &target) const;

    FlatModel m_model;
    DatasetFacts m_facts;
    bool m_regression = false;
};

// A tensor over a byte array's float32 data (no copy; the bytes must outlive the tensor).
inline torch::Tensor floatTensor(const QByteArray &bytes) {
    return torch::from_blob(const_cast<char *>(bytes.constData()), {bytes.size() / qsizetype(sizeof(float))},
                            torch::kFloat32);
}
inline QByteArray tensorBytes(const torch::Tensor &t) {
    const torch::Tensor c = t.contiguous();
    return QByteArray(reinterpret_cast<const char *>(c.data_ptr<float>()),
                      qsizetype(c.numel() * sizeof(float)));
}

} // namespace fedwb
