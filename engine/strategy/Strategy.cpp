// The strategy registry (one ComponentSchema per strategy: schema, explanation, capabilities, factory),
// makeStrategy, and the helpers the strategies share.
#include "strategy/Strategy.h"

#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "strategy/strategy_p.h"

#include <QCborValue>
#include <QtEndian>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fedwb {

void aggregateRound(Strategy &strategy, const UpdatePipeline &serverStages, std::span<float> global,
                    const std::vector<ClientUpdate> &updates, const RoundContext &context) {
    if (serverStages.empty()) {
        strategy.aggregate(global, updates, context);
        return;
    }
    std::vector<std::vector<float>> staged;
    staged.reserve(updates.size());
    std::vector<ClientUpdate> processed = updates;
    for (ClientUpdate &u : processed) {
        staged.emplace_back(u.delta.begin(), u.delta.end());
        serverStages.apply(staged.back(), {context.round, u.clientId, 0});
        u.delta = staged.back();
    }
    strategy.aggregate(global, processed, context);
}

void Strategy::loadState(const QByteArray &state) {
    if (!state.isEmpty())
        throw std::invalid_argument("this strategy keeps no server state, but a state blob was given");
}

namespace strategy_p {

void checkUpdates(const char *who, std::size_t size, const std::vector<ClientUpdate> &updates) {
    for (const ClientUpdate &u : updates) {
        if (u.delta.size() != size)
            throw std::invalid_argument(
                std::string(who) + ": the update of client " + std::to_string(u.clientId) + " has " +
                std::to_string(u.delta.size()) + " values, the model has " + std::to_string(size));
        if (!std::isfinite(u.weight) || u.weight < 0)
            throw std::invalid_argument(std::string(who) + ": client " + std::to_string(u.clientId) +
                                        " has an invalid weight (a finite number >= 0 is needed)");
    }
}

std::vector<double> weightedMean(const std::vector<ClientUpdate> &updates, std::size_t size, bool uniform) {
    double total = 0;
    for (const ClientUpdate &u : updates)
        total += uniform ? 1.0 : u.weight;
    if (updates.empty() || total <= 0) return {};
    std::vector<double> acc(size, 0.0);
    for (const ClientUpdate &u : updates) {
        const double w = (uniform ? 1.0 : u.weight) / total;
        const float *d = u.delta.data();
        for (std::size_t i = 0; i < size; ++i)
            acc[i] += w * double(d[i]);
    }
    return acc;
}

std::vector<double> roundMean(const std::vector<ClientUpdate> &updates, std::size_t size, bool uniform,
                              const RoundContext &context) {
    if (context.privateMean) return context.privateMean->mean(updates, size, context.round);
    return weightedMean(updates, size, uniform);
}

void addToGlobal(std::span<float> global, const std::vector<double> &delta, const std::vector<bool> &keep) {
    for (std::size_t i = 0; i < global.size(); ++i)
        if (keep.empty() || !keep[i]) global[i] = float(double(global[i]) + delta[i]);
}

QByteArray saveVectorState(const QString &kind, const QString &key, const std::vector<double> &values) {
    QCborMap state = newState(kind, 1);
    state.insert(key, packDoubles(values));
    return state.toCborValue().toCbor();
}

std::vector<double> loadVectorState(const QByteArray &blob, const QString &kind, const QString &key) {
    return unpackDoubles(openState(blob, kind, 1), key, kind);
}

QCborMap newState(const QString &kind, int version) {
    QCborMap state;
    state.insert(QStringLiteral("kind"), kind);
    state.insert(QStringLiteral("version"), version);
    return state;
}

QCborMap openState(const QByteArray &blob, const QString &kind, int version) {
    QCborParserError parse;
    const QCborValue value = QCborValue::fromCbor(blob, &parse);
    const QCborMap state = value.toMap();
    if (parse.error != QCborError::NoError || !value.isMap() ||
        state.value(QStringLiteral("kind")).toString() != kind)
        throw std::invalid_argument(
            QString(kind + QStringLiteral(": the state blob was not written by this strategy"))
                .toStdString());
    const QCborValue v = state.value(QStringLiteral("version"));
    if (!v.isInteger() || v.toInteger() != version)
        throw std::invalid_argument(
            QString(kind + QStringLiteral(": unsupported state version")).toStdString());
    return state;
}

QByteArray packDoubles(const std::vector<double> &values) {
    QByteArray bytes(qsizetype(values.size() * sizeof(double)), Qt::Uninitialized);
    for (std::size_t i = 0; i < values.size(); ++i) {
        quint64 bits;
        std::memcpy(&bits, &values[i], sizeof bits);
        qToLittleEndian(bits, bytes.data() + i * sizeof(double));
    }
    return bytes;
}

std::vector<double> unpackDoubles(const QCborMap &state, const QString &key, const QString &kind) {
    const QCborValue value = state.value(key);
    if (!value.isByteArray() || value.toByteArray().size() % qsizetype(sizeof(double)) != 0)
        throw std::invalid_argument(
            QString(kind + QStringLiteral(": the state blob has no valid '") + key + QStringLiteral("'"))
                .toStdString());
    const QByteArray bytes = value.toByteArray();
    std::vector<double> values(std::size_t(bytes.size()) / sizeof(double));
    for (std::size_t i = 0; i < values.size(); ++i) {
        const quint64 bits = qFromLittleEndian<quint64>(bytes.constData() + i * sizeof(double));
        std::memcpy(&values[i], &bits, sizeof bits);
    }
    return values;
}

void checkStateSize(const char *who, const std::vector<double> &state, std::size_t size) {
    if (!state.empty() && state.size() != size)
        throw std::invalid_argument(std::string(who) + ": the server state has " +
                                    std::to_string(state.size()) + " values, the model has " +
                                    std::to_string(size));
}

} // namespace strategy_p

