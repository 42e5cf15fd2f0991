#include "store/RunStore.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <limits>
#include <optional>

using namespace fedwb;

namespace {

constexpr quint64 kBigSeed = 18446744073709551557ull; // > 2^53: must survive exactly

// A raw connection to a store file, to inspect or tamper with it behind RunStore's back.
class RawDb {
public:
    explicit RawDb(const QString &path)
        : m_name(QStringLiteral("test-raw-%1").arg(++s_counter)) {
        m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        m_db.setDatabaseName(path);
        m_ok = m_db.open();
    }
    ~RawDb() {
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_name);
    }
    bool ok() const { return m_ok; }
    bool exec(const QString &sql) {
        QSqlQuery q(m_db);
        const bool ok = q.exec(sql);
        if (!ok) qWarning("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
        return ok;
    }
    QVariant scalar(const QString &sql) {
        QSqlQuery q(m_db);
        if (!q.exec(sql) || !q.next()) return {};
        return q.value(0);
    }

private:
    static inline int s_counter = 0;
    QString m_name;
    QSqlDatabase m_db;
    bool m_ok = false;
};

ClientRoundMetrics client(int id, bool trained, std::optional<double> trainLoss,
                          std::optional<double> accuracy, std::optional<double> loss,
                          std::int64_t trainSamples, std::int64_t testSamples) {
    ClientRoundMetrics c;
    c.clientId = id;
    c.trained = trained;
    c.trainLoss = trainLoss;
    c.accuracy = accuracy;
    c.loss = loss;
    c.trainSamples = trainSamples;
    c.testSamples = testSamples;
    return c;
}

// Three rounds: 1 and 3 evaluated (with per-client test metrics), 2 training only.
QList<RoundMetrics> sampleRounds() {
    RoundMetrics r1;
    r1.round = 1;
    r1.evaluated = true;
    r1.testAccuracy = 0.625;
    r1.testLoss = 1.25;
    r1.trainLoss = 1.5;
    r1.fairness = Fairness{0.7, 0.05, 0.6, 0.8, 0.99};
    r1.clients = {client(0, true, 1.5, 0.8125, 0.5, 120, 30),
                  client(1, false, std::nullopt, 0.5, 0.75, 100, 25),
                  client(3, true, 1.25, 0.9, 0.25, 80, 20)};
    r1.clients[0].group = QStringLiteral("phones");
    r1.clients[0].personalAccuracy = 0.9375;
    r1.clients[0].steps = 17;
    r1.clientLr = 0.025;
    r1.epsilon = 0.75; // privacy.mode central
    r1.asr = 0.125;    // a backdoor group
    r1.extra =
        QJsonObject{{QStringLiteral("secure_aggregation"), QJsonObject{{QStringLiteral("bytes"), 96}}}};
    r1.clients[1].dropped = true;
    r1.clients[2].group = QStringLiteral("servers");
    r1.clientsSelected = 2;
    r1.roundSeconds = 1.5;
    r1.wallSeconds = 1.5;
    r1.bytesUp = 4096;
    r1.bytesDown = 8192;

    RoundMetrics r2;
    r2.round = 2;
    r2.evaluated = false;
    r2.trainLoss = 1.125;
    r2.clients = {client(1, true, 1.0, std::nullopt, std::nullopt, 100, 25),
                  client(2, true, 0.75, std::nullopt, std::nullopt, 90, 10)};
    r2.clientsSelected = 2;
    r2.roundSeconds = 0.75;
    r2.wallSeconds = 2.25;
    r2.bytesUp = 5000000000LL; // > 2^32
    r2.bytesDown = 6000;

    RoundMetrics r3;
    r3.round = 3;
    r3.evaluated = true;
    r3.testAccuracy = 0.875;
    r3.testLoss = 0.375;
    r3.trainLoss = 0.5;
    r3.fairness = Fairness{0.85, 0.1, 0.7, 0.95, 0.98};
    r3.clients = {client(0, true, 0.5, 0.9, 0.3, 120, 30), client(2, false, std::nullopt, 0.8, 0.4, 90, 10)};
    r3.clientsSelected = 1;
    r3.roundSeconds = 0.5;
    r3.wallSeconds = 2.75;
    r3.bytesUp = 100;
    r3.bytesDown = 200;
    return {r1, r2, r3};
}

QJsonObject sampleSpec() {
    return QJsonObject{
        {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("mnist")}}},
        {QStringLiteral("rounds"), 3},
        {QStringLiteral("strategy"), QStringLiteral("fedavg")}};
}

// Creates a run with sampleRounds() recorded; returns its id.
qint64 createSampleRun(RunStore &store, quint64 seed = kBigSeed) {
    const qint64 id =
        store.createRun(QStringLiteral("baseline"), QStringLiteral("/tmp/w.fedwb"), sampleSpec(), seed, 3);
    if (id <= 0) return id;
    for (const RoundMetrics &m : sampleRounds())
        if (!store.recordRound(id, m)) return -1;
    return id;
}

qint64 deadPid() {
    // Above pid_max no process can exist, so kill(pid, 0) fails with ESRCH.
    QFile f(QStringLiteral("/proc/sys/kernel/pid_max"));
    qint64 pidMax = 4194304;
    if (f.open(QIODevice::ReadOnly)) {
        bool ok = false;
        const qint64 v = QString::fromLatin1(f.readAll()).trimmed().toLongLong(&ok);
        if (ok) pidMax = v;
    }
    return pidMax + 1;
}

void compareClient(const ClientRoundMetrics &a, const ClientRoundMetrics &b) {
    QCOMPARE(a.clientId, b.clientId);
    QCOMPARE(a.trained, b.trained);
    QCOMPARE(a.trainLoss, b.trainLoss);
    QCOMPARE(a.accuracy, b.accuracy);
    QCOMPARE(a.loss, b.loss);
    QCOMPARE(a.trainSamples, b.trainSamples);
    QCOMPARE(a.testSamples, b.testSamples);
    QCOMPARE(a.group, b.group);
    QCOMPARE(a.personalAccuracy, b.personalAccuracy);
    QCOMPARE(a.steps, b.steps);
    QCOMPARE(a.dropped, b.dropped);
}

