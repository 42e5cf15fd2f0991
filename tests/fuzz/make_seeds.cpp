// Writes the generated fuzz seeds into OUT (usage: fuzz_make_seeds OUT):
//   OUT/idx/       tiny valid IDX files (gzip and plain): images [2, 28, 28], labels [10], a 4-D array
//   OUT/store/     tiny valid run stores written by RunStore itself (a finished run with rounds, clients, a
//                  checkpoint, a model and an environment; a run left `running` by a process that is gone)
//   OUT/workspace.dict  a libFuzzer dictionary: every section, key, component name and choice in the
//                  registries, as JSON tokens
// Generated, not committed, so the seeds follow the file formats, the store schema and the registries.
#include "remote/Protocol.h"
#include "spec/Registry.h"
#include "store/RunStore.h"
#include "train/ClientTask.h"

#include <QCborArray>
#include <QCborValue>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace fedwb;

namespace {

[[noreturn]] void die(const QString &what) {
    std::fprintf(stderr, "fuzz_make_seeds: %s\n", qPrintable(what));
    std::exit(1);
}

QByteArray idx(const std::vector<int> &dims, std::uint8_t (*value)(std::size_t)) {
    QByteArray out;
    out.append(char(0)).append(char(0)).append(char(0x08)).append(char(dims.size()));
    std::size_t count = 1;
    for (int d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8)
            out.append(char((unsigned(d) >> shift) & 0xff));
        count *= std::size_t(d);
    }
    for (std::size_t i = 0; i < count; ++i)
        out.append(char(value(i)));
    return out;
}

void writeFile(const QString &path, const QByteArray &bytes) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size())
        die(QStringLiteral("cannot write ") + path);
}

void writeGzip(const QString &path, const QByteArray &bytes) {
    gzFile gz = gzopen(QFile::encodeName(path).constData(), "wb9");
    if (!gz || gzwrite(gz, bytes.constData(), unsigned(bytes.size())) != int(bytes.size()) ||
        gzclose(gz) != Z_OK)
        die(QStringLiteral("cannot write ") + path);
}

void writeIdxSeeds(const QString &dir) {
    const QByteArray images = idx({2, 28, 28}, [](std::size_t i) { return std::uint8_t((i * 37) % 256); });
    const QByteArray labels = idx({10}, [](std::size_t i) { return std::uint8_t(i % 10); });
    const QByteArray cube = idx({2, 2, 2, 2}, [](std::size_t i) { return std::uint8_t(i); });
    writeGzip(dir + QStringLiteral("/images-2x28x28.gz"), images);
    writeGzip(dir + QStringLiteral("/labels-10.gz"), labels);
    writeFile(dir + QStringLiteral("/labels-10.idx"), labels);
    writeFile(dir + QStringLiteral("/cube-2x2x2x2.idx"), cube);
}

RoundMetrics round(int r, bool checkpoint) {
    RoundMetrics m;
    m.round = r;
    m.evaluated = r % 2 == 0;
    m.testAccuracy = 0.5 + 0.1 * r;
    m.testLoss = 1.0 / r;
    m.trainLoss = 1.2 / r;
    m.fairness = {0.6, 0.1, 0.4, 0.8, 0.95};
    m.clientsSelected = 2;
    m.roundSeconds = 0.25;
    m.wallSeconds = 0.25 * r;
    m.bytesUp = 1000;
    m.bytesDown = 2000;
    m.clientLr = 0.05;
    for (int c = 0; c < 2; ++c) {
        ClientRoundMetrics cm;
        cm.clientId = c;
        cm.trained = true;
        cm.trainLoss = 1.0 + c;
        if (m.evaluated) {
            cm.accuracy = 0.5 + 0.25 * c;
            cm.loss = 0.7;
            cm.personalAccuracy = 0.9;
        }
        cm.trainSamples = 60;
        cm.testSamples = 6;
        cm.group = c == 0 ? QStringLiteral("phones") : QStringLiteral("servers");
        cm.steps = 2;
        m.clients.push_back(cm);
    }
    if (checkpoint) m.checkpoint = QByteArray("\xa1\x61v\x01", 4); // a small CBOR map, not a real RunState
    return m;
}

