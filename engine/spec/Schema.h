// Parameter schemas: the one description of every configurable value. GUI forms, CLI --set validation,
// workspace validation messages and the `fedwb-cli schema` reference are all generated from these.
#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include <any>
#include <functional>
#include <limits>

namespace fedwb {

enum class ParamType {
    Integer,         // whole number within [min, max]
    Real,            // floating-point number within [min, max] (min may be exclusive)
    Boolean,         // true / false
    String,          // free text (paths, names)
    Choice,          // one of `choices`
    CountOrFraction, // a whole count >= 1, or a fraction in (0, 1)
    GroupList,       // client groups: [{"name": ..., "count": N | "fraction": f, "epochs": E (optional),
                     //   "behaviour": {"name": ..., params} (optional), "privacy": {overrides} (optional)}]
};

QString paramTypeName(ParamType type);

struct SpecIssue {
    QString path;    // "partition.alpha"
    QString message; // "-1 is out of range; allowed: a number in (0, 1000000]"
    QString text() const { return path.isEmpty() ? message : path + QStringLiteral(": ") + message; }
};

class FederationSpec;

// A component's own cross-field rule, run on the normalized workspace when the component is selected.
using ComponentCheck = std::function<void(const FederationSpec &spec, QList<SpecIssue> &errors)>;

struct ParamSchema {
    QString key;
    ParamType type = ParamType::Real;
    QJsonValue defaultValue;
    double min = -std::numeric_limits<double>::infinity();
    double max = std::numeric_limits<double>::infinity();
    bool minExclusive = false;
    QStringList choices; // for Choice
    QString unit;
    QString help;
    QString zeroText;    // what 0 means when it is special ("all", "one per core")
    QString explanation; // longer plain-language text for a non-expert (optional)

    // Empty when `value` is acceptable, otherwise the problem in words (without the key path).
    QString check(const QJsonValue &value) const;
    // "an integer in [1, 10000]", "one of: sgd, adam", ...
    QString allowedText() const;
    QJsonObject toJson() const;
};

// A registered component (dataset, partitioner, model, strategy ...): ONE entry holds its name, parameters,
// capabilities and the factory that builds it; it is the only place a name is mapped to code.
struct ComponentSchema {
    QString category;
    QString name;
    QString title;
    QString help;
    QList<ParamSchema> params;
    QString explanation;      // longer plain-language text for a non-expert
    QStringList capabilities; // what validation and the round loop read, e.g. "needs-image", "has-batch-norm"
    std::any factory;         // category-specific callable (see the category's header), empty for none
    std::any facts;           // category-specific descriptor (DatasetFacts, ModelInfo ...), empty for none
    ComponentCheck check;     // cross-field rules of this component (optional)

    // The first five fields; the rest are set by the caller.
    static ComponentSchema make(QString category, QString name, QString title, QString help,
                                QList<ParamSchema> params = {}) {
        ComponentSchema c;
        c.category = std::move(category);
        c.name = std::move(name);
        c.title = std::move(title);
        c.help = std::move(help);
        c.params = std::move(params);
        return c;
    }
    bool has(const QString &capability) const { return capabilities.contains(capability); }
    const ParamSchema *param(const QString &key) const;
    QJsonObject toJson() const;
};

// A workspace section such as `partition`: its own keys, plus (when `category` is set) a `name` key that
// selects a component of that category whose parameters then also live in the section.
// Cross-field rules of a section (its keys against the rest of the workspace): errors and warnings.
using SectionCheck =
    std::function<void(const FederationSpec &spec, QList<SpecIssue> &errors, QList<SpecIssue> &warnings)>;

struct SectionSchema {
    QString key;
    QString category; // empty: the section selects no component
    QString help;
    QList<ParamSchema> params;
    SectionCheck check = {};  // optional
    QString explanation = {}; // longer plain-language text for a non-expert: what the section is for

    const ParamSchema *param(const QString &k) const;
};

// Helpers to write schemas compactly.
ParamSchema intParam(const QString &key, qint64 def, qint64 min, qint64 max, const QString &help,
                     const QString &unit = {}, const QString &zeroText = {});
ParamSchema realParam(const QString &key, double def, double min, double max, const QString &help,
                      const QString &unit = {}, bool minExclusive = false);
ParamSchema boolParam(const QString &key, bool def, const QString &help);
ParamSchema stringParam(const QString &key, const QString &def, const QString &help);
ParamSchema choiceParam(const QString &key, const QString &def, const QStringList &choices,
                        const QString &help);
// `p` with its plain-language explanation, for registering inline: explained(realParam(...), text).
ParamSchema explained(ParamSchema p, const QString &explanation);

} // namespace fedwb
