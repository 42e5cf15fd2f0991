// Remote execution on loopback through the real programs: fedwb-cli run --executor remote as the coordinator,
// fedwb-worker processes as workers. The reference for every result is the same workspace run locally: the
// final model must be equal byte for byte (same machine, same build).
#include "../idx_files.h"
#include "cli_support.h"
#include "remote/Protocol.h"
#include "store/RunStore.h"

#include <QCborMap>
#include <QDir>
#include <QElapsedTimer>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <zmq.hpp>

#include <memory>

#include <csignal>

using namespace fedwb;
using namespace fedwb::test;

namespace {

// A started process whose output is collected as it comes (so a test can wait for a line).
struct Proc {
    std::unique_ptr<QProcess> p = std::make_unique<QProcess>();
    QString out, err;
    void pump() {
        out += QString::fromUtf8(p->readAllStandardOutput());
        err += QString::fromUtf8(p->readAllStandardError());
    }
    // Waits until stdout or stderr contains `needle` (true) or timeoutMs passes (false).
    bool waitFor(const QString &needle, int timeoutMs = 60000) {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs) {
            pump();
            if (out.contains(needle) || err.contains(needle)) return true;
            if (p->state() == QProcess::NotRunning) return false;
            p->waitForReadyRead(50);
        }
        return false;
    }
    int finish(int timeoutMs = 120000) {
        if (!p->waitForFinished(timeoutMs)) {
            p->kill();
            p->waitForFinished();
        }
        pump();
        return p->exitStatus() == QProcess::NormalExit ? p->exitCode() : -1;
    }
    ~Proc() {
        if (p->state() != QProcess::NotRunning) {
            p->kill();
            p->waitForFinished();
        }
    }
};

} // namespace

