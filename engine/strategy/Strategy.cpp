#include "strategy/Strategy.h"

#include "spec/Registry.h"

#include <stdexcept>

namespace fedwb {

void FedAvgStrategy::aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates) {
    double total = 0;
    for (const ClientUpdate &u : updates) {
        if (u.delta.size() != global.size())
            throw std::invalid_argument("FedAvg: an update's size differs from the model's");
        total += u.weight;
    }
    if (updates.empty() || total <= 0) return;
    // Accumulate in double, in the given (client-id) order, then apply once: deterministic and exact enough.
    std::vector<double> acc(global.size(), 0.0);
    for (const ClientUpdate &u : updates) {
        const double w = u.weight / total;
        const float *d = u.delta.data();
        for (std::size_t i = 0; i < acc.size(); ++i)
            acc[i] += w * double(d[i]);
    }
    for (std::size_t i = 0; i < acc.size(); ++i)
        global[i] = float(double(global[i]) + acc[i]);
}

std::unique_ptr<Strategy> makeStrategy(const QString &name, const QJsonObject &) {
    if (name == QLatin1String("fedavg")) return std::make_unique<FedAvgStrategy>();
    throw std::invalid_argument("unknown strategy " + name.toStdString());
}

void registerStrategies() {
    Registry::global().addComponent({QStringLiteral("strategy"),
                                     QStringLiteral("fedavg"),
                                     QStringLiteral("FedAvg"),
                                     QStringLiteral("Federated averaging (McMahan et al. 2017): the mean of "
                                                    "client updates weighted by sample count."),
                                     {}});
}

} // namespace fedwb
