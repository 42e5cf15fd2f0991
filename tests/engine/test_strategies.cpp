// The server strategies, checked against values worked out by hand (the arithmetic is in the comments) or
// against their defining recurrences evaluated here in plain double arithmetic; never against the code's
// own output.
#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "strategy/Strategy.h"
#include "strategy/UpdateStage.h"
#include "train/ClientTask.h"

#include "test_support.h"
#include <QMap>

#include <QTest>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

using namespace fedwb;
using fedwb::test::describe;
using fedwb::test::difference;

namespace {

// A client's contribution, owning its vectors (ClientUpdate only holds spans).
struct Client {
    int id = 0;
    std::vector<float> delta;
    double weight = 1.0;
    std::int64_t steps = 1;
    double startLoss = 1.0;
    std::vector<float> payload;
};

std::vector<ClientUpdate> updatesOf(const std::vector<Client> &clients) {
    std::vector<ClientUpdate> updates;
    for (const Client &c : clients) {
        ClientUpdate u;
        u.clientId = c.id;
        u.delta = c.delta;
        u.weight = c.weight;
        u.steps = c.steps;
        u.startLoss = c.startLoss;
        u.payload = c.payload;
        updates.push_back(u);
    }
    return updates;
}

// Clients 0, 1, 2 ... with the given deltas and weight 1.
std::vector<Client> clientsOf(const std::vector<std::vector<float>> &deltas) {
    std::vector<Client> clients;
    for (std::size_t k = 0; k < deltas.size(); ++k)
        clients.push_back({int(k), deltas[k], 1.0, 1, 1.0, {}});
    return clients;
}

std::unique_ptr<Strategy> make(const QString &name, const QJsonObject &params = {}) {
    registerBuiltins();
    return makeStrategy(name, params);
}

RoundContext contextWith(int population = 100) {
    RoundContext c;
    c.populationSize = population;
    return c;
}

// `global` after one aggregate of strategy `name`.
std::vector<float> aggregated(const QString &name, const QJsonObject &params, std::vector<float> global,
                              const std::vector<Client> &clients,
                              const RoundContext &context = contextWith()) {
    // The round loop's server side: the strategy's own server stages, then aggregate.
    const auto strategy = make(name, params);
    aggregateRound(*strategy, UpdatePipeline(strategy->serverStages()), global, updatesOf(clients), context);
    return global;
}

#define EXPECT_VECTOR(actual, ...)                                                                           \
    do {                                                                                                     \
        const QString diff_ = difference((actual), __VA_ARGS__);                                             \
        QVERIFY2(diff_.isEmpty(), qPrintable(diff_));                                                        \
    } while (false)

// Runs `call`, which must throw std::invalid_argument whose message contains every string of `needles`.
template <typename F> QString throwsMentioning(F call, const QStringList &needles) {
    try {
        call();
    } catch (const std::invalid_argument &e) {
        const QString message = QString::fromStdString(e.what());
        for (const QString &n : needles)
            if (!message.contains(n)) return QStringLiteral("message \"%1\" lacks \"%2\"").arg(message, n);
        return {};
    } catch (...) {
        return QStringLiteral("threw something other than std::invalid_argument");
    }
    return QStringLiteral("did not throw");
}

double distance(const std::vector<float> &a, const std::vector<double> &b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return std::sqrt(s);
}

bool bitwiseEqual(const std::vector<float> &a, const std::vector<float> &b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// A 7-parameter model: conv.weight [0, 2), bn.weight [2], bn.running_mean [3], fc.weight [4, 6) and
// fc.bias [6] (the head).
ModelLayout smallLayout() {
    ModelLayout l;
    l.segments = {{QStringLiteral("conv.weight"), 0, 2, SegmentKind::Weight, false, true},
                  {QStringLiteral("bn.weight"), 2, 1, SegmentKind::BnWeight, false, true},
                  {QStringLiteral("bn.running_mean"), 3, 1, SegmentKind::BnStat, false, false},
                  {QStringLiteral("fc.weight"), 4, 2, SegmentKind::Weight, true, true},
                  {QStringLiteral("fc.bias"), 6, 1, SegmentKind::Bias, true, true}};
    return l;
}

const QStringList kAllStrategies{
    QStringLiteral("fedavg"),       QStringLiteral("fedavgm"),    QStringLiteral("fedadagrad"),
    QStringLiteral("fedadam"),      QStringLiteral("fedyogi"),    QStringLiteral("qfedavg"),
    QStringLiteral("krum"),         QStringLiteral("multi-krum"), QStringLiteral("median"),
    QStringLiteral("trimmed-mean"), QStringLiteral("bulyan"),     QStringLiteral("norm-bounded"),
    QStringLiteral("fedprox"),      QStringLiteral("scaffold"),   QStringLiteral("fednova"),
    QStringLiteral("fedbn"),        QStringLiteral("fedper"),     QStringLiteral("ditto")};

// Three rounds of pseudo-gradients for the server-optimizer tests: per round two clients (weights 1 and 3).
struct RoundInput {
    std::vector<float> a, b;
};
const std::vector<RoundInput> kRounds{{{0.1f, -0.2f, 0.0f}, {0.3f, 0.2f, -0.4f}},
                                      {{-0.05f, 0.3f, 0.2f}, {0.02f, 0.1f, 0.1f}},
                                      {{0.2f, -0.1f, -0.3f}, {-0.1f, 0.05f, 0.0f}}};

std::vector<Client> roundClients(const RoundInput &r) {
    std::vector<Client> c = clientsOf({r.a, r.b});
    c[0].weight = 1;
    c[1].weight = 3;
    return c;
}

// The sample-weighted mean delta of a round, (1 a + 3 b) / 4, in double from the same float inputs.
std::vector<double> roundMean(const RoundInput &r) {
    std::vector<double> m(r.a.size());
    for (std::size_t i = 0; i < m.size(); ++i)
        m[i] = (1.0 * double(r.a[i]) + 3.0 * double(r.b[i])) / 4.0;
    return m;
}

// Scaffold round inputs with payloads for the state tests.
std::vector<Client> scaffoldClients(int round) {
    std::vector<Client> c = roundClients(kRounds[std::size_t(round)]);
    c[0].payload = {0.01f * float(round + 1), -0.02f, 0.03f};
    c[1].payload = {-0.01f, 0.02f * float(round + 1), 0.0f};
    return c;
}

} // namespace

class TestStrategies : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { registerBuiltins(); }

