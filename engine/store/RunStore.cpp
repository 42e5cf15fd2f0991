#include "store/RunStore.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QJsonValue>
#include <QLocale>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QStringList>
#include <QSysInfo>
#include <QUrl>
#include <QVariant>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <limits>
#include <vector>

#ifdef Q_OS_UNIX
#include <signal.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#endif

#ifndef FEDWB_VERSION
#define FEDWB_VERSION "dev"
#endif

namespace fedwb {

namespace {

std::atomic<int> connectionCounter{0};

// Migration step i takes a store from user_version i to i + 1. Append steps; never edit a released one.
const std::vector<QStringList> &migrations() {
    static const std::vector<QStringList> steps = {
        // 0 -> 1: everything.
        {
            QStringLiteral("CREATE TABLE runs ("
                           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " name TEXT NOT NULL DEFAULT '',"
                           " workspace TEXT NOT NULL DEFAULT '',"
                           " spec_json TEXT NOT NULL DEFAULT '{}',"
                           " seed TEXT NOT NULL DEFAULT '0'," // quint64 does not fit SQLite's signed INTEGER
                           " status TEXT NOT NULL,"
                           " started_at TEXT,"
                           " ended_at TEXT,"
                           " app_version TEXT NOT NULL DEFAULT '',"
                           " rounds_planned INTEGER NOT NULL DEFAULT 0,"
                           " rounds_done INTEGER NOT NULL DEFAULT 0,"
                           " final_test_accuracy REAL,"
                           " final_test_loss REAL,"
                           " wall_seconds REAL NOT NULL DEFAULT 0,"
                           " message TEXT NOT NULL DEFAULT '',"
                           " owner_pid INTEGER,"
                           " owner_host TEXT,"
                           " owner_start TEXT)"), // boot id + process start time: tells a reused pid apart
            QStringLiteral("CREATE TABLE rounds ("
                           " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
                           " round INTEGER NOT NULL,"
                           " evaluated INTEGER NOT NULL DEFAULT 0,"
                           " test_accuracy REAL,"
                           " test_loss REAL,"
                           " train_loss REAL," // NULL when not a finite number
                           " fairness_mean REAL,"
                           " fairness_std REAL,"
                           " fairness_worst10 REAL,"
                           " fairness_best10 REAL,"
                           " fairness_jain REAL,"
                           " clients_selected INTEGER NOT NULL DEFAULT 0,"
                           " round_seconds REAL NOT NULL DEFAULT 0,"
                           " wall_seconds REAL NOT NULL DEFAULT 0,"
                           " bytes_up INTEGER NOT NULL DEFAULT 0,"
                           " bytes_down INTEGER NOT NULL DEFAULT 0,"
                           " PRIMARY KEY (run_id, round))"),
            QStringLiteral(
                "CREATE TABLE client_rounds ("
                " run_id INTEGER NOT NULL,"
                " round INTEGER NOT NULL,"
                " client_id INTEGER NOT NULL,"
                " trained INTEGER NOT NULL DEFAULT 0,"
                " train_loss REAL,"
                " accuracy REAL,"
                " loss REAL,"
                " train_samples INTEGER NOT NULL DEFAULT 0,"
                " test_samples INTEGER NOT NULL DEFAULT 0,"
                " PRIMARY KEY (run_id, round, client_id),"
                " FOREIGN KEY (run_id, round) REFERENCES rounds(run_id, round) ON DELETE CASCADE)"),
            QStringLiteral("CREATE TABLE models ("
                           " run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
                           " round INTEGER NOT NULL,"
                           " parameter_count INTEGER NOT NULL,"
                           " parameters BLOB NOT NULL)"),
            QStringLiteral("CREATE INDEX runs_status ON runs(status)"),
        },
        // 1 -> 2: where a run was computed, client groups, personalized accuracy, checkpoints (RunState).
        {
            QStringLiteral("ALTER TABLE runs ADD COLUMN environment_json TEXT NOT NULL DEFAULT '{}'"),
            QStringLiteral("ALTER TABLE client_rounds ADD COLUMN group_name TEXT NOT NULL DEFAULT ''"),
            QStringLiteral("ALTER TABLE client_rounds ADD COLUMN personal_accuracy REAL"),
            QStringLiteral("ALTER TABLE client_rounds ADD COLUMN steps INTEGER NOT NULL DEFAULT 0"),
            QStringLiteral("ALTER TABLE rounds ADD COLUMN client_lr REAL"),
            QStringLiteral("CREATE TABLE checkpoints ("
                           " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
                           " round INTEGER NOT NULL,"
                           " state BLOB NOT NULL,"
                           " PRIMARY KEY (run_id, round))"),
        },
        // 2 -> 3: the privacy loss after each round (privacy.mode central).
        {
            QStringLiteral("ALTER TABLE rounds ADD COLUMN epsilon REAL"),
        },
        // 3 -> 4: attack success rate (backdoors), the round's further measurements as JSON (secure
        // aggregation's protocol costs, epsilon per group under local DP), and clients that dropped out.
        {
            QStringLiteral("ALTER TABLE rounds ADD COLUMN asr REAL"),
            QStringLiteral("ALTER TABLE rounds ADD COLUMN extra_json TEXT NOT NULL DEFAULT '{}'"),
            QStringLiteral("ALTER TABLE client_rounds ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0"),
        },
        // 4 -> 5: what users say about runs (tags, notes) and sweeps (the sweep a run belongs to and its grid
        // point's values).
        {
            QStringLiteral("ALTER TABLE runs ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]'"),
            QStringLiteral("ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT ''"),
            QStringLiteral("ALTER TABLE runs ADD COLUMN sweep_id TEXT NOT NULL DEFAULT ''"),
            QStringLiteral("ALTER TABLE runs ADD COLUMN sweep_point_json TEXT NOT NULL DEFAULT '{}'"),
            QStringLiteral("CREATE INDEX runs_sweep ON runs(sweep_id)"),
        },
    };
    return steps;
}

QString nowUtc() {
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

QDateTime parseTime(const QVariant &value) {
    if (value.isNull()) return {};
    QDateTime t = QDateTime::fromString(value.toString(), Qt::ISODateWithMs);
    if (!t.isValid()) t = QDateTime::fromString(value.toString(), Qt::ISODate);
    return t;
}

// A null QString binds as SQL NULL; the text columns are NOT NULL.
QVariant text(const QString &s) {
    return s.isNull() ? QVariant(QStringLiteral("")) : QVariant(s);
}

// SQLite has no NaN or infinity: a non-finite value is stored as NULL (and read back as NaN / nullopt).
QVariant finiteValue(double v) {
    return std::isfinite(v) ? QVariant(v) : QVariant();
}

QVariant optionalValue(const std::optional<double> &v) {
    return v ? finiteValue(*v) : QVariant();
}

std::optional<double> optionalDouble(const QVariant &v) {
    if (v.isNull()) return std::nullopt;
    return v.toDouble();
}

constexpr QLatin1String kRunColumns(
    "id, name, workspace, spec_json, seed, status, started_at, ended_at, app_version, rounds_planned, "
    "rounds_done, final_test_accuracy, final_test_loss, wall_seconds, message, tags_json, notes, sweep_id, "
    "sweep_point_json");

QJsonValue jsonOptional(const std::optional<double> &v) {
    return v && std::isfinite(*v) ? QJsonValue(*v) : QJsonValue();
}

// Shortest text that reads back as the same double.
QString numberText(double v) {
    return std::isfinite(v) ? QString::number(v, 'g', QLocale::FloatingPointShortest) : QString();
}

// "<boot id>/<start time in clock ticks>" of a process (Linux), or empty when unknown. Together with the pid
// it names one process across pid reuse and reboots.
QString processStartKey(qint64 pid) {
    QFile bootFile(QStringLiteral("/proc/sys/kernel/random/boot_id"));
    QFile statFile(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!bootFile.open(QIODevice::ReadOnly) || !statFile.open(QIODevice::ReadOnly)) return {};
    const QByteArray stat = statFile.readAll();
    const qsizetype close = stat.lastIndexOf(')'); // the command name may hold spaces and parentheses
    if (close < 0) return {};
    const QList<QByteArray> fields = stat.mid(close + 2).split(' ');
    if (fields.size() < 20) return {};
    return QString::fromLatin1(bootFile.readAll().trimmed()) + QLatin1Char('/') +
           QString::fromLatin1(fields[19]);
}

bool ownerProcessGone(qint64 pid, const QString &startKey) {
    if (pid <= 0 || pid > std::numeric_limits<int>::max()) return true; // never a live process
#ifdef Q_OS_UNIX
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true; // EPERM: exists, not ours
    // Alive, but is it still the process that started the run, or a later one given the same pid?
    if (!startKey.isEmpty()) {
        const QString now = processStartKey(pid);
        if (!now.isEmpty() && now != startKey) return true;
    }
    return false;
#else
    return false; // cannot tell: leave the run alone
#endif
}

} // namespace

struct RunStore::Impl {
    QString path;
    QString connectionName;
    QSqlDatabase db; // held (not looked up by name) so the store can be handed to the run's thread
    QString lastError;
    bool open = false;
    bool readOnly = false;
    int schemaVersion = 0;
    QSet<qint64> goneRuns; // read-only: running runs whose process is gone, shown as interrupted