void compareRound(const RoundMetrics &a, const RoundMetrics &b) {
    QCOMPARE(a.round, b.round);
    QCOMPARE(a.evaluated, b.evaluated);
    QCOMPARE(a.trainLoss, b.trainLoss);
    // Test metrics exist on evaluation rounds only; elsewhere they read back as absent (NaN), never as 0.
    const double Fairness::*fields[] = {&Fairness::mean, &Fairness::std, &Fairness::worst10,
                                        &Fairness::best10, &Fairness::jain};
    if (b.evaluated) {
        QCOMPARE(a.testAccuracy, b.testAccuracy);
        QCOMPARE(a.testLoss, b.testLoss);
        for (const auto field : fields)
            QCOMPARE(a.fairness.*field, b.fairness.*field);
    } else {
        QVERIFY(std::isnan(a.testAccuracy) && std::isnan(a.testLoss));
        for (const auto field : fields)
            QVERIFY(std::isnan(a.fairness.*field));
    }
    QCOMPARE(a.clientsSelected, b.clientsSelected);
    QCOMPARE(a.roundSeconds, b.roundSeconds);
    QCOMPARE(a.wallSeconds, b.wallSeconds);
    QCOMPARE(a.bytesUp, b.bytesUp);
    QCOMPARE(a.bytesDown, b.bytesDown);
    QCOMPARE(a.clientLr, b.clientLr);
    QCOMPARE(a.epsilon, b.epsilon); // NaN (no DP) reads back as NaN
    QCOMPARE(a.asr, b.asr);         // NaN (no backdoor, or not evaluated) reads back as NaN
    QCOMPARE(a.extra, b.extra);
    QCOMPARE(a.clients.size(), b.clients.size());
    for (std::size_t i = 0; i < a.clients.size(); ++i) {
        compareClient(a.clients[i], b.clients[i]);
        if (QTest::currentTestFailed()) return;
    }
}

// Compares round by round; stops at the first difference (check QTest::currentTestFailed() afterwards).
void compareRounds(const QList<RoundMetrics> &got, const QList<RoundMetrics> &expected) {
    QCOMPARE(got.size(), expected.size());
    for (qsizetype i = 0; i < got.size(); ++i) {
        compareRound(got[i], expected[i]);
        if (QTest::currentTestFailed()) return;
    }
}

// Creates the store file `path` with one sample run (see createSampleRun) and closes it again. Returns the
// run's id, or a value <= 0 with the store's error in `error`.
qint64 createSampleRunFile(const QString &path, QString &error) {
    RunStore store(path);
    const qint64 id = createSampleRun(store);
    error = store.lastError();
    return id;
}

// Runs `sql` on the store file behind RunStore's back.
bool tamper(const QString &path, const QString &sql) {
    RawDb raw(path);
    return raw.ok() && raw.exec(sql);
}

} // namespace

class TestStore : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void roundTrip();
    void memoryStore();
    void nonFiniteValuesAreKept();
    void schemaVersion();
    void newerSchemaRefused();
    void hostileSchemaVersionsRefused();
    void foreignDatabaseLeftAlone();
    void corruptStoreReportedAsDamaged();
    void missingTablesReported();
    void runsIdMustBeTheKey();
    void readOnlyAccessNeverWrites();
    void continueRunTruncatesAfterTheCheckpoint();
    void migratesVersion1Store();
    void interruptedRunDetected();
    void aliveOwnerStaysRunning();
    void reusedPidIsInterrupted();
    void otherHostLeftAlone();
    void failedRoundRollsBack();
    void finishRunKeepsRecordedFinalMetrics();
    void runAnnotations();
    void exportJson();
    void exportCsv();
    void deleteRunCascades();
    void modelRoundTrip();
    void defaultPath();

private:
    // A path in this test's own temporary folder.
    QString storePath(const QString &name = QStringLiteral("runs.sqlite")) const {
        return m_dir->filePath(name);
    }

    std::optional<QTemporaryDir> m_dir;
};

void TestStore::init() {
    m_dir.emplace();
    QVERIFY(m_dir->isValid());
}

void TestStore::cleanup() {
    m_dir.reset();
}

void TestStore::roundTrip() {
    const QString path = storePath(QStringLiteral("nested/folder/runs.sqlite")); // parents created
    const QDateTime before = QDateTime::currentDateTimeUtc().addMSecs(-1);
    qint64 id = 0;
    {
        RunStore store(path);
        QVERIFY2(store.isOpen(), qPrintable(store.lastError()));
        id = createSampleRun(store);
        QVERIFY2(id > 0, qPrintable(store.lastError()));

        const std::optional<StoredRun> running = store.run(id);
        QVERIFY(running);
        QCOMPARE(running->status, RunStatus::Running);
        QCOMPARE(running->roundsDone, 3);
        QCOMPARE(running->finalTestAccuracy, std::optional<double>(0.875)); // from the last evaluated round
        QCOMPARE(running->finalTestLoss, std::optional<double>(0.375));
        QVERIFY(!running->endedAt.isValid());

        RunSummary summary;
        summary.status = RunStatus::Finished;
        summary.roundsDone = 3;
        summary.finalTestAccuracy = 0.8750000000000001;
        summary.finalTestLoss = 0.375;
        summary.wallSeconds = 2.875;
        summary.message = QStringLiteral("done");
        QVERIFY2(store.finishRun(id, summary), qPrintable(store.lastError()));
    }
    QVERIFY(QFile::exists(path));

    RunStore store(path);
    QVERIFY2(store.isOpen(), qPrintable(store.lastError()));
    const QList<StoredRun> all = store.runs();
    QCOMPARE(all.size(), 1);
    const StoredRun &r = all.first();
    QCOMPARE(r.id, id);
    QCOMPARE(r.name, QStringLiteral("baseline"));
    QCOMPARE(r.workspace, QStringLiteral("/tmp/w.fedwb"));
    QCOMPARE(r.spec, sampleSpec());
    QCOMPARE(r.seed, kBigSeed);
    QCOMPARE(r.status, RunStatus::Finished);
    QVERIFY(r.startedAt.isValid());
    QVERIFY(r.startedAt >= before);
    QVERIFY(r.endedAt.isValid());
    QVERIFY(r.endedAt >= r.startedAt);
    QVERIFY(r.endedAt <= QDateTime::currentDateTimeUtc());
    QVERIFY(!r.appVersion.isEmpty());
    QCOMPARE(r.roundsPlanned, 3);
    QCOMPARE(r.roundsDone, 3);
    QCOMPARE(r.finalTestAccuracy, std::optional<double>(0.8750000000000001));
    QCOMPARE(r.finalTestLoss, std::optional<double>(0.375));
    QCOMPARE(r.wallSeconds, 2.875);
    QCOMPARE(r.message, QStringLiteral("done"));

    const QList<RoundMetrics> got = store.rounds(id);
    compareRounds(got, sampleRounds());
    if (QTest::currentTestFailed()) return;
    // A round that was not evaluated reads back without test metrics (NaN), not with zeros that look
    // measured.
    QVERIFY(std::isnan(got[1].testAccuracy));
    QVERIFY(std::isnan(got[1].fairness.jain));

    QVERIFY(!store.run(id + 100));
    QVERIFY(store.rounds(id + 100).isEmpty());
}

