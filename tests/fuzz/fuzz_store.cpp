// libFuzzer: a run store file (`--db`), opened by RunStore twice: read-only, as `fedwb-cli runs` / `export`
// open it, then read-write, as a run and the GUI do (checks, migration, marking interrupted runs). Each open
// store is read the way those callers read it: runs(), and for each run run(), rounds(), environment(),
// checkpointRounds(), latestCheckpoint(), model(), exportJson(), exportCsv().
//
// Beyond "no crash, no leak, no UB": a store that does not open says why, a read-only open leaves the file
// as it was, a store open for writing is at the current schema, and every listed run can be read.
#include "fuzz_support.h"

#include "store/RunStore.h"

#include <QFile>

using namespace fedwb;

namespace {

QString storePath;
constexpr int kMaxRuns = 16; // bounds the work per input; the seeds hold one run each

void readEverything(const RunStore &store) {
    const QList<StoredRun> runs = store.runs();
    int n = 0;
    for (const StoredRun &r : runs) {
        if (++n > kMaxRuns) break;
        const std::optional<StoredRun> one = store.run(r.id);
        FUZZ_CHECK(one && one->id == r.id, QStringLiteral("run %1 is listed but cannot be read").arg(r.id));
        (void)store.rounds(r.id);
        (void)store.environment(r.id);
        (void)store.checkpointRounds(r.id);
        int round = 0;
        (void)store.latestCheckpoint(r.id, &round);
        (void)store.model(r.id, &round);
        (void)store.exportJson(r.id);
        (void)store.exportCsv(r.id);
    }
}

QByteArray contents(const QString &path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    fuzz::initQt();
    storePath = fuzz::scratchDir() + QStringLiteral("/runs.sqlite");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    // The previous input's write-ahead log and lock files must not leak into this one.
    for (const char *suffix : {"-wal", "-shm", "-journal"})
        QFile::remove(storePath + QLatin1String(suffix));
    fuzz::writeInput(storePath, data, size);
    const QByteArray input = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));

    for (const RunStore::Access access : {RunStore::Access::ReadOnly, RunStore::Access::ReadWrite}) {
        const bool readOnly = access == RunStore::Access::ReadOnly;
        {
            RunStore store(storePath, access);
            if (!store.isOpen()) {
                FUZZ_CHECK(!store.lastError().isEmpty(),
                           QStringLiteral("the store did not open, and says nothing"));
                continue;
            }
            FUZZ_CHECK(store.isReadOnly() == readOnly, QString());
            if (!readOnly)
                FUZZ_CHECK(
                    store.schemaVersion() == RunStore::kSchemaVersion,
                    QStringLiteral("open for writing at schema version %1").arg(store.schemaVersion()));
            readEverything(store);
        }
        if (readOnly)
            FUZZ_CHECK(contents(storePath) == input, QStringLiteral("a read-only open changed the file"));
    }
    return 0;
}
