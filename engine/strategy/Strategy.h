// Server-side aggregation of client updates. Updates are flat float vectors (the one parameter
// representation): delta = local parameters after training - global parameters sent to the client.
#pragma once

#include <QJsonObject>
#include <QString>

#include <memory>
#include <span>
#include <vector>

namespace fedwb {

struct ClientUpdate {
    int clientId = -1;
    std::span<const float> delta;
    double weight = 1.0; // FedAvg: the client's number of training samples
};

class Strategy {
public:
    virtual ~Strategy() = default;
    // Applies one round's updates to the global parameters in place. Updates are combined in the order
    // given (the engine passes them sorted by client id, so the result never depends on arrival order).
    virtual void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates) = 0;
};

// FedAvg (McMahan et al. 2017): global += sum_k n_k delta_k / sum_k n_k.
class FedAvgStrategy : public Strategy {
public:
    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates) override;
};

std::unique_ptr<Strategy> makeStrategy(const QString &name, const QJsonObject &params);
void registerStrategies();

} // namespace fedwb