    bool fail(const QString &what, const QSqlQuery &q) {
        lastError = what + QStringLiteral(": ") + describe(q.lastError());
        return false;
    }
    // Each public call starts with no error; a closed store keeps the reason it is closed.
    void beginCall() {
        if (open) lastError.clear();
    }
    // SQLite's words, with what they mean for this file.
    QString describe(const QSqlError &e) const {
        const QString text = e.text();
        const QString code = e.nativeErrorCode();
        if (code == QLatin1String("13") || text.contains(QLatin1String("disk is full")))
            return text +
                   QStringLiteral(" (no space left for run store %1, or the file size limit is reached)")
                       .arg(path);
        if (code == QLatin1String("8") || text.contains(QLatin1String("readonly")))
            return text +
                   QStringLiteral(" (run store %1 is read-only here: fedwb-cli runs and export can still "
                                  "read it)")
                       .arg(path);
        if (code == QLatin1String("10") || text.contains(QLatin1String("disk I/O error")))
            return text +
                   QStringLiteral(" (a write to run store %1 failed: the disk may be full, the file size "
                                  "limit reached or the device gone)")
                       .arg(path);
        if (code == QLatin1String("26") || text.contains(QLatin1String("not a database")))
            return text +
                   QStringLiteral(" (%1 is not a SQLite run store, or its header is damaged)").arg(path);
        if (code == QLatin1String("11") || text.contains(QLatin1String("malformed")))
            return text + QStringLiteral(" (run store %1 is damaged)").arg(path);
        return text;
    }
    bool fail(const QString &message) {
        lastError = message;
        return false;
    }

    // Inside a transaction: records the error and ends the transaction without a trace.
    bool failAndRollBack(const QString &what, const QSqlQuery &q) {
        fail(what, q);
        rollback();
        return false;
    }

    bool exec(const QString &sql, const QString &what) {
        QSqlQuery q(db);
        if (!q.exec(sql)) return fail(what, q);
        return true;
    }

    // BEGIN IMMEDIATE takes the write lock up front, so two processes never both start the same migration.
    bool begin() {
        return exec(QStringLiteral("BEGIN IMMEDIATE"), QStringLiteral("could not begin a transaction"));
    }
    bool commit() { return exec(QStringLiteral("COMMIT"), QStringLiteral("could not commit")); }
    void rollback() {
        QSqlQuery q(db);
        q.exec(QStringLiteral("ROLLBACK"));
    }

    std::optional<int> userVersion() {
        QSqlQuery q(db);
        if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next()) {
            fail(QStringLiteral("could not read the schema version of run store ") + path, q);
            return std::nullopt;
        }
        return q.value(0).toInt();
    }

