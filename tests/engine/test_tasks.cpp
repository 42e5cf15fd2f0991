// The value types of the round pipeline: ClientTask / ClientResult / RunState survive CBOR round trips and
// refuse what they did not write; client groups resolve to the sizes worked out by hand.
#include "run/RunState.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"
#include "train/ClientTask.h"

#include <QCborValue>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace fedwb;

namespace {

QByteArray floats(std::initializer_list<float> v) {
    return floatBytes(std::span<const float>(v.begin(), v.size()));
}

ClientTask sampleTask() {
    ClientTask t;
    t.runId = 42;
    t.round = 7;
    t.clientId = 3;
    t.group = QStringLiteral("phones");
    t.model = floats({1.5f, -2.25f, 0.f, 3e-8f});
    t.training.epochs = 3;
    t.training.batchSize = 64;
    t.training.optimizer = QStringLiteral("adam");
    t.training.lr = 0.0125;
    t.training.momentum = 0.9;
    t.training.nesterov = true;
    t.training.weightDecay = 1e-4;
    t.algorithm = QStringLiteral("fedprox");
    t.algorithmParams = QJsonObject{{QStringLiteral("mu"), 0.01}};
    t.behaviour = {QStringLiteral("label-flip"),
                   QJsonObject{{QStringLiteral("mapping"), QStringLiteral("0:9")}}};
    t.stages = {{QStringLiteral("norm-clip"), QJsonObject{{QStringLiteral("max_norm"), 2.0}}},
                {QStringLiteral("other"), {}}};
    t.payloadDown = floats({0.5f, 0.25f});
    t.clientState = QByteArray("\x00\x01\xff", 3);
    t.rngKey = 0xfedcba9876543210ull; // above 2^63: the bit pattern must survive a signed CBOR integer
    t.needStartLoss = true;
    t.spec = QJsonObject{{QStringLiteral("format"), 1}};
    return t;
}

ClientResult sampleResult() {
    ClientResult r;
    r.round = 7;
    r.clientId = 3;
    r.status = ClientStatus::Diverged;
    r.update = floats({-1.f, 2.f, 0.125f, 4.f});
    r.weight = 600;
    r.trainLoss = 0.75;
    r.startLoss = 2.5;
    r.steps = 19;
    r.payloadUp = floats({0.f, -0.5f});
    r.hasNewState = true;
    r.newState = QByteArray("state");
    r.computeSeconds = 1.25;
    r.bytesUp = 24;
    r.bytesDown = 40;
    return r;
}

QCborMap throughBytes(const QCborMap &m) {
    return QCborValue::fromCbor(QCborValue(m).toCbor()).toMap();
}

// Through CBOR bytes and back; nullopt (with a test failure) unless the value came back equal.
template <typename T> std::optional<T> roundTrip(const T &value) {
    QString error;
    const auto back = T::fromCbor(throughBytes(value.toCbor()), &error);
    if (!back) {
        qWarning("%s", qPrintable(error));
        return std::nullopt;
    }
    if (!(*back == value)) {
        qWarning("the value changed on the way");
        return std::nullopt;
    }
    return back;
}

} // namespace

