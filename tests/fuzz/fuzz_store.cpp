// libFuzzer: a run store file (`--db`), opened by RunStore (version check, migration, marking interrupted
// runs) and read the way `fedwb-cli runs` / `export` and the GUI's runs list read it: runs(), and for each
// run run(), rounds(), environment(), checkpointRounds(), latestCheckpoint(), model(), exportJson(),
// exportCsv().
//
// Beyond "no crash, no leak, no UB": a store that does not open says why, and every listed run can be read.
#include "fuzz_support.h"

#include "store/RunStore.h"

#include <QFile>

using namespace fedwb;

namespace {
QString storePath;
constexpr int kMaxRuns = 16; // bounds the work per input; the seeds hold one or two runs
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

    RunStore store(storePath);
    if (!store.isOpen()) {
        FUZZ_CHECK(!store.lastError().isEmpty(), QStringLiteral("the store did not open, and says nothing"));
        return 0;
    }
    FUZZ_CHECK(store.schemaVersion() == RunStore::kSchemaVersion,
               QStringLiteral("open at schema version %1").arg(store.schemaVersion()));
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
    return 0;
}