    QStringList tableNames() {
        QStringList tables;
        QSqlQuery q(db);
        if (q.exec(QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")))
            while (q.next())
                tables << q.value(0).toString();
        return tables;
    }
    bool failForeign(const QStringList &tables) {
        return fail(QStringLiteral("%1 is not a FedWorkbench run store (it holds the tables %2)")
                        .arg(path, tables.join(QStringLiteral(", "))));
    }

    bool openDatabase();
    bool checkIntegrity();
    bool checkTables();
    bool migrate();
    void markInterruptedRuns();
    QList<qint64> runsWithOwnerGone();
    StoredRun runFromQuery(const QSqlQuery &q) const;
    // UPDATE runs SET column = value for one run; fails (naming `what`) when the run does not exist.
    bool updateRun(qint64 runId, const char *column, const QVariant &value, const QString &what);
};

StoredRun RunStore::Impl::runFromQuery(const QSqlQuery &q) const {
    StoredRun r;
    r.id = q.value(0).toLongLong();
    r.name = q.value(1).toString();
    r.workspace = q.value(2).toString();
    r.spec = QJsonDocument::fromJson(q.value(3).toString().toUtf8()).object();
    r.seed = q.value(4).toString().toULongLong();
    r.status = runStatusFromName(q.value(5).toString());
    if (r.status == RunStatus::Running && goneRuns.contains(r.id)) r.status = RunStatus::Interrupted;
    r.startedAt = parseTime(q.value(6));
    r.endedAt = parseTime(q.value(7));
    r.appVersion = q.value(8).toString();
    r.roundsPlanned = q.value(9).toInt();
    r.roundsDone = q.value(10).toInt();
    r.finalTestAccuracy = optionalDouble(q.value(11));
    r.finalTestLoss = optionalDouble(q.value(12));
    r.wallSeconds = q.value(13).toDouble();
    r.message = q.value(14).toString();
    for (const QJsonValue &t : QJsonDocument::fromJson(q.value(15).toString().toUtf8()).array())
        if (t.isString()) r.tags.append(t.toString());
    r.notes = q.value(16).toString();
    r.sweepId = q.value(17).toString();
    r.sweepPoint = QJsonDocument::fromJson(q.value(18).toString().toUtf8()).object();
    return r;
}

bool RunStore::Impl::openDatabase() {
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")))
        return fail(QStringLiteral("the Qt SQLite driver (QSQLITE) is not available"));

    const bool fileBacked = !path.isEmpty() && path != QLatin1String(":memory:");
    if (fileBacked) {
        const QFileInfo info(path);
        if (info.exists() && !info.isFile())
            return fail(QStringLiteral("run store %1 is not a regular file").arg(path));
        if (readOnly && !info.exists()) return fail(QStringLiteral("no such run store: ") + path);
        const QDir dir = info.absoluteDir();
        if (!readOnly && !dir.exists() && !dir.mkpath(QStringLiteral(".")))
            return fail(QStringLiteral("could not create the folder ") + dir.path() +
                        QStringLiteral(" for run store ") + path);
        // SQLite would open an unwritable file read-only and fail at the first write, mid-run.
        if (!readOnly && info.exists() && !info.isWritable())
            return fail(
                QStringLiteral("run store %1 is read-only (fedwb-cli runs and export can still read it)")
                    .arg(path));
    }

    db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connectionName);
    db.setDatabaseName(path);
    db.setConnectOptions(readOnly ? QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=30000")
                                  : QStringLiteral("QSQLITE_BUSY_TIMEOUT=30000"));
    if (fileBacked && readOnly) {
        // Reading a WAL store needs its -shm file, which SQLite cannot create in a read-only folder. When
        // nobody at all may write the file or its folder (no write bit for anyone) and no write is unfinished
        // (no -wal), nothing can change it: read it as immutable. A store others may still write is not read
        // that way (no locking, no change detection).
        const QFileInfo info(path), folder(QFileInfo(path).absolutePath());
        const QFileInfo wal(path + QLatin1String("-wal")), shm(path + QLatin1String("-shm"));
        const auto nobodyWrites = [](const QFileInfo &f) {
            return !(f.permissions() &
                     (QFile::WriteOwner | QFile::WriteUser | QFile::WriteGroup | QFile::WriteOther));
        };
        const auto readOnlyFileSystem = [&] {
#ifdef Q_OS_UNIX
            struct statvfs fs;
            return ::statvfs(QFile::encodeName(folder.absoluteFilePath()).constData(), &fs) == 0 &&
                   (fs.f_flag & ST_RDONLY) != 0;
#else
            return false;
#endif
        };
        if (!shm.exists() && !folder.isWritable()) {
            if (wal.exists() && wal.size() > 0)
                return fail(
                    QStringLiteral("run store %1 has unfinished writes (%2) and its folder is read-only: "
                                   "copy the store and its -wal file to a writable folder to read it")
                        .arg(path, wal.fileName()));
            if (!readOnlyFileSystem() && (!nobodyWrites(info) || !nobodyWrites(folder)))
                return fail(
                    QStringLiteral("run store %1 cannot be read safely: its folder is read-only for you "
                                   "but others may write the store (SQLite needs to create %2 to read "
                                   "it); copy the store to a writable folder")
                        .arg(path, shm.fileName()));
            db.setDatabaseName(QUrl::fromLocalFile(info.absoluteFilePath()).toString(QUrl::FullyEncoded) +
                               QLatin1String("?immutable=1"));
            db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_OPEN_URI"));
        }
    }
    if (!db.open())
        return fail(QStringLiteral("could not open run store ") + path + QStringLiteral(": ") +
                    describe(db.lastError()));

    // Reading the version first also tells a non-SQLite file apart before anything is written to it.
    const std::optional<int> version = userVersion();
    if (!version) return false;
    if (!checkIntegrity()) return false;
    schemaVersion = *version;
    if (schemaVersion < 0)
        return fail(QStringLiteral("%1 is not a FedWorkbench run store (its schema version is %2)")
                        .arg(path)
                        .arg(schemaVersion));
    if (schemaVersion > kSchemaVersion)
        return fail(QStringLiteral("run store %1 has schema version %2, newer than this FedWorkbench (%3)")
                        .arg(path)
                        .arg(schemaVersion)
                        .arg(kSchemaVersion));
    // A new store is empty; anything else at version 0 is some other program's database. Writers check
    // under the migration's write lock (another process may be creating this store right now); a reader
    // looks again at the version in the same snapshot as the tables.
    if (schemaVersion == 0 && readOnly) {
        if (!exec(QStringLiteral("BEGIN"), QStringLiteral("could not read run store ") + path)) return false;
        const std::optional<int> again = userVersion();
        const QStringList tables = tableNames();
        rollback();
        if (!again) return false;
        schemaVersion = *again;
        if (schemaVersion == 0) {
            if (!tables.isEmpty()) return failForeign(tables);
            return fail(QStringLiteral("%1 is not a run store yet (an empty database)").arg(path));
        }
    }
    if (readOnly && schemaVersion < kSchemaVersion)
        return fail(QStringLiteral("run store %1 has schema version %2 and must be upgraded to %3 before it "
                                   "can be read: open it once with write access (fedwb-cli run, or the GUI)")
                        .arg(path)
                        .arg(schemaVersion)
                        .arg(kSchemaVersion));

    if (fileBacked && !readOnly) {
        QSqlQuery q(db);
        q.exec(QStringLiteral("PRAGMA journal_mode=WAL")); // best effort: some file systems cannot do WAL
    }
    if ((!readOnly && !exec(QStringLiteral("PRAGMA synchronous=NORMAL"),
                            QStringLiteral("could not configure run store"))) ||
        !exec(QStringLiteral("PRAGMA foreign_keys=ON"), QStringLiteral("could not configure run store")))
        return false;

    if (!readOnly && !migrate()) return false;
    if (!checkTables()) return false;
    if (fileBacked && !readOnly) markInterruptedRuns();
    if (fileBacked && readOnly)
        for (qint64 id : runsWithOwnerGone())
            goneRuns.insert(id);
    lastError.clear(); // opened: a run that could not be marked interrupted is not the caller's error
    return true;
}

// A quick B-tree check (O(pages), no index cross-check): a damaged page is reported as damage, never read
// as "no runs".
bool RunStore::Impl::checkIntegrity() {
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA quick_check(3)")))
        return fail(QStringLiteral("run store %1 could not be checked").arg(path), q);
    QStringList problems;
    while (q.next())
        for (const QString &line : q.value(0).toString().split(QLatin1Char('\n'), Qt::SkipEmptyParts))
            if (line != QLatin1String("ok") && !line.startsWith(QLatin1String("***"))) problems << line;
    if (!problems.isEmpty())
        return fail(
            QStringLiteral("run store %1 is damaged (PRAGMA quick_check: %2); restore it from a backup, "
                           "or recover what is readable with sqlite3's .recover")
                .arg(path, problems.join(QStringLiteral("; "))));
    return true;
}

// Every table this schema version has: a store whose tables were dropped is damaged, not empty.
bool RunStore::Impl::checkTables() {
    if (schemaVersion == 0) return true;
    QSet<QString> present;
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table'")))
        return fail(QStringLiteral("could not read the tables of run store ") + path, q);
    while (q.next())
        present.insert(q.value(0).toString());
    QStringList missing;
    for (const char *table : {"runs", "rounds", "client_rounds", "models", "checkpoints"})
        if (!present.contains(QLatin1String(table))) missing << QLatin1String(table);
    if (!missing.isEmpty())
        return fail(QStringLiteral("run store %1 is damaged: the table(s) %2 are missing")
                        .arg(path, missing.join(QStringLiteral(", "))));
    // Runs are found by id: it must be the table's integer key (a damaged schema can make it a plain column).
    QSqlQuery info(db);
    bool idIsKey = false;
    if (info.exec(QStringLiteral("PRAGMA table_info(runs)")))
        while (info.next())
            if (info.value(1).toString() == QLatin1String("id"))
                idIsKey =
                    info.value(2).toString().compare(QLatin1String("INTEGER"), Qt::CaseInsensitive) == 0 &&
                    info.value(5).toInt() == 1;
    if (!idIsKey)
        return fail(
            QStringLiteral("run store %1 is damaged: runs.id is not the table's integer key").arg(path));
    return true;
}

bool RunStore::Impl::migrate() {
    const auto &steps = migrations();
    while (schemaVersion < kSchemaVersion) {
        if (!begin()) return false;
        // Another process may have migrated between our read and our lock.
        const std::optional<int> current = userVersion();
        if (!current) {
            rollback();
            return false;
        }
        schemaVersion = *current;
        if (schemaVersion >= kSchemaVersion) {
            rollback();
            break;
        }
        if (schemaVersion == 0) { // under the write lock: nobody is creating this store at the same time
            if (const QStringList tables = tableNames(); !tables.isEmpty()) {
                rollback();
                return failForeign(tables);
            }
        }
        if (schemaVersion < 0 || std::size_t(schemaVersion) >= steps.size()) {
            rollback();
            return fail(QStringLiteral("run store %1 has schema version %2, which no migration starts from")
                            .arg(path)
                            .arg(schemaVersion));
        }
        const QStringList &step = steps[static_cast<std::size_t>(schemaVersion)];
        const int target = schemaVersion + 1;
        const QString what =
            QStringLiteral("could not upgrade run store %1 to schema version %2").arg(path).arg(target);
        bool ok = true;
        for (const QString &sql : step) {
            if (!exec(sql, what)) {
                ok = false;
                break;
            }
        }
        ok = ok && exec(QStringLiteral("PRAGMA user_version = %1").arg(target), what);
        if (!ok || !commit()) {
            rollback();
            return false;
        }
        schemaVersion = target;
    }
    return true;
}

// Runs of this host still marked running whose owning process has ended.
QList<qint64> RunStore::Impl::runsWithOwnerGone() {
    QList<qint64> gone;
    QSqlQuery q(db);
    q.setForwardOnly(true);
    q.prepare(
        QStringLiteral("SELECT id, owner_pid, owner_start FROM runs WHERE status = ? AND owner_host = ?"));
    q.addBindValue(runStatusName(RunStatus::Running));
    q.addBindValue(QSysInfo::machineHostName());
    if (!q.exec()) {
        fail(QStringLiteral("could not look for interrupted runs"), q);
        return gone;
    }
    while (q.next()) {
        const qint64 pid = q.value(1).isNull() ? 0 : q.value(1).toLongLong();
        if (ownerProcessGone(pid, q.value(2).toString())) gone.append(q.value(0).toLongLong());
    }
    return gone;
}

void RunStore::Impl::markInterruptedRuns() {
    for (qint64 id : runsWithOwnerGone()) {
        QSqlQuery q(db);
        // ended_at stays NULL: nobody saw when it ended. The last recorded round is the best wall time we
        // have.
        q.prepare(QStringLiteral("UPDATE runs SET status = ?, message = ?,"
                                 " wall_seconds = COALESCE((SELECT MAX(wall_seconds) FROM rounds WHERE "
                                 "run_id = runs.id), wall_seconds)"
                                 " WHERE id = ? AND status = ?"));
        q.addBindValue(runStatusName(RunStatus::Interrupted));
        q.addBindValue(QStringLiteral("the process running it ended before the run finished"));
        q.addBindValue(id);
        q.addBindValue(runStatusName(RunStatus::Running));
        if (!q.exec()) fail(QStringLiteral("could not mark run %1 interrupted").arg(id), q);
    }
}

RunStore::RunStore(const QString &path, Access access)
    : d(new Impl) {
    d->path = path;
    d->readOnly = access == Access::ReadOnly;
    d->connectionName = QStringLiteral("fedwb-store-%1").arg(++connectionCounter);
    d->open = d->openDatabase();
    if (!d->open && d->db.isOpen()) d->db.close();
}

RunStore::~RunStore() {
    if (d->db.isOpen()) d->db.close();
    d->db = QSqlDatabase(); // drop the last handle before removing the connection
    if (QSqlDatabase::contains(d->connectionName)) QSqlDatabase::removeDatabase(d->connectionName);
    delete d;
}

bool RunStore::isOpen() const {
    return d->open;
}

bool RunStore::isReadOnly() const {
    return d->readOnly;
}

QString RunStore::lastError() const {
    return d->lastError;
}

int RunStore::schemaVersion() const {
    return d->schemaVersion;
}

QString RunStore::defaultPath() {
    QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    if (base.isEmpty()) base = QDir::homePath() + QStringLiteral("/.local/share");
    return base + QStringLiteral("/fedworkbench/runs.sqlite");
}

qint64 RunStore::createRun(const QString &name, const QString &workspace, const QJsonObject &spec,
                           quint64 seed, int roundsPlanned) {
    d->beginCall();
    if (!d->open) return -1;
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral(
        "INSERT INTO runs (name, workspace, spec_json, seed, status, started_at, app_version,"
        " rounds_planned, rounds_done, wall_seconds, message, owner_pid, owner_host, owner_start)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, '', ?, ?, ?)"));
    q.addBindValue(text(name));
    q.addBindValue(text(workspace));
    q.addBindValue(QString::fromUtf8(QJsonDocument(spec).toJson(QJsonDocument::Compact)));
    q.addBindValue(QString::number(seed));
    q.addBindValue(runStatusName(RunStatus::Running));
    q.addBindValue(nowUtc());
    q.addBindValue(QString(QLatin1String(FEDWB_VERSION)));
    q.addBindValue(roundsPlanned);
    q.addBindValue(QCoreApplication::applicationPid());
    q.addBindValue(QSysInfo::machineHostName());
    q.addBindValue(processStartKey(QCoreApplication::applicationPid()));
    if (!q.exec()) {
        d->fail(QStringLiteral("could not create run \"%1\"").arg(name), q);
        return -1;
    }
    return q.lastInsertId().toLongLong();
}

bool RunStore::setEnvironment(qint64 runId, const QJsonObject &environment) {
    d->beginCall();
    if (!d->open) return false;
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral("UPDATE runs SET environment_json = ? WHERE id = ?"));
    q.addBindValue(QString::fromUtf8(QJsonDocument(environment).toJson(QJsonDocument::Compact)));
    q.addBindValue(runId);
    if (!q.exec()) return d->fail(QStringLiteral("could not record the environment of run %1").arg(runId), q);
    return true;
}

