// The bad-input matrix: the real fedwb-cli on invalid workspaces, dataset files, stores, output paths and
// command lines. Every row asserts the exit code (2 invalid input or usage, 1 failure, 0 where the input is
// fine) and a substring of stderr that names the key path, option or file.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include "../idx_files.h"
#include "cli_support.h"

#include <zlib.h>

#include <sys/stat.h>

using namespace fedwb::test;

namespace {

// The workspace every row starts from: valid, and quick to check (4 natural synthetic clients, logreg).
const char *const kBase = R"({"format": 1, "name": "bad-input base",
 "dataset": {"name": "synthetic"},
 "partition": {"name": "natural"},
 "clients": {"count": 4, "per_round": 2},
 "model": {"name": "logreg"},
 "training": {"batch_size": 16},
 "run": {"rounds": 1, "seed": 1, "threads": 1}})";

// Fashion-MNIST from a data folder of the fixture (%DIR%/data/NAME), IID over 4 clients.
#define FASHION(folder)                                                                                      \
    R"({"dataset": {"name": "fashion-mnist", "path": "%DIR%/data/)" folder                                   \
    R"("}, "partition": {"name": "iid"}})"

struct Row {
    const char *name;
    // What WORKSPACE (%WS%) is: a JSON object merged over kBase section by section; text after '=' as the
    // whole file; or '@' and a fixture file name in %DIR%.
    const char *workspace;
    QStringList args; // %WS%, %DIR%, %DB% (a store holding run 1), %NEWDB% (a fresh store path) expanded
    int exitCode;
    const char *needle;              // stderr must contain it (expanded); for exit code 0, stdout or stderr
    const char *unchanged = nullptr; // a fixture file the command must leave byte for byte as it was
};

const QStringList kValidate{QStringLiteral("validate"), QStringLiteral("%WS%")};

QStringList validateWith(std::initializer_list<const char *> sets) {
    QStringList args = kValidate;
    for (const char *s : sets)
        args << QStringLiteral("--set") << QString::fromUtf8(s);
    return args;
}

QStringList cmd(std::initializer_list<const char *> words) {
    QStringList args;
    for (const char *w : words)
        args << QString::fromUtf8(w);
    return args;
}

// fedwb-cli run on the workspace with a plaintext coordinator on loopback, and `extra`.
QStringList remoteRun(std::initializer_list<const char *> extra) {
    QStringList args = cmd({"run", "%WS%", "--db", "%NEWDB%", "--executor", "remote", "--bind",
                            "tcp://127.0.0.1:*", "--insecure"});
    for (const char *w : extra)
        args << QString::fromUtf8(w);
    return args;
}

const std::vector<Row> &rows() {
    static const std::vector<Row> table{
        // --- the command line ---------------------------------------------------------------------------
        {"no command", "{}", {}, 2, "fedwb-cli: missing COMMAND"},
        {"unknown command", "{}", cmd({"frobnicate"}), 2, "unknown command 'frobnicate'"},
        {"unknown option", "{}", cmd({"validate", "%WS%", "--frob"}), 2, "unknown option --frob"},
        {"option without value", "{}", cmd({"validate", "%WS%", "--set"}), 2, "--set needs a value"},
        {"--run 0", "{}", cmd({"export", "--db", "%DB%", "--run", "0"}), 2, "--run 0: expected a run id"},
        {"--run abc", "{}", cmd({"export", "--db", "%DB%", "--run", "abc"}), 2,
         "--run abc: expected a run id"},
        {"--run -3", "{}", cmd({"export", "--db", "%DB%", "--run", "-3"}), 2, "--run -3"},
        {"--format xml", "{}", cmd({"export", "--db", "%DB%", "--run", "1", "--format", "xml"}), 2,
         "--format xml: allowed: json, csv"},
        {"validate without WORKSPACE", "{}", cmd({"validate"}), 2, "fedwb-cli validate: missing WORKSPACE"},
        {"run without WORKSPACE", "{}", cmd({"run", "--db", "%NEWDB%"}), 2,
         "fedwb-cli run: missing WORKSPACE"},
        {"partition without WORKSPACE", "{}", cmd({"partition"}), 2, "missing WORKSPACE"},
        {"extra argument", "{}", cmd({"validate", "%WS%", "second.fedwb"}), 2,
         "unexpected argument 'second.fedwb'"},
        {"schema with an argument", "{}", cmd({"schema", "extra"}), 2, "unexpected argument 'extra'"},
        {"export without --run", "{}", cmd({"export", "--db", "%DB%"}), 2, "--run ID is required"},
        {"export of a run not in the store", "{}", cmd({"export", "--db", "%DB%", "--run", "99"}), 2,
         "--run 99: no such run in %DB%"},
        {"runs on a missing store", "{}", cmd({"runs", "--db", "%DIR%/no-such.sqlite"}), 2,
         "--db %DIR%/no-such.sqlite"},
        {"--set without =", "{}", validateWith({"run.rounds"}), 2, "--set run.rounds: expected KEY=VALUE"},
        {"--set too deep", "{}", validateWith({"run.rounds.x=3"}), 2, "--set run.rounds.x=3: KEY must be"},
        {"--set unknown key", "{}", validateWith({"run.roundz=3"}), 2, "run.roundz: unknown key"},

        // --- remote options (fedwb-cli run --executor remote) --------------------------------------------
        {"--heartbeat-interval 0", "{}", remoteRun({"--heartbeat-interval", "0"}), 2,
         "--heartbeat-interval 0: out of range; allowed: seconds in [0.05, 60]"},
        {"--heartbeat-interval 61", "{}", remoteRun({"--heartbeat-interval", "61"}), 2,
         "--heartbeat-interval 61: out of range; allowed: seconds in [0.05, 60]"},
        {"--heartbeat-interval nan", "{}", remoteRun({"--heartbeat-interval", "nan"}), 2,
         "--heartbeat-interval nan: out of range"},
        {"--heartbeat-interval soon", "{}", remoteRun({"--heartbeat-interval", "soon"}), 2,
         "--heartbeat-interval soon: out of range"},
        {"--heartbeat-timeout 0", "{}", remoteRun({"--heartbeat-timeout", "0"}), 2,
         "--heartbeat-timeout 0: out of range; allowed: seconds > 0"},
        {"heartbeat timeout under two intervals", "{}",
         remoteRun({"--heartbeat-interval", "1", "--heartbeat-timeout", "1.5"}), 2,
         "--heartbeat-timeout 1.5: too short for a heartbeat every 1 s; allowed: at least twice "
         "--heartbeat-interval (2 s or more)"},
        {"default heartbeat timeout under two intervals", "{}", remoteRun({"--heartbeat-interval", "5"}), 2,
         "--heartbeat-interval 5: too long for the default --heartbeat-timeout of 6 s; allowed: at most half "
         "of it (3 s), or give a longer --heartbeat-timeout"},
        {"--max-message-mb 0", "{}", remoteRun({"--max-message-mb", "0"}), 2,
         "--max-message-mb 0: out of range; allowed: an integer in [1, 2048] (MiB)"},
        {"--max-message-mb 2049", "{}", remoteRun({"--max-message-mb", "2049"}), 2,
         "--max-message-mb 2049: out of range; allowed: an integer in [1, 2048] (MiB)"},
        {"--max-message-mb 0.5", "{}", remoteRun({"--max-message-mb", "0.5"}), 2,
         "--max-message-mb 0.5: out of range; allowed: an integer in [1, 2048] (MiB)"},
        {"--max-message-mb without value", "{}", remoteRun({"--max-message-mb"}), 2,
         "--max-message-mb needs a value"},
        {"--max-message-mb without remote", "{}",
         cmd({"run", "%WS%", "--db", "%NEWDB%", "--max-message-mb", "8"}), 2,
         "--max-message-mb is an option of --executor remote"},
        {"--heartbeat-interval without remote", "{}",
         cmd({"run", "%WS%", "--db", "%NEWDB%", "--heartbeat-interval", "1"}), 2,
         "--heartbeat-interval is an option of --executor remote"},

        // --- the workspace file -------------------------------------------------------------------------
        {"missing workspace", "@no-such.fedwb", kValidate, 2, "%DIR%/no-such.fedwb: cannot open"},
        {"folder as workspace", "@folder.fedwb", kValidate, 2, "%DIR%/folder.fedwb: is a folder"},
        {"/dev/zero as workspace", "{}", cmd({"validate", "/dev/zero"}), 2, "/dev/zero: not a regular file"},
        {"/dev/urandom as workspace", "{}", cmd({"validate", "/dev/urandom"}), 2,
         "/dev/urandom: not a regular file"},
        {"FIFO as workspace", "@fifo.fedwb", kValidate, 2, "%DIR%/fifo.fedwb: not a regular file"},
        {"FIFO as workspace for run", "@fifo.fedwb", cmd({"run", "%WS%", "--db", "%NEWDB%"}), 2,
         "%DIR%/fifo.fedwb: not a regular file"},
        {"huge workspace", "@huge.fedwb", kValidate, 2, "%DIR%/huge.fedwb: too large for a workspace"},
        {"empty workspace", "=", kValidate, 2, "%WS%: the file is empty"},
        {"blank workspace", "=  \n\n ", kValidate, 2, "%WS%: the file is empty"},
        {"invalid JSON", "={\n  \"format\": 1,\n  \"run\": {\"rounds\": 3,}\n}\n", kValidate, 2,
         "%WS%:3:23: not valid JSON"},
        {"unterminated JSON", "={\"format\": 1,\n \"run\": {", kValidate, 2, "%WS%:2:9: not valid JSON"},
        {"binary garbage",
         "=\x7f"
         "ELF\x02\x01\x01",
         kValidate, 2, "%WS%:1:1: not valid JSON"},
        {"null workspace", "=null", kValidate, 2, "%WS%: a workspace must be a JSON object"},
        {"string workspace", "=\"quickstart\"", kValidate, 2,
         "must be a JSON object such as {\"format\": 1}, not a string"},
        {"number workspace", "=1", kValidate, 2, "not a number"},
        {"array workspace", "=[{\"format\": 1}]", kValidate, 2, "%WS%: a workspace must be a JSON object"},
        {"duplicate key warns",
         "={\"format\": 1, \"dataset\": {\"name\": \"synthetic\"}, \"partition\": {\"name\": "
         "\"natural\"}, \"clients\": {\"count\": 4, \"count\": 3}, \"model\": {\"name\": \"logreg\"}}",
         kValidate, 0, "warning: clients.count: duplicate key, the last value is used"},
        {"duplicate key explains an error", "={\"format\": 1, \"run\": {\"rounds\": 3, \"rounds\": 0}}",
         kValidate, 2, "warning: run.rounds: duplicate key, the last value is used"},

        // --- top level ----------------------------------------------------------------------------------
        {"missing format", "={\"run\": {}}", kValidate, 2, "format: missing"},
        {"format 2", "={\"format\": 2}", kValidate, 2, "format: 2 is not supported"},
        {"format as string", "={\"format\": \"1\"}", kValidate, 2, "format: \"1\" is not supported"},
        {"name not a string", R"({"name": 5})", kValidate, 2, "name: must be a string"},
        {"unknown section", R"({"extras": {}})", kValidate, 2, "extras: unknown section"},
        {"section not an object", R"({"run": 3})", kValidate, 2, "run: must be an object of settings"},
        {"section set to a number", "{}", validateWith({"training=3"}), 2, "training: must be an object"},

        // --- dataset ------------------------------------------------------------------------------------
        {"unknown dataset", R"({"dataset": {"name": "mnist"}})", kValidate, 2, "dataset.name: "},
        {"dataset name a number", R"({"dataset": {"name": 7}})", kValidate, 2, "dataset.name: "},
        {"dataset seed -2", "{}", validateWith({"dataset.seed=-2"}), 2, "dataset.seed: -2 is out of range"},
        {"synthetic alpha a string", R"({"dataset": {"name": "synthetic", "alpha": "high"}})", kValidate, 2,
         "dataset.alpha: "},
        {"synthetic max_samples 5", "{}", validateWith({"dataset.max_samples=5"}), 2,
         "dataset.max_samples: 5"},
        {"train_limit too large", FASHION("good"), validateWith({"dataset.train_limit=70000"}), 2,
         "dataset.train_limit: 70000 is out of range"},
        {"normalize unknown", FASHION("good"), validateWith({"dataset.normalize=zscore"}), 2,
         "dataset.normalize: "},
        {"dataset path a number",
         R"({"dataset": {"name": "fashion-mnist", "path": 3}, "partition": {"name": "iid"}})", kValidate, 2,
         "dataset.path: "},
        {"unknown dataset key", R"({"dataset": {"name": "synthetic", "colour": 1}})", kValidate, 2,
         "dataset.colour: unknown key"},

        // --- dataset files ------------------------------------------------------------------------------
        {"missing dataset folder", FASHION("no-such-folder"), kValidate, 2,
         "dataset.path: '%DIR%/data/no-such-folder' is not a folder"},
        {"dataset path is a file",
         R"({"dataset": {"name": "fashion-mnist", "path": "%DIR%/huge.fedwb"}, "partition": {"name": "iid"}})",
         kValidate, 2, "'%DIR%/huge.fedwb' is not a folder"},
        {"empty test set", FASHION("empty-test"), kValidate, 2,
         "%DIR%/data/empty-test/t10k-images-idx3-ubyte.gz holds 0 images: the test set must not be empty"},
        {"empty training set", FASHION("empty-train"), kValidate, 2,
         "%DIR%/data/empty-train/train-images-idx3-ubyte.gz holds 0 images: the training set must not be "
         "empty"},
        {"empty test set for run", FASHION("empty-test"), cmd({"run", "%WS%", "--db", "%NEWDB%"}), 2,
         "%DIR%/data/empty-test/t10k-images-idx3-ubyte.gz holds 0 images"},
        {"empty test set for partition", FASHION("empty-test"), cmd({"partition", "%WS%"}), 2,
         "t10k-images-idx3-ubyte.gz holds 0 images"},
        {"truncated gzip", FASHION("truncated"), kValidate, 2,
         "%DIR%/data/truncated/train-images-idx3-ubyte.gz: truncated gzip data"},
        {"garbage data file", FASHION("garbage"), kValidate, 2,
         "%DIR%/data/garbage/train-labels-idx1-ubyte.gz: not an IDX file of unsigned bytes (bad magic"},
        {"wrong magic", FASHION("magic"), kValidate, 2,
         "%DIR%/data/magic/t10k-images-idx3-ubyte.gz: not an IDX file"},
        {"zero-byte data file", FASHION("zero-bytes"), kValidate, 2,
         "%DIR%/data/zero-bytes/t10k-labels-idx1-ubyte.gz is empty"},
        {"missing data file", FASHION("missing-file"), kValidate, 2,
         "%DIR%/data/missing-file/t10k-labels-idx1-ubyte.gz is missing"},
        {"folder as data file", FASHION("folder-file"), kValidate, 2,
         "%DIR%/data/folder-file/train-images-idx3-ubyte.gz is not a regular file"},
        {"images and labels differ in count", FASHION("count-mismatch"), kValidate, 2,
         "%DIR%/data/count-mismatch/train-labels-idx1-ubyte.gz holds 39 labels but"},
        {"label out of range", FASHION("label-range"), kValidate, 2,
         "%DIR%/data/label-range/t10k-labels-idx1-ubyte.gz: label 12 of sample 2 is outside the classes "
         "0..9"},
        {"images not 28x28", FASHION("shape"), kValidate, 2,
         "%DIR%/data/shape/train-images-idx3-ubyte.gz: expected N x 28 x 28 images, found an IDX array of "
         "shape "
         "40x32x32"},
        {"data header promising gigabytes", FASHION("huge-header"), kValidate, 2,
         "%DIR%/data/huge-header/train-images-idx3-ubyte.gz: the header promises more than"},

        // --- partition ----------------------------------------------------------------------------------
        {"unknown partitioner", "{}", validateWith({"partition.name=random"}), 2, "partition.name: "},
        {"dirichlet alpha 0", R"({"partition": {"name": "dirichlet", "alpha": 0}})", kValidate, 2,
         "partition.alpha: 0 is out of range"},
        {"min_samples 1", "{}", validateWith({"partition.min_samples=1"}), 2, "partition.min_samples: 1"},
        {"test_fraction 0.95", "{}", validateWith({"partition.test_fraction=0.95"}), 2,
         "partition.test_fraction: 0.95 is out of range"},
        {"test_fraction a string", R"({"partition": {"name": "natural", "test_fraction": "x"}})", kValidate,
         2, "partition.test_fraction: "},
        {"classes_per_client 0", R"({"partition": {"name": "classes-per-client", "classes_per_client": 0}})",
         kValidate, 2, "partition.classes_per_client: 0"},
        {"classes_per_client above the classes",
         R"({"partition": {"name": "classes-per-client", "classes_per_client": 11}})", kValidate, 2,
         "partition.classes_per_client: 11 is more than the 10 classes"},
        {"natural partition without natural clients", FASHION("good"),
         validateWith({"partition.name=natural"}), 2,
         "partition.name: 'natural' needs samples that carry client ids"},
        {"more clients than samples", FASHION("good"),
         validateWith({"clients.count=30", "clients.per_round=2"}), 2,
         "clients.count: 30 clients need at least 60 samples (2 each); the training pool has 40. Allowed "
         "here: "
         "at most 20 clients"},
        {"min_samples above the pool", FASHION("good"),
         validateWith({"clients.count=4", "clients.per_round=2", "partition.min_samples=20"}), 2,
         "partition.min_samples: 4 clients x 20 samples need 80 samples; the training pool has 40. Allowed "
         "here: "
         "at most 10"},

        // --- clients ------------------------------------------------------------------------------------
        {"clients.count 0", "{}", validateWith({"clients.count=0"}), 2, "clients.count: 0 is out of range"},
        {"clients.count 2.5", "{}", validateWith({"clients.count=2.5"}), 2,
         "clients.count: 2.5 is not allowed"},
        {"clients.count a string", R"({"clients": {"count": "four"}})", kValidate, 2, "clients.count: "},
        {"per_round -1", "{}", validateWith({"clients.per_round=-1"}), 2, "clients.per_round: -1"},
        {"per_round 1.5", "{}", validateWith({"clients.per_round=1.5"}), 2, "clients.per_round: 1.5"},
        {"per_round above count", "{}", validateWith({"clients.per_round=20"}), 2,
         "clients.per_round: 20 is more than clients.count (4)"},
        {"groups a string", R"({"clients": {"count": 4, "groups": "phones"}})", kValidate, 2,
         "clients.groups: "},
        {"group without size", R"({"clients": {"count": 4, "groups": [{"name": "a"}]}})", kValidate, 2,
         "clients.groups: group 1: 'a' needs exactly one of count or fraction"},
        {"groups not summing",
         R"({"clients": {"count": 4, "groups": [{"name": "a", "count": 1}, {"name": "b", "count": 1}]}})",
         kValidate, 2, "clients.groups: the groups hold 2 clients"},
        {"group fractions not summing",
         R"({"clients": {"count": 4, "groups": [{"name": "a", "fraction": 0.2}, {"name": "b", "fraction": 0.2}]}})",
         kValidate, 2, "clients.groups: "},

        // --- model --------------------------------------------------------------------------------------
        {"unknown model", "{}", validateWith({"model.name=resnet"}), 2, "model.name: "},
        {"image model on features", "{}", validateWith({"model.name=cnn-lenet5"}), 2,
         "model.name: 'cnn-lenet5' needs image input"},
        {"padding 3", "{}", validateWith({"model.padding=3"}), 2, "model.padding: 3 is out of range"},
        {"batch norm with batch_size 1", FASHION("good"),
         validateWith({"model.name=cnn-lenet5-bn", "training.batch_size=1"}), 2,
         "training.batch_size: 1 is too small for a model with batch norm"},
        {"batch too large for memory", FASHION("good"),
         validateWith({"model.name=cnn-fedavg", "training.batch_size=65536"}), 2,
         "training.batch_size: 65536 needs about"},

        // --- training -----------------------------------------------------------------------------------
        {"epochs 0", "{}", validateWith({"training.epochs=0"}), 2, "training.epochs: 0 is out of range"},
        {"batch_size 0", "{}", validateWith({"training.batch_size=0"}), 2, "training.batch_size: 0"},
        {"lr 0", "{}", validateWith({"training.lr=0"}), 2, "training.lr: 0 is out of range"},
        {"lr 20", "{}", validateWith({"training.lr=20"}), 2, "training.lr: 20 is out of range"},
        {"lr a string", R"({"training": {"lr": "fast"}})", kValidate, 2, "training.lr: "},
        {"unknown optimizer", "{}", validateWith({"training.optimizer=rmsprop"}), 2, "training.optimizer: "},
        {"nesterov a string", R"({"training": {"nesterov": "yes"}})", kValidate, 2, "training.nesterov: "},
        {"momentum 1", "{}", validateWith({"training.momentum=1"}), 2,
         "training.momentum: 1 is out of range"},
        {"lr_decay 0", "{}", validateWith({"training.lr_decay=0"}), 2, "training.lr_decay: 0"},

        // --- strategy -----------------------------------------------------------------------------------
        {"unknown strategy", "{}", validateWith({"strategy.name=fedsgd"}), 2, "strategy.name: "},
        {"fedprox mu -1", R"({"strategy": {"name": "fedprox", "mu": -1}})", kValidate, 2, "strategy.mu: -1"},
        {"fedadam server_lr 0", R"({"strategy": {"name": "fedadam", "server_lr": 0}})", kValidate, 2,
         "strategy.server_lr: 0"},
        {"trimmed-mean beta 0.5", R"({"strategy": {"name": "trimmed-mean", "beta": 0.5}})", kValidate, 2,
         "strategy.beta: 0.5 is out of range"},
        {"weighting unknown", R"({"strategy": {"name": "fedavg", "weighting": "size"}})", kValidate, 2,
         "strategy.weighting: "},
        {"fedbn without batch norm", "{}", validateWith({"strategy.name=fedbn"}), 2,
         "strategy.name: 'fedbn' needs batch-norm layers"},
        {"fedper without hidden layers", "{}", validateWith({"strategy.name=fedper"}), 2,
         "strategy.name: 'fedper' needs layers before its output layer"},
        {"krum with too few clients", "{}", validateWith({"strategy.name=krum", "strategy.byzantine=3"}), 2,
         "strategy.byzantine: 3 needs at least 2 * 3 + 3 = 9 clients per round"},
        {"multi-krum selecting too many", "{}",
         validateWith({"strategy.name=multi-krum", "clients.per_round=4", "strategy.byzantine=0",
                       "strategy.selected=5"}),
         2, "strategy.selected: 5 is more than"},

        // --- run ----------------------------------------------------------------------------------------
        {"rounds 0", "{}", validateWith({"run.rounds=0"}), 2, "run.rounds: 0 is out of range"},
        {"rounds 1e9", "{}", validateWith({"run.rounds=1e9"}), 2, "run.rounds: "},
        {"threads 1000", "{}", validateWith({"run.threads=1000"}), 2, "run.threads: 1000 is out of range"},
        {"seed -1", "{}", validateWith({"run.seed=-1"}), 2, "run.seed: -1 is out of range"},
        {"eval_every a string", R"({"run": {"eval_every": "often"}})", kValidate, 2, "run.eval_every: "},
        {"run of an invalid workspace", R"({"run": {"rounds": 0}})", cmd({"run", "%WS%", "--db", "%NEWDB%"}),
         2, "run.rounds: 0 is out of range"},

        // --- hostile stores and output paths ----------------------------------------------------------
        // A --db that is no usable run store is invalid input (2); an output that cannot be written is a
        // failure (1); the store itself as --output would destroy it (2).
        {"non-SQLite file as --db for runs", "{}", cmd({"runs", "--db", "%DIR%/not-sqlite.sqlite"}), 2,
         "--db %DIR%/not-sqlite.sqlite", "not-sqlite.sqlite"},
        {"non-SQLite file as --db for run", "{}", cmd({"run", "%WS%", "--db", "%DIR%/not-sqlite.sqlite"}), 2,
         "--db %DIR%/not-sqlite.sqlite", "not-sqlite.sqlite"},
        {"folder as --db for run", "{}", cmd({"run", "%WS%", "--db", "%DIR%/folder.fedwb"}), 2,
         "--db %DIR%/folder.fedwb"},
        {"store with negative user_version", "{}", cmd({"runs", "--db", "%DIR%/negative-version.sqlite"}), 2,
         "%DIR%/negative-version.sqlite is not a FedWorkbench run store", "negative-version.sqlite"},
        {"corrupted store for runs", "{}", cmd({"runs", "--db", "%DIR%/corrupt.sqlite"}), 2,
         "--db %DIR%/corrupt.sqlite", "corrupt.sqlite"},
        {"corrupted store for export", "{}", cmd({"export", "--db", "%DIR%/corrupt.sqlite", "--run", "1"}), 2,
         "--db %DIR%/corrupt.sqlite", "corrupt.sqlite"},
        {"export --output naming the store", "{}",
         cmd({"export", "--db", "%DIR%/victim.sqlite", "--run", "1", "--output", "%DIR%/victim.sqlite"}), 2,
         "--output %DIR%/victim.sqlite", "victim.sqlite"},
        {"export --output naming the store by another path", "{}",
         cmd({"export", "--db", "%DIR%/victim.sqlite", "--run", "1", "--output",
              "%DIR%/data/../victim.sqlite"}),
         2, "--output %DIR%/data/../victim.sqlite", "victim.sqlite"},
        {"run with --db naming the workspace", "@base.fedwb", cmd({"run", "%WS%", "--db", "%WS%"}), 2,
         "--db %DIR%/base.fedwb", "base.fedwb"},
        {"export --output /dev/full", "{}",
         cmd({"export", "--db", "%DB%", "--run", "1", "--output", "/dev/full"}), 1, "--output /dev/full"},
        {"export --output a folder", "{}", cmd({"export", "--db", "%DB%", "--run", "1", "--output", "%DIR%"}),
         1, "--output %DIR%"},
        {"export --output in a missing folder", "{}",
         cmd({"export", "--db", "%DB%", "--run", "1", "--output", "%DIR%/no/such/out.csv"}), 1,
         "--output %DIR%/no/such/out.csv"},
        {"read-only store for runs", "{}", cmd({"runs", "--db", "%DIR%/read-only.sqlite"}), 0,
         "bad-input base", "read-only.sqlite"},
        {"--db :memory: for run", "{}", cmd({"run", "%WS%", "--db", ":memory:"}), 2, "--db :memory:"},
    };
    return table;
}

void writeFile(const QString &path, const QByteArray &bytes) {
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    QCOMPARE(f.write(bytes), bytes.size());
}

QByteArray sha256(const QString &path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(&f);
    return h.result();
}

// Section-wise merge of `over` into `base` (a section given as an object adds to the base section; anything
// else replaces it).
QJsonObject merged(QJsonObject base, const QJsonObject &over) {
    for (auto it = over.begin(); it != over.end(); ++it) {
        if (it.value().isObject() && base.value(it.key()).isObject()) {
            QJsonObject section = base.value(it.key()).toObject();
            const QJsonObject add = it.value().toObject();
            for (auto a = add.begin(); a != add.end(); ++a)
                section.insert(a.key(), a.value());
            base.insert(it.key(), section);
        } else {
            base.insert(it.key(), it.value());
        }
    }
    return base;
}

} // namespace

