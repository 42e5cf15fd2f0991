#include "spec/Schema.h"

#include <QJsonArray>
#include <QRegularExpression>

#include <cmath>

namespace fedwb {

namespace {

QString number(double v) {
    if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    // Whole numbers in full up to 2^53 (a modulus of 2^53 reads 9007199254740992, not 9.00719925474e+15).
    if (std::abs(v) <= 9007199254740992.0 && v == std::floor(v)) return QString::number(qint64(v));
    return QString::number(v, 'g', 12);
}

QString shown(const QJsonValue &v) {
    switch (v.type()) {
    case QJsonValue::Double:
        return number(v.toDouble());
    case QJsonValue::String:
        return QLatin1Char('"') + v.toString() + QLatin1Char('"');
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Array:
        return QStringLiteral("an array");
    case QJsonValue::Object:
        return QStringLiteral("an object");
    default:
        return QStringLiteral("nothing");
    }
}

bool isWhole(double v) {
    return std::isfinite(v) && std::floor(v) == v;
}

// The fields every kind of parameter has; the public helpers below add the kind-specific ones.
ParamSchema makeParam(const QString &key, ParamType type, const QJsonValue &def, const QString &help) {
    ParamSchema p;
    p.key = key;
    p.type = type;
    p.defaultValue = def;
    p.help = help;
    return p;
}

const ParamSchema *findParam(const QList<ParamSchema> &params, const QString &key) {
    for (const ParamSchema &p : params)
        if (p.key == key) return &p;
    return nullptr;
}

} // namespace

QString paramTypeName(ParamType type) {
    switch (type) {
    case ParamType::Integer:
        return QStringLiteral("integer");
    case ParamType::Real:
        return QStringLiteral("number");
    case ParamType::Boolean:
        return QStringLiteral("boolean");
    case ParamType::String:
        return QStringLiteral("string");
    case ParamType::Choice:
        return QStringLiteral("choice");
    case ParamType::CountOrFraction:
        return QStringLiteral("count-or-fraction");
    case ParamType::GroupList:
        return QStringLiteral("group-list");
    }
    return {};
}

QString ParamSchema::allowedText() const {
    const QString lo = (minExclusive ? QStringLiteral("(") : QStringLiteral("[")) + number(min);
    const QString hi = number(max) + QStringLiteral("]");
    switch (type) {
    case ParamType::Integer:
        return QStringLiteral("an integer in ") + lo + QStringLiteral(", ") + hi;
    case ParamType::Real:
        return QStringLiteral("a number in ") + lo + QStringLiteral(", ") + hi;
    case ParamType::Boolean:
        return QStringLiteral("true or false");
    case ParamType::String:
        return QStringLiteral("a string");
    case ParamType::Choice:
        return QStringLiteral("one of: ") + choices.join(QStringLiteral(", "));
    case ParamType::CountOrFraction:
        return QStringLiteral("a whole count in [1, ") + number(max) +
               QStringLiteral("] or a fraction in (0, 1)");
    case ParamType::GroupList:
        return QStringLiteral(
            "a list of {\"name\": text, \"count\": an integer >= 1 or \"fraction\": a number "
            "in (0, 1], optional \"epochs\": an integer in [1, 1000], optional \"behaviour\": "
            "{\"name\": a behaviour, its parameters}, optional \"privacy\": {privacy keys this group "
            "overrides}}; empty = one group \"clients\" holding all");
    }
    return {};
}

QString ParamSchema::check(const QJsonValue &value) const {
    const QString bad = shown(value) + QStringLiteral(" is not allowed; allowed: ") + allowedText();
    switch (type) {
    case ParamType::Integer: {
        if (!value.isDouble() || !isWhole(value.toDouble())) return bad;
        const double v = value.toDouble();
        if (v < min || v > max)
            return shown(value) + QStringLiteral(" is out of range; allowed: ") + allowedText();
        return {};
    }
    case ParamType::Real: {
        if (!value.isDouble() || !std::isfinite(value.toDouble())) return bad;
        const double v = value.toDouble();
        if (v < min || (minExclusive && v == min) || v > max)
            return shown(value) + QStringLiteral(" is out of range; allowed: ") + allowedText();
        return {};
    }
    case ParamType::Boolean:
        return value.isBool() ? QString() : bad;
    case ParamType::String:
        return value.isString() ? QString() : bad;
    case ParamType::Choice:
        if (!value.isString()) return bad;
        return choices.contains(value.toString())
                   ? QString()
                   : shown(value) + QStringLiteral(" is unknown; allowed: ") + allowedText();
    case ParamType::GroupList: {
        if (!value.isArray()) return bad;
        QStringList names;
        const QJsonArray groups = value.toArray();
        for (qsizetype i = 0; i < groups.size(); ++i) {
            const QString at = QStringLiteral("group %1: ").arg(i + 1);
            if (!groups[i].isObject())
                return at + QStringLiteral("must be an object; allowed: ") + allowedText();
            const QJsonObject g = groups[i].toObject();
            for (auto it = g.constBegin(); it != g.constEnd(); ++it)
                if (!QStringList{QStringLiteral("name"), QStringLiteral("count"), QStringLiteral("fraction"),
                                 QStringLiteral("epochs"), QStringLiteral("behaviour"),
                                 QStringLiteral("privacy")}
                         .contains(it.key()))
                    return at + QStringLiteral("unknown key '%1'; allowed: name, count, fraction, epochs, "
                                               "behaviour, privacy")
                                    .arg(it.key());
            const QString name = g.value(QStringLiteral("name")).toString();
            static const QRegularExpression valid(QStringLiteral("^[A-Za-z0-9_-]{1,40}$"));
            if (!valid.match(name).hasMatch())
                return at +
                       QStringLiteral("name %1 is not allowed; allowed: 1 to 40 letters, digits, '_' or '-'")
                           .arg(shown(g.value(QStringLiteral("name"))));
            if (names.contains(name)) return at + QStringLiteral("the name '%1' is used twice").arg(name);
            names.append(name);
            const bool hasCount = g.contains(QStringLiteral("count"));
            const bool hasFraction = g.contains(QStringLiteral("fraction"));
            if (hasCount == hasFraction)
                return at + QStringLiteral("'%1' needs exactly one of count or fraction").arg(name);
            if (hasCount) {
                const QJsonValue c = g.value(QStringLiteral("count"));
                if (!c.isDouble() || !isWhole(c.toDouble()) || c.toDouble() < 1 || c.toDouble() > max)
                    return at + QStringLiteral("count %1 is not allowed; allowed: an integer in [1, %2]")
                                    .arg(shown(c), number(max));
            } else {
                const QJsonValue f = g.value(QStringLiteral("fraction"));
                if (!f.isDouble() || !(f.toDouble() > 0) || f.toDouble() > 1)
                    return at + QStringLiteral("fraction %1 is not allowed; allowed: a number in (0, 1]")
                                    .arg(shown(f));
            }
            if (g.contains(QStringLiteral("epochs"))) {
                const QJsonValue e = g.value(QStringLiteral("epochs"));
                if (!e.isDouble() || !isWhole(e.toDouble()) || e.toDouble() < 1 || e.toDouble() > 1000)
                    return at + QStringLiteral("epochs %1 is not allowed; allowed: an integer in [1, 1000]")
                                    .arg(shown(e));
            }
            // The contents of behaviour and privacy are checked against their registered schemas by
            // FederationSpec::parse; here only their shape.
            if (g.contains(QStringLiteral("behaviour"))) {
                const QJsonValue b = g.value(QStringLiteral("behaviour"));
                if (!b.isObject() || !b.toObject().value(QStringLiteral("name")).isString())
                    return at + QStringLiteral("behaviour %1 is not allowed; allowed: an object {\"name\": a "
                                               "registered behaviour, its parameters ...}")
                                    .arg(shown(b));
            }
            if (g.contains(QStringLiteral("privacy")) && !g.value(QStringLiteral("privacy")).isObject())
                return at + QStringLiteral("privacy %1 is not allowed; allowed: an object of privacy keys "
                                           "this group overrides")
                                .arg(shown(g.value(QStringLiteral("privacy"))));
        }
        return {};
    }
    case ParamType::CountOrFraction: {
        if (!value.isDouble()) return bad;
        const double v = value.toDouble();
        if (v > 0 && v < 1) return {};
        if (!isWhole(v) || v < 1 || v > max)
            return shown(value) + QStringLiteral(" is out of range; allowed: ") + allowedText();
        return {};
    }
    }
    return bad;
}

QJsonObject ParamSchema::toJson() const {
    QJsonObject o{{QStringLiteral("key"), key},
                  {QStringLiteral("type"), paramTypeName(type)},
                  {QStringLiteral("default"), defaultValue},
                  {QStringLiteral("help"), help},
                  {QStringLiteral("allowed"), allowedText()}};
    if (type == ParamType::Integer || type == ParamType::Real || type == ParamType::CountOrFraction) {
        if (std::isfinite(min)) o.insert(QStringLiteral("min"), min);
        if (std::isfinite(max)) o.insert(QStringLiteral("max"), max);
        if (minExclusive) o.insert(QStringLiteral("min_exclusive"), true);
    }
    if (type == ParamType::Choice) o.insert(QStringLiteral("choices"), QJsonArray::fromStringList(choices));
    if (!unit.isEmpty()) o.insert(QStringLiteral("unit"), unit);
    if (!zeroText.isEmpty()) o.insert(QStringLiteral("zero_means"), zeroText);
    if (!explanation.isEmpty()) o.insert(QStringLiteral("explanation"), explanation);
    return o;
}

const ParamSchema *ComponentSchema::param(const QString &key) const {
    return findParam(params, key);
}

QJsonObject ComponentSchema::toJson() const {
    QJsonArray ps;
    for (const ParamSchema &p : params)
        ps.append(p.toJson());
    QJsonObject o{{QStringLiteral("category"), category},
                  {QStringLiteral("name"), name},
                  {QStringLiteral("title"), title},
                  {QStringLiteral("help"), help},
                  {QStringLiteral("params"), ps}};
    if (!explanation.isEmpty()) o.insert(QStringLiteral("explanation"), explanation);
    if (!capabilities.isEmpty())
        o.insert(QStringLiteral("capabilities"), QJsonArray::fromStringList(capabilities));
    return o;
}

const ParamSchema *SectionSchema::param(const QString &k) const {
    return findParam(params, k);
}

ParamSchema intParam(const QString &key, qint64 def, qint64 min, qint64 max, const QString &help,
                     const QString &unit, const QString &zeroText) {
    ParamSchema p = makeParam(key, ParamType::Integer, double(def), help);
    p.min = double(min);
    p.max = double(max);
    p.unit = unit;
    p.zeroText = zeroText;
    return p;
}

ParamSchema realParam(const QString &key, double def, double min, double max, const QString &help,
                      const QString &unit, bool minExclusive) {
    ParamSchema p = makeParam(key, ParamType::Real, def, help);
    p.min = min;
    p.max = max;
    p.minExclusive = minExclusive;
    p.unit = unit;
    return p;
}

ParamSchema boolParam(const QString &key, bool def, const QString &help) {
    return makeParam(key, ParamType::Boolean, def, help);
}

ParamSchema stringParam(const QString &key, const QString &def, const QString &help) {
    return makeParam(key, ParamType::String, def, help);
}

ParamSchema choiceParam(const QString &key, const QString &def, const QStringList &choices,
                        const QString &help) {
    ParamSchema p = makeParam(key, ParamType::Choice, def, help);
    p.choices = choices;
    return p;
}

ParamSchema explained(ParamSchema p, const QString &explanation) {
    p.explanation = explanation;
    return p;
}

} // namespace fedwb
