#include "model/ModelFacts.h"

#include "data/DatasetFacts.h"
#include "spec/Registry.h"

namespace fedwb {

ModelFacts modelFacts(const QString &name) {
    ModelFacts f;
    f.needsImage = name == QLatin1String("cnn-lenet5") || name == QLatin1String("cnn-fedavg");
    return f;
}

std::int64_t modelParameterCount(const QString &name, const DatasetFacts &data) {
    const std::int64_t in = data.features, k = data.numClasses;
    auto fc = [](std::int64_t a, std::int64_t b) { return a * b + b; };
    auto conv = [](std::int64_t cin, std::int64_t cout, std::int64_t ks) {
        return cin * cout * ks * ks + cout;
    };
    if (name == QLatin1String("logreg")) return fc(in, k);
    if (name == QLatin1String("mlp-2nn")) return fc(in, 200) + fc(200, 200) + fc(200, k);
    if (name == QLatin1String("cnn-lenet5")) // 28x28 padded by 2 -> 28 -> 14 -> 10 -> 5
        return conv(data.channels, 6, 5) + conv(6, 16, 5) + fc(16 * 5 * 5, 120) + fc(120, 84) + fc(84, k);
    if (name == QLatin1String("cnn-fedavg")) // same padding: 28 -> 14 -> 7
        return conv(data.channels, 32, 5) + conv(32, 64, 5) + fc(64 * 7 * 7, 512) + fc(512, k);
    return -1;
}

std::int64_t activationBytesPerSample(const QString &name, const DatasetFacts &data) {
    const std::int64_t in = data.features, k = data.numClasses;
    std::int64_t floats = in + k;                                    // input and logits
    if (name == QLatin1String("mlp-2nn")) floats += 2 * (200 + 200); // linear + ReLU outputs
    if (name == QLatin1String("cnn-lenet5"))
        floats += 2 * 6 * 28 * 28 + 6 * 14 * 14 + 2 * 16 * 10 * 10 + 16 * 5 * 5 + 2 * 120 + 2 * 84;
    if (name == QLatin1String("cnn-fedavg"))
        floats += 2 * 32 * 28 * 28 + 32 * 14 * 14 + 2 * 64 * 14 * 14 + 64 * 7 * 7 + 2 * 512;
    return 3 * floats * std::int64_t(sizeof(float)); // outputs, their gradients, and workspace
}

void registerModelSchemas() {
    Registry &r = Registry::global();
    r.addComponent({QStringLiteral("model"),
                    QStringLiteral("logreg"),
                    QStringLiteral("Logistic regression"),
                    QStringLiteral("One linear layer with softmax: the convex baseline."),
                    {}});
    r.addComponent(
        {QStringLiteral("model"),
         QStringLiteral("mlp-2nn"),
         QStringLiteral("2NN"),
         QStringLiteral(
             "Multilayer perceptron with two hidden layers of 200 ReLU units (McMahan et al. 2017)."),
         {}});
    r.addComponent({QStringLiteral("model"),
                    QStringLiteral("cnn-lenet5"),
                    QStringLiteral("LeNet-5"),
                    QStringLiteral("conv 6@5x5 (pad 2), max-pool 2, conv 16@5x5, max-pool 2, fc 120, fc 84, "
                                   "fc 10, ReLU. Images only."),
                    {}});
    r.addComponent(
        {QStringLiteral("model"),
         QStringLiteral("cnn-fedavg"),
         QStringLiteral("FedAvg CNN"),
         QStringLiteral(
             "conv 32@5x5 same, max-pool 2, conv 64@5x5 same, max-pool 2, fc 512, fc 10 (McMahan et al. "
             "2017). Images only."),
         {}});
}

} // namespace fedwb
