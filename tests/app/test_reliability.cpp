// fedwb-cli when things go wrong, as users meet it: runs stopped, killed and resumed (bitwise the same model
// as an uninterrupted run), a disk that fills up mid-run, read-only stores, two processes writing one store,
// output that must survive a kill, and exit codes that tell what happened.
#include "cli_support.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <unistd.h>

using namespace fedwb::test;

namespace {

// fedwb-cli under a file size limit (KiB): writes beyond it fail with EFBIG, as on a full disk.
Result cliWithFileLimit(int kib, const QStringList &args) {
    QProcess p;
    QStringList quoted;
    for (const QString &a : args)
        quoted << QLatin1Char('\'') + QString(a).replace(QLatin1Char('\''), QLatin1String("'\\''")) +
                      QLatin1Char('\'');
    p.start(QStringLiteral("bash"),
            {QStringLiteral("-c"), QStringLiteral("ulimit -f %1; trap '' XFSZ; exec '%2' %3")
                                       .arg(kib)
                                       .arg(QStringLiteral(FEDWB_CLI), quoted.join(QLatin1Char(' ')))});
    return finished(p);
}

const QString kQuickstart = QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb");
// Fashion-MNIST, 20 clients, logistic regression: about a tenth of a second a round.
const QStringList kSmallQuickstart{QStringLiteral("--set"), QStringLiteral("model.name=logreg"),
                                   QStringLiteral("--set"), QStringLiteral("dataset.train_limit=6000"),
                                   QStringLiteral("--set"), QStringLiteral("dataset.test_limit=1000")};

const QByteArray kSynthetic = syntheticWorkspace(200, 1);

// Direct reads of a store, independent of RunStore.
class Sql {
public:
    explicit Sql(const QString &path)
        : m_name(QStringLiteral("probe-%1").arg(++s_count)) {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        db.setDatabaseName(path);
        db.open();
    }
    ~Sql() {
        QSqlDatabase::database(m_name).close();
        QSqlDatabase::removeDatabase(m_name);
    }
    QVariant scalar(const QString &sql) const {
        QSqlQuery q(QSqlDatabase::database(m_name));
        if (!q.exec(sql) || !q.next()) return {};
        return q.value(0);
    }
    QList<QVariantList> rows(const QString &sql) const {
        QList<QVariantList> out;
        QSqlQuery q(QSqlDatabase::database(m_name));
        if (!q.exec(sql)) return out;
        while (q.next()) {
            QVariantList row;
            for (int i = 0; i < q.record().count(); ++i)
                row << q.value(i);
            out << row;
        }
        return out;
    }

private:
    QString m_name;
    static inline int s_count = 0;
};

QByteArray fileHash(const QString &path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

// What a finished run computed: the final model and every round's test metrics.
struct Computed {
    QByteArray model;
    QList<QVariantList> rounds;
};
Computed computed(const QString &db, int runId) {
    Sql s(db);
    return {
        s.scalar(QStringLiteral("SELECT parameters FROM models WHERE run_id = %1").arg(runId)).toByteArray(),
        s.rows(
            QStringLiteral("SELECT round, test_accuracy, test_loss, train_loss, bytes_up FROM rounds WHERE "
                           "run_id = %1 ORDER BY round")
                .arg(runId))};
}

int storedRounds(const QString &db) {
    if (!QFileInfo::exists(db)) return -1;
    Sql s(db);
    const QVariant v = s.scalar(QStringLiteral("SELECT COUNT(*) FROM rounds"));
    return v.isValid() ? v.toInt() : -1;
}

} // namespace

class TestReliability : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_synthetic;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    // Starts a long run and ends it with `signal` once `rounds` rounds are stored; returns its result.
    Result interrupted(const QString &db, int signal, int rounds, const QStringList &extra = {}) {
        QProcess p;
        QStringList args{QStringLiteral("run"),
                         kQuickstart,
                         QStringLiteral("--db"),
                         db,
                         QStringLiteral("--json"),
                         QStringLiteral("--set"),
                         QStringLiteral("run.rounds=10000")};
        p.start(QStringLiteral(FEDWB_CLI), args + kSmallQuickstart + extra);
        if (!p.waitForStarted()) return {};
        if (!QTest::qWaitFor([&] { return storedRounds(db) >= rounds; }, 120000)) return {};
        ::kill(pid_t(p.processId()), signal);
        return finished(p);
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_synthetic = path(QStringLiteral("synthetic.fedwb"));
        QFile f(m_synthetic);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QVERIFY(f.write(kSynthetic) > 0);
        f.close();
    }

