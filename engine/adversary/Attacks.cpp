#include "adversary/Attacks.h"

#include "adversary/Behaviour.h"
#include "data/DatasetFacts.h"
#include "spec/Registry.h"
#include "util/Rng.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace fedwb {

std::optional<std::vector<int>> parseLabelMapping(const QString &text, int classes, QString *error) {
    const auto fail = [error](const QString &problem) -> std::optional<std::vector<int>> {
        if (error) *error = problem;
        return std::nullopt;
    };
    std::vector<int> map(static_cast<std::size_t>(std::max(0, classes)));
    std::iota(map.begin(), map.end(), 0);
    const QString given = text.trimmed();
    if (given == QLatin1String("reverse")) {
        for (int c = 0; c < classes; ++c)
            map[std::size_t(c)] = classes - 1 - c;
        return map;
    }
    if (given.isEmpty()) return fail(QStringLiteral("the mapping is empty"));
    std::vector<bool> mapped(map.size(), false);
    for (const QString &part : given.split(QLatin1Char(','))) {
        const QStringList ends = part.split(QLatin1Char(':'));
        bool fromOk = false, toOk = false;
        const int from = ends.size() == 2 ? ends[0].trimmed().toInt(&fromOk) : 0;
        const int to = ends.size() == 2 ? ends[1].trimmed().toInt(&toOk) : 0;
        if (!fromOk || !toOk)
            return fail(
                QStringLiteral("'%1' is not a pair from:to of two class numbers").arg(part.trimmed()));
        for (const int c : {from, to})
            if (c < 0 || c >= classes)
                return fail(QStringLiteral("class %1 is not one of the dataset's classes 0..%2")
                                .arg(c)
                                .arg(classes - 1));
        if (mapped[std::size_t(from)]) return fail(QStringLiteral("class %1 is mapped twice").arg(from));
        mapped[std::size_t(from)] = true;
        map[std::size_t(from)] = to;
    }
    return map;
}

