// The averaging strategies: FedAvg and the algorithms whose server step is a (re-weighted, masked or
// normalized) mean of the updates: FedProx, Ditto, FedBN, FedPer, FedNova, q-FedAvg and SCAFFOLD.
#include "strategy/strategy_p.h"
#include "train/ClientTask.h"

#include <QtEndian>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fedwb {

using namespace strategy_p;

void FedAvgStrategy::aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                               const RoundContext &context) {
    checkUpdates("fedavg", global.size(), updates);
    const std::vector<double> mean = roundMean(updates, global.size(), m_uniform, context);
    if (!mean.empty()) addToGlobal(global, mean);
}

namespace strategy_p {

namespace {

std::invalid_argument error(const char *who, const std::string &what) {
    return std::invalid_argument(std::string(who) + ": " + what);
}

// FedProx (Li et al. 2020) and Ditto (Li et al. 2021): the work is on the clients (a proximal term, a
// personal model); the server averages by sample count.
class FedAvgWithClientAlgorithm : public FedAvgStrategy {
public:
    explicit FedAvgWithClientAlgorithm(ClientAlgorithmRef algorithm)
        : m_algorithm(std::move(algorithm)) {}
    ClientAlgorithmRef clientAlgorithm() const override { return m_algorithm; }

private:
    ClientAlgorithmRef m_algorithm;
};

// FedBN (Li et al. 2021) keeps batch-norm layers on the clients, FedPer (Arivazhagan et al. 2019) the head:
// the server averages (by sample count) every other coordinate and leaves the personal ones untouched.
class PersonalSegmentsStrategy : public Strategy {
public:
    explicit PersonalSegmentsStrategy(PersonalSegments segments)
        : m_segments(segments) {}

    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &context) override {
        const char *who = m_segments == PersonalSegments::BatchNorm ? "fedbn" : "fedper";
        checkUpdates(who, global.size(), updates);
        std::vector<bool> personal;
        if (context.layout) {
            if (std::size_t(context.layout->parameterCount()) != global.size())
                throw error(who, "the model layout covers " +
                                     std::to_string(context.layout->parameterCount()) +
                                     " parameters, the model has " + std::to_string(global.size()));
            if (m_segments == PersonalSegments::BatchNorm)
                personal = context.layout->mask([](const ModelSegment &s) { return s.isBatchNorm(); });
            else
                personal = context.layout->mask([](const ModelSegment &s) { return s.head; });
        }
        const std::vector<double> mean = weightedMean(updates, global.size(), false);
        if (!mean.empty()) addToGlobal(global, mean, personal);
    }

    ClientAlgorithmRef clientAlgorithm() const override {
        return {QStringLiteral("personal-segments"),
                {{QStringLiteral("segments"), m_segments == PersonalSegments::BatchNorm
                                                  ? QStringLiteral("batch-norm")
                                                  : QStringLiteral("head")}}};
    }

private:
    PersonalSegments m_segments;
};

// FedNova (Wang et al. 2020): every client's update is normalized by its number of effective local steps
// ||a_i||_1, then the normalized updates are averaged (p_i = n_i / sum n_j) and rescaled by
// tau_eff = sum p_i ||a_i||_1, so clients that ran more steps do not dominate.
class FedNovaStrategy : public Strategy {
public:
    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &context) override {
        checkUpdates("fednova", global.size(), updates);
        const double rho = context.clientMomentum;
        if (!(rho >= 0 && rho < 1))
            throw error("fednova", "the local momentum must be in [0, 1), got " + std::to_string(rho));
        std::vector<double> norms; // ||a_i||_1
        double total = 0;
        for (const ClientUpdate &u : updates) {
            if (u.steps < 0)
                throw error("fednova", "client " + std::to_string(u.clientId) + " reported " +
                                           std::to_string(u.steps) + " local steps");
            // ||a_i||_1 (effectiveLocalSteps); a client that took no step moved nothing and is left out.
            norms.push_back(effectiveLocalSteps(u.steps, rho, context.clientNesterov));
            if (u.steps > 0) total += u.weight;
        }
        if (updates.empty() || total <= 0) return;
        double tauEff = 0;
        std::vector<double> acc(global.size(), 0.0);
        for (std::size_t k = 0; k < updates.size(); ++k) {
            if (updates[k].steps == 0) continue;
            const double p = updates[k].weight / total;
            tauEff += p * norms[k];
            const double scale = p / norms[k];
            const float *d = updates[k].delta.data();
            for (std::size_t i = 0; i < acc.size(); ++i)
                acc[i] += scale * double(d[i]);
        }
        for (double &a : acc)
            a *= tauEff;
        addToGlobal(global, acc);
    }
};

