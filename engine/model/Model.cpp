#include "model/model_p.h"

#include "model/ModelFacts.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "spec/SpecError.h"
#include "util/Rng.h"

#include <cmath>

namespace fedwb {

namespace {

namespace nn = torch::nn;

struct LogReg : Net {
    nn::Linear fc{nullptr};
    LogReg(std::int64_t in, std::int64_t k) { fc = register_module("fc", nn::Linear(in, k)); }
    torch::Tensor forward(torch::Tensor x) override { return fc(x.flatten(1)); }
    std::string headName() const override { return "fc"; }
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
    std::string headName() const override { return "fc3"; }
};

// Two convolution blocks (conv 5x5 -> [batch norm] -> ReLU -> max-pool 2), then fully connected layers (each
// hidden one -> [batch norm] -> ReLU). Modules are named conv1, conv2, bn1, ..., fc1, ...: the ModelLayout's
// segment names, batch-norm kinds and head come from them.
struct ConvNet : Net {
    struct Shape {
        std::int64_t conv1, conv2;        // output channels
        int padding1, padding2;           // zero padding of each convolution
        std::vector<std::int64_t> hidden; // hidden fully connected widths
        std::int64_t side;                // spatial side after the second pool
    };
    std::vector<nn::Conv2d> convs;
    std::vector<nn::BatchNorm2d> convNorms;
    std::vector<nn::Linear> fcs;
    std::vector<nn::BatchNorm1d> fcNorms;
    std::string head;

