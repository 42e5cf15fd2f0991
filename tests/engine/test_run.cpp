// The round loop end to end: a short real federation on a Fashion-MNIST subset, determinism across thread
// counts, evaluation cadence, stopping, failures reported with the workspace key, and recording into a store.
#include "privacy/Accountant.h"
#include "privacy/PrivacyLedger.h"
#include "run/Run.h"
#include "run/RunState.h"
#include "run/StoreRecorder.h"
#include "spec/Registry.h"
#include "store/RunStore.h"

#include "test_support.h"

#include <QJsonArray>
#include <QtTest>

#include <cstring>

using namespace fedwb;

namespace {

QJsonObject baseWorkspace() {
    return QJsonObject{
        {QStringLiteral("format"), 1},
        {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("fashion-mnist")},
                                                {QStringLiteral("train_limit"), 6000},
                                                {QStringLiteral("test_limit"), 2000}}},
        {QStringLiteral("partition"),
         QJsonObject{{QStringLiteral("name"), QStringLiteral("dirichlet")}, {QStringLiteral("alpha"), 0.5}}},
        {QStringLiteral("clients"),
         QJsonObject{{QStringLiteral("count"), 10}, {QStringLiteral("per_round"), 5}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("cnn-lenet5")}}},
        {QStringLiteral("training"),
         QJsonObject{{QStringLiteral("lr"), 0.05}, {QStringLiteral("momentum"), 0.9}}},
        {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), 3},
                                            {QStringLiteral("seed"), 7},
                                            {QStringLiteral("threads"), 2}}}};
}

FederationSpec specWith(const QStringList &sets) {
    return test::specWith(baseWorkspace(), sets);
}

const QStringList kOneLogregRound{QStringLiteral("model.name=logreg"), QStringLiteral("run.rounds=1")};

struct Collector : RunObserver {
    std::vector<RoundMetrics> rounds;
    QByteArray model;
    std::int64_t parameterCount = 0;
    int clientEvents = 0;
    std::function<void(const RoundMetrics &)> onRound;
    void runStarted(int, std::int64_t p) override { parameterCount = p; }
    void clientFinished(int, int, int) override { ++clientEvents; }
    void roundFinished(const RoundMetrics &m) override {
        rounds.push_back(m);
        if (onRound) onRound(m);
    }
    void finalModel(const QByteArray &bytes, std::int64_t) override { model = bytes; }
    void environment(const RunEnvironment &e) override { where = e; }
    RunEnvironment where;
};

struct Outcome {
    RunSummary summary;
    Collector collected;
};

Outcome runSpec(const FederationSpec &spec, std::function<void(Run &, Collector &)> setup = {}) {
    Outcome o;
    Run run(spec);
    run.addObserver(&o.collected);
    if (setup) setup(run, o.collected);
    o.summary = run.exec();
    return o;
}

} // namespace