bool RunStore::Impl::updateRun(qint64 runId, const char *column, const QVariant &value, const QString &what) {
    QSqlQuery q(db);
    q.prepare(QStringLiteral("UPDATE runs SET %1 = ? WHERE id = ?").arg(QLatin1String(column)));
    q.addBindValue(value);
    q.addBindValue(runId);
    if (!q.exec()) return fail(QStringLiteral("could not %1 of run %2").arg(what).arg(runId), q);
    if (q.numRowsAffected() != 1)
        return fail(QStringLiteral("could not %1 of run %2: no such run").arg(what).arg(runId));
    return true;
}

bool RunStore::renameRun(qint64 runId, const QString &name) {
    d->beginCall();
    if (!d->open) return false;
    return d->updateRun(runId, "name", name, QStringLiteral("rename"));
}

bool RunStore::setTags(qint64 runId, const QStringList &tags) {
    d->beginCall();
    if (!d->open) return false;
    return d->updateRun(
        runId, "tags_json",
        QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(tags)).toJson(QJsonDocument::Compact)),
        QStringLiteral("set the tags"));
}

bool RunStore::setNotes(qint64 runId, const QString &notes) {
    d->beginCall();
    if (!d->open) return false;
    return d->updateRun(runId, "notes", notes, QStringLiteral("set the notes"));
}

