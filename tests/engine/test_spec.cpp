// Workspace validation: every error path names the key and the offending value and says what is allowed;
// defaults are filled; --set overrides; reading files; the registry's schema reference.
#include "run/Sweep.h"
#include "spec/FederationSpec.h"
#include "spec/Registry.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace fedwb;

namespace {

// Workspace texts with braces and brackets inside strings stay outside the test class (moc counts them).
const char *const kDuplicateKeys = R"({"format": 1,
  "run": {"rounds": 5, "seed": 1, "rounds": 7, "rounds": 9},
  "clients": {"count": 4, "groups": [{"name": "a", "count": 2}, {"name": "b", "count": 1, "count": 2}]},
  "training": {"note": "a \"quoted\" rounds, {not a key}: [", "lr": 0.1, "l\u0072": 0.2},
  "model": {"name": "logreg"}, "strategy": {"name": "fedavg"},
  "\u0066ormat": 1, "dataset": {"name": "synthetic", "seed": 3}, "partition": {"seed": 3}
})";
const char *const kNoDuplicateKeys =
    R"({"format": 1, "a": [{"x": 1}, {"x": 2}, [{"x": 3}]], "b": {"x": {"x": 1}}})";

QJsonObject object(const QByteArray &json) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        qFatal("bad JSON in the test itself: %s (%s)", json.constData(), qPrintable(error.errorString()));
    return doc.object();
}

FederationSpec::Parsed parseText(const QByteArray &json) {
    return FederationSpec::parse(object(json));
}

QString issues(const QList<SpecIssue> &list) {
    QStringList lines;
    for (const SpecIssue &i : list)
        lines.append(i.text());
    return lines.join(QLatin1Char('\n'));
}

// Empty when `p` failed with exactly one error at `path` whose message contains every needle.
QString singleErrorProblem(const FederationSpec::Parsed &p, const QString &path, const QStringList &needles) {
    if (p.ok()) return QStringLiteral("parsed without errors; expected an error at %1").arg(path);
    if (p.errors.size() != 1)
        return QStringLiteral("%1 errors, expected exactly 1 at %2:\n%3")
            .arg(p.errors.size())
            .arg(path, issues(p.errors));
    const SpecIssue &e = p.errors.first();
    if (e.path != path)
        return QStringLiteral("error at '%1', expected at '%2': %3").arg(e.path, path, e.message);
    for (const QString &needle : needles)
        if (!e.message.contains(needle))
            return QStringLiteral("message of %1 lacks \"%2\": %3").arg(path, needle, e.message);
    if (e.text() != QString(path + QStringLiteral(": ") + e.message))
        return QStringLiteral("text() is ") + e.text();
    return {};
}

// Empty when `p` succeeded without warnings.
QString cleanProblem(const FederationSpec::Parsed &p) {
    if (!p.ok()) return QStringLiteral("errors:\n") + p.errorText();
    if (!p.errors.isEmpty()) return QStringLiteral("ok() with errors:\n") + issues(p.errors);
    if (!p.warnings.isEmpty()) return QStringLiteral("warnings:\n") + issues(p.warnings);
    return {};
}

QStringList paths(const QList<SpecIssue> &list) {
    QStringList out;
    for (const SpecIssue &i : list)
        out.append(i.path);
    out.sort();
    return out;
}

} // namespace

