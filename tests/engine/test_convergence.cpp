// Strategies against closed forms on a federated least-squares problem (the "quadratic" dataset): the global
// optimum is the least-squares solution over all clients' training data, solved here with plain double
// arithmetic (normal equations, Gaussian elimination), independently of the engine.
#include "data/dataset_p.h"
#include "model/model_p.h"
#include "run/Run.h"
#include "spec/Registry.h"

#include "test_support.h"

#include <QJsonArray>
#include <QtTest>

#include <cmath>

using namespace fedwb;

namespace {

constexpr int kFeatures = 5;

FederationSpec spec(const QStringList &sets) {
    QJsonObject raw{
        {QStringLiteral("format"), 1},
        {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("quadratic")},
                                                {QStringLiteral("features"), kFeatures},
                                                {QStringLiteral("samples_per_client"), 100}}},
        {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
        {QStringLiteral("clients"),
         QJsonObject{{QStringLiteral("count"), 6}, {QStringLiteral("per_round"), 6}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
        // Full-batch gradient descent: one step per local epoch.
        {QStringLiteral("training"),
         QJsonObject{{QStringLiteral("batch_size"), 1000}, {QStringLiteral("lr"), 0.05}}},
        {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), 300},
                                            {QStringLiteral("eval_every"), 1000},
                                            {QStringLiteral("threads"), 2},
                                            {QStringLiteral("seed"), 11}}}};
    return test::specWith(raw, sets);
}

// The least-squares optimum [w_1 .. w_F, b] over every client's training rows (sample-weighted global
// objective: sum_k n_k f_k / sum_k n_k is the pooled mean squared error).
std::vector<double> optimum(const FederationSpec &s) {
    const auto data = loadDataset(s);
    const auto shards = partitionFor(s, *data);
    const int n = kFeatures + 1;
    std::vector<std::vector<double>> a(n, std::vector<double>(n + 1, 0.0)); // [X^T X | X^T y]
    const auto x = data->trainX.accessor<float, 2>();
    const auto y = data->trainY.accessor<float, 1>();
    for (const ClientShard &shard : shards)
        for (std::int64_t i : shard.train) {
            double row[kFeatures + 1];
            for (int j = 0; j < kFeatures; ++j)
                row[j] = x[i][j];
            row[kFeatures] = 1.0;
            for (int r = 0; r < n; ++r) {
                for (int c = 0; c < n; ++c)
                    a[r][c] += row[r] * row[c];
                a[r][n] += row[r] * double(y[i]);
            }
        }
    for (int col = 0; col < n; ++col) { // Gaussian elimination with partial pivoting
        int pivot = col;
        for (int r = col + 1; r < n; ++r)
            if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
        std::swap(a[col], a[pivot]);
        for (int r = 0; r < n; ++r) {
            if (r == col) continue;
            const double f = a[r][col] / a[col][col];
            for (int c = col; c <= n; ++c)
                a[r][c] -= f * a[col][c];
        }
    }
    std::vector<double> w(n);
    for (int r = 0; r < n; ++r)
        w[r] = a[r][n] / a[r][r];
    return w;
}

struct Final : RunObserver {
    QByteArray model;
    void finalModel(const QByteArray &bytes, std::int64_t) override { model = bytes; }
};

// Euclidean distance of a run's final model from `target`.
double distanceAfterRun(const FederationSpec &s, const std::vector<double> &target) {
    Run run(s);
    Final f;
    run.addObserver(&f);
    const RunSummary summary = run.exec();
    if (summary.status != RunStatus::Finished) qFatal("run failed: %s", qPrintable(summary.message));
    const float *w = reinterpret_cast<const float *>(f.model.constData());
    double d = 0;
    for (std::size_t i = 0; i < target.size(); ++i)
        d += (double(w[i]) - target[i]) * (double(w[i]) - target[i]);
    return std::sqrt(d);
}

QString describe(double d) {
    return QString::number(d, 'g', 4);
}

} // namespace