    // --- Registry -------------------------------------------------------------------------------------
    void everyStrategyIsRegisteredWithHelpExplanationAndFactory() {
        const Registry &r = Registry::global();
        QCOMPARE(r.componentNames(QStringLiteral("strategy")), kAllStrategies);
        for (const QString &name : kAllStrategies) {
            const ComponentSchema *c = r.component(QStringLiteral("strategy"), name);
            QVERIFY2(c, qPrintable(name));
            QVERIFY2(!c->title.isEmpty() && !c->help.isEmpty(), qPrintable(name));
            QVERIFY2(c->explanation.size() >= 80, qPrintable(name));
            QVERIFY2(r.factory<StrategyFactory>(QStringLiteral("strategy"), name), qPrintable(name));
            QVERIFY2(make(name) != nullptr, qPrintable(name));
        }
    }

    void sharedParameterKeysMeanTheSameEverywhere() {
        // A key used by several strategies (server_lr, byzantine, beta1 ...) has one type and range.
        QMap<QString, ParamSchema> seen;
        for (const QString &name : kAllStrategies)
            for (const ParamSchema &p :
                 Registry::global().component(QStringLiteral("strategy"), name)->params) {
                QVERIFY2(!p.help.isEmpty(), qPrintable(name + QLatin1Char('.') + p.key));
                QVERIFY2(p.check(p.defaultValue).isEmpty(), qPrintable(name + QLatin1Char('.') + p.key));
                if (!seen.contains(p.key)) {
                    seen.insert(p.key, p);
                    continue;
                }
                const ParamSchema &first = seen.value(p.key);
                QVERIFY2(first.type == p.type && first.min == p.min && first.max == p.max &&
                             first.minExclusive == p.minExclusive && first.choices == p.choices,
                         qPrintable(QStringLiteral("%1.%2 differs from the first use").arg(name, p.key)));
            }
        QVERIFY(seen.contains(QStringLiteral("server_lr")));
    }

    void capabilities() {
        const Registry &r = Registry::global();
        const auto has = [&](const char *name, const char *capability) {
            return r.component(QStringLiteral("strategy"), QLatin1String(name))
                ->has(QLatin1String(capability));
        };
        QVERIFY(has("qfedavg", "needs-start-loss"));
        QVERIFY(has("krum", "needs-individual-updates"));
        QVERIFY(has("bulyan", "needs-individual-updates"));
        QVERIFY(has("fedbn", "needs-batch-norm"));
        QVERIFY(!has("fedavg", "needs-start-loss"));
    }

    void unknownStrategyNamesTheKeyAndTheChoices() {
        const QString problem = throwsMentioning([] { make(QStringLiteral("fedsgd")); },
                                                 {QStringLiteral("strategy.name"), QStringLiteral("fedsgd"),
                                                  QStringLiteral("fedavg"), QStringLiteral("bulyan")});
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void outOfRangeParameterIsRefused() {
        const QString problem = throwsMentioning(
            [] {
                make(QStringLiteral("trimmed-mean"), {{QStringLiteral("beta"), 0.5}});
            },
            {QStringLiteral("strategy.beta")});
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void clientAlgorithms() {
        QCOMPARE(make(QStringLiteral("fedavg"))->clientAlgorithm().name, QStringLiteral("sgd"));
        const ClientAlgorithmRef prox =
            make(QStringLiteral("fedprox"), {{QStringLiteral("mu"), 0.5}})->clientAlgorithm();
        QCOMPARE(prox.name, QStringLiteral("fedprox"));
        QCOMPARE(prox.params.value(QStringLiteral("mu")).toDouble(), 0.5);
        const ClientAlgorithmRef ditto = make(QStringLiteral("ditto"))->clientAlgorithm();
        QCOMPARE(ditto.name, QStringLiteral("ditto"));
        QCOMPARE(ditto.params.value(QStringLiteral("lambda")).toDouble(), 0.1); // the default
        QCOMPARE(make(QStringLiteral("scaffold"))->clientAlgorithm().name, QStringLiteral("scaffold"));
        const ClientAlgorithmRef bn = make(QStringLiteral("fedbn"))->clientAlgorithm();
        QCOMPARE(bn.name, QStringLiteral("personal-segments"));
        QCOMPARE(bn.params.value(QStringLiteral("segments")).toString(), QStringLiteral("batch-norm"));
        const ClientAlgorithmRef per = make(QStringLiteral("fedper"))->clientAlgorithm();
        QCOMPARE(per.name, QStringLiteral("personal-segments"));
        QCOMPARE(per.params.value(QStringLiteral("segments")).toString(), QStringLiteral("head"));
    }

    // --- Size checks for every strategy ---------------------------------------------------------------
    void sizeMismatchThrowsAndLeavesEverythingUntouched() {
        for (const QString &name : kAllStrategies) {
            // Seven valid updates (enough for Bulyan with f = 1) and one of the wrong size.
            std::vector<Client> clients;
            for (int k = 0; k < 7; ++k)
                clients.push_back({k, {0.1f * float(k), 0.2f, -0.1f}, 1.0 + k, 2, 0.5, {0.f, 0.f, 0.f}});
            clients.push_back({7, {1.f, 1.f}, 1.0, 2, 0.5, {0.f, 0.f}});
            std::unique_ptr<Strategy> s = make(name);
            std::vector<float> global{1.f, 2.f, 3.f};
            // One good round first, so a stateful strategy has state to keep.
            const std::vector<Client> good(clients.begin(), clients.end() - 1);
            s->aggregate(global, updatesOf(good), contextWith());
            const std::vector<float> before = global;
            const QByteArray state = s->saveState();
            QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                     s->aggregate(global, updatesOf(clients), contextWith()));
            QVERIFY2(bitwiseEqual(global, before), qPrintable(name));
            QVERIFY2(s->saveState() == state, qPrintable(name));
        }
    }

    // --- FedAvg and the strategies whose server step is FedAvg ----------------------------------------
    void fedAvgSamplesVersusUniform() {
        // A = [1, 2] (weight 1), B = [4, 8] (weight 3), global [0, 0].
        // samples: (1 [1, 2] + 3 [4, 8]) / 4 = [13, 26] / 4 = [3.25, 6.5]
        // uniform: ([1, 2] + [4, 8]) / 2 = [2.5, 5]
        std::vector<Client> c = clientsOf({{1.f, 2.f}, {4.f, 8.f}});
        c[1].weight = 3;
        EXPECT_VECTOR(aggregated(QStringLiteral("fedavg"), {}, {0.f, 0.f}, c), {3.25, 6.5});
        EXPECT_VECTOR(aggregated(QStringLiteral("fedavg"),
                                 {{QStringLiteral("weighting"), QStringLiteral("uniform")}}, {0.f, 0.f}, c),
                      {2.5, 5.0});
    }

    void fedProxAndDittoAverageLikeFedAvg() {
        // The same clients as above: the server step is the sample-weighted mean [3.25, 6.5], whatever mu or
        // lambda (they only act on the clients).
        std::vector<Client> c = clientsOf({{1.f, 2.f}, {4.f, 8.f}});
        c[1].weight = 3;
        EXPECT_VECTOR(aggregated(QStringLiteral("fedprox"), {{QStringLiteral("mu"), 5.0}}, {0.f, 0.f}, c),
                      {3.25, 6.5});
        EXPECT_VECTOR(aggregated(QStringLiteral("ditto"), {{QStringLiteral("lambda"), 2.0}}, {0.f, 0.f}, c),
                      {3.25, 6.5});
    }

    void fedBnAndFedPerLeaveTheirSegmentsUntouched() {
        // A = [1 .. 7] (weight 1), B = [3, 2, 1, 0, -1, -2, -3] (weight 3), global all 1.
        // (A + 3 B) / 4 = [(1+9), (2+6), (3+3), (4+0), (5-3), (6-6), (7-9)] / 4 = [2.5, 2, 1.5, 1, 0.5, 0,
        // -0.5] FedAvg: global + that = [3.5, 3, 2.5, 2, 1.5, 1, 0.5] FedBN keeps [2] (bn.weight) and [3]
        // (bn.running_mean) at 1; FedPer keeps [4, 7) (the head) at 1.
        std::vector<Client> c = clientsOf({{1, 2, 3, 4, 5, 6, 7}, {3, 2, 1, 0, -1, -2, -3}});
        c[1].weight = 3;
        const std::vector<float> ones(7, 1.f);
        const ModelLayout layout = smallLayout();
        RoundContext ctx = contextWith();
        ctx.layout = &layout;
        EXPECT_VECTOR(aggregated(QStringLiteral("fedbn"), {}, ones, c, ctx), {3.5, 3, 1, 1, 1.5, 1, 0.5},
                      0.0);
        EXPECT_VECTOR(aggregated(QStringLiteral("fedper"), {}, ones, c, ctx), {3.5, 3, 2.5, 2, 1, 1, 1}, 0.0);
        // Without a layout there are no personal segments: plain FedAvg.
        EXPECT_VECTOR(aggregated(QStringLiteral("fedbn"), {}, ones, c), {3.5, 3, 2.5, 2, 1.5, 1, 0.5}, 0.0);
        // A layout of another size is refused.
        ModelLayout shorter = layout;
        shorter.segments.pop_back();
        ctx.layout = &shorter;
        std::vector<float> global = ones;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 make(QStringLiteral("fedper"))->aggregate(global, updatesOf(c), ctx));
        QVERIFY(bitwiseEqual(global, ones));
    }