class TestBadInput : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_dir, m_db;
    int m_newDb = 0;

    QString expand(QString text, const QString &workspace) {
        text.replace(QLatin1String("%WS%"), workspace);
        text.replace(QLatin1String("%DIR%"), m_dir);
        text.replace(QLatin1String("%DB%"), m_db);
        while (text.contains(QLatin1String("%NEWDB%")))
            text.replace(text.indexOf(QLatin1String("%NEWDB%")), 7,
                         QStringLiteral("%1/new-%2.sqlite").arg(m_dir).arg(++m_newDb));
        return text;
    }

    void makeDataFolder(const QString &name, int trainImages, int trainLabels, int testImages,
                        int testLabels) {
        const QDir d(m_dir + QStringLiteral("/data/") + name);
        QVERIFY(QDir().mkpath(d.path()));
        writeGz(d.filePath(QStringLiteral("train-images-idx3-ubyte.gz")), idxImages(trainImages));
        writeGz(d.filePath(QStringLiteral("train-labels-idx1-ubyte.gz")), idxLabels(trainLabels));
        writeGz(d.filePath(QStringLiteral("t10k-images-idx3-ubyte.gz")), idxImages(testImages));
        writeGz(d.filePath(QStringLiteral("t10k-labels-idx1-ubyte.gz")), idxLabels(testLabels));
    }
    QString dataFile(const QString &folder, const char *file) const {
        return m_dir + QStringLiteral("/data/") + folder + QLatin1Char('/') + QString::fromLatin1(file);
    }

