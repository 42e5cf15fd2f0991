// engine_overhead: the SGD work of one quickstart round (5 clients of the quickstart partition, 1 epoch,
// batch 32, LeNet-5), once through the engine (ClientTask -> ClientTrainer::run -> aggregateRound, as the
// round loop runs it) and once as a bare LibTorch loop over the same batches, in one process on one intra-op
// thread. Prints the ratio. Also prints the round loop's speed-up from training clients in parallel
// (run.threads 1 vs 2).
#include "data/dataset_p.h"
#include "model/model_p.h"
#include "run/Run.h"
#include "spec/Registry.h"
#include "strategy/Strategy.h"
#include "train/trainer_p.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <cstdio>

using namespace fedwb;

namespace {

FederationSpec quickstart(const QStringList &sets = {}) {
    QString error;
    auto raw =
        FederationSpec::readFile(QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb"), &error);
    if (!raw) qFatal("%s", qPrintable(error));
    for (const QString &s : sets)
        FederationSpec::applyOverride(*raw, s, &error);
    auto parsed = FederationSpec::parse(*raw);
    if (!parsed.ok()) qFatal("%s", qPrintable(parsed.errorText()));
    return *parsed.spec;
}

double seconds(const QElapsedTimer &t) {
    return double(t.nsecsElapsed()) * 1e-9;
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    registerBuiltins();
    at::set_num_threads(1);
    const FederationSpec spec = quickstart();
    const auto data = loadDataset(spec);
    const auto shards = partitionFor(spec, *data);
    const std::vector<int> clients{0, 1, 2, 3, 4};
    std::int64_t samples = 0;
    for (int c : clients)
        samples += std::int64_t(shards[std::size_t(c)].train.size());

    FlatModel init(QStringLiteral("cnn-lenet5"), data->facts, {}, 1);
    const torch::Tensor global0 = init.flat().clone();
    TrainingConfig config;
    config.lr = spec.real(QStringLiteral("training.lr"));
    config.momentum = spec.real(QStringLiteral("training.momentum"));
    config.batchSize = int(spec.integer(QStringLiteral("training.batch_size")));

    // The batch order each client uses, so both paths do identical SGD steps.
    auto orderFor = [&](int c) {
        std::vector<std::int64_t> order = shards[std::size_t(c)].train;
        Rng(1, "local-batches", 1, c).shuffle(order);
        return order;
    };

    // The engine's path, as the round loop runs it: a ClientTask per client through ClientTrainer::run (with
    // the client algorithm's hooks and the update-stage chain), then the server side (aggregateRound).
    const auto fedavg = makeStrategy(QStringLiteral("fedavg"), {});
    auto engineRound = [&] {
        ClientTrainer trainer(QStringLiteral("cnn-lenet5"), data->facts);
        QByteArray global = tensorBytes(global0);
        std::vector<ClientResult> results;
        QElapsedTimer t;
        t.start();
        for (int c : clients) {
            ClientTask task;
            task.round = 1;
            task.clientId = c;
            task.model = global;
            task.training = config;
            task.rngKey = deriveSeed(1, "local-batches", 1, c);
            const LocalData local{&data->trainX, &data->trainY, &shards[std::size_t(c)].train,
                                  &shards[std::size_t(c)].test};
            results.push_back(trainer.run(task, local, nullptr));
        }
        std::vector<ClientUpdate> updates;
        for (const ClientResult &r : results)
            updates.push_back({r.clientId, floatsOf(r.update), r.weight, r.steps, 0.0, {}});
        aggregateRound(*fedavg, UpdatePipeline(),
                       {reinterpret_cast<float *>(global.data()), std::size_t(global.size()) / 4}, updates,
                       RoundContext{});
        const double elapsed = seconds(t);
        return std::pair{elapsed, floatTensor(global).clone()};
    };

    auto bareRound = [&] {
        auto net = makeNet(QStringLiteral("cnn-lenet5"), data->facts);
        std::vector<torch::Tensor> params = net->parameters();
        QElapsedTimer t;
        t.start();
        torch::Tensor sum = torch::zeros_like(global0);
        for (int c : clients) {
            {
                torch::NoGradGuard g;
                std::int64_t off = 0;
                for (auto &p : params) {
                    p.copy_(global0.narrow(0, off, p.numel()).view(p.sizes()));
                    off += p.numel();
                }
            }
            torch::optim::SGD sgd(params, torch::optim::SGDOptions(config.lr).momentum(config.momentum));
            const auto order = orderFor(c);
            for (std::size_t s = 0; s < order.size(); s += std::size_t(config.batchSize)) {
                const auto b =
                    std::int64_t(std::min<std::size_t>(std::size_t(config.batchSize), order.size() - s));
                const auto idx =
                    torch::from_blob(const_cast<std::int64_t *>(order.data() + s), {b}, torch::kInt64);
                sgd.zero_grad();
                auto loss = torch::nn::functional::cross_entropy(
                    net->forward(data->trainX.index_select(0, idx)), data->trainY.index_select(0, idx));
                loss.backward();
                sgd.step();
                (void)loss.item<double>();
            }
            std::vector<torch::Tensor> flat;
            for (auto &p : params)
                flat.push_back(p.detach().reshape({-1}));
            sum += double(shards[std::size_t(c)].train.size()) * torch::cat(flat);
        }
        torch::Tensor global = sum / double(samples);
        return std::pair{seconds(t), global};
    };

    std::printf("one quickstart round: %d clients, %lld samples, batch %d, LeNet-5, 1 intra-op thread\n",
                int(clients.size()), (long long)samples, config.batchSize);
    double bestEngine = 1e9, bestBare = 1e9;
    torch::Tensor engineGlobal, bareGlobal;
    for (int rep = 0; rep < 3; ++rep) { // alternate, keep the best of each
        auto [te, ge] = engineRound();
        auto [tb, gb] = bareRound();
        bestEngine = std::min(bestEngine, te);
        bestBare = std::min(bestBare, tb);
        engineGlobal = ge;
        bareGlobal = gb;
        std::printf("  rep %d: engine %.3f s   bare LibTorch %.3f s\n", rep + 1, te, tb);
    }
    const double diff = (engineGlobal - bareGlobal).abs().max().item<double>();
    std::printf("engine / bare = %.3f  (target <= 1.10); max |engine - bare| aggregated parameter = %.2e\n",
                bestEngine / bestBare, diff);

    // Whole round loop, 2 rounds, 1 vs 2 client threads (results are identical; only time differs).
    double t1 = 0, t2 = 0;
    for (int threads : {1, 2}) {
        Run run(quickstart({QStringLiteral("run.rounds=2"), QStringLiteral("run.threads=%1").arg(threads)}));
        QElapsedTimer t;
        t.start();
        const RunSummary s = run.exec();
        (threads == 1 ? t1 : t2) = seconds(t);
        std::printf("round loop, 2 rounds incl. evaluation, run.threads=%d: %.2f s, test accuracy %.4f\n",
                    threads, seconds(t), s.finalTestAccuracy.value_or(-1));
    }
    std::printf("parallel speed-up (threads 1 / threads 2) = %.2f\n", t1 / t2);
    return 0;
}
