// The round loop end to end: a short real federation on a Fashion-MNIST subset, determinism across thread
// counts, evaluation cadence, stopping, failures reported with the workspace key, and recording into a store.
#include "run/Run.h"
#include "run/StoreRecorder.h"
#include "spec/Registry.h"
#include "store/RunStore.h"

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
    QJsonObject raw = baseWorkspace();
    for (const QString &s : sets) {
        QString error;
        if (!FederationSpec::applyOverride(raw, s, &error)) qFatal("%s", qPrintable(error));
    }
    auto parsed = FederationSpec::parse(raw);
    if (!parsed.ok()) qFatal("%s", qPrintable(parsed.errorText()));
    return *parsed.spec;
}

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
        QTest::newRow("diverging") << QStringList{QStringLiteral("training.lr=10")} << "training.lr";
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
};

QTEST_GUILESS_MAIN(TestRun)
#include "test_run.moc"