class TestRemote : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_dir;
    int m_db = 0;

    QString path(const QString &name) const { return m_dir + QLatin1Char('/') + name; }

    void writeData(const QString &folder, bool altered) {
        const QDir d(path(folder));
        QVERIFY(QDir().mkpath(d.path()));
        QByteArray train = idxImages(2400);
        if (altered) train[2000] = char(train[2000] ^ 1); // one pixel differs
        writeGz(d.filePath(QStringLiteral("train-images-idx3-ubyte.gz")), train);
        writeGz(d.filePath(QStringLiteral("train-labels-idx1-ubyte.gz")), idxLabels(2400));
        writeGz(d.filePath(QStringLiteral("t10k-images-idx3-ubyte.gz")), idxImages(200));
        writeGz(d.filePath(QStringLiteral("t10k-labels-idx1-ubyte.gz")), idxLabels(200));
    }
    // LeNet-5 on tiny Fashion-MNIST files: 6 clients, 4 a round; a task takes a few tenths of a second, so a
    // worker can be killed while it holds one.
    QString workspace(const QString &name, int epochs, bool portable = false,
                      const QString &clients = QStringLiteral(R"({"count": 6, "per_round": 4})")) {
        const QString file = path(name + QStringLiteral(".fedwb"));
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly)) return {};
        f.write(QStringLiteral(R"({"format": 1, "name": "remote test",
 "dataset": {"name": "fashion-mnist", "path": "%1"},
 "partition": {"name": "iid"},
 "clients": %4,
 "model": {"name": "cnn-lenet5"},
 "training": {"batch_size": 16, "epochs": %2, "momentum": 0.9},
 "run": {"rounds": 4, "seed": 5, "threads": 1, "portable": %3}})")
                    .arg(path(QStringLiteral("data-a")))
                    .arg(epochs)
                    .arg(portable ? "true" : "false")
                    .arg(clients)
                    .toUtf8());
        return file;
    }
    // Replaces the model (and, when given, the strategy) of a workspace file written by workspace().
    static bool setModel(const QString &file, const QString &model, const QString &strategy) {
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly)) return false;
        QJsonObject ws = QJsonDocument::fromJson(f.readAll()).object();
        f.close();
        ws.insert(QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), model}});
        if (!strategy.isEmpty())
            ws.insert(QStringLiteral("strategy"), QJsonObject{{QStringLiteral("name"), strategy}});
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
        return f.write(QJsonDocument(ws).toJson()) > 0;
    }
    QString newDb() { return path(QStringLiteral("run-%1.sqlite").arg(++m_db)); }
    static QByteArray finalModel(const QString &db) {
        RunStore store(db, RunStore::Access::ReadOnly);
        const auto m = store.model(1);
        return m ? *m : QByteArray();
    }
    // The reference: the workspace run on this machine.
    QByteArray localModel(const QString &ws) {
        const QString db = newDb();
        const Result r = cli({QStringLiteral("run"), ws, QStringLiteral("--db"), db});
        if (r.exitCode != 0) qWarning("%s", qPrintable(r.err));
        return finalModel(db);
    }
    // fedwb-cli run --executor remote on a free loopback port; returns once it listens (*endpoint).
    std::unique_ptr<Proc> coordinator(const QString &ws, const QString &db, QStringList extra,
                                      QString *endpoint) {
        auto c = std::make_unique<Proc>();
        c->p->start(QStringLiteral(FEDWB_CLI),
                    QStringList{QStringLiteral("run"), ws, QStringLiteral("--db"), db,
                                QStringLiteral("--executor"), QStringLiteral("remote"),
                                QStringLiteral("--bind"), QStringLiteral("tcp://127.0.0.1:*")} +
                        extra);
        if (!c->waitFor(QStringLiteral("coordinator listening on "), 30000)) return c;
        const auto m =
            QRegularExpression(QStringLiteral("listening on (tcp://[0-9.]+:[0-9]+)")).match(c->err);
        *endpoint = m.captured(1);
        return c;
    }
    // The workspace's local reference model, and a coordinator for it started with `options` (listening).
    struct Federation {
        QByteArray local;
        QString db, endpoint;
        std::unique_ptr<Proc> c;
    };
    Federation federation(const QString &ws, const QStringList &options) {
        Federation f;
        f.local = localModel(ws);
        f.db = newDb();
        f.c = coordinator(ws, f.db, options, &f.endpoint);
        return f;
    }
    std::unique_ptr<Proc> worker(const QString &endpoint, const QString &name, QStringList extra = {}) {
        auto w = std::make_unique<Proc>();
        w->p->start(QStringLiteral(FEDWB_WORKER),
                    QStringList{QStringLiteral("--connect"), endpoint, QStringLiteral("--threads"),
                                QStringLiteral("1"), QStringLiteral("--name"), name} +
                        extra);
        return w;
    }
    static const QStringList &insecure() {
        static const QStringList a{QStringLiteral("--insecure")};
        return a;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_dir = m_tmp.path();
        writeData(QStringLiteral("data-a"), false);
        writeData(QStringLiteral("data-b"), true);
    }

    // Coordinator + 2 workers end with the local run's model, byte for byte; both workers trained clients.
    void twoWorkersEqualLocal() {
        auto [local, db, endpoint, c] =
            federation(workspace(QStringLiteral("plain"), 2),
                       insecure() + QStringList{QStringLiteral("--min-workers"), QStringLiteral("2"),
                                                QStringLiteral("--stop-workers")});
        QVERIFY2(!local.isEmpty() && !endpoint.isEmpty(), qPrintable(c->err)); // reference run; listening
        auto w1 = worker(endpoint, QStringLiteral("w1"), insecure());
        auto w2 = worker(endpoint, QStringLiteral("w2"), insecure());
        QCOMPARE(c->finish(), 0);
        QCOMPARE(w1->finish(), 0); // --stop-workers: told to stop
        QCOMPARE(w2->finish(), 0);
        QCOMPARE(finalModel(db), local);
        // Which worker trained which client is recorded with every round.
        RunStore store(db, RunStore::Access::ReadOnly);
        const QJsonObject exported = store.exportJson(1);
        const QString text = QString::fromUtf8(QJsonDocument(exported).toJson(QJsonDocument::Compact));
        QVERIFY2(text.contains(QLatin1String("\"w1\"")) && text.contains(QLatin1String("\"w2\"")),
                 qPrintable(text));
        QVERIFY(w1->err.contains(QLatin1String("ready: dataset fashion-mnist")));
    }

    // Attacking groups poison their data on the worker as they do locally (the task carries the behaviour;
    // the trigger is stamped in the dataset's pixel encoding): a backdoor with a boosted update and a label
    // flipper end with the local run's model, byte for byte.
    void attackersEqualLocal() {
        auto [local, db, endpoint, c] = federation(
            workspace(QStringLiteral("attacked"), 1, false, QStringLiteral(R"({"count": 6, "per_round": 4,
 "groups": [{"name": "honest", "count": 2},
  {"name": "backdoor", "count": 2, "behaviour": {"name": "backdoor", "target_class": 3, "boost": 2}},
  {"name": "flippers", "count": 2, "behaviour": {"name": "label-flip"}}]})")),
            insecure() + QStringList{QStringLiteral("--min-workers"), QStringLiteral("1"),
                                     QStringLiteral("--stop-workers")});
        QVERIFY2(!local.isEmpty() && !endpoint.isEmpty(), qPrintable(c->err));
        auto w = worker(endpoint, QStringLiteral("w1"), insecure());
        QCOMPARE(c->finish(), 0);
        QCOMPARE(w->finish(), 0);
        QCOMPARE(finalModel(db), local);
    }

    // A worker SIGKILLed while it holds a task: its task goes to the other worker, the result is the same.
    // Then the last worker is killed too: the run waits with a message until a new worker joins.
    void killedWorkersSameResult() {
        auto [local, db, endpoint, c] =
            federation(workspace(QStringLiteral("heavy"), 12),
                       insecure() + QStringList{QStringLiteral("--min-workers"), QStringLiteral("2"),
                                                QStringLiteral("--heartbeat-timeout"), QStringLiteral("1"),
                                                QStringLiteral("--stop-workers")});
        QVERIFY2(!local.isEmpty() && !endpoint.isEmpty(), qPrintable(c->err)); // reference run; listening
        auto w1 = worker(endpoint, QStringLiteral("w1"), insecure());
        auto w2 = worker(endpoint, QStringLiteral("w2"), insecure());
        QVERIFY2(c->waitFor(QStringLiteral("round 1/4")), qPrintable(c->err));
        QTest::qWait(100); // round 2 is under way: each worker holds a task
        w1->p->kill();     // SIGKILL
        // Found by the heartbeat timeout, or sooner when the connection drops.
        QVERIFY2(c->waitFor(QStringLiteral("its task goes to other workers")), qPrintable(c->err));
        QVERIFY2(c->err.contains(QLatin1String("worker w1 was lost")) ||
                     c->err.contains(QLatin1String("worker w1 is unreachable")),
                 qPrintable(c->err));
        QVERIFY2(c->waitFor(QStringLiteral("round 2/4")), qPrintable(c->err));
        w2->p->kill();
        QVERIFY2(c->waitFor(QStringLiteral("no worker is ready: waiting for workers to connect")),
                 qPrintable(c->err));
        auto w3 = worker(endpoint, QStringLiteral("w3"), insecure());
        QCOMPARE(c->finish(), 0);
        QCOMPARE(w3->finish(), 0);
        QVERIFY2(c->err.contains(QLatin1String("worker w3 joined")), qPrintable(c->err));
        QCOMPARE(finalModel(db), local);
    }

    // Tasks re-dispatched after a (tiny) task timeout run twice; the late duplicates are not counted.
    void duplicateResultsIgnored() {
        auto [local, db, endpoint, c] =
            federation(workspace(QStringLiteral("plain"), 2),
                       insecure() + QStringList{QStringLiteral("--min-workers"), QStringLiteral("2"),
                                                QStringLiteral("--task-timeout"), QStringLiteral("0.01"),
                                                QStringLiteral("--stop-workers")});
        QVERIFY2(!local.isEmpty() && !endpoint.isEmpty(), qPrintable(c->err)); // reference run; listening
        auto w1 = worker(endpoint, QStringLiteral("w1"), insecure());
        auto w2 = worker(endpoint, QStringLiteral("w2"), insecure());
        QCOMPARE(c->finish(), 0);
        QVERIFY2(c->err.contains(QLatin1String("dealt out again")), qPrintable(c->err));
        QCOMPARE(finalModel(db), local);
    }

    // Garbage from a peer (not CBOR, not a map, another protocol version, a bad task result, several
    // frames) is logged and ignored while the federation runs on.
    void garbageIgnored() {
        auto [local, db, endpoint, c] =
            federation(workspace(QStringLiteral("heavy"), 12),
                       insecure() + QStringList{QStringLiteral("--stop-workers")});
        QVERIFY2(!local.isEmpty() && !endpoint.isEmpty(), qPrintable(c->err)); // reference run; listening
        auto w1 = worker(endpoint, QStringLiteral("w1"), insecure());
        QVERIFY2(c->waitFor(QStringLiteral("round 1/4")), qPrintable(c->err));
        zmq::context_t context;
        zmq::socket_t peer(context, zmq::socket_type::dealer);
        peer.set(zmq::sockopt::linger, 0);
        peer.connect(endpoint.toStdString());
        const auto sendBytes = [&](const QByteArray &b) {
            peer.send(zmq::buffer(b.constData(), std::size_t(b.size())), zmq::send_flags::none);
        };
        sendBytes(QByteArray("\xff\x00garbage", 9));
        sendBytes(QCborValue(42).toCbor());
        QCborMap wrongVersion{{QStringLiteral("proto"), QStringLiteral("fedwb")},
                              {QStringLiteral("pv"), 99},
                              {QStringLiteral("type"), QStringLiteral("hello")}};
        sendBytes(QCborValue(wrongVersion).toCbor());
        peer.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
        peer.send(zmq::str_buffer("b"), zmq::send_flags::none);
        // A registered peer that sends a result for a task it was never given, then one that is not a result.
        sendBytes(
            remote::encode(remote::MessageType::Hello, {{QStringLiteral("name"), QStringLiteral("intruder")},
                                                        {QStringLiteral("build"), QStringLiteral("x")},
                                                        {QStringLiteral("threads"), 1},
                                                        {QStringLiteral("device"), QStringLiteral("cpu")},
                                                        {QStringLiteral("kernel"), QCborMap()},
                                                        {QStringLiteral("portable"), false},
                                                        {QStringLiteral("datasets"), QCborArray()}}));
        sendBytes(remote::encode(remote::MessageType::Result, {{QStringLiteral("run"), 1},
                                                               {QStringLiteral("id"), QStringLiteral("r2c0")},
                                                               {QStringLiteral("result"), QCborMap()},
                                                               {QStringLiteral("kernel"), QCborMap()}}));
        sendBytes(remote::encode(remote::MessageType::Task, {{QStringLiteral("run"), 1},
                                                             {QStringLiteral("id"), QStringLiteral("x")},
                                                             {QStringLiteral("task"), QCborMap()}}));
        QCOMPARE(c->finish(), 0);
        QVERIFY2(c->err.contains(QLatin1String("ignored a message from peer")), qPrintable(c->err));
        QVERIFY2(c->err.contains(QLatin1String("protocol version 99")), qPrintable(c->err));
        QVERIFY2(c->err.contains(QLatin1String("frames")), qPrintable(c->err));
        QVERIFY2(c->err.contains(QLatin1String("ignored a task message from worker intruder")),
                 qPrintable(c->err));
        QCOMPARE(finalModel(db), local);
    }

    // --fallback-local: with no worker, the clients train on the coordinator's machine; same result.
    void fallbackLocal() {
        auto [local, db, endpoint, c] =
            federation(workspace(QStringLiteral("plain"), 2),
                       insecure() + QStringList{QStringLiteral("--fallback-local"), QStringLiteral("0.2")});
        QVERIFY2(!local.isEmpty() && !endpoint.isEmpty(), qPrintable(c->err)); // reference run; listening
        QCOMPARE(c->finish(), 0);
        QVERIFY2(c->out.contains(QLatin1String("on this machine")), qPrintable(c->out + c->err));
        QCOMPARE(finalModel(db), local);
    }

    // A worker with other data files, or none, is refused with a message naming the difference on both
    // sides; a worker with the right data carries the run.
    void wrongDatasetRefused() {
        auto [local, db, endpoint, c] =
            federation(workspace(QStringLiteral("plain"), 2),
                       insecure() + QStringList{QStringLiteral("--stop-workers")});
        QVERIFY2(!local.isEmpty() && !endpoint.isEmpty(), qPrintable(c->err)); // reference run; listening
        auto other = worker(
            endpoint, QStringLiteral("other-data"),
            insecure() + QStringList{QStringLiteral("--dataset-path"), path(QStringLiteral("data-b"))});
        auto none = worker(
            endpoint, QStringLiteral("no-data"),
            insecure() + QStringList{QStringLiteral("--dataset-path"), path(QStringLiteral("missing"))});
        QVERIFY2(c->waitFor(
                     QStringLiteral("worker other-data cannot take part in this run: dataset fashion-mnist")),
                 qPrintable(c->err));
        QVERIFY2(c->waitFor(
                     QStringLiteral("worker no-data cannot take part in this run: cannot rebuild the data")),
                 qPrintable(c->err));
        QVERIFY2(other->waitFor(QStringLiteral("differs from the coordinator's")), qPrintable(other->err));
        QVERIFY2(none->waitFor(QStringLiteral("dataset.path")), qPrintable(none->err));
        auto good = worker(endpoint, QStringLiteral("good"), insecure());
        QCOMPARE(c->finish(), 0);
        QCOMPARE(finalModel(db), local);
    }

    // CurveZMQ: workers must know the coordinator's public key and be on its allow-list.
    void allowList() {
        const QString keys = path(QStringLiteral("keys"));
        for (const char *name : {"coordinator", "good", "bad"})
            QCOMPARE(cli({QStringLiteral("keys"), QStringLiteral("generate"), QStringLiteral("--out"), keys,
                          QStringLiteral("--name"), QLatin1String(name)})
                         .exitCode,
                     0);
        QCOMPARE(QFile(keys + QStringLiteral("/good.key")).permissions() &
                     (QFileDevice::ReadGroup | QFileDevice::ReadOther),
                 QFileDevice::Permissions());
        // Never overwritten.
        QCOMPARE(cli({QStringLiteral("keys"), QStringLiteral("generate"), QStringLiteral("--out"), keys,
                      QStringLiteral("--name"), QStringLiteral("good")})
                     .exitCode,
                 2);
        QVERIFY(QFile::copy(keys + QStringLiteral("/good.pub"), keys + QStringLiteral("/allow")));
        auto [local, db, endpoint, c] = federation(
            workspace(QStringLiteral("plain"), 2),
            {QStringLiteral("--key"), keys + QStringLiteral("/coordinator.key"), QStringLiteral("--allow"),
             keys + QStringLiteral("/allow"), QStringLiteral("--stop-workers")});
        QVERIFY2(!local.isEmpty() && !endpoint.isEmpty(), qPrintable(c->err)); // reference run; listening
        const QString server = keys + QStringLiteral("/coordinator.pub");
        auto bad = worker(endpoint, QStringLiteral("bad"),
                          {QStringLiteral("--server-key"), server, QStringLiteral("--key"),
                           keys + QStringLiteral("/bad.key")});
        QCOMPARE(bad->finish(30000), 2);
        QVERIFY2(bad->err.contains(QLatin1String("refused this worker's key")), qPrintable(bad->err));
        QVERIFY2(c->waitFor(QStringLiteral("is not on the allow-list")), qPrintable(c->err));
        auto good = worker(endpoint, QStringLiteral("good"),
                           {QStringLiteral("--server-key"), server, QStringLiteral("--key"),
                            keys + QStringLiteral("/good.key")});
        QCOMPARE(c->finish(), 0);
        QCOMPARE(good->finish(), 0);
        QVERIFY2(c->err.contains(QLatin1String("(CurveZMQ)")), qPrintable(c->err));
        QCOMPARE(finalModel(db), local);
    }

    // Plaintext needs --insecure, and on a non-loopback address --force too; key options come in pairs.
    void securityRules() {
        const QString ws = workspace(QStringLiteral("plain"), 1);
        const auto run = [&](QStringList extra) {
            return cli(QStringList{QStringLiteral("run"), ws, QStringLiteral("--db"), newDb(),
                                   QStringLiteral("--executor"), QStringLiteral("remote")} +
                       extra);
        };
        Result r = run({QStringLiteral("--bind"), QStringLiteral("tcp://127.0.0.1:*")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QLatin1String("fedwb-cli keys generate")), qPrintable(r.err));
        r = run({QStringLiteral("--bind"), QStringLiteral("tcp://0.0.0.0:*"), QStringLiteral("--insecure")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QLatin1String("unless --force")), qPrintable(r.err));
        r = run({});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QLatin1String("--executor remote needs --bind")), qPrintable(r.err));
        r = run({QStringLiteral("--bind"), QStringLiteral("tcp://127.0.0.1:*"), QStringLiteral("--key"),
                 path(QStringLiteral("nope.key"))});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QLatin1String("--key needs --allow")), qPrintable(r.err));
        r = cli({QStringLiteral("run"), ws, QStringLiteral("--db"), newDb(), QStringLiteral("--insecure")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QLatin1String("--insecure is an option of --executor remote")),
                 qPrintable(r.err));
        QProcess w;
        w.start(QStringLiteral(FEDWB_WORKER),
                {QStringLiteral("--connect"), QStringLiteral("tcp://10.1.2.3:5555"),
                 QStringLiteral("--insecure")});
        const Result wr = finished(w, 30000);
        QCOMPARE(wr.exitCode, 2);
        QVERIFY2(wr.err.contains(QLatin1String("unless --force")), qPrintable(wr.err));
    }

    // --heartbeat-interval and --heartbeat-timeout reach both sides: with a beat every 0.1 s, a worker
    // frozen by SIGSTOP (its connection stays open) is lost after 0.5 s, while the other, alive, never is
    // (with the default interval of 1 s it would be, every 0.5 s).
    void heartbeatOptions() {
        auto [local, db, endpoint, c] =
            federation(workspace(QStringLiteral("heavy"), 12),
                       insecure() + QStringList{QStringLiteral("--min-workers"), QStringLiteral("2"),
                                                QStringLiteral("--heartbeat-interval"), QStringLiteral("0.1"),
                                                QStringLiteral("--heartbeat-timeout"), QStringLiteral("0.5"),
                                                QStringLiteral("--stop-workers")});
        QVERIFY2(!local.isEmpty() && !endpoint.isEmpty(), qPrintable(c->err)); // reference run; listening
        auto w1 = worker(endpoint, QStringLiteral("w1"), insecure());
        auto w2 = worker(endpoint, QStringLiteral("w2"), insecure());
        QVERIFY2(c->waitFor(QStringLiteral("round 1/4")), qPrintable(c->err));
        QCOMPARE(::kill(pid_t(w1->p->processId()), SIGSTOP), 0);
        QVERIFY2(c->waitFor(QStringLiteral("worker w1 was lost (no heartbeat for 0.5 s)")),
                 qPrintable(c->err));
        QCOMPARE(c->finish(), 0);
        QCOMPARE(w2->finish(), 0);
        QVERIFY2(!c->err.contains(QLatin1String("worker w2 was lost")), qPrintable(c->err));
        QCOMPARE(finalModel(db), local);
        ::kill(pid_t(w1->p->processId()), SIGCONT); // then killed by its Proc
    }

    // --max-message-mb on the coordinator: a model that cannot fit is refused before any worker is awaited;
    // a result or a task over the limit fails the run naming the option, and the same run with 4 MiB trains
    // and equals the local run. On a worker: a model over its limit is refused for the run, with the reason
    // on the coordinator's side.
    void messageLimit() {
        const QString big =
            workspace(QStringLiteral("big"), 1, false, QStringLiteral(R"({"count": 6, "per_round": 4})"));
        QVERIFY(setModel(big, QStringLiteral("cnn-fedavg"), {}));
        QString endpoint;
        auto c = coordinator(
            big, newDb(), insecure() + QStringList{QStringLiteral("--max-message-mb"), QStringLiteral("1")},
            &endpoint);
        QCOMPARE(c->finish(60000), 2);
        QVERIFY2(c->err.contains(
                     QLatin1String("the model has 1663370 parameters, so every task and result is at "
                                   "least 6.3 MiB, over the message limit of 1 MiB (--max-message-mb)")),
                 qPrintable(c->err));

        // SCAFFOLD: a result carries the update and the client's new control variate, each as large as the
        // model's 0.76 MiB; the worker, told the coordinator's limit, reports it instead of sending it.
        const QString scaffold = workspace(QStringLiteral("scaffold"), 1);
        QVERIFY(setModel(scaffold, QStringLiteral("mlp-2nn"), QStringLiteral("scaffold")));
        const QStringList limit1 =
            insecure() + QStringList{QStringLiteral("--max-message-mb"), QStringLiteral("1"),
                                     QStringLiteral("--stop-workers")};
        c = coordinator(scaffold, newDb(), limit1, &endpoint);
        QVERIFY2(!endpoint.isEmpty(), qPrintable(c->err));
        auto w = worker(endpoint, QStringLiteral("w1"), insecure());
        QCOMPARE(c->finish(), 1);
        QVERIFY2(
            c->err.contains(QRegularExpression(QStringLiteral(
                "worker w1: client [0-9]+ in round 1 failed: its result is [0-9]+ bytes \\([0-9.]+ MiB\\), "
                "over the coordinator's message limit of 1 MiB \\(--max-message-mb\\)"))),
            qPrintable(c->out + c->err));
        QCOMPARE(w->finish(), 0); // --stop-workers also when the run fails
        // From round 2 on the task carries the server's control variate too: the coordinator refuses to send
        // it (here: a run of one local round, resumed on a worker).
        const QString resumed = newDb();
        QCOMPARE(cli({QStringLiteral("run"), scaffold, QStringLiteral("--db"), resumed,
                      QStringLiteral("--set"), QStringLiteral("run.rounds=1")})
                     .exitCode,
                 0);
        Proc r;
        r.p->start(QStringLiteral(FEDWB_CLI),
                   QStringList{QStringLiteral("resume"), QStringLiteral("--run"), QStringLiteral("1"),
                               QStringLiteral("--db"), resumed, QStringLiteral("--set"),
                               QStringLiteral("run.rounds=2"), QStringLiteral("--executor"),
                               QStringLiteral("remote"), QStringLiteral("--bind"),
                               QStringLiteral("tcp://127.0.0.1:*")} +
                       limit1);
        QVERIFY2(r.waitFor(QStringLiteral("coordinator listening on "), 30000), qPrintable(r.err));
        endpoint = QRegularExpression(QStringLiteral("listening on (tcp://[0-9.]+:[0-9]+)"))
                       .match(r.err)
                       .captured(1);
        w = worker(endpoint, QStringLiteral("w1"), insecure());
        QCOMPARE(r.finish(), 2);
        QVERIFY2(r.err.contains(QRegularExpression(QStringLiteral(
                     "round 2, client [0-9]+: the task message is [0-9]+ bytes \\([0-9.]+ MiB\\), over the "
                     "message limit of 1 MiB \\(--max-message-mb\\)"))),
                 qPrintable(r.out + r.err));
        QCOMPARE(w->finish(), 0);
        // With 4 MiB the same federation trains on a worker and equals the local run.
        auto [local, db, endpoint2, c2] = federation(
            scaffold, insecure() + QStringList{QStringLiteral("--max-message-mb"), QStringLiteral("4"),
                                               QStringLiteral("--stop-workers")});
        QVERIFY2(!local.isEmpty() && !endpoint2.isEmpty(), qPrintable(c2->err));
        auto w2 = worker(endpoint2, QStringLiteral("w2"), insecure());
        QCOMPARE(c2->finish(), 0);
        QCOMPARE(finalModel(db), local);

        c = coordinator(big, newDb(), insecure(), &endpoint);
        QVERIFY2(!endpoint.isEmpty(), qPrintable(c->err));
        auto small =
            worker(endpoint, QStringLiteral("small"),
                   insecure() + QStringList{QStringLiteral("--max-message-mb"), QStringLiteral("1")});
        QVERIFY2(
            c->waitFor(QStringLiteral(
                "worker small cannot take part in this run: the model's tasks are at least 6.3 MiB, over "
                "this worker's message limit of 1 MiB (fedwb-worker --max-message-mb)")),
            qPrintable(c->err));
        QVERIFY2(small->waitFor(QStringLiteral("refused the run: the model's tasks are at least 6.3 MiB")),
                 qPrintable(small->err));
    }

    // The worker's own options are checked like the coordinator's: exit 2 naming the option and the range.
    void workerOptionRanges() {
        const auto run = [](const QStringList &extra) {
            QProcess w;
            w.start(QStringLiteral(FEDWB_WORKER),
                    QStringList{QStringLiteral("--connect"), QStringLiteral("tcp://127.0.0.1:9"),
                                QStringLiteral("--insecure")} +
                        extra);
            return finished(w, 30000);
        };
        for (const char *bad : {"0", "2049", "1.5", "many"}) {
            const Result r = run({QStringLiteral("--max-message-mb"), QLatin1String(bad)});
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(
                r.err.contains(QStringLiteral("--max-message-mb %1: out of range; allowed: an integer in "
                                              "[1, 2048] (MiB)")
                                   .arg(QLatin1String(bad))),
                qPrintable(r.err));
        }
        const Result r = run({QStringLiteral("--max-message-mb")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QLatin1String("--max-message-mb needs a value")), qPrintable(r.err));
    }

    // run.portable: the local run and workers started with --portable agree bitwise; a worker without it is
    // refused.
    void portableMode() {
        auto [local, db, endpoint, c] =
            federation(workspace(QStringLiteral("portable"), 2, true),
                       insecure() + QStringList{QStringLiteral("--stop-workers")});
        QVERIFY2(!local.isEmpty() && !endpoint.isEmpty(), qPrintable(c->err)); // reference run; listening
        auto plain = worker(endpoint, QStringLiteral("plain"), insecure());
        QVERIFY2(c->waitFor(QStringLiteral("worker plain cannot take part in this run: run.portable")),
                 qPrintable(c->err));
        auto portable = worker(endpoint, QStringLiteral("portable"),
                               insecure() + QStringList{QStringLiteral("--portable")});
        QCOMPARE(c->finish(), 0);
        QCOMPARE(portable->finish(), 0);
        QCOMPARE(finalModel(db), local);
        QVERIFY2(portable->err.contains(QLatin1String("aten avx2")), qPrintable(portable->err));
        RunStore store(db, RunStore::Access::ReadOnly);
        const QString env =
            QString::fromUtf8(QJsonDocument(store.exportJson(1)).toJson(QJsonDocument::Compact));
        QVERIFY2(env.contains(QLatin1String("avx2 (forced")), qPrintable(env.left(2000)));
    }
};

QTEST_GUILESS_MAIN(TestRemote)
#include "test_remote.moc"