private Q_SLOTS:
    void initTestCase();
    void matrix_data();
    void matrix();
    void matrixIsLargeEnough() { QVERIFY2(rows().size() >= 60, "the issue asks for at least 60 rows"); }
};

void TestBadInput::initTestCase() {
    QVERIFY(m_tmp.isValid());
    m_dir = m_tmp.path();
    QVERIFY(QDir(m_dir).mkdir(QStringLiteral("folder.fedwb")));
    QCOMPARE(::mkfifo(QFile::encodeName(m_dir + QStringLiteral("/fifo.fedwb")).constData(), 0600), 0);
    {
        QFile huge(m_dir + QStringLiteral("/huge.fedwb"));
        QVERIFY(huge.open(QIODevice::WriteOnly));
        huge.write("{\"format\": 1, \"description\": \"");
        QVERIFY(huge.resize(64 * 1024 * 1024)); // sparse: no disk spent
    }

    // Data folders: 40 training and 20 test images, then one defect each.
    makeDataFolder(QStringLiteral("good"), 40, 40, 20, 20);
    makeDataFolder(QStringLiteral("empty-test"), 40, 40, 0, 0);
    makeDataFolder(QStringLiteral("empty-train"), 0, 0, 20, 20);
    makeDataFolder(QStringLiteral("count-mismatch"), 40, 39, 20, 20);
    makeDataFolder(QStringLiteral("label-range"), 40, 40, 20, 20);
    {
        QByteArray labels = idxLabels(20);
        labels[8 + 2] = char(12);
        writeGz(dataFile(QStringLiteral("label-range"), "t10k-labels-idx1-ubyte.gz"), labels);
    }
    makeDataFolder(QStringLiteral("truncated"), 40, 40, 20, 20);
    {
        const QString file = dataFile(QStringLiteral("truncated"), "train-images-idx3-ubyte.gz");
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        f.close();
        writeFile(file, bytes.left(bytes.size() / 2));
    }
    makeDataFolder(QStringLiteral("garbage"), 40, 40, 20, 20);
    writeFile(dataFile(QStringLiteral("garbage"), "train-labels-idx1-ubyte.gz"),
              QByteArray("<html>404 Not Found</html>\n"));
    makeDataFolder(QStringLiteral("magic"), 40, 40, 20, 20);
    writeGz(dataFile(QStringLiteral("magic"), "t10k-images-idx3-ubyte.gz"),
            QByteArray::fromHex("00000903") + be32(20) + be32(28) + be32(28) + QByteArray(20 * 784, 0));
    makeDataFolder(QStringLiteral("zero-bytes"), 40, 40, 20, 20);
    writeFile(dataFile(QStringLiteral("zero-bytes"), "t10k-labels-idx1-ubyte.gz"), {});
    makeDataFolder(QStringLiteral("missing-file"), 40, 40, 20, 20);
    QVERIFY(QFile::remove(dataFile(QStringLiteral("missing-file"), "t10k-labels-idx1-ubyte.gz")));
    makeDataFolder(QStringLiteral("folder-file"), 40, 40, 20, 20);
    QVERIFY(QFile::remove(dataFile(QStringLiteral("folder-file"), "train-images-idx3-ubyte.gz")));
    QVERIFY(QDir().mkpath(dataFile(QStringLiteral("folder-file"), "train-images-idx3-ubyte.gz")));
    makeDataFolder(QStringLiteral("shape"), 40, 40, 20, 20);
    writeGz(dataFile(QStringLiteral("shape"), "train-images-idx3-ubyte.gz"), idxImages(40, 32));
    makeDataFolder(QStringLiteral("huge-header"), 40, 40, 20, 20);
    writeGz(dataFile(QStringLiteral("huge-header"), "train-images-idx3-ubyte.gz"),
            QByteArray::fromHex("00000803") + be32(4000000) + be32(28) + be32(28));

    // A store holding one finished run (run 1), and damaged or protected copies of it.
    m_db = m_dir + QStringLiteral("/good.sqlite");
    const QString base = m_dir + QStringLiteral("/base.fedwb");
    writeFile(base, kBase);
    const Result made = cli({QStringLiteral("run"), base, QStringLiteral("--db"), m_db});
    QVERIFY2(made.exitCode == 0, qPrintable(made.err));
    const auto copyStore = [&](const QString &name) {
        const QString path = m_dir + QLatin1Char('/') + name;
        QFile::remove(path);
        if (!QFile::copy(m_db, path)) qFatal("cannot copy the store to %s", qPrintable(path));
        return path;
    };
    copyStore(QStringLiteral("victim.sqlite"));
    const QString readOnly = copyStore(QStringLiteral("read-only.sqlite"));
    QVERIFY(QFile::setPermissions(readOnly, QFileDevice::ReadOwner | QFileDevice::ReadGroup));
    {
        const QString negative = copyStore(QStringLiteral("negative-version.sqlite"));
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("fixture"));
        db.setDatabaseName(negative);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY2(q.exec(QStringLiteral("PRAGMA user_version = -1")), qPrintable(q.lastError().text()));
        q.finish();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("fixture"));
    {
        // Page 1 (the schema) intact, every later page overwritten: SQLite opens it, then reads garbage.
        const QString corrupt = copyStore(QStringLiteral("corrupt.sqlite"));
        QFile f(corrupt);
        QVERIFY(f.open(QIODevice::ReadWrite));
        const qint64 size = f.size();
        QVERIFY(size > 8192);
        QVERIFY(f.seek(4096));
        QCOMPARE(f.write(QByteArray(int(size - 4096), char(0xa5))), size - 4096);
    }
    QByteArray text;
    for (int i = 0; i < 200; ++i)
        text += "this is not a database, only text\n";
    writeFile(m_dir + QStringLiteral("/not-sqlite.sqlite"), text);
}