    void fedNovaEqualStepsIsFedAvg() {
        // Equal steps: every ||a_i|| is the same, so tau_eff * sum p_i d_i / ||a|| = sum p_i d_i = FedAvg's
        // [3.25, 6.5] (clients as in fedAvgSamplesVersusUniform), with or without local momentum.
        std::vector<Client> c = clientsOf({{1.f, 2.f}, {4.f, 8.f}});
        c[1].weight = 3;
        c[0].steps = c[1].steps = 5;
        EXPECT_VECTOR(aggregated(QStringLiteral("fednova"), {}, {0.f, 0.f}, c), {3.25, 6.5});
        RoundContext momentum = contextWith();
        momentum.clientMomentum = 0.9;
        EXPECT_VECTOR(aggregated(QStringLiteral("fednova"), {}, {0.f, 0.f}, c, momentum), {3.25, 6.5});
    }

    // The momentum normalizer against a direct simulation of PyTorch's SGD (buf = beta buf + g; step = buf,
    // or g + beta buf with Nesterov) under a constant gradient of 1: the total distance in units of lr.
    void effectiveStepsMatchSgdWithMomentum() {
        for (const bool nesterov : {false, true})
            for (const double beta : {0.0, 0.5, 0.9})
                for (const int k : {1, 2, 7, 40}) {
                    double buf = 0, moved = 0;
                    for (int step = 0; step < k; ++step) {
                        buf = beta * buf + 1.0;
                        moved += nesterov ? 1.0 + beta * buf : buf;
                    }
                    QVERIFY2(std::abs(effectiveLocalSteps(k, beta, nesterov) - moved) < 1e-9 * moved,
                             qPrintable(
                                 QStringLiteral("beta %1 k %2 nesterov %3").arg(beta).arg(k).arg(nesterov)));
                }
        // beta 0.9, K 7: [7 - 0.9 (1 - 0.9^7) / 0.1] / 0.1 = 23.0467; Nesterov with 0.81: 27.7420.
        QVERIFY(std::abs(effectiveLocalSteps(7, 0.9, false) - 23.046721) < 1e-6);
        QVERIFY(std::abs(effectiveLocalSteps(7, 0.9, true) - 27.742049) < 1e-6);
    }

    // A client that took no local step moved nothing; FedNova leaves it out instead of dividing by zero.
    void fedNovaIgnoresClientsWithoutSteps() {
        std::vector<Client> c = clientsOf({{2.f, 0.f}, {0.f, 0.f}});
        c[0].steps = 2;
        c[1].steps = 0;
        c[1].weight = 100;
        // Only A counts: p_A = 1, ||a_A|| = 2, tau_eff = 2, x = 2 * [2, 0] / 2 = [2, 0].
        EXPECT_VECTOR(aggregated(QStringLiteral("fednova"), {}, {0.f, 0.f}, c), {2.0, 0.0});
    }

