#include "run/local_executor_p.h"

#include "run/parallel_p.h"

namespace fedwb {

LocalExecutor::LocalExecutor(std::shared_ptr<const LoadedDataset> data, std::vector<ClientShard> shards,
                             QString modelName, QJsonObject modelParams, int threads, std::atomic<bool> *stop)
    : m_data(std::move(data))
    , m_shards(std::move(shards))
    , m_modelName(std::move(modelName))
    , m_modelParams(std::move(modelParams))
    , m_threads(std::max(1, threads))
    , m_trainers(static_cast<std::size_t>(m_threads))
    , m_stop(stop) {}

QString LocalExecutor::describe() const {
    return QStringLiteral("local: %1 thread%2").arg(m_threads).arg(m_threads == 1 ? "" : "s");
}

ClientTrainer &LocalExecutor::trainer(int worker) {
    auto &t = m_trainers[std::size_t(worker)];
    if (!t) t = std::make_unique<ClientTrainer>(m_modelName, m_data->facts, m_modelParams);
    return *t;
}

LocalData LocalExecutor::localData(int clientId) const {
    return localDataOf(*m_data, m_shards.at(std::size_t(clientId)));
}

void LocalExecutor::run(const std::vector<ClientTask> &tasks, const Sink &sink) {
    std::vector<ClientResult> results(tasks.size());
    std::mutex mutex;
    std::vector<std::size_t> finished; // indices completed since the last progress report
    runParallel(
        int(tasks.size()), m_threads,
        [&](int task, int worker) {
            const ClientTask &t = tasks[std::size_t(task)];
            ClientResult r;
            if (m_stop->load()) {
                r.round = t.round;
                r.clientId = t.clientId;
                r.status = ClientStatus::Stopped;
            } else {
                r = trainer(worker).run(t, localData(t.clientId), m_stop);
            }
            std::lock_guard lock(mutex);
            results[std::size_t(task)] = std::move(r);
            finished.push_back(std::size_t(task));
        },
        [&](int done) {
            std::size_t index;
            {
                std::lock_guard lock(mutex);
                index = finished.front();
                finished.erase(finished.begin());
            }
            sink(index, std::move(results[index]), done);
        });
}

namespace {

// Chunk `chunk` of the samples x, y, evaluated with the loaded parameters.
EvalResult evaluateChunk(ClientTrainer &t, const torch::Tensor &x, const torch::Tensor &y, int chunk) {
    const std::int64_t begin = std::int64_t(chunk) * kEvalChunk;
    return t.evaluate(x, y, nullptr, begin, std::min(y.size(0), begin + kEvalChunk));
}

// The first `count` chunk results added up, in chunk order.
EvalResult sumOf(const std::vector<EvalResult> &chunks, int count) {
    EvalResult sum;
    for (int c = 0; c < count; ++c) {
        sum.lossSum += chunks[std::size_t(c)].lossSum;
        sum.correct += chunks[std::size_t(c)].correct;
        sum.count += chunks[std::size_t(c)].count;
    }
    return sum;
}

int chunksOf(const torch::Tensor &y) {
    return int((y.size(0) + kEvalChunk - 1) / kEvalChunk);
}

} // namespace

EvalResult LocalExecutor::evaluateSet(const QByteArray &global, const torch::Tensor &x,
                                      const torch::Tensor &y) {
    const torch::Tensor globalTensor = floatTensor(global);
    const int chunks = chunksOf(y);
    std::vector<EvalResult> evals(static_cast<std::size_t>(chunks));
    std::vector<int> loaded(static_cast<std::size_t>(m_threads), 0);
    runParallel(chunks, m_threads, [&](int task, int worker) {
        ClientTrainer &t = trainer(worker);
        if (!loaded[std::size_t(worker)]) {
            t.model().load(globalTensor);
            loaded[std::size_t(worker)] = 1;
        }
        evals[std::size_t(task)] = evaluateChunk(t, x, y, task);
    });
    return sumOf(evals, chunks);
}

Evaluation LocalExecutor::evaluate(const QByteArray &global, const std::vector<ClientTask> &personalTasks,
                                   int steps) {
    const torch::Tensor globalTensor = floatTensor(global);
    const int chunks = chunksOf(m_data->testY);
    const int clients = int(m_shards.size());
    const bool personal = !personalTasks.empty();
    std::vector<EvalResult> evals(static_cast<std::size_t>(chunks + clients));
    Evaluation out;
    out.clients.resize(std::size_t(clients));
    if (personal) out.personal.resize(std::size_t(clients));
    std::vector<int> loaded(static_cast<std::size_t>(m_threads), 0);
    runParallel(chunks + clients, m_threads, [&](int task, int worker) {
        ClientTrainer &t = trainer(worker);
        if (!loaded[std::size_t(worker)]) { // every worker evaluates the same parameters: load them once
            t.model().load(globalTensor);
            loaded[std::size_t(worker)] = 1;
        }
        if (task < chunks) {
            evals[std::size_t(task)] = evaluateChunk(t, m_data->testX, m_data->testY, task);
            return;
        }
        const int id = task - chunks;
        const LocalData data = localData(id);
        if (!data.test->empty())
            out.clients[std::size_t(id)] = t.evaluate(m_data->trainX, m_data->trainY, data.test, 0, 0);
        if (!personal) return;
        // Personalization changes the replica: reload the global model afterwards.
        const ClientTask &pt = personalTasks[std::size_t(id)];
        auto algorithm = makeClientAlgorithm(pt.algorithm, pt.algorithmParams);
        LocalContext ctx{pt, t, t.model(), globalTensor, torch::Tensor(), data, nullptr};
        algorithm->personalize(ctx);
        // Bounded by `steps` and never interrupted: a stop request must not leave half-personalized metrics.
        if (steps > 0) t.trainLoaded(pt.training, data, Rng(pt.rngKey), steps, {}, nullptr);
        if (!data.test->empty())
            out.personal[std::size_t(id)] = t.evaluate(m_data->trainX, m_data->trainY, data.test, 0, 0);
        t.model().load(globalTensor);
    });
    out.global = sumOf(evals, chunks);
    return out;
}

} // namespace fedwb
