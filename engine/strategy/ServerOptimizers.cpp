// Server optimizers: the round's sample-weighted mean delta is treated as a pseudo-gradient and applied
// with server momentum (FedAvgM) or an adaptive method (FedAdagrad, FedAdam, FedYogi).
#include "strategy/strategy_p.h"

#include <cmath>

namespace fedwb::strategy_p {

namespace {

// FedAvgM (Hsu et al. 2019): v = beta v + delta; x += lr v.
class FedAvgMStrategy : public Strategy {
public:
    FedAvgMStrategy(double serverLr, double momentum)
        : m_lr(serverLr)
        , m_beta(momentum) {}

    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &context) override {
        checkUpdates("fedavgm", global.size(), updates);
        checkStateSize("fedavgm", m_v, global.size());
        const std::vector<double> delta = roundMean(updates, global.size(), false, context);
        if (delta.empty()) return;
        if (m_v.empty()) m_v.assign(global.size(), 0.0);
        std::vector<double> step(global.size());
        for (std::size_t i = 0; i < step.size(); ++i) {
            m_v[i] = m_beta * m_v[i] + delta[i];
            step[i] = m_lr * m_v[i];
        }
        addToGlobal(global, step);
    }

    QByteArray saveState() const override {
        return saveVectorState(QStringLiteral("fedavgm"), QStringLiteral("v"), m_v);
    }
    void loadState(const QByteArray &blob) override {
        m_v = loadVectorState(blob, QStringLiteral("fedavgm"), QStringLiteral("v"));
    }

private:
    double m_lr, m_beta;
    std::vector<double> m_v; // empty until the first aggregate (= zeros)
};

// Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2 (no bias correction):
//   m = beta1 m + (1 - beta1) delta
//   Adagrad v = v + delta^2;  Adam v = beta2 v + (1 - beta2) delta^2;
//   Yogi    v = v - (1 - beta2) delta^2 sign(v - delta^2)
//   x += lr m / (sqrt(v) + tau),     starting from m = 0, v = tau^2.
class AdaptiveStrategy : public Strategy {
public:
    AdaptiveStrategy(AdaptiveKind kind, double serverLr, double tau, double beta1, double beta2)
        : m_kind(kind)
        , m_lr(serverLr)
        , m_tau(tau)
        , m_beta1(beta1)
        , m_beta2(beta2) {}

    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &context) override {
        const QByteArray who = kindName().toUtf8();
        checkUpdates(who.constData(), global.size(), updates);
        checkStateSize(who.constData(), m_m, global.size());
        const std::vector<double> delta = roundMean(updates, global.size(), false, context);
        if (delta.empty()) return;
        if (m_m.empty()) {
            m_m.assign(global.size(), 0.0);
            m_v.assign(global.size(), m_tau * m_tau);
        }
        std::vector<double> step(global.size());
        for (std::size_t i = 0; i < step.size(); ++i) {
            const double d = delta[i];
            const double d2 = d * d;
            m_m[i] = m_beta1 * m_m[i] + (1 - m_beta1) * d;
            double &v = m_v[i];
            switch (m_kind) {
            case AdaptiveKind::Adagrad:
                v = v + d2;
                break;
            case AdaptiveKind::Adam:
                v = m_beta2 * v + (1 - m_beta2) * d2;
                break;
            case AdaptiveKind::Yogi: {
                const double diff = v - d2;
                const double sign = diff > 0 ? 1.0 : (diff < 0 ? -1.0 : 0.0);
                v = v - (1 - m_beta2) * d2 * sign;
                break;
            }
            }
            step[i] = m_lr * m_m[i] / (std::sqrt(v) + m_tau);
        }
        ++m_steps;
        addToGlobal(global, step);
    }

    QByteArray saveState() const override {
        QCborMap state = newState(kindName(), 1);
        state.insert(QStringLiteral("m"), packDoubles(m_m));
        state.insert(QStringLiteral("v"), packDoubles(m_v));
        state.insert(QStringLiteral("steps"), m_steps);
        return state.toCborValue().toCbor();
    }
    void loadState(const QByteArray &blob) override {
        const QString kind = kindName();
        const QCborMap state = openState(blob, kind, 1);
        std::vector<double> m = unpackDoubles(state, QStringLiteral("m"), kind);
        std::vector<double> v = unpackDoubles(state, QStringLiteral("v"), kind);
        const QCborValue steps = state.value(QStringLiteral("steps"));
        if (m.size() != v.size() || !steps.isInteger() || steps.toInteger() < 0)
            throw std::invalid_argument(QString(kind + QStringLiteral(": malformed state")).toStdString());
        m_m = std::move(m);
        m_v = std::move(v);
        m_steps = steps.toInteger();
    }

private:
    QString kindName() const {
        switch (m_kind) {
        case AdaptiveKind::Adagrad:
            return QStringLiteral("fedadagrad");
        case AdaptiveKind::Adam:
            return QStringLiteral("fedadam");
        case AdaptiveKind::Yogi:
            return QStringLiteral("fedyogi");
        }
        return {};
    }

    AdaptiveKind m_kind;
    double m_lr, m_tau, m_beta1, m_beta2;
    std::vector<double> m_m, m_v; // empty until the first aggregate
    qint64 m_steps = 0;
};

} // namespace

std::unique_ptr<Strategy> makeFedAvgM(double serverLr, double momentum) {
    return std::make_unique<FedAvgMStrategy>(serverLr, momentum);
}

std::unique_ptr<Strategy> makeAdaptive(AdaptiveKind kind, double serverLr, double tau, double beta1,
                                       double beta2) {
    return std::make_unique<AdaptiveStrategy>(kind, serverLr, tau, beta1, beta2);
}

} // namespace fedwb::strategy_p