const QJsonObject kSpec{
    {QStringLiteral("format"), 1},
    {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("quadratic")}}},
    {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), 2}}}};

// Rewrites the store with 512-byte pages and no write-ahead log, so a seed is a few KiB.
void compact(const QString &path) {
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("compact"));
        db.setDatabaseName(path);
        if (!db.open()) die(QStringLiteral("cannot reopen ") + path);
        QSqlQuery q(db);
        for (const char *sql : {"PRAGMA journal_mode=DELETE", "PRAGMA page_size=512", "VACUUM"})
            if (!q.exec(QString::fromLatin1(sql)))
                die(QStringLiteral("%1 on %2: %3").arg(QString::fromLatin1(sql), path, q.lastError().text()));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("compact"));
}

void writeStoreSeeds(const QString &dir) {
    const QString finished = dir + QStringLiteral("/finished-run.sqlite");
    const QString running = dir + QStringLiteral("/running-run.sqlite");
    {
        RunStore store(finished);
        if (!store.isOpen()) die(store.lastError());
        const qint64 id =
            store.createRun(QStringLiteral("seed"), QStringLiteral("/tmp/seed.fedwb"), kSpec, 7, 2);
        bool ok = id > 0 &&
                  store.setEnvironment(id, QJsonObject{{QStringLiteral("torch"), QStringLiteral("1.13")}});
        ok = ok && store.recordRound(id, round(1, false)) && store.recordRound(id, round(2, true));
        ok = ok && store.saveModel(id, 2, QByteArray(16, '\0'), 4);
        RunSummary s;
        s.status = RunStatus::Finished;
        s.roundsDone = 2;
        s.finalTestAccuracy = 0.7;
        s.finalTestLoss = 0.5;
        s.wallSeconds = 0.5;
        ok = ok && store.finishRun(id, s);
        if (!ok) die(store.lastError());
    }
    {
        // Left `running` by this process: when the fuzzer opens it, the owner is gone and the run is marked
        // interrupted.
        RunStore store(running);
        if (!store.isOpen()) die(store.lastError());
        const qint64 id = store.createRun(QStringLiteral("crashed"), QString(), kSpec, 1, 3);
        if (id <= 0 || !store.recordRound(id, round(1, true))) die(store.lastError());
    }
    compact(finished);
    compact(running);
}

QByteArray dictToken(const QString &text) {
    QByteArray out("\"");
    for (char c : text.toUtf8()) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\')
            out += '\\', out += c;
        else if (u < 0x20 || u >= 0x7f)
            out += QByteArray("\\x") + QByteArray::number(u, 16).rightJustified(2, '0');
        else
            out += c;
    }
    return out + "\"\n";
}

void writeDictionary(const QString &path) {
    registerBuiltins();
    const Registry &reg = Registry::global();
    QSet<QString> tokens;
    auto params = [&](const QList<ParamSchema> &ps) {
        for (const ParamSchema &p : ps) {
            tokens.insert(QStringLiteral("\"%1\":").arg(p.key));
            for (const QString &c : p.choices)
                tokens.insert(QStringLiteral("\"%1\"").arg(c));
        }
    };
    for (const SectionSchema &s : reg.sections()) {
        tokens.insert(QStringLiteral("\"%1\":").arg(s.key));
        params(s.params);
    }
    for (const QString &category : reg.categories())
        for (const QString &name : reg.componentNames(category)) {
            tokens.insert(QStringLiteral("\"%1\"").arg(name));
            if (const ComponentSchema *c = reg.component(category, name)) params(c->params);
        }
    for (const char *t : {"\"format\": 1", "\"name\":", "\"count\":", "\"fraction\":", "\"epochs\":", "true",
                          "false", "null", "1e308", "-1", "0.5", "[]", "{}"})
        tokens.insert(QString::fromLatin1(t));
    QStringList sorted(tokens.begin(), tokens.end());
    sorted.sort();
    QByteArray out("# generated by fuzz_make_seeds from the registries\n");
    for (const QString &t : sorted)
        out += dictToken(t);
    writeFile(path, out);
}