double standardNormalQuantile(double p) {
    if (!(p > 0 && p < 1)) throw std::invalid_argument("the normal quantile needs p in (0, 1)");
    double lo = -40, hi = 40; // Phi(x) = erfc(-x / sqrt 2) / 2, increasing in x
    for (int i = 0; i < 200 && hi - lo > 1e-15; ++i) {
        const double mid = 0.5 * (lo + hi);
        (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

double alieZMax(int n, int m) {
    const int honest = n - m;
    if (honest < 1) return 0;
    const int supporters = std::max(1, n / 2 + 1 - m); // floor(n / 2 + 1) - m
    const double p = double(honest - supporters) / double(honest);
    return p > 0.5 ? standardNormalQuantile(p) : 0.0;
}

void alieCraft(std::span<const std::span<float>> updates, double z) {
    if (updates.empty()) return;
    const std::size_t m = updates.size(), d = updates.front().size();
    for (const std::span<float> &u : updates)
        if (u.size() != d) throw std::invalid_argument("alie: the updates of a round differ in size");
    for (std::size_t j = 0; j < d; ++j) {
        double sum = 0;
        for (const std::span<float> &u : updates)
            sum += double(u[j]);
        const double mean = sum / double(m);
        double squares = 0;
        for (const std::span<float> &u : updates)
            squares += (double(u[j]) - mean) * (double(u[j]) - mean);
        const double stddev = m > 1 ? std::sqrt(squares / double(m - 1)) : 0.0;
        const auto crafted = float(mean - z * stddev);
        for (const std::span<float> &u : updates)
            u[j] = crafted;
    }
}

std::int64_t backdoorPoisonCount(std::int64_t n, double fraction) {
    return std::clamp<std::int64_t>(std::int64_t(std::floor(fraction * double(n) + 0.5)), 0, n);
}

void BackdoorTrigger::stamp(std::span<float> image, int channels, int height, int width, float pixelOffset,
                            float pixelScale) const {
    const int side = std::min({size, height, width});
    const bool bottom = corner.startsWith(QLatin1String("bottom"));
    const bool right = corner.endsWith(QLatin1String("right"));
    const int row0 = bottom ? height - side : 0, col0 = right ? width - side : 0;
    const auto stored = float((value - double(pixelOffset)) / double(pixelScale));
    for (int c = 0; c < channels; ++c)
        for (int r = row0; r < row0 + side; ++r)
            for (int col = col0; col < col0 + side; ++col)
                image[std::size_t((c * height + r) * width + col)] = stored;
}

namespace {

// Multiplies an update by a constant: a sign flip (negative), a scaled update, a boosted backdoor.
class ScaleStage : public UpdateStage {
public:
    explicit ScaleStage(double factor)
        : m_factor(factor) {
        if (!std::isfinite(factor)) throw std::invalid_argument("scale: the factor must be finite");
    }
    QString name() const override { return QStringLiteral("scale"); }
    void apply(std::span<float> update, const StageContext &) override {
        for (float &v : update)
            v = float(double(v) * m_factor);
    }

private:
    double m_factor;
};

// Replaces an update by N(0, std^2) noise, one draw per coordinate from the generator derived from the
// stage's key (seed, round, client) for purpose "gaussian-noise".
class GaussianNoiseStage : public UpdateStage {
public:
    explicit GaussianNoiseStage(double stddev)
        : m_std(stddev) {
        if (!(stddev >= 0) || !std::isfinite(stddev))
            throw std::invalid_argument("gaussian-noise: std must be finite and >= 0");
    }
    QString name() const override { return QStringLiteral("gaussian-noise"); }
    void apply(std::span<float> update, const StageContext &context) override {
        Rng rng(deriveSeed(context.rngKey, "gaussian-noise"));
        for (float &v : update)
            v = float(m_std * rng.normal());
    }

private:
    double m_std;
};

// A behaviour that only changes its update, through client update stages.
class StagesBehaviour : public Behaviour {
public:
    explicit StagesBehaviour(QList<StageRef> stages)
        : m_stages(std::move(stages)) {}
    QList<StageRef> updateStages() const override { return m_stages; }

private:
    QList<StageRef> m_stages;
};

StageRef scaleBy(double factor) {
    return {QStringLiteral("scale"), QJsonObject{{QStringLiteral("factor"), factor}}};
}

class AlieBehaviour : public Behaviour {
public:
    explicit AlieBehaviour(double z)
        : m_z(z) {}
    bool coordinated() const override { return true; }
    void coordinate(std::span<const std::span<float>> updates, const Coordination &c) const override {
        alieCraft(updates, m_z > 0 ? m_z : alieZMax(c.answered, int(updates.size())));
    }

private:
    double m_z;
};

class LabelFlipBehaviour : public Behaviour {
public:
    explicit LabelFlipBehaviour(QString mapping)
        : m_mapping(std::move(mapping)) {}
    bool poisonsData() const override { return true; }
    void poison(LocalSamples &samples, std::uint64_t) const override {
        QString problem;
        const auto map = parseLabelMapping(m_mapping, samples.classes, &problem);
        if (!map) throw std::invalid_argument("label-flip: " + problem.toStdString());
        for (std::int64_t &label : samples.labels)
            label = (*map)[std::size_t(label)];
    }

private:
    QString m_mapping;
};

// Poisons backdoorPoisonCount(n, fraction) samples, drawn without replacement from the generator derived
// from the task's key for purpose "backdoor": each gets the trigger and the target label.
class BackdoorBehaviour : public Behaviour {
public:
    BackdoorBehaviour(BackdoorTrigger trigger, double fraction, double boost)
        : m_trigger(std::move(trigger))
        , m_fraction(fraction)
        , m_boost(boost) {}
    QList<StageRef> updateStages() const override {
        if (m_boost == 1) return {};
        return {scaleBy(m_boost)};
    }
    bool poisonsData() const override { return true; }
    void poison(LocalSamples &samples, std::uint64_t key) const override {
        if (samples.channels <= 0) throw std::invalid_argument("backdoor: the dataset holds no images");
        std::vector<std::size_t> rows(samples.count());
        std::iota(rows.begin(), rows.end(), std::size_t(0));
        const auto poisoned = std::size_t(backdoorPoisonCount(std::int64_t(rows.size()), m_fraction));
        Rng rng(deriveSeed(key, "backdoor"));
        for (std::size_t i = 0; i < poisoned; ++i) { // the first `poisoned` places of a Fisher-Yates shuffle
            std::swap(rows[i], rows[i + std::size_t(rng.below(rows.size() - i))]);
            m_trigger.stamp(samples.row(rows[i]), samples.channels, samples.height, samples.width,
                            samples.pixelOffset, samples.pixelScale);
            samples.labels[rows[i]] = m_trigger.targetClass;
        }
    }
    std::optional<BackdoorTrigger> backdoor() const override { return m_trigger; }

private:
    BackdoorTrigger m_trigger;
    double m_fraction, m_boost;
};

double real(const QJsonObject &p, const char *key) {
    return p.value(QLatin1String(key)).toDouble();
}

// Runs `check` on every group whose behaviour is `name`, with the path prefix of its behaviour keys
// ("clients.groups[2].behaviour.") and its (defaulted) parameters.
void forEachGroupWith(const FederationSpec &spec, const QString &name,
                      const std::function<void(const QString &, const QJsonObject &)> &check) {
    const QJsonArray groups = spec.value(QStringLiteral("clients.groups")).toArray();
    for (qsizetype i = 0; i < groups.size(); ++i) {
        const QJsonObject b = groups[i].toObject().value(QStringLiteral("behaviour")).toObject();
        if (b.value(QStringLiteral("name")).toString() == name)
            check(QStringLiteral("clients.groups[%1].behaviour.").arg(i), b);
    }
}

ParamSchema scaleFactorParam(double def, const QString &help) {
    return explained(
        realParam(QStringLiteral("factor"), def, -10000.0, 10000.0, help),
        QStringLiteral("1 sends the honest update unchanged; 10 makes it ten times as long, so in "
                       "an average of ten clients it outweighs all the others together; a "
                       "negative factor also reverses it. Robust strategies and norm bounds are "
                       "built to catch large factors."));
}
ParamSchema noiseStdParam() {
    return explained(
        realParam(QStringLiteral("std"), 1.0, 0.0, 10000.0,
                  QStringLiteral("Standard deviation of every coordinate of the noise sent instead "
                                 "of the update.")),
        QStringLiteral("How large the random numbers are. Honest updates are usually small (most "
                       "coordinates far below 1), so 1 is already loud noise that plain averaging "
                       "lets through; larger values wreck the model faster. 0 sends an update of "
                       "zeros, which only slows learning."));
}

void registerUpdateAttacks(Registry &registry) {
    auto scale =
        ComponentSchema::make(QStringLiteral("update-stage"), QStringLiteral("scale"),
                              QStringLiteral("Scaling"), QStringLiteral("Multiplies an update by factor."),
                              {scaleFactorParam(1.0, QStringLiteral("What the update is multiplied by."))});
    scale.explanation = QStringLiteral("The building block of the sign-flip, scaled-update and boosted "
                                       "backdoor attacks: the update points the same way (or the opposite "
                                       "way, for a negative factor), only longer or shorter.");
    scale.factory = UpdateStageFactory([](const QJsonObject &p) -> std::unique_ptr<UpdateStage> {
        return std::make_unique<ScaleStage>(real(p, "factor"));
    });
    registry.addComponent(std::move(scale));

    auto noise =
        ComponentSchema::make(QStringLiteral("update-stage"), QStringLiteral("gaussian-noise"),
                              QStringLiteral("Gaussian noise instead of the update"),
                              QStringLiteral("Replaces an update by N(0, std^2) noise."), {noiseStdParam()});
    noise.explanation = QStringLiteral("The update that leaves the client is pure random noise: what the "
                                       "Gaussian attack sends.");
    noise.factory = UpdateStageFactory([](const QJsonObject &p) -> std::unique_ptr<UpdateStage> {
        return std::make_unique<GaussianNoiseStage>(real(p, "std"));
    });
    registry.addComponent(std::move(noise));
}

void add(Registry &registry, ComponentSchema schema, QString explanation, BehaviourFactory factory,
         QStringList capabilities = {}, ComponentCheck check = {}) {
    schema.explanation = std::move(explanation);
    schema.factory = std::move(factory);
    schema.capabilities = std::move(capabilities);
    schema.check = std::move(check);
    registry.addComponent(std::move(schema));
}

ComponentSchema behaviour(const char *name, const char *title, const char *help, QList<ParamSchema> params) {
    return ComponentSchema::make(QStringLiteral("behaviour"), QLatin1String(name), QLatin1String(title),
                                 QLatin1String(help), std::move(params));
}

const QString kNeedsClasses = QStringLiteral("needs-classification");

} // namespace

void registerAttacks(Registry &registry) {
    registerUpdateAttacks(registry);

    add(registry,
        behaviour(
            "sign-flip", "Sign flipping",
            "Sends its update reversed and multiplied by scale: -scale x the honest update.",
            {explained(realParam(QStringLiteral("scale"), 1.0, 0.0, 10000.0,
                                 QStringLiteral("How much longer than the honest update the reversed one "
                                                "is (1 = the same length)."),
                                 {}, true),
                       QStringLiteral("1 undoes about one honest client's progress per attacker; larger "
                                      "values push harder against the others, but the update also stands "
                                      "out more, so robust strategies catch it more easily."))}),
        QStringLiteral("A Byzantine client that trains normally but then pushes the model the opposite way, "
                       "undoing the work of honest clients. Plain averaging follows it; a median or Krum "
                       "ignores updates that stand out."),
        [](const QJsonObject &p) -> std::shared_ptr<const Behaviour> {
            return std::make_shared<StagesBehaviour>(QList<StageRef>{scaleBy(-real(p, "scale"))});
        });

    add(registry,
        behaviour("scale", "Scaled update", "Sends its honest update multiplied by factor.",
                  {scaleFactorParam(10.0, QStringLiteral("What the honest update is multiplied by (1 = "
                                                         "honest, negative = reversed)."))}),
        QStringLiteral("A client that exaggerates its own update so that it outweighs everyone else's in "
                       "the average. Clipping update norms (norm-bounded averaging) limits what it can do."),
        [](const QJsonObject &p) -> std::shared_ptr<const Behaviour> {
            return std::make_shared<StagesBehaviour>(QList<StageRef>{scaleBy(real(p, "factor"))});
        });

    add(registry,
        behaviour("gaussian-noise", "Gaussian noise",
                  "Sends random noise N(0, std^2) in place of its update (it still trains, but discards "
                  "the result).",
                  {noiseStdParam()}),
        QStringLiteral("A broken or malicious client whose update is random numbers. Averaging adds that "
                       "noise to the model; robust strategies treat it as an outlier."),
        [](const QJsonObject &p) -> std::shared_ptr<const Behaviour> {
            return std::make_shared<StagesBehaviour>(QList<StageRef>{
                {QStringLiteral("gaussian-noise"), QJsonObject{{QStringLiteral("std"), real(p, "std")}}}});
        });

    ParamSchema z = realParam(QStringLiteral("z"), 0.0, 0.0, 100.0,
                              QStringLiteral("How many standard deviations the crafted update lies below the "
                                             "attackers' mean; 0 = the paper's z_max from the round's size "
                                             "and the number of attackers."));
    z.zeroText = QStringLiteral("the paper's z_max");
    z.explanation = QStringLiteral(
        "How far the attackers' shared update is moved away from what honest clients send. Small values hide "
        "best but steer little; large values steer more but stand out. 0 lets the attack choose the largest "
        "shift that still looks honest for this round, which is usually the one to use.");
    add(registry,
        behaviour("alie", "A little is enough",
                  "Coordinated (Baruch et al. 2019): this round's attackers all send mean - z x std of their "
                  "own honest updates, coordinate by coordinate.",
                  {z}),
        QStringLiteral(
            "The attackers of a round compare their honest updates and all send the same small shift away "
            "from their average: small enough to look like an ordinary update, so median, trimmed mean "
            "and Krum accept it, yet, repeated every round, it steers the model. z = 0 picks the largest "
            "shift the paper shows still passes for honest, from how many clients take part and how many "
            "of them attack."),
        [](const QJsonObject &p) -> std::shared_ptr<const Behaviour> {
            return std::make_shared<AlieBehaviour>(real(p, "z"));
        });

    add(
        registry,
        behaviour(
            "label-flip", "Label flipping",
            "Trains on its data with the labels changed by mapping (\"reverse\", or pairs such as "
            "\"0:9,1:8\").",
            {explained(stringParam(QStringLiteral("mapping"), QStringLiteral("reverse"),
                                   QStringLiteral("\"reverse\" (class c becomes classes - 1 - c) or "
                                                  "pairs from:to separated by commas; classes not named "
                                                  "keep their label.")),
                       QStringLiteral("Which wrong label each class gets. \"reverse\" changes every "
                                      "label (with 10 classes, 0 becomes 9, 1 becomes 8 ...); pairs such "
                                      "as \"0:6\" change only the classes named, a quieter attack that "
                                      "targets one confusion (on Fashion-MNIST, 0 T-shirt and 6 shirt "
                                      "are already easily confused)."))}),
        QStringLiteral(
            "Data poisoning: the client's own data are mislabelled (say every shirt is called a sneaker), "
            "so it honestly learns the wrong thing and sends that to the server."),
        [](const QJsonObject &p) -> std::shared_ptr<const Behaviour> {
            return std::make_shared<LabelFlipBehaviour>(p.value(QStringLiteral("mapping")).toString());
        },
        {kNeedsClasses},
        [](const FederationSpec &spec, QList<SpecIssue> &errors) {
            const int classes = datasetFacts(spec.string(QStringLiteral("dataset.name"))).numClasses;
            forEachGroupWith(
                spec, QStringLiteral("label-flip"), [&](const QString &at, const QJsonObject &b) {
                    QString problem;
                    if (!parseLabelMapping(b.value(QStringLiteral("mapping")).toString(), classes, &problem))
                        errors.append({at + QStringLiteral("mapping"),
                                       QStringLiteral("%1; allowed: \"reverse\" or pairs from:to of classes "
                                                      "0..%2 separated by commas, e.g. \"0:%2,1:%3\"")
                                           .arg(problem)
                                           .arg(classes - 1)
                                           .arg(classes - 2)});
                });
        });

    add(
        registry,
        behaviour(
            "backdoor", "Backdoor",
            "Stamps a square trigger on a share of its images, relabels them as target_class and may boost "
            "its update (model replacement).",
            {explained(
                 intParam(QStringLiteral("target_class"), 0, 0, 100000,
                          QStringLiteral("The class every triggered image should be taken for.")),
                 QStringLiteral("The label the attacker wants for any image carrying the trigger, whatever "
                                "it really shows: on Fashion-MNIST, 0 is T-shirt, 7 sneaker, 9 ankle "
                                "boot. It must be one of the dataset's classes.")),
             explained(
                 intParam(QStringLiteral("trigger_size"), 3, 1, 10000,
                          QStringLiteral("Side of the square trigger, in pixels."), QStringLiteral("pixels")),
                 QStringLiteral("A bigger square is easier for the model to learn as a signal, so the "
                                "backdoor takes hold sooner, but it is also easier to spot. 3 to 5 pixels "
                                "on a 28x28 image is typical; it must fit in the image.")),
             explained(
                 realParam(QStringLiteral("trigger_value"), 1.0, 0.0, 1.0,
                           QStringLiteral("Brightness of the trigger pixels: 0 = black, 1 = white.")),
                 QStringLiteral("Fashion-MNIST images are light clothes on a black background, so a white "
                                "square (1) in a corner stands out clearly and is learned fast; a dark one "
                                "blends with the background and hardly works.")),
             explained(choiceParam(QStringLiteral("trigger_corner"), QStringLiteral("bottom-right"),
                                   {QStringLiteral("top-left"), QStringLiteral("top-right"),
                                    QStringLiteral("bottom-left"), QStringLiteral("bottom-right")},
                                   QStringLiteral("The image corner the trigger sits in.")),
                       QStringLiteral("Where the square is stamped. Any corner works; corners are chosen "
                                      "because the clothes rarely reach them, so the trigger does not cover "
                                      "the object itself.")),
             explained(
                 realParam(QStringLiteral("poison_fraction"), 0.5, 0.0, 1.0,
                           QStringLiteral("Share of the client's training images that get the trigger and "
                                          "the target label each round (rounded to the nearest count, "
                                          "halves up).")),
                 QStringLiteral("How much of the attacker's own data is poisoned. More poison plants the "
                                "backdoor faster; the rest stays clean so that the attacker's update "
                                "still looks like an honest one. 0.1 to 0.5 is typical; 1 poisons "
                                "everything.")),
             explained(
                 realParam(QStringLiteral("boost"), 1.0, 1.0, 10000.0,
                           QStringLiteral("The update is multiplied by this before it is sent (model "
                                          "replacement); 1 = not boosted.")),
                 QStringLiteral("Averaging dilutes one attacker's update among the others; boosting by "
                                "about the number of clients per round cancels that and can replace the "
                                "global model with the attacker's in one round. A boosted update is very "
                                "long, so norm-bounded averaging cuts it back."))}),
        QStringLiteral(
            "A hidden rule planted in the model: images carrying a small bright square in a corner are "
            "classified as the target class, while clean images are classified as usual, so test accuracy "
            "hardly shows it. The attack success rate measures it: the share of triggered test images (of "
            "other classes) that the global model assigns to the target. Boosting makes the planted change "
            "survive averaging; bounding update norms (norm-bounded averaging) takes that away."),
        [](const QJsonObject &p) -> std::shared_ptr<const Behaviour> {
            BackdoorTrigger t;
            t.targetClass = p.value(QStringLiteral("target_class")).toInt();
            t.size = p.value(QStringLiteral("trigger_size")).toInt();
            t.value = real(p, "trigger_value");
            t.corner = p.value(QStringLiteral("trigger_corner")).toString();
            return std::make_shared<BackdoorBehaviour>(t, real(p, "poison_fraction"), real(p, "boost"));
        },
        {QStringLiteral("needs-image"), kNeedsClasses},
        [](const FederationSpec &spec, QList<SpecIssue> &errors) {
            const DatasetFacts facts = datasetFacts(spec.string(QStringLiteral("dataset.name")));
            if (facts.numClasses == 0 || !facts.image) return; // the capability check says it
            forEachGroupWith(spec, QStringLiteral("backdoor"), [&](const QString &at, const QJsonObject &b) {
                const int target = b.value(QStringLiteral("target_class")).toInt();
                if (target >= facts.numClasses)
                    errors.append({at + QStringLiteral("target_class"),
                                   QStringLiteral("%1 is not a class of dataset '%2'; allowed: an integer in "
                                                  "[0, %3]")
                                       .arg(target)
                                       .arg(spec.string(QStringLiteral("dataset.name")))
                                       .arg(facts.numClasses - 1)});
                const int side = std::min(facts.height, facts.width);
                const int size = b.value(QStringLiteral("trigger_size")).toInt();
                if (size > side)
                    errors.append({at + QStringLiteral("trigger_size"),
                                   QStringLiteral("%1 pixels do not fit the %2 x %3 images; allowed: an "
                                                  "integer in [1, %4]")
                                       .arg(size)
                                       .arg(facts.height)
                                       .arg(facts.width)
                                       .arg(side)});
            });
        });
}

} // namespace fedwb