class TestConvergence : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { registerBuiltins(); }

    // 10 local steps on clients with different curvatures: FedAvg's fixed point is not the optimum (client
    // drift); SCAFFOLD's control variates remove the drift.
    void scaffoldRemovesClientDrift() {
        const QStringList common{QStringLiteral("training.epochs=10"),
                                 QStringLiteral("dataset.hessian_skew=1")};
        const auto target = optimum(spec(common));
        const double fedavg = distanceAfterRun(spec(common), target);
        const double scaffold =
            distanceAfterRun(spec(common + QStringList{QStringLiteral("strategy.name=scaffold")}), target);
        qInfo("distance from the optimum: fedavg %.3g, scaffold %.3g", fedavg, scaffold);
        QVERIFY2(scaffold < 1e-3,
                 qPrintable(QStringLiteral("scaffold is %1 from the optimum").arg(describe(scaffold))));
        QVERIFY2(fedavg > 0.05,
                 qPrintable(QStringLiteral("fedavg is only %1 from the optimum").arg(describe(fedavg))));
    }

    // Unequal local steps (groups of 1 and 8 epochs) on clients of equal curvature: FedAvg minimizes the
    // objective weighted by local steps and ends elsewhere; FedNova normalizes the steps and reaches the
    // optimum.
    void fedNovaNormalizesUnequalSteps() {
        // Many samples per client so that equal curvature holds closely for the sampled data too.
        const QStringList common{QStringLiteral("dataset.hessian_skew=0"),
                                 QStringLiteral("dataset.samples_per_client=2000"),
                                 QStringLiteral("training.batch_size=5000"),
                                 QStringLiteral("training.lr=0.004"), QStringLiteral("run.rounds=1000")};
        auto withGroups = [&](const QStringList &sets) {
            FederationSpec s = spec(common + sets);
            QJsonObject raw = s.json();
            QJsonObject clients = raw.value(QStringLiteral("clients")).toObject();
            clients.insert(QStringLiteral("groups"),
                           QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("slow")},
                                                  {QStringLiteral("count"), 3}},
                                      QJsonObject{{QStringLiteral("name"), QStringLiteral("fast")},
                                                  {QStringLiteral("count"), 3},
                                                  {QStringLiteral("epochs"), 8}}});
            raw.insert(QStringLiteral("clients"), clients);
            return test::specWith(raw, {});
        };
        const auto target = optimum(spec(common));
        const double fedavg = distanceAfterRun(withGroups({}), target);
        const double fednova =
            distanceAfterRun(withGroups({QStringLiteral("strategy.name=fednova")}), target);
        qInfo("distance from the optimum: fedavg %.3g, fednova %.3g", fedavg, fednova);
        QVERIFY2(fednova < 0.02,
                 qPrintable(QStringLiteral("fednova is %1 from the optimum").arg(describe(fednova))));
        QVERIFY2(
            fedavg > 5 * fednova,
            qPrintable(QStringLiteral("fedavg %1 vs fednova %2").arg(describe(fedavg), describe(fednova))));
    }

    // A large proximal weight keeps each round's local model next to the global one. With lr * mu = 1 each
    // local step lands at w_global - lr * grad f(w): the local model never leaves a ball of radius
    // lr * |grad f| around the global one, while FedAvg's 20 steps move about 20 times as far.
    void fedProxWithLargeMuStaysNearTheGlobalModel() {
        const QStringList common{QStringLiteral("run.rounds=1"), QStringLiteral("training.epochs=20"),
                                 QStringLiteral("training.lr=0.01")};
        // The global model before round 1 is the keyed initialization: compare each run's distance from it.
        FlatModel init(QStringLiteral("logreg"), DatasetFacts{1, 0, 0, 0, kFeatures, false, true, true}, {},
                       11);
        std::vector<double> w0(std::size_t(init.parameterCount()));
        for (std::size_t i = 0; i < w0.size(); ++i)
            w0[i] = double(init.flat().data_ptr<float>()[i]);
        const double fedavg = distanceAfterRun(spec(common), w0);
        const double prox =
            distanceAfterRun(spec(common + QStringList{QStringLiteral("strategy.name=fedprox"),
                                                       QStringLiteral("strategy.mu=100")}),
                             w0);
        qInfo("moved in one round: fedavg %.3g, fedprox (mu 100) %.3g", fedavg, prox);
        QVERIFY2(fedavg > 0.1, qPrintable(describe(fedavg)));
        QVERIFY2(
            prox < 0.1 * fedavg,
            qPrintable(QStringLiteral("fedprox moved %1, fedavg %2").arg(describe(prox), describe(fedavg))));
    }

    // A regression run measures loss only: accuracy and fairness are absent (NaN / nullopt), never 0.
    void regressionHasNoAccuracy() {
        struct Rounds : RunObserver {
            std::vector<RoundMetrics> all;
            void roundFinished(const RoundMetrics &m) override { all.push_back(m); }
        } rounds;
        Run run(spec({QStringLiteral("run.rounds=2"), QStringLiteral("run.eval_every=1")}));
        run.addObserver(&rounds);
        const RunSummary summary = run.exec();
        QCOMPARE(summary.status, RunStatus::Finished);
        QVERIFY(!summary.finalTestAccuracy);
        QVERIFY(summary.finalTestLoss && std::isfinite(*summary.finalTestLoss));
        for (const RoundMetrics &m : rounds.all) {
            QVERIFY(m.evaluated);
            QVERIFY(std::isnan(m.testAccuracy) && std::isnan(m.fairness.mean) && std::isnan(m.fairness.jain));
            QVERIFY(std::isfinite(m.testLoss));
            for (const auto &c : m.clients) {
                QVERIFY(!c.accuracy);
                QVERIFY(c.loss);
            }
        }
    }

    // q-FedAvg (q = 1) raises the worst-10% client accuracy over FedAvg on a skewed federation: Synthetic(1,
    // 1) with lognormal client sizes, where sample-weighted FedAvg serves the few big clients.
    void qFedAvgRaisesTheWorstClients() {
        auto worst10 = [](const QStringList &sets) {
            QJsonObject raw{
                {QStringLiteral("format"), 1},
                {QStringLiteral("dataset"),
                 QJsonObject{{QStringLiteral("name"), QStringLiteral("synthetic")}}},
                {QStringLiteral("partition"),
                 QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
                {QStringLiteral("clients"),
                 QJsonObject{{QStringLiteral("count"), 30}, {QStringLiteral("per_round"), 10}}},
                {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
                {QStringLiteral("training"),
                 QJsonObject{{QStringLiteral("lr"), 0.01}, {QStringLiteral("batch_size"), 10}}},
                {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), 100},
                                                    {QStringLiteral("eval_every"), 100},
                                                    {QStringLiteral("threads"), 2},
                                                    {QStringLiteral("seed"), 1}}}};
            const FederationSpec spec = test::specWith(raw, sets);
            struct Last : RunObserver {
                Fairness fairness;
                void roundFinished(const RoundMetrics &m) override {
                    if (m.evaluated) fairness = m.fairness;
                }
            } last;
            Run run(spec);
            run.addObserver(&last);
            if (run.exec().status != RunStatus::Finished) qFatal("run failed");
            return last.fairness.worst10;
        };
        const double fedavg = worst10({});
        const double qfedavg =
            worst10({QStringLiteral("strategy.name=qfedavg"), QStringLiteral("strategy.q=1")});
        qInfo("worst-10%% client accuracy: fedavg %.3f, q-fedavg (q = 1) %.3f", fedavg, qfedavg);
        QVERIFY2(qfedavg > fedavg + 0.1, qPrintable(QStringLiteral("%1 vs %2").arg(qfedavg).arg(fedavg)));
    }
};

QTEST_GUILESS_MAIN(TestConvergence)
#include "test_convergence.moc"
