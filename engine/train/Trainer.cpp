#include "train/trainer_p.h"

#include <cmath>

namespace fedwb {

namespace {

torch::Tensor indexTensor(const std::int64_t *data, std::int64_t n) {
    return torch::from_blob(const_cast<std::int64_t *>(data), {n}, torch::kInt64);
}

} // namespace

TrainResult ClientTrainer::train(const torch::Tensor &global, const torch::Tensor &x, const torch::Tensor &y,
                                 const std::vector<std::int64_t> &indices, const TrainingConfig &config,
                                 Rng rng, const std::atomic<bool> *stop) {
    m_model.load(global);
    Net &net = m_model.net();
    net.train();
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    if (config.adam)
        optimizer = std::make_unique<torch::optim::Adam>(
            net.parameters(), torch::optim::AdamOptions(config.lr).weight_decay(config.weightDecay));
    else
        optimizer = std::make_unique<torch::optim::SGD>(
            net.parameters(),
            torch::optim::SGDOptions(config.lr).momentum(config.momentum).weight_decay(config.weightDecay));

    TrainResult result;
    double lossSum = 0;
    std::int64_t seen = 0;
    std::vector<std::int64_t> order = indices;
    const auto n = std::int64_t(order.size());
    for (int epoch = 0; epoch < config.epochs; ++epoch) {
        rng.shuffle(order);
        for (std::int64_t start = 0; start < n; start += config.batchSize) {
            if (stop && stop->load(std::memory_order_relaxed)) {
                result.stopped = true;
                return result;
            }
            const std::int64_t b = std::min<std::int64_t>(config.batchSize, n - start);
            const auto idx = indexTensor(order.data() + start, b);
            const auto input = x.index_select(0, idx);
            const auto target = y.index_select(0, idx);
            optimizer->zero_grad();
            auto loss = torch::nn::functional::cross_entropy(net.forward(input), target);
            loss.backward();
            optimizer->step();
            const double value = loss.item<double>();
            if (!std::isfinite(value)) {
                result.diverged = true;
                return result;
            }
            lossSum += value * double(b);
            seen += b;
            ++result.steps;
        }
    }
    result.meanLoss = seen > 0 ? lossSum / double(seen) : 0.0;
    result.delta = m_model.flat() - global;
    return result;
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
        r.lossSum +=
            torch::nn::functional::cross_entropy(
                logits, target, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
        r.correct += logits.argmax(1).eq(target).sum().item<std::int64_t>();
        r.count += b;
    }
    return r;
}

} // namespace fedwb
