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
            if (!c.explanation.isEmpty()) out << "      " << c.explanation << "\n";
            writeParams(out, c.params, QStringLiteral("  ") + at + QLatin1Char('.'));
        }
    };
    out << "FedWorkbench workspace reference (format 1)\n";
    for (const SectionSchema &s : m_sections) {
        out << "\n[" << s.key << "]  " << s.help << "\n";
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
        return intParam(
            QStringLiteral("seed"), -1, -1, 4294967295,
            QStringLiteral("Seed of the %1; -1 = run.seed. Fix it to repeat training seeds over the same %1.")
                .arg(what),
            {}, {});
    };
    r.addSection({QStringLiteral("dataset"),
                  QStringLiteral("dataset"),
                  QStringLiteral("The data the federation learns from."),
                  {choiceParam(QStringLiteral("name"), QStringLiteral("fashion-mnist"), {},
                               QStringLiteral("Which dataset.")),
                   seedParam(QStringLiteral("generated data"))}});
    r.addSection(
        {QStringLiteral("partition"),
         QStringLiteral("partitioner"),
         QStringLiteral("How the training data is split over the clients."),
         {choiceParam(QStringLiteral("name"), QStringLiteral("iid"), {},
                      QStringLiteral("Which partitioner.")),
          intParam(QStringLiteral("min_samples"), 10, 2, 1000000,
                   QStringLiteral("Every client gets at least this many samples (train + local test)."),
                   QStringLiteral("samples")),
          realParam(
              QStringLiteral("test_fraction"), 0.1, 0.0, 0.9,
              QStringLiteral("Share of each client's samples kept as its local test split (at least one "
                             "sample per client)."),
              {}, true),
          seedParam(QStringLiteral("partition"))}});
    ParamSchema perRound;
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
    r.addSection({QStringLiteral("clients"),
                  {},
                  QStringLiteral("The client population."),
                  {intParam(QStringLiteral("count"), 10, 1, 100000, QStringLiteral("Number of clients."),
                            QStringLiteral("clients")),
                   perRound, sampling, groups}});
    r.addSection({QStringLiteral("model"),
                  QStringLiteral("model"),
                  QStringLiteral("The model every client trains."),
                  {choiceParam(QStringLiteral("name"), QStringLiteral("cnn-lenet5"), {},
                               QStringLiteral("Which model."))}});
    r.addSection(
        {QStringLiteral("training"),
         {},
         QStringLiteral("Local training on each selected client."),
         {intParam(QStringLiteral("epochs"), 1, 1, 1000, QStringLiteral("Local epochs per round."),
                   QStringLiteral("epochs")),
          intParam(QStringLiteral("batch_size"), 32, 1, 65536, QStringLiteral("Mini-batch size."),
                   QStringLiteral("samples")),
          choiceParam(QStringLiteral("optimizer"), QStringLiteral("sgd"),
                      {QStringLiteral("sgd"), QStringLiteral("adam")},
                      QStringLiteral("Local optimizer (state is reset every round).")),
          realParam(QStringLiteral("lr"), 0.05, 0.0, 10.0, QStringLiteral("Learning rate."), {}, true),
          realParam(QStringLiteral("lr_decay"), 1.0, 0.0, 1.0,
                    QStringLiteral("Learning rate of round r = lr * lr_decay^(r-1); 1 = constant."), {},
                    true),
          realParam(QStringLiteral("momentum"), 0.0, 0.0, 0.999, QStringLiteral("SGD momentum (sgd only).")),
          boolParam(QStringLiteral("nesterov"), false,
                    QStringLiteral("Nesterov momentum (sgd with momentum > 0 only).")),
          realParam(QStringLiteral("weight_decay"), 0.0, 0.0, 1.0, QStringLiteral("L2 weight decay."))}});
    r.addSection({QStringLiteral("strategy"),
                  QStringLiteral("strategy"),
                  QStringLiteral("How the server combines client updates."),
                  {choiceParam(QStringLiteral("name"), QStringLiteral("fedavg"), {},
                               QStringLiteral("Which aggregation strategy."))}});
    r.addSection(
        {QStringLiteral("run"),
         {},
         QStringLiteral("The round loop."),
         {intParam(QStringLiteral("rounds"), 10, 1, 100000, QStringLiteral("Number of federated rounds."),
                   QStringLiteral("rounds")),
          intParam(QStringLiteral("seed"), 1, 0, 4294967295,
                   QStringLiteral("Seed of every random draw in the run.")),
          intParam(QStringLiteral("eval_every"), 1, 1, 100000,
                   QStringLiteral("Evaluate every N rounds (and always after the last)."),
                   QStringLiteral("rounds")),
          intParam(
              QStringLiteral("threads"), 0, 0, 256,
              QStringLiteral("Clients trained in parallel; 0 = one per CPU core. Never changes results."),
              QStringLiteral("threads"), QStringLiteral("one per core")),
          intParam(QStringLiteral("checkpoint_every"), 1, 1, 100000,
                   QStringLiteral("Store everything needed to continue the run every N rounds (and "
                                  "after the last)."),
                   QStringLiteral("rounds")),
          intParam(QStringLiteral("checkpoints_kept"), 2, 1, 1000,
                   QStringLiteral("How many of the newest checkpoints the store keeps."),
                   QStringLiteral("checkpoints")),
          intParam(QStringLiteral("personalize_steps"), 0, 0, 100000,
                   QStringLiteral("Personalized accuracy: each client fine-tunes the global model for N "
                                  "local steps before its local evaluation; 0 = off."),
                   QStringLiteral("steps"), QStringLiteral("off")),
          boolParam(
              QStringLiteral("portable"), false,
              QStringLiteral("Pin the CPU kernels (ATen AVX2, OpenBLAS Haswell, one intra-op thread) so "
                             "that every x86-64 machine with AVX2 computes the same bits; slower."))}});
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