bool RunStore::setSweep(qint64 runId, const QString &sweepId, const QJsonObject &point) {
    d->beginCall();
    if (!d->open) return false;
    if (!d->begin()) return false;
    const QString what = QStringLiteral("record the sweep");
    if (!d->updateRun(runId, "sweep_id", sweepId, what) ||
        !d->updateRun(runId, "sweep_point_json",
                      QString::fromUtf8(QJsonDocument(point).toJson(QJsonDocument::Compact)), what)) {
        d->rollback();
        return false;
    }
    if (!d->commit()) {
        d->rollback();
        return false;
    }
    return true;
}

QJsonObject RunStore::environment(qint64 runId) const {
    d->beginCall();
    if (!d->open) return {};
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral("SELECT environment_json FROM runs WHERE id = ?"));
    q.addBindValue(runId);
    if (!q.exec() || !q.next()) return {};
    return QJsonDocument::fromJson(q.value(0).toString().toUtf8()).object();
}

std::optional<QByteArray> RunStore::latestCheckpoint(qint64 runId, int *round) const {
    d->beginCall();
    if (!d->open) return std::nullopt;
    QSqlQuery q(d->db);
    q.setForwardOnly(true);
    q.prepare(
        QStringLiteral("SELECT round, state FROM checkpoints WHERE run_id = ? ORDER BY round DESC LIMIT 1"));
    q.addBindValue(runId);
    if (!q.exec()) {
        d->fail(QStringLiteral("could not read the checkpoints of run %1").arg(runId), q);
        return std::nullopt;
    }
    if (!q.next()) return std::nullopt;
    if (round) *round = q.value(0).toInt();
    return q.value(1).toByteArray();
}

QList<int> RunStore::checkpointRounds(qint64 runId) const {
    d->beginCall();
    QList<int> out;
    if (!d->open) return out;
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral("SELECT round FROM checkpoints WHERE run_id = ? ORDER BY round"));
    q.addBindValue(runId);
    if (q.exec())
        while (q.next())
            out.append(q.value(0).toInt());
    return out;
}