// One message of every type of the remote-execution protocol, as the coordinator and the workers send them.
void writeProtocolSeeds(const QString &dir) {
    using remote::MessageType;
    ClientTask task;
    task.round = 2;
    task.clientId = 3;
    task.model = QByteArray(16, '\1');
    task.stages.append({QStringLiteral("norm-clip"), QJsonObject{{QStringLiteral("max_norm"), 1.0}}});
    task.spec = QJsonObject{{QStringLiteral("format"), 1}};
    ClientResult result;
    result.round = 2;
    result.clientId = 3;
    result.update = QByteArray(610 * 4, '\0');
    result.weight = 40;
    const QCborMap kernel =
        remote::KernelSettings{QStringLiteral("avx2"), QStringLiteral("Haswell"), 1}.toCbor();
    const std::vector<std::pair<MessageType, QCborMap>> messages{
        {MessageType::Hello,
         {{QStringLiteral("name"), QStringLiteral("w1")},
          {QStringLiteral("build"), QStringLiteral("0.1.0")},
          {QStringLiteral("threads"), 2},
          {QStringLiteral("device"), QStringLiteral("cpu")},
          {QStringLiteral("kernel"), kernel},
          {QStringLiteral("portable"), true},
          {QStringLiteral("datasets"),
           QCborArray{QCborMap{{QStringLiteral("name"), QStringLiteral("synthetic")},
                               {QStringLiteral("digest"), QStringLiteral("ab12")}}}}}},
        {MessageType::Welcome, {{QStringLiteral("heartbeat_ms"), 1000}}},
        {MessageType::Reject, {{QStringLiteral("reason"), QStringLiteral("no")}}},
        {MessageType::Prepare,
         {{QStringLiteral("run"), 7},
          {QStringLiteral("spec"), QCborMap{{QStringLiteral("format"), 1}}},
          {QStringLiteral("dataset_digest"), QStringLiteral("ab")},
          {QStringLiteral("partition_digest"), QStringLiteral("cd")},
          {QStringLiteral("parameters"), 610},
          {QStringLiteral("portable"), false}}},
        {MessageType::Ready,
         {{QStringLiteral("run"), 7},
          {QStringLiteral("dataset_digest"), QStringLiteral("ab")},
          {QStringLiteral("partition_digest"), QStringLiteral("cd")}}},
        {MessageType::Refuse,
         {{QStringLiteral("run"), 7}, {QStringLiteral("reason"), QStringLiteral("no data")}}},
        {MessageType::Task,
         {{QStringLiteral("run"), 7},
          {QStringLiteral("id"), QStringLiteral("r2c3")},
          {QStringLiteral("task"), task.toCbor()}}},
        {MessageType::Result,
         {{QStringLiteral("run"), 7},
          {QStringLiteral("id"), QStringLiteral("r2c3")},
          {QStringLiteral("result"), result.toCbor()},
          {QStringLiteral("kernel"), kernel}}},
        {MessageType::Failed,
         {{QStringLiteral("run"), 7},
          {QStringLiteral("id"), QStringLiteral("r2c3")},
          {QStringLiteral("reason"), QStringLiteral("x")}}},
        {MessageType::Cancel,
         {{QStringLiteral("run"), 7}, {QStringLiteral("ids"), QCborArray{QStringLiteral("r2c3")}}}},
        {MessageType::Heartbeat, {{QStringLiteral("busy"), 1}}},
        {MessageType::Stop, {{QStringLiteral("reason"), QStringLiteral("done")}}},
        {MessageType::Bye, {}},
    };
    for (const auto &[type, fields] : messages)
        writeFile(dir + QLatin1Char('/') + remote::messageTypeName(type) + QStringLiteral(".cbor"),
                  remote::encode(type, fields));
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    if (argc != 2) die(QStringLiteral("usage: fuzz_make_seeds OUT"));
    const QString out = QString::fromLocal8Bit(argv[1]);
    for (const char *sub : {"idx", "store", "protocol"})
        if (!QDir().mkpath(out + QLatin1Char('/') + QLatin1String(sub)))
            die(QStringLiteral("cannot create ") + out);
    writeIdxSeeds(out + QStringLiteral("/idx"));
    writeStoreSeeds(out + QStringLiteral("/store"));
    writeProtocolSeeds(out + QStringLiteral("/protocol"));
    writeDictionary(out + QStringLiteral("/workspace.dict"));
    std::printf("fuzz_make_seeds: seeds in %s\n", qPrintable(out));
    return 0;
}