    ConvNet(std::int64_t channels, std::int64_t k, const Shape &shape, bool bn) {
        int norm = 0;
        const std::int64_t in[2] = {channels, shape.conv1}, out[2] = {shape.conv1, shape.conv2};
        const int pad[2] = {shape.padding1, shape.padding2};
        for (int i = 0; i < 2; ++i) {
            convs.push_back(register_module("conv" + std::to_string(i + 1),
                                            nn::Conv2d(nn::Conv2dOptions(in[i], out[i], 5).padding(pad[i]))));
            if (bn)
                convNorms.push_back(register_module("bn" + std::to_string(++norm), nn::BatchNorm2d(out[i])));
        }
        std::int64_t width = shape.conv2 * shape.side * shape.side;
        for (std::size_t i = 0; i <= shape.hidden.size(); ++i) {
            const std::int64_t next = i < shape.hidden.size() ? shape.hidden[i] : k;
            head = "fc" + std::to_string(i + 1);
            fcs.push_back(register_module(head, nn::Linear(width, next)));
            if (bn && i < shape.hidden.size())
                fcNorms.push_back(register_module("bn" + std::to_string(++norm), nn::BatchNorm1d(next)));
            width = next;
        }
    }
    torch::Tensor forward(torch::Tensor x) override {
        for (std::size_t i = 0; i < convs.size(); ++i) {
            x = convs[i](x);
            if (!convNorms.empty()) x = convNorms[i](x);
            x = torch::max_pool2d(torch::relu(x), 2);
        }
        x = x.flatten(1);
        for (std::size_t i = 0; i + 1 < fcs.size(); ++i) {
            x = fcs[i](x);
            if (!fcNorms.empty()) x = fcNorms[i](x);
            x = torch::relu(x);
        }
        return fcs.back()(x);
    }
    std::string headName() const override { return head; }
};

// LeNet-5: conv 6, conv 16, fc 120, fc 84; `padding` 2 keeps 28x28 after conv1 (classic LeNet on MNIST), 0 is
// the smaller variant many FL benchmarks use.
ConvNet::Shape lenetShape(int padding) {
    return {6, 16, padding, 0, {120, 84}, ((28 + 2 * padding - 4) / 2 - 4) / 2};
}
// The CNN of McMahan et al. 2017: conv 32 and 64 with "same" padding, fc 512.
ConvNet::Shape fedAvgCnnShape() {
    return {32, 64, 2, 2, {512}, 7};
}

std::int64_t fc(std::int64_t a, std::int64_t b) {
    return a * b + b;
}
std::int64_t conv(std::int64_t cin, std::int64_t cout, std::int64_t ks) {
    return cin * cout * ks * ks + cout;
}
// Batch norm over c features: weight, bias, running mean, running variance.
std::int64_t bnCount(std::int64_t c) {
    return 4 * c;
}
int paddingOf(const QJsonObject &params) {
    return params.value(QStringLiteral("padding")).toInt(2);
}

std::int64_t lenetCount(const DatasetFacts &d, const QJsonObject &params, bool bn) {
    const std::int64_t side = lenetShape(paddingOf(params)).side;
    std::int64_t n = conv(d.channels, 6, 5) + conv(6, 16, 5) + fc(16 * side * side, 120) + fc(120, 84) +
                     fc(84, d.numClasses);
    if (bn) n += bnCount(6) + bnCount(16) + bnCount(120) + bnCount(84);
    return n;
}
std::int64_t lenetActivations(const DatasetFacts &d, const QJsonObject &params, bool bn) {
    const std::int64_t c1 = 28 + 2 * paddingOf(params) - 4, p1 = c1 / 2, c2 = p1 - 4, p2 = c2 / 2;
    std::int64_t floats = d.features + d.numClasses + 2 * 6 * c1 * c1 + 6 * p1 * p1 + 2 * 16 * c2 * c2 +
                          16 * p2 * p2 + 4 * 120 + 4 * 84;
    if (bn) floats += 6 * c1 * c1 + 16 * c2 * c2 + 120 + 84;
    return 3 * floats * std::int64_t(sizeof(float));
}
std::int64_t fedAvgCnnCount(const DatasetFacts &d, bool bn) {
    std::int64_t n = conv(d.channels, 32, 5) + conv(32, 64, 5) + fc(64 * 7 * 7, 512) + fc(512, d.numClasses);
    if (bn) n += bnCount(32) + bnCount(64) + bnCount(512);
    return n;
}
std::int64_t fedAvgCnnActivations(const DatasetFacts &d, bool bn) {
    std::int64_t floats =
        d.features + d.numClasses + 2 * 32 * 28 * 28 + 32 * 14 * 14 + 2 * 64 * 14 * 14 + 64 * 7 * 7 + 2 * 512;
    if (bn) floats += 32 * 28 * 28 + 64 * 14 * 14 + 512;
    return 3 * floats * std::int64_t(sizeof(float));
}

ParamSchema paddingParam() {
    ParamSchema p =
        intParam(QStringLiteral("padding"), 2, 0, 2,
                 QStringLiteral("Zero padding of the first convolution: 2 keeps 28x28 (61,706 "
                                "parameters), 0 is the 44,426-parameter LeNet of many FL papers."),
                 QStringLiteral("pixels"));
    p.explanation = QStringLiteral(
        "Padding adds a border of zeros around the image before the first filter, so the filter also looks "
        "at the edges and the image keeps its 28x28 size. 2 is the modern default; 0 shrinks the image to "
        "24x24 first and gives the smaller network many federated learning papers report on, to compare "
        "with them.");
    return p;
}

// torch's own default initialization (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for linear and convolution weights
// and biases; ones and zeros for batch norm), drawn from our keyed generator instead of torch's global one.
void initialize(torch::Tensor &flat, const ModelLayout &layout, std::uint64_t seed) {
    Rng rng(seed, "model-init");
    float *data = flat.data_ptr<float>();
    std::int64_t fanIn = 1;
    for (const ModelSegment &s : layout.segments) {
        float *p = data + s.offset;
        if (s.isBatchNorm()) {
            const bool ones =
                s.kind == SegmentKind::BnWeight || s.name.endsWith(QLatin1String("running_var"));
            std::fill(p, p + s.size, ones ? 1.0f : 0.0f);
            continue;
        }
        if (s.kind == SegmentKind::Weight) fanIn = s.size / std::max<std::int64_t>(1, s.fanOut);
        const double bound = 1.0 / std::sqrt(double(std::max<std::int64_t>(1, fanIn)));
        for (std::int64_t i = 0; i < s.size; ++i)
            p[i] = float((2.0 * rng.uniform() - 1.0) * bound);
    }
}

} // namespace

std::shared_ptr<Net> makeNet(const QString &name, const DatasetFacts &data, const QJsonObject &params) {
    const ComponentSchema *c = Registry::global().component(QStringLiteral("model"), name);
    const NetFactory *factory = c ? std::any_cast<NetFactory>(&c->factory) : nullptr;
    if (!factory)
        throw SpecError(
            QStringLiteral("model.name"),
            QStringLiteral("unknown model '%1'; allowed: %2")
                .arg(name,
                     Registry::global().componentNames(QStringLiteral("model")).join(QStringLiteral(", "))));
    if (c->has(kNeedsImage) && !data.image)
        throw SpecError(QStringLiteral("model.name"), QStringLiteral("'%1' needs image input").arg(name));
    return (*factory)(data, params);
}

FlatModel::FlatModel(const QString &name, const DatasetFacts &data, const QJsonObject &params,
                     std::uint64_t initSeed)
    : m_net(makeNet(name, data, params)) {
    torch::NoGradGuard noGrad;
    const std::string head = m_net->headName();
    // Parameters first (registration order), then float buffers (batch-norm running statistics).
    struct Entry {
        std::string name;
        torch::Tensor tensor;
        bool trainable;
    };
    std::vector<Entry> entries;
    for (auto &p : m_net->named_parameters())
        entries.push_back({p.key(), p.value(), true});
    for (auto &b : m_net->named_buffers())
        if (b.value().scalar_type() == torch::kFloat32) entries.push_back({b.key(), b.value(), false});
    std::int64_t total = 0;
    for (const Entry &e : entries)
        total += e.tensor.numel();
    m_flat = torch::empty({total}, torch::kFloat32);
    std::int64_t offset = 0;
    for (Entry &e : entries) {
        ModelSegment s;
        s.name = QString::fromStdString(e.name);
        s.offset = offset;
        s.size = e.tensor.numel();
        s.trainable = e.trainable;
        s.fanOut = e.tensor.dim() >= 2 ? e.tensor.size(0) : 0;
        const bool bn = s.name.startsWith(QLatin1String("bn"));
        const bool bias = s.name.endsWith(QLatin1String(".bias"));
        s.kind = !e.trainable ? SegmentKind::BnStat
                 : bn         ? (bias ? SegmentKind::BnBias : SegmentKind::BnWeight)
                 : bias       ? SegmentKind::Bias
                              : SegmentKind::Weight;
        s.head = e.name.rfind(head + ".", 0) == 0;
        m_layout.segments.push_back(s);
        auto view = m_flat.narrow(0, offset, s.size);
        view.copy_(e.tensor.reshape({-1}));
        e.tensor.set_data(view.view(e.tensor.sizes()));
        if (e.trainable) m_trainable.emplace_back(e.tensor, offset);
        offset += s.size;
    }
    initialize(m_flat, m_layout, initSeed);
}

void FlatModel::load(const torch::Tensor &flatParameters) {
    torch::NoGradGuard noGrad;
    m_flat.copy_(flatParameters);
}

void registerModels() {
    Registry &r = Registry::global();
    auto add = [&](const QString &name, const QString &title, const QString &help, const QString &explanation,
                   QList<ParamSchema> params, QStringList capabilities, NetFactory factory, ModelInfo info) {
        ComponentSchema c;
        c.category = QStringLiteral("model");
        c.name = name;
        c.title = title;
        c.help = help;
        c.explanation = explanation;
        c.params = std::move(params);
        c.capabilities = std::move(capabilities);
        c.factory = std::move(factory);
        c.facts = std::move(info);
        if (c.has(kHasBatchNorm)) // batch norm cannot normalize a batch of one sample
            c.check = [](const FederationSpec &spec, QList<SpecIssue> &errors) {
                const qint64 batch = spec.integer(QStringLiteral("training.batch_size"));
                if (batch < 2)
                    errors.append(
                        {QStringLiteral("training.batch_size"),
                         QStringLiteral("%1 is too small for a model with batch norm; allowed: an integer "
                                        ">= 2")
                             .arg(batch)});
            };
        r.addComponent(std::move(c));
    };
    add(QStringLiteral("logreg"), QStringLiteral("Logistic regression"),
        QStringLiteral("One linear layer with softmax: the convex baseline."),
        QStringLiteral("The simplest model: one weight per input feature and class. Trains fast, and because "
                       "its loss is convex, differences between strategies come from the data split alone."),
        {}, {},
        [](const DatasetFacts &d, const QJsonObject &) {
            return std::make_shared<LogReg>(d.features, d.numClasses);
        },
        {[](const DatasetFacts &d, const QJsonObject &) { return fc(d.features, d.numClasses); },
         [](const DatasetFacts &d, const QJsonObject &) {
             return 3 * std::int64_t(d.features + d.numClasses) * std::int64_t(sizeof(float));
         }});
    add(QStringLiteral("mlp-2nn"), QStringLiteral("2NN"),
        QStringLiteral(
            "Multilayer perceptron with two hidden layers of 200 ReLU units (McMahan et al. 2017)."),
        QStringLiteral("A small fully connected network: works on images (flattened) and plain features."),
        {}, {kHiddenLayers},
        [](const DatasetFacts &d, const QJsonObject &) {
            return std::make_shared<Mlp2nn>(d.features, d.numClasses);
        },
        {[](const DatasetFacts &d, const QJsonObject &) {
             return fc(d.features, 200) + fc(200, 200) + fc(200, d.numClasses);
         },
         [](const DatasetFacts &d, const QJsonObject &) {
             return 3 * std::int64_t(d.features + d.numClasses + 2 * (200 + 200)) *
                    std::int64_t(sizeof(float));
         }});
    for (const bool bn : {false, true}) {
        add(bn ? QStringLiteral("cnn-lenet5-bn") : QStringLiteral("cnn-lenet5"),
            bn ? QStringLiteral("LeNet-5 with batch norm") : QStringLiteral("LeNet-5"),
            bn ? QStringLiteral("LeNet-5 with batch normalization after each convolution and hidden layer "
                                "(for FedBN). Images only.")
               : QStringLiteral("conv 6@5x5 (pad 2), max-pool 2, conv 16@5x5, max-pool 2, fc 120, fc 84, "
                                "fc 10, ReLU. Images only."),
            QStringLiteral("A classic small convolutional network for 28x28 images: good accuracy on "
                           "Fashion-MNIST in seconds per round."),
            {paddingParam()},
            bn ? QStringList{kNeedsImage, kHasBatchNorm, kHiddenLayers}
               : QStringList{kNeedsImage, kHiddenLayers},
            [bn](const DatasetFacts &d, const QJsonObject &p) {
                return std::make_shared<ConvNet>(d.channels, d.numClasses, lenetShape(paddingOf(p)), bn);
            },
            {[bn](const DatasetFacts &d, const QJsonObject &p) { return lenetCount(d, p, bn); },
             [bn](const DatasetFacts &d, const QJsonObject &p) { return lenetActivations(d, p, bn); }});
        add(bn ? QStringLiteral("cnn-fedavg-bn") : QStringLiteral("cnn-fedavg"),
            bn ? QStringLiteral("FedAvg CNN with batch norm") : QStringLiteral("FedAvg CNN"),
            bn ? QStringLiteral(
                     "The FedAvg CNN with batch normalization after each convolution and the hidden "
                     "layer (for FedBN). Images only.")
               : QStringLiteral("conv 32@5x5 same, max-pool 2, conv 64@5x5 same, max-pool 2, fc 512, fc 10 "
                                "(McMahan et al. 2017). Images only."),
            QStringLiteral(
                "The CNN of the original FedAvg paper: 1.7 million parameters, slower but stronger."),
            {},
            bn ? QStringList{kNeedsImage, kHasBatchNorm, kHiddenLayers}
               : QStringList{kNeedsImage, kHiddenLayers},
            [bn](const DatasetFacts &d, const QJsonObject &) {
                return std::make_shared<ConvNet>(d.channels, d.numClasses, fedAvgCnnShape(), bn);
            },
            {[bn](const DatasetFacts &d, const QJsonObject &) { return fedAvgCnnCount(d, bn); },
             [bn](const DatasetFacts &d, const QJsonObject &) { return fedAvgCnnActivations(d, bn); }});
    }
}

} // namespace fedwb
