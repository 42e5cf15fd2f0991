// Attacks in local training and in the round loop, on a Fashion-MNIST subset: the labels a label-flipping
// client trains on, the attack success rate of a hand-made model, every attack reproducible whatever
// run.threads, and the outcomes: 20% sign flippers break FedAvg but not median or Krum; a boosted
// backdoor succeeds against FedAvg and much less against norm-bounded averaging.
#include "adversary/poisoning_p.h"
#include "data/dataset_p.h"
#include "run/Run.h"
#include "run/local_executor_p.h"
#include "spec/Registry.h"

#include "test_support.h"

#include <QJsonArray>
#include <QtTest>

#include <cmath>

using namespace fedwb;

namespace {

QJsonObject workspace(int trainLimit, int testLimit) {
    return QJsonObject{
        {QStringLiteral("format"), 1},
        {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("fashion-mnist")},
                                                {QStringLiteral("train_limit"), trainLimit},
                                                {QStringLiteral("test_limit"), testLimit}}},
        {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("iid")}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
        {QStringLiteral("training"), QJsonObject{{QStringLiteral("lr"), 0.05}}},
        {QStringLiteral("run"), QJsonObject{{QStringLiteral("seed"), 1}, {QStringLiteral("threads"), 2}}}};
}

// `count` clients, all selected every round: `honest` honest ones (none: no such group), then the rest with
// `behaviour`.
QJsonObject clients(int count, int honest, const QJsonObject &behaviour) {
    QJsonArray groups;
    if (honest > 0)
        groups.append(QJsonObject{{QStringLiteral("name"), QStringLiteral("honest")},
                                  {QStringLiteral("count"), honest}});
    if (honest < count)
        groups.append(QJsonObject{{QStringLiteral("name"), QStringLiteral("attackers")},
                                  {QStringLiteral("count"), count - honest},
                                  {QStringLiteral("behaviour"), behaviour}});
    return {{QStringLiteral("count"), count},
            {QStringLiteral("per_round"), count},
            {QStringLiteral("groups"), groups}};
}

struct Outcome : RunObserver {
    std::vector<RoundMetrics> rounds;
    QByteArray model;
    RunSummary summary;
    void roundFinished(const RoundMetrics &m) override { rounds.push_back(m); }
    void finalModel(const QByteArray &bytes, std::int64_t) override { model = bytes; }
};

std::unique_ptr<Outcome> run(const FederationSpec &spec) {
    auto o = std::make_unique<Outcome>();
    Run r(spec);
    r.addObserver(o.get());
    o->summary = r.exec();
    if (o->summary.status != RunStatus::Finished) qFatal("run failed: %s", qPrintable(o->summary.message));
    return o;
}

FederationSpec specOf(QJsonObject raw, const QJsonObject &population, const QStringList &sets) {
    raw.insert(QStringLiteral("clients"), population);
    return test::specWith(raw, sets);
}

// A client algorithm that records the labels local training is about to see.
std::vector<std::int64_t> g_seenLabels;
struct CountLabels : ClientAlgorithm {
    void begin(LocalContext &ctx) override {
        g_seenLabels.assign(10, 0);
        const auto y = ctx.data.y->accessor<std::int64_t, 1>();
        for (std::int64_t i : *ctx.data.train)
            ++g_seenLabels[std::size_t(y[i])];
    }
};

} // namespace

