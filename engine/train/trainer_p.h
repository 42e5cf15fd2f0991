// Engine-internal (includes torch): local training and evaluation of one model replica.
#pragma once

#include "model/model_p.h"
#include "util/Rng.h"

#include <atomic>
#include <vector>

namespace fedwb {

struct TrainingConfig {
    int epochs = 1;
    int batchSize = 32;
    bool adam = false;
    double lr = 0.05;
    double momentum = 0;
    double weightDecay = 0;
};

struct TrainResult {
    torch::Tensor delta; // local parameters after training - global parameters (flat)
    double meanLoss = 0; // mean per-sample training loss over all local steps
    std::int64_t steps = 0;
    bool stopped = false;  // abandoned because a stop was requested
    bool diverged = false; // the loss became NaN or infinite (training stopped at that step)
};

struct EvalResult {
    double lossSum = 0;
    std::int64_t correct = 0;
    std::int64_t count = 0;
};

// Evaluation always runs in chunks of this many samples, so results never depend on how work is split.
inline constexpr std::int64_t kEvalChunk = 1000;

// One replica of the model, used by one thread at a time.
class ClientTrainer {
public:
    ClientTrainer(const QString &modelName, const DatasetFacts &facts)
        : m_model(modelName, facts) {}

    FlatModel &model() { return m_model; }

    // Loads `global`, trains on x[indices], y[indices] with batches drawn from `rng`, returns the update.
    TrainResult train(const torch::Tensor &global, const torch::Tensor &x, const torch::Tensor &y,
                      const std::vector<std::int64_t> &indices, const TrainingConfig &config, Rng rng,
                      const std::atomic<bool> *stop);

    // Evaluates the currently loaded parameters on x[indices] (or rows [begin, end) when indices is null).
    EvalResult evaluate(const torch::Tensor &x, const torch::Tensor &y,
                        const std::vector<std::int64_t> *indices, std::int64_t begin, std::int64_t end);

private:
    FlatModel m_model;
};

} // namespace fedwb
