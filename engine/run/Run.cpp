#include "run/Run.h"

#include "data/dataset_p.h"
#include "model/model_p.h"
#include "run/Experiment.h"
#include "run/parallel_p.h"
#include "strategy/Strategy.h"
#include "train/trainer_p.h"

#include <QElapsedTimer>

#include <algorithm>
#include <mutex>

namespace fedwb {

struct Run::Impl {
    FederationSpec spec;
    std::vector<RunObserver *> observers;
    std::atomic<bool> stop{false};

    template <typename F> void notify(F &&f) {
        for (RunObserver *o : observers)
            f(*o);
    }
    // Fills `summary` as rounds complete, so a failure keeps what was done.
    void execute(QElapsedTimer &clock, RunSummary &summary);
};

Run::Run(FederationSpec spec)
    : d(std::make_unique<Impl>()) {
    d->spec = std::move(spec);
}

Run::~Run() = default;

const FederationSpec &Run::spec() const {
    return d->spec;
}
void Run::addObserver(RunObserver *observer) {
    d->observers.push_back(observer);
}
void Run::requestStop() {
    d->stop.store(true);
}

RunSummary Run::exec() {
    QElapsedTimer clock;
    clock.start();
    RunSummary summary;
    try {
        d->execute(clock, summary);
    } catch (const SpecError &e) {
        summary.status = RunStatus::Failed;
        summary.message = QString::fromStdString(e.what());
    } catch (const c10::Error &e) { // torch's message without its C++ backtrace
        summary.status = RunStatus::Failed;
        summary.message =
            QStringLiteral("internal error: ") + QString::fromStdString(e.what_without_backtrace());
    } catch (const std::bad_alloc &) {
        summary.status = RunStatus::Failed;
        summary.message =
            QStringLiteral("out of memory: lower training.batch_size, clients.count or the model size");
    } catch (const std::exception &e) {
        summary.status = RunStatus::Failed;
        summary.message = QStringLiteral("internal error: ") + QString::fromStdString(e.what());
    }
    summary.wallSeconds = double(clock.nsecsElapsed()) * 1e-9;
    d->notify([&](RunObserver &o) { o.runFinished(summary); });
    return summary;
}

namespace {

// Draws k of n clients without replacement from the round's own generator; returned in ascending id order.
std::vector<int> selectClients(std::uint64_t seed, int round, int n, int k) {
    std::vector<int> ids(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        ids[std::size_t(i)] = i;
    Rng rng(seed, "select-clients", round);
    for (int i = 0; i < k; ++i)
        std::swap(ids[std::size_t(i)], ids[std::size_t(i) + std::size_t(rng.below(std::uint64_t(n - i)))]);
    ids.resize(std::size_t(k));
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::mutex &initMutex() {
    static std::mutex
        m; // torch::manual_seed + construction of the initial model use torch's global generator
    return m;
}

} // namespace

void Run::Impl::execute(QElapsedTimer &clock, RunSummary &summary) {
    const FederationSpec &s = spec;
    const std::uint64_t seed = s.seed();
    at::set_num_threads(1);

    notify([](RunObserver &o) { o.message(QStringLiteral("loading dataset")); });
    const auto data = loadDataset(s);
    notify([](RunObserver &o) { o.message(QStringLiteral("partitioning")); });
    const auto shards = partitionFor(s, *data);
    if (stop.load()) { // stopped while the data was prepared
        summary.status = RunStatus::Stopped;
        return;
    }
    const QString modelName = s.string(QStringLiteral("model.name"));

    torch::Tensor global;
    std::int64_t parameterCount = 0;
    {
        std::lock_guard lock(initMutex());
        torch::manual_seed(deriveSeed(seed, "model-init"));
        FlatModel init(modelName, data->facts);
        global = init.flat().clone();
        parameterCount = init.parameterCount();
    }
    auto strategy =
        makeStrategy(s.string(QStringLiteral("strategy.name")), s.section(QStringLiteral("strategy")));

    TrainingConfig config;
    config.epochs = int(s.integer(QStringLiteral("training.epochs")));
    config.batchSize = int(s.integer(QStringLiteral("training.batch_size")));
    config.adam = s.string(QStringLiteral("training.optimizer")) == QLatin1String("adam");
    config.lr = s.real(QStringLiteral("training.lr"));
    config.momentum = s.real(QStringLiteral("training.momentum"));
    config.weightDecay = s.real(QStringLiteral("training.weight_decay"));

    int threads = int(s.integer(QStringLiteral("run.threads")));
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::unique_ptr<ClientTrainer>> trainers(static_cast<std::size_t>(threads));
    auto trainer = [&](int worker) -> ClientTrainer & {
        auto &t = trainers[std::size_t(worker)];
        if (!t) { // construction draws from torch's global generator: keep it away from another run's seeding
            std::lock_guard lock(initMutex());
            t = std::make_unique<ClientTrainer>(modelName, data->facts);
        }
        return *t;
    };

    const int rounds = s.rounds();
    const int clientCount = s.clientCount();
    const int perRound = s.clientsPerRound();
    const int evalEvery = int(s.integer(QStringLiteral("run.eval_every")));
    const std::int64_t payload = parameterCount * std::int64_t(sizeof(float));
    notify([&](RunObserver &o) { o.runStarted(rounds, parameterCount); });

    summary.status = RunStatus::Finished;
    for (int round = 1; round <= rounds; ++round) {
        if (stop.load()) {
            summary.status = RunStatus::Stopped;
            break;
        }
        QElapsedTimer roundClock;
        roundClock.start();
        const std::vector<int> selected = selectClients(seed, round, clientCount, perRound);
        notify([&](RunObserver &o) { o.roundStarted(round, int(selected.size())); });

        std::vector<TrainResult> results(selected.size());
        runParallel(
            int(selected.size()), threads,
            [&](int task, int worker) {
                if (stop.load()) return;
                const int id = selected[std::size_t(task)];
                results[std::size_t(task)] =
                    trainer(worker).train(global, data->trainX, data->trainY, shards[std::size_t(id)].train,
                                          config, Rng(seed, "local-batches", round, id), &stop);
            },
            [&](int done) {
                notify([&](RunObserver &o) { o.clientFinished(round, done, int(selected.size())); });
            });
        if (stop.load()) { // the round is incomplete: it is not aggregated
            summary.status = RunStatus::Stopped;
            break;
        }

        for (std::size_t i = 0; i < selected.size(); ++i)
            if (results[i].diverged)
                throw SpecError(
                    QStringLiteral("training.lr"),
                    QStringLiteral(
                        "training diverged: the loss of client %1 became NaN or infinite in round %2; "
                        "lower training.lr (now %3)")
                        .arg(selected[i])
                        .arg(round)
                        .arg(config.lr));

        RoundMetrics m;
        m.round = round;
        m.clientsSelected = int(selected.size());
        std::vector<ClientUpdate> updates;
        double lossWeighted = 0, weightSum = 0;
        for (std::size_t i = 0; i < selected.size(); ++i) {
            const int id = selected[i];
            const auto &r = results[i];
            const double w = double(shards[std::size_t(id)].train.size());
            updates.push_back(
                {id, std::span<const float>(r.delta.data_ptr<float>(), std::size_t(r.delta.numel())), w});
            lossWeighted += r.meanLoss * w;
            weightSum += w;
        }
        strategy->aggregate(std::span<float>(global.data_ptr<float>(), std::size_t(global.numel())), updates);
        m.trainLoss = weightSum > 0 ? lossWeighted / weightSum : 0;
        m.bytesDown = payload * std::int64_t(selected.size());
        m.bytesUp = payload * std::int64_t(selected.size());

        std::vector<ClientRoundMetrics> clients(static_cast<std::size_t>(clientCount));
        for (int id = 0; id < clientCount; ++id) {
            clients[std::size_t(id)].clientId = id;
            clients[std::size_t(id)].trainSamples = std::int64_t(shards[std::size_t(id)].train.size());
            clients[std::size_t(id)].testSamples = std::int64_t(shards[std::size_t(id)].test.size());
        }
        for (std::size_t i = 0; i < selected.size(); ++i) {
            auto &c = clients[std::size_t(selected[i])];
            c.trained = true;
            c.trainLoss = results[i].meanLoss;
        }

        if (round % evalEvery == 0 || round == rounds) {
            notify([&](RunObserver &o) { o.message(QStringLiteral("evaluating round %1").arg(round)); });
            // Tasks: fixed chunks of the global test set, then each client's local test split.
            const std::int64_t testN = data->testY.size(0);
            const int chunks = int((testN + kEvalChunk - 1) / kEvalChunk);
            std::vector<EvalResult> evals(static_cast<std::size_t>(chunks + clientCount));
            std::vector<int> loaded(static_cast<std::size_t>(threads), 0);
            runParallel(chunks + clientCount, threads, [&](int task, int worker) {
                ClientTrainer &t = trainer(worker);
                if (!loaded[std::size_t(worker)]) {
                    t.model().load(global);
                    loaded[std::size_t(worker)] = 1;
                }
                if (task < chunks) {
                    const std::int64_t begin = std::int64_t(task) * kEvalChunk;
                    evals[std::size_t(task)] = t.evaluate(data->testX, data->testY, nullptr, begin,
                                                          std::min(testN, begin + kEvalChunk));
                } else {
                    evals[std::size_t(task)] = t.evaluate(data->trainX, data->trainY,
                                                          &shards[std::size_t(task - chunks)].test, 0, 0);
                }
            });
            EvalResult total;
            for (int c = 0; c < chunks; ++c) {
                total.lossSum += evals[std::size_t(c)].lossSum;
                total.correct += evals[std::size_t(c)].correct;
                total.count += evals[std::size_t(c)].count;
            }
            m.evaluated = true;
            m.testAccuracy = total.count ? double(total.correct) / double(total.count) : 0;
            m.testLoss = total.count ? total.lossSum / double(total.count) : 0;
            std::vector<double> accuracies;
            for (int id = 0; id < clientCount; ++id) {
                const EvalResult &e = evals[std::size_t(chunks + id)];
                if (e.count == 0) continue;
                auto &c = clients[std::size_t(id)];
                c.accuracy = double(e.correct) / double(e.count);
                c.loss = e.lossSum / double(e.count);
                accuracies.push_back(*c.accuracy);
            }
            m.fairness = computeFairness(accuracies);
            summary.finalTestAccuracy = m.testAccuracy;
            summary.finalTestLoss = m.testLoss;
        }
        for (auto &c : clients)
            if (c.trained || c.accuracy) m.clients.push_back(c);
        m.roundSeconds = double(roundClock.nsecsElapsed()) * 1e-9;
        m.wallSeconds = double(clock.nsecsElapsed()) * 1e-9;
        summary.roundsDone = round;
        notify([&](RunObserver &o) { o.roundFinished(m); });
    }

    const QByteArray bytes(reinterpret_cast<const char *>(global.data_ptr<float>()), qsizetype(payload));
    notify([&](RunObserver &o) { o.finalModel(bytes, parameterCount); });
}

} // namespace fedwb