void TestStore::memoryStore() {
    RunStore a(QStringLiteral(":memory:"));
    RunStore b(QStringLiteral(":memory:"));
    QVERIFY2(a.isOpen(), qPrintable(a.lastError()));
    QVERIFY2(b.isOpen(), qPrintable(b.lastError()));
    QCOMPARE(a.schemaVersion(), RunStore::kSchemaVersion);

    const qint64 first = createSampleRun(a, 7);
    QVERIFY2(first > 0, qPrintable(a.lastError()));
    const qint64 second = a.createRun(QStringLiteral("second"), QString(), QJsonObject(), 8, 10);
    QVERIFY(second > first);

    const QList<StoredRun> runs = a.runs();
    QCOMPARE(runs.size(), 2);
    QCOMPARE(runs[0].id, second); // newest first
    QCOMPARE(runs[1].id, first);
    QCOMPARE(runs[0].status, RunStatus::Running);
    QCOMPARE(runs[0].roundsPlanned, 10);
    QCOMPARE(a.rounds(first).size(), 3);

    QVERIFY(b.runs().isEmpty()); // each store has its own connection and database
}

// SQLite has no NaN: a diverged loss must not make the round's transaction fail (the round would be lost).
void TestStore::nonFiniteValuesAreKept() {
    RunStore store(QStringLiteral(":memory:"));
    const qint64 id = store.createRun(QStringLiteral("nan"), QString(), QJsonObject(), 1, 1);
    QVERIFY(id > 0);
    RoundMetrics m;
    m.round = 1;
    m.evaluated = true;
    m.testAccuracy = 0.1;
    m.testLoss = std::numeric_limits<double>::infinity();
    m.trainLoss = std::nan("");
    ClientRoundMetrics c;
    c.clientId = 0;
    c.trained = true;
    c.trainLoss = std::nan("");
    c.accuracy = 0.1;
    m.clients.push_back(c);
    QVERIFY2(store.recordRound(id, m), qPrintable(store.lastError()));
    const auto rounds = store.rounds(id);
    QCOMPARE(rounds.size(), 1);
    QVERIFY(std::isnan(rounds[0].trainLoss));
    QVERIFY(!rounds[0].clients[0].trainLoss.has_value());
    QCOMPARE(*rounds[0].clients[0].accuracy, 0.1);
    const QJsonObject round = store.exportJson(id).value(QStringLiteral("rounds")).toArray().at(0).toObject();
    QVERIFY(round.value(QStringLiteral("train_loss")).isNull());
    QCOMPARE(round.value(QStringLiteral("test_accuracy")).toDouble(), 0.1);
    const QStringList csv = store.exportCsv(id).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY2(!csv.at(1).contains(QStringLiteral("nan")) && !csv.at(1).contains(QStringLiteral("inf")),
             qPrintable(csv.at(1)));
}

void TestStore::schemaVersion() {
    const QString path = storePath();
    {
        RunStore store(path);
        QVERIFY2(store.isOpen(), qPrintable(store.lastError()));
        QCOMPARE(store.schemaVersion(), RunStore::kSchemaVersion);
    }
    {
        RawDb raw(path);
        QVERIFY(raw.ok());
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), RunStore::kSchemaVersion);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
    }
    // Reopening an up-to-date store migrates nothing and keeps the data.
    RunStore again(path);
    QVERIFY2(again.isOpen(), qPrintable(again.lastError()));
    QCOMPARE(again.schemaVersion(), RunStore::kSchemaVersion);
}

// A store written by the previous schema (version 1: no environment, groups, personalized accuracy or
// checkpoints) opens, migrates to the current version and keeps every run and round.
// A negative user_version (or one no migration starts from) is refused by name, never a crash.
void TestStore::hostileSchemaVersionsRefused() {
    for (const int version : {-1, -2147483647}) {
        const QString path = storePath(QStringLiteral("negative%1.sqlite").arg(-version));
        QString error;
        QVERIFY2(createSampleRunFile(path, error) > 0, qPrintable(error));
        QVERIFY(tamper(path, QStringLiteral("PRAGMA user_version = %1").arg(version)));
        for (const auto access : {RunStore::Access::ReadWrite, RunStore::Access::ReadOnly}) {
            RunStore store(path, access);
            QVERIFY(!store.isOpen());
            QVERIFY2(store.lastError().contains(QStringLiteral("is not a FedWorkbench run store (its schema "
                                                               "version is %1)")
                                                    .arg(version)),
                     qPrintable(store.lastError()));
            QVERIFY(store.runs().isEmpty());
        }
        RawDb raw(path);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), version); // untouched
        QCOMPARE(raw.scalar(QStringLiteral("SELECT COUNT(*) FROM rounds")).toInt(), 3);
    }
}

// Another program's SQLite database is not turned into a run store.
void TestStore::foreignDatabaseLeftAlone() {
    const QString path = storePath(QStringLiteral("foreign.sqlite"));
    QVERIFY(tamper(path, QStringLiteral("CREATE TABLE contacts (name TEXT)")));
    RunStore store(path);
    QVERIFY(!store.isOpen());
    QVERIFY2(store.lastError().contains(
                 QStringLiteral("not a FedWorkbench run store (it holds the tables contacts)")),
             qPrintable(store.lastError()));
    RawDb raw(path);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT COUNT(*) FROM sqlite_master")).toInt(), 1);
}