class TestTasks : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { registerBuiltins(); }

    void taskRoundTrip() {
        const ClientTask t = sampleTask();
        const auto back = roundTrip(t);
        QVERIFY(back);
        QCOMPARE(back->rngKey, 0xfedcba9876543210ull);
        QCOMPARE(floatsOf(back->model)[1], -2.25f);
        QCOMPARE(back->stages.size(), 2);
        QCOMPARE(back->stages[0].params.value(QStringLiteral("max_norm")).toDouble(), 2.0);
        QCOMPARE(back->behaviour.name, QStringLiteral("label-flip"));
        QCOMPARE(back->behaviour.params.value(QStringLiteral("mapping")).toString(), QStringLiteral("0:9"));
    }

    // A task written before behaviours existed (no "behaviour" key) is an honest client's.
    void taskWithoutBehaviourIsHonest() {
        QCborMap old = sampleTask().toCbor();
        old.remove(QStringLiteral("behaviour"));
        QString error;
        const auto back = ClientTask::fromCbor(throughBytes(old), &error);
        QVERIFY2(back, qPrintable(error));
        QCOMPARE(back->behaviour, BehaviourRef{});
        QCOMPARE(back->behaviour.name, QStringLiteral("honest"));
    }

    void resultRoundTrip() {
        const auto back = roundTrip(sampleResult());
        QVERIFY(back);
        QCOMPARE(clientStatusName(back->status), QStringLiteral("diverged"));
    }

    void refusesWhatItDidNotWrite() {
        QString error;
        QVERIFY(!ClientTask::fromCbor(QCborMap{}, &error));
        QVERIFY(error.contains(QStringLiteral("version")));
        QCborMap newer = sampleTask().toCbor();
        newer.insert(QStringLiteral("v"), kClientTaskVersion + 1);
        QVERIFY(!ClientTask::fromCbor(newer, &error));
        QVERIFY2(error.contains(QStringLiteral("version %1").arg(kClientTaskVersion + 1)), qPrintable(error));
        // A result is not a task, and the other way round.
        QVERIFY(!ClientTask::fromCbor(sampleResult().toCbor(), &error));
        QVERIFY(!ClientResult::fromCbor(sampleTask().toCbor(), &error));
        // A model whose byte count is not a whole number of floats is malformed.
        QCborMap odd = sampleTask().toCbor();
        odd.insert(QStringLiteral("model"), QByteArray(7, 'x'));
        QVERIFY(!ClientTask::fromCbor(odd, &error));
        QCborMap badRound = sampleResult().toCbor();
        badRound.insert(QStringLiteral("round"), 0);
        QVERIFY(!ClientResult::fromCbor(badRound, &error));
    }

    void runStateRoundTrip() {
        RunState s;
        s.round = 5;
        s.parameterCount = 3;
        s.model = floats({1.f, 2.f, 3.f});
        s.strategy = QStringLiteral("scaffold");
        s.strategyState = QByteArray("server");
        s.clients.set(9, floats({0.5f}));
        s.clients.set(2, QByteArray("two"));
        s.bytesUp = 1234567890123;
        s.bytesDown = 7;
        s.lastTestAccuracy = 0.8125;
        QString error;
        const auto back = RunState::fromBytes(s.toBytes(), &error);
        QVERIFY2(back, qPrintable(error));
        QCOMPARE(back->round, 5);
        QCOMPARE(back->model, s.model);
        QCOMPARE(back->strategy, s.strategy);
        QCOMPARE(back->strategyState, s.strategyState);
        QCOMPARE(int(back->clients.size()), 2);
        QCOMPARE(back->clients.get(9), floats({0.5f}));
        QCOMPARE(back->clients.get(2), QByteArray("two"));
        QVERIFY(back->clients.get(3).isEmpty()); // clients without state take no memory
        QCOMPARE(back->bytesUp, s.bytesUp);
        QCOMPARE(*back->lastTestAccuracy, 0.8125);
        QVERIFY(!back->lastTestLoss);

        QVERIFY(!RunState::fromBytes(QByteArray("garbage"), &error));
        QVERIFY(!RunState::fromBytes(
            QCborValue(QCborMap{{QStringLiteral("kind"), QStringLiteral("x")}}).toCbor(), &error));
        RunState wrong = s;
        wrong.parameterCount = 4; // the model holds 3 floats
        QVERIFY(!RunState::fromBytes(wrong.toBytes(), &error));
        QVERIFY2(error.contains(QStringLiteral("parameter count")), qPrintable(error));
    }

    void groups_data() {
        QTest::addColumn<int>("count");
        QTest::addColumn<QByteArray>("groups");
        QTest::addColumn<QStringList>("names");
        QTest::addColumn<QList<int>>("sizes");
        QTest::newRow("default") << 7 << QByteArray("[]") << QStringList{QStringLiteral("clients")}
                                 << QList<int>{7};
        QTest::newRow("counts") << 10 << QByteArray(R"([{"name":"a","count":4},{"name":"b","count":6}])")
                                << QStringList{QStringLiteral("a"), QStringLiteral("b")} << QList<int>{4, 6};
        // 10 clients, 3 by count; 7 left for fractions 0.35 + 0.35 (= 0.7 of 10): 3.5 and 3.5 -> 4 and 3
        // (largest remainder; the tie goes to the first).
        QTest::newRow("count and fractions")
            << 10
            << QByteArray(
                   R"([{"name":"x","fraction":0.35},{"name":"y","count":3},{"name":"z","fraction":0.35}])")
            << QStringList{QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")}
            << QList<int>{4, 3, 3};
        // 3 clients, fractions 1/3 each: exactly 1 each.
        QTest::newRow("thirds")
            << 3
            << QByteArray(
                   R"([{"name":"p","fraction":0.3333333},{"name":"q","fraction":0.3333333},{"name":"r","fraction":0.3333334}])")
            << QStringList{QStringLiteral("p"), QStringLiteral("q"), QStringLiteral("r")}
            << QList<int>{1, 1, 1};
    }
    void groups() {
        QFETCH(int, count);
        QFETCH(QByteArray, groups);
        QFETCH(QStringList, names);
        QFETCH(QList<int>, sizes);
        QJsonObject raw{{QStringLiteral("format"), 1},
                        {QStringLiteral("clients"),
                         QJsonObject{{QStringLiteral("count"), count},
                                     {QStringLiteral("groups"), QJsonDocument::fromJson(groups).array()}}}};
        const auto parsed = FederationSpec::parse(raw);
        QVERIFY2(parsed.ok(), qPrintable(parsed.errorText()));
        const QList<ClientGroup> g = parsed.spec->groups();
        QCOMPARE(g.size(), names.size());
        int first = 0;
        for (qsizetype i = 0; i < g.size(); ++i) {
            QCOMPARE(g[i].name, names[i]);
            QCOMPARE(g[i].count, sizes[i]);
            QCOMPARE(g[i].firstClient, first);
            first += sizes[i];
        }
        QCOMPARE(first, count);
        QCOMPARE(parsed.spec->groupOf(count - 1), int(g.size()) - 1);
    }

    void groupErrors_data() {
        QTest::addColumn<QByteArray>("groups");
        QTest::addColumn<QString>("expected");
        QTest::newRow("counts short") << QByteArray(R"([{"name":"a","count":4}])") << "they must add up";
        QTest::newRow("fractions over")
            << QByteArray(R"([{"name":"a","fraction":0.8},{"name":"b","fraction":0.5}])")
            << "they must add up";
        QTest::newRow("both") << QByteArray(R"([{"name":"a","count":4,"fraction":0.6}])")
                              << "exactly one of count or fraction";
        QTest::newRow("duplicate") << QByteArray(R"([{"name":"a","count":5},{"name":"a","count":5}])")
                                   << "used twice";
        QTest::newRow("bad name") << QByteArray(R"([{"name":"a b","count":10}])")
                                  << "name \"a b\" is not allowed";
        QTest::newRow("unknown key") << QByteArray(R"([{"name":"a","count":10,"device":"gpu"}])")
                                     << "unknown key 'device'";
        QTest::newRow("epochs") << QByteArray(R"([{"name":"a","count":10,"epochs":0}])")
                                << "epochs 0 is not allowed";
        QTest::newRow("not a list") << QByteArray(R"({"name":"a"})") << "is not allowed";
    }
    void groupErrors() {
        QFETCH(QByteArray, groups);
        QFETCH(QString, expected);
        const QJsonDocument doc = QJsonDocument::fromJson(groups);
        QJsonObject raw{{QStringLiteral("format"), 1},
                        {QStringLiteral("clients"),
                         QJsonObject{{QStringLiteral("count"), 10},
                                     {QStringLiteral("groups"),
                                      doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object())}}}};
        const auto parsed = FederationSpec::parse(raw);
        QVERIFY(!parsed.ok());
        QCOMPARE(parsed.errors.front().path, QStringLiteral("clients.groups"));
        QVERIFY2(parsed.errors.front().message.contains(expected), qPrintable(parsed.errors.front().message));
    }

    void seedsDefaultToRunSeed() {
        const auto a = FederationSpec::parse(
            QJsonObject{{QStringLiteral("format"), 1},
                        {QStringLiteral("run"), QJsonObject{{QStringLiteral("seed"), 99}}}});
        QVERIFY(a.ok());
        QCOMPARE(a.spec->dataSeed(), quint64(99));
        QCOMPARE(a.spec->partitionSeed(), quint64(99));
        const auto b = FederationSpec::parse(
            QJsonObject{{QStringLiteral("format"), 1},
                        {QStringLiteral("run"), QJsonObject{{QStringLiteral("seed"), 99}}},
                        {QStringLiteral("partition"), QJsonObject{{QStringLiteral("seed"), 5}}}});
        QVERIFY(b.ok());
        QCOMPARE(b.spec->partitionSeed(), quint64(5));
        QCOMPARE(b.spec->dataSeed(), quint64(99));
    }
};

QTEST_GUILESS_MAIN(TestTasks)
#include "test_tasks.moc"
