// The Workers panel and remote execution from the GUI, over a real loopback coordinator and real
// fedwb-worker processes: the workers table (names, threads, status, tasks done after a run), the security
// rules of fedwb-cli's --bind, a GUI run on the workers equal to the local run bit for bit, a run refused
// while nothing listens, and the dashboard's participation timeline naming the worker of every client.
#include "MainWindow.h"
#include "dashboard/Dashboard.h"
#include "remote/Keys.h"
#include "run/RunController.h"
#include "spec/Registry.h"
#include "store/RunStore.h"
#include "workers/WorkersModel.h"
#include "workers/WorkersPanel.h"

#include <QAbstractItemModel>
#include <QAction>
#include <QCheckBox>
#include <QClipboard>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QGuiApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolTip>

#include <memory>

using namespace fedwb;

namespace {

constexpr int kRunTimeoutMs = 180000;
constexpr int kJoinTimeoutMs = 60000;

// Synthetic data and logistic regression: a round takes milliseconds, on this machine or on a worker.
QJsonObject tinyWorkspace() {
    return QJsonObject{
        {QStringLiteral("format"), 1},
        {QStringLiteral("name"), QStringLiteral("workers-test")},
        {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("synthetic")},
                                                {QStringLiteral("max_samples"), 600}}},
        {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
        {QStringLiteral("clients"),
         QJsonObject{{QStringLiteral("count"), 6}, {QStringLiteral("per_round"), 4}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
        {QStringLiteral("training"), QJsonObject{{QStringLiteral("epochs"), 2}}},
        {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), 3},
                                            {QStringLiteral("seed"), 11},
                                            {QStringLiteral("threads"), 1}}},
    };
}

// A fedwb-worker process, killed when it goes out of scope.
struct Worker {
    std::unique_ptr<QProcess> p = std::make_unique<QProcess>();
    Worker(const QString &endpoint, const QString &name, int threads, const QStringList &security) {
        p->setProcessChannelMode(QProcess::MergedChannels);
        p->start(QStringLiteral(FEDWB_WORKER),
                 QStringList{QStringLiteral("--connect"), endpoint, QStringLiteral("--threads"),
                             QString::number(threads), QStringLiteral("--name"), name} +
                     security);
    }
    ~Worker() {
        if (p->state() != QProcess::NotRunning) {
            p->kill();
            p->waitForFinished();
        }
    }
    QString output() { return QString::fromUtf8(p->readAll()); }
};

const QStringList kInsecure{QStringLiteral("--insecure")};

// Listens on a free loopback port in plaintext.
bool listenOnLoopback(WorkersPanel *panel, QString *error = nullptr) {
    panel->bindEdit()->setText(QStringLiteral("tcp://127.0.0.1:*"));
    panel->insecureBox()->setChecked(true);
    return panel->startListening(error);
}

QString cell(const QAbstractItemModel *m, int row, int column) {
    return m->index(row, column).data().toString();
}

// trained_by of every round of a stored run: client id -> worker, per round.
QList<QJsonObject> trainedBy(const QString &db, qint64 runId) {
    RunStore store(db, RunStore::Access::ReadOnly);
    QList<QJsonObject> out;
    for (const RoundMetrics &m : store.rounds(runId))
        out.append(m.extra.value(QStringLiteral("trained_by")).toObject());
    return out;
}

} // namespace