void TestBadInput::matrix_data() {
    QTest::addColumn<int>("row");
    for (std::size_t i = 0; i < rows().size(); ++i)
        QTest::newRow(rows()[i].name) << int(i);
}

void TestBadInput::matrix() {
    QFETCH(int, row);
    const Row &r = rows()[std::size_t(row)];
    const QString spec = QString::fromUtf8(r.workspace);
    QString workspace;
    if (spec.startsWith(QLatin1Char('@'))) {
        workspace = m_dir + QLatin1Char('/') + spec.mid(1);
    } else {
        workspace = m_dir + QStringLiteral("/row-%1.fedwb").arg(row);
        QByteArray text;
        if (spec.startsWith(QLatin1Char('='))) {
            text = QByteArray(r.workspace + 1);
        } else {
            QJsonParseError error;
            const QJsonDocument over = QJsonDocument::fromJson(expand(spec, workspace).toUtf8(), &error);
            QVERIFY2(over.isObject(), qPrintable(QStringLiteral("row workspace: ") + error.errorString()));
            text = QJsonDocument(merged(QJsonDocument::fromJson(kBase).object(), over.object())).toJson();
        }
        writeFile(workspace, text);
    }
    QStringList args;
    for (const QString &a : r.args)
        args.append(expand(a, workspace));
    const QString needle = expand(QString::fromUtf8(r.needle), workspace);
    const QString keep = r.unchanged ? m_dir + QLatin1Char('/') + QString::fromUtf8(r.unchanged) : QString();
    const QByteArray before = keep.isEmpty() ? QByteArray() : sha256(keep);

    const Result result = cli(args, 60000);
    const QString what = QStringLiteral("fedwb-cli %1\nexit %2%3\nstdout: %4\nstderr: %5")
                             .arg(args.join(QLatin1Char(' ')))
                             .arg(result.exitCode)
                             .arg(result.timedOut ? QStringLiteral(" (timed out)") : QString())
                             .arg(result.out.left(600), result.err.left(1200));
    QVERIFY2(!result.timedOut, qPrintable(what));
    QVERIFY2(result.exitCode == r.exitCode,
             qPrintable(QStringLiteral("expected exit %1; ").arg(r.exitCode) + what));
    const QString where = r.exitCode == 0 ? result.out + result.err : result.err;
    QVERIFY2(where.contains(needle), qPrintable(QStringLiteral("expected \"%1\"; ").arg(needle) + what));
    // A message, never a crash trace or an exception's bare type.
    QVERIFY2(!result.err.contains(QLatin1String("terminate called")) &&
                 !result.err.contains(QLatin1String("std::")),
             qPrintable(what));
    if (!keep.isEmpty())
        QVERIFY2(sha256(keep) == before, qPrintable(keep + QStringLiteral(" was changed; ") + what));
}

QTEST_GUILESS_MAIN(TestBadInput)
#include "test_bad_input.moc"
