#include "spec/Registry.h"

#include "adversary/Behaviour.h"
#include "data/DatasetFacts.h"
#include "data/Partitioner.h"
#include "model/ModelFacts.h"
#include "privacy/CentralDp.h"
#include "privacy/SecureAggregation.h"
#include "strategy/Strategy.h"
#include "strategy/UpdateStage.h"
#include "train/ClientAlgorithms.h"

#include <QJsonArray>
#include <QTextStream>

#include <mutex>

namespace fedwb {

Registry &Registry::global() {
    static Registry registry;
    return registry;
}

void Registry::addComponent(ComponentSchema schema) {
    QList<ComponentSchema> &list = m_components[schema.category];
    for (ComponentSchema &c : list) {
        if (c.name == schema.name) {
            c = std::move(schema);
            return;
        }
    }
    list.append(std::move(schema));
    // Keep every section's selector choices in step with the registered components.
    for (SectionSchema &s : m_sections) {
        if (s.category.isEmpty()) continue;
        for (ParamSchema &p : s.params)
            if (p.key == QLatin1String("name")) p.choices = componentNames(s.category);
    }
}

void Registry::addSection(SectionSchema schema) {
    if (!schema.category.isEmpty()) {
        for (ParamSchema &p : schema.params)
            if (p.key == QLatin1String("name")) p.choices = componentNames(schema.category);
    }
    for (SectionSchema &s : m_sections) {
        if (s.key == schema.key) {
            s = std::move(schema);
            return;
        }
    }
    m_sections.append(std::move(schema));
}

const ComponentSchema *Registry::component(const QString &category, const QString &name) const {
    const auto it = m_components.constFind(category);
    if (it == m_components.constEnd()) return nullptr;
    for (const ComponentSchema &c : *it)
        if (c.name == name) return &c;
    return nullptr;
}

QStringList Registry::componentNames(const QString &category) const {
    QStringList names;
    for (const ComponentSchema &c : m_components.value(category))
        names.append(c.name);
    return names;
}

QStringList Registry::categories() const {
    return m_components.keys();
}

const SectionSchema *Registry::section(const QString &key) const {
    for (const SectionSchema &s : m_sections)
        if (s.key == key) return &s;
    return nullptr;
}

QJsonObject Registry::toJson() const {
    QJsonArray sections;
    for (const SectionSchema &s : m_sections) {
        QJsonArray params;
        for (const ParamSchema &p : s.params)
            params.append(p.toJson());
        QJsonObject o{{QStringLiteral("key"), s.key},
                      {QStringLiteral("help"), s.help},
                      {QStringLiteral("params"), params}};
        if (!s.category.isEmpty()) o.insert(QStringLiteral("component_category"), s.category);
        if (!s.explanation.isEmpty()) o.insert(QStringLiteral("explanation"), s.explanation);
        sections.append(o);
    }
    QJsonObject components;
    for (auto it = m_components.constBegin(); it != m_components.constEnd(); ++it) {
        QJsonArray list;
        for (const ComponentSchema &c : *it)
            list.append(c.toJson());
        components.insert(it.key(), list);
    }
    return {{QStringLiteral("format"), 1},
            {QStringLiteral("sections"), sections},
            {QStringLiteral("components"), components}};
}

namespace {

// A paragraph of plain-language text, wrapped at 110 columns below `indent` spaces.
void writeWrapped(QTextStream &out, const QString &text, int indent) {
    const QString pad(indent, QLatin1Char(' '));
    QString line;
    for (const QString &word : text.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        if (!line.isEmpty() && pad.size() + line.size() + 1 + word.size() > 110) {
            out << pad << line << "\n";
            line.clear();
        }
        line += (line.isEmpty() ? QString() : QStringLiteral(" ")) + word;
    }
    if (!line.isEmpty()) out << pad << line << "\n";
}

void writeParams(QTextStream &out, const QList<ParamSchema> &params, const QString &prefix) {
    for (const ParamSchema &p : params) {
        QString def = p.defaultValue.isArray()    ? QStringLiteral("[]")
                      : p.defaultValue.isString() ? p.defaultValue.toString()
                      : p.defaultValue.isBool()
                          ? (p.defaultValue.toBool() ? QStringLiteral("true") : QStringLiteral("false"))
                          : QString::number(p.defaultValue.toDouble(), 'g', 12);
        out << "  " << prefix << p.key << "  (" << paramTypeName(p.type) << ", default " << def;
        if (!p.unit.isEmpty()) out << " " << p.unit;
        out << ")\n      " << p.help << "\n      allowed: " << p.allowedText() << "\n";
        if (!p.explanation.isEmpty()) writeWrapped(out, p.explanation, 8);
    }
}

} // namespace

QString Registry::toText() const {
    QString text;
    QTextStream out(&text);
    // Every component of `category`, selected by the key `at`.name.
    const auto writeComponents = [&](const QString &category, const QString &at) {
        for (const ComponentSchema &c : m_components.value(category)) {
            out << "\n  " << at << ".name = " << c.name << ": " << c.title << " - " << c.help << "\n";
            if (!c.explanation.isEmpty()) writeWrapped(out, c.explanation, 6);
            writeParams(out, c.params, QStringLiteral("  ") + at + QLatin1Char('.'));
        }
    };
    out << "FedWorkbench workspace reference (format 1)\n";
    for (const SectionSchema &s : m_sections) {
        out << "\n[" << s.key << "]  " << s.help << "\n";
        if (!s.explanation.isEmpty()) writeWrapped(out, s.explanation, 4);
        writeParams(out, s.params, s.key + QLatin1Char('.'));
        if (!s.category.isEmpty()) writeComponents(s.category, s.key);
        if (s.key == QLatin1String("clients")) { // each group names a behaviour inside clients.groups
            out << "\n[clients.groups[i].behaviour]  How the clients of group i act: honest, dropping out, "
                   "or an attack (default honest).\n";
            writeComponents(QStringLiteral("behaviour"), QStringLiteral("clients.groups[i].behaviour"));
        }
    }
    return text;
}

namespace {

void registerSections(Registry &r) {
    const auto seedParam = [](const QString &what) {
        return explained(
            intParam(
                QStringLiteral("seed"), -1, -1, 4294967295,
                QStringLiteral("Seed of the %1; -1 = run.seed. Fix it to repeat training seeds over the same "
                               "%1.")
                    .arg(what),
                {}, {}),
            QStringLiteral(
                "A seed is the starting number of the random draws: the same seed gives exactly the "
                "same %1 again. Leave it at -1 to follow run.seed, so that changing run.seed "
                "changes everything. Set a number of its own to keep the %1 fixed while run.seed "
                "varies, to tell apart the effect of the training's randomness from that of the "
                "%1.")
                .arg(what));
    };
    r.addSection({QStringLiteral("dataset"),
                  QStringLiteral("dataset"),
                  QStringLiteral("The data the federation learns from."),
                  {choiceParam(QStringLiteral("name"), QStringLiteral("fashion-mnist"), {},
                               QStringLiteral("Which dataset.")),
                   seedParam(QStringLiteral("generated data"))},
                  {},
                  QStringLiteral(
                      "What the clients learn from. In a real federation the data never leave the devices; "
                      "here one dataset is loaded and shared out over simulated clients (see the partition). "
                      "Start with Fashion-MNIST for images; the generated datasets are small and fast, and "
                      "show particular effects such as client drift.")});
    r.addSection(
        {QStringLiteral("partition"),
         QStringLiteral("partitioner"),
         QStringLiteral("How the training data is split over the clients."),
         {choiceParam(QStringLiteral("name"), QStringLiteral("iid"), {},
                      QStringLiteral("Which partitioner.")),
          explained(
              intParam(QStringLiteral("min_samples"), 10, 2, 1000000,
                       QStringLiteral("Every client gets at least this many samples (train + local test)."),
                       QStringLiteral("samples")),
              QStringLiteral("Skewed splits can leave a client with almost nothing; this floor makes sure "
                             "every client has enough to train on and to test with (the split is redrawn, or "
                             "topped up from the biggest clients). clients.count times this must fit in the "
                             "training data, or the run stops with an error. 10 to 50 is typical.")),
          explained(
              realParam(QStringLiteral("test_fraction"), 0.1, 0.0, 0.9,
                        QStringLiteral("Share of each client's samples kept as its local test split (at "
                                       "least one sample per client)."),
                        {}, true),
              QStringLiteral("Every client holds back part of its data, never trains on it, and uses it to "
                             "measure how well a model serves that client: the per-client and personalized "
                             "accuracies come from it. 0.1 to 0.2 is usual; more gives steadier per-client "
                             "numbers but leaves less to train on.")),
          seedParam(QStringLiteral("partition"))},
         {},
         QStringLiteral(
             "How the dataset is divided into the clients' private datasets, and so how different the "
             "clients are. An IID split makes every client a small copy of the whole; skewed splits give "
             "clients different classes or very different amounts of data. Such differences (non-IID data) "
             "are what makes federated learning harder than ordinary training: compare strategies on a "
             "skewed split, not only on IID.")});
    ParamSchema perRound;
    perRound.explanation = QStringLiteral(
        "Real federations ask only some of their clients each round: devices are busy, offline or "
        "expensive to reach. Fewer clients per round makes each round cheaper but noisier; robust strategies "
        "(Krum, Bulyan) need a minimum number. Give a count (5) or a share of clients.count (0.1 = 10 % of "
        "them); 5 to 20 clients per round is common in experiments.");
    perRound.key = QStringLiteral("per_round");
    perRound.type = ParamType::CountOrFraction;
    perRound.defaultValue = 10;
    perRound.min = 0;
    perRound.max = 100000;
    perRound.help = QStringLiteral(
        "Clients selected each round: a count (>= 1), or a fraction of clients.count in (0, 1). "
        "When not set: 10, or clients.count if smaller.");
    ParamSchema sampling = choiceParam(
        QStringLiteral("sampling"), QStringLiteral("fixed"),
        {QStringLiteral("fixed"), QStringLiteral("poisson")},
        QStringLiteral("fixed: exactly clients.per_round clients each round; poisson: each client takes part "
                       "independently with probability clients.per_round (as a fraction of clients.count)."));
    sampling.explanation = QStringLiteral("Real federations rarely hear from the same number of devices "
                                          "every round. With Poisson sampling every "
                                          "client flips its own biased coin each round, so some rounds have "
                                          "more clients, some fewer (even none: "
                                          "the model then stays as it is). It is also the sampling that "
                                          "differential-privacy accounting assumes.");
    ParamSchema groups;
    groups.key = QStringLiteral("groups");
    groups.type = ParamType::GroupList;
    groups.defaultValue = QJsonArray();
    groups.max = 100000;
    groups.help = QStringLiteral("Client groups in id order, each {name, count | fraction of clients.count, "
                                 "optional epochs, optional behaviour, optional privacy}; they must "
                                 "add up to clients.count. Empty: one group 'clients' holding all.");
    groups.explanation = QStringLiteral(
        "A federation is rarely uniform: phones and servers, careful and careless users, attackers. Groups "
        "split the clients into named parts that can differ: local epochs, behaviour (honest, dropping out, "
        "or an attack) and local privacy.");
    r.addSection(
        {QStringLiteral("clients"),
         {},
         QStringLiteral("The client population."),
         {explained(intParam(QStringLiteral("count"), 10, 1, 100000, QStringLiteral("Number of clients."),
                             QStringLiteral("clients")),
                    QStringLiteral("How many devices (phones, hospitals, ...) hold a part of the data. More "
                                   "clients means less data each, which makes every client's own update "
                                   "noisier. With client groups, the groups' sizes must add up to this "
                                   "number.")),
          perRound, sampling, groups},
         {},
         QStringLiteral("The clients are the participants that keep their data and train locally. Here you "
                        "set how many there are, how many the server picks for each round and how they are "
                        "picked. Groups split them into kinds of clients that behave differently: honest "
                        "ones, unreliable ones that drop out, or attackers.")});
    r.addSection(
        {QStringLiteral("model"),
         QStringLiteral("model"),
         QStringLiteral("The model every client trains."),
         {choiceParam(QStringLiteral("name"), QStringLiteral("cnn-lenet5"), {},
                      QStringLiteral("Which model."))},
         {},
         QStringLiteral("The neural network the federation trains together. Each round the server sends the "
                        "current global model to the selected clients; each trains its copy on its own data "
                        "and sends back only the change. Bigger models can learn more but take longer per "
                        "round and send more data; image models need an image dataset.")});
    r.addSection(
        {QStringLiteral("training"),
         {},
         QStringLiteral("Local training on each selected client."),
         {explained(intParam(QStringLiteral("epochs"), 1, 1, 1000, QStringLiteral("Local epochs per round."),
                             QStringLiteral("epochs")),
                    QStringLiteral("An epoch is one pass of a client over all of its training data. More "
                                   "epochs per round means more progress per round (fewer rounds, less "
                                   "communication) but, when the clients' data differ, each client drifts "
                                   "towards its own data and the average gets worse. 1 to 5 is typical.")),
          explained(
              intParam(QStringLiteral("batch_size"), 32, 1, 65536, QStringLiteral("Mini-batch size."),
                       QStringLiteral("samples")),
              QStringLiteral("A client updates its model after every batch of this many samples. Small "
                             "batches give more (noisier) steps per epoch; large batches fewer, smoother "
                             "ones that run faster per sample. 16 to 64 is typical; a client with fewer "
                             "samples than this trains on one smaller batch.")),
          explained(
              choiceParam(QStringLiteral("optimizer"), QStringLiteral("sgd"),
                          {QStringLiteral("sgd"), QStringLiteral("adam")},
                          QStringLiteral("Local optimizer (state is reset every round).")),
              QStringLiteral("The rule a client uses to change its model from the gradient. Plain SGD "
                             "(optionally with momentum) is what most federated learning papers use and "
                             "works well with learning rates around 0.01 to 0.1. Adam adapts the step of "
                             "every parameter and wants a much smaller learning rate (around 0.001).")),
          explained(
              realParam(QStringLiteral("lr"), 0.05, 0.0, 10.0, QStringLiteral("Learning rate."), {}, true),
              QStringLiteral("How big a step a client takes after each batch. Too small and training "
                             "crawls; too large and the loss jumps around or the run diverges (it then "
                             "stops and says so). Try 0.01 to 0.1 with SGD and 0.0001 to 0.003 with "
                             "Adam, and change it by factors of 3 to 10 when tuning.")),
          explained(
              realParam(QStringLiteral("lr_decay"), 1.0, 0.0, 1.0,
                        QStringLiteral("Learning rate of round r = lr * lr_decay^(r-1); 1 = constant."), {},
                        true),
              QStringLiteral("Shrinks the learning rate a little every round, so early rounds make fast "
                             "progress and late rounds settle instead of bouncing around. 0.95 to 0.99 "
                             "is gentle; after 50 rounds, 0.95 leaves about 8 % of the starting rate.")),
          explained(
              realParam(QStringLiteral("momentum"), 0.0, 0.0, 0.999,
                        QStringLiteral("SGD momentum (sgd only).")),
              QStringLiteral("With momentum a client keeps moving partly in the direction of its "
                             "previous steps, which speeds up training and smooths noisy batches. 0.9 is "
                             "the usual value; 0 is plain SGD. The momentum starts from zero every "
                             "round.")),
          explained(boolParam(QStringLiteral("nesterov"), false,
                              QStringLiteral("Nesterov momentum (sgd with momentum > 0 only).")),
                    QStringLiteral("A variant of momentum that looks one step ahead before correcting; it "
                                   "often converges slightly faster and more smoothly. It only has an effect "
                                   "with momentum above 0.")),
          explained(
              realParam(QStringLiteral("weight_decay"), 0.0, 0.0, 1.0, QStringLiteral("L2 weight decay.")),
              QStringLiteral("Pulls every weight slightly towards zero at each step, which keeps the "
                             "model simple and can reduce overfitting to a client's small dataset. "
                             "Typical values are 0.0001 to 0.001; large values stop the model from "
                             "learning."))},
         {},
         QStringLiteral("What each selected client does with the model it receives: ordinary mini-batch "
                        "training on its own data for a few epochs, after which it sends back how its model "
                        "changed. More local work per round saves rounds, but clients whose data differ then "
                        "pull the model in different directions.")});
    r.addSection(
        {QStringLiteral("strategy"),
         QStringLiteral("strategy"),
         QStringLiteral("How the server combines client updates."),
         {choiceParam(QStringLiteral("name"), QStringLiteral("fedavg"), {},
                      QStringLiteral("Which aggregation strategy."))},
         {},
         QStringLiteral("How the server turns the clients' updates into the next global model. FedAvg, the "
                        "weighted average, is the baseline. Other strategies add server momentum or adaptive "
                        "steps, resist malicious clients (Krum, median, trimmed mean), correct for clients "
                        "whose data differ (FedProx, SCAFFOLD, FedNova) or give every client a personal "
                        "model (FedBN, FedPer, Ditto).")});
    r.addSection(
        {QStringLiteral("run"),
         {},
         QStringLiteral("The round loop."),
         {explained(intParam(QStringLiteral("rounds"), 10, 1, 100000,
                             QStringLiteral("Number of federated rounds."), QStringLiteral("rounds")),
                    QStringLiteral("A round is one exchange: the server sends the model to the selected "
                                   "clients, they train and send back their updates, and the server combines "
                                   "them. Accuracy usually rises quickly over the first rounds and then "
                                   "flattens; try 20 to 50 first and watch the curve before running "
                                   "hundreds.")),
          explained(
              intParam(QStringLiteral("seed"), 1, 0, 4294967295,
                       QStringLiteral("Seed of every random draw in the run.")),
              QStringLiteral("Every random choice (the data split, the model's starting weights, which "
                             "clients are picked, the batches, the noise) is derived from this number, "
                             "so the same workspace with the same seed gives the same result again. Run "
                             "a few different seeds to see how much of a difference between two "
                             "settings is luck.")),
          explained(intParam(QStringLiteral("eval_every"), 1, 1, 100000,
                             QStringLiteral("Evaluate every N rounds (and always after the last)."),
                             QStringLiteral("rounds")),
                    QStringLiteral("Measuring the global model on the test data takes time. 1 gives a point "
                                   "on the accuracy curve after every round; with many cheap rounds, 5 or 10 "
                                   "saves time. Training itself does not change.")),
          explained(
              intParam(QStringLiteral("threads"), 0, 0, 256,
                       QStringLiteral("Clients trained in parallel; 0 = one per CPU core. Never changes "
                                      "results."),
                       QStringLiteral("threads"), QStringLiteral("one per core")),
              QStringLiteral(
                  "How many clients this computer trains at the same time. Leave it at 0 to use "
                  "every core; lower it to keep the machine responsive for other work. The results "
                  "are the same for any number.")),
          explained(
              intParam(QStringLiteral("checkpoint_every"), 1, 1, 100000,
                       QStringLiteral("Store everything needed to continue the run every N rounds (and "
                                      "after the last)."),
                       QStringLiteral("rounds")),
              QStringLiteral("A checkpoint lets a stopped or crashed run continue where it was instead of "
                             "starting over. Writing one takes a moment and disk space (about the "
                             "model's size, more for strategies that keep state per client); every round "
                             "is fine for small models, every 5 or 10 rounds for big ones.")),
          explained(intParam(QStringLiteral("checkpoints_kept"), 2, 1, 1000,
                             QStringLiteral("How many of the newest checkpoints the store keeps."),
                             QStringLiteral("checkpoints")),
                    QStringLiteral("Older checkpoints are deleted to save space. Continuing needs only the "
                                   "newest; keeping 2 leaves a spare in case the last write was cut short.")),
          explained(intParam(QStringLiteral("personalize_steps"), 0, 0, 100000,
                             QStringLiteral("Personalized accuracy: each client fine-tunes the global model "
                                            "for N local steps before its local evaluation; 0 = off."),
                             QStringLiteral("steps"), QStringLiteral("off")),
                    QStringLiteral(
                        "Measures how good the global model is as a starting point: every client "
                        "trains a copy for a few batches on its own data and is then tested on its "
                        "own test split. With very different clients this personalized accuracy is often "
                        "higher than the global one. 5 to 20 steps is enough; it only costs "
                        "time at evaluation.")),
          explained(
              boolParam(
                  QStringLiteral("portable"), false,
                  QStringLiteral("Pin the CPU kernels (ATen AVX2, OpenBLAS Haswell, one intra-op "
                                 "thread) so that every x86-64 machine with AVX2 computes the same bits; "
                                 "slower.")),
              QStringLiteral("Different processors may round floating-point sums slightly differently, so a "
                             "run can end with slightly different numbers on another machine. Turn this on "
                             "when results must match bit for bit across computers (for example a cluster "
                             "of workers); it makes training slower."))},
         {},
         QStringLiteral("The round loop itself: how many rounds to run, the seed that makes a run "
                        "repeatable, how often the global model is tested and saved, and how much of this "
                        "computer to use.")});
}

} // namespace

void registerBuiltins() {
    static std::once_flag once;
    std::call_once(once, [] {
        Registry &r = Registry::global();
        registerSections(r);
        registerDatasets();
        registerPartitioners();
        registerModels();
        registerStrategies();
        privacy::registerPrivacy(r);
        registerBehaviours(r);
        privacy::registerSecureAggregation(r);
        registerUpdateStages();
        registerClientAlgorithms();
    });
}

} // namespace fedwb