class TestWorkers : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString path(const QString &name) const { return m_dir.filePath(name); }
    QString writeWorkspace(const QString &name) {
        const QString file = path(name + QStringLiteral(".fedwb"));
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return {};
        f.write(QJsonDocument(tinyWorkspace()).toJson());
        return file;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        registerBuiltins();
    }

    // The table over a real pool: rows as workers join (name, threads, address, status), the exact worker
    // command, and a killed worker shown as lost (with the pool's event in the log).
    void tableShowsConnectedWorkers() {
        RunController controller;
        WorkersPanel panel(&controller);
        QVERIFY(!panel.isListening());
        QVERIFY(panel.workerCommand().isEmpty());
        QString error;
        QVERIFY2(listenOnLoopback(&panel, &error), qPrintable(error));
        const QString endpoint = panel.endpoint();
        QVERIFY2(endpoint.startsWith(QLatin1String("tcp://127.0.0.1:")) &&
                     !endpoint.endsWith(QLatin1Char('*')),
                 qPrintable(endpoint));
        QVERIFY(panel.publicKey().isEmpty()); // plaintext
        QCOMPARE(panel.workerCommand(), QStringLiteral("fedwb-worker --connect %1 --insecure").arg(endpoint));
        panel.copyCommandButton()->click();
        QCOMPARE(QGuiApplication::clipboard()->text(), panel.workerCommand());

        WorkersModel *model = panel.model();
        QCOMPARE(model->rowCount(), 0);
        Worker w1(endpoint, QStringLiteral("w1"), 1, kInsecure);
        Worker w2(endpoint, QStringLiteral("w2"), 2, kInsecure);
        QTRY_COMPARE_WITH_TIMEOUT(model->connectedCount(), 2, kJoinTimeoutMs);
        QCOMPARE(model->rowCount(), 2);
        QCOMPARE(cell(model, 0, WorkersModel::Name), QStringLiteral("w1"));
        QCOMPARE(cell(model, 1, WorkersModel::Name), QStringLiteral("w2"));
        QCOMPARE(model->index(0, WorkersModel::Threads).data().toInt(), 1);
        QCOMPARE(model->index(1, WorkersModel::Threads).data().toInt(), 2);
        for (int row : {0, 1}) {
            QCOMPARE(cell(model, row, WorkersModel::Status), WorkersModel::tr("connected")); // no run yet
            QCOMPARE(cell(model, row, WorkersModel::Address), QStringLiteral("127.0.0.1"));
            QCOMPARE(cell(model, row, WorkersModel::Device), QStringLiteral("cpu"));
            QCOMPARE(model->index(row, WorkersModel::Done).data().toInt(), 0);
            QVERIFY(!cell(model, row, WorkersModel::Kernel).isEmpty());
            QVERIFY(model->worker(row).heartbeatAgeSeconds < 5);
        }
        QTRY_VERIFY(panel.logText().contains(QLatin1String("worker w1 joined (1 thread")));
        QVERIFY2(panel.logText().contains(QLatin1String("worker w2 joined (2 threads")),
                 qPrintable(panel.logText()));

        // A worker killed (no goodbye): found unreachable or lost, kept in the table as lost.
        w2.p->kill();
        w2.p->waitForFinished();
        QTRY_COMPARE_WITH_TIMEOUT(model->connectedCount(), 1, 30000);
        QCOMPARE(model->rowCount(), 2);
        const int lost = model->rowOf(QStringLiteral("w2"));
        QVERIFY(lost >= 0 && model->isDeparted(lost));
        QCOMPARE(cell(model, lost, WorkersModel::Status), WorkersModel::tr("lost"));
        QTRY_VERIFY(panel.logText().contains(QLatin1String("worker w2 is unreachable")) ||
                    panel.logText().contains(QLatin1String("worker w2 was lost")));

        QVERIFY(panel.stopListening());
        QVERIFY(!panel.isListening());
        QCOMPARE(model->rowCount(), 0);
    }

    // Stop listening and listen again on the same address: the worker, still connected at the socket level,
    // is unknown to the new pool; it says hello again (it used to take the refusal as final and exit).
    void workersRejoinARestartedCoordinator() {
        RunController controller;
        WorkersPanel panel(&controller);
        QVERIFY(listenOnLoopback(&panel));
        const QString endpoint = panel.endpoint();
        Worker w1(endpoint, QStringLiteral("w1"), 1, kInsecure);
        QTRY_COMPARE_WITH_TIMEOUT(panel.model()->connectedCount(), 1, kJoinTimeoutMs);
        QVERIFY(panel.stopListening());
        panel.bindEdit()->setText(endpoint); // the port it had
        QString error;
        QVERIFY2(panel.startListening(&error), qPrintable(error));
        QCOMPARE(panel.endpoint(), endpoint);
        QTRY_COMPARE_WITH_TIMEOUT(panel.model()->connectedCount(), 1, kJoinTimeoutMs);
        QCOMPARE(cell(panel.model(), 0, WorkersModel::Name), QStringLiteral("w1"));
        QCOMPARE(w1.p->state(), QProcess::Running);
        const QString out = w1.output();
        QVERIFY2(!out.contains(QLatin1String("exiting")), qPrintable(out));
    }

    // The rules of fedwb-cli --bind, from the same engine check: plaintext only with the box ticked and only
    // on loopback; keys and an allow-list give CurveZMQ, the public key and the worker command with the
    // coordinator's .pub; a worker on the allow-list joins, one that is not is refused (logged).
    void listeningRulesAndKeys() {
        RunController controller;
        WorkersPanel panel(&controller);
        QString error;
        panel.bindEdit()->setText(QStringLiteral("tcp://127.0.0.1:*"));
        QVERIFY(!panel.startListening(&error)); // neither keys nor plaintext
        QVERIFY2(error.contains(QLatin1String("key pair")), qPrintable(error));
        panel.bindEdit()->setText(QStringLiteral("tcp://0.0.0.0:*"));
        panel.insecureBox()->setChecked(true);
        QVERIFY(!panel.startListening(&error));
        QVERIFY2(error.contains(QLatin1String("refused on a non-loopback address")), qPrintable(error));
        QVERIFY(!panel.isListening());
        QVERIFY(panel.logText().contains(QLatin1String("refused on a non-loopback address")));

        if (!remote::curveAvailable()) QSKIP("this libzmq has no CURVE support");
        const QString keys = path(QStringLiteral("keys"));
        QVERIFY(QDir().mkpath(keys));
        const remote::CurveKeyPair coordinator = remote::generateKeyPair();
        const remote::CurveKeyPair allowed = remote::generateKeyPair();
        const remote::CurveKeyPair stranger = remote::generateKeyPair();
        QVERIFY(remote::writeKeyPair(keys, QStringLiteral("coordinator"), coordinator, &error));
        QVERIFY(remote::writeKeyPair(keys, QStringLiteral("allowed"), allowed, &error));
        QVERIFY(remote::writeKeyPair(keys, QStringLiteral("stranger"), stranger, &error));
        QFile allow(path(QStringLiteral("keys/allow")));
        QVERIFY(allow.open(QIODevice::WriteOnly));
        allow.write(allowed.publicKey + "\n");
        allow.close();

        panel.insecureBox()->setChecked(false);
        panel.bindEdit()->setText(QStringLiteral("tcp://127.0.0.1:*"));
        panel.keyEdit()->setText(path(QStringLiteral("keys/coordinator.key")));
        panel.allowEdit()->setText(path(QStringLiteral("keys/missing-allow")));
        QVERIFY(!panel.startListening(&error));
        QVERIFY2(error.contains(QLatin1String("--allow")), qPrintable(error));
        panel.allowEdit()->setText(allow.fileName());
        QVERIFY2(panel.startListening(&error), qPrintable(error));
        QCOMPARE(panel.publicKey(), coordinator.publicKey);
        const QString endpoint = panel.endpoint();
        QCOMPARE(panel.workerCommand(),
                 QStringLiteral("fedwb-worker --connect %1 --server-key %2 --key worker.key")
                     .arg(endpoint, path(QStringLiteral("keys/coordinator.pub"))));

        const QStringList serverKey{QStringLiteral("--server-key"),
                                    path(QStringLiteral("keys/coordinator.pub"))};
        Worker good(endpoint, QStringLiteral("good"), 1,
                    serverKey +
                        QStringList{QStringLiteral("--key"), path(QStringLiteral("keys/allowed.key"))});
        Worker bad(endpoint, QStringLiteral("bad"), 1,
                   serverKey +
                       QStringList{QStringLiteral("--key"), path(QStringLiteral("keys/stranger.key"))});
        QTRY_COMPARE_WITH_TIMEOUT(panel.model()->connectedCount(), 1, kJoinTimeoutMs);
        QCOMPARE(cell(panel.model(), 0, WorkersModel::Name), QStringLiteral("good"));
        QTRY_VERIFY_WITH_TIMEOUT(panel.logText().contains(QLatin1String("is not on the allow-list")),
                                 kJoinTimeoutMs);
        QVERIFY(panel.logText().contains(QString::fromLatin1(stranger.publicKey)));
        QCOMPARE(panel.model()->rowOf(QStringLiteral("bad")), -1);
    }

    // Remote chosen while nothing listens: the run is refused with a message, nothing is recorded.
    void remoteRefusedWhenNotListening() {
        MainWindow w;
        const QString db = path(QStringLiteral("refused.sqlite"));
        w.setDatabasePath(db);
        QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("refused"))));
        QSignalSpy started(&w, &MainWindow::runStarted);
        w.workersPanel()->setExecution(WorkersPanel::Remote);
        QVERIFY(w.workersDock()->isVisibleTo(&w)); // choosing the workers shows their panel
        w.startRun();
        QVERIFY(!w.isRunning());
        QVERIFY2(w.statusBar()->currentMessage().contains(QLatin1String("the coordinator is not listening")),
                 qPrintable(w.statusBar()->currentMessage()));
        QCOMPARE(started.count(), 0);
        QCOMPARE(RunStore(db, RunStore::Access::ReadOnly).runs().size(), 0);
        // On this machine it runs.
        w.workersPanel()->setExecution(WorkersPanel::Local);
        QSignalSpy finished(&w, &MainWindow::runFinished);
        w.startRun();
        QVERIFY(w.isRunning());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kRunTimeoutMs);
    }

    // A run waiting for more workers than there are: the waiting message shows; the coordinator cannot stop
    // listening under it; Stop ends the run.
    void waitingRunShowsItsMessage() {
        MainWindow w;
        w.setDatabasePath(path(QStringLiteral("waiting.sqlite")));
        QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("waiting"))));
        WorkersPanel *panel = w.workersPanel();
        QVERIFY(listenOnLoopback(panel));
        Worker w1(panel->endpoint(), QStringLiteral("w1"), 1, kInsecure);
        QTRY_COMPARE_WITH_TIMEOUT(panel->model()->connectedCount(), 1, kJoinTimeoutMs);
        panel->setExecution(WorkersPanel::Remote);
        panel->minWorkersBox()->setValue(3);
        QSignalSpy finished(&w, &MainWindow::runFinished);
        w.startRun();
        QVERIFY(w.isRunning());
        const QString waiting = QStringLiteral("waiting for 3 workers on %1").arg(panel->endpoint());
        QTRY_VERIFY_WITH_TIMEOUT(panel->logText().contains(waiting + QStringLiteral(" (1 ready)")),
                                 kRunTimeoutMs);
        QVERIFY2(w.statusBar()->currentMessage().startsWith(waiting),
                 qPrintable(w.statusBar()->currentMessage()));
        QString error;
        QVERIFY(!panel->stopListening(&error));
        QVERIFY2(error.contains(QLatin1String("stop it")), qPrintable(error));
        QVERIFY(panel->isListening());
        w.stopRun();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kRunTimeoutMs);
        QCOMPARE(finished.at(0).at(0).value<RunSummary>().status, RunStatus::Stopped);
        QVERIFY(panel->stopListening(&error));
    }

    // The same workspace on this machine and on two workers: the same final model, accuracy and loss, bit
    // for bit. The table counts each worker's tasks as the store records them (extra.trained_by), and the
    // participation timeline's hover and the client table name the workers, live and for the stored run.
    void remoteRunEqualsLocalAndNamesWorkers() {
        MainWindow w;
        const QString db = path(QStringLiteral("equal.sqlite"));
        w.setDatabasePath(db);
        QVERIFY(w.openWorkspace(writeWorkspace(QStringLiteral("equal"))));
        QSignalSpy finished(&w, &MainWindow::runFinished);
        w.startRun(); // on this machine
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kRunTimeoutMs);
        const auto local = finished.at(0).at(0).value<RunSummary>();
        const qint64 localId = finished.at(0).at(1).toLongLong();
        QVERIFY2(local.status == RunStatus::Finished, qPrintable(local.message));
        QVERIFY(w.dashboard()->workerOf(0).isEmpty());
        QVERIFY(trainedBy(db, localId).at(0).isEmpty());

        WorkersPanel *panel = w.workersPanel();
        QVERIFY(listenOnLoopback(panel));
        Worker w1(panel->endpoint(), QStringLiteral("w1"), 1, kInsecure);
        Worker w2(panel->endpoint(), QStringLiteral("w2"), 2, kInsecure);
        QTRY_COMPARE_WITH_TIMEOUT(panel->model()->connectedCount(), 2, kJoinTimeoutMs);
        panel->setExecution(WorkersPanel::Remote);
        panel->minWorkersBox()->setValue(2);
        w.startRun();
        QVERIFY(w.isRunning());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kRunTimeoutMs);
        const auto remote = finished.at(1).at(0).value<RunSummary>();
        const qint64 remoteId = finished.at(1).at(1).toLongLong();
        QVERIFY2(remote.status == RunStatus::Finished, qPrintable(remote.message));
        QVERIFY(panel->logText().contains(QLatin1String("waiting for 2 workers on ")));
        QVERIFY(panel->logText().contains(QStringLiteral("run #%1 trains on the workers").arg(remoteId)));

        // Bit for bit.
        QVERIFY(local.finalTestAccuracy && remote.finalTestAccuracy);
        QCOMPARE(*remote.finalTestAccuracy, *local.finalTestAccuracy);
        QCOMPARE(*remote.finalTestLoss, *local.finalTestLoss);
        {
            RunStore store(db, RunStore::Access::ReadOnly);
            const auto a = store.model(localId), b = store.model(remoteId);
            QVERIFY(a && b && !a->isEmpty());
            QVERIFY(*a == *b);
        }

        // Every client of every round trained on a worker, and the table counts them.
        const QList<QJsonObject> byRound = trainedBy(db, remoteId);
        QCOMPARE(byRound.size(), 3);
        QHash<QString, int> tasks;
        for (const QJsonObject &round : byRound) {
            QCOMPARE(round.size(), 4); // per_round
            for (const QJsonValue &worker : round)
                ++tasks[worker.toString()];
        }
        QVERIFY2(tasks.value(QStringLiteral("w1")) > 0 && tasks.value(QStringLiteral("w2")) > 0,
                 qPrintable(QJsonDocument(byRound.first()).toJson()));
        WorkersModel *model = panel->model();
        QTRY_COMPARE(model->index(model->rowOf(QStringLiteral("w1")), WorkersModel::Done).data().toInt(),
                     tasks.value(QStringLiteral("w1")));
        QCOMPARE(model->index(model->rowOf(QStringLiteral("w2")), WorkersModel::Done).data().toInt(),
                 tasks.value(QStringLiteral("w2")));
        QCOMPARE(model->index(0, WorkersModel::Done).data().toInt() +
                     model->index(1, WorkersModel::Done).data().toInt(),
                 12);
        QVERIFY(cell(model, 0, WorkersModel::Rate) != QStringLiteral("—")); // measured

        // The timeline's hover text and the client table name the worker (as the store has it).
        const auto checkDashboard = [&](const QString &when) {
            Dashboard *d = w.dashboard();
            d->flush();
            QCOMPARE(d->roundCount(), 3);
            for (int round = 0; round < 3; ++round)
                for (auto it = byRound[round].begin(); it != byRound[round].end(); ++it) {
                    const QString text = d->participationText(it.key().toInt(), round);
                    QVERIFY2(text.endsWith(QStringLiteral("trained on worker %1").arg(it.value().toString())),
                             qPrintable(when + QStringLiteral(": ") + text));
                }
            // The worker of each client's last trained round.
            QAbstractItemModel *table = d->clientTable()->model();
            int worker = -1;
            for (int c = 0; c < table->columnCount(); ++c)
                if (table->headerData(c, Qt::Horizontal).toString() == Dashboard::tr("Worker")) worker = c;
            QVERIFY(worker >= 0);
            QVERIFY(!d->clientTable()->isColumnHidden(worker));
            for (int row = 0; row < table->rowCount(); ++row) {
                const int id = table->index(row, 0).data().toInt();
                QString last;
                for (const QJsonObject &round : byRound)
                    if (round.contains(QString::number(id)))
                        last = round.value(QString::number(id)).toString();
                QCOMPARE(table->index(row, worker).data().toString(), last);
                QCOMPARE(d->workerOf(id), last);
            }
        };
        checkDashboard(QStringLiteral("live"));
        w.showStoredRun(localId);
        QVERIFY(w.dashboard()->participationText(0, 0).contains(QLatin1String("client 0")));
        QVERIFY(!w.dashboard()->participationText(0, 0).contains(QLatin1String("worker")));
        w.showStoredRun(remoteId);
        checkDashboard(QStringLiteral("stored"));

        // The hover itself: the mouse over a trained cell of the timeline shows that text as its tooltip.
        w.tabs()->setCurrentIndex(MainWindow::DashboardTab);
        w.resize(1280, 960);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto *grid = w.dashboard()->findChild<QWidget *>(QStringLiteral("participation"));
        QVERIFY(grid && grid->isVisible());
        const auto first = byRound[0].begin();
        const int client = first.key().toInt();
        const int row = int(w.dashboard()->rowOrder().indexOf(client));
        QVERIFY(row >= 0);
        const QRect area = grid->rect().adjusted(2, 2, -2, -2);
        const QPoint at(area.left() + int(area.width() * 0.5 / 3), // column of round 1 of 3
                        area.top() + int(area.height() * (row + 0.5) / w.dashboard()->clientCount()));
        QTest::mouseMove(grid, at);
        QTRY_VERIFY(QToolTip::isVisible());
        QCOMPARE(QToolTip::text(), w.dashboard()->participationText(client, 0));
        QVERIFY(
            QToolTip::text().endsWith(QStringLiteral("trained on worker %1").arg(first.value().toString())));
    }

    // Hand-made rounds: a client trained on this machine in a remote round (the fallback) and a local round.
    void timelineTextsOfMixedRounds() {
        Dashboard d;
        const auto round = [](int n, const QJsonObject &trainedBy) {
            RoundMetrics m;
            m.round = n;
            for (int id = 0; id < 3; ++id) {
                ClientRoundMetrics c;
                c.clientId = id;
                c.group = QStringLiteral("g");
                c.trained = id < 2;
                m.clients.push_back(c);
            }
            if (!trainedBy.isEmpty()) m.extra.insert(QStringLiteral("trained_by"), trainedBy);
            return m;
        };
        d.setRounds({round(1, {}), round(2, QJsonObject{{QStringLiteral("0"), QStringLiteral("node-a")}})});
        QCOMPARE(d.participationText(0, 0), QStringLiteral("client 0 (g), round 1: trained"));
        QCOMPARE(d.participationText(0, 1),
                 QStringLiteral("client 0 (g), round 2: trained on worker node-a"));
        QCOMPARE(d.participationText(1, 1), QStringLiteral("client 1 (g), round 2: trained on this machine"));
        QCOMPARE(d.participationText(2, 1), QStringLiteral("client 2 (g), round 2: not selected"));
        QCOMPARE(d.workerOf(0), QStringLiteral("node-a"));
        QCOMPARE(d.workerOf(1), Dashboard::tr("this machine"));
        QCOMPARE(d.workerOf(2), QString());
        d.setRounds({round(1, {})}); // a local run: no Worker column
        QCOMPARE(d.workerOf(0), QString());
        bool hidden = false;
        for (int c = 0; c < d.clientTable()->model()->columnCount(); ++c)
            if (d.clientTable()->model()->headerData(c, Qt::Horizontal).toString() == Dashboard::tr("Worker"))
                hidden = d.clientTable()->isColumnHidden(c);
        QVERIFY(hidden);
    }
};

QTEST_MAIN(TestWorkers)
#include "test_workers.moc"
