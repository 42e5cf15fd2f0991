// Engine-internal (torch): the executor that trains clients on this machine's thread pool, one intra-op
// thread per client, and the evaluation of a global model on the same replicas.
#pragma once

#include "data/dataset_p.h"
#include "run/Executor.h"
#include "train/trainer_p.h"

#include <atomic>
#include <memory>
#include <mutex>

namespace fedwb {

struct Evaluation {
    EvalResult global;                               // on the dataset's test set
    std::vector<std::optional<EvalResult>> clients;  // each client's local test split (global model)
    std::vector<std::optional<EvalResult>> personal; // after personalization (when asked for)
};

class LocalExecutor : public Executor {
public:
    LocalExecutor(std::shared_ptr<const LoadedDataset> data, std::vector<ClientShard> shards,
                  QString modelName, QJsonObject modelParams, int threads, std::atomic<bool> *stop);

    void run(const std::vector<ClientTask> &tasks, const Sink &sink) override;
    void cancel() override { m_stop->store(true); }
    QString describe() const override;

    // Evaluates `global` on the test set (fixed chunks) and every client's local split. With
    // `personalTasks` (one per client, empty vector = off), each client also starts from the global model,
    // applies its algorithm's personal state, fine-tunes for `steps` steps and is evaluated again.
    Evaluation evaluate(const QByteArray &global, const std::vector<ClientTask> &personalTasks, int steps);
    // Evaluates `global` on the samples x, y (in fixed chunks, like the test set).
    EvalResult evaluateSet(const QByteArray &global, const torch::Tensor &x, const torch::Tensor &y);

    int threads() const { return m_threads; }
    const std::vector<ClientShard> &shards() const { return m_shards; }
    ClientTrainer &trainer(int worker);

private:
    LocalData localData(int clientId) const;

    std::shared_ptr<const LoadedDataset> m_data;
    std::vector<ClientShard> m_shards;
    QString m_modelName;
    QJsonObject m_modelParams;
    int m_threads;
    std::vector<std::unique_ptr<ClientTrainer>> m_trainers;
    std::atomic<bool> *m_stop; // shared with the run: a stop request reaches running tasks
};

} // namespace fedwb