    void fedNovaUnequalSteps() {
        // A = [2, 0] (weight 1, 2 steps), B = [0, 6] (weight 3, 6 steps); p = [0.25, 0.75].
        std::vector<Client> c = clientsOf({{2.f, 0.f}, {0.f, 6.f}});
        c[0].steps = 2;
        c[1].steps = 6;
        c[1].weight = 3;
        // Plain SGD: ||a|| = steps. d_A = [1, 0], d_B = [0, 1]; tau_eff = 0.25*2 + 0.75*6 = 5;
        // x = 5 * (0.25 [1, 0] + 0.75 [0, 1]) = [1.25, 3.75]   (FedAvg would give [0.5, 4.5]).
        EXPECT_VECTOR(aggregated(QStringLiteral("fednova"), {}, {0.f, 0.f}, c), {1.25, 3.75});
        // Momentum 0.5: ||a(tau)|| = sum_{k=1..tau} (1 - 0.5^k) / 0.5 = sum 2 (1 - 2^-k):
        //   tau = 2: 1 + 1.5 = 2.5;   tau = 6: 1 + 1.5 + 1.75 + 1.875 + 1.9375 + 1.96875 = 10.03125
        // d_A = [2 / 2.5, 0] = [0.8, 0], d_B = [0, 6 / 10.03125]
        // tau_eff = 0.25 * 2.5 + 0.75 * 10.03125 = 0.625 + 7.5234375 = 8.1484375
        // x = tau_eff * (0.25 d_A + 0.75 d_B) = [8.1484375 * 0.2, 8.1484375 * 0.75 * 6 / 10.03125]
        //   = [1.6296875, 3.655373831775...]
        RoundContext momentum = contextWith();
        momentum.clientMomentum = 0.5;
        EXPECT_VECTOR(aggregated(QStringLiteral("fednova"), {}, {0.f, 0.f}, c, momentum),
                      {1.6296875, 8.1484375 * 0.75 * 6.0 / 10.03125});
    }

    void qFedAvg() {
        // lr = 0.5, so L = 2. A: delta [1, 0], F = 2; B: delta [0, -2], F = 0.5.
        // dw = -L delta: dw_A = [-2, 0] (||.||^2 = 4), dw_B = [0, 4] (||.||^2 = 16).
        std::vector<Client> c = clientsOf({{1.f, 0.f}, {0.f, -2.f}});
        c[0].startLoss = 2;
        c[1].startLoss = 0.5;
        c[1].weight = 50; // q-FedAvg ignores sample counts
        RoundContext ctx = contextWith();
        ctx.clientLr = 0.5;
        // q = 1: D_A = 2 [-2, 0] = [-4, 0], h_A = 1 * 2^0 * 4 + 2 * 2 = 8;
        //        D_B = 0.5 [0, 4] = [0, 2], h_B = 16 + 2 * 0.5 = 17;
        //        x -= [-4, 2] / 25  ->  x = [0.16, -0.08]
        EXPECT_VECTOR(aggregated(QStringLiteral("qfedavg"), {{QStringLiteral("q"), 1.0}}, {0.f, 0.f}, c, ctx),
                      {0.16, -0.08});
        // q = 0: D = dw, h = L = 2 each: x -= [-2, 4] / 4 = [-0.5, 1]  ->  x = [0.5, -1], the plain mean of
        // the deltas ([1, 0] + [0, -2]) / 2.
        EXPECT_VECTOR(aggregated(QStringLiteral("qfedavg"), {{QStringLiteral("q"), 0.0}}, {0.f, 0.f}, c, ctx),
                      {0.5, -1.0});
        // F = 0 is guarded (1e-10): D_A = 1e-10 [-2, 0], h_A = 4 + 2e-10; with B as before
        // x -= [-2e-10, 2] / (21 + 2e-10)  ->  x ~ [1e-11, -2 / 21]
        c[0].startLoss = 0;
        EXPECT_VECTOR(aggregated(QStringLiteral("qfedavg"), {{QStringLiteral("q"), 1.0}}, {0.f, 0.f}, c, ctx),
                      {0.0, -2.0 / 21.0});
        // Local momentum 0.5 halves L: the effective local step is lr / (1 - 0.5) = 1, so L = 1.
        // dw_A = [-1, 0] (||.||^2 = 1), dw_B = [0, 2] (||.||^2 = 4); F_A = 2, F_B = 0.5, q = 1:
        // D_A = [-2, 0], h_A = 1 + 2 = 3; D_B = [0, 1], h_B = 4 + 0.5 = 4.5; x -= [-2, 1] / 7.5
        c[0].startLoss = 2;
        RoundContext withMomentum = ctx;
        withMomentum.clientMomentum = 0.5;
        EXPECT_VECTOR(
            aggregated(QStringLiteral("qfedavg"), {{QStringLiteral("q"), 1.0}}, {0.f, 0.f}, c, withMomentum),
            {2.0 / 7.5, -1.0 / 7.5});
        // Four local steps each (no momentum): L = 1 / (0.5 * 4) = 0.5. dw_A = [-0.5, 0] (||.||^2 = 0.25),
        // dw_B = [0, 1] (||.||^2 = 1); q = 1: D_A = [-1, 0], h_A = 0.25 + 0.5 * 2 = 1.25;
        // D_B = [0, 0.5], h_B = 1 + 0.5 * 0.5 = 1.25; x -= [-1, 0.5] / 2.5  ->  x = [0.4, -0.2]
        std::vector<Client> four = c;
        four[0].steps = four[1].steps = 4;
        EXPECT_VECTOR(
            aggregated(QStringLiteral("qfedavg"), {{QStringLiteral("q"), 1.0}}, {0.f, 0.f}, four, ctx),
            {0.4, -0.2});
        // An explicit lipschitz = 1 gives the same numbers whatever the local settings.
        EXPECT_VECTOR(aggregated(QStringLiteral("qfedavg"),
                                 {{QStringLiteral("q"), 1.0}, {QStringLiteral("lipschitz"), 1.0}}, {0.f, 0.f},
                                 c, ctx),
                      {2.0 / 7.5, -1.0 / 7.5});
    }