// A damaged page is reported as damage (quick_check on open), never listed as "no runs".
void TestStore::corruptStoreReportedAsDamaged() {
    const QString path = storePath(QStringLiteral("corrupt.sqlite"));
    QString error;
    QVERIFY2(createSampleRunFile(path, error) > 0, qPrintable(error));
    int runsRoot = 0;
    {
        RawDb raw(path);
        runsRoot =
            raw.scalar(QStringLiteral("SELECT rootpage FROM sqlite_master WHERE name = 'runs'")).toInt();
        QVERIFY(raw.exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")));
    }
    QVERIFY(runsRoot > 1);
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.seek(qint64(runsRoot - 1) * 4096 + 8)); // the cell pointers of the runs table's page
    QCOMPARE(f.write(QByteArray(32, '\x33')), qint64(32));
    f.close();
    for (const auto access : {RunStore::Access::ReadWrite, RunStore::Access::ReadOnly}) {
        RunStore store(path, access);
        QVERIFY(!store.isOpen());
        QVERIFY2(store.lastError().contains(
                     QStringLiteral("is damaged (PRAGMA quick_check: On tree page %1").arg(runsRoot)),
                 qPrintable(store.lastError()));
    }
}

// Tables dropped from a store: damaged, with the missing tables named; the others are not touched.
void TestStore::missingTablesReported() {
    const QString path = storePath(QStringLiteral("dropped.sqlite"));
    QString error;
    QVERIFY2(createSampleRunFile(path, error) > 0, qPrintable(error));
    QVERIFY(tamper(path, QStringLiteral("DROP TABLE client_rounds")));
    RunStore store(path);
    QVERIFY(!store.isOpen());
    QVERIFY2(store.lastError().contains(QStringLiteral("is damaged: the table(s) client_rounds are missing")),
             qPrintable(store.lastError()));
    RawDb raw(path);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT COUNT(*) FROM rounds")).toInt(), 3);
}

// A damaged schema in which runs.id is no longer the table's integer key (found by fuzz_store): damage,
// reported at open, not runs listed with id 0 that cannot be read back.
void TestStore::runsIdMustBeTheKey() {
    const QString path = storePath(QStringLiteral("id.sqlite"));
    QString error;
    QVERIFY2(createSampleRunFile(path, error) > 0, qPrintable(error));
    {
        RawDb raw(path); // writable_schema holds for one connection
        QVERIFY(raw.exec(QStringLiteral("PRAGMA writable_schema = ON")));
        QVERIFY(raw.exec(QStringLiteral("UPDATE sqlite_master SET sql = replace(sql, 'id INTEGER PRIMARY KEY "
                                        "AUTOINCREMENT', 'id INTEGER') WHERE name = 'runs'")));
    }
    RunStore store(path, RunStore::Access::ReadOnly);
    QVERIFY(!store.isOpen());
    QVERIFY2(store.lastError().contains(QStringLiteral("runs.id is not the table's integer key")),
             qPrintable(store.lastError()));
}

// Read-only access never writes: the interrupted run is shown as interrupted, the file keeps "running".
void TestStore::readOnlyAccessNeverWrites() {
    const QString path = storePath(QStringLiteral("readonly.sqlite"));
    QString error;
    const qint64 id = createSampleRunFile(path, error);
    QVERIFY2(id > 0, qPrintable(error));
    QVERIFY(tamper(path, QStringLiteral("UPDATE runs SET owner_pid = %1").arg(deadPid())));
    QVERIFY(tamper(path, QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray before = f.readAll();
    f.close();
    {
        RunStore store(path, RunStore::Access::ReadOnly);
        QVERIFY2(store.isOpen(), qPrintable(store.lastError()));
        QVERIFY(store.isReadOnly());
        QCOMPARE(store.run(id)->status, RunStatus::Interrupted);
        compareRounds(store.rounds(id), sampleRounds());
        if (QTest::currentTestFailed()) return;
        QCOMPARE(store.createRun(QStringLiteral("x"), QString(), QJsonObject(), 1, 1), qint64(-1));
        QVERIFY2(store.lastError().contains(QStringLiteral("read-only")), qPrintable(store.lastError()));
        QCOMPARE(store.runs().size(), 1); // a later call starts without the earlier error
        QVERIFY(store.lastError().isEmpty());
    }
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), before);
    RawDb raw(path);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT status FROM runs")).toString(), QStringLiteral("running"));
    // A store that does not exist is not created by a reader.
    RunStore missing(storePath(QStringLiteral("nope.sqlite")), RunStore::Access::ReadOnly);
    QVERIFY(!missing.isOpen());
    QVERIFY(!QFileInfo::exists(storePath(QStringLiteral("nope.sqlite"))));
}

// continueRun drops the rounds after the checkpoint (client rows, checkpoints and model with them), makes the
// run running and takes the new spec; a running run is refused.
void TestStore::continueRunTruncatesAfterTheCheckpoint() {
    RunStore store(storePath());
    QVERIFY2(store.isOpen(), qPrintable(store.lastError()));
    const qint64 id = createSampleRun(store);
    QVERIFY2(id > 0, qPrintable(store.lastError()));
    QVERIFY(store.saveModel(id, 3, QByteArray(8, 'm'), 2));
    {
        RawDb checkpoint(storePath()); // the newest checkpoint is after round 1
        QVERIFY(checkpoint.exec(QStringLiteral("INSERT INTO checkpoints VALUES (%1, 1, x'01')").arg(id)));
    }
    QVERIFY(!store.continueRun(id, 1, sampleSpec(), 3)); // still running (this process owns it)
    QVERIFY2(store.lastError().contains(QStringLiteral("still running")), qPrintable(store.lastError()));
    RunSummary stopped;
    stopped.status = RunStatus::Stopped;
    stopped.roundsDone = 3;
    QVERIFY(store.finishRun(id, stopped));

    QJsonObject spec = sampleSpec();
    spec.insert(QStringLiteral("rounds"), 5);
    // A caller that read an older state (here: none) than the newest checkpoint is refused: the run changed.
    QVERIFY(!store.continueRun(id, 0, spec, 5));
    QVERIFY2(store.lastError().contains(QStringLiteral("changed meanwhile")), qPrintable(store.lastError()));
    QCOMPARE(store.rounds(id).size(), 3); // and nothing was removed
    QVERIFY2(store.continueRun(id, 1, spec, 5), qPrintable(store.lastError()));
    const std::optional<StoredRun> r = store.run(id);
    QCOMPARE(r->status, RunStatus::Running);
    QCOMPARE(r->roundsDone, 1);
    QCOMPARE(r->roundsPlanned, 5);
    QCOMPARE(r->spec, spec);
    QCOMPARE(r->finalTestAccuracy, std::optional<double>(0.625)); // round 1's, the newest kept
    QCOMPARE(r->wallSeconds, 1.5);                                // and round 1's wall time
    QVERIFY(!r->endedAt.isValid());
    const QList<RoundMetrics> kept = store.rounds(id);
    QCOMPARE(kept.size(), 1);
    compareRound(kept.first(), sampleRounds().first());
    QVERIFY(!store.model(id));
    RawDb raw(storePath());
    QCOMPARE(raw.scalar(QStringLiteral("SELECT COUNT(*) FROM client_rounds WHERE round > 1")).toInt(), 0);
    QVERIFY(!store.continueRun(id + 100, 0, spec, 5));
    QVERIFY2(store.lastError().contains(QStringLiteral("no such run")), qPrintable(store.lastError()));
}

