#include "spec/Schema.h"

#include <QJsonArray>

#include <cmath>

namespace fedwb {

namespace {

QString number(double v) {
    if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
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

} // namespace fedwb