    // Ctrl-C / SIGTERM: exit code 3, status stopped; `resume` ends with exactly the uninterrupted model.
    void stoppedRunResumesToTheSameModel() {
        const QString db = path(QStringLiteral("stopped.sqlite"));
        const Result stopped = interrupted(db, SIGTERM, 3);
        QCOMPARE(stopped.exitCode, 3);
        QCOMPARE(stopped.json().value(QStringLiteral("status")).toString(), QStringLiteral("stopped"));
        const int done = stopped.json().value(QStringLiteral("rounds")).toInt();
        QVERIFY(done >= 3 && done < 12);
        QVERIFY2(stopped.err.contains(QStringLiteral("fedwb-cli resume --db ")), qPrintable(stopped.err));

        const Result list =
            cli({QStringLiteral("runs"), QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(list.exitCode, 0);
        const QJsonObject row = QJsonDocument::fromJson(list.out.toUtf8()).array().first().toObject();
        QCOMPARE(row.value(QStringLiteral("run_id")).toInt(), 1);
        QCOMPARE(row.value(QStringLiteral("status")).toString(), QStringLiteral("stopped"));
        QCOMPARE(row.value(QStringLiteral("rounds_done")).toInt(), done);
        QCOMPARE(row.value(QStringLiteral("rounds")).toInt(), 10000);
        QCOMPARE(row.value(QStringLiteral("checkpoint_round")).toInt(), done);

        // Continue to 12 rounds (run.rounds may change) and compare with a run that was never stopped.
        const Result resumed = cli({QStringLiteral("resume"), QStringLiteral("--db"), db,
                                    QStringLiteral("--run"), QStringLiteral("1"), QStringLiteral("--set"),
                                    QStringLiteral("run.rounds=12"), QStringLiteral("--json")});
        QCOMPARE(resumed.exitCode, 0);
        QCOMPARE(resumed.json().value(QStringLiteral("status")).toString(), QStringLiteral("finished"));
        QCOMPARE(resumed.json().value(QStringLiteral("resumed_from_round")).toInt(), done);
        QCOMPARE(resumed.json().value(QStringLiteral("rounds")).toInt(), 12);

        const QString reference = path(QStringLiteral("reference.sqlite"));
        const Result whole =
            cli(QStringList{QStringLiteral("run"), kQuickstart, QStringLiteral("--db"), reference,
                            QStringLiteral("--set"), QStringLiteral("run.rounds=12")} +
                kSmallQuickstart);
        QCOMPARE(whole.exitCode, 0);
        const Computed a = computed(db, 1), b = computed(reference, 1);
        QCOMPARE(a.model.size(), 7850 * 4);
        QVERIFY(a.model == b.model); // bitwise
        QCOMPARE(a.rounds.size(), 12);
        QCOMPARE(a.rounds, b.rounds);
        QCOMPARE(Sql(db).scalar(QStringLiteral("SELECT status FROM runs")).toString(),
                 QStringLiteral("finished"));

        // A finished run has nothing to continue; an unknown one does not exist.
        const Result again = cli({QStringLiteral("resume"), QStringLiteral("--db"), db,
                                  QStringLiteral("--run"), QStringLiteral("1")});
        QCOMPARE(again.exitCode, 2);
        QVERIFY2(again.err.contains(QStringLiteral("nothing to continue")), qPrintable(again.err));
        const Result unknown = cli({QStringLiteral("resume"), QStringLiteral("--db"), db,
                                    QStringLiteral("--run"), QStringLiteral("9")});
        QCOMPARE(unknown.exitCode, 2);
        QVERIFY2(unknown.err.contains(QStringLiteral("run 9: no such run")), qPrintable(unknown.err));
    }

    // SIGKILL mid-run with a checkpoint every 2 rounds: the rounds after the checkpoint are computed again
    // and the result is still bitwise the uninterrupted one. The progress printed before the kill is not
    // lost.
    void killedRunResumesFromItsCheckpoint() {
        const QString db = path(QStringLiteral("killed.sqlite"));
        QProcess p;
        p.start(QStringLiteral(FEDWB_CLI),
                QStringList{QStringLiteral("run"), kQuickstart, QStringLiteral("--db"), db,
                            QStringLiteral("--set"), QStringLiteral("run.rounds=10000"),
                            QStringLiteral("--set"), QStringLiteral("run.checkpoint_every=2")} +
                    kSmallQuickstart);
        QVERIFY(p.waitForStarted());
        QVERIFY(QTest::qWaitFor([&] { return storedRounds(db) >= 5; }, 120000));
        ::kill(pid_t(p.processId()), SIGKILL);
        const Result killed = finished(p);
        QCOMPARE(killed.exitCode, -1); // a crash exit
        const int done = storedRounds(db);
        // Each round's line is flushed as it is printed, also into a pipe: the kill loses none of them.
        for (int r = 1; r < done; ++r)
            QVERIFY2(killed.out.contains(QStringLiteral("round %1/10000").arg(r)), qPrintable(killed.out));

        const Result list =
            cli({QStringLiteral("runs"), QStringLiteral("--db"), db, QStringLiteral("--json")});
        const QJsonObject row = QJsonDocument::fromJson(list.out.toUtf8()).array().first().toObject();
        QCOMPARE(row.value(QStringLiteral("status")).toString(), QStringLiteral("interrupted"));
        const int checkpoint = row.value(QStringLiteral("checkpoint_round")).toInt();
        QCOMPARE(checkpoint, done - done % 2);

        const Result resumed =
            cli({QStringLiteral("resume"), QStringLiteral("--db"), db, QStringLiteral("--run"),
                 QStringLiteral("1"), QStringLiteral("--set"), QStringLiteral("run.rounds=14")});
        QCOMPARE(resumed.exitCode, 0);
        QVERIFY2(resumed.out.contains(QStringLiteral("continues after round %1").arg(checkpoint)),
                 qPrintable(resumed.out));
        const QString reference = path(QStringLiteral("reference14.sqlite"));
        QCOMPARE(cli(QStringList{QStringLiteral("run"), kQuickstart, QStringLiteral("--db"), reference,
                                 QStringLiteral("--set"), QStringLiteral("run.rounds=14")} +
                     kSmallQuickstart)
                     .exitCode,
                 0);
        const Computed a = computed(db, 1), b = computed(reference, 1);
        QVERIFY(!a.model.isEmpty());
        QVERIFY(a.model == b.model);
        QCOMPARE(a.rounds, b.rounds);
    }

    // The disk fills up at round k: the run stops at once (not at the end), exit 1, the JSON says failed, the
    // rounds before k stay readable, the store is not corrupt, and the run resumes to the uninterrupted
    // model.
    void fullDiskStopsTheRunAtOnce() {
        const QString db = path(QStringLiteral("full.sqlite"));
        const Result r = cliWithFileLimit(
            150, {QStringLiteral("run"), m_synthetic, QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 1);
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
        QVERIFY2(o.value(QStringLiteral("message")).toString().contains(QStringLiteral("disk may be full")),
                 qPrintable(r.out));
        QVERIFY2(r.err.contains(QStringLiteral("run failed: could not record round")), qPrintable(r.err));
        const int done = o.value(QStringLiteral("rounds")).toInt();
        QVERIFY2(done >= 1 && done < 100, qPrintable(r.out));
        QCOMPARE(storedRounds(db), done); // nothing trained past the round that could not be kept
        QCOMPARE(Sql(db).scalar(QStringLiteral("PRAGMA integrity_check")).toString(), QStringLiteral("ok"));
        const Result exported = cli({QStringLiteral("export"), QStringLiteral("--db"), db,
                                     QStringLiteral("--run"), QStringLiteral("1")});
        QCOMPARE(exported.exitCode, 0);
        QCOMPARE(QJsonDocument::fromJson(exported.out.toUtf8())
                     .object()
                     .value(QStringLiteral("rounds"))
                     .toArray()
                     .size(),
                 done);

        const Result resumed = cli({QStringLiteral("resume"), QStringLiteral("--db"), db,
                                    QStringLiteral("--run"), QStringLiteral("1")});
        QCOMPARE(resumed.exitCode, 0);
        const QString reference = path(QStringLiteral("full-reference.sqlite"));
        QCOMPARE(cli({QStringLiteral("run"), m_synthetic, QStringLiteral("--db"), reference}).exitCode, 0);
        QVERIFY(computed(db, 1).model == computed(reference, 1).model);
        QCOMPARE(computed(db, 1).rounds, computed(reference, 1).rounds);

        // A store that cannot even take the run row: still one JSON object, and a non-zero exit.
        const Result none =
            cliWithFileLimit(1, {QStringLiteral("run"), m_synthetic, QStringLiteral("--db"),
                                 path(QStringLiteral("tiny.sqlite")), QStringLiteral("--json")});
        QVERIFY(none.exitCode == 1 || none.exitCode == 2);
        QVERIFY2(!none.json().value(QStringLiteral("status")).toString().isEmpty(), qPrintable(none.out));
        QVERIFY2(none.err.contains(QStringLiteral("tiny.sqlite")), qPrintable(none.err));
    }

    // export writes the whole file or nothing, and never over the store.
    void exportIsWholeOrNothing() {
        const QString db = path(QStringLiteral("export.sqlite"));
        QCOMPARE(cli({QStringLiteral("run"), m_synthetic, QStringLiteral("--db"), db, QStringLiteral("--set"),
                      QStringLiteral("run.rounds=60")})
                     .exitCode,
                 0);
        const QByteArray before = fileHash(db);
        const Result self =
            cli({QStringLiteral("export"), QStringLiteral("--db"), db, QStringLiteral("--run"),
                 QStringLiteral("1"), QStringLiteral("--output"), db});
        QCOMPARE(self.exitCode, 2);
        QVERIFY2(self.err.contains(QStringLiteral("the run store itself")), qPrintable(self.err));
        QCOMPARE(fileHash(db), before);
        const QString other = path(QStringLiteral("other.sqlite"));
        QVERIFY(QFile::copy(db, other));
        const Result sqlite =
            cli({QStringLiteral("export"), QStringLiteral("--db"), db, QStringLiteral("--run"),
                 QStringLiteral("1"), QStringLiteral("--output"), other});
        QCOMPARE(sqlite.exitCode, 2);
        QVERIFY2(sqlite.err.contains(QStringLiteral("a SQLite database")), qPrintable(sqlite.err));
        QCOMPARE(fileHash(other), before);

        const Result full =
            cli({QStringLiteral("export"), QStringLiteral("--db"), db, QStringLiteral("--run"),
                 QStringLiteral("1"), QStringLiteral("--output"), QStringLiteral("/dev/full")});
        QCOMPARE(full.exitCode, 1);
        QVERIFY2(full.err.contains(QStringLiteral("--output /dev/full: ")), qPrintable(full.err));

        // A file limit below the export's size (about 90 KiB): the old content stays, no truncated file
        // appears.
        const QString out = path(QStringLiteral("export.json"));
        QFile old(out);
        QVERIFY(old.open(QIODevice::WriteOnly));
        QVERIFY(old.write("previous export\n") > 0);
        old.close();
        const Result limited = cliWithFileLimit(40, {QStringLiteral("export"), QStringLiteral("--db"), db,
                                                     QStringLiteral("--run"), QStringLiteral("1"),
                                                     QStringLiteral("--output"), out});
        QCOMPARE(limited.exitCode, 1);
        QFile check(out);
        QVERIFY(check.open(QIODevice::ReadOnly));
        QCOMPARE(check.readAll(), QByteArray("previous export\n"));
        QCOMPARE(
            QDir(m_dir.path()).entryList({QStringLiteral("export.json*")}, QDir::Files | QDir::Hidden).size(),
            1);

        const Result whole =
            cli({QStringLiteral("export"), QStringLiteral("--db"), db, QStringLiteral("--run"),
                 QStringLiteral("1"), QStringLiteral("--output"), out});
        QCOMPARE(whole.exitCode, 0);
        QVERIFY(check.seek(0));
        QFile again(out);
        QVERIFY(again.open(QIODevice::ReadOnly));
        QCOMPARE(QJsonDocument::fromJson(again.readAll())
                     .object()
                     .value(QStringLiteral("rounds"))
                     .toArray()
                     .size(),
                 60);
    }

    // A store in a read-only folder can be listed and exported (and is not changed); writing says read-only.
    void readOnlyStoreIsReadable() {
        const QString folder = path(QStringLiteral("ro"));
        QVERIFY(QDir().mkpath(folder));
        const QString db = folder + QStringLiteral("/runs.sqlite");
        QCOMPARE(cli({QStringLiteral("run"), m_synthetic, QStringLiteral("--db"), db, QStringLiteral("--set"),
                      QStringLiteral("run.rounds=5")})
                     .exitCode,
                 0);
        QVERIFY(!QFileInfo::exists(db + QStringLiteral("-wal")) ||
                QFileInfo(db + QStringLiteral("-wal")).size() == 0);
        QFile::remove(db + QStringLiteral("-wal"));
        QFile::remove(db + QStringLiteral("-shm"));
        QVERIFY(QFile::setPermissions(db, QFile::ReadOwner | QFile::ReadGroup | QFile::ReadOther));
        QVERIFY(QFile::setPermissions(folder, QFile::ReadOwner | QFile::ExeOwner | QFile::ReadGroup |
                                                  QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther));
        // The test folder itself must be reachable for an unprivileged user.
        QVERIFY(QFile::setPermissions(m_dir.path(),
                                      QFile::permissions(m_dir.path()) | QFile::ExeOther | QFile::ExeGroup));
        const QByteArray before = fileHash(db);
        // Root ignores file permissions. As root the folder is made read-only for everyone, root included: a
        // read-only bind mount of it in a private mount namespace (unshare), the way a store on a read-only
        // disk is. Without that privilege: an unprivileged user (setpriv) runs a copy of fedwb-cli.
        const auto inReadOnlyMount = [&](const QStringList &args) {
            QProcess p;
            p.start(
                QStringLiteral("unshare"),
                QStringList{QStringLiteral("--mount"), QStringLiteral("--propagation"),
                            QStringLiteral("private"), QStringLiteral("sh"), QStringLiteral("-c"),
                            QStringLiteral("mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && "
                                           "shift && exec \"$@\""),
                            QStringLiteral("sh"), folder} +
                    args);
            return finished(p);
        };
        const auto asUnprivileged = [&](const QString &cliPath, const QStringList &args) {
            QProcess p;
            p.start(QStringLiteral("setpriv"),
                    QStringList{QStringLiteral("--reuid=65534"), QStringLiteral("--regid=65534"),
                                QStringLiteral("--clear-groups"), cliPath} +
                        args);
            return finished(p);
        };
        enum class Way { Direct, ReadOnlyMount, Unprivileged } way = Way::Direct;
        QString unprivilegedCli;
        if (::geteuid() == 0) {
            const Result probe =
                inReadOnlyMount({QStringLiteral("touch"), folder + QStringLiteral("/probe")});
            if (probe.exitCode != -1 && probe.exitCode != 0 &&
                probe.err.contains(QStringLiteral("Read-only"))) {
                way = Way::ReadOnlyMount;
            } else {
                QFile::remove(folder + QStringLiteral("/probe"));
                unprivilegedCli = path(QStringLiteral("fedwb-cli"));
                QVERIFY(QFile::copy(QStringLiteral(FEDWB_CLI), unprivilegedCli));
                QVERIFY(QFile::setPermissions(unprivilegedCli, QFile::permissions(unprivilegedCli) |
                                                                   QFile::ExeOther | QFile::ReadOther));
                const Result version = asUnprivileged(unprivilegedCli, {QStringLiteral("--version")});
                if (version.exitCode != 0)
                    QSKIP(qPrintable(
                        QStringLiteral("cannot make a read-only store here: no read-only bind mount (%1) "
                                       "and an unprivileged user cannot run fedwb-cli (%2)")
                            .arg(probe.err.trimmed(), version.err.trimmed())));
                way = Way::Unprivileged;
            }
        }
        const auto asUser = [&](const QStringList &args) {
            switch (way) {
            case Way::ReadOnlyMount:
                return inReadOnlyMount(QStringList{QStringLiteral(FEDWB_CLI)} + args);
            case Way::Unprivileged:
                return asUnprivileged(unprivilegedCli, args);
            case Way::Direct:
                break;
            }
            return cli(args);
        };
        const Result list = asUser({QStringLiteral("runs"), QStringLiteral("--db"), db});
        QVERIFY2(list.exitCode == 0,
                 qPrintable(QStringLiteral("exit %1: %2").arg(list.exitCode).arg(list.err)));
        QVERIFY2(list.out.contains(QStringLiteral("synthetic")), qPrintable(list.out + list.err));
        const Result exported =
            asUser({QStringLiteral("export"), QStringLiteral("--db"), db, QStringLiteral("--run"),
                    QStringLiteral("1"), QStringLiteral("--format"), QStringLiteral("csv")});
        QCOMPARE(exported.exitCode, 0);
        QCOMPARE(exported.out.count(QLatin1Char('\n')), 6); // header + 5 rounds
        const Result run = asUser(
            {QStringLiteral("run"), m_synthetic, QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains(QStringLiteral("read-only")), qPrintable(run.err));
        QCOMPARE(run.json().value(QStringLiteral("status")).toString(), QStringLiteral("invalid"));
        QCOMPARE(fileHash(db), before);
        QVERIFY(!QFileInfo::exists(db + QStringLiteral("-wal")));
        if (way == Way::ReadOnlyMount) { // a read-only disk: readable whatever the mode bits say
            QVERIFY(QFile::setPermissions(db, QFile::permissions(db) | QFile::WriteOwner));
            QVERIFY(QFile::setPermissions(folder, QFile::permissions(folder) | QFile::WriteOwner));
            const Result again = asUser({QStringLiteral("runs"), QStringLiteral("--db"), db});
            QVERIFY2(again.exitCode == 0, qPrintable(again.err));
            QCOMPARE(fileHash(db), before);
        }
        QVERIFY(QFile::setPermissions(folder, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        QVERIFY(!QFileInfo::exists(folder + QStringLiteral("/probe")));
    }

    // Two processes recording into one store at the same time (the GUI and a CLI run, or two CLI runs) with a
    // third listing it: all succeed and the store is intact.
    void concurrentWritersShareAStore() {
        const QString db = path(QStringLiteral("shared.sqlite"));
        QProcess a, b;
        const QStringList args{QStringLiteral("run"),   m_synthetic,
                               QStringLiteral("--db"),  db,
                               QStringLiteral("--set"), QStringLiteral("run.rounds=300")};
        a.start(QStringLiteral(FEDWB_CLI), args);
        b.start(QStringLiteral(FEDWB_CLI), args);
        QVERIFY(a.waitForStarted() && b.waitForStarted());
        int listed = 0;
        while (a.state() != QProcess::NotRunning || b.state() != QProcess::NotRunning) {
            if (QFileInfo::exists(db)) {
                const Result r = cli({QStringLiteral("runs"), QStringLiteral("--db"), db});
                QCOMPARE(r.exitCode, 0);
                ++listed;
            }
            a.waitForFinished(20);
            b.waitForFinished(20);
        }
        QVERIFY(listed > 0);
        QCOMPARE(finished(a).exitCode, 0);
        QCOMPARE(finished(b).exitCode, 0);
        Sql s(db);
        QCOMPARE(s.scalar(QStringLiteral("SELECT COUNT(*) FROM rounds")).toInt(), 600);
        QCOMPARE(s.scalar(QStringLiteral("SELECT COUNT(*) FROM runs WHERE status = 'finished'")).toInt(), 2);
        QCOMPARE(s.scalar(QStringLiteral("PRAGMA integrity_check")).toString(), QStringLiteral("ok"));
        QCOMPARE(s.scalar(QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
        // Same seed, same store: both computed the same model.
        QVERIFY(computed(db, 1).model == computed(db, 2).model);
    }

    // A diverging run ends with exit code 4 and status diverged; the rounds before stay.
    void divergenceHasItsOwnStatus() {
        const QString ws = path(QStringLiteral("quadratic.fedwb"));
        QFile f(ws);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"format": 1, "dataset": {"name": "quadratic", "features": 5, "samples_per_client": 100},
                    "partition": {"name": "natural"}, "clients": {"count": 6, "per_round": 6},
                    "model": {"name": "logreg"}, "training": {"lr": 5, "batch_size": 100, "epochs": 5},
                    "run": {"rounds": 50, "seed": 1}})");
        f.close();
        const QString db = path(QStringLiteral("diverged.sqlite"));
        const Result r =
            cli({QStringLiteral("run"), ws, QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 4);
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QStringLiteral("status")).toString(), QStringLiteral("diverged"));
        const int round = o.value(QStringLiteral("diverged_round")).toInt();
        QVERIFY(round > 1 && round < 50);
        QCOMPARE(o.value(QStringLiteral("rounds")).toInt(), round - 1);
        QVERIFY2(o.value(QStringLiteral("message")).toString().contains(QStringLiteral("lower training.lr")),
                 qPrintable(r.out));
        Sql s(db);
        QCOMPARE(s.scalar(QStringLiteral("SELECT status FROM runs")).toString(), QStringLiteral("diverged"));
        QCOMPARE(s.scalar(QStringLiteral("SELECT COUNT(*) FROM rounds")).toInt(), round - 1);
        QCOMPARE(s.scalar(QStringLiteral("SELECT round FROM models")).toInt(), round - 1);
    }

    // Names from a store cannot break the runs table or drive the terminal; :memory: is refused for a run.
    void hostileNamesAndMemoryStore() {
        const QString db = path(QStringLiteral("names.sqlite"));
        const QString evil = QStringLiteral("two\nlines\x1b[31mred");
        QCOMPARE(
            cli({QStringLiteral("run"), m_synthetic, QStringLiteral("--db"), db, QStringLiteral("--name"),
                 evil, QStringLiteral("--set"), QStringLiteral("run.rounds=2")})
                .exitCode,
            0);
        const Result list = cli({QStringLiteral("runs"), QStringLiteral("--db"), db});
        QCOMPARE(list.exitCode, 0);
        QCOMPARE(list.out.count(QLatin1Char('\n')), 2); // header + one run
        QVERIFY(!list.out.contains(QChar(0x1b)));
        QVERIFY2(list.out.contains(QStringLiteral("two\\nlines\\x1b[31mred")), qPrintable(list.out));
        const Result json =
            cli({QStringLiteral("runs"), QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(QJsonDocument::fromJson(json.out.toUtf8())
                     .array()
                     .first()
                     .toObject()
                     .value(QStringLiteral("name")),
                 QJsonValue(evil)); // JSON keeps the exact name

        const Result memory = cli({QStringLiteral("run"), m_synthetic, QStringLiteral("--db"),
                                   QStringLiteral(":memory:"), QStringLiteral("--json")});
        QCOMPARE(memory.exitCode, 2);
        QVERIFY2(memory.err.contains(QStringLiteral("--db :memory:")), qPrintable(memory.err));
        QCOMPARE(memory.json().value(QStringLiteral("status")).toString(), QStringLiteral("invalid"));
    }
};

QTEST_GUILESS_MAIN(TestReliability)
#include "test_reliability.moc"