bool RunStore::recordRound(qint64 runId, const RoundMetrics &m, int checkpointsKept) {
    d->beginCall();
    if (!d->open) return false;
    const QString what = QStringLiteral("could not record round %1 of run %2").arg(m.round).arg(runId);
    if (!d->begin()) return false;
    {
        QSqlQuery q(d->db);
        q.prepare(QStringLiteral(
            "INSERT INTO rounds (run_id, round, evaluated, test_accuracy, test_loss, train_loss, "
            "fairness_mean,"
            " fairness_std, fairness_worst10, fairness_best10, fairness_jain, clients_selected, "
            "round_seconds,"
            " wall_seconds, bytes_up, bytes_down, client_lr, epsilon, asr, extra_json) VALUES (?, ?, ?, ?, "
            "?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        const auto ifEvaluated = [&](double v) { return m.evaluated ? finiteValue(v) : QVariant(); };
        q.addBindValue(runId);
        q.addBindValue(m.round);
        q.addBindValue(m.evaluated ? 1 : 0);
        q.addBindValue(ifEvaluated(m.testAccuracy));
        q.addBindValue(ifEvaluated(m.testLoss));
        q.addBindValue(finiteValue(m.trainLoss));
        q.addBindValue(ifEvaluated(m.fairness.mean));
        q.addBindValue(ifEvaluated(m.fairness.std));
        q.addBindValue(ifEvaluated(m.fairness.worst10));
        q.addBindValue(ifEvaluated(m.fairness.best10));
        q.addBindValue(ifEvaluated(m.fairness.jain));
        q.addBindValue(m.clientsSelected);
        q.addBindValue(m.roundSeconds);
        q.addBindValue(m.wallSeconds);
        q.addBindValue(qint64(m.bytesUp));
        q.addBindValue(qint64(m.bytesDown));
        q.addBindValue(finiteValue(m.clientLr));
        q.addBindValue(finiteValue(m.epsilon));
        q.addBindValue(ifEvaluated(m.asr));
        q.addBindValue(QString::fromUtf8(QJsonDocument(m.extra).toJson(QJsonDocument::Compact)));
        if (!q.exec()) return d->failAndRollBack(what, q);
    }
    if (!m.clients.empty()) {
        QSqlQuery q(d->db);
        q.prepare(QStringLiteral(
            "INSERT INTO client_rounds (run_id, round, client_id, trained, train_loss,"
            " accuracy, loss, train_samples, test_samples, group_name, personal_accuracy, steps, dropped)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        for (const ClientRoundMetrics &c : m.clients) {
            q.bindValue(0, runId);
            q.bindValue(1, m.round);
            q.bindValue(2, c.clientId);
            q.bindValue(3, c.trained ? 1 : 0);
            q.bindValue(4, optionalValue(c.trainLoss));
            q.bindValue(5, optionalValue(c.accuracy));
            q.bindValue(6, optionalValue(c.loss));
            q.bindValue(7, qint64(c.trainSamples));
            q.bindValue(8, qint64(c.testSamples));
            q.bindValue(9, text(c.group));
            q.bindValue(10, optionalValue(c.personalAccuracy));
            q.bindValue(11, qint64(c.steps));
            q.bindValue(12, c.dropped ? 1 : 0);
            if (!q.exec()) return d->failAndRollBack(what, q);
        }
    }
    if (!m.checkpoint.isEmpty()) { // the RunState after this round, in the round's own transaction
        QSqlQuery q(d->db);
        q.prepare(
            QStringLiteral("INSERT OR REPLACE INTO checkpoints (run_id, round, state) VALUES (?, ?, ?)"));
        q.addBindValue(runId);
        q.addBindValue(m.round);
        q.addBindValue(m.checkpoint);
        if (!q.exec()) return d->failAndRollBack(what, q);
        QSqlQuery prune(d->db);
        prune.prepare(
            QStringLiteral("DELETE FROM checkpoints WHERE run_id = ? AND round NOT IN (SELECT round FROM "
                           "checkpoints WHERE run_id = ? ORDER BY round DESC LIMIT ?)"));
        prune.addBindValue(runId);
        prune.addBindValue(runId);
        prune.addBindValue(std::max(1, checkpointsKept));
        if (!prune.exec()) return d->failAndRollBack(what, prune);
    }
    {
        QSqlQuery q(d->db);
        if (m.evaluated) {
            q.prepare(
                QStringLiteral("UPDATE runs SET rounds_done = MAX(rounds_done, ?), final_test_accuracy = ?,"
                               " final_test_loss = ? WHERE id = ?"));
            q.addBindValue(m.round);
            q.addBindValue(finiteValue(m.testAccuracy));
            q.addBindValue(finiteValue(m.testLoss));
        } else {
            q.prepare(QStringLiteral("UPDATE runs SET rounds_done = MAX(rounds_done, ?) WHERE id = ?"));
            q.addBindValue(m.round);
        }
        q.addBindValue(runId);
        if (!q.exec()) return d->failAndRollBack(what, q);
    }
    if (!d->commit()) {
        d->lastError = what + QStringLiteral(": ") + d->lastError;
        d->rollback();
        return false;
    }
    return true;
}

bool RunStore::saveModel(qint64 runId, int round, const QByteArray &flatParameters, qint64 parameterCount) {
    d->beginCall();
    if (!d->open) return false;
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral("INSERT OR REPLACE INTO models (run_id, round, parameter_count, parameters)"
                             " VALUES (?, ?, ?, ?)"));
    q.addBindValue(runId);
    q.addBindValue(round);
    q.addBindValue(parameterCount);
    q.addBindValue(flatParameters);
    if (!q.exec()) return d->fail(QStringLiteral("could not save the model of run %1").arg(runId), q);
    return true;
}

bool RunStore::finishRun(qint64 runId, const RunSummary &summary) {
    d->beginCall();
    if (!d->open) return false;
    QSqlQuery q(d->db);
    // A summary without final metrics keeps whatever the evaluated rounds already recorded.
    q.prepare(QStringLiteral("UPDATE runs SET status = ?, ended_at = ?, wall_seconds = ?, message = ?,"
                             " rounds_done = ?, final_test_accuracy = COALESCE(?, final_test_accuracy),"
                             " final_test_loss = COALESCE(?, final_test_loss) WHERE id = ?"));
    q.addBindValue(runStatusName(summary.status));
    q.addBindValue(nowUtc());
    q.addBindValue(summary.wallSeconds);
    q.addBindValue(text(summary.message));
    q.addBindValue(summary.roundsDone);
    q.addBindValue(optionalValue(summary.finalTestAccuracy));
    q.addBindValue(optionalValue(summary.finalTestLoss));
    q.addBindValue(runId);
    const QString what = QStringLiteral("could not finish run %1").arg(runId);
    if (!q.exec()) return d->fail(what, q);
    if (q.numRowsAffected() < 1) return d->fail(what + QStringLiteral(": no such run"));
    return true;
}

bool RunStore::continueRun(qint64 runId, int fromRound, const QJsonObject &spec, int roundsPlanned) {
    d->beginCall();
    if (!d->open) return false;
    const QString what = QStringLiteral("could not continue run %1").arg(runId);
    if (!d->begin()) return false;
    {
        QSqlQuery q(d->db);
        q.prepare(QStringLiteral("SELECT status FROM runs WHERE id = ?"));
        q.addBindValue(runId);
        if (!q.exec()) return d->failAndRollBack(what, q);
        if (!q.next()) {
            d->rollback();
            return d->fail(what + QStringLiteral(": no such run"));
        }
        if (runStatusFromName(q.value(0).toString()) == RunStatus::Running) {
            d->rollback();
            return d->fail(what + QStringLiteral(": it is still running in another process"));
        }
    }
    { // The caller read the checkpoint before this transaction: it must still be the newest one.
        QSqlQuery q(d->db);
        q.prepare(QStringLiteral("SELECT MAX(round) FROM checkpoints WHERE run_id = ?"));
        q.addBindValue(runId);
        if (!q.exec() || !q.next()) return d->failAndRollBack(what, q);
        const int newest = q.value(0).isNull() ? 0 : q.value(0).toInt();
        if (newest != fromRound) {
            d->rollback();
            return d->fail(what +
                           QStringLiteral(": it changed meanwhile (its newest checkpoint is now after round "
                                          "%1, not %2); try again")
                               .arg(newest)
                               .arg(fromRound));
        }
    }
    // Rounds after the checkpoint are computed again (bitwise the same): their rows and the later model go.
    for (const char *table : {"rounds", "checkpoints", "models"}) {
        QSqlQuery q(d->db);
        q.prepare(QStringLiteral("DELETE FROM %1 WHERE run_id = ? AND round > ?").arg(QLatin1String(table)));
        q.addBindValue(runId);
        q.addBindValue(fromRound);
        if (!q.exec()) return d->failAndRollBack(what, q);
    }
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral(
        "UPDATE runs SET status = ?, ended_at = NULL, message = '', rounds_done = ?, rounds_planned = ?,"
        " spec_json = ?, owner_pid = ?, owner_host = ?, owner_start = ?,"
        " final_test_accuracy = (SELECT test_accuracy FROM rounds WHERE run_id = runs.id AND evaluated = 1"
        " ORDER BY round DESC LIMIT 1),"
        " final_test_loss = (SELECT test_loss FROM rounds WHERE run_id = runs.id AND evaluated = 1"
        " ORDER BY round DESC LIMIT 1),"
        " wall_seconds = COALESCE((SELECT MAX(wall_seconds) FROM rounds WHERE run_id = runs.id), 0)"
        " WHERE id = ?"));
    q.addBindValue(runStatusName(RunStatus::Running));
    q.addBindValue(fromRound);
    q.addBindValue(roundsPlanned);
    q.addBindValue(QString::fromUtf8(QJsonDocument(spec).toJson(QJsonDocument::Compact)));
    q.addBindValue(QCoreApplication::applicationPid());
    q.addBindValue(QSysInfo::machineHostName());
    q.addBindValue(processStartKey(QCoreApplication::applicationPid()));
    q.addBindValue(runId);
    if (!q.exec()) return d->failAndRollBack(what, q);
    if (!d->commit()) {
        d->rollback();
        return false;
    }
    return true;
}

QList<StoredRun> RunStore::runs() const {
    d->beginCall();
    QList<StoredRun> result;
    if (!d->open) return result;
    QSqlQuery q(d->db);
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT ") + kRunColumns + QStringLiteral(" FROM runs ORDER BY id DESC"))) {
        d->fail(QStringLiteral("could not list runs"), q);
        return result;
    }
    while (q.next()) {
        if (q.value(0).isNull() || q.value(0).toLongLong() < 1) { // cannot be looked up again: damage
            d->fail(QStringLiteral("run store %1 is damaged: a run has no valid id").arg(d->path));
            return {};
        }
        result.append(d->runFromQuery(q));
    }
    return result;
}

