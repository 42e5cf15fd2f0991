#include "train/trainer_p.h"

#include "adversary/poisoning_p.h"

#include <QElapsedTimer>

#include <cmath>

namespace fedwb {

namespace {

torch::Tensor indexTensor(const std::int64_t *data, std::int64_t n) {
    return torch::from_blob(const_cast<std::int64_t *>(data), {n}, torch::kInt64);
}

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(Net &net, const TrainingConfig &config) {
    if (config.optimizer == QLatin1String("adam"))
        return std::make_unique<torch::optim::Adam>(
            net.parameters(), torch::optim::AdamOptions(config.lr).weight_decay(config.weightDecay));
    return std::make_unique<torch::optim::SGD>(net.parameters(),
                                               torch::optim::SGDOptions(config.lr)
                                                   .momentum(config.momentum)
                                                   .nesterov(config.nesterov && config.momentum > 0)
                                                   .weight_decay(config.weightDecay));
}

} // namespace

torch::Tensor ClientTrainer::batchLoss(const torch::Tensor &output, const torch::Tensor &target) const {
    if (m_regression) return 0.5 * (output.squeeze(1) - target).square().mean();
    return torch::nn::functional::cross_entropy(output, target);
}

TrainStats ClientTrainer::trainLoaded(const TrainingConfig &config, const LocalData &data, Rng rng,
                                      std::int64_t maxSteps, const std::function<void()> &afterBackward,
                                      const std::atomic<bool> *stop) {
    Net &net = m_model.net();
    net.train();
    const auto optimizer = makeOptimizer(net, config);
    TrainStats stats;
    std::vector<std::int64_t> order = *data.train;
    const auto n = std::int64_t(order.size());
    const int epochs = maxSteps > 0 ? std::numeric_limits<int>::max() : config.epochs;
    for (int epoch = 0; epoch < epochs && n > 0; ++epoch) {
        if (epoch > 0 && stats.steps == 0) break; // no batch can be trained on: more epochs would not help
        rng.shuffle(order);
        for (std::int64_t start = 0; start < n; start += config.batchSize) {
            if (maxSteps > 0 && stats.steps >= maxSteps) return stats;
            if (stop && stop->load(std::memory_order_relaxed)) {
                stats.stopped = true;
                return stats;
            }
            const std::int64_t b = std::min<std::int64_t>(config.batchSize, n - start);
            // Batch norm cannot normalize a batch of one sample: such a last batch is skipped.
            if (b == 1 && m_model.layout().hasBatchNorm()) continue;
            const auto idx = indexTensor(order.data() + start, b);
            const auto input = data.x->index_select(0, idx);
            const auto target = data.y->index_select(0, idx);
            optimizer->zero_grad();
            auto loss = batchLoss(net.forward(input), target);
            loss.backward();
            if (afterBackward) afterBackward();
            optimizer->step();
            const double value = loss.item<double>();
            if (!std::isfinite(value)) {
                stats.diverged = true;
                return stats;
            }
            stats.lossSum += value * double(b);
            stats.seen += b;
            ++stats.steps;
        }
    }
    return stats;
}

ClientResult ClientTrainer::run(const ClientTask &task, const LocalData &shard,
                                const std::atomic<bool> *stop) {
    QElapsedTimer clock;
    clock.start();
    ClientResult result;
    result.round = task.round;
    result.clientId = task.clientId;
    result.weight = double(shard.train->size());
    // A poisoning behaviour (label flipping, a backdoor) trains on its own changed copy of the shard.
    const auto behaviour = makeBehaviour(task.behaviour);
    const auto poisoned =
        behaviour->poisonsData() ? poisonedCopy(*behaviour, shard, m_facts, task.rngKey) : nullptr;
    const LocalData &data = poisoned ? poisoned->local : shard;
    result.bytesDown = task.model.size() + task.payloadDown.size() + task.clientState.size();

    const torch::Tensor global = floatTensor(task.model);
    m_model.load(global);
    auto algorithm = makeClientAlgorithm(task.algorithm, task.algorithmParams);
    LocalContext ctx{task,
                     *this,
                     m_model,
                     global,
                     task.payloadDown.isEmpty() ? torch::Tensor() : floatTensor(task.payloadDown),
                     data,
                     stop};
    if (task.needStartLoss) result.startLoss = meanLoss(data);
    algorithm->begin(ctx);
    const TrainStats stats = trainLoaded(
        task.training, data, Rng(task.rngKey), 0, [&] { algorithm->afterBackward(ctx); }, stop);
    result.steps = stats.steps;
    result.trainLoss = stats.seen > 0 ? stats.lossSum / double(stats.seen) : 0.0;
    if (stats.stopped) {
        result.status = ClientStatus::Stopped;
        return result;
    }
    if (stats.diverged) {
        result.status = ClientStatus::Diverged;
        return result;
    }
    {
        torch::NoGradGuard noGrad;
        result.update = tensorBytes(m_model.flat() - global);
    }
    algorithm->end(ctx, result);
    if (!task.stages.isEmpty()) { // the client side of the update pipeline
        const UpdatePipeline stages(task.stages);
        stages.apply(std::span<float>(reinterpret_cast<float *>(result.update.data()),
                                      std::size_t(result.update.size()) / sizeof(float)),
                     task.stageContext());
    }
    if (stop && stop->load()) result.status = ClientStatus::Stopped;
    result.bytesUp = result.update.size() + result.payloadUp.size();
    result.computeSeconds = double(clock.nsecsElapsed()) * 1e-9;
    return result;
}

double ClientTrainer::meanLoss(const LocalData &data) {
    const EvalResult e = evaluate(*data.x, *data.y, data.train, 0, 0);
    return e.count > 0 ? e.lossSum / double(e.count) : 0.0;
}

EvalResult ClientTrainer::evaluate(const torch::Tensor &x, const torch::Tensor &y,
                                   const std::vector<std::int64_t> *indices, std::int64_t begin,
                                   std::int64_t end) {
    torch::NoGradGuard noGrad;
    Net &net = m_model.net();
    net.eval();
    EvalResult r;
    const std::int64_t n = indices ? std::int64_t(indices->size()) : end - begin;
    for (std::int64_t start = 0; start < n; start += kEvalChunk) {
        const std::int64_t b = std::min(kEvalChunk, n - start);
        torch::Tensor input, target;
        if (indices) {
            const auto idx = indexTensor(indices->data() + start, b);
            input = x.index_select(0, idx);
            target = y.index_select(0, idx);
        } else {
            input = x.narrow(0, begin + start, b);
            target = y.narrow(0, begin + start, b);
        }
        const auto logits = net.forward(input);
        r.count += b;
        if (m_regression) { // no accuracy: correct stays 0 and the caller reports none
            r.lossSum += 0.5 * (logits.squeeze(1) - target).square().sum().item<double>();
            continue;
        }
        r.lossSum +=
            torch::nn::functional::cross_entropy(
                logits, target, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
        r.correct += logits.argmax(1).eq(target).sum().item<std::int64_t>();
    }
    return r;
}

} // namespace fedwb