void TestStore::migratesVersion1Store() {
    const QString path = storePath(QStringLiteral("v1.sqlite"));
    QString error;
    const qint64 id = createSampleRunFile(path, error);
    QVERIFY2(id > 0, qPrintable(error));
    // Take the file back to version 1 exactly: the columns and table that migrations 1 -> 2 -> 3 add are
    // dropped.
    for (const char *sql :
         {"DROP TABLE checkpoints", "ALTER TABLE rounds DROP COLUMN epsilon",
          "ALTER TABLE rounds DROP COLUMN asr", "ALTER TABLE rounds DROP COLUMN extra_json",
          "DROP INDEX runs_sweep", "ALTER TABLE runs DROP COLUMN tags_json",
          "ALTER TABLE runs DROP COLUMN notes", "ALTER TABLE runs DROP COLUMN sweep_id",
          "ALTER TABLE runs DROP COLUMN sweep_point_json", "ALTER TABLE client_rounds DROP COLUMN dropped",
          "ALTER TABLE runs DROP COLUMN environment_json", "ALTER TABLE client_rounds DROP COLUMN group_name",
          "ALTER TABLE client_rounds DROP COLUMN personal_accuracy",
          "ALTER TABLE client_rounds DROP COLUMN steps", "ALTER TABLE rounds DROP COLUMN client_lr",
          "PRAGMA user_version = 1"})
        QVERIFY2(tamper(path, QString::fromLatin1(sql)), sql);
    RunStore store(path);
    QVERIFY2(store.isOpen(), qPrintable(store.lastError()));
    QCOMPARE(store.schemaVersion(), RunStore::kSchemaVersion);
    const auto run = store.run(id);
    QVERIFY(run);
    QCOMPARE(run->name, QStringLiteral("baseline"));
    const QList<RoundMetrics> rounds = store.rounds(id);
    QCOMPARE(rounds.size(), 3);
    QCOMPARE(rounds[0].clients.size(), std::size_t(3));
    QCOMPARE(rounds[0].clients[0].accuracy, std::optional<double>(0.8125));
    QVERIFY(rounds[0].clients[0].group.isEmpty()); // not known for an old run
    QVERIFY(!rounds[0].clients[0].personalAccuracy);
    QVERIFY(store.environment(id).isEmpty());
    QVERIFY(store.checkpointRounds(id).isEmpty());
    QVERIFY(std::isnan(rounds[0].epsilon)); // no privacy accounting then
    QVERIFY(std::isnan(rounds[0].asr));
    QVERIFY(rounds[0].extra.isEmpty());
    QVERIFY(!rounds[0].clients[1].dropped);
    QVERIFY(run->tags.isEmpty() && run->notes.isEmpty() && run->sweepId.isEmpty());
    // And the migrated store takes new data.
    RoundMetrics more;
    more.round = 4;
    more.checkpoint = QByteArray("state");
    QVERIFY2(store.recordRound(id, more), qPrintable(store.lastError()));
    QCOMPARE(store.checkpointRounds(id), (QList<int>{4}));
}

void TestStore::newerSchemaRefused() {
    const QString path = storePath(QStringLiteral("future.sqlite"));
    const int future = RunStore::kSchemaVersion + 5;
    QVERIFY(tamper(path, QStringLiteral("CREATE TABLE something_new (x INTEGER)")));
    QVERIFY(tamper(path, QStringLiteral("PRAGMA user_version = %1").arg(future)));
    RunStore store(path);
    QVERIFY(!store.isOpen());
    const QString error = store.lastError();
    QVERIFY2(error.contains(QStringLiteral("schema version %1").arg(future)), qPrintable(error));
    QVERIFY2(error.contains(path), qPrintable(error));
    QVERIFY2(error.contains(QStringLiteral("(%1)").arg(RunStore::kSchemaVersion)), qPrintable(error));
    QCOMPARE(store.createRun(QStringLiteral("x"), QString(), QJsonObject(), 1, 1), qint64(-1));
    QVERIFY(store.runs().isEmpty());
    QCOMPARE(store.lastError(), error); // the reason it is closed stays readable

    RawDb raw(path);
    QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), future); // untouched
}

void TestStore::interruptedRunDetected() {
    const QString path = storePath();
    QString error;
    const qint64 id = createSampleRunFile(path, error);
    QVERIFY2(id > 0, qPrintable(error));
    QVERIFY(
        tamper(path, QStringLiteral("UPDATE runs SET owner_pid = %1 WHERE id = %2").arg(deadPid()).arg(id)));
    RunStore store(path);
    QVERIFY2(store.isOpen(), qPrintable(store.lastError()));
    const std::optional<StoredRun> r = store.run(id);
    QVERIFY(r);
    QCOMPARE(r->status, RunStatus::Interrupted);
    QVERIFY2(r->message.contains(QStringLiteral("ended before the run finished")), qPrintable(r->message));
    QCOMPARE(r->roundsDone, 3);
    QCOMPARE(r->wallSeconds, 2.75); // the last recorded round's wall time
    QCOMPARE(r->finalTestAccuracy, std::optional<double>(0.875));

    compareRounds(store.rounds(id), sampleRounds());
}