class TestAttacks : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        registerBuiltins();
        auto c =
            ComponentSchema::make(QStringLiteral("client-algorithm"), QStringLiteral("test-count-labels"),
                                  QStringLiteral("Count labels"), QStringLiteral("Test only."));
        c.factory = ClientAlgorithmFactory([](const QJsonObject &) -> std::unique_ptr<ClientAlgorithm> {
            return std::make_unique<CountLabels>();
        });
        Registry::global().addComponent(std::move(c));
    }

    // The labels a label-flipping client's training sees are its shard's labels under the mapping, counted
    // class by class; the shared dataset stays clean; a mapping that changes nothing trains bitwise like an
    // honest client (the poisoned copy keeps the shard's sample order).
    void labelFlipTrainsOnMappedLabels() {
        const FederationSpec spec = specOf(workspace(2000, 100), clients(4, 4, {}), {});
        const auto data = loadDataset(spec);
        const auto shards = partitionFor(spec, *data);
        const ClientShard &shard = shards[1];
        std::vector<std::int64_t> own(10, 0), mapped(10, 0);
        const int map[10] = {9, 8, 7, 3, 4, 5, 6, 7, 8, 0}; // "0:9,1:8,2:7,9:0"
        for (std::int64_t i : shard.train) {
            ++own[std::size_t(data->trainLabels[std::size_t(i)])];
            ++mapped[std::size_t(map[data->trainLabels[std::size_t(i)]])];
        }
        const torch::Tensor labelsBefore = data->trainY.clone();

        ClientTrainer trainer(QStringLiteral("logreg"), data->facts);
        ClientTask task;
        task.round = 1;
        task.clientId = 1;
        task.model = tensorBytes(FlatModel(QStringLiteral("logreg"), data->facts, {}, 1).flat());
        task.rngKey = 5;
        const LocalData local = localDataOf(*data, shard);
        const auto train = [&](const QString &algorithm, const QString &mapping) {
            ClientTask t = task;
            t.algorithm = algorithm;
            if (!mapping.isEmpty())
                t.behaviour = {QStringLiteral("label-flip"),
                               QJsonObject{{QStringLiteral("mapping"), mapping}}};
            return trainer.run(t, local, nullptr);
        };
        train(QStringLiteral("test-count-labels"), QStringLiteral("0:9,1:8,2:7,9:0"));
        QCOMPARE(g_seenLabels, mapped);
        train(QStringLiteral("test-count-labels"), {});
        QCOMPARE(g_seenLabels, own);
        QVERIFY(torch::equal(data->trainY, labelsBefore));
        const ClientResult honest = train(QStringLiteral("sgd"), {});
        QCOMPARE(train(QStringLiteral("sgd"), QStringLiteral("3:3")).update, honest.update);
        QVERIFY(train(QStringLiteral("sgd"), QStringLiteral("reverse")).update != honest.update);
    }

    // A hand-made logistic regression: the target class 2 scores x[783] + x[406] (the bottom-right pixel,
    // inside the 2 x 2 trigger, plus the centre pixel), class 5 scores 2.5, every other class 0. A triggered
    // image goes to class 2 exactly when stored(1) + x[406] > 2.5; the share of such images among the test
    // images of other classes is counted here from the test set itself.
    void attackSuccessRateOfHandMadeModel() {
        const FederationSpec spec = specOf(workspace(1000, 600), clients(2, 2, {}), {});
        const auto data = loadDataset(spec);
        BackdoorTrigger trigger;
        trigger.targetClass = 2;
        trigger.size = 2;
        trigger.value = 1.0;
        const TriggeredSet set = triggeredTestSet(*data, trigger);

        const float stored = (1.0f - data->pixelOffset) / data->pixelScale;
        std::int64_t others = 0, expected = 0;
        const torch::Tensor rows = data->testX.reshape({data->testX.size(0), 784});
        const auto x = rows.accessor<float, 2>();
        const auto y = data->testY.accessor<std::int64_t, 1>();
        for (std::int64_t i = 0; i < data->testY.size(0); ++i) {
            if (y[i] == 2) continue;
            ++others;
            if (stored + x[i][406] > 2.5f) ++expected;
        }
        QCOMPARE(set.x.size(0), others);
        QVERIFY(expected > 20 && expected < others - 20); // neither none nor all: the model decides

        FlatModel model(QStringLiteral("logreg"), data->facts);
        torch::Tensor flat = torch::zeros({model.parameterCount()});
        for (const ModelSegment &s : model.layout().segments) {
            if (s.name == QLatin1String("fc.weight")) {
                flat[s.offset + 2 * 784 + 783] = 1.0f;
                flat[s.offset + 2 * 784 + 406] = 1.0f;
            }
            if (s.name == QLatin1String("fc.bias")) flat[s.offset + 5] = 2.5f;
        }
        std::atomic<bool> stop{false};
        LocalExecutor executor(data, partitionFor(spec, *data), QStringLiteral("logreg"), {}, 2, &stop);
        const EvalResult r = executor.evaluateSet(tensorBytes(flat), set.x, set.y);
        QCOMPARE(r.count, others);
        QCOMPARE(r.correct, expected);
        qInfo("hand-made model: %lld of %lld triggered images go to the target", (long long)expected,
              (long long)others);
    }

    // Every attack is keyed by (seed, round, client): the same model for any run.threads, and not the model
    // of an all-honest federation.
    void attacksAreReproducibleWhateverThreads_data() {
        QTest::addColumn<QJsonObject>("behaviour");
        const auto b = [](const char *name, QJsonObject params = {}) {
            params.insert(QStringLiteral("name"), QLatin1String(name));
            return params;
        };
        QTest::newRow("sign-flip") << b("sign-flip");
        QTest::newRow("scale") << b("scale", {{QStringLiteral("factor"), 3}});
        QTest::newRow("gaussian-noise") << b("gaussian-noise", {{QStringLiteral("std"), 0.01}});
        QTest::newRow("alie") << b("alie", {{QStringLiteral("z"), 1}});
        QTest::newRow("label-flip") << b("label-flip");
        QTest::newRow("backdoor") << b("backdoor", {{QStringLiteral("boost"), 2}});
    }
    void attacksAreReproducibleWhateverThreads() {
        QFETCH(QJsonObject, behaviour);
        const QStringList sets{QStringLiteral("run.rounds=2")};
        const auto attacked = [&](int threads) {
            return run(specOf(workspace(2000, 500), clients(6, 4, behaviour),
                              sets + QStringList{QStringLiteral("run.threads=%1").arg(threads)}));
        };
        const auto one = attacked(1), three = attacked(3);
        QVERIFY(one->model == three->model); // bitwise
        QCOMPARE(one->rounds.back().testAccuracy, three->rounds.back().testAccuracy);
        const auto honest = run(specOf(workspace(2000, 500), clients(6, 6, {}), sets));
        QVERIFY(one->model != honest->model);
        // Only a backdoor has an attack success rate.
        const bool backdoor = behaviour.value(QStringLiteral("name")) == QLatin1String("backdoor");
        QCOMPARE(std::isfinite(one->rounds.back().asr), backdoor);
        QVERIFY(std::isnan(honest->rounds.back().asr));
    }

    // ALIE's clients craft their updates after training, then run the client stages they held back: under
    // local DP with clip_norm 0.01 (and negligible noise) every crafted update reaches the server clipped, so
    // the global model moves by at most 0.01; without local DP it moves far more.
    void alieUpdatesRunTheClientStagesAfterCrafting() {
        const QJsonObject alie{{QStringLiteral("name"), QStringLiteral("alie")}, {QStringLiteral("z"), 1}};
        const auto moved = [&](const QStringList &sets) {
            const FederationSpec spec = specOf(workspace(2000, 500), clients(4, 0, alie),
                                               sets + QStringList{QStringLiteral("run.rounds=1")});
            const auto o = run(spec);
            const auto data = loadDataset(spec);
            FlatModel init(QStringLiteral("logreg"), data->facts, spec.section(QStringLiteral("model")),
                           spec.seed());
            return (floatTensor(o->model) - init.flat()).norm().item<double>();
        };
        const double clipped =
            moved({QStringLiteral("privacy.mode=local"), QStringLiteral("privacy.clip_norm=0.01"),
                   QStringLiteral("privacy.noise_multiplier=1e-6")});
        const double free = moved({});
        qInfo("global model moved by %.6g with local DP (clip 0.01), %.6g without", clipped, free);
        QVERIFY2(clipped <= 0.01 * (1 + 1e-3), qPrintable(QString::number(clipped, 'g', 9)));
        QVERIFY2(free > 0.1, qPrintable(QString::number(free, 'g', 9)));
    }

    // 2 of 10 clients send -5 x their update. FedAvg's mean then points against the honest direction and
    // accuracy collapses; coordinate-wise median and Krum (f = 2) ignore the flipped updates and end within
    // a few points of the clean federation.
    void signFlippersBreakFedAvgButNotMedianOrKrum() {
        const QJsonObject flip{{QStringLiteral("name"), QStringLiteral("sign-flip")},
                               {QStringLiteral("scale"), 5}};
        const QStringList sets{QStringLiteral("run.rounds=20"), QStringLiteral("run.eval_every=20"),
                               QStringLiteral("training.lr_decay=0.9")};
        const auto accuracy = [&](int honest, const QString &strategy) {
            return run(specOf(workspace(12000, 2000), clients(10, honest, flip),
                              sets + QStringList{QStringLiteral("strategy.name=") + strategy,
                                                 QStringLiteral("strategy.byzantine=2")}))
                ->summary.finalTestAccuracy.value();
        };
        const double clean = accuracy(10, QStringLiteral("fedavg"));
        const double fedavg = accuracy(8, QStringLiteral("fedavg"));
        const double median = accuracy(8, QStringLiteral("median"));
        const double krum = accuracy(8, QStringLiteral("krum"));
        qInfo("test accuracy after 20 rounds: clean fedavg %.4f; with 20%% sign flippers (scale 5): fedavg "
              "%.4f, median %.4f, krum %.4f",
              clean, fedavg, median, krum);
        QVERIFY2(clean > 0.78, qPrintable(QString::number(clean)));
        QVERIFY2(fedavg < 0.3, qPrintable(QString::number(fedavg))); // 10 classes: chance is 0.1
        QVERIFY2(clean - median < 0.03, qPrintable(QString::number(median)));
        QVERIFY2(clean - krum < 0.04, qPrintable(QString::number(krum)));
    }

    // 1 of 20 clients plants a 4 x 4 trigger (target class 0) in half its images and boosts its update 10x
    // (model replacement). Against FedAvg nearly every triggered image goes to the target; norm-bounded
    // averaging (max_norm 1) clips the boosted update and the success rate stays far lower. Clean accuracy
    // hardly changes either way: the backdoor hides.
    void backdoorSucceedsAgainstFedAvgLessAgainstNormBounded() {
        const auto backdoor = [](double fraction) {
            return QJsonObject{{QStringLiteral("name"), QStringLiteral("backdoor")},
                               {QStringLiteral("target_class"), 0},
                               {QStringLiteral("trigger_size"), 4},
                               {QStringLiteral("poison_fraction"), fraction},
                               {QStringLiteral("boost"), 10}};
        };
        const QStringList sets{QStringLiteral("run.rounds=15"), QStringLiteral("run.eval_every=5"),
                               QStringLiteral("strategy.max_norm=1")};
        const auto attacked = [&](double fraction, const QString &strategy) {
            return run(specOf(workspace(12000, 2000), clients(20, 19, backdoor(fraction)),
                              sets + QStringList{QStringLiteral("strategy.name=") + strategy}));
        };
        const auto fedavg = attacked(0.5, QStringLiteral("fedavg"));
        const auto bounded = attacked(0.5, QStringLiteral("norm-bounded"));
        const auto triggerOnly =
            attacked(0.0, QStringLiteral("fedavg")); // the trigger alone, nothing planted
        const double asrFedavg = fedavg->summary.finalAsr.value(),
                     asrBounded = bounded->summary.finalAsr.value();
        const double baseline = triggerOnly->summary.finalAsr.value();
        qInfo("after 15 rounds, 1 of 20 clients with a boosted backdoor: attack success rate fedavg %.4f "
              "(accuracy %.4f), norm-bounded %.4f (accuracy %.4f); trigger without poisoning %.4f",
              asrFedavg, *fedavg->summary.finalTestAccuracy, asrBounded, *bounded->summary.finalTestAccuracy,
              baseline);
        QVERIFY2(asrFedavg > 0.8, qPrintable(QString::number(asrFedavg)));
        QVERIFY2(asrBounded < asrFedavg - 0.3, qPrintable(QString::number(asrBounded)));
        QVERIFY2(baseline < 0.1, qPrintable(QString::number(baseline)));
        QVERIFY(*fedavg->summary.finalTestAccuracy > 0.75 && *bounded->summary.finalTestAccuracy > 0.75);
        // Measured on evaluation rounds only; the last round's is the summary's.
        QVERIFY(std::isnan(fedavg->rounds[0].asr));
        QVERIFY(std::isfinite(fedavg->rounds[4].asr));
        QCOMPARE(fedavg->rounds.back().asr, asrFedavg);
    }
};

QTEST_GUILESS_MAIN(TestAttacks)
#include "test_attacks.moc"