class TestSpec : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { registerBuiltins(); }

    // --- every validation error path ----------------------------------------------------------------
    void rejects_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QStringList>("needles");
        auto row = [](const char *name, const char *json, const char *path, const QStringList &needles) {
            QTest::newRow(name) << QByteArray(json) << QString::fromUtf8(path) << needles;
        };
        const QString sections =
            QStringLiteral("dataset, partition, clients, model, training, strategy, run");

        // Format version.
        row("format missing", R"({"run": {"rounds": 3}})", "format",
            {QStringLiteral("missing"), QStringLiteral("\"format\": 1")});
        row("format 2", R"({"format": 2})", "format",
            {QStringLiteral("2 is not supported"), QStringLiteral("format 1")});
        row("format \"1\"", R"({"format": "1"})", "format",
            {QStringLiteral("\"1\" is not supported"), QStringLiteral("format 1")});
        row("format 1.5", R"({"format": 1.5})", "format", {QStringLiteral("1.5 is not supported")});
        row("format null", R"({"format": null})", "format", {QStringLiteral("null is not supported")});

        // Top level.
        row("name not a string", R"({"format": 1, "name": 3})", "name", {QStringLiteral("must be a string")});
        row("description not a string", R"({"format": 1, "description": {}})", "description",
            {QStringLiteral("must be a string")});
        row("unknown section", R"({"format": 1, "server": {"name": "fedavg"}})", "server",
            {QStringLiteral("unknown section"), QStringLiteral("allowed: ") + sections});
        row("section is a number", R"({"format": 1, "run": 5})", "run",
            {QStringLiteral("must be an object")});
        row("section is an array", R"({"format": 1, "training": [1, 2]})", "training",
            {QStringLiteral("must be an object")});

        // Unknown keys: the message lists the allowed keys of the section (and of the selected component).
        row("unknown key run", R"({"format": 1, "run": {"round": 3}})", "run.round",
            {QStringLiteral("unknown key"), QStringLiteral("allowed: rounds, seed, eval_every, threads")});
        row("unknown key clients", R"({"format": 1, "clients": {"number": 3}})", "clients.number",
            {QStringLiteral("unknown key"), QStringLiteral("allowed: count, per_round")});
        row("unknown key component", R"({"format": 1, "partition": {"name": "dirichlet", "beta": 1}})",
            "partition.beta",
            {QStringLiteral("unknown key"),
             QStringLiteral("allowed: name, min_samples, test_fraction, seed, alpha")});
        row("unknown key dataset", R"({"format": 1, "dataset": {"folder": "/x"}})", "dataset.folder",
            {QStringLiteral("unknown key"),
             QStringLiteral("allowed: name, seed, path, train_limit, test_limit, normalize")});

        // Wrong types.
        row("string for integer", R"({"format": 1, "run": {"rounds": "10"}})", "run.rounds",
            {QStringLiteral("\"10\" is not allowed"), QStringLiteral("an integer in [1, 100000]")});
        row("2.5 for integer", R"({"format": 1, "training": {"batch_size": 2.5}})", "training.batch_size",
            {QStringLiteral("2.5 is not allowed"), QStringLiteral("an integer in [1, 65536]")});
        row("boolean for integer", R"({"format": 1, "run": {"threads": true}})", "run.threads",
            {QStringLiteral("true is not allowed"), QStringLiteral("an integer in [0, 256]")});
        row("array for integer", R"({"format": 1, "clients": {"count": [3]}})", "clients.count",
            {QStringLiteral("an array is not allowed"), QStringLiteral("an integer in [1, 100000]")});
        row("number for choice", R"({"format": 1, "training": {"optimizer": 1}})", "training.optimizer",
            {QStringLiteral("1 is not allowed"), QStringLiteral("one of: sgd, adam")});
        row("number for component name", R"({"format": 1, "model": {"name": 5}})", "model.name",
            {QStringLiteral("5 is not allowed"),
             QStringLiteral("one of: logreg, mlp-2nn, cnn-lenet5, cnn-fedavg")});
        row("number for string", R"({"format": 1, "dataset": {"path": 5}})", "dataset.path",
            {QStringLiteral("5 is not allowed"), QStringLiteral("a string")});
        row("string for real", R"({"format": 1, "training": {"lr": "fast"}})", "training.lr",
            {QStringLiteral("\"fast\" is not allowed"), QStringLiteral("a number in (0, 10]")});
        row("null for real", R"({"format": 1, "training": {"momentum": null}})", "training.momentum",
            {QStringLiteral("null is not allowed"), QStringLiteral("a number in [0, 0.999]")});
        row("string for count-or-fraction", R"({"format": 1, "clients": {"per_round": "all"}})",
            "clients.per_round",
            {QStringLiteral("\"all\" is not allowed"),
             QStringLiteral("a whole count in [1, 100000] or a fraction in (0, 1)")});

        // Out-of-range integers.
        row("rounds 0", R"({"format": 1, "run": {"rounds": 0}})", "run.rounds",
            {QStringLiteral("0 is out of range"), QStringLiteral("an integer in [1, 100000]")});
        row("rounds 100001", R"({"format": 1, "run": {"rounds": 100001}})", "run.rounds",
            {QStringLiteral("100001 is out of range"), QStringLiteral("an integer in [1, 100000]")});
        row("clients.count 0", R"({"format": 1, "clients": {"count": 0}})", "clients.count",
            {QStringLiteral("0 is out of range"), QStringLiteral("an integer in [1, 100000]")});
        row("seed -1", R"({"format": 1, "run": {"seed": -1}})", "run.seed",
            {QStringLiteral("-1 is out of range"), QStringLiteral("an integer in [0, ")});
        row("min_samples 1", R"({"format": 1, "partition": {"min_samples": 1}})", "partition.min_samples",
            {QStringLiteral("1 is out of range"), QStringLiteral("an integer in [2, 1000000]")});
        row("threads 257", R"({"format": 1, "run": {"threads": 257}})", "run.threads",
            {QStringLiteral("257 is out of range"), QStringLiteral("an integer in [0, 256]")});

        // Out-of-range reals, with an exclusive minimum "(0, ..." where 0 itself is refused.
        row("alpha 0", R"({"format": 1, "partition": {"name": "dirichlet", "alpha": 0}})", "partition.alpha",
            {QStringLiteral("0 is out of range"), QStringLiteral("a number in (0, 1000000]")});
        row("alpha -1", R"({"format": 1, "partition": {"name": "dirichlet", "alpha": -1}})",
            "partition.alpha",
            {QStringLiteral("-1 is out of range"), QStringLiteral("a number in (0, 1000000]")});
        row("quantity-skew alpha 0", R"({"format": 1, "partition": {"name": "quantity-skew", "alpha": 0}})",
            "partition.alpha",
            {QStringLiteral("0 is out of range"), QStringLiteral("a number in (0, 1000000]")});
        row("lr 0", R"({"format": 1, "training": {"lr": 0}})", "training.lr",
            {QStringLiteral("0 is out of range"), QStringLiteral("a number in (0, 10]")});
        row("lr 11", R"({"format": 1, "training": {"lr": 11}})", "training.lr",
            {QStringLiteral("11 is out of range"), QStringLiteral("a number in (0, 10]")});
        row("momentum 1", R"({"format": 1, "training": {"momentum": 1}})", "training.momentum",
            {QStringLiteral("1 is out of range"), QStringLiteral("a number in [0, 0.999]")});
        row("test_fraction 0.95", R"({"format": 1, "partition": {"test_fraction": 0.95}})",
            "partition.test_fraction",
            {QStringLiteral("0.95 is out of range"), QStringLiteral("a number in (0, 0.9]")});
        // Every client keeps a local test split: 0 is excluded.
        row("test_fraction 0", R"({"format": 1, "partition": {"test_fraction": 0}})",
            "partition.test_fraction",
            {QStringLiteral("0 is out of range"), QStringLiteral("a number in (0, 0.9]")});
        row("seed 2^32", R"({"format": 1, "run": {"seed": 4294967296}})", "run.seed",
            {QStringLiteral("4294967296 is out of range"), QStringLiteral("an integer in [0, 4294967295]")});
        // 86,490 activation floats x 3 x 4 bytes = 1,037,880 bytes per sample for the FedAvg CNN: 8 GiB hold
        // 8,276.
        row("batch too big for memory",
            R"({"format": 1, "model": {"name": "cnn-fedavg"}, "training": {"batch_size": 65536}})",
            "training.batch_size",
            {QStringLiteral("65536 needs about"), QStringLiteral("GB of memory for cnn-fedavg"),
             QStringLiteral("allowed here: an integer in [1, 8276]")});

        // Unknown choices.
        row("model resnet", R"({"format": 1, "model": {"name": "resnet"}})", "model.name",
            {QStringLiteral("\"resnet\" is unknown"),
             QStringLiteral("one of: logreg, mlp-2nn, cnn-lenet5, cnn-fedavg")});
        row("optimizer sgdd", R"({"format": 1, "training": {"optimizer": "sgdd"}})", "training.optimizer",
            {QStringLiteral("\"sgdd\" is unknown"), QStringLiteral("one of: sgd, adam")});
        row("dataset cifar", R"({"format": 1, "dataset": {"name": "cifar", "path": "/data"}})",
            "dataset.name",
            {QStringLiteral("\"cifar\" is unknown"), QStringLiteral("one of: fashion-mnist, synthetic")});
        row("partition random", R"({"format": 1, "partition": {"name": "random"}})", "partition.name",
            {QStringLiteral("\"random\" is unknown"),
             QStringLiteral("one of: iid, dirichlet, classes-per-client, shards, quantity-skew, natural")});
        row("strategy fedsgd", R"({"format": 1, "strategy": {"name": "fedsgd"}})", "strategy.name",
            {QStringLiteral("\"fedsgd\" is unknown"),
             QStringLiteral(
                 "one of: fedavg, fedavgm, fedadagrad, fedadam, fedyogi, qfedavg, krum, multi-krum, "
                 "median, trimmed-mean, bulyan, norm-bounded, fedprox, scaffold, fednova, fedbn, "
                 "fedper, ditto")});
        // An unknown component name is the only error even when other components' keys are present.
        row("partition bogus with alpha", R"({"format": 1, "partition": {"name": "bogus", "alpha": 1}})",
            "partition.name", {QStringLiteral("\"bogus\" is unknown")});

        // clients.per_round.
        row("per_round more than count", R"({"format": 1, "clients": {"count": 5, "per_round": 8}})",
            "clients.per_round",
            {QStringLiteral("8 is more than clients.count (5)"),
             QStringLiteral("allowed: a count in [1, 5] or a fraction in (0, 1)")});
        row("per_round 1.5", R"({"format": 1, "clients": {"count": 20, "per_round": 1.5}})",
            "clients.per_round",
            {QStringLiteral("1.5 is out of range"),
             QStringLiteral("a whole count in [1, 100000] or a fraction in (0, 1)")});
        row("per_round 0", R"({"format": 1, "clients": {"per_round": 0}})", "clients.per_round",
            {QStringLiteral("0 is out of range")});
        row("per_round -0.5", R"({"format": 1, "clients": {"per_round": -0.5}})", "clients.per_round",
            {QStringLiteral("-0.5 is out of range")});

        // Cross-field constraints.
        row("cnn with synthetic (default model)", R"({"format": 1, "dataset": {"name": "synthetic"}})",
            "model.name",
            {QStringLiteral("'cnn-lenet5' needs image input"), QStringLiteral("dataset 'synthetic'"),
             QStringLiteral("allowed here: logreg, mlp-2nn")});
        row("cnn-fedavg with synthetic",
            R"({"format": 1, "dataset": {"name": "synthetic"}, "model": {"name": "cnn-fedavg"}})",
            "model.name",
            {QStringLiteral("'cnn-fedavg' needs image input"), QStringLiteral("logreg, mlp-2nn")});
        row("classes_per_client 11",
            R"({"format": 1, "partition": {"name": "classes-per-client", "classes_per_client": 11}})",
            "partition.classes_per_client",
            {QStringLiteral("11 is more than the 10 classes"), QStringLiteral("'fashion-mnist'"),
             QStringLiteral("an integer in [1, 10]")});
        row("natural with fashion-mnist", R"({"format": 1, "partition": {"name": "natural"}})",
            "partition.name", {QStringLiteral("'natural'"), QStringLiteral("'fashion-mnist'")});
        // Capabilities: FedPer needs a body before the head; batch norm needs batches of two or more.
        row("fedper with logreg",
            R"({"format": 1, "model": {"name": "logreg"}, "strategy": {"name": "fedper"}})", "strategy.name",
            {QStringLiteral("'fedper' needs layers before its output layer"), QStringLiteral("'logreg'")});
        row("fedbn without batch norm", R"({"format": 1, "strategy": {"name": "fedbn"}})", "strategy.name",
            {QStringLiteral("'fedbn' needs batch-norm layers"), QStringLiteral("cnn-lenet5-bn")});
        row("batch norm with batch 1",
            R"({"format": 1, "model": {"name": "cnn-lenet5-bn"}, "training": {"batch_size": 1}})",
            "training.batch_size",
            {QStringLiteral("too small for a model with batch norm"), QStringLiteral(">= 2")});
        row("multi-krum selects the byzantine",
            R"({"format": 1, "clients": {"count": 10, "per_round": 6}, "strategy": {"name": "multi-krum", "byzantine": 1, "selected": 6}})",
            "strategy.selected", {QStringLiteral("[1, 5]")});
        row("poisson sampling with krum",
            R"({"format": 1, "clients": {"count": 20, "per_round": 0.5, "sampling": "poisson"}, "strategy": {"name": "krum", "byzantine": 1}})",
            "clients.sampling", {QStringLiteral("strategy.name krum needs a fixed number")});
        row("unknown sampling", R"({"format": 1, "clients": {"sampling": "binomial"}})", "clients.sampling",
            {QStringLiteral("fixed, poisson")});
        row("central dp with krum",
            R"({"format": 1, "clients": {"count": 20, "per_round": 10}, "strategy": {"name": "krum", "byzantine": 1}, "privacy": {"mode": "central"}})",
            "privacy.mode", {QStringLiteral("'krum' is not such a mean"), QStringLiteral("fedavg, fedavgm")});
        row("budget stop without a budget",
            R"({"format": 1, "privacy": {"mode": "central", "stop_at_budget": true}})",
            "privacy.stop_at_budget", {QStringLiteral("privacy.target_epsilon > 0")});
        row("no noise", R"({"format": 1, "privacy": {"mode": "central", "noise_multiplier": 0}})",
            "privacy.noise_multiplier", {QStringLiteral("(0, 1000]")});
        row("delta of 1", R"({"format": 1, "privacy": {"mode": "central", "delta": 1}})", "privacy.delta",
            {QStringLiteral("(0, 0.1]")});
        row("central dp with batch norm",
            R"({"format": 1, "model": {"name": "cnn-lenet5-bn"}, "privacy": {"mode": "central"}})",
            "privacy.mode", {QStringLiteral("batch-norm running statistics")});
        row("unknown privacy mode", R"({"format": 1, "privacy": {"mode": "secret"}})", "privacy.mode",
            {QStringLiteral("none, central")});

        row("adaptive clipping without central DP",
            R"({"format": 1, "privacy": {"adaptive_clipping": true}})", "privacy.adaptive_clipping",
            {QStringLiteral("needs privacy.mode central (it is 'none')")});
        row("adaptive clipping count noise too small",
            R"({"format": 1, "privacy": {"mode": "central", "adaptive_clipping": true, "noise_multiplier": 3}})",
            "privacy.clip_count_stddev",
            {QStringLiteral("(0.5 clients)"), QStringLiteral("privacy.noise_multiplier / 2 = 1.5")});
        row("local dp with batch norm",
            R"({"format": 1, "model": {"name": "cnn-lenet5-bn"}, "privacy": {"mode": "local"}})",
            "privacy.mode",
            {QStringLiteral("local DP cannot be used"), QStringLiteral("batch-norm running statistics")});

        // Group behaviours and privacy overrides: checked against their registered schemas, by path.
        row("behaviour not an object",
            R"({"format": 1, "clients": {"count": 2, "groups": [{"name": "a", "count": 2, "behaviour": "evil"}]}})",
            "clients.groups", {QStringLiteral("group 1: behaviour \"evil\" is not allowed")});
        row("unknown behaviour",
            R"({"format": 1, "clients": {"count": 2, "groups": [{"name": "a", "count": 2,
                "behaviour": {"name": "evil"}}]}})",
            "clients.groups[0].behaviour.name",
            {QStringLiteral("'evil' is unknown"), QStringLiteral("honest"), QStringLiteral("dropout")});
        row("unknown behaviour key",
            R"({"format": 1, "clients": {"count": 3, "groups": [{"name": "a", "count": 1},
                {"name": "b", "count": 2, "behaviour": {"name": "dropout", "rate": 0.2}}]}})",
            "clients.groups[1].behaviour.rate",
            {QStringLiteral("unknown key"), QStringLiteral("behaviour 'dropout' has: probability")});
        row("dropout probability above 1",
            R"({"format": 1, "clients": {"count": 2, "groups": [{"name": "a", "count": 2,
                "behaviour": {"name": "dropout", "probability": 1.5}}]}})",
            "clients.groups[0].behaviour.probability", {QStringLiteral("a number in [0, 1]")});
        // Attack behaviours: their own rules name the group's key; what they need of the data is a
        // capability. Two groups, the second (clients.groups[1]) with the behaviour {...}, after the given
        // sections.
        static std::vector<QByteArray> texts; // each text outlives its row() call
        const auto attackers = [](const char *behaviour, const char *sections = "") {
            texts.push_back(QByteArray(R"({"format": 1, )") + sections +
                            R"("clients": {"count": 3, "groups": [{"name": "a", "count": 1},
                                {"name": "b", "count": 2, "behaviour": {)" +
                            behaviour + "}}]}}");
            return texts.back().constData();
        };
        row("label-flip mapping names a class the dataset lacks",
            attackers(R"("name": "label-flip", "mapping": "0:9, 3:10")"),
            "clients.groups[1].behaviour.mapping",
            {QStringLiteral("class 10 is not one of the dataset's classes 0..9"),
             QStringLiteral("allowed: \"reverse\" or pairs from:to of classes 0..9")});
        row("label-flip mapping maps a class twice",
            attackers(R"("name": "label-flip", "mapping": "1:2,1:3")"), "clients.groups[1].behaviour.mapping",
            {QStringLiteral("class 1 is mapped twice")});
        row("label-flip mapping is no list of pairs", attackers(R"("name": "label-flip", "mapping": "0-9")"),
            "clients.groups[1].behaviour.mapping", {QStringLiteral("'0-9' is not a pair from:to")});
        row("label-flip without class labels",
            attackers(R"("name": "label-flip")",
                      R"("dataset": {"name": "quadratic"}, "model": {"name": "logreg"},)"),
            "clients.groups[1].behaviour.name",
            {QStringLiteral("'label-flip' needs class labels; dataset 'quadratic' has none"),
             QStringLiteral("sign-flip"), QStringLiteral("alie")});
        row("backdoor without images",
            attackers(R"("name": "backdoor")",
                      R"("dataset": {"name": "synthetic"}, "model": {"name": "logreg"},)"),
            "clients.groups[1].behaviour.name",
            {QStringLiteral("'backdoor' needs image input; dataset 'synthetic' has none"),
             QStringLiteral("label-flip")});
        row("backdoor target class beyond the classes",
            attackers(R"("name": "backdoor", "target_class": 10)"),
            "clients.groups[1].behaviour.target_class",
            {QStringLiteral("10 is not a class of dataset 'fashion-mnist'"),
             QStringLiteral("allowed: an integer in [0, 9]")});
        row("backdoor trigger larger than the images", attackers(R"("name": "backdoor", "trigger_size": 29)"),
            "clients.groups[1].behaviour.trigger_size",
            {QStringLiteral("29 pixels do not fit the 28 x 28 images"),
             QStringLiteral("allowed: an integer in [1, 28]")});
        row("alie z below 0", attackers(R"("name": "alie", "z": -1)"), "clients.groups[1].behaviour.z",
            {QStringLiteral("a number in [0, 100]")});
        row("group privacy key not overridable",
            R"({"format": 1, "clients": {"count": 2, "groups": [{"name": "a", "count": 2,
                "privacy": {"delta": 0.001}}]}})",
            "clients.groups[0].privacy.delta",
            {QStringLiteral("may override only: clip_norm, noise_multiplier")});
        row("group privacy value out of range",
            R"({"format": 1, "clients": {"count": 2, "groups": [{"name": "a", "count": 2,
                "privacy": {"noise_multiplier": -1}}]}})",
            "clients.groups[0].privacy.noise_multiplier", {QStringLiteral("(0, 1000]")});
    }

    // A sweep plan: the grid in order (first key slowest), N seeds over the point's own data and partition
    // seeds, and errors naming the key and the point before anything runs.
    void sweepPlan() {
        const QJsonObject raw{{QStringLiteral("format"), 1},
                              {QStringLiteral("run"), QJsonObject{{QStringLiteral("seed"), 7}}}};
        const SweepPlan plan = planSweep(
            raw,
            {{QStringLiteral("strategy.name"), {QStringLiteral("fedavg"), QStringLiteral("median")}},
             {QStringLiteral("training.lr"),
              {QStringLiteral("0.1"), QStringLiteral("0.2"), QStringLiteral("0.4")}}},
            2);
        QVERIFY2(plan.ok(), qPrintable(plan.errors.join(QLatin1Char('\n'))));
        QCOMPARE(plan.points.size(), 6);
        QCOMPARE(plan.points[1].text(), QStringLiteral("strategy.name=fedavg, training.lr=0.2"));
        QCOMPARE(plan.points[3].values.value(QStringLiteral("strategy.name")).toString(),
                 QStringLiteral("median"));
        QCOMPARE(plan.points[3].values.value(QStringLiteral("training.lr")).toDouble(), 0.1);
        QCOMPARE(plan.jobs.size(), 12);
        const FederationSpec &second = plan.jobs[1].spec; // point 0, seed index 1
        QCOMPARE(second.seed(), quint64(8));
        QCOMPARE(second.partitionSeed(), quint64(7)); // pinned to the point's own
        QCOMPARE(second.dataSeed(), quint64(7));
        QCOMPARE(plan.jobs[11].spec.string(QStringLiteral("strategy.name")), QStringLiteral("median"));
        QCOMPARE(sweepRunName(QStringLiteral("base"), plan.points[1], 8),
                 QStringLiteral("base [strategy.name=fedavg, training.lr=0.2] seed 8"));

        const SweepPlan bad = planSweep(
            raw, {{QStringLiteral("training.lr"), {QStringLiteral("0.1"), QStringLiteral("-1")}}}, 1);
        QVERIFY(!bad.ok());
        QVERIFY(bad.jobs.isEmpty());
        QCOMPARE(bad.errors.size(), 1);
        QVERIFY2(bad.errors[0].startsWith(QStringLiteral("training.lr: -1 is out of range")) &&
                     bad.errors[0].endsWith(QStringLiteral("(at training.lr=-1)")),
                 qPrintable(bad.errors[0]));
        QVERIFY(!planSweep(raw, {}, 1).ok());
        QVERIFY(!planSweep(raw, {{QStringLiteral("run.seed"), {QStringLiteral("1")}}}, 3).ok());
        QVERIFY(planSweep(raw, {}, 3).ok()); // seeds alone
    }

    // A group's behaviour gets its defaults filled in, and FederationSpec::groups() carries it.
    void groupBehaviourDefaultsAreFilled() {
        const FederationSpec::Parsed p = parseText(
            R"({"format": 1, "clients": {"count": 5, "groups": [{"name": "a", "count": 3},
                {"name": "b", "count": 2, "behaviour": {"name": "dropout"}, "privacy": {"clip_norm": 2}}]}})");
        QVERIFY2(p.ok(), qPrintable(p.errorText()));
        const QList<ClientGroup> groups = p.spec->groups();
        QCOMPARE(groups[0].behaviour.name, QStringLiteral("honest"));
        QCOMPARE(groups[1].behaviour.name, QStringLiteral("dropout"));
        QCOMPARE(groups[1].behaviour.params.value(QStringLiteral("probability")).toDouble(), 0.5);
        QCOMPARE(groups[1].privacy.value(QStringLiteral("clip_norm")).toDouble(), 2.0);
        const QJsonObject stored = p.spec->value(QStringLiteral("clients.groups"))
                                       .toArray()
                                       .at(1)
                                       .toObject()
                                       .value(QStringLiteral("behaviour"))
                                       .toObject();
        QCOMPARE(stored.value(QStringLiteral("probability")).toDouble(), 0.5);
    }

    // Two groups with the same attack: each group's own key is named, once.
    void behaviourRulesNameEachGroup() {
        const FederationSpec::Parsed p = parseText(
            R"({"format": 1, "clients": {"count": 4, "groups": [
                {"name": "a", "count": 2, "behaviour": {"name": "label-flip", "mapping": "0:11"}},
                {"name": "b", "count": 2, "behaviour": {"name": "label-flip", "mapping": "x"}}]}})");
        QCOMPARE(p.errors.size(), 2);
        QCOMPARE(p.errors[0].path, QStringLiteral("clients.groups[0].behaviour.mapping"));
        QCOMPARE(p.errors[1].path, QStringLiteral("clients.groups[1].behaviour.mapping"));
    }

    void rejects() {
        QFETCH(QByteArray, json);
        QFETCH(QString, path);
        QFETCH(QStringList, needles);
        const FederationSpec::Parsed p = parseText(json);
        const QString problem = singleErrorProblem(p, path, needles);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(!p.spec.has_value());
        QCOMPARE(p.errorText(), p.errors.first().text());
    }

    void severalErrorsAtOnce() {
        const auto p = parseText(R"({
            "format": 1,
            "server": {},
            "model": {"name": "resnet"},
            "training": {"optimizer": "sgdd", "lr": 0},
            "run": {"rounds": 0, "seed": -1, "speed": 3}
        })");
        QVERIFY(!p.ok());
        // server, model.name, training.optimizer, training.lr, run.rounds, run.seed, run.speed = 7
        QCOMPARE(p.errors.size(), qsizetype(7));
        QCOMPARE(paths(p.errors), (QStringList{QStringLiteral("model.name"), QStringLiteral("run.rounds"),
                                               QStringLiteral("run.seed"), QStringLiteral("run.speed"),
                                               QStringLiteral("server"), QStringLiteral("training.lr"),
                                               QStringLiteral("training.optimizer")}));
        QCOMPARE(p.errorText().count(QLatin1Char('\n')), qsizetype(6)); // one line per error
    }

    void severalCrossFieldErrorsAtOnce() {
        const auto p = parseText(R"({
            "format": 1,
            "dataset": {"name": "synthetic"},
            "clients": {"count": 4, "per_round": 6},
            "partition": {"name": "classes-per-client", "classes_per_client": 12}
        })");
        QVERIFY(!p.ok());
        // per_round 6 > 4, cnn-lenet5 on synthetic, 12 > 10 classes = 3
        QCOMPARE(paths(p.errors),
                 (QStringList{QStringLiteral("clients.per_round"), QStringLiteral("model.name"),
                              QStringLiteral("partition.classes_per_client")}));
    }

    // --- warnings ------------------------------------------------------------------------------------
    void otherComponentsKeyIsAWarning() {
        const auto p = parseText(R"({"format": 1, "partition": {"name": "iid", "alpha": 0.3}})");
        QVERIFY2(p.ok(), qPrintable(p.errorText()));
        QVERIFY(p.errors.isEmpty());
        QCOMPARE(p.warnings.size(), qsizetype(1));
        QCOMPARE(p.warnings.first().path, QStringLiteral("partition.alpha"));
        QVERIFY2(p.warnings.first().message.contains(QLatin1String("dirichlet, quantity-skew")),
                 qPrintable(p.warnings.first().message));
        QVERIFY(p.warnings.first().message.contains(QLatin1String("'iid'")));
        QVERIFY(!p.spec->section(QStringLiteral("partition")).contains(QStringLiteral("alpha")));
        QCOMPARE(p.spec->string(QStringLiteral("partition.name")), QStringLiteral("iid"));

        // The ignored value must still be valid for the component it belongs to (a user may switch to it).
        const auto q = parseText(R"({"format": 1, "partition": {"name": "iid", "alpha": -1}})");
        QVERIFY(!q.ok());
        QCOMPARE(q.errors.size(), qsizetype(1));
        QCOMPARE(q.errors.first().path, QStringLiteral("partition.alpha"));
        QVERIFY(q.errors.first().message.contains(QLatin1String("-1 is out of range")));

        // The same for a dataset key of the other dataset.
        const auto r = parseText(
            R"({"format": 1, "dataset": {"name": "synthetic", "path": "/x"}, "model": {"name": "logreg"}})");
        QVERIFY2(r.ok(), qPrintable(r.errorText()));
        QCOMPARE(r.warnings.size(), qsizetype(1));
        QCOMPARE(r.warnings.first().path, QStringLiteral("dataset.path"));
        QVERIFY(r.warnings.first().message.contains(QLatin1String("fashion-mnist")));
    }

    // --- accepted values and defaults ----------------------------------------------------------------
    void defaultsAreFilled() {
        const auto p = parseText(R"({"format": 1})");
        QVERIFY2(cleanProblem(p).isEmpty(), qPrintable(cleanProblem(p)));
        const FederationSpec &s = *p.spec;
        QCOMPARE(s.integer(QStringLiteral("format")), qint64(1));
        QCOMPARE(s.string(QStringLiteral("dataset.name")), QStringLiteral("fashion-mnist"));
        QCOMPARE(s.string(QStringLiteral("dataset.path")),
                 QStringLiteral("/usr/share/datasets/fashion-mnist"));
        QCOMPARE(s.integer(QStringLiteral("dataset.train_limit")), qint64(0));
        QCOMPARE(s.integer(QStringLiteral("dataset.test_limit")), qint64(0));
        QCOMPARE(s.string(QStringLiteral("partition.name")), QStringLiteral("iid"));
        QCOMPARE(s.integer(QStringLiteral("partition.min_samples")), qint64(10));
        QCOMPARE(s.real(QStringLiteral("partition.test_fraction")), 0.1);
        QCOMPARE(s.clientCount(), 10);
        QCOMPARE(s.real(QStringLiteral("clients.per_round")), 10.0);
        QCOMPARE(s.clientsPerRound(), 10);
        QCOMPARE(s.string(QStringLiteral("model.name")), QStringLiteral("cnn-lenet5"));
        QCOMPARE(s.integer(QStringLiteral("training.epochs")), qint64(1));
        QCOMPARE(s.integer(QStringLiteral("training.batch_size")), qint64(32));
        QCOMPARE(s.string(QStringLiteral("training.optimizer")), QStringLiteral("sgd"));
        QCOMPARE(s.real(QStringLiteral("training.lr")), 0.05);
        QCOMPARE(s.real(QStringLiteral("training.momentum")), 0.0);
        QCOMPARE(s.real(QStringLiteral("training.weight_decay")), 0.0);
        QCOMPARE(s.string(QStringLiteral("strategy.name")), QStringLiteral("fedavg"));
        QCOMPARE(s.rounds(), 10);
        QCOMPARE(s.seed(), quint64(1));
        QCOMPARE(s.integer(QStringLiteral("run.eval_every")), qint64(1));
        QCOMPARE(s.integer(QStringLiteral("run.threads")), qint64(0));
        // Every section is present, and nothing else is invented.
        const QStringList keys = s.json().keys();
        QCOMPARE(keys,
                 (QStringList{QStringLiteral("clients"), QStringLiteral("dataset"), QStringLiteral("format"),
                              QStringLiteral("model"), QStringLiteral("partition"), QStringLiteral("privacy"),
                              QStringLiteral("run"), QStringLiteral("secure_aggregation"),
                              QStringLiteral("strategy"), QStringLiteral("training")}));
        QVERIFY(s.value(QStringLiteral("run.nope")).isUndefined());
        QVERIFY(s.value(QStringLiteral("nope")).isUndefined());
        QVERIFY(s.value(QStringLiteral("run")).isObject());
    }

    void componentDefaultsAreFilled() {
        const auto p = parseText(R"({"format": 1, "partition": {"name": "dirichlet"},
                                     "dataset": {"name": "synthetic"}, "model": {"name": "mlp-2nn"}})");
        QVERIFY2(cleanProblem(p).isEmpty(), qPrintable(cleanProblem(p)));
        QCOMPARE(p.spec->real(QStringLiteral("partition.alpha")), 0.5);
        QCOMPARE(p.spec->real(QStringLiteral("dataset.alpha")), 1.0);
        QCOMPARE(p.spec->real(QStringLiteral("dataset.beta")), 1.0);
        QCOMPARE(p.spec->integer(QStringLiteral("dataset.max_samples")), qint64(5000));
        QVERIFY(!p.spec->section(QStringLiteral("dataset")).contains(QStringLiteral("path")));

        const auto q = parseText(R"({"format": 1, "partition": {"name": "classes-per-client"}})");
        QVERIFY2(cleanProblem(q).isEmpty(), qPrintable(cleanProblem(q)));
        QCOMPARE(q.spec->integer(QStringLiteral("partition.classes_per_client")), qint64(2));
        const auto r = parseText(R"({"format": 1, "partition": {"name": "shards"}})");
        QCOMPARE(r.spec->integer(QStringLiteral("partition.shards_per_client")), qint64(2));
        const auto t = parseText(R"({"format": 1, "partition": {"name": "quantity-skew"}})");
        QCOMPARE(t.spec->real(QStringLiteral("partition.alpha")), 1.0);
    }

    void givenValuesAreKept() {
        const auto p = parseText(R"({"format": 1, "name": "n", "description": "d",
            "partition": {"name": "dirichlet", "alpha": 1000000, "test_fraction": 0.9},
            "model": {"name": "logreg"},
            "training": {"lr": 10, "momentum": 0, "optimizer": "adam", "batch_size": 65536},
            "run": {"rounds": 1, "seed": 0, "threads": 256}})");
        QVERIFY2(cleanProblem(p).isEmpty(), qPrintable(cleanProblem(p)));
        const FederationSpec &s = *p.spec;
        QCOMPARE(s.string(QStringLiteral("name")), QStringLiteral("n"));
        QCOMPARE(s.string(QStringLiteral("description")), QStringLiteral("d"));
        QCOMPARE(s.real(QStringLiteral("partition.alpha")), 1e6);         // inclusive maximum
        QCOMPARE(s.real(QStringLiteral("partition.test_fraction")), 0.9); // inclusive maximum
        QCOMPARE(s.real(QStringLiteral("training.lr")), 10.0);
        QCOMPARE(s.real(QStringLiteral("training.momentum")), 0.0); // inclusive minimum
        QCOMPARE(s.string(QStringLiteral("training.optimizer")), QStringLiteral("adam"));
        QCOMPARE(s.integer(QStringLiteral("training.batch_size")), qint64(65536));
        QCOMPARE(s.rounds(), 1);
        QCOMPARE(s.seed(), quint64(0));
        QCOMPARE(s.integer(QStringLiteral("run.threads")), qint64(256));

        // The largest seed (2^32 - 1) survives.
        const auto big = parseText(R"({"format": 1, "run": {"seed": 4294967295}})");
        QVERIFY2(big.ok(), qPrintable(big.errorText()));
        QCOMPARE(big.spec->seed(), quint64(4294967295ull));
    }

    void clientsPerRound_data() {
        QTest::addColumn<int>("count");
        QTest::addColumn<double>("perRound");
        QTest::addColumn<int>("expected");
        QTest::newRow("0.25 of 20") << 20 << 0.25 << 5; // 0.25 * 20 = 5
        QTest::newRow("0.5 of 7") << 7 << 0.5 << 4;     // 3.5 rounds to 4
        QTest::newRow("0.01 of 20") << 20 << 0.01 << 1; // 0.2 rounds to 0, but at least 1
        QTest::newRow("0.999 of 1000") << 1000 << 0.999 << 999;
        QTest::newRow("count 5 of 20") << 20 << 5.0 << 5;
        QTest::newRow("all 20 of 20") << 20 << 20.0 << 20; // equal to clients.count is allowed
        QTest::newRow("1 of 1") << 1 << 1.0 << 1;
    }
    void clientsPerRound() {
        QFETCH(int, count);
        QFETCH(double, perRound);
        QFETCH(int, expected);
        QJsonObject raw = object(R"({"format": 1})");
        raw.insert(QStringLiteral("clients"),
                   QJsonObject{{QStringLiteral("count"), count}, {QStringLiteral("per_round"), perRound}});
        const auto p = FederationSpec::parse(raw);
        QVERIFY2(cleanProblem(p).isEmpty(), qPrintable(cleanProblem(p)));
        QCOMPARE(p.spec->clientCount(), count);
        QCOMPARE(p.spec->clientsPerRound(), expected);
    }

    void defaultPerRoundFitsSmallCount() {
        // Only clients.count is written: the default clients.per_round (10) must not exceed a smaller
        // population (it becomes min(10, 5) = 5), while an explicit per_round above the count stays an error
        // (see rejects).
        const auto p = parseText(R"({"format": 1, "clients": {"count": 5}})");
        QVERIFY2(cleanProblem(p).isEmpty(), qPrintable(cleanProblem(p)));
        QCOMPARE(p.spec->clientsPerRound(), 5);
        QCOMPARE(p.spec->real(QStringLiteral("clients.per_round")), 5.0);
        // A larger population keeps the default of 10.
        const auto q = parseText(R"({"format": 1, "clients": {"count": 50}})");
        QVERIFY2(cleanProblem(q).isEmpty(), qPrintable(cleanProblem(q)));
        QCOMPARE(q.spec->clientsPerRound(), 10);
    }

    void crossFieldAccepted() {
        // natural needs client ids: synthetic has them (with a non-image model).
        const auto p =
            parseText(R"({"format": 1, "dataset": {"name": "synthetic"}, "model": {"name": "logreg"},
                                     "partition": {"name": "natural"}})");
        QVERIFY2(cleanProblem(p).isEmpty(), qPrintable(cleanProblem(p)));
        // k = 10 of 10 classes is the maximum that is allowed.
        const auto q = parseText(
            R"({"format": 1, "partition": {"name": "classes-per-client", "classes_per_client": 10}})");
        QVERIFY2(cleanProblem(q).isEmpty(), qPrintable(cleanProblem(q)));
        // Both cnn models on images.
        const auto r = parseText(R"({"format": 1, "model": {"name": "cnn-fedavg"}})");
        QVERIFY2(cleanProblem(r).isEmpty(), qPrintable(cleanProblem(r)));
        // Local DP with a robust aggregator: the server only post-processes noisy updates.
        const auto l =
            parseText(R"({"format": 1, "strategy": {"name": "krum"}, "privacy": {"mode": "local"}})");
        QVERIFY2(cleanProblem(l).isEmpty(), qPrintable(cleanProblem(l)));
        // Adaptive clipping with enough count noise (sigma_b = 10 / 20 = 0.5 > z / 2 = 0.45).
        const auto a = parseText(
            R"({"format": 1, "strategy": {"weighting": "uniform"},
                "privacy": {"mode": "central", "adaptive_clipping": true, "noise_multiplier": 0.9}})");
        QVERIFY2(cleanProblem(a).isEmpty(), qPrintable(cleanProblem(a)));
    }

    void normalizedSpecParsesToItself() {
        const auto p =
            parseText(R"({"format": 1, "name": "x", "partition": {"name": "shards", "shards_per_client": 3},
                                     "clients": {"count": 50, "per_round": 0.1}})");
        QVERIFY2(cleanProblem(p).isEmpty(), qPrintable(cleanProblem(p)));
        const auto again = FederationSpec::parse(p.spec->json());
        QVERIFY2(cleanProblem(again).isEmpty(), qPrintable(cleanProblem(again)));
        QCOMPARE(again.spec->json(), p.spec->json());
    }

    void quickstartWorkspaceIsClean() {
        const QString path = QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb");
        QString error;
        const std::optional<QJsonObject> raw = FederationSpec::readFile(path, &error);
        QVERIFY2(raw.has_value(), qPrintable(error));
        const auto p = FederationSpec::parse(*raw);
        QVERIFY2(cleanProblem(p).isEmpty(), qPrintable(cleanProblem(p)));
        QCOMPARE(p.spec->clientCount(), 20);
        QCOMPARE(p.spec->clientsPerRound(), 5);
        QCOMPARE(p.spec->string(QStringLiteral("partition.name")), QStringLiteral("dirichlet"));
    }

    // --- --set overrides -----------------------------------------------------------------------------
    void applyOverrideValues() {
        QJsonObject raw = object(R"({"format": 1, "run": {"seed": 4}})");
        QString error;
        QVERIFY2(FederationSpec::applyOverride(raw, QStringLiteral("run.rounds=3"), &error),
                 qPrintable(error));
        QVERIFY(raw.value(QStringLiteral("run")).toObject().value(QStringLiteral("rounds")).isDouble());
        QCOMPARE(raw.value(QStringLiteral("run")).toObject().value(QStringLiteral("rounds")).toDouble(), 3.0);
        QCOMPARE(raw.value(QStringLiteral("run")).toObject().value(QStringLiteral("seed")).toDouble(),
                 4.0); // kept

        QVERIFY2(FederationSpec::applyOverride(raw, QStringLiteral("strategy.name=fedavg"), &error),
                 qPrintable(error));
        QCOMPARE(raw.value(QStringLiteral("strategy")).toObject().value(QStringLiteral("name")),
                 QJsonValue(QStringLiteral("fedavg")));

        QVERIFY2(FederationSpec::applyOverride(raw, QStringLiteral("dataset.path=\"/x y\""), &error),
                 qPrintable(error));
        QCOMPARE(raw.value(QStringLiteral("dataset")).toObject().value(QStringLiteral("path")),
                 QJsonValue(QStringLiteral("/x y")));

        // Spaces around the key and value are trimmed; true/false are booleans; a fraction is a number.
        QVERIFY2(FederationSpec::applyOverride(raw, QStringLiteral(" clients.per_round = 0.25 "), &error),
                 qPrintable(error));
        QCOMPARE(
            raw.value(QStringLiteral("clients")).toObject().value(QStringLiteral("per_round")).toDouble(),
            0.25);

        const auto p = FederationSpec::parse(raw);
        QVERIFY2(cleanProblem(p).isEmpty(), qPrintable(cleanProblem(p)));
        QCOMPARE(p.spec->rounds(), 3);
        QCOMPARE(p.spec->string(QStringLiteral("dataset.path")), QStringLiteral("/x y"));
        QCOMPARE(p.spec->clientsPerRound(), 3); // lround(0.25 * 10) = lround(2.5) = 3
    }

    void applyOverrideBareWordThenValidation() {
        QJsonObject raw = object(R"({"format": 1})");
        QString error;
        QVERIFY(FederationSpec::applyOverride(raw, QStringLiteral("partition.name=dirichlet"), &error));
        QVERIFY(FederationSpec::applyOverride(raw, QStringLiteral("partition.alpha=abc"), &error));
        QCOMPARE(raw.value(QStringLiteral("partition")).toObject().value(QStringLiteral("alpha")),
                 QJsonValue(QStringLiteral("abc")));
        const auto p = FederationSpec::parse(raw);
        const QString problem = singleErrorProblem(
            p, QStringLiteral("partition.alpha"),
            {QStringLiteral("\"abc\" is not allowed"), QStringLiteral("a number in (0, 1000000]")});
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void applyOverrideTopLevel() {
        QJsonObject raw = object(R"({"format": 1})");
        QString error;
        QVERIFY(FederationSpec::applyOverride(raw, QStringLiteral("name=My run"), &error));
        QCOMPARE(raw.value(QStringLiteral("name")), QJsonValue(QStringLiteral("My run")));
        QVERIFY(FederationSpec::applyOverride(raw, QStringLiteral("format=2"), &error));
        const auto p = FederationSpec::parse(raw);
        QVERIFY(singleErrorProblem(p, QStringLiteral("format"), {QStringLiteral("2 is not supported")})
                    .isEmpty());
    }

    void applyOverrideErrors_data() {
        QTest::addColumn<QString>("assignment");
        QTest::addColumn<QString>("needle");
        QTest::newRow("missing =") << QStringLiteral("run.rounds") << QStringLiteral("expected KEY=VALUE");
        QTest::newRow("empty key") << QStringLiteral("=3") << QStringLiteral("expected KEY=VALUE");
        QTest::newRow("blank key") << QStringLiteral(" =3") << QStringLiteral("KEY must be section.key");
        QTest::newRow("too deep") << QStringLiteral("a.b.c=1") << QStringLiteral("KEY must be section.key");
        QTest::newRow("empty part") << QStringLiteral("run.=1") << QStringLiteral("KEY must be section.key");
        QTest::newRow("empty section")
            << QStringLiteral(".rounds=1") << QStringLiteral("KEY must be section.key");
    }
    void applyOverrideErrors() {
        QFETCH(QString, assignment);
        QFETCH(QString, needle);
        const QJsonObject before = object(R"({"format": 1, "run": {"rounds": 2}})");
        QJsonObject raw = before;
        QString error;
        QVERIFY(!FederationSpec::applyOverride(raw, assignment, &error));
        QVERIFY2(error.contains(needle), qPrintable(error));
        QVERIFY2(error.contains(assignment), qPrintable(error)); // the message quotes what was given
        QCOMPARE(raw, before);                                   // nothing changed
        QVERIFY(!FederationSpec::applyOverride(raw, assignment, nullptr)); // error pointer is optional
    }

    void applyOverrideIntoNonSection() {
        QJsonObject raw = object(R"({"format": 1, "run": 5})");
        QString error;
        QVERIFY(!FederationSpec::applyOverride(raw, QStringLiteral("run.rounds=3"), &error));
        QVERIFY2(error.contains(QLatin1String("'run' is not a section")), qPrintable(error));
        QCOMPARE(raw.value(QStringLiteral("run")), QJsonValue(5));
    }

    // --- reading files -------------------------------------------------------------------------------
    void readFileErrors() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QString error;

        const QString missing = dir.filePath(QStringLiteral("nope.fedwb"));
        QVERIFY(!FederationSpec::readFile(missing, &error).has_value());
        QVERIFY2(error.contains(missing), qPrintable(error));

        const QString bad = dir.filePath(QStringLiteral("bad.fedwb"));
        const QByteArray badJson = "{\n  \"format\": 1,\n  \"run\": {\"rounds\": 3,}\n}\n";
        {
            QFile f(bad);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(badJson);
        }
        error.clear();
        QVERIFY(!FederationSpec::readFile(bad, &error).has_value());
        // line:column of the offending '}' (line 3, column 23), not a byte offset.
        QVERIFY2(error.startsWith(bad + QStringLiteral(":3:23: not valid JSON: ")), qPrintable(error));

        const QString array = dir.filePath(QStringLiteral("array.fedwb"));
        {
            QFile f(array);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("[{\"format\": 1}]");
        }
        error.clear();
        QVERIFY(!FederationSpec::readFile(array, &error).has_value());
        QVERIFY2(error.contains(QLatin1String("must be a JSON object")), qPrintable(error));
        QVERIFY2(error.contains(array), qPrintable(error));

        QVERIFY(!FederationSpec::readFile(missing, nullptr).has_value()); // error pointer is optional
    }

    // A lone JSON value is valid JSON but no workspace: say so, not "not valid JSON".
    void readFileRefusesNonObjects_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("needle");
        QTest::newRow("null") << QByteArray("null\n")
                              << "must be a JSON object such as {\"format\": 1}, not null";
        QTest::newRow("string") << QByteArray("  \"quickstart\"  ") << "not a string";
        QTest::newRow("number") << QByteArray("1") << "not a number";
        QTest::newRow("boolean") << QByteArray("true") << "not a boolean";
        QTest::newRow("array") << QByteArray("[]") << "not an array";
        QTest::newRow("bom null") << QByteArray("\xEF\xBB\xBFnull") << "not null";
        // Syntax errors give line:column (columns count characters, not bytes).
        QTest::newRow("bare word") << QByteArray("\n\n  nul") << ":3:3: not valid JSON: illegal value";
        QTest::newRow("trailing garbage") << QByteArray("{\"format\": 1}\n\n  x") << ":3:3: not valid JSON";
        QTest::newRow("unicode column")
            << QByteArray("{\"name\": \"\xC3\xA9t\xC3\xA9\" \"run\": {}}") << ":1:16: not valid JSON";
        QTest::newRow("unterminated") << QByteArray("{ \"format\": 1, ") << ":1:15: not valid JSON";
    }
    void readFileRefusesNonObjects() {
        QFETCH(QByteArray, text);
        QFETCH(QString, needle);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("w.fedwb"));
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text);
        }
        QString error;
        QVERIFY(!FederationSpec::readFile(path, &error).has_value());
        QVERIFY2(error.startsWith(path), qPrintable(error));
        QVERIFY2(error.contains(needle), qPrintable(error));
    }

    // Only a regular file of a few MiB is read: a folder, a FIFO (which would block in open()) and a device
    // (/dev/zero never ends) are refused from their type, a huge file from its size.
    void readFileRefusesNonFiles() {
        QTemporaryDir dir;
        QString error;
        QVERIFY(!FederationSpec::readFile(dir.path(), &error).has_value());
        QVERIFY2(error.contains(QLatin1String("is a folder")), qPrintable(error));

        const QString fifo = dir.filePath(QStringLiteral("fifo.fedwb"));
        QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
        QElapsedTimer clock;
        clock.start();
        QVERIFY(!FederationSpec::readFile(fifo, &error).has_value());
        QVERIFY(clock.elapsed() < 5000);
        QVERIFY2(error.startsWith(fifo) && error.contains(QLatin1String("not a regular file")),
                 qPrintable(error));

        for (const QString &device : {QStringLiteral("/dev/zero"), QStringLiteral("/dev/urandom")}) {
            QVERIFY(!FederationSpec::readFile(device, &error).has_value());
            QVERIFY2(error.startsWith(device) && error.contains(QLatin1String("not a regular file")),
                     qPrintable(error));
        }

        const QString huge = dir.filePath(QStringLiteral("huge.fedwb"));
        {
            QFile f(huge);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("{\"format\": 1, \"name\": \"");
            QVERIFY(f.resize(5 * 1024 * 1024)); // sparse: costs no disk
        }
        QVERIFY(!FederationSpec::readFile(huge, &error).has_value());
        QVERIFY2(error.startsWith(huge) &&
                     error.contains(QLatin1String("too large for a workspace (more than 4 MiB)")),
                 qPrintable(error));
    }

    // QJsonDocument keeps the last of a repeated key without a word; readFile warns, naming the key path.
    void readFileWarnsAboutDuplicateKeys() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("dup.fedwb"));
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(kDuplicateKeys);
        }
        QString error;
        QList<SpecIssue> warnings{{QStringLiteral("stale"), QStringLiteral("cleared")}};
        const auto raw = FederationSpec::readFile(path, &error, &warnings);
        QVERIFY2(raw.has_value(), qPrintable(error));
        QStringList texts;
        for (const SpecIssue &w : warnings)
            texts.append(w.text());
        QCOMPARE(texts, (QStringList{
                            QStringLiteral("run.rounds: duplicate key, the last value is used"),
                            QStringLiteral("clients.groups[1].count: duplicate key, the last value is used"),
                            QStringLiteral("training.lr: duplicate key, the last value is used"),
                            QStringLiteral("format: duplicate key, the last value is used")}));
        QCOMPARE(raw->value(QStringLiteral("run")).toObject().value(QStringLiteral("rounds")).toInt(), 9);
        // The same key in different objects ("seed", "name", "count") is no duplicate; neither is a file
        // without repeats.
        const QString clean = dir.filePath(QStringLiteral("clean.fedwb"));
        {
            QFile f(clean);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(kNoDuplicateKeys);
        }
        QVERIFY(FederationSpec::readFile(clean, &error, &warnings).has_value());
        QVERIFY2(warnings.isEmpty(), qPrintable(warnings.value(0).text()));
    }

    void readFileReadsWithoutValidating() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("w.fedwb"));
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(R"({"format": 7, "anything": [1]})");
        }
        QString error;
        const auto raw = FederationSpec::readFile(path, &error);
        QVERIFY2(raw.has_value(), qPrintable(error));
        QCOMPARE(raw->value(QStringLiteral("format")).toInt(), 7);
        QVERIFY(raw->contains(QStringLiteral("anything")));
    }

    // --- the registry's schema reference -------------------------------------------------------------
    void registryJson() {
        const Registry &reg = Registry::global();
        const QJsonObject json = reg.toJson();

        QStringList sectionKeys;
        for (const QJsonValue &v : json.value(QStringLiteral("sections")).toArray()) {
            const QJsonObject s = v.toObject();
            sectionKeys.append(s.value(QStringLiteral("key")).toString());
            QVERIFY(!s.value(QStringLiteral("help")).toString().isEmpty());
            for (const QJsonValue &pv : s.value(QStringLiteral("params")).toArray()) {
                const QJsonObject p = pv.toObject();
                QVERIFY(p.contains(QStringLiteral("type")));
                QVERIFY(p.contains(QStringLiteral("default")));
                QVERIFY2(!p.value(QStringLiteral("help")).toString().isEmpty(),
                         qPrintable(p.value(QStringLiteral("key")).toString()));
            }
        }
        QCOMPARE(sectionKeys,
                 (QStringList{QStringLiteral("dataset"), QStringLiteral("partition"),
                              QStringLiteral("clients"), QStringLiteral("model"), QStringLiteral("training"),
                              QStringLiteral("strategy"), QStringLiteral("run"), QStringLiteral("privacy"),
                              QStringLiteral("secure_aggregation")}));

        const QJsonObject components = json.value(QStringLiteral("components")).toObject();
        for (const QString &category : {QStringLiteral("dataset"), QStringLiteral("partitioner"),
                                        QStringLiteral("model"), QStringLiteral("strategy")}) {
            QVERIFY2(components.contains(category), qPrintable(category));
            const QJsonArray list = components.value(category).toArray();
            QVERIFY(!list.isEmpty());
            for (const QJsonValue &cv : list) {
                const QJsonObject c = cv.toObject();
                QCOMPARE(c.value(QStringLiteral("category")).toString(), category);
                QVERIFY(!c.value(QStringLiteral("name")).toString().isEmpty());
                QVERIFY(!c.value(QStringLiteral("help")).toString().isEmpty());
                for (const QJsonValue &pv : c.value(QStringLiteral("params")).toArray()) {
                    const QJsonObject p = pv.toObject();
                    QVERIFY(!p.value(QStringLiteral("type")).toString().isEmpty());
                    QVERIFY(p.contains(QStringLiteral("default")));
                    QVERIFY(!p.value(QStringLiteral("help")).toString().isEmpty());
                }
            }
        }
        QCOMPARE(reg.componentNames(QStringLiteral("partitioner")),
                 (QStringList{QStringLiteral("iid"), QStringLiteral("dirichlet"),
                              QStringLiteral("classes-per-client"), QStringLiteral("shards"),
                              QStringLiteral("quantity-skew"), QStringLiteral("natural")}));

        // The dirichlet alpha entry in full.
        QJsonObject alpha;
        for (const QJsonValue &cv : components.value(QStringLiteral("partitioner")).toArray())
            if (cv.toObject().value(QStringLiteral("name")).toString() == QLatin1String("dirichlet"))
                alpha = cv.toObject().value(QStringLiteral("params")).toArray().at(0).toObject();
        QCOMPARE(alpha.value(QStringLiteral("key")).toString(), QStringLiteral("alpha"));
        QCOMPARE(alpha.value(QStringLiteral("type")).toString(), QStringLiteral("number"));
        QCOMPARE(alpha.value(QStringLiteral("default")).toDouble(), 0.5);
        QCOMPARE(alpha.value(QStringLiteral("min")).toDouble(), 0.0);
        QCOMPARE(alpha.value(QStringLiteral("max")).toDouble(), 1e6);
        QCOMPARE(alpha.value(QStringLiteral("min_exclusive")).toBool(), true);
        QCOMPARE(alpha.value(QStringLiteral("allowed")).toString(),
                 QStringLiteral("a number in (0, 1000000]"));

        // A section's component selector lists the registered components as its choices.
        const ParamSchema *modelName = reg.section(QStringLiteral("model"))->param(QStringLiteral("name"));
        QVERIFY(modelName);
        QCOMPARE(modelName->choices,
                 (QStringList{QStringLiteral("logreg"), QStringLiteral("mlp-2nn"),
                              QStringLiteral("cnn-lenet5"), QStringLiteral("cnn-fedavg"),
                              QStringLiteral("cnn-lenet5-bn"), QStringLiteral("cnn-fedavg-bn")}));
    }

    void registryText() {
        const QString text = Registry::global().toText();
        QVERIFY(text.contains(QLatin1String("partition.alpha")));
        QVERIFY(text.contains(QLatin1String("training.batch_size")));
        QVERIFY(text.contains(QLatin1String("run.rounds")));
        for (const QString &s :
             {QStringLiteral("[dataset]"), QStringLiteral("[partition]"), QStringLiteral("[clients]"),
              QStringLiteral("[model]"), QStringLiteral("[training]"), QStringLiteral("[strategy]"),
              QStringLiteral("[run]")})
            QVERIFY2(text.contains(s), qPrintable(s));
        QVERIFY(text.contains(QLatin1String("partition.name = dirichlet")));
    }

    // The designer's inspector shows these paragraphs to non-experts: a section, component or parameter
    // registered without one fails here (the list names every one missing).
    void everythingHasAPlainLanguageExplanation() {
        const Registry &reg = Registry::global();
        QStringList missing;
        for (const SectionSchema &s : reg.sections()) {
            if (s.explanation.trimmed().isEmpty()) missing.append(QStringLiteral("section ") + s.key);
            for (const ParamSchema &p : s.params) {
                // A section's component selector is explained by the selected component.
                if (!s.category.isEmpty() && p.key == QLatin1String("name")) continue;
                if (p.explanation.trimmed().isEmpty()) missing.append(s.key + QLatin1Char('.') + p.key);
            }
        }
        for (const QString &category : reg.categories()) {
            for (const QString &name : reg.componentNames(category)) {
                const ComponentSchema *c = reg.component(category, name);
                QVERIFY(c);
                const QString at = category + QLatin1Char(':') + name;
                if (c->explanation.trimmed().isEmpty()) missing.append(at);
                for (const ParamSchema &p : c->params)
                    if (p.explanation.trimmed().isEmpty()) missing.append(at + QLatin1Char('.') + p.key);
            }
        }
        QVERIFY2(missing.isEmpty(),
                 qPrintable(QStringLiteral("no explanation: ") + missing.join(QStringLiteral(", "))));
        // An explanation adds to the one-line help; it does not repeat it.
        for (const SectionSchema &s : reg.sections())
            for (const ParamSchema &p : s.params)
                QVERIFY2(p.explanation != p.help, qPrintable(s.key + QLatin1Char('.') + p.key));
    }

    void registerBuiltinsIsIdempotent() {
        const QJsonObject before = Registry::global().toJson();
        registerBuiltins();
        registerBuiltins();
        QCOMPARE(Registry::global().toJson(), before);
    }
};

QTEST_GUILESS_MAIN(TestSpec)
#include "test_spec.moc"