std::optional<StoredRun> RunStore::run(qint64 runId) const {
    d->beginCall();
    if (!d->open) return std::nullopt;
    QSqlQuery q(d->db);
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT ") + kRunColumns + QStringLiteral(" FROM runs WHERE id = ?"));
    q.addBindValue(runId);
    if (!q.exec()) {
        d->fail(QStringLiteral("could not read run %1").arg(runId), q);
        return std::nullopt;
    }
    if (!q.next()) return std::nullopt;
    return d->runFromQuery(q);
}

QList<RoundMetrics> RunStore::rounds(qint64 runId) const {
    d->beginCall();
    QList<RoundMetrics> result;
    if (!d->open) return result;
    const QString what = QStringLiteral("could not read the rounds of run %1").arg(runId);
    QHash<int, qsizetype> indexOfRound;
    {
        QSqlQuery q(d->db);
        q.setForwardOnly(true);
        q.prepare(QStringLiteral(
            "SELECT round, evaluated, test_accuracy, test_loss, train_loss, fairness_mean, fairness_std,"
            " fairness_worst10, fairness_best10, fairness_jain, clients_selected, round_seconds, "
            "wall_seconds,"
            " bytes_up, bytes_down, client_lr, epsilon, asr, extra_json FROM rounds WHERE run_id = ? ORDER "
            "BY "
            "round"));
        q.addBindValue(runId);
        if (!q.exec()) {
            d->fail(what, q);
            return result;
        }
        while (q.next()) {
            RoundMetrics m;
            m.round = q.value(0).toInt();
            m.evaluated = q.value(1).toInt() != 0;
            // NULL (not evaluated, not finite, or not measured: a regression run has no accuracy) reads as
            // NaN, never as a 0 that looks measured.
            const auto real = [&](int column) {
                return q.value(column).isNull() ? std::nan("") : q.value(column).toDouble();
            };
            m.testAccuracy = real(2);
            m.testLoss = real(3);
            m.trainLoss = real(4);
            m.fairness.mean = real(5);
            m.fairness.std = real(6);
            m.fairness.worst10 = real(7);
            m.fairness.best10 = real(8);
            m.fairness.jain = real(9);
            m.clientsSelected = q.value(10).toInt();
            m.roundSeconds = q.value(11).toDouble();
            m.wallSeconds = q.value(12).toDouble();
            m.bytesUp = q.value(13).toLongLong();
            m.bytesDown = q.value(14).toLongLong();
            m.clientLr = q.value(15).toDouble();
            m.epsilon = real(16);
            m.asr = real(17);
            m.extra = QJsonDocument::fromJson(q.value(18).toString().toUtf8()).object();
            indexOfRound.insert(m.round, result.size());
            result.append(std::move(m));
        }
    }
    QSqlQuery q(d->db);
    q.setForwardOnly(true);
    q.prepare(QStringLiteral(
        "SELECT round, client_id, trained, train_loss, accuracy, loss, train_samples,"
        " test_samples, group_name, personal_accuracy, steps, dropped FROM client_rounds WHERE run_id = ?"
        " ORDER BY round, client_id"));
    q.addBindValue(runId);
    if (!q.exec()) {
        d->fail(what, q);
        return result;
    }
    while (q.next()) {
        const auto it = indexOfRound.constFind(q.value(0).toInt());
        if (it == indexOfRound.constEnd()) continue;
        ClientRoundMetrics c;
        c.clientId = q.value(1).toInt();
        c.trained = q.value(2).toInt() != 0;
        c.trainLoss = optionalDouble(q.value(3));
        c.accuracy = optionalDouble(q.value(4));
        c.loss = optionalDouble(q.value(5));
        c.trainSamples = q.value(6).toLongLong();
        c.testSamples = q.value(7).toLongLong();
        c.group = q.value(8).toString();
        c.personalAccuracy = optionalDouble(q.value(9));
        c.steps = q.value(10).toLongLong();
        c.dropped = q.value(11).toInt() != 0;
        result[*it].clients.push_back(c);
    }
    return result;
}

QHash<qint64, double> RunStore::bestAccuracies() const {
    d->beginCall();
    QHash<qint64, double> best;
    if (!d->open) return best;
    QSqlQuery q(d->db);
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT run_id, MAX(test_accuracy) FROM rounds WHERE test_accuracy IS NOT NULL "
                               "GROUP BY run_id"))) {
        d->fail(QStringLiteral("could not read the best accuracies"), q);
        return best;
    }
    while (q.next())
        best.insert(q.value(0).toLongLong(), q.value(1).toDouble());
    return best;
}

std::optional<QByteArray> RunStore::model(qint64 runId, int *round) const {
    d->beginCall();
    if (!d->open) return std::nullopt;
    QSqlQuery q(d->db);
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT round, parameters FROM models WHERE run_id = ?"));
    q.addBindValue(runId);
    if (!q.exec()) {
        d->fail(QStringLiteral("could not read the model of run %1").arg(runId), q);
        return std::nullopt;
    }
    if (!q.next()) return std::nullopt;
    if (round) *round = q.value(0).toInt();
    return q.value(1).toByteArray();
}

bool RunStore::deleteRun(qint64 runId) {
    d->beginCall();
    if (!d->open) return false;
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral("DELETE FROM runs WHERE id = ?")); // rounds, client rows and model cascade
    q.addBindValue(runId);
    const QString what = QStringLiteral("could not delete run %1").arg(runId);
    if (!q.exec()) return d->fail(what, q);
    if (q.numRowsAffected() < 1) return d->fail(what + QStringLiteral(": no such run"));
    return true;
}