// q-FedAvg (Li et al. 2020, "Fair Resource Allocation in Federated Learning"). With L (see below, or the
// `lipschitz` parameter) and
// dw_k = -L delta_k: D_k = F_k^q dw_k, h_k = q F_k^(q-1) ||dw_k||^2 + L F_k^q, x -= sum D_k / sum h_k.
// Clients with a higher loss F_k (measured before training) weigh more; q = 0 is the plain (uniform) mean.
class QFedAvgStrategy : public Strategy {
public:
    QFedAvgStrategy(double q, double lipschitz)
        : m_q(q)
        , m_lipschitz(lipschitz) {}

    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &context) override {
        checkUpdates("qfedavg", global.size(), updates);
        if (!(context.clientLr > 0) || !std::isfinite(context.clientLr))
            throw error("qfedavg", "the local learning rate must be > 0");
        for (const ClientUpdate &u : updates)
            if (!std::isfinite(u.startLoss) || u.startLoss < 0)
                throw error("qfedavg", "client " + std::to_string(u.clientId) +
                                           " has no valid start loss (a finite value >= 0 is needed)");
        if (updates.empty()) return;
        // L = 1 / (the distance one unit of gradient moves a client): 1 / lr for one local SGD step (the
        // paper's setting), 1 / (lr_eff * K) for K local steps with momentum beta (lr_eff = lr / (1 - beta)),
        // so that dw_k = L (w - w_k) estimates the client's gradient and q = 0 stays FedAvg's step.
        const double momentum = std::clamp(context.clientMomentum, 0.0, 0.999);
        double meanSteps = 0;
        for (const ClientUpdate &u : updates)
            meanSteps += double(std::max<std::int64_t>(1, u.steps)) / double(updates.size());
        const double L = m_lipschitz > 0 ? m_lipschitz : (1.0 - momentum) / (context.clientLr * meanSteps);
        std::vector<double> sumD(global.size(), 0.0);
        double sumH = 0;
        for (const ClientUpdate &u : updates) {
            const double F = std::max(u.startLoss, 1e-10);
            const double Fq = std::pow(F, m_q);
            double norm2 = 0; // ||dw_k||^2
            const float *d = u.delta.data();
            for (std::size_t i = 0; i < sumD.size(); ++i) {
                const double dw = -L * double(d[i]);
                norm2 += dw * dw;
                sumD[i] += Fq * dw;
            }
            sumH += m_q * std::pow(F, m_q - 1) * norm2 + L * Fq;
        }
        for (double &s : sumD)
            s = -s / sumH;
        addToGlobal(global, sumD);
    }

private:
    double m_q;
    double m_lipschitz; // 0: from the local learning rate
};

// SCAFFOLD (Karimireddy et al. 2020, option II). The server keeps a control variate c (sent down to every
// client); clients correct their local steps by c - c_i and send back dy_i (the delta) and dc_i (payload).
// x += lr_g mean(dy_i); c += |S| / N mean(dc_i).
class ScaffoldStrategy : public Strategy {
public:
    explicit ScaffoldStrategy(double serverLr)
        : m_lr(serverLr) {}

    void aggregate(std::span<float> global, const std::vector<ClientUpdate> &updates,
                   const RoundContext &context) override {
        checkUpdates("scaffold", global.size(), updates);
        checkStateSize("scaffold", m_c, global.size());
        for (const ClientUpdate &u : updates)
            if (u.payload.size() != global.size())
                throw error("scaffold", "client " + std::to_string(u.clientId) +
                                            " sent a control-variate change of " +
                                            std::to_string(u.payload.size()) + " values, the model has " +
                                            std::to_string(global.size()));
        if (updates.empty()) return;
        if (context.populationSize < int(updates.size()))
            throw error("scaffold", "the population size (" + std::to_string(context.populationSize) +
                                        ") is smaller than the number of updates (" +
                                        std::to_string(updates.size()) + ")");
        std::vector<double> dy(global.size(), 0.0), dc(global.size(), 0.0);
        for (const ClientUpdate &u : updates)
            for (std::size_t i = 0; i < dy.size(); ++i) {
                dy[i] += double(u.delta[i]);
                dc[i] += double(u.payload[i]);
            }
        const double n = double(updates.size());
        const double share = n / double(context.populationSize); // |S| / N
        if (m_c.empty()) m_c.assign(global.size(), 0.0);
        for (std::size_t i = 0; i < dy.size(); ++i) {
            dy[i] = m_lr * (dy[i] / n);
            m_c[i] += share * (dc[i] / n);
        }
        addToGlobal(global, dy);
    }

    ClientAlgorithmRef clientAlgorithm() const override { return {QStringLiteral("scaffold"), {}}; }

    QByteArray payloadDown() const override {
        QByteArray bytes(qsizetype(m_c.size() * sizeof(float)), Qt::Uninitialized);
        for (std::size_t i = 0; i < m_c.size(); ++i) {
            const float f = float(m_c[i]);
            quint32 bits;
            std::memcpy(&bits, &f, sizeof bits);
            qToLittleEndian(bits, bytes.data() + i * sizeof(float));
        }
        return bytes;
    }

    QByteArray saveState() const override {
        return saveVectorState(QStringLiteral("scaffold"), QStringLiteral("c"), m_c);
    }
    void loadState(const QByteArray &blob) override {
        m_c = loadVectorState(blob, QStringLiteral("scaffold"), QStringLiteral("c"));
    }

private:
    double m_lr;
    std::vector<double> m_c; // empty until the first aggregate (= zeros)
};

} // namespace

std::unique_ptr<Strategy> makeFedAvgWithClientAlgorithm(const ClientAlgorithmRef &algorithm) {
    return std::make_unique<FedAvgWithClientAlgorithm>(algorithm);
}
std::unique_ptr<Strategy> makePersonalSegments(PersonalSegments segments) {
    return std::make_unique<PersonalSegmentsStrategy>(segments);
}
std::unique_ptr<Strategy> makeFedNova() {
    return std::make_unique<FedNovaStrategy>();
}
std::unique_ptr<Strategy> makeQFedAvg(double q, double lipschitz) {
    return std::make_unique<QFedAvgStrategy>(q, lipschitz);
}
std::unique_ptr<Strategy> makeScaffold(double serverLr) {
    return std::make_unique<ScaffoldStrategy>(serverLr);
}

} // namespace strategy_p

} // namespace fedwb