void TestStore::aliveOwnerStaysRunning() {
    const QString path = storePath();
    RunStore writer(path); // the "CLI", still running
    QVERIFY2(writer.isOpen(), qPrintable(writer.lastError()));
    const qint64 id = createSampleRun(writer);
    QVERIFY2(id > 0, qPrintable(writer.lastError()));

    {
        RunStore reader(path); // the "GUI" opening the same store meanwhile
        QVERIFY2(reader.isOpen(), qPrintable(reader.lastError()));
        const std::optional<StoredRun> r = reader.run(id);
        QVERIFY(r);
        QCOMPARE(r->status, RunStatus::Running);
        QCOMPARE(reader.rounds(id).size(), 3);
    }
    // The writer keeps writing after another store was opened and closed.
    RoundMetrics r4;
    r4.round = 4;
    r4.trainLoss = 0.25;
    QVERIFY2(writer.recordRound(id, r4), qPrintable(writer.lastError()));
    QCOMPARE(writer.run(id)->roundsDone, 4);
    QCOMPARE(writer.run(id)->status, RunStatus::Running);
}

// The owner pid is alive but belongs to a different process (pid reuse, a restarted container): the start
// time recorded with the run does not match, so the run is interrupted.
void TestStore::reusedPidIsInterrupted() {
    const QString path = storePath();
    qint64 id = 0, other = 0;
    {
        RunStore store(path);
        id = createSampleRun(store);
        other = createSampleRun(store);
        QVERIFY2(id > 0 && other > 0, qPrintable(store.lastError()));
    }
    // Our own (alive) pid, but another process's start key.
    QVERIFY(tamper(
        path, QStringLiteral("UPDATE runs SET owner_start = 'another-boot/12345' WHERE id = %1").arg(id)));
    RunStore store(path);
    QCOMPARE(store.run(id)->status, RunStatus::Interrupted);
    QCOMPARE(store.run(other)->status, RunStatus::Running); // its start key is ours: still running
}

void TestStore::otherHostLeftAlone() {
    const QString path = storePath();
    qint64 id = 0;
    {
        RunStore store(path);
        QVERIFY2(store.isOpen(), qPrintable(store.lastError()));
        id = store.createRun(QStringLiteral("remote"), QString(), QJsonObject(), 1, 5);
        QVERIFY(id > 0);
    }
    QVERIFY(tamper(path, QStringLiteral("UPDATE runs SET owner_pid = %1, owner_host = 'not-%2' WHERE id = %3")
                             .arg(deadPid())
                             .arg(QSysInfo::machineHostName())
                             .arg(id)));
    RunStore store(path);
    QVERIFY2(store.isOpen(), qPrintable(store.lastError()));
    QCOMPARE(store.run(id)->status, RunStatus::Running); // cannot see that host's processes
}

void TestStore::failedRoundRollsBack() {
    RunStore store(QStringLiteral(":memory:"));
    QVERIFY(store.isOpen());
    const qint64 id = createSampleRun(store);
    QVERIFY2(id > 0, qPrintable(store.lastError()));

    // Round 1 again, with a different client list: the primary key refuses it and nothing of it stays.
    RoundMetrics again = sampleRounds().first();
    again.clients = {client(7, true, 9.0, 0.1, 9.0, 1, 1)};
    QVERIFY(!store.recordRound(id, again));
    QVERIFY(!store.lastError().isEmpty());
    const QList<RoundMetrics> rounds = store.rounds(id);
    QCOMPARE(rounds.size(), 3);
    QCOMPARE(rounds[0].clients.size(), std::size_t(3));
    for (const RoundMetrics &m : rounds)
        for (const ClientRoundMetrics &c : m.clients)
            QVERIFY(c.clientId != 7);

    // A duplicate client inside one round fails after the round row was inserted: the round row goes too.
    RoundMetrics r5;
    r5.round = 5;
    r5.clients = {client(1, true, 1.0, std::nullopt, std::nullopt, 1, 1),
                  client(1, true, 1.0, std::nullopt, std::nullopt, 1, 1)};
    QVERIFY(!store.recordRound(id, r5));
    QCOMPARE(store.rounds(id).size(), 3);
    QCOMPARE(store.run(id)->roundsDone, 3);

    // Unknown run: the foreign key refuses it.
    RoundMetrics orphan;
    orphan.round = 1;
    QVERIFY(!store.recordRound(id + 1000, orphan));

    // The store is still usable afterwards (no transaction left open).
    RoundMetrics r4;
    r4.round = 4;
    QVERIFY2(store.recordRound(id, r4), qPrintable(store.lastError()));
    QCOMPARE(store.rounds(id).size(), 4);
}

void TestStore::finishRunKeepsRecordedFinalMetrics() {
    RunStore store(QStringLiteral(":memory:"));
    const qint64 id = createSampleRun(store);
    QVERIFY(id > 0);
    RunSummary summary;
    summary.status = RunStatus::Stopped;
    summary.roundsDone = 3;
    summary.wallSeconds = 3.0;
    QVERIFY2(store.finishRun(id, summary), qPrintable(store.lastError()));
    const std::optional<StoredRun> r = store.run(id);
    QCOMPARE(r->status, RunStatus::Stopped);
    QCOMPARE(r->finalTestAccuracy, std::optional<double>(0.875));
    QCOMPARE(r->finalTestLoss, std::optional<double>(0.375));
    QVERIFY(r->endedAt.isValid());

    const qint64 fresh = store.createRun(QStringLiteral("failing"), QString(), QJsonObject(), 1, 2);
    summary.status = RunStatus::Failed;
    summary.roundsDone = 0;
    summary.message = QStringLiteral("out of memory");
    QVERIFY(store.finishRun(fresh, summary));
    QVERIFY(!store.run(fresh)->finalTestAccuracy);
    QCOMPARE(store.run(fresh)->message, QStringLiteral("out of memory"));

    QVERIFY(!store.finishRun(fresh + 1000, summary));
    QVERIFY(!store.lastError().isEmpty());
}