std::unique_ptr<Strategy> makeStrategy(const QString &name, const QJsonObject &params) {
    const Registry &registry = Registry::global();
    const QString category = QStringLiteral("strategy");
    const ComponentSchema *schema = registry.component(category, name);
    const StrategyFactory *factory = registry.factory<StrategyFactory>(category, name);
    if (!schema || !factory)
        throw std::invalid_argument(
            QStringLiteral("strategy.name: unknown strategy \"%1\"; allowed: %2")
                .arg(name, registry.componentNames(category).join(QStringLiteral(", ")))
                .toStdString());
    QJsonObject complete = params;
    for (const ParamSchema &p : schema->params) {
        if (!complete.contains(p.key)) {
            complete.insert(p.key, p.defaultValue);
        } else if (const QString problem = p.check(complete.value(p.key)); !problem.isEmpty()) {
            throw std::invalid_argument(
                QString(QStringLiteral("strategy.") + p.key + QStringLiteral(": ") + problem).toStdString());
        }
    }
    return (*factory)(complete);
}

namespace {

using namespace strategy_p;

double real(const QJsonObject &p, const char *key) {
    return p.value(QLatin1String(key)).toDouble();
}
int integer(const QJsonObject &p, const char *key) {
    return int(p.value(QLatin1String(key)).toDouble());
}

// Parameters shared by several strategies: one definition each, so the key means the same everywhere.
ParamSchema serverLrParam(double def) {
    return explained(
        realParam(QStringLiteral("server_lr"), def, 0.0, 100.0,
                  QStringLiteral("Server learning rate: the step size applied to the aggregated update."), {},
                  true),
        QStringLiteral(
            "How far the server moves the global model along the combined update. 1 applies it as "
            "it is (plain averaging); below 1 the server moves more carefully. Adaptive optimizers "
            "(FedAdam, FedYogi, FedAdagrad) need much smaller values, around 0.001 to 0.1: tune it "
            "by factors of 3 to 10."));
}
ParamSchema byzantineParam() {
    return explained(
        intParam(QStringLiteral("byzantine"), 1, 0, 10000,
                 QStringLiteral("Malicious (Byzantine) clients per round the rule must tolerate."),
                 QStringLiteral("clients")),
        QStringLiteral(
            "How many of a round's clients may be attackers or broken without spoiling the result. "
            "Set it to at least the number of bad clients you expect among the clients selected "
            "per round. Higher values are safer but discard more honest work and need more "
            "clients per round."));
}
ParamSchema beta1Param() {
    return explained(realParam(QStringLiteral("beta1"), 0.9, 0.0, 0.9999,
                               QStringLiteral("Decay of the server's first moment (momentum) estimate.")),
                     QStringLiteral("How long the server remembers the direction of past updates: 0.9 keeps "
                                    "roughly the last 10 rounds in mind, 0 uses only the current round. The "
                                    "default works in most cases."));
}
ParamSchema beta2Param() {
    return explained(
        realParam(QStringLiteral("beta2"), 0.99, 0.0, 0.9999,
                  QStringLiteral("Decay of the server's second moment (squared update) estimate.")),
        QStringLiteral(
            "How long the server remembers how large each parameter's updates have been, which sets "
            "that parameter's step size. Values close to 1 (0.99, 0.999) give steady step sizes; "
            "the default works in most cases."));
}
ParamSchema tauParam() {
    return explained(
        realParam(QStringLiteral("tau"), 1e-3, 0.0, 1.0,
                  QStringLiteral("Adaptivity: added to sqrt(v) in the denominator; larger values make the "
                                 "step less adaptive."),
                  {}, true),
        QStringLiteral(
            "A small safety term that keeps the step size from growing huge for parameters whose "
            "updates have been tiny. Small values (0.001, as in the paper) make the optimizer very "
            "adaptive; larger ones (0.01 to 0.1) make it behave more like momentum averaging."));
}

const QString kServerState = QStringLiteral("server-state");
const QString kIndividual = QStringLiteral("needs-individual-updates");
const QString kRobust = QStringLiteral("byzantine-robust");
const QString kPersonalized = QStringLiteral("personalized");
// The server step is a mean of the updates that central DP may replace (privacy/CentralDp.h).
const QString kPrivateMean = QStringLiteral("private-mean");

// One strategy's registration. `factory` is typed so the ComponentSchema's std::any holds a StrategyFactory
// (a bare lambda would be stored as its own type and not be found by Registry::factory).
struct Entry {
    const char *name;
    QString title, help, explanation;
    QList<ParamSchema> params;
    QStringList capabilities;
    StrategyFactory factory;
    ComponentCheck check = {}; // validation of the workspace when this strategy is selected
};

// Krum (factor 2) and Bulyan (factor 4) need clients.per_round >= factor * byzantine + 3; multi-Krum cannot
// average more updates than a round has.
ComponentCheck byzantineBound(int factor) {
    return [factor](const FederationSpec &spec, QList<SpecIssue> &errors) {
        if (spec.poissonSampling()) // the bound below holds for a fixed round size only
            errors.append(
                {QStringLiteral("clients.sampling"),
                 QStringLiteral("poisson draws a different number of clients each round, but strategy.name "
                                "%1 needs a fixed number (its byzantine bound); use clients.sampling fixed")
                     .arg(spec.string(QStringLiteral("strategy.name")))});
        const int f = int(spec.integer(QStringLiteral("strategy.byzantine")));
        const int n = spec.clientsPerRound();
        const int need = factor * f + 3;
        if (n < need)
            errors.append({QStringLiteral("strategy.byzantine"),
                           QStringLiteral("%1 needs at least %2 * %1 + 3 = %3 clients per round, but "
                                          "clients.per_round gives %4; raise clients.per_round or lower "
                                          "strategy.byzantine")
                               .arg(f)
                               .arg(factor)
                               .arg(need)
                               .arg(n)});
        // Multi-Krum averages at most the n - f best-scored updates (Blanchard et al.): more would take in
        // the byzantine ones.
        const int selected = spec.section(QStringLiteral("strategy")).contains(QStringLiteral("selected"))
                                 ? int(spec.integer(QStringLiteral("strategy.selected")))
                                 : 0; // Krum and Bulyan have no `selected`
        if (selected > n - f)
            errors.append(
                {QStringLiteral("strategy.selected"),
                 QStringLiteral("%1 is more than clients per round minus byzantine (%2 - %3); allowed: 0 "
                                "(= n - f) or an integer in [1, %4]")
                     .arg(selected)
                     .arg(n)
                     .arg(f)
                     .arg(std::max(1, n - f))});
    };
}

QList<Entry> entries() {
    const auto adaptive = [](AdaptiveKind kind) {
        return [kind](const QJsonObject &p) {
            return makeAdaptive(kind, real(p, "server_lr"), real(p, "tau"), real(p, "beta1"),
                                kind == AdaptiveKind::Adagrad ? 0.0 : real(p, "beta2"));
        };
    };
    return {
        {"fedavg",
         QStringLiteral("FedAvg"),
         QStringLiteral("Federated averaging (McMahan et al. 2017): the mean of client updates weighted by "
                        "sample count."),
         QStringLiteral(
             "The server moves the global model by the average of the clients' changes, giving each "
             "client a say in proportion to how much data it trained on (or an equal say with "
             "uniform weighting). It is the standard baseline: start here and compare other "
             "strategies against it."),
         {explained(
             choiceParam(QStringLiteral("weighting"), QStringLiteral("samples"),
                         {QStringLiteral("samples"), QStringLiteral("uniform")},
                         QStringLiteral("Weight of each client in the mean: its sample count, or equal.")),
             QStringLiteral("samples lets a client with more data count more, which makes the average "
                            "what one big dataset would give; uniform gives every client the same say, so "
                            "small clients are not drowned out. With central differential privacy or "
                            "secure aggregation every client counts equally anyway."))},
         {kPrivateMean},
         [](const QJsonObject &p) -> std::unique_ptr<Strategy> {
             return std::make_unique<FedAvgStrategy>(p.value(QLatin1String("weighting")).toString() ==
                                                     QLatin1String("uniform"));
         }},
        {"fedavgm",
         QStringLiteral("FedAvgM"),
         QStringLiteral("FedAvg with server momentum (Hsu et al. 2019): v = momentum v + mean delta; "
                        "x += server_lr v."),
         QStringLiteral("Like FedAvg, but the server remembers the direction of previous rounds and keeps "
                        "moving along it (momentum). This smooths out rounds in which the selected clients "
                        "disagree, which helps with strongly non-IID data."),
         {serverLrParam(1.0),
          explained(realParam(QStringLiteral("server_momentum"), 0.9, 0.0, 0.9999,
                              QStringLiteral("Server momentum: how much of the previous direction is kept.")),
                    QStringLiteral("0 is plain FedAvg; 0.9 (the usual choice) keeps most of the previous "
                                   "direction, which smooths out rounds whose clients disagree. With high "
                                   "momentum, lower server_lr (for example to 0.1 to 0.5) if training "
                                   "overshoots."))},
         {kServerState, kPrivateMean},
         [](const QJsonObject &p) { return makeFedAvgM(real(p, "server_lr"), real(p, "server_momentum")); }},
        {"fedadagrad",
         QStringLiteral("FedAdagrad"),
         QStringLiteral("Adaptive server optimizer (Reddi et al. 2021): Adagrad on the mean update."),
         QStringLiteral(
             "The server treats the average client change as a gradient and applies Adagrad: each "
             "parameter gets its own step size, which shrinks where updates have been large. Useful "
             "when some parameters receive much larger updates than others; tune server_lr."),
         {serverLrParam(0.1), tauParam(), beta1Param()},
         {kServerState, kPrivateMean},
         adaptive(AdaptiveKind::Adagrad)},
        {"fedadam",
         QStringLiteral("FedAdam"),
         QStringLiteral("Adaptive server optimizer (Reddi et al. 2021): Adam on the mean update."),
         QStringLiteral(
             "The server treats the average client change as a gradient and applies Adam: momentum "
             "plus a per-parameter step size based on recent update sizes. Often converges faster "
             "than FedAvg on non-IID data; server_lr usually needs tuning (try 0.001 to 0.1)."),
         {serverLrParam(0.01), tauParam(), beta1Param(), beta2Param()},
         {kServerState, kPrivateMean},
         adaptive(AdaptiveKind::Adam)},
        {"fedyogi",
         QStringLiteral("FedYogi"),
         QStringLiteral("Adaptive server optimizer (Reddi et al. 2021): Yogi on the mean update."),
         QStringLiteral("Like FedAdam, but the per-parameter step size changes more cautiously, which avoids "
                        "sudden jumps when update sizes change. A robust choice of adaptive server optimizer "
                        "for non-IID data; server_lr usually needs tuning."),
         {serverLrParam(0.01), tauParam(), beta1Param(), beta2Param()},
         {kServerState, kPrivateMean},
         adaptive(AdaptiveKind::Yogi)},
        {"qfedavg",
         QStringLiteral("q-FedAvg"),
         QStringLiteral("Fair resource allocation (Li et al. 2020): clients with a higher loss weigh more."),
         QStringLiteral(
             "Gives more weight to the clients the current model serves worst (higher training "
             "loss), trading a little average accuracy for a more even accuracy across clients. "
             "q controls the trade-off: q = 0 is a plain (equal-weight) mean of the updates, larger "
             "q is fairer. Each client measures its loss before training, which costs one extra pass."),
         {explained(realParam(QStringLiteral("q"), 1.0, 0.0, 100.0,
                              QStringLiteral("Fairness: 0 = plain equal-weight mean, larger = more weight to "
                                             "high-loss clients.")),
                    QStringLiteral("How strongly the clients with the worst loss are favoured. 0 treats all "
                                   "clients alike; 1 to 5 is the usual range, with higher values evening out "
                                   "the clients' accuracies at some cost to the average. Watch the spread of "
                                   "the per-client accuracies to judge it.")),
          explained(
              realParam(QStringLiteral("lipschitz"), 0.0, 0.0, 1e6,
                        QStringLiteral("L of the step size 1/L; 0 = from local training: (1 - momentum) / "
                                       "(lr x local steps), which is the paper's 1 / lr for one local SGD "
                                       "step.")),
              QStringLiteral("Sets the server's step size (1 / L). Leave it at 0 to derive it from the "
                             "local learning rate and number of steps, as the paper does; set a value "
                             "only if training with q-FedAvg is unstable (a larger L takes smaller "
                             "steps)."))},
         {QStringLiteral("needs-start-loss")},
         [](const QJsonObject &p) { return makeQFedAvg(real(p, "q"), real(p, "lipschitz")); }},
        {"krum",
         QStringLiteral("Krum"),
         QStringLiteral("Byzantine-robust selection (Blanchard et al. 2017): apply the one update closest to "
                        "its neighbours."),
         QStringLiteral(
             "Picks the single client update that is most similar to the others and applies only "
             "that one, so a few malicious or broken clients sending arbitrary updates cannot pull "
             "the model away. Needs at least 2 byzantine + 3 clients per round; it learns more "
             "slowly than averaging because it uses one update per round."),
         {byzantineParam()},
         {kIndividual, kRobust},
         [](const QJsonObject &p) { return makeKrum(integer(p, "byzantine"), 1, false); },
         byzantineBound(2)},
        {"multi-krum",
         QStringLiteral("Multi-Krum"),
         QStringLiteral("Krum that averages the `selected` updates with the best Krum scores."),
         QStringLiteral(
             "Ranks the client updates by how similar each is to its neighbours (as Krum does) and "
             "averages the best-ranked ones. It keeps most of Krum's protection against malicious "
             "clients while using more of the honest clients' work. Needs at least 2 byzantine + 3 "
             "clients per round."),
         {byzantineParam(),
          explained(
              intParam(QStringLiteral("selected"), 0, 0, 100000, QStringLiteral("Updates averaged."),
                       QStringLiteral("updates"), QStringLiteral("all but byzantine (n - f)")),
              QStringLiteral("How many of the best-ranked updates are averaged. 1 is plain Krum; more "
                             "uses more of the honest clients' work and learns faster, but must leave "
                             "out at least the byzantine ones. 0 averages all but byzantine of them."))},
         {kIndividual, kRobust},
         [](const QJsonObject &p) { return makeKrum(integer(p, "byzantine"), integer(p, "selected"), true); },
         byzantineBound(2)},
        {"median",
         QStringLiteral("Coordinate-wise median"),
         QStringLiteral("Byzantine-robust: every parameter moves by the median of the clients' changes."),
         QStringLiteral(
             "For each parameter separately, the server takes the middle value of the clients' "
             "changes instead of their average. Extreme values from a minority of malicious or "
             "faulty clients are ignored. It is noisier than averaging when all clients are honest."),
         {},
         {kIndividual, kRobust},
         [](const QJsonObject &) { return makeMedian(); }},
        {"trimmed-mean",
         QStringLiteral("Trimmed mean"),
         QStringLiteral("Byzantine-robust (Yin et al. 2018): per parameter, drop the beta share of largest "
                        "and smallest changes, average the rest."),
         QStringLiteral(
             "For each parameter separately, the server discards the most extreme client changes "
             "at both ends and averages the remaining ones. It sits between the average (beta = 0) "
             "and the median; choose beta at least the share of clients you expect to be malicious."),
         {explained(
             realParam(QStringLiteral("beta"), 0.1, 0.0, 0.499,
                       QStringLiteral("Share trimmed at each end: floor(beta n) values per side.")),
             QStringLiteral("The share of the most extreme values dropped at each end before averaging. "
                            "It must be at least the share of bad clients per round to stop them; with "
                            "10 clients a round, 0.1 drops one value at each end. Larger values are "
                            "safer but ignore more honest clients."))},
         {kIndividual, kRobust},
         [](const QJsonObject &p) { return makeTrimmedMean(real(p, "beta")); }},
        {"bulyan",
         QStringLiteral("Bulyan"),
         QStringLiteral(
             "Byzantine-robust (El Mhamdi et al. 2018): Krum selection, then a trimmed mean around "
             "the median."),
         QStringLiteral("First selects the most typical client updates by running Krum repeatedly, then, for "
                        "each parameter, averages only the selected values closest to their median. It is "
                        "harder to fool than Krum or the median alone, but needs at least 4 byzantine + 3 "
                        "clients per round."),
         {byzantineParam()},
         {kIndividual, kRobust},
         [](const QJsonObject &p) { return makeBulyan(integer(p, "byzantine")); },
         byzantineBound(4)},
        {"norm-bounded",
         QStringLiteral("Norm-bounded FedAvg"),
         QStringLiteral(
             "Clip every update to an L2 norm of at most max_norm, then FedAvg (Sun et al. 2019)."),
         QStringLiteral(
             "Scales down any client update that is larger than max_norm before averaging, so no "
             "single client can move the model by much. A simple defence against model-replacement "
             "and backdoor attacks; too small a bound slows honest learning."),
         {explained(
             realParam(QStringLiteral("max_norm"), 1.0, 0.0, 1e6,
                       QStringLiteral("Largest L2 norm an update may have after clipping."), {}, true),
             QStringLiteral("The longest an update may be (its L2 norm: the length of all its changes "
                            "taken together). Choose it a little above the size of typical honest "
                            "updates: then honest clients are hardly touched while boosted attacks are "
                            "cut down. Too small a bound slows everyone's learning."))},
         {kRobust},
         [](const QJsonObject &p) { return makeNormBounded(real(p, "max_norm")); }},
        {"fedprox",
         QStringLiteral("FedProx"),
         QStringLiteral("FedAvg whose clients add a proximal term mu/2 ||w - w_global||^2 (Li et al. 2020)."),
         QStringLiteral(
             "Clients are gently pulled back towards the global model while they train, so clients "
             "with very different data (or many local steps) do not drift too far apart. The server "
             "averages like FedAvg. mu = 0 is FedAvg; try 0.001 to 1."),
         {explained(
             realParam(QStringLiteral("mu"), 0.01, 0.0, 100.0,
                       QStringLiteral("Strength of the pull towards the global model.")),
             QStringLiteral("How strongly each client is held near the global model while it trains. 0 "
                            "is FedAvg; 0.001 to 0.1 usually helps with skewed data and several local "
                            "epochs; values near 1 and above hold clients so close that they learn "
                            "little."))},
         {kPrivateMean},
         [](const QJsonObject &p) {
             return makeFedAvgWithClientAlgorithm(
                 {QStringLiteral("fedprox"), {{QStringLiteral("mu"), real(p, "mu")}}});
         }},
        {"scaffold",
         QStringLiteral("SCAFFOLD"),
         QStringLiteral("Control variates correct client drift (Karimireddy et al. 2020, option II)."),
         QStringLiteral(
             "The server and every client keep an estimate of the direction their data pulls in and "
             "clients subtract the difference while they train, which removes most of the drift "
             "caused by non-IID data. Each round sends an extra model-sized vector down and up."),
         {serverLrParam(1.0)},
         {kServerState, QStringLiteral("needs-client-payload")},
         [](const QJsonObject &p) { return makeScaffold(real(p, "server_lr")); }},
        {"fednova",
         QStringLiteral("FedNova"),
         QStringLiteral("Normalized averaging (Wang et al. 2020): each update is divided by its client's "
                        "number of local steps."),
         QStringLiteral(
             "When clients run different numbers of local steps (different data sizes, epochs), "
             "plain averaging favours the clients that ran the most. FedNova first normalizes each "
             "update by its amount of local work, then averages, which removes that bias. With equal "
             "steps everywhere it is the same as FedAvg."),
         {},
         {QStringLiteral("needs-local-steps")},
         [](const QJsonObject &) { return makeFedNova(); }},
        {"fedbn",
         QStringLiteral("FedBN"),
         QStringLiteral("FedAvg that keeps batch-norm layers local to every client (Li et al. 2021)."),
         QStringLiteral(
             "Everything is averaged as in FedAvg except the batch-normalization layers, which each "
             "client keeps for itself. This lets every client adapt to its own kind of input data "
             "(different cameras, scanners, styles). Needs a model with batch-norm layers. The server's "
             "own model keeps untrained batch-norm layers, so judge FedBN by the personalized accuracy "
             "(each client with its own layers), not by the global test accuracy."),
         {},
         {QStringLiteral("needs-batch-norm"), kPersonalized},
         [](const QJsonObject &) { return makePersonalSegments(PersonalSegments::BatchNorm); }},
        {"fedper",
         QStringLiteral("FedPer"),
         QStringLiteral("FedAvg of the body; every client keeps its own head (Arivazhagan et al. 2019)."),
         QStringLiteral(
             "The shared layers are averaged as in FedAvg, while the last (classifier) layer stays "
             "personal to each client. Useful when clients see different label mixes: the body "
             "learns common features, each head its client's labels. The server's own head is never "
             "trained, so judge FedPer by the personalized accuracy, not by the global test accuracy."),
         {},
         {kPersonalized, QStringLiteral("needs-hidden-layers")},
         [](const QJsonObject &) { return makePersonalSegments(PersonalSegments::Head); }},
        {"ditto",
         QStringLiteral("Ditto"),
         QStringLiteral("FedAvg plus a personal model per client regularized towards the global one "
                        "(Li et al. 2021)."),
         QStringLiteral(
             "Every client trains two models: its share of the global model (averaged as in FedAvg) "
             "and a personal model kept close to the global one by lambda. The personal models suit "
             "each client's data; lambda = 0 leaves them independent, large lambda makes them the "
             "global model."),
         {explained(
             realParam(QStringLiteral("lambda"), 0.1, 0.0, 100.0,
                       QStringLiteral("Strength of the pull of the personal model towards the global "
                                      "one.")),
             QStringLiteral("0 lets each personal model follow only its client's data (best when clients "
                            "differ a lot and have plenty of data); large values keep it close to the "
                            "global model (best when clients are alike or attackers are about). 0.1 to "
                            "1 is a common starting range."))},
         {kPersonalized},
         [](const QJsonObject &p) {
             return makeFedAvgWithClientAlgorithm(
                 {QStringLiteral("ditto"), {{QStringLiteral("lambda"), real(p, "lambda")}}});
         }},
    };
}

} // namespace

void registerStrategies() {
    Registry &registry = Registry::global();
    for (Entry &e : entries()) {
        auto schema = ComponentSchema::make(QStringLiteral("strategy"), QLatin1String(e.name), e.title,
                                            e.help, e.params);
        schema.explanation = e.explanation;
        schema.capabilities = e.capabilities;
        schema.factory = e.factory;
        schema.check = e.check;
        registry.addComponent(std::move(schema));
    }
}

} // namespace fedwb