    void scaffoldTwoRounds() {
        // N = 4 clients, server_lr 0.5. Round 1: A dy [1, 2], dc [0.4, -0.2]; B dy [3, -2], dc [0.2, 0.6].
        //   x = 0 + 0.5 * mean(dy) = 0.5 * [2, 0] = [1, 0]
        //   c = 0 + (2 / 4) * mean(dc) = 0.5 * [0.3, 0.2] = [0.15, 0.1]
        // Round 2: one client, dy [2, 2], dc [0.1, -0.3]:
        //   x = [1, 0] + 0.5 [2, 2] = [2, 1];  c = [0.15, 0.1] + (1 / 4) [0.1, -0.3] = [0.175, 0.025]
        std::unique_ptr<Strategy> s = make(QStringLiteral("scaffold"), {{QStringLiteral("server_lr"), 0.5}});
        QVERIFY(s->payloadDown().isEmpty()); // c = 0 before the first round
        std::vector<float> x{0.f, 0.f};
        std::vector<Client> r1 = clientsOf({{1.f, 2.f}, {3.f, -2.f}});
        r1[0].payload = {0.4f, -0.2f};
        r1[1].payload = {0.2f, 0.6f};
        r1[1].weight = 100; // the mean is uniform, as in the paper
        s->aggregate(x, updatesOf(r1), contextWith(4));
        EXPECT_VECTOR(x, {1.0, 0.0});
        const auto payload = [&] {
            const QByteArray bytes = s->payloadDown();
            std::vector<float> c(std::size_t(bytes.size()) / sizeof(float));
            for (std::size_t i = 0; i < c.size(); ++i) { // float32 little-endian
                const auto *b = reinterpret_cast<const unsigned char *>(bytes.constData()) + 4 * i;
                const quint32 bits =
                    quint32(b[0]) | quint32(b[1]) << 8 | quint32(b[2]) << 16 | quint32(b[3]) << 24;
                std::memcpy(&c[i], &bits, sizeof bits);
            }
            return c;
        };
        EXPECT_VECTOR(payload(), {0.15, 0.1});
        std::vector<Client> r2 = clientsOf({{2.f, 2.f}});
        r2[0].payload = {0.1f, -0.3f};
        s->aggregate(x, updatesOf(r2), contextWith(4));
        EXPECT_VECTOR(x, {2.0, 1.0});
        EXPECT_VECTOR(payload(), {0.175, 0.025});
        // A missing control-variate change is refused before anything changes.
        r2[0].payload.clear();
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, s->aggregate(x, updatesOf(r2), contextWith(4)));
        EXPECT_VECTOR(x, {2.0, 1.0}, 0.0);
        EXPECT_VECTOR(payload(), {0.175, 0.025});
    }

    // --- Server optimizers: three rounds against the recurrences -------------------------------------
    void fedAvgM() {
        // v = 0.9 v + mean; x += 0.5 v, evaluated here in double.
        std::unique_ptr<Strategy> s =
            make(QStringLiteral("fedavgm"),
                 {{QStringLiteral("server_lr"), 0.5}, {QStringLiteral("server_momentum"), 0.9}});
        std::vector<float> x{1.f, -1.f, 0.5f};
        std::vector<double> ex{1.0, -1.0, 0.5}, v(3, 0.0);
        for (const RoundInput &r : kRounds) {
            s->aggregate(x, updatesOf(roundClients(r)), contextWith());
            const std::vector<double> d = roundMean(r);
            for (std::size_t i = 0; i < 3; ++i) {
                v[i] = 0.9 * v[i] + d[i];
                ex[i] += 0.5 * v[i];
            }
            EXPECT_VECTOR(x, ex);
        }
    }

    void adaptiveOptimizers_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("fedadagrad") << QStringLiteral("fedadagrad");
        QTest::newRow("fedadam") << QStringLiteral("fedadam");
        QTest::newRow("fedyogi") << QStringLiteral("fedyogi");
    }
    void adaptiveOptimizers() {
        // Reddi et al. 2021, Algorithm 2: m = b1 m + (1 - b1) d; v per method; x += lr m / (sqrt(v) + tau),
        // from m = 0, v = tau^2.
        QFETCH(QString, name);
        const double lr = 0.1, tau = 0.01, b1 = 0.8, b2 = 0.95;
        std::unique_ptr<Strategy> s = make(name, {{QStringLiteral("server_lr"), lr},
                                                  {QStringLiteral("tau"), tau},
                                                  {QStringLiteral("beta1"), b1},
                                                  {QStringLiteral("beta2"), b2}});
        std::vector<float> x{1.f, -1.f, 0.5f};
        std::vector<double> ex{1.0, -1.0, 0.5}, m(3, 0.0), v(3, tau * tau);
        for (const RoundInput &r : kRounds) {
            s->aggregate(x, updatesOf(roundClients(r)), contextWith());
            const std::vector<double> d = roundMean(r);
            for (std::size_t i = 0; i < 3; ++i) {
                const double d2 = d[i] * d[i];
                m[i] = b1 * m[i] + (1 - b1) * d[i];
                if (name == QLatin1String("fedadagrad"))
                    v[i] = v[i] + d2;
                else if (name == QLatin1String("fedadam"))
                    v[i] = b2 * v[i] + (1 - b2) * d2;
                else
                    v[i] = v[i] - (1 - b2) * d2 * (v[i] > d2 ? 1.0 : (v[i] < d2 ? -1.0 : 0.0));
                ex[i] += lr * m[i] / (std::sqrt(v[i]) + tau);
            }
            EXPECT_VECTOR(x, ex);
        }
    }

    // --- State ----------------------------------------------------------------------------------------
    void saveLoadContinuesBitwise_data() {
        QTest::addColumn<QString>("name");
        for (const char *n : {"fedavgm", "fedadagrad", "fedadam", "fedyogi", "scaffold"})
            QTest::newRow(n) << QString::fromLatin1(n);
    }
    void saveLoadContinuesBitwise() {
        QFETCH(QString, name);
        const auto clients = [&](int round) {
            return name == QLatin1String("scaffold") ? scaffoldClients(round)
                                                     : roundClients(kRounds[std::size_t(round)]);
        };
        std::unique_ptr<Strategy> uninterrupted = make(name);
        std::vector<float> x{1.f, -1.f, 0.5f};
        for (int round = 0; round < 2; ++round)
            uninterrupted->aggregate(x, updatesOf(clients(round)), contextWith());
        const QByteArray state = uninterrupted->saveState();
        QVERIFY(!state.isEmpty());
        std::unique_ptr<Strategy> resumed = make(name);
        resumed->loadState(state);
        QCOMPARE(resumed->payloadDown(), uninterrupted->payloadDown());
        std::vector<float> y = x;
        uninterrupted->aggregate(x, updatesOf(clients(2)), contextWith());
        resumed->aggregate(y, updatesOf(clients(2)), contextWith());
        QVERIFY(bitwiseEqual(x, y));
        QVERIFY(!bitwiseEqual(x, {1.f, -1.f, 0.5f}));
        QCOMPARE(resumed->saveState(), uninterrupted->saveState());
        QCOMPARE(resumed->payloadDown(), uninterrupted->payloadDown());
        // A state saved before the first round also loads.
        make(name)->loadState(make(name)->saveState());
    }

    void foreignOrBrokenStateIsRefused() {
        const QByteArray adam = [] {
            std::unique_ptr<Strategy> s = make(QStringLiteral("fedadam"));
            std::vector<float> x{0.f, 0.f, 0.f};
            s->aggregate(x, updatesOf(roundClients(kRounds[0])), contextWith());
            return s->saveState();
        }();
        const QList<QByteArray> bad{QByteArrayLiteral("garbage, not a state"), adam.left(adam.size() / 2),
                                    QByteArray(64, '\xff')};
        for (const QString &name :
             {QStringLiteral("fedavgm"), QStringLiteral("fedadagrad"), QStringLiteral("fedadam"),
              QStringLiteral("fedyogi"), QStringLiteral("scaffold")}) {
            std::unique_ptr<Strategy> s = make(name);
            for (const QByteArray &blob : bad)
                QVERIFY_THROWS_EXCEPTION(std::invalid_argument, s->loadState(blob));
            QVERIFY_THROWS_EXCEPTION(std::invalid_argument, s->loadState(QByteArray()));
            if (name != QLatin1String("fedadam"))
                QVERIFY_THROWS_EXCEPTION(std::invalid_argument, s->loadState(adam));
        }
        // Stateless strategies accept only the empty state.
        std::unique_ptr<Strategy> fedavg = make(QStringLiteral("fedavg"));
        fedavg->loadState(QByteArray());
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fedavg->loadState(adam));
        // A state for a model of another size is refused at the next aggregate, which changes nothing.
        std::unique_ptr<Strategy> s = make(QStringLiteral("fedadam"));
        s->loadState(adam); // 3 parameters
        std::vector<float> x{1.f, 2.f};
        const std::vector<Client> two = clientsOf({{1.f, 1.f}});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, s->aggregate(x, updatesOf(two), contextWith()));
        QVERIFY(bitwiseEqual(x, {1.f, 2.f}));
    }

    // --- Robust aggregators on hand-worked vectors ---------------------------------------------------
    void medianOddAndEven() {
        // Odd (3): coordinate 0 {1, 5, 3} -> 3; coordinate 1 {-2, 10, 0} -> 0; global [1, 1] -> [4, 1].
        EXPECT_VECTOR(
            aggregated(QStringLiteral("median"), {}, {1.f, 1.f}, clientsOf({{1, -2}, {5, 10}, {3, 0}})),
            {4.0, 1.0}, 0.0);
        // Even (4): {1, 5, 3, 100} sorted 1 3 5 100 -> (3 + 5) / 2 = 4; {-2, 10, 0, 1} sorted -2 0 1 10 ->
        // (0 + 1) / 2 = 0.5.
        EXPECT_VECTOR(aggregated(QStringLiteral("median"), {}, {0.f, 0.f},
                                 clientsOf({{1, -2}, {5, 10}, {3, 0}, {100, 1}})),
                      {4.0, 0.5}, 0.0);
    }

    void trimmedMeanTrimmingCount_data() {
        QTest::addColumn<double>("beta");
        QTest::addColumn<std::vector<std::vector<float>>>("deltas");
        QTest::addColumn<std::vector<double>>("expected");
        // n = 5: coordinate 0 {10, 1, 2, 3, -50}, coordinate 1 {0, 1, 5, 6, 100}.
        const std::vector<std::vector<float>> five{{10, 0}, {1, 1}, {2, 5}, {3, 6}, {-50, 100}};
        // beta 0.2: k = floor(1.0) = 1: sorted -50 1 2 3 10 -> (1 + 2 + 3) / 3 = 2;  0 1 5 6 100 -> 12 / 3 =
        // 4
        QTest::newRow("n 5 beta 0.2 -> k 1") << 0.2 << five << std::vector<double>{2.0, 4.0};
        // beta 0.39: k = floor(1.95) = 1, the same.
        QTest::newRow("n 5 beta 0.39 -> k 1") << 0.39 << five << std::vector<double>{2.0, 4.0};
        // beta 0.4: k = floor(2.0) = 2: the median 2 and 5.
        QTest::newRow("n 5 beta 0.4 -> k 2") << 0.4 << five << std::vector<double>{2.0, 5.0};
        // beta 0: k = 0, the plain mean: (10 + 1 + 2 + 3 - 50) / 5 = -6.8; 112 / 5 = 22.4
        QTest::newRow("n 5 beta 0 -> mean") << 0.0 << five << std::vector<double>{-6.8, 22.4};
        // n = 10, beta 0.25: k = floor(2.5) = 2. {-100, -50, 1, 2, 3, 4, 5, 20, 1000, 2000} ->
        // (1 + 2 + 3 + 4 + 5 + 20) / 6 = 35 / 6   (k = 3 would give 3.5, k = 1 would give 123.125)
        std::vector<std::vector<float>> ten;
        for (float v : {5.f, -100.f, 1000.f, 2.f, 20.f, 3.f, -50.f, 4.f, 2000.f, 1.f})
            ten.push_back({v});
        QTest::newRow("n 10 beta 0.25 -> k 2") << 0.25 << ten << std::vector<double>{35.0 / 6.0};
    }
    void trimmedMeanTrimmingCount() {
        QFETCH(double, beta);
        QFETCH(std::vector<std::vector<float>>, deltas);
        QFETCH(std::vector<double>, expected);
        const std::vector<float> zero(expected.size(), 0.f);
        EXPECT_VECTOR(aggregated(QStringLiteral("trimmed-mean"), {{QStringLiteral("beta"), beta}}, zero,
                                 clientsOf(deltas)),
                      expected);
    }

    void krumTieGoesToTheLowestId() {
        // 1-D updates 0, 1, 2, 3, 100; f = 1, n = 5, neighbours n - f - 2 = 2 (squared distances):
        //   0: {1, 4, 9, 10000} -> 1 + 4 = 5      1: {1, 1, 4, 9801} -> 2      2: {4, 1, 1, 9604} -> 2
        //   3: {9, 4, 1, 9409} -> 5               100: 9409 + 9604 = 19013
        // Clients 1 and 2 tie at 2: the lower id (1) wins; global 10 -> 11.
        EXPECT_VECTOR(aggregated(QStringLiteral("krum"), {{QStringLiteral("byzantine"), 1}}, {10.f},
                                 clientsOf({{0}, {1}, {2}, {3}, {100}})),
                      {11.0}, 0.0);
    }

    void krumRejectsAClearOutlier() {
        // u0 [0, 0], u1 [2, 0], u2 [0, 2], u3 [1, 1], u4 [50, -50]; f = 1 -> 2 neighbours. Squared distances:
        //   u0-u1 4, u0-u2 4, u0-u3 2, u0-u4 5000, u1-u2 8, u1-u3 2, u1-u4 48^2+50^2 = 4804,
        //   u2-u3 2, u2-u4 50^2+52^2 = 5204, u3-u4 49^2+51^2 = 5002
        // scores: u0 2+4 = 6, u1 2+4 = 6, u2 2+4 = 6, u3 2+2 = 4, u4 4804+5000 = 9804 -> u3 = [1, 1].
        const std::vector<Client> c = clientsOf({{0, 0}, {2, 0}, {0, 2}, {1, 1}, {50, -50}});
        EXPECT_VECTOR(aggregated(QStringLiteral("krum"), {{QStringLiteral("byzantine"), 1}}, {0.f, 0.f}, c),
                      {1.0, 1.0}, 0.0);
        // Multi-Krum, default m = n - f = 4: u3 (4), then u0, u1, u2 (6) ->
        // mean([1, 1], [0, 0], [2, 0], [0, 2]) = [3, 3] / 4 = [0.75, 0.75]
        EXPECT_VECTOR(
            aggregated(QStringLiteral("multi-krum"), {{QStringLiteral("byzantine"), 1}}, {0.f, 0.f}, c),
            {0.75, 0.75}, 0.0);
        // m = 2: u3, then u0 (the lowest id of the three tied at 6): mean([1, 1], [0, 0]) = [0.5, 0.5]
        EXPECT_VECTOR(aggregated(QStringLiteral("multi-krum"),
                                 {{QStringLiteral("byzantine"), 1}, {QStringLiteral("selected"), 2}},
                                 {0.f, 0.f}, c),
                      {0.5, 0.5}, 0.0);
    }

    void krumAndBulyanNeedEnoughClients() {
        // Krum: n >= 2f + 3 = 5 for f = 1; Bulyan: n >= 4f + 3 = 7.
        const std::vector<Client> four = clientsOf({{0}, {1}, {2}, {3}});
        const std::vector<Client> six = clientsOf({{0}, {1}, {2}, {3}, {4}, {5}});
        const QStringList keys{QStringLiteral("strategy.byzantine"), QStringLiteral("clients.per_round")};
        for (const auto &[name, clients] :
             {std::pair{QStringLiteral("krum"), four}, std::pair{QStringLiteral("multi-krum"), four},
              std::pair{QStringLiteral("bulyan"), six}}) {
            std::vector<float> global{7.f};
            const QString problem = throwsMentioning(
                [&, &name = name, &clients = clients] { // clang 14 cannot capture structured bindings
                    make(name)->aggregate(global, updatesOf(clients), contextWith());
                },
                keys);
            QVERIFY2(problem.isEmpty(), qPrintable(name + QStringLiteral(": ") + problem));
            QCOMPARE(global[0], 7.f);
        }
    }

    void workspaceCheckOfTheByzantineBound() {
        // The strategies' own validation rule, as workspace validation runs it: Krum needs clients.per_round
        // >= 2f + 3, Bulyan 4f + 3; multi-Krum's `selected` cannot exceed n - f.
        const auto issues = [](const char *name, double perRound, int byzantine, int selected = 0) {
            QJsonObject strategy{{QStringLiteral("name"), QLatin1String(name)},
                                 {QStringLiteral("byzantine"), byzantine}};
            if (QLatin1String(name) == QLatin1String("multi-krum"))
                strategy.insert(QStringLiteral("selected"), selected);
            const QJsonObject ws{
                {QStringLiteral("format"), 1},
                {QStringLiteral("clients"),
                 QJsonObject{{QStringLiteral("count"), 10}, {QStringLiteral("per_round"), perRound}}},
                {QStringLiteral("strategy"), strategy}};
            QStringList paths;
            for (const SpecIssue &e : FederationSpec::parse(ws).errors)
                paths.append(e.path);
            return paths;
        };
        QCOMPARE(issues("krum", 5, 1), QStringList{});                                         // 5 >= 2 + 3
        QCOMPARE(issues("krum", 4, 1), QStringList{QStringLiteral("strategy.byzantine")});     // 4 < 5
        QCOMPARE(issues("krum", 0.5, 1), QStringList{});                                       // 0.5 * 10 = 5
        QCOMPARE(issues("bulyan", 0.5, 1), QStringList{QStringLiteral("strategy.byzantine")}); // 5 < 7
        QCOMPARE(issues("bulyan", 7, 1), QStringList{});
        // multi-Krum averages at most n - f = 5 - 1 = 4 updates.
        QCOMPARE(issues("multi-krum", 5, 1, 6), QStringList{QStringLiteral("strategy.selected")});
        QCOMPARE(issues("multi-krum", 5, 1, 5), QStringList{QStringLiteral("strategy.selected")});
        QCOMPARE(issues("multi-krum", 5, 1, 4), QStringList{});
        QCOMPARE(issues("multi-krum", 5, 1, 0), QStringList{}); // 0 = n - f
    }

    void bulyanSelectionThenTrimming() {
        // n = 7, f = 1: theta = n - 2f = 5 selected by repeated Krum, beta = theta - 2f = 3 averaged.
        // Updates (1-D, ids 0..6): 0, 7, 10, 11, 13, 19, 100. Krum neighbours = r - f - 2 (r = remaining);
        // squared distances:
        // 1) r = 7, 4 neighbours: 0: 49+100+121+169 = 439; 7: 9+16+36+49 = 110; 10: 1+9+9+81 = 100;
        //    11: 1+4+16+64 = 85; 13: 4+9+36+36 = 85; 19: 36+64+81+144 = 325; 100: huge
        //    -> 11 and 13 tie at 85, the lower id wins: select 11
        // 2) r = 6, 3 neighbours: 0: 49+100+169 = 318; 7: 9+36+49 = 94; 10: 9+9+81 = 99; 13: 9+36+36 = 81;
        //    19: 36+81+144 = 261                                             -> select 13
        // 3) r = 5, 2 neighbours: 0: 49+100 = 149; 7: 9+49 = 58; 10: 9+81 = 90; 19: 81+144 = 225;
        //    100: 6561+8100                                                   -> select 7
        // 4) r = 4, 1 neighbour: 0: 100; 10: 81; 19: 81; 100: 6561 -> tie 10 / 19, the lower id: select 10
        // 5) r = 3, 0 neighbours: all 0, the lowest id                       -> select 0
        // Selection {0, 7, 10, 11, 13}; median 10; |v - 10| = 10, 3, 0, 1, 3 -> the 3 closest (a tie at 3
        // goes to the smaller value, 7): 10, 11, 7 -> 28 / 3.
        // (The other tie-break would give 31 / 3, one Krum ranking instead of repeated Krum 34 / 3, the plain
        // mean of the selection 41 / 5.)
        EXPECT_VECTOR(aggregated(QStringLiteral("bulyan"), {{QStringLiteral("byzantine"), 1}}, {0.f},
                                 clientsOf({{0}, {7}, {10}, {11}, {13}, {19}, {100}})),
                      {28.0 / 3.0});
    }

    void normBounded() {
        // max_norm 1. A = [3, 4] (norm 5, weight 1) -> [0.6, 0.8]; B = [0.3, 0.4] (norm 0.5, weight 3) stays.
        // (1 [0.6, 0.8] + 3 [0.3, 0.4]) / 4 = [1.5, 2.0] / 4 = [0.375, 0.5]
        std::vector<Client> c = clientsOf({{3.f, 4.f}, {0.3f, 0.4f}});
        c[1].weight = 3;
        EXPECT_VECTOR(
            aggregated(QStringLiteral("norm-bounded"), {{QStringLiteral("max_norm"), 1.0}}, {0.f, 0.f}, c),
            {0.375, 0.5});
    }

    void normClipStage() {
        QCOMPARE(l2Norm(std::vector<float>{3.f, 4.f}), 5.0);
        NormClipStage clip(2.0);
        QCOMPARE(clip.name(), QStringLiteral("norm-clip"));
        std::vector<float> big{3.f, 4.f}; // norm 5 -> scaled by 2 / 5: [1.2, 1.6]
        clip.clip(big);
        EXPECT_VECTOR(big, {1.2, 1.6});
        std::vector<float> small{0.5f, -1.f}; // norm sqrt(1.25) < 2: unchanged, bit for bit
        clip.clip(small);
        QVERIFY(bitwiseEqual(small, {0.5f, -1.f}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, NormClipStage(0.0));
    }

    // --- Robustness: honest clients plus attackers ---------------------------------------------------
    void robustRulesIgnoreHugeArbitraryUpdates_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QJsonObject>("params");
        QTest::addColumn<double>("tolerance");
        const QJsonObject f3{{QStringLiteral("byzantine"), 3}};
        // Honest updates are within ~0.03 of their mean; an honest pick or a robust mean stays within 0.05.
        QTest::newRow("median") << QStringLiteral("median") << QJsonObject{} << 0.05;
        QTest::newRow("trimmed-mean")
            << QStringLiteral("trimmed-mean") << QJsonObject{{QStringLiteral("beta"), 0.3}} << 0.05;
        QTest::newRow("krum") << QStringLiteral("krum") << f3 << 0.05;
        QTest::newRow("multi-krum") << QStringLiteral("multi-krum") << f3 << 0.05;
        QTest::newRow("bulyan") << QStringLiteral("bulyan") << f3 << 0.05;
        // Norm-bounded keeps the 3 attackers but clips them to 0.5: they move the mean of 15 by at most
        // 3 / 15 * (0.5 + |honest|) < 0.2.
        QTest::newRow("norm-bounded")
            << QStringLiteral("norm-bounded") << QJsonObject{{QStringLiteral("max_norm"), 0.5}} << 0.2;
    }
    void robustRulesIgnoreHugeArbitraryUpdates() {
        QFETCH(QString, name);
        QFETCH(QJsonObject, params);
        QFETCH(double, tolerance);
        // 12 honest clients: mu + small deterministic noise; 3 attackers (ids 3, 7, 11 among them) send
        // 1e6-scale vectors. n = 15 satisfies Bulyan's 4f + 3 = 15 for f = 3.
        const std::size_t d = 8;
        const std::vector<double> mu{0.1, -0.1, 0.05, 0.0, -0.05, 0.1, 0.02, -0.08};
        std::vector<Client> clients;
        std::vector<double> honestMean(d, 0.0);
        int honest = 0;
        for (int k = 0; k < 15; ++k) {
            Client c;
            c.id = k;
            c.weight = 100;
            c.delta.resize(d);
            const bool attacker = k == 3 || k == 7 || k == 11;
            for (std::size_t i = 0; i < d; ++i)
                c.delta[i] = attacker ? float(1e6 * (k + 1) * std::cos(double(k * 13 + int(i)) * 1.7))
                                      : float(mu[i] + 0.01 * std::sin(double(k * 7 + int(i) * 3)));
            if (!attacker) {
                for (std::size_t i = 0; i < d; ++i)
                    honestMean[i] += double(c.delta[i]);
                ++honest;
            }
            clients.push_back(c);
        }
        for (double &m : honestMean)
            m /= honest;
        const std::vector<float> zero(d, 0.f);
        const double robust = distance(aggregated(name, params, zero, clients), honestMean);
        QVERIFY2(robust <= tolerance,
                 qPrintable(QStringLiteral("%1 is %2 from the honest mean").arg(name).arg(robust)));
        const double plain = distance(aggregated(QStringLiteral("fedavg"), {}, zero, clients), honestMean);
        QVERIFY2(plain > 1e4,
                 qPrintable(QStringLiteral("fedavg is only %1 from the honest mean").arg(plain)));
    }
};

QTEST_GUILESS_MAIN(TestStrategies)
#include "test_strategies.moc"