// Names, tags, notes and the sweep a run belongs to: kept, listed, exported; an unknown run is an error.
void TestStore::runAnnotations() {
    RunStore store(QStringLiteral(":memory:"));
    const qint64 id = createSampleRun(store);
    QVERIFY(id > 0);
    QVERIFY2(store.renameRun(id, QStringLiteral("dirichlet 0.1, median")), qPrintable(store.lastError()));
    QVERIFY(store.setTags(id, {QStringLiteral("robust"), QStringLiteral("lesson 3")}));
    QVERIFY(store.setNotes(id, QStringLiteral("median holds against\n20% sign flippers")));
    const QJsonObject point{{QStringLiteral("strategy.name"), QStringLiteral("median")}};
    QVERIFY(store.setSweep(id, QStringLiteral("sweep-1"), point));
    const StoredRun r = *store.run(id);
    QCOMPARE(r.name, QStringLiteral("dirichlet 0.1, median"));
    QCOMPARE(r.tags, (QStringList{QStringLiteral("robust"), QStringLiteral("lesson 3")}));
    QCOMPARE(r.notes, QStringLiteral("median holds against\n20% sign flippers"));
    QCOMPARE(r.sweepId, QStringLiteral("sweep-1"));
    QCOMPARE(r.sweepPoint, point);
    QCOMPARE(store.runs().first().tags.size(), 2);
    // The sample run's evaluated rounds have accuracies 0.625 and 0.875: the best is 0.875.
    QCOMPARE(store.bestAccuracies().value(id, -1), 0.875);
    const QJsonObject exported = store.exportJson(id).value(QStringLiteral("run")).toObject();
    QCOMPARE(exported.value(QStringLiteral("sweep_point")).toObject(), point);
    QCOMPARE(exported.value(QStringLiteral("tags")).toArray().size(), 2);
    QVERIFY(!store.renameRun(id + 99, QStringLiteral("x")));
    QVERIFY2(store.lastError().contains(QStringLiteral("no such run")), qPrintable(store.lastError()));
    QVERIFY(!store.setSweep(id + 99, QStringLiteral("s"), {}));
    QCOMPARE(store.run(id)->sweepId, QStringLiteral("sweep-1")); // untouched
}

void TestStore::exportJson() {
    RunStore store(QStringLiteral(":memory:"));
    const qint64 id = createSampleRun(store);
    QVERIFY2(id > 0, qPrintable(store.lastError()));
    const QJsonObject json = store.exportJson(id);

    const QJsonObject run = json.value(QStringLiteral("run")).toObject();
    QCOMPARE(run.value(QStringLiteral("id")).toInteger(), id);
    QCOMPARE(run.value(QStringLiteral("name")).toString(), QStringLiteral("baseline"));
    QCOMPARE(run.value(QStringLiteral("status")).toString(), runStatusName(RunStatus::Running));
    QCOMPARE(run.value(QStringLiteral("seed")).toString(), QStringLiteral("18446744073709551557")); // > 2^53
    QCOMPARE(run.value(QStringLiteral("rounds_planned")).toInt(), 3);
    QCOMPARE(run.value(QStringLiteral("rounds_done")).toInt(), 3);
    QCOMPARE(run.value(QStringLiteral("final_test_accuracy")).toDouble(), 0.875);
    QVERIFY(run.value(QStringLiteral("ended_at")).isNull());
    QVERIFY(!run.value(QStringLiteral("started_at")).toString().isEmpty());
    QVERIFY(!run.value(QStringLiteral("app_version")).toString().isEmpty());
    QCOMPARE(run.value(QStringLiteral("spec")).toObject(), sampleSpec());

    const QJsonArray rounds = json.value(QStringLiteral("rounds")).toArray();
    QCOMPARE(rounds.size(), 3);
    const QJsonObject r1 = rounds[0].toObject();
    QCOMPARE(r1.value(QStringLiteral("round")).toInt(), 1);
    QCOMPARE(r1.value(QStringLiteral("evaluated")).toBool(), true);
    QCOMPARE(r1.value(QStringLiteral("test_accuracy")).toDouble(), 0.625);
    QCOMPARE(r1.value(QStringLiteral("test_loss")).toDouble(), 1.25);
    QCOMPARE(r1.value(QStringLiteral("train_loss")).toDouble(), 1.5);
    const QJsonObject acc1 = r1.value(QStringLiteral("client_accuracy")).toObject();
    QCOMPARE(acc1.size(), 3);
    QCOMPARE(acc1.value(QStringLiteral("0")).toDouble(), 0.8125);
    QCOMPARE(acc1.value(QStringLiteral("1")).toDouble(), 0.5);
    QCOMPARE(acc1.value(QStringLiteral("3")).toDouble(), 0.9);
    const QJsonObject trainLoss1 = r1.value(QStringLiteral("client_train_loss")).toObject();
    QCOMPARE(trainLoss1.size(), 2); // client 1 did not train
    QCOMPARE(trainLoss1.value(QStringLiteral("3")).toDouble(), 1.25);
    const QJsonObject fairness1 = r1.value(QStringLiteral("fairness")).toObject();
    QCOMPARE(fairness1.value(QStringLiteral("mean")).toDouble(), 0.7);
    QCOMPARE(fairness1.value(QStringLiteral("std")).toDouble(), 0.05);
    QCOMPARE(fairness1.value(QStringLiteral("worst10")).toDouble(), 0.6);
    QCOMPARE(fairness1.value(QStringLiteral("best10")).toDouble(), 0.8);
    QCOMPARE(fairness1.value(QStringLiteral("jain")).toDouble(), 0.99);
    QCOMPARE(r1.value(QStringLiteral("clients_selected")).toInt(), 2);
    QCOMPARE(r1.value(QStringLiteral("round_seconds")).toDouble(), 1.5);
    QCOMPARE(r1.value(QStringLiteral("wall_seconds")).toDouble(), 1.5);
    QCOMPARE(r1.value(QStringLiteral("bytes_up")).toInteger(), 4096);
    QCOMPARE(r1.value(QStringLiteral("bytes_down")).toInteger(), 8192);
    QCOMPARE(r1.value(QStringLiteral("epsilon")).toDouble(), 0.75);
    QCOMPARE(r1.value(QStringLiteral("asr")).toDouble(), 0.125);
    QCOMPARE(r1.value(QStringLiteral("clients_dropped")).toArray(), QJsonArray{1});
    QCOMPARE(r1.value(QStringLiteral("extra")).toObject().value(QStringLiteral("secure_aggregation")),
             QJsonValue(QJsonObject{{QStringLiteral("bytes"), 96}}));

    const QJsonObject r2 = rounds[1].toObject();
    QCOMPARE(r2.value(QStringLiteral("evaluated")).toBool(), false);
    QVERIFY(r2.contains(QStringLiteral("test_accuracy")));
    QVERIFY(r2.value(QStringLiteral("test_accuracy")).isNull());
    QVERIFY(r2.value(QStringLiteral("test_loss")).isNull());
    QVERIFY(r2.value(QStringLiteral("fairness")).isNull());
    QVERIFY(r2.value(QStringLiteral("client_accuracy")).toObject().isEmpty());
    QCOMPARE(r2.value(QStringLiteral("client_train_loss")).toObject().size(), 2);
    QCOMPARE(r2.value(QStringLiteral("bytes_up")).toInteger(), 5000000000LL);
    QVERIFY(r2.contains(QStringLiteral("epsilon")) && r2.value(QStringLiteral("epsilon")).isNull()); // no DP
    QVERIFY(r2.contains(QStringLiteral("asr")) && r2.value(QStringLiteral("asr")).isNull());

    // Survives a trip through text, and a small seed is a plain number.
    const QJsonObject reparsed = QJsonDocument::fromJson(QJsonDocument(json).toJson()).object();
    QCOMPARE(reparsed, json);
    const qint64 small = store.createRun(QStringLiteral("small"), QString(), QJsonObject(), 42, 1);
    const QJsonValue seed =
        store.exportJson(small).value(QStringLiteral("run")).toObject().value(QStringLiteral("seed"));
    QVERIFY(seed.isDouble());
    QCOMPARE(seed.toInteger(), 42);

    QVERIFY(store.exportJson(id + 1000).isEmpty());
}

