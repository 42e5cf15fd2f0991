// The Runs browser over a real store (offscreen): what it lists, filters, and the edits it makes.
#include "runs/RunsBrowser.h"
#include "runs/RunsModel.h"
#include "store/RunStore.h"

#include <QApplication>
#include <QFile>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

using namespace fedwb;

namespace {

qint64 addRun(RunStore &store, const QString &name, const QString &strategy, double accuracy) {
    const QJsonObject spec{
        {QStringLiteral("strategy"), QJsonObject{{QStringLiteral("name"), strategy}}},
        {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), 2}, {QStringLiteral("threads"), 1}}}};
    const qint64 id = store.createRun(name, QStringLiteral("/tmp/w.fedwb"), spec, 1, 2);
    for (int r = 1; r <= 2; ++r) {
        RoundMetrics m;
        m.round = r;
        m.evaluated = true;
        m.testAccuracy = r == 1 ? accuracy : accuracy - 0.1; // the best is round 1's
        m.testLoss = 1;
        store.recordRound(id, m);
    }
    RunSummary s;
    s.status = RunStatus::Finished;
    s.roundsDone = 2;
    s.finalTestAccuracy = accuracy - 0.1;
    s.finalTestLoss = 1;
    s.wallSeconds = 75;
    store.finishRun(id, s);
    return id;
}

} // namespace

class TestRuns : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private Q_SLOTS:
    void listsFiltersAndEdits() {
        const QString path = m_dir.filePath(QStringLiteral("runs.sqlite"));
        RunStore store(path);
        QVERIFY(store.isOpen());
        const qint64 a = addRun(store, QStringLiteral("baseline"), QStringLiteral("fedavg"), 0.8);
        const qint64 b = addRun(store, QStringLiteral("baseline"), QStringLiteral("median"), 0.7);
        const qint64 c = addRun(store, QStringLiteral("baseline"), QStringLiteral("krum"), 0.6);
        RunsBrowser browser;
        browser.setStore(&store, false);
        const RunsModel *m = browser.model();
        QCOMPARE(m->rowCount(), 3);
        QCOMPARE(m->runAt(0).id, c); // newest first
        // Same names: the differing setting is a column (run.threads never is), its value per run.
        QCOMPARE(m->settingColumns(), QStringList{QStringLiteral("strategy.name")});
        QCOMPARE(m->index(m->rowOf(b), RunsModel::FixedColumns).data().toString(), QStringLiteral("median"));
        QCOMPARE(m->index(m->rowOf(a), RunsModel::BestAccuracy).data().toString(), QStringLiteral("0.8000"));
        QCOMPARE(m->index(m->rowOf(a), RunsModel::FinalAccuracy).data().toString(), QStringLiteral("0.7000"));
        QCOMPARE(m->index(m->rowOf(a), RunsModel::Duration).data().toString(), QStringLiteral("1.3 min"));

        // The filter matches any shown text, settings included.
        browser.setFilterText(QStringLiteral("MEDIAN"));
        QCOMPARE(browser.proxy()->rowCount(), 1);
        browser.setFilterText(QString());
        QCOMPARE(browser.proxy()->rowCount(), 3);

        QVERIFY(browser.renameRun(b, QStringLiteral("median against flippers")));
        QVERIFY(browser.setTags(b, {QStringLiteral("robust")}));
        QVERIFY(browser.setNotes(b, QStringLiteral("holds")));
        QCOMPARE(store.run(b)->name, QStringLiteral("median against flippers"));
        QCOMPARE(m->index(m->rowOf(b), RunsModel::Tags).data().toString(), QStringLiteral("robust"));
        browser.setFilterText(QStringLiteral("robust"));
        QCOMPARE(browser.proxy()->rowCount(), 1);
        browser.setFilterText(QString());
        QVERIFY(!browser.renameRun(b, QString())); // a name is needed
        QVERIFY(!browser.renameRun(999, QStringLiteral("x")));
        QVERIFY(browser.lastError().contains(QStringLiteral("no such run")));

        // Export: what fedwb-cli export writes, whole; an unknown suffix or folder is an error.
        const QString csv = m_dir.filePath(QStringLiteral("b.csv")),
                      json = m_dir.filePath(QStringLiteral("b.json"));
        QVERIFY2(browser.exportRun(b, csv), qPrintable(browser.lastError()));
        QVERIFY(browser.exportRun(b, json));
        QFile csvFile(csv), jsonFile(json);
        QVERIFY(csvFile.open(QIODevice::ReadOnly) && jsonFile.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(csvFile.readAll()), store.exportCsv(b));
        QCOMPARE(QJsonDocument::fromJson(jsonFile.readAll()).object(), store.exportJson(b));
        QVERIFY(!browser.exportRun(b, m_dir.filePath(QStringLiteral("b.xlsx"))));
        QVERIFY(browser.lastError().contains(QStringLiteral("allowed: .csv, .json")));
        QVERIFY(!browser.exportRun(b, m_dir.filePath(QStringLiteral("missing/b.csv"))));

        // Several selected; the busy run is never deleted, the others are.
        browser.view()->selectAll();
        QCOMPARE(browser.selectedRunIds().size(), 3);
        browser.setBusyPredicate([a](qint64 id) { return id == a; });
        QCOMPARE(browser.deleteRuns({a, c}, false), 1);
        QVERIFY(store.run(a));
        QVERIFY(!store.run(c));
        QCOMPARE(m->rowCount(), 2);

        // A read-only store lists but never edits.
        RunStore readOnly(path, RunStore::Access::ReadOnly);
        browser.setStore(&readOnly, true);
        QCOMPARE(m->rowCount(), 2);
        QVERIFY(!browser.renameRun(a, QStringLiteral("x")));
        QCOMPARE(browser.deleteRuns({b}, false), 0);
        QVERIFY(store.run(b));
    }
};

QTEST_MAIN(TestRuns)
#include "test_runs.moc"