class TestRun : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { registerBuiltins(); }

    void threeRoundsOnFashionMnist() {
        // All 10 clients, 2 local epochs: enough signal to learn from 5,400 images in 3 rounds.
        const auto spec =
            specWith({QStringLiteral("clients.per_round=10"), QStringLiteral("training.epochs=2")});
        const Outcome o = runSpec(spec);
        QCOMPARE(runStatusName(o.summary.status), QStringLiteral("finished"));
        QCOMPARE(o.summary.roundsDone, 3);
        QCOMPARE(int(o.collected.rounds.size()), 3);
        QCOMPARE(o.collected.parameterCount, std::int64_t(61706));
        QCOMPARE(o.collected.model.size(), qsizetype(61706 * 4));
        QCOMPARE(o.collected.clientEvents, 30);
        for (const RoundMetrics &m : o.collected.rounds) {
            QVERIFY(m.evaluated);
            QCOMPARE(m.clientsSelected, 10);
            QCOMPARE(m.bytesUp, std::int64_t(10) * 61706 * 4);
            int trained = 0, evaluated = 0;
            for (const auto &c : m.clients) {
                trained += c.trained;
                evaluated += c.accuracy.has_value();
            }
            QCOMPARE(trained, 10);
            QCOMPARE(evaluated, 10);
        }
        // 10 classes: chance is 10%. Three rounds of LeNet-5 on 5,400 images reach well above it (0.73
        // measured).
        const RoundMetrics &last = o.collected.rounds.back();
        QVERIFY2(last.testAccuracy > 0.6, qPrintable(QString::number(last.testAccuracy)));
        QVERIFY(last.testLoss < o.collected.rounds.front().testLoss);
        QCOMPARE(*o.summary.finalTestAccuracy, last.testAccuracy);
        // The test set has 2,000 images: accuracy is a multiple of 1/2000.
        QCOMPARE(std::round(last.testAccuracy * 2000) / 2000, last.testAccuracy);
        QVERIFY(last.fairness.worst10 <= last.fairness.mean && last.fairness.mean <= last.fairness.best10);
        QVERIFY(last.fairness.jain > 0 && last.fairness.jain <= 1);
    }

    // Same seed, same result, whatever run.threads is: every client trains with one intra-op thread, updates
    // are summed in client order and evaluation runs in fixed chunks.
    void sameResultWhateverThreads() {
        const Outcome one =
            runSpec(specWith({QStringLiteral("run.threads=1"), QStringLiteral("run.rounds=2")}));
        const Outcome two =
            runSpec(specWith({QStringLiteral("run.threads=2"), QStringLiteral("run.rounds=2")}));
        const Outcome four =
            runSpec(specWith({QStringLiteral("run.threads=4"), QStringLiteral("run.rounds=2")}));
        QVERIFY(!one.collected.model.isEmpty());
        QVERIFY(one.collected.model == two.collected.model); // bitwise
        QVERIFY(one.collected.model == four.collected.model);
        for (std::size_t r = 0; r < 2; ++r) {
            QCOMPARE(one.collected.rounds[r].testAccuracy, two.collected.rounds[r].testAccuracy);
            QCOMPARE(one.collected.rounds[r].testLoss, two.collected.rounds[r].testLoss);
            QCOMPARE(one.collected.rounds[r].trainLoss, four.collected.rounds[r].trainLoss);
            QCOMPARE(one.collected.rounds[r].fairness.jain, four.collected.rounds[r].fairness.jain);
        }
        const Outcome otherSeed =
            runSpec(specWith({QStringLiteral("run.seed=8"), QStringLiteral("run.rounds=2")}));
        QVERIFY(otherSeed.collected.model != one.collected.model);
    }

    void evaluationCadence() {
        const Outcome o =
            runSpec(specWith({QStringLiteral("run.rounds=3"), QStringLiteral("run.eval_every=2"),
                              QStringLiteral("model.name=logreg")}));
        QCOMPARE(int(o.collected.rounds.size()), 3);
        QVERIFY(!o.collected.rounds[0].evaluated); // round 1: no
        QVERIFY(o.collected.rounds[1].evaluated);  // round 2: every 2nd
        QVERIFY(o.collected.rounds[2].evaluated);  // round 3: always the last
        for (const auto &c : o.collected.rounds[0].clients)
            QVERIFY(c.trained && !c.accuracy);
        // 5 of the 10 clients are selected each round, and the selection changes between rounds.
        std::vector<int> first, second;
        for (const auto &c : o.collected.rounds[0].clients)
            first.push_back(c.clientId);
        for (const auto &c : o.collected.rounds[1].clients)
            if (c.trained) second.push_back(c.clientId);
        QCOMPARE(int(first.size()), 5);
        QCOMPARE(int(second.size()), 5);
        QVERIFY(first != second);
    }

    void stopAfterFirstRound() {
        const Outcome o = runSpec(
            specWith({QStringLiteral("run.rounds=50"), QStringLiteral("model.name=logreg")}),
            [](Run &run, Collector &c) { c.onRound = [&run](const RoundMetrics &) { run.requestStop(); }; });
        QCOMPARE(runStatusName(o.summary.status), QStringLiteral("stopped"));
        QCOMPARE(o.summary.roundsDone, 1);
        QCOMPARE(int(o.collected.rounds.size()), 1);
        QVERIFY(!o.collected.model.isEmpty()); // the model of the last complete round
    }

    void failuresNameTheKey_data() {
        QTest::addColumn<QStringList>("sets");
        QTest::addColumn<QString>("key");
        QTest::newRow("missing data")
            << QStringList{QStringLiteral("dataset.path=/no/such/dir")} << "dataset.path";
        QTest::newRow("too few samples")
            << QStringList{QStringLiteral("partition.min_samples=700")} << "partition.min_samples";
    }
    void failuresNameTheKey() {
        QFETCH(QStringList, sets);
        QFETCH(QString, key);
        const Outcome o = runSpec(specWith(sets));
        QCOMPARE(runStatusName(o.summary.status), QStringLiteral("failed"));
        QVERIFY2(o.summary.message.startsWith(key + QStringLiteral(": ")), qPrintable(o.summary.message));
        QCOMPARE(o.summary.roundsDone, 0);
    }

    // A NaN/Inf loss is not a failure of the tool: the run ends as diverged, naming the key to change.
    void divergenceEndsTheRunAsDiverged() {
        const Outcome o = runSpec(specWith({QStringLiteral("training.lr=10")}));
        QCOMPARE(runStatusName(o.summary.status), QStringLiteral("diverged"));
        QCOMPARE(o.summary.divergedRound, 1);
        QCOMPARE(o.summary.roundsDone, 0);
        QVERIFY2(o.summary.message.contains(QStringLiteral("training.lr (now 10)")),
                 qPrintable(o.summary.message));
        QVERIFY2(o.summary.message.contains(QStringLiteral("round 1")), qPrintable(o.summary.message));
    }

    // An observer that cannot keep a round (the store's disk is full) ends the run at once: no round after it
    // is trained, the summary says failed with the observer's reason and counts only the rounds it kept.
    void observerAbortEndsTheRunAtOnce() {
        int roundsStarted = 0;
        struct Starts : RunObserver {
            int *count;
            void roundStarted(int, int) override { ++*count; }
        } starts;
        starts.count = &roundsStarted;
        const Outcome o =
            runSpec(specWith({QStringLiteral("run.rounds=20"), QStringLiteral("model.name=logreg")}),
                    [&](Run &run, Collector &c) {
                        run.addObserver(&starts);
                        c.onRound = [](const RoundMetrics &m) {
                            if (m.round == 3)
                                throw RunAborted("could not record round 3: database or disk is full");
                        };
                    });
        QCOMPARE(runStatusName(o.summary.status), QStringLiteral("failed"));
        QCOMPARE(o.summary.message, QStringLiteral("could not record round 3: database or disk is full"));
        QCOMPARE(o.summary.roundsDone, 2);
        QCOMPARE(roundsStarted, 3);
        QVERIFY(o.collected.model.isEmpty()); // no final model is reported for rounds that were not kept
    }

    // Divergence in a later round keeps the rounds before it; the final model is the last finite one.
    void divergenceKeepsEarlierRounds() {
        QJsonObject raw{
            {QStringLiteral("format"), 1},
            {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("quadratic")},
                                                    {QStringLiteral("features"), 5},
                                                    {QStringLiteral("samples_per_client"), 100}}},
            {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
            {QStringLiteral("clients"),
             QJsonObject{{QStringLiteral("count"), 6}, {QStringLiteral("per_round"), 6}}},
            {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
            {QStringLiteral("training"), QJsonObject{{QStringLiteral("lr"), 5},
                                                     {QStringLiteral("batch_size"), 100},
                                                     {QStringLiteral("epochs"), 5}}},
            {QStringLiteral("run"),
             QJsonObject{{QStringLiteral("rounds"), 50}, {QStringLiteral("seed"), 1}}}};
        const auto parsed = FederationSpec::parse(raw);
        QVERIFY2(parsed.ok(), qPrintable(parsed.errorText()));
        const Outcome o = runSpec(*parsed.spec);
        QCOMPARE(runStatusName(o.summary.status), QStringLiteral("diverged"));
        const int round = o.summary.divergedRound;
        QVERIFY(round > 1);
        QCOMPARE(o.summary.roundsDone, round - 1);
        QCOMPARE(int(o.collected.rounds.size()), round - 1);
        QVERIFY2(o.summary.message.contains(QStringLiteral("rounds 1-%1 are kept").arg(round - 1)),
                 qPrintable(o.summary.message));
        const auto *p = reinterpret_cast<const float *>(o.collected.model.constData());
        QVERIFY(!o.collected.model.isEmpty());
        for (qsizetype i = 0; i < o.collected.model.size() / 4; ++i)
            QVERIFY(std::isfinite(p[i]));
        QVERIFY(o.summary.finalTestLoss && std::isfinite(*o.summary.finalTestLoss));
    }

    // clients.sampling poisson: each client independently with probability q each round. Checked against the
    // binomial distribution: the mean round size is qN, its variance Nq(1-q) (a fixed-size draw has none),
    // and every client takes part in about q of the rounds. A round that samples nobody leaves the model as
    // it was.
    void poissonSampling() {
        const int n = 50, rounds = 400;
        const double q = 0.2;
        const QJsonObject synthetic{
            {QStringLiteral("format"), 1},
            {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("synthetic")},
                                                    {QStringLiteral("max_samples"), 60}}},
            {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
            {QStringLiteral("clients"), QJsonObject{{QStringLiteral("count"), n},
                                                    {QStringLiteral("per_round"), q},
                                                    {QStringLiteral("sampling"), QStringLiteral("poisson")}}},
            {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
            {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), rounds},
                                                {QStringLiteral("seed"), 11},
                                                {QStringLiteral("eval_every"), rounds}}}};
        const FederationSpec spec = test::specWith(synthetic, {});
        QCOMPARE(spec.samplingRate(), q);
        const Outcome o = runSpec(spec);
        QCOMPARE(o.summary.status, RunStatus::Finished);
        QCOMPARE(int(o.collected.rounds.size()), rounds);
        double sum = 0, sumSquares = 0;
        std::vector<int> times(n, 0);
        for (const RoundMetrics &m : o.collected.rounds) {
            sum += m.clientsSelected;
            sumSquares += double(m.clientsSelected) * m.clientsSelected;
            int trained = 0;
            for (const ClientRoundMetrics &c : m.clients)
                if (c.trained) ++times[std::size_t(c.clientId)], ++trained;
            QCOMPARE(trained, m.clientsSelected);
        }
        const double mean = sum / rounds, variance = sumSquares / rounds - mean * mean;
        // qN = 10, Nq(1-q) = 8: the mean of 400 rounds has a standard deviation of 0.14.
        QVERIFY2(std::abs(mean - q * n) < 0.6, qPrintable(QString::number(mean)));
        QVERIFY2(variance > 5 && variance < 11, qPrintable(QString::number(variance)));
        for (int t : times) // 400 draws at 0.2: standard deviation 8 rounds
            QVERIFY2(std::abs(t - q * rounds) < 40, qPrintable(QString::number(t)));
        // Same seed, same draws.
        const Outcome again = runSpec(test::specWith(synthetic, {QStringLiteral("run.rounds=20")}));
        for (int r = 0; r < 20; ++r)
            QCOMPARE(again.collected.rounds[std::size_t(r)].clientsSelected,
                     o.collected.rounds[std::size_t(r)].clientsSelected);

        // A tiny rate: most rounds sample nobody; they train nothing and keep the model.
        const Outcome sparse = runSpec(test::specWith(
            synthetic, {QStringLiteral("clients.per_round=0.01"), QStringLiteral("run.rounds=30"),
                        QStringLiteral("run.eval_every=1"), QStringLiteral("clients.count=8")}));
        QCOMPARE(sparse.summary.status, RunStatus::Finished);
        int empty = 0;
        for (std::size_t r = 1; r < sparse.collected.rounds.size(); ++r) {
            const RoundMetrics &m = sparse.collected.rounds[r];
            if (m.clientsSelected > 0) continue;
            ++empty;
            QVERIFY(std::isnan(m.trainLoss));
            QCOMPARE(m.testLoss, sparse.collected.rounds[r - 1].testLoss);
        }
        QVERIFY(empty > 10);
    }

    // A checkpoint written before keys were added to the schema (here: no privacy section and no
    // clients.sampling, as in stores from before them) still continues, bitwise as before.
    void olderCheckpointsResume() {
        const auto spec = specWith({QStringLiteral("model.name=logreg"), QStringLiteral("run.rounds=3")});
        const Outcome whole = runSpec(spec);
        const Outcome first = runSpec(spec, [](Run &run, Collector &c) {
            c.onRound = [&run](const RoundMetrics &m) {
                if (m.round == 1) run.requestStop();
            };
        });
        std::optional<RunState> state = RunState::fromBytes(first.collected.rounds.back().checkpoint);
        QVERIFY(state);
        state->spec.remove(QStringLiteral("privacy"));
        QJsonObject clients = state->spec.value(QStringLiteral("clients")).toObject();
        clients.remove(QStringLiteral("sampling"));
        state->spec.insert(QStringLiteral("clients"), clients);
        Outcome rest;
        Run run(spec);
        QString error;
        QVERIFY2(run.resumeFrom(state->toBytes(), &error), qPrintable(error));
        run.addObserver(&rest.collected);
        QCOMPARE(run.exec().status, RunStatus::Finished);
        QVERIFY(rest.collected.model == whole.collected.model);
    }

    // privacy.mode central through the round loop: epsilon after every round is the accountant's for the
    // workspace's mechanism (Poisson at rate q, noise z, delta); a budget ends the run cleanly before the
    // round that would exceed it, or only warns; a round that samples nobody still releases noise.
    void centralPrivacyRun() {
        const QJsonObject synthetic{
            {QStringLiteral("format"), 1},
            {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("synthetic")}}},
            {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
            {QStringLiteral("clients"), QJsonObject{{QStringLiteral("count"), 20},
                                                    {QStringLiteral("per_round"), 0.25},
                                                    {QStringLiteral("sampling"), QStringLiteral("poisson")}}},
            {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
            {QStringLiteral("strategy"),
             QJsonObject{{QStringLiteral("weighting"), QStringLiteral("uniform")}}},
            {QStringLiteral("privacy"), QJsonObject{{QStringLiteral("mode"), QStringLiteral("central")},
                                                    {QStringLiteral("clip_norm"), 0.5},
                                                    {QStringLiteral("noise_multiplier"), 1.1}}},
            {QStringLiteral("run"),
             QJsonObject{{QStringLiteral("rounds"), 12}, {QStringLiteral("seed"), 5}}}};
        const Outcome o = runSpec(test::specWith(synthetic, {}));
        QCOMPARE(o.summary.status, RunStatus::Finished);
        privacy::PrivacyAccountant reference(privacy::Sampling::Poisson, 0.25, 1.1, 1e-5);
        for (const RoundMetrics &m : o.collected.rounds) {
            reference.step();
            QCOMPARE(m.epsilon, reference.epsilon());
        }
        QCOMPARE(*o.summary.epsilon, reference.epsilon());
        QCOMPARE(privacy::plannedPrivacy(test::specWith(synthetic, {}))->epsilon,
                 reference.epsilon()); // 12 rounds
        // The same seed gives the same noise; without DP the model differs.
        QVERIFY(runSpec(test::specWith(synthetic, {})).collected.model == o.collected.model);
        const Outcome plain = runSpec(test::specWith(synthetic, {QStringLiteral("privacy.mode=none")}));
        QVERIFY(plain.collected.model != o.collected.model);
        QVERIFY(std::isnan(plain.collected.rounds.back().epsilon));

        // A budget between the epsilon after round 5 and after round 6: stop_at_budget ends after round 5.
        privacy::PrivacyAccountant budget(privacy::Sampling::Poisson, 0.25, 1.1, 1e-5);
        const double after5 = budget.epsilonAfter(5).epsilon, after6 = budget.epsilonAfter(6).epsilon;
        const QString target = QString::number((after5 + after6) / 2, 'g', 17);
        const Outcome stopped =
            runSpec(test::specWith(synthetic, {QStringLiteral("privacy.target_epsilon=") + target,
                                               QStringLiteral("privacy.stop_at_budget=true")}));
        QCOMPARE(runStatusName(stopped.summary.status), QStringLiteral("budget-spent"));
        QCOMPARE(stopped.summary.roundsDone, 5);
        QVERIFY2(stopped.summary.message.contains(QStringLiteral("round 6 would take epsilon to")),
                 qPrintable(stopped.summary.message));
        QCOMPARE(*stopped.summary.epsilon, after5);
        // Without stop_at_budget: one warning, every round run.
        struct Messages : RunObserver {
            QStringList texts;
            void message(const QString &t) override { texts << t; }
        } messages;
        const Outcome warned =
            runSpec(test::specWith(synthetic, {QStringLiteral("privacy.target_epsilon=") + target}),
                    [&](Run &run, Collector &) { run.addObserver(&messages); });
        QCOMPARE(warned.summary.status, RunStatus::Finished);
        QCOMPARE(warned.summary.roundsDone, 12);
        QCOMPARE(messages.texts.filter(QStringLiteral("warning: privacy budget: round 6")).size(), 1);
        QCOMPARE(messages.texts.filter(QStringLiteral("privacy budget")).size(), 1);

        // A tiny rate samples nobody in most rounds; the noisy mean is released (and accounted) anyway.
        const Outcome sparse = runSpec(test::specWith(
            synthetic, {QStringLiteral("clients.per_round=0.02"), QStringLiteral("run.rounds=6")}));
        int emptyRoundsThatMoved = 0;
        for (std::size_t r = 1; r < sparse.collected.rounds.size(); ++r)
            if (sparse.collected.rounds[r].clientsSelected == 0 &&
                sparse.collected.rounds[r].testLoss != sparse.collected.rounds[r - 1].testLoss)
                ++emptyRoundsThatMoved;
        QVERIFY(emptyRoundsThatMoved > 0);
        QVERIFY(std::isfinite(sparse.collected.rounds.back().epsilon));
    }

    // privacy.mode local through the round loop: each group's epsilon is that of k local Gaussian releases
    // at its own noise multiplier, k = its most-selected client's rounds so far (here every client every
    // round, so k = the round), computed here by the optimal-order conversion written out in plain doubles;
    // a group that always drops out released nothing; the budget stops before the round that would exceed.
    void localPrivacyRun() {
        QJsonObject raw = baseWorkspace();
        raw.insert(
            QStringLiteral("clients"),
            QJsonObject{
                {QStringLiteral("count"), 6},
                {QStringLiteral("per_round"), 6},
                {QStringLiteral("groups"),
                 QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("careful")},
                                        {QStringLiteral("count"), 2},
                                        {QStringLiteral("privacy"),
                                         QJsonObject{{QStringLiteral("noise_multiplier"), 3.0}}}},
                            QJsonObject{{QStringLiteral("name"), QStringLiteral("relaxed")},
                                        {QStringLiteral("count"), 2}},
                            QJsonObject{{QStringLiteral("name"), QStringLiteral("gone")},
                                        {QStringLiteral("count"), 2},
                                        {QStringLiteral("behaviour"),
                                         QJsonObject{{QStringLiteral("name"), QStringLiteral("dropout")},
                                                     {QStringLiteral("probability"), 1.0}}}}}}});
        raw.insert(QStringLiteral("privacy"), QJsonObject{{QStringLiteral("mode"), QStringLiteral("local")},
                                                          {QStringLiteral("noise_multiplier"), 1.5},
                                                          {QStringLiteral("delta"), 1e-4}});
        const QStringList sets{QStringLiteral("model.name=logreg"), QStringLiteral("run.rounds=4")};
        // min over alpha of 2 k alpha / z^2 + log((alpha-1)/alpha) - (log delta + log alpha)/(alpha-1),
        // on a fine grid of its own (1.001 to 2000).
        const auto reference = [](double z, int k, double delta) {
            double best = std::numeric_limits<double>::infinity();
            for (double a = 1.001; a < 2000; a *= 1.001)
                best = std::min(best, 2.0 * k * a / (z * z) + std::log((a - 1) / a) -
                                          (std::log(delta) + std::log(a)) / (a - 1));
            return std::max(0.0, best);
        };
        const Outcome o = runSpec(test::specWith(raw, sets));
        QCOMPARE(runStatusName(o.summary.status), QStringLiteral("finished"));
        for (const RoundMetrics &m : o.collected.rounds) {
            const QJsonObject byGroup = m.extra.value(QStringLiteral("epsilon_by_group")).toObject();
            QCOMPARE(byGroup.size(), 3);
            const double careful = reference(3.0, m.round, 1e-4), relaxed = reference(1.5, m.round, 1e-4);
            QVERIFY2(std::abs(byGroup.value(QStringLiteral("careful")).toDouble() - careful) < 1e-3 * careful,
                     qPrintable(QStringLiteral("round %1: %2 vs %3")
                                    .arg(m.round)
                                    .arg(byGroup.value(QStringLiteral("careful")).toDouble())
                                    .arg(careful)));
            QVERIFY(std::abs(byGroup.value(QStringLiteral("relaxed")).toDouble() - relaxed) < 1e-3 * relaxed);
            QCOMPARE(byGroup.value(QStringLiteral("gone")).toDouble(), 0.0);
            QCOMPARE(m.epsilon, byGroup.value(QStringLiteral("relaxed")).toDouble()); // the worst group
        }
        // Before the run, the plan: a client in every one of the 4 rounds, per group (the dropout group
        // too: the plan does not count on dropouts), the worst group overall.
        const auto planned = privacy::plannedPrivacy(test::specWith(raw, sets));
        QVERIFY(planned);
        QCOMPARE(planned->rounds, 4);
        QCOMPARE(planned->byGroup.size(), 3);
        QVERIFY(std::abs(planned->byGroup[0].second - reference(3.0, 4, 1e-4)) <
                1e-3 * reference(3.0, 4, 1e-4));
        QVERIFY(std::abs(planned->epsilon - reference(1.5, 4, 1e-4)) < 1e-3 * reference(1.5, 4, 1e-4));
        QVERIFY2(planned->text().contains(QStringLiteral("careful ")), qPrintable(planned->text()));
        // The noise is there: the model differs from the run without DP, and is reproducible.
        const Outcome plain =
            runSpec(test::specWith(raw, sets + QStringList{QStringLiteral("privacy.mode=none")}));
        QVERIFY(plain.collected.model != o.collected.model);
        QVERIFY(runSpec(test::specWith(raw, sets)).collected.model == o.collected.model);
        // A budget between the worst group's epsilon after rounds 2 and 3 ends the run after round 2.
        const double target = (reference(1.5, 2, 1e-4) + reference(1.5, 3, 1e-4)) / 2;
        const Outcome stopped =
            runSpec(test::specWith(raw, sets + QStringList{QStringLiteral("privacy.target_epsilon=") +
                                                               QString::number(target, 'g', 17),
                                                           QStringLiteral("privacy.stop_at_budget=true")}));
        QCOMPARE(runStatusName(stopped.summary.status), QStringLiteral("budget-spent"));
        QCOMPARE(stopped.summary.roundsDone, 2);
    }

    void recordedIntoStore() {
        RunStore store(QStringLiteral(":memory:"));
        QVERIFY(store.isOpen());
        const auto spec = specWith({QStringLiteral("model.name=logreg"), QStringLiteral("run.rounds=2")});
        StoreRecorder recorder(store, spec, QStringLiteral("t"), QStringLiteral("/tmp/t.fedwb"));
        QVERIFY(recorder.runId() > 0);
        Outcome o = runSpec(spec, [&](Run &run, Collector &) { run.addObserver(&recorder); });
        QVERIFY2(recorder.error().isEmpty(), qPrintable(recorder.error()));
        const auto stored = store.run(recorder.runId());
        QVERIFY(stored);
        QCOMPARE(runStatusName(stored->status), QStringLiteral("finished"));
        QCOMPARE(stored->roundsDone, 2);
        QCOMPARE(*stored->finalTestAccuracy, *o.summary.finalTestAccuracy);
        const auto rounds = store.rounds(recorder.runId());
        QCOMPARE(rounds.size(), 2);
        QCOMPARE(rounds[1].testAccuracy, o.collected.rounds[1].testAccuracy);
        QCOMPARE(int(rounds[1].clients.size()), int(o.collected.rounds[1].clients.size()));
        const auto model = store.model(recorder.runId());
        QVERIFY(model && *model == o.collected.model);
    }

    // A run stopped after round k and continued from its RunState in a new Run ends bitwise equal to a run
    // that was never interrupted: model, server state (momentum, moments, control variates) and client state.
    void resumeIsBitwiseEqual_data() {
        QTest::addColumn<QStringList>("sets");
        QTest::newRow("fedavg lenet5") << QStringList{};
        QTest::newRow("eval every 3")
            << QStringList{QStringLiteral("run.eval_every=3"), QStringLiteral("model.name=logreg")};
        // Strategies with server state and client state: all of it must travel in the RunState.
        QTest::newRow("scaffold") << QStringList{QStringLiteral("strategy.name=scaffold")};
        QTest::newRow("fedadam") << QStringList{QStringLiteral("strategy.name=fedadam"),
                                                QStringLiteral("model.name=logreg")};
        QTest::newRow("fedavgm") << QStringList{QStringLiteral("strategy.name=fedavgm"),
                                                QStringLiteral("model.name=logreg")};
        QTest::newRow("ditto personalized")
            << QStringList{QStringLiteral("strategy.name=ditto"), QStringLiteral("model.name=logreg"),
                           QStringLiteral("run.personalize_steps=2")};
        QTest::newRow("fedbn lenet5-bn")
            << QStringList{QStringLiteral("strategy.name=fedbn"), QStringLiteral("model.name=cnn-lenet5-bn")};
        QTest::newRow("fedper") << QStringList{QStringLiteral("strategy.name=fedper"),
                                               QStringLiteral("model.name=mlp-2nn")};
        // Central DP with Poisson sampling: the noise and the privacy spent continue where they stopped.
        QTest::newRow("central dp poisson")
            << QStringList{QStringLiteral("privacy.mode=central"), QStringLiteral("clients.sampling=poisson"),
                           QStringLiteral("clients.per_round=0.3"),
                           QStringLiteral("strategy.weighting=uniform"), QStringLiteral("model.name=logreg")};
        // Adaptive clipping: the clip norm of the next round travels in the RunState.
        QTest::newRow("central dp adaptive clipping") << QStringList{
            QStringLiteral("privacy.mode=central"), QStringLiteral("privacy.adaptive_clipping=true"),
            QStringLiteral("privacy.noise_multiplier=0.3"), QStringLiteral("model.name=logreg")};
        // Local DP: every client's release count (its epsilon) travels in the RunState.
        QTest::newRow("local dp") << QStringList{
            QStringLiteral("privacy.mode=local"), QStringLiteral("privacy.noise_multiplier=0.2"),
            QStringLiteral("clients.per_round=0.5"), QStringLiteral("model.name=logreg")};
    }
    void resumeIsBitwiseEqual() {
        QFETCH(QStringList, sets);
        const auto spec = specWith(sets + QStringList{QStringLiteral("run.rounds=4")});
        const Outcome whole = runSpec(spec);
        QCOMPARE(runStatusName(whole.summary.status), QStringLiteral("finished"));
        // Stop after round 2; its checkpoint is the RunState to continue from.
        const Outcome first = runSpec(spec, [](Run &run, Collector &c) {
            c.onRound = [&run](const RoundMetrics &m) {
                if (m.round == 2) run.requestStop();
            };
        });
        QCOMPARE(runStatusName(first.summary.status), QStringLiteral("stopped"));
        QCOMPARE(first.summary.roundsDone, 2);
        const QByteArray state = first.collected.rounds.back().checkpoint;
        QVERIFY(!state.isEmpty());
        Outcome rest;
        {
            Run run(spec);
            QString error;
            QVERIFY2(run.resumeFrom(state, &error), qPrintable(error));
            run.addObserver(&rest.collected);
            rest.summary = run.exec();
        }
        QCOMPARE(runStatusName(rest.summary.status), QStringLiteral("finished"));
        QCOMPARE(rest.summary.roundsDone, 4);
        QCOMPARE(int(rest.collected.rounds.size()), 2); // rounds 3 and 4 only
        QCOMPARE(rest.collected.rounds.front().round, 3);
        QVERIFY(rest.collected.model == whole.collected.model); // bitwise
        QCOMPARE(rest.collected.rounds.back().testAccuracy, whole.collected.rounds.back().testAccuracy);
        QCOMPARE(rest.collected.rounds.back().trainLoss, whole.collected.rounds.back().trainLoss);
        QCOMPARE(rest.collected.rounds.back().epsilon,
                 whole.collected.rounds.back().epsilon); // NaN without DP
        QCOMPARE(rest.collected.rounds.back().extra, whole.collected.rounds.back().extra);
        QCOMPARE(*rest.summary.finalTestAccuracy, *whole.summary.finalTestAccuracy);
        for (std::size_t i = 0; i < rest.collected.rounds.back().clients.size(); ++i) {
            const auto &a = rest.collected.rounds.back().clients[i];
            const auto &b = whole.collected.rounds.back().clients[i];
            QCOMPARE(a.clientId, b.clientId);
            QCOMPARE(a.accuracy, b.accuracy);
            QCOMPARE(a.personalAccuracy, b.personalAccuracy);
        }
        // A state that does not fit is refused with a reason.
        Run other(specWith(sets + QStringList{QStringLiteral("run.rounds=2")}));
        QString error;
        QVERIFY(!other.resumeFrom(state, &error));
        QVERIFY2(error.contains(QStringLiteral("nothing to continue")), qPrintable(error));
        QVERIFY(!other.resumeFrom(QByteArray("not a state"), &error));
        // A state continues only under the workspace it came from (rounds, threads and cadence may change).
        Run otherSeed(
            specWith(sets + QStringList{QStringLiteral("run.rounds=4"), QStringLiteral("run.seed=8")}));
        QVERIFY(!otherSeed.resumeFrom(state, &error));
        const QString differing = error.section(QLatin1Char(';'), 0, 0); // the keys listed before the advice
        QVERIFY2(differing.contains(QStringLiteral("run.seed")) &&
                     !differing.contains(QStringLiteral("run.rounds")),
                 qPrintable(error));
        Run longer(
            specWith(sets + QStringList{QStringLiteral("run.rounds=6"), QStringLiteral("run.threads=1")}));
        QVERIFY2(longer.resumeFrom(state, &error), qPrintable(error));
    }

    void checkpointsKeptInStore() {
        RunStore store(QStringLiteral(":memory:"));
        const auto spec =
            specWith({QStringLiteral("model.name=logreg"), QStringLiteral("run.rounds=5"),
                      QStringLiteral("run.checkpoint_every=2"), QStringLiteral("run.checkpoints_kept=2")});
        StoreRecorder recorder(store, spec, QStringLiteral("c"), QString());
        const Outcome o = runSpec(spec, [&](Run &run, Collector &) { run.addObserver(&recorder); });
        QVERIFY2(recorder.error().isEmpty(), qPrintable(recorder.error()));
        // Checkpoints after rounds 2, 4 and 5 (always the last); the newest two are kept.
        QCOMPARE(store.checkpointRounds(recorder.runId()), (QList<int>{4, 5}));
        int round = 0;
        const auto latest = store.latestCheckpoint(recorder.runId(), &round);
        QVERIFY(latest);
        QCOMPARE(round, 5);
        QString error;
        const auto state = RunState::fromBytes(*latest, &error);
        QVERIFY2(state, qPrintable(error));
        QCOMPARE(state->round, 5);
        QVERIFY(state->model == o.collected.model);
        QVERIFY(o.collected.rounds[0].checkpoint.isEmpty()); // round 1 is no checkpoint round
        // Where it ran is recorded with the run.
        const QJsonObject env = store.environment(recorder.runId());
        QCOMPARE(env.value(QStringLiteral("torch")).toString(), QStringLiteral(TORCH_VERSION));
        QVERIFY(!env.value(QStringLiteral("cpu")).toString().isEmpty());
        QVERIFY2(env.value(QStringLiteral("blas")).toString().contains(QStringLiteral("blas")),
                 qPrintable(env.value(QStringLiteral("blas")).toString()));
        QVERIFY(!env.value(QStringLiteral("cpu_capability")).toString().isEmpty());
        QCOMPARE(env.value(QStringLiteral("threads")).toInt(), 2);
    }

    void groupsInResultsStoreAndExport() {
        RunStore store(QStringLiteral(":memory:"));
        QJsonObject raw = baseWorkspace();
        QJsonObject clients = raw.value(QStringLiteral("clients")).toObject();
        clients.insert(QStringLiteral("per_round"), 10);
        clients.insert(QStringLiteral("groups"),
                       QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("phones")},
                                              {QStringLiteral("fraction"), 0.7}},
                                  QJsonObject{{QStringLiteral("name"), QStringLiteral("servers")},
                                              {QStringLiteral("count"), 3},
                                              {QStringLiteral("epochs"), 2}}});
        raw.insert(QStringLiteral("clients"), clients);
        const FederationSpec spec = test::specWith(raw, kOneLogregRound);
        StoreRecorder recorder(store, spec, QStringLiteral("g"), QString());
        const Outcome o = runSpec(spec, [&](Run &r, Collector &) { r.addObserver(&recorder); });
        QCOMPARE(runStatusName(o.summary.status), QStringLiteral("finished"));
        // 0.7 of 10 = clients 0..6 are phones, 7..9 servers.
        const RoundMetrics &m = o.collected.rounds.front();
        QCOMPARE(int(m.clients.size()), 10);
        for (const auto &c : m.clients)
            QCOMPARE(c.group, c.clientId < 7 ? QStringLiteral("phones") : QStringLiteral("servers"));
        const auto stored = store.rounds(recorder.runId());
        QCOMPARE(stored.front().clients[8].group, QStringLiteral("servers"));
        const QJsonObject exported = store.exportJson(recorder.runId());
        const QJsonObject groups = exported.value(QStringLiteral("rounds"))
                                       .toArray()
                                       .at(0)
                                       .toObject()
                                       .value(QStringLiteral("client_group"))
                                       .toObject();
        QCOMPARE(groups.value(QStringLiteral("0")).toString(), QStringLiteral("phones"));
        QCOMPARE(groups.value(QStringLiteral("9")).toString(), QStringLiteral("servers"));
    }

    // A group's own local epochs: a server (2 epochs) takes twice the steps of a phone with the same data
    // size; with IID data and equal sizes, steps = epochs * ceil(n / batch).
    void groupEpochsChangeLocalSteps() {
        QJsonObject raw = baseWorkspace();
        raw.insert(QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("iid")}});
        raw.insert(QStringLiteral("clients"),
                   QJsonObject{{QStringLiteral("count"), 4},
                               {QStringLiteral("per_round"), 4},
                               {QStringLiteral("groups"),
                                QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("a")},
                                                       {QStringLiteral("count"), 2}},
                                           QJsonObject{{QStringLiteral("name"), QStringLiteral("b")},
                                                       {QStringLiteral("count"), 2},
                                                       {QStringLiteral("epochs"), 3}}}}});
        const Outcome o = runSpec(test::specWith(raw, kOneLogregRound));
        QCOMPARE(runStatusName(o.summary.status), QStringLiteral("finished"));
        const RoundMetrics &m = o.collected.rounds.front();
        QCOMPARE(int(m.clients.size()), 4);
        for (const auto &c : m.clients) {
            const std::int64_t perEpoch = (c.trainSamples + 31) / 32; // batch 32, last batch partial
            QCOMPARE(c.steps, (c.clientId < 2 ? 1 : 3) * perEpoch);
        }
    }

    // A dropout group: its selected clients never train or send an update; they are recorded as dropped,
    // the round is aggregated from the others, and only the model they received counts as bytes.
    void dropoutGroupNeverAnswers() {
        QJsonObject raw = baseWorkspace();
        raw.insert(QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("iid")}});
        const auto workspace = [&](double probability) {
            QJsonObject w = raw;
            w.insert(QStringLiteral("clients"), test::sixClientsTwoFlaky(probability));
            return test::specWith(w, {QStringLiteral("model.name=logreg"), QStringLiteral("run.rounds=2")});
        };
        const Outcome always = runSpec(workspace(1.0));
        QCOMPARE(runStatusName(always.summary.status), QStringLiteral("finished"));
        for (const RoundMetrics &m : always.collected.rounds) {
            QCOMPARE(m.clientsSelected, 6);
            for (const auto &c : m.clients) {
                QCOMPARE(c.dropped, c.clientId >= 4);
                QCOMPARE(c.trained, c.clientId < 4);
                if (c.dropped) QVERIFY(!c.trainLoss);
            }
            // logreg on the synthetic data: every trained client sends one update of the model's size.
            QCOMPARE(m.bytesUp, 4 * std::int64_t(always.collected.model.size()));
            QCOMPARE(m.bytesDown, 6 * std::int64_t(always.collected.model.size()));
        }
        // Probability 0 is honest: nobody drops, and the model differs from the run without the flaky two.
        const Outcome never = runSpec(workspace(0.0));
        for (const RoundMetrics &m : never.collected.rounds)
            for (const auto &c : m.clients)
                QVERIFY(c.trained && !c.dropped);
        QVERIFY(never.collected.model != always.collected.model);
        // Probability 0.5: each (round, client) is one keyed draw; over 2 rounds x 2 clients some pattern,
        // the same on a second run (the draws do not depend on the executor).
        const Outcome half = runSpec(workspace(0.5)), again = runSpec(workspace(0.5));
        QCOMPARE(half.collected.model, again.collected.model);
    }

    void learningRateDecay() {
        const Outcome o =
            runSpec(specWith({QStringLiteral("model.name=logreg"), QStringLiteral("training.lr=0.08"),
                              QStringLiteral("training.lr_decay=0.5")}));
        QCOMPARE(int(o.collected.rounds.size()), 3);
        QCOMPARE(o.collected.rounds[0].clientLr, 0.08); // 0.08 * 0.5^0
        QCOMPARE(o.collected.rounds[1].clientLr, 0.04); // 0.08 * 0.5^1
        QCOMPARE(o.collected.rounds[2].clientLr, 0.02); // 0.08 * 0.5^2
    }

    // partition.seed fixed, run.seed varied: the same clients (sizes) train different models.
    void partitionSeedIsIndependentOfRunSeed() {
        const Outcome a =
            runSpec(specWith({QStringLiteral("model.name=logreg"), QStringLiteral("run.rounds=1"),
                              QStringLiteral("partition.seed=3"), QStringLiteral("run.seed=1")}));
        const Outcome b =
            runSpec(specWith({QStringLiteral("model.name=logreg"), QStringLiteral("run.rounds=1"),
                              QStringLiteral("partition.seed=3"), QStringLiteral("run.seed=2")}));
        const Outcome c =
            runSpec(specWith({QStringLiteral("model.name=logreg"), QStringLiteral("run.rounds=1"),
                              QStringLiteral("partition.seed=4"), QStringLiteral("run.seed=1")}));
        auto sizes = [](const Outcome &o) {
            std::vector<std::int64_t> v(10, -1);
            for (const auto &cl : o.collected.rounds.front().clients)
                v[std::size_t(cl.clientId)] = cl.trainSamples;
            return v;
        };
        QVERIFY(sizes(a) == sizes(b));
        QVERIFY(sizes(a) != sizes(c));
        QVERIFY(a.collected.model != b.collected.model);
    }

    // Stopped between evaluations: the final metrics are those of the stored model (the last complete round),
    // i.e. what a run that ends at that round reports.
    void stoppedRunMetricsDescribeStoredModel() {
        const Outcome stopped = runSpec(
            specWith({QStringLiteral("run.rounds=6"), QStringLiteral("run.eval_every=5"),
                      QStringLiteral("model.name=logreg")}),
            [](Run &run, Collector &c) { c.onRound = [&run](const RoundMetrics &) { run.requestStop(); }; });
        QCOMPARE(runStatusName(stopped.summary.status), QStringLiteral("stopped"));
        QCOMPARE(stopped.summary.roundsDone, 1);
        QVERIFY(!stopped.collected.rounds.front().evaluated);
        const Outcome one =
            runSpec(specWith({QStringLiteral("run.rounds=1"), QStringLiteral("model.name=logreg")}));
        QVERIFY(one.collected.model == stopped.collected.model);
        QVERIFY(stopped.summary.finalTestAccuracy);
        QCOMPARE(*stopped.summary.finalTestAccuracy, *one.summary.finalTestAccuracy);
        QCOMPARE(*stopped.summary.finalTestLoss, *one.summary.finalTestLoss);
    }

    // On a strongly non-IID split (two classes per client) a client's own model beats the global model on its
    // local test data: fine-tuning (run.personalize_steps), personal heads (FedPer), personal models (Ditto)
    // and personal batch norm (FedBN) all raise the mean personalized accuracy above the global one.
    void personalizationBeatsTheGlobalModelOnSkewedClients_data() {
        QTest::addColumn<QStringList>("sets");
        QTest::newRow("fedavg + fine-tuning") << QStringList{QStringLiteral("run.personalize_steps=5")};
        QTest::newRow("fedper") << QStringList{QStringLiteral("strategy.name=fedper")};
        QTest::newRow("ditto") << QStringList{QStringLiteral("strategy.name=ditto")};
        QTest::newRow("fedbn") << QStringList{QStringLiteral("strategy.name=fedbn"),
                                              QStringLiteral("model.name=cnn-lenet5-bn")};
    }
    void personalizationBeatsTheGlobalModelOnSkewedClients() {
        QFETCH(QStringList, sets);
        const Outcome o =
            runSpec(specWith(sets + QStringList{QStringLiteral("partition.name=classes-per-client"),
                                                QStringLiteral("clients.per_round=10")}));
        QCOMPARE(runStatusName(o.summary.status), QStringLiteral("finished"));
        const RoundMetrics &last = o.collected.rounds.back();
        double global = 0, personal = 0;
        int n = 0;
        for (const auto &c : last.clients) {
            QVERIFY(c.accuracy && c.personalAccuracy);
            global += *c.accuracy;
            personal += *c.personalAccuracy;
            ++n;
        }
        QCOMPARE(n, 10);
        qInfo("mean local accuracy: global model %.3f, personalized %.3f", global / n, personal / n);
        QVERIFY2(personal > global + 0.05 * n,
                 qPrintable(QStringLiteral("%1 vs %2").arg(personal / n).arg(global / n)));
    }

    void noPersonalAccuracyWithoutPersonalization() {
        const Outcome o =
            runSpec(specWith({QStringLiteral("model.name=logreg"), QStringLiteral("run.rounds=1")}));
        for (const auto &c : o.collected.rounds.back().clients)
            QVERIFY(!c.personalAccuracy);
    }
};

QTEST_GUILESS_MAIN(TestRun)
#include "test_run.moc"