void TestStore::exportCsv() {
    RunStore store(QStringLiteral(":memory:"));
    const qint64 id = createSampleRun(store);
    QVERIFY2(id > 0, qPrintable(store.lastError()));
    const QString csv = store.exportCsv(id);
    QVERIFY(csv.endsWith(QLatin1Char('\n')));
    const QStringList lines = csv.trimmed().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 4);
    QCOMPARE(lines[0], QStringLiteral("round,evaluated,test_accuracy,test_loss,train_loss,fairness_mean,"
                                      "fairness_std,fairness_worst10,fairness_best10,fairness_jain,"
                                      "clients_selected,round_seconds,wall_seconds,bytes_up,bytes_down,"
                                      "client_accuracy,client_personal_accuracy,epsilon,asr"));
    QCOMPARE(lines[1], QStringLiteral("1,1,0.625,1.25,1.5,0.7,0.05,0.6,0.8,0.99,2,1.5,1.5,4096,8192,"
                                      "\"0:0.8125;1:0.5;3:0.9\",\"0:0.9375\",0.75,0.125"));
    QCOMPARE(lines[2], QStringLiteral("2,0,,,1.125,,,,,,2,0.75,2.25,5000000000,6000,,,,"));
    QCOMPARE(lines[3], QStringLiteral("3,1,0.875,0.375,0.5,0.85,0.1,0.7,0.95,0.98,1,0.5,2.75,100,200,"
                                      "\"0:0.9;2:0.8\",,,"));
    // Every line has as many fields as the header (the quoted fields hold no commas).
    for (const QString &line : lines)
        QCOMPARE(line.count(QLatin1Char(',')), 18);

    QVERIFY(store.exportCsv(id + 1000).isEmpty());
}

void TestStore::deleteRunCascades() {
    const QString path = storePath();
    RunStore store(path);
    QVERIFY2(store.isOpen(), qPrintable(store.lastError()));
    const qint64 keep = createSampleRun(store);
    const qint64 gone = createSampleRun(store);
    QVERIFY(keep > 0 && gone > 0);
    QVERIFY(store.saveModel(gone, 3, QByteArray(16, 'x'), 4));

    const auto count = [&](const QString &table, qint64 runId) {
        RawDb raw(path);
        return raw.scalar(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE run_id = %2").arg(table).arg(runId))
            .toInt();
    };
    QCOMPARE(count(QStringLiteral("rounds"), gone), 3);
    QCOMPARE(count(QStringLiteral("client_rounds"), gone), 7);
    QCOMPARE(count(QStringLiteral("models"), gone), 1);

    QVERIFY2(store.deleteRun(gone), qPrintable(store.lastError()));
    QVERIFY(!store.run(gone));
    QVERIFY(store.rounds(gone).isEmpty());
    QVERIFY(!store.model(gone));
    QCOMPARE(count(QStringLiteral("rounds"), gone), 0);
    QCOMPARE(count(QStringLiteral("client_rounds"), gone), 0);
    QCOMPARE(count(QStringLiteral("models"), gone), 0);

    // The other run is untouched.
    QCOMPARE(store.runs().size(), 1);
    QCOMPARE(store.rounds(keep).size(), 3);
    QCOMPARE(count(QStringLiteral("client_rounds"), keep), 7);

    QVERIFY(!store.deleteRun(gone)); // already gone
}

void TestStore::modelRoundTrip() {
    RunStore store(QStringLiteral(":memory:"));
    const qint64 id = store.createRun(QStringLiteral("m"), QString(), QJsonObject(), 1, 3);
    QVERIFY(id > 0);
    QVERIFY(!store.model(id));

    QByteArray blob;
    for (int i = 0; i < 4096; ++i)
        blob.append(char(i % 256)); // zeros and every byte value
    int round = -1;
    QVERIFY2(store.saveModel(id, 2, blob, blob.size() / 4), qPrintable(store.lastError()));
    std::optional<QByteArray> got = store.model(id, &round);
    QVERIFY(got);
    QCOMPARE(*got, blob);
    QCOMPARE(round, 2);

    // A later save replaces the earlier model.
    const QByteArray later(64, char(0x7f));
    QVERIFY(store.saveModel(id, 3, later, 16));
    got = store.model(id, &round);
    QCOMPARE(*got, later);
    QCOMPARE(round, 3);
    QVERIFY(store.model(id, nullptr));

    QVERIFY(!store.saveModel(id + 1000, 1, later, 16)); // no such run
}

void TestStore::defaultPath() {
    const QString path = RunStore::defaultPath();
    QVERIFY(path.endsWith(QStringLiteral("/fedworkbench/runs.sqlite")));
    QVERIFY(path.size() > int(qstrlen("/fedworkbench/runs.sqlite")));
}

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