QJsonObject RunStore::exportJson(qint64 runId) const {
    d->beginCall();
    const std::optional<StoredRun> r = run(runId);
    if (!r) {
        if (d->open) d->fail(QStringLiteral("could not export run %1: no such run").arg(runId));
        return {};
    }
    constexpr quint64 kMaxExactDouble = quint64(1) << 53;
    QJsonObject runJson{
        {QStringLiteral("id"), r->id},
        {QStringLiteral("name"), r->name},
        {QStringLiteral("workspace"), r->workspace},
        {QStringLiteral("status"), runStatusName(r->status)},
        {QStringLiteral("seed"), r->seed <= kMaxExactDouble ? QJsonValue(static_cast<qint64>(r->seed))
                                                            : QJsonValue(QString::number(r->seed))},
        {QStringLiteral("started_at"), r->startedAt.isValid()
                                           ? QJsonValue(r->startedAt.toUTC().toString(Qt::ISODateWithMs))
                                           : QJsonValue()},
        {QStringLiteral("ended_at"),
         r->endedAt.isValid() ? QJsonValue(r->endedAt.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue()},
        {QStringLiteral("app_version"), r->appVersion},
        {QStringLiteral("rounds_planned"), r->roundsPlanned},
        {QStringLiteral("rounds_done"), r->roundsDone},
        {QStringLiteral("final_test_accuracy"), jsonOptional(r->finalTestAccuracy)},
        {QStringLiteral("final_test_loss"), jsonOptional(r->finalTestLoss)},
        {QStringLiteral("wall_seconds"), r->wallSeconds},
        {QStringLiteral("message"), r->message},
        {QStringLiteral("tags"), QJsonArray::fromStringList(r->tags)},
        {QStringLiteral("notes"), r->notes},
        {QStringLiteral("sweep_id"), r->sweepId},
        {QStringLiteral("sweep_point"), r->sweepPoint},
        {QStringLiteral("spec"), r->spec},
        {QStringLiteral("environment"), environment(runId)},
    };

    QJsonArray roundsJson;
    for (const RoundMetrics &m : rounds(runId)) {
        QJsonObject clientAccuracy;
        QJsonObject clientTrainLoss;
        QJsonObject clientPersonal;
        QJsonObject clientGroup;
        QJsonArray clientsDropped;
        for (const ClientRoundMetrics &c : m.clients) {
            if (c.dropped) clientsDropped.append(c.clientId);
            if (c.accuracy) clientAccuracy.insert(QString::number(c.clientId), *c.accuracy);
            if (c.trainLoss) clientTrainLoss.insert(QString::number(c.clientId), *c.trainLoss);
            if (c.personalAccuracy) clientPersonal.insert(QString::number(c.clientId), *c.personalAccuracy);
            clientGroup.insert(QString::number(c.clientId), c.group);
        }
        const auto ifEvaluated = [&](double v) { return m.evaluated ? QJsonValue(v) : QJsonValue(); };
        QJsonValue fairness;
        if (m.evaluated)
            fairness = QJsonObject{{QStringLiteral("mean"), m.fairness.mean},
                                   {QStringLiteral("std"), m.fairness.std},
                                   {QStringLiteral("worst10"), m.fairness.worst10},
                                   {QStringLiteral("best10"), m.fairness.best10},
                                   {QStringLiteral("jain"), m.fairness.jain}};
        roundsJson.append(QJsonObject{
            {QStringLiteral("round"), m.round},
            {QStringLiteral("evaluated"), m.evaluated},
            {QStringLiteral("test_accuracy"), ifEvaluated(m.testAccuracy)},
            {QStringLiteral("test_loss"), ifEvaluated(m.testLoss)},
            {QStringLiteral("train_loss"), jsonOptional(m.trainLoss)},
            {QStringLiteral("client_accuracy"), clientAccuracy},
            {QStringLiteral("client_train_loss"), clientTrainLoss},
            {QStringLiteral("client_personal_accuracy"), clientPersonal},
            {QStringLiteral("client_group"), clientGroup},
            {QStringLiteral("fairness"), fairness},
            {QStringLiteral("clients_selected"), m.clientsSelected},
            {QStringLiteral("round_seconds"), m.roundSeconds},
            {QStringLiteral("wall_seconds"), m.wallSeconds},
            {QStringLiteral("bytes_up"), qint64(m.bytesUp)},
            {QStringLiteral("bytes_down"), qint64(m.bytesDown)},
            {QStringLiteral("epsilon"), jsonOptional(m.epsilon)},
            {QStringLiteral("asr"), m.evaluated ? jsonOptional(m.asr) : QJsonValue()},
            {QStringLiteral("clients_dropped"), clientsDropped},
            {QStringLiteral("extra"), m.extra},
        });
    }
    return QJsonObject{{QStringLiteral("run"), runJson}, {QStringLiteral("rounds"), roundsJson}};
}

QString RunStore::exportCsv(qint64 runId) const {
    d->beginCall();
    if (!d->open) return {};
    if (!run(runId)) {
        d->fail(QStringLiteral("could not export run %1: no such run").arg(runId));
        return {};
    }
    QString out = QStringLiteral(
        "round,evaluated,test_accuracy,test_loss,train_loss,fairness_mean,fairness_std,"
        "fairness_worst10,fairness_best10,fairness_jain,clients_selected,round_seconds,"
        "wall_seconds,bytes_up,bytes_down,client_accuracy,client_personal_accuracy,epsilon,asr\n");
    for (const RoundMetrics &m : rounds(runId)) {
        const auto ifEvaluated = [&](double v) { return m.evaluated ? numberText(v) : QString(); };
        QStringList accuracies, personal;
        for (const ClientRoundMetrics &c : m.clients) {
            if (c.accuracy)
                accuracies.append(QString::number(c.clientId) + QLatin1Char(':') + numberText(*c.accuracy));
            if (c.personalAccuracy)
                personal.append(QString::number(c.clientId) + QLatin1Char(':') +
                                numberText(*c.personalAccuracy));
        }
        const auto quoted = [](const QStringList &items) {
            return items.isEmpty()
                       ? QString()
                       : QString(QLatin1Char('"') + items.join(QLatin1Char(';')) + QLatin1Char('"'));
        };
        const QStringList fields{
            QString::number(m.round),
            m.evaluated ? QStringLiteral("1") : QStringLiteral("0"),
            ifEvaluated(m.testAccuracy),
            ifEvaluated(m.testLoss),
            numberText(m.trainLoss),
            ifEvaluated(m.fairness.mean),
            ifEvaluated(m.fairness.std),
            ifEvaluated(m.fairness.worst10),
            ifEvaluated(m.fairness.best10),
            ifEvaluated(m.fairness.jain),
            QString::number(m.clientsSelected),
            numberText(m.roundSeconds),
            numberText(m.wallSeconds),
            QString::number(m.bytesUp),
            QString::number(m.bytesDown),
            quoted(accuracies),
            quoted(personal),
            numberText(m.epsilon),
            ifEvaluated(m.asr),
        };
        out += fields.join(QLatin1Char(',')) + QLatin1Char('\n');
    }
    return out;
}

} // namespace fedwb
