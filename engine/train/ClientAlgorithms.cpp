#include "train/ClientAlgorithms.h"

#include "spec/Registry.h"
#include "train/trainer_p.h"

#include <cmath>
#include <stdexcept>

namespace fedwb {

namespace {

// Adds scale * correction[offset : offset + numel] to every trainable parameter's gradient.
void addToGradients(FlatModel &model, const torch::Tensor &correction, double scale = 1.0) {
    torch::NoGradGuard noGrad;
    for (const auto &[p, offset] : model.trainable()) {
        auto g = p.mutable_grad();
        if (!g.defined()) continue;
        g.add_(correction.narrow(0, offset, p.numel()).view_as(p), scale);
    }
}

// Adds scale * (flat - anchor) to the gradients: the gradient of (scale / 2) * ||w - anchor||^2.
void addProximalGradient(FlatModel &model, const torch::Tensor &anchor, double scale) {
    torch::NoGradGuard noGrad;
    const torch::Tensor &flat = model.flat();
    for (const auto &[p, offset] : model.trainable()) {
        auto g = p.mutable_grad();
        if (!g.defined()) continue;
        g.add_((flat.narrow(0, offset, p.numel()) - anchor.narrow(0, offset, p.numel())).view_as(p), scale);
    }
}

class PlainSgd : public ClientAlgorithm {};

// FedProx (Li et al. 2020): local objective + mu/2 ||w - w_global||^2, applied as its gradient mu (w -
// w_global).
class FedProxClient : public ClientAlgorithm {
public:
    explicit FedProxClient(double mu)
        : m_mu(mu) {}
    void afterBackward(LocalContext &ctx) override {
        if (m_mu > 0) addProximalGradient(ctx.model, ctx.global, m_mu);
    }

private:
    double m_mu;
};

// SCAFFOLD (Karimireddy et al. 2020), option II: every gradient is corrected by c - c_i; after K local steps
// with learning rate lr, c_i+ = c_i - c + (x - y_i) / (K lr), K the momentum-effective steps
// (effectiveLocalSteps). Sends c_i+ - c_i up; keeps c_i+ as its state.
class ScaffoldClient : public ClientAlgorithm {
public:
    void begin(LocalContext &ctx) override {
        const std::int64_t n = ctx.model.parameterCount();
        m_c = ctx.payloadDown.defined() ? ctx.payloadDown.clone() : torch::zeros({n});
        m_ci = ctx.task.clientState.isEmpty() ? torch::zeros({n}) : floatTensor(ctx.task.clientState).clone();
        if (m_c.numel() != n || m_ci.numel() != n)
            throw std::invalid_argument("scaffold: control variate size differs from the model's");
        m_correction = m_c - m_ci;
    }
    void afterBackward(LocalContext &ctx) override { addToGradients(ctx.model, m_correction); }
    void end(LocalContext &ctx, ClientResult &result) override {
        torch::NoGradGuard noGrad;
        if (result.steps == 0) { // no local work (e.g. too little data for a batch): c_i stays as it was
            result.payloadUp = tensorBytes(torch::zeros_like(m_ci));
            return;
        }
        const TrainingConfig &t = ctx.task.training;
        const double steps = effectiveLocalSteps(result.steps, t.sgdMomentum(), t.sgdNesterov());
        const torch::Tensor delta = floatTensor(result.update); // y_i - x
        torch::Tensor next = m_ci - m_c - delta / (steps * t.lr);
        result.payloadUp = tensorBytes(next - m_ci);
        result.newState = tensorBytes(next);
        result.hasNewState = true;
    }

private:
    torch::Tensor m_c, m_ci, m_correction;
};

// Ditto (Li et al. 2021): besides the global update, each client trains its personal model v on
// local loss + lambda/2 ||v - w_global||^2 for the same local epochs; v is its state and what it evaluates.
class DittoClient : public ClientAlgorithm {
public:
    explicit DittoClient(double lambda)
        : m_lambda(lambda) {}
    void end(LocalContext &ctx, ClientResult &result) override {
        torch::NoGradGuard noGrad;
        ctx.model.load(ctx.task.clientState.isEmpty() ? ctx.global : floatTensor(ctx.task.clientState));
        {
            torch::AutoGradMode enable(true);
            ctx.trainer.trainLoaded(
                ctx.task.training, ctx.data, Rng(deriveSeed(ctx.task.rngKey, "ditto")), 0,
                [&] { addProximalGradient(ctx.model, ctx.global, m_lambda); }, ctx.stop);
        }
        result.newState = tensorBytes(ctx.model.flat());
        result.hasNewState = true;
    }
    void personalize(LocalContext &ctx) override {
        if (!ctx.task.clientState.isEmpty()) ctx.model.load(floatTensor(ctx.task.clientState));
    }

private:
    double m_lambda;
};

// FedBN / FedPer: some segments (batch-norm layers, or the head) stay on the client: they are loaded from the
// client's state before training and kept as its state after.
class PersonalSegmentsClient : public ClientAlgorithm {
public:
    explicit PersonalSegmentsClient(QString which)
        : m_which(std::move(which)) {}
    void begin(LocalContext &ctx) override { restore(ctx); }
    void end(LocalContext &ctx, ClientResult &result) override {
        torch::NoGradGuard noGrad;
        std::vector<torch::Tensor> parts;
        for (const ModelSegment &s : ctx.model.layout().segments)
            if (personal(s)) parts.push_back(ctx.model.flat().narrow(0, s.offset, s.size));
        result.newState = parts.empty() ? QByteArray() : tensorBytes(torch::cat(parts));
        result.hasNewState = true;
    }
    void personalize(LocalContext &ctx) override { restore(ctx); }

private:
    bool personal(const ModelSegment &s) const {
        return m_which == QLatin1String("head") ? s.head : s.isBatchNorm();
    }
    void restore(LocalContext &ctx) {
        if (ctx.task.clientState.isEmpty()) return;
        torch::NoGradGuard noGrad;
        const torch::Tensor state = floatTensor(ctx.task.clientState);
        std::int64_t pos = 0;
        for (const ModelSegment &s : ctx.model.layout().segments)
            if (personal(s)) {
                if (pos + s.size > state.numel())
                    throw std::invalid_argument(
                        "personal segments: client state smaller than the model's segments");
                ctx.model.flat().narrow(0, s.offset, s.size).copy_(state.narrow(0, pos, s.size));
                pos += s.size;
            }
    }
    QString m_which;
};

} // namespace

std::unique_ptr<ClientAlgorithm> makeClientAlgorithm(const QString &name, const QJsonObject &params) {
    const auto *factory =
        Registry::global().factory<ClientAlgorithmFactory>(QStringLiteral("client-algorithm"), name);
    if (!factory) throw std::invalid_argument("unknown client algorithm '" + name.toStdString() + "'");
    return (*factory)(params);
}

void registerClientAlgorithms() {
    Registry &r = Registry::global();
    // "personal-state": the client keeps layers or a model of its own, which personalized evaluation uses.
    // Client algorithms are chosen by the strategies (strategy.name fedprox, scaffold, ditto, fedbn, fedper),
    // never in a workspace of their own; the explanations say what the client does for its strategy.
    auto add = [&](const QString &name, const QString &help, const QString &explanation,
                   QList<ParamSchema> params, ClientAlgorithmFactory factory, QStringList capabilities = {}) {
        auto c =
            ComponentSchema::make(QStringLiteral("client-algorithm"), name, name, help, std::move(params));
        c.explanation = explanation;
        c.factory = std::move(factory);
        c.capabilities = std::move(capabilities);
        r.addComponent(std::move(c));
    };
    add(QStringLiteral("sgd"), QStringLiteral("Plain local training."),
        QStringLiteral("The client trains the model it received on its own data with the configured "
                       "optimizer, nothing more: what FedAvg and most strategies ask of a client."),
        {}, [](const QJsonObject &) { return std::make_unique<PlainSgd>(); });
    add(QStringLiteral("fedprox"), QStringLiteral("Local loss plus mu/2 ||w - w_global||^2."),
        QStringLiteral("While training, the client is also penalized for moving far from the global model it "
                       "received, so it cannot drift too far towards its own data."),
        {explained(
            realParam(QStringLiteral("mu"), 0.01, 0, 100, QStringLiteral("Proximal weight.")),
            QStringLiteral("How strong the penalty for moving away from the global model is; 0 is plain "
                           "local training. Set by strategy.mu."))},
        [](const QJsonObject &p) {
            return std::make_unique<FedProxClient>(p.value(QStringLiteral("mu")).toDouble());
        });
    add(QStringLiteral("scaffold"), QStringLiteral("Gradients corrected by the control variates c - c_i."),
        QStringLiteral(
            "The client corrects every step by the difference between the server's estimate of the "
            "overall direction and its own, so it follows the federation's direction rather than "
            "only its data's, and sends its updated estimate back."),
        {}, [](const QJsonObject &) { return std::make_unique<ScaffoldClient>(); });
    add(QStringLiteral("ditto"), QStringLiteral("A personal model trained towards the global one."),
        QStringLiteral("Besides training its share of the global model, the client keeps a personal model of "
                       "its own that it trains on its data while staying near the global model; the "
                       "personalized accuracy is measured with it."),
        {explained(
            realParam(QStringLiteral("lambda"), 0.1, 0, 100,
                      QStringLiteral("Pull towards the global model.")),
            QStringLiteral("How close the personal model stays to the global one; 0 leaves it free. Set "
                           "by strategy.lambda."))},
        [](const QJsonObject &p) {
            return std::make_unique<DittoClient>(p.value(QStringLiteral("lambda")).toDouble());
        },
        {QStringLiteral("personal-state")});
    add(QStringLiteral("personal-segments"), QStringLiteral("Some layers stay on the client."),
        QStringLiteral("Part of the model never leaves the client: it keeps its own copy of those layers "
                       "between rounds and trains them with the rest, while only the shared layers are "
                       "averaged by the server."),
        {explained(
            choiceParam(QStringLiteral("segments"), QStringLiteral("batch-norm"),
                        {QStringLiteral("batch-norm"), QStringLiteral("head")},
                        QStringLiteral("Which layers.")),
            QStringLiteral("batch-norm keeps the batch-normalization layers personal (FedBN); head keeps "
                           "the last, classifying layer personal (FedPer)."))},
        [](const QJsonObject &p) {
            return std::make_unique<PersonalSegmentsClient>(p.value(QStringLiteral("segments")).toString());
        },
        {QStringLiteral("personal-state")});
}

} // namespace fedwb
