#include "model/model_p.h"

#include "run/Experiment.h"

namespace fedwb {

namespace {

namespace nn = torch::nn;

struct LogReg : Net {
    nn::Linear fc{nullptr};
    LogReg(std::int64_t in, std::int64_t k) { fc = register_module("fc", nn::Linear(in, k)); }
    torch::Tensor forward(torch::Tensor x) override { return fc(x.flatten(1)); }
};

struct Mlp2nn : Net {
    nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
    Mlp2nn(std::int64_t in, std::int64_t k) {
        fc1 = register_module("fc1", nn::Linear(in, 200));
        fc2 = register_module("fc2", nn::Linear(200, 200));
        fc3 = register_module("fc3", nn::Linear(200, k));
    }
    torch::Tensor forward(torch::Tensor x) override {
        x = torch::relu(fc1(x.flatten(1)));
        x = torch::relu(fc2(x));
        return fc3(x);
    }
};

struct LeNet5 : Net {
    nn::Conv2d conv1{nullptr}, conv2{nullptr};
    nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
    LeNet5(std::int64_t channels, std::int64_t k) {
        conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(channels, 6, 5).padding(2)));
        conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(6, 16, 5)));
        fc1 = register_module("fc1", nn::Linear(16 * 5 * 5, 120));
        fc2 = register_module("fc2", nn::Linear(120, 84));
        fc3 = register_module("fc3", nn::Linear(84, k));
    }
    torch::Tensor forward(torch::Tensor x) override {
        x = torch::max_pool2d(torch::relu(conv1(x)), 2);
        x = torch::max_pool2d(torch::relu(conv2(x)), 2);
        x = torch::relu(fc1(x.flatten(1)));
        x = torch::relu(fc2(x));
        return fc3(x);
    }
};

struct FedAvgCnn : Net {
    nn::Conv2d conv1{nullptr}, conv2{nullptr};
    nn::Linear fc1{nullptr}, fc2{nullptr};
    FedAvgCnn(std::int64_t channels, std::int64_t k) {
        conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(channels, 32, 5).padding(2)));
        conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(32, 64, 5).padding(2)));
        fc1 = register_module("fc1", nn::Linear(64 * 7 * 7, 512));
        fc2 = register_module("fc2", nn::Linear(512, k));
    }
    torch::Tensor forward(torch::Tensor x) override {
        x = torch::max_pool2d(torch::relu(conv1(x)), 2);
        x = torch::max_pool2d(torch::relu(conv2(x)), 2);
        x = torch::relu(fc1(x.flatten(1)));
        return fc2(x);
    }
};

} // namespace

std::shared_ptr<Net> makeNet(const QString &name, const DatasetFacts &data) {
    if (name == QLatin1String("logreg")) return std::make_shared<LogReg>(data.features, data.numClasses);
    if (name == QLatin1String("mlp-2nn")) return std::make_shared<Mlp2nn>(data.features, data.numClasses);
    if (!data.image && name.startsWith(QLatin1String("cnn-")))
        throw SpecError(QStringLiteral("model.name"), QStringLiteral("'%1' needs image input").arg(name));
    if (name == QLatin1String("cnn-lenet5")) return std::make_shared<LeNet5>(data.channels, data.numClasses);
    if (name == QLatin1String("cnn-fedavg"))
        return std::make_shared<FedAvgCnn>(data.channels, data.numClasses);
    throw SpecError(QStringLiteral("model.name"), QStringLiteral("unknown model '%1'").arg(name));
}

FlatModel::FlatModel(const QString &name, const DatasetFacts &data)
    : m_net(makeNet(name, data)) {
    torch::NoGradGuard noGrad;
    auto params = m_net->parameters();
    std::int64_t total = 0;
    for (const auto &p : params)
        total += p.numel();
    m_flat = torch::empty({total}, torch::kFloat32);
    std::int64_t offset = 0;
    for (auto &p : params) {
        auto view = m_flat.narrow(0, offset, p.numel());
        view.copy_(p.reshape({-1}));
        p.set_data(view.view(p.sizes()));
        offset += p.numel();
    }
}

void FlatModel::load(const torch::Tensor &flatParameters) {
    torch::NoGradGuard noGrad;
    m_flat.copy_(flatParameters);
}

} // namespace fedwb
