#include "strategy/Strategy.h"

#include "spec/Registry.h"

#include <stdexcept>

namespace fedwb {

void Strategy::loadState(const QByteArray &state) {
    if (!state.isEmpty()) throw std::invalid_argument("this strategy keeps no server state");
}

namespace {

class FedAvgStrategy : public Strategy {
public:
    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &) override {
        double total = 0;
        for (const ClientUpdate &u : updates) {
            if (u.delta.size() != global.size())
                throw std::invalid_argument("FedAvg: an update's size differs from the model's");
            total += u.weight;
        }
        if (updates.empty() || total <= 0) return;
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
};

} // namespace

std::unique_ptr<Strategy> makeStrategy(const QString &name, const QJsonObject &params) {
    const auto *factory = Registry::global().factory<StrategyFactory>(QStringLiteral("strategy"), name);
    if (!factory)
        throw std::invalid_argument(
            QStringLiteral("strategy.name: unknown strategy '%1'; allowed: %2")
                .arg(name,
                     Registry::global().componentNames(QStringLiteral("strategy")).join(QStringLiteral(", ")))
                .toStdString());
    return (*factory)(params);
}

void registerStrategies() {
    ComponentSchema c{
        QStringLiteral("strategy"),
        QStringLiteral("fedavg"),
        QStringLiteral("FedAvg"),
        QStringLiteral("Federated averaging (McMahan et al. 2017): the mean of client updates weighted "
                       "by sample count."),
        {}};
    c.factory = StrategyFactory([](const QJsonObject &) { return std::make_unique<FedAvgStrategy>(); });
    Registry::global().addComponent(std::move(c));
}

} // namespace fedwb
