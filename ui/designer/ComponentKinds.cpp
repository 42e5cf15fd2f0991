#include "designer/ComponentKinds.h"

#include "adversary/Behaviour.h"
#include "designer/FederationModel.h"
#include "spec/Registry.h"
#include "spec/Schema.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>

#include <cmath>

namespace fedwb {

bool isCoreSection(const QString &sectionKey) {
    static const QStringList core{QStringLiteral("dataset"),  QStringLiteral("partition"),
                                  QStringLiteral("clients"),  QStringLiteral("model"),
                                  QStringLiteral("training"), QStringLiteral("strategy"),
                                  QStringLiteral("run")};
    return core.contains(sectionKey);
}

QStringList stageSections() {
    QStringList out;
    for (const SectionSchema &s : Registry::global().sections())
        if (!isCoreSection(s.key)) out.append(s.key);
    return out;
}

namespace {

bool isOffWord(const QString &word) {
    return word == QLatin1String("none") || word == QLatin1String("off");
}

} // namespace

StageSwitch stageSwitch(const QString &sectionKey) {
    StageSwitch sw;
    sw.section = sectionKey;
    const Registry &reg = Registry::global();
    const SectionSchema *s = reg.section(sectionKey);
    if (!s) return sw;
    if (const ParamSchema *p = s->param(QStringLiteral("enabled")); p && p->type == ParamType::Boolean) {
        sw.key = p->key;
        sw.offValue = false;
        sw.onValues = {true};
        return sw;
    }
    if (const ParamSchema *p = s->param(QStringLiteral("mode")); p && p->type == ParamType::Choice) {
        for (const QString &c : p->choices)
            if (isOffWord(c)) sw.offValue = c;
        if (sw.offValue.isString()) {
            sw.key = p->key;
            for (const QString &c : p->choices)
                if (!isOffWord(c)) sw.onValues.append(c);
            return sw;
        }
    }
    if (!s->category.isEmpty()) {
        const QStringList names = reg.componentNames(s->category);
        for (const QString &n : names)
            if (isOffWord(n)) sw.offValue = n;
        if (sw.offValue.isString()) {
            sw.key = QStringLiteral("name");
            for (const QString &n : names)
                if (!isOffWord(n)) sw.onValues.append(n);
        }
    }
    return sw;
}

bool isStageActive(const FederationModel &model, const QString &sectionKey) {
    const StageSwitch sw = stageSwitch(sectionKey);
    if (!sw.valid()) return true;
    const QJsonValue v = model.effectiveValue(sw.path());
    return !v.isUndefined() && v != sw.offValue;
}

QString stageStateText(const FederationModel &model, const QString &sectionKey) {
    const StageSwitch sw = stageSwitch(sectionKey);
    if (!sw.valid()) return {};
    if (!isStageActive(model, sectionKey)) return FederationModel::tr("off");
    const QJsonValue v = model.effectiveValue(sw.path());
    return v.isBool() ? FederationModel::tr("on") : v.toString();
}

QString keyWords(const QString &key) {
    QString out = key;
    out.replace(QLatin1Char('_'), QLatin1Char(' '));
    return out;
}

QString sectionTitle(const QString &sectionKey) {
    QString out = keyWords(sectionKey);
    if (!out.isEmpty()) out[0] = out[0].toUpper();
    return out;
}

QString formatValue(const QJsonValue &value) {
    const QLocale locale;
    switch (value.type()) {
    case QJsonValue::Bool:
        return value.toBool() ? FederationModel::tr("on") : FederationModel::tr("off");
    case QJsonValue::Double: {
        const double d = value.toDouble();
        if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 1e15) return locale.toString(qint64(d));
        return locale.toString(d, 'g', 4);
    }
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Array:
        return FederationModel::tr("%n item(s)", nullptr, int(value.toArray().size()));
    case QJsonValue::Object:
        return FederationModel::tr("%n setting(s)", nullptr, int(value.toObject().size()));
    default:
        return {};
    }
}

QStringList paramPhrases(const FederationModel &model, const QStringList &paths, bool effective) {
    QStringList out;
    for (const QString &path : paths) {
        const QJsonValue v = effective ? model.effectiveValue(path) : model.value(path);
        if (v.isUndefined() || v.isNull()) continue;
        const QString key = path.section(QLatin1Char('.'), -1);
        out.append(FederationModel::tr("%1 %2").arg(keyWords(key), formatValue(v)));
    }
    return out;
}

QString defaultBehaviour() {
    // The group field schema names the default behaviour; any model instance answers the same.
    static const QString name = [] {
        FederationModel model;
        const ParamSchema *p = model.paramSchema(QStringLiteral("clients.groups[0].behaviour.name"));
        return p ? p->defaultValue.toString() : QString();
    }();
    return name;
}

BehaviourKind behaviourKind(const QString &behaviourName) {
    if (behaviourName.isEmpty() || behaviourName == defaultBehaviour()) return BehaviourKind::Honest;
    const ComponentSchema *c = Registry::global().component(QStringLiteral("behaviour"), behaviourName);
    if (c && c->has(QLatin1String(kDropsOut))) return BehaviourKind::Dropout;
    return BehaviourKind::Attack;
}

QColor behaviourColour(BehaviourKind kind, const QPalette &palette) {
    const bool dark = palette.color(QPalette::Base).lightnessF() < 0.5;
    switch (kind) {
    case BehaviourKind::Honest:
        return dark ? QColor(0x4c, 0xaf, 0x7d) : QColor(0x2e, 0x7d, 0x4f);
    case BehaviourKind::Dropout:
        return dark ? QColor(0xe0, 0xa8, 0x3a) : QColor(0xb0, 0x6e, 0x00);
    case BehaviourKind::Attack:
        return dark ? QColor(0xef, 0x6a, 0x5c) : QColor(0xc6, 0x28, 0x28);
    }
    return palette.color(QPalette::Text);
}

void paintBehaviourBadge(QPainter *painter, const QRectF &rect, BehaviourKind kind, const QPalette &palette) {
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const QColor colour = behaviourColour(kind, palette);
    const double d = std::min(rect.width(), rect.height());
    const QRectF r(rect.center().x() - d / 2, rect.center().y() - d / 2, d, d);
    const QColor fill = palette.color(QPalette::Base);
    QPen pen(colour, std::max(1.2, d / 9));
    pen.setCapStyle(Qt::RoundCap);
    pen.setJoinStyle(Qt::RoundJoin);
    switch (kind) {
    case BehaviourKind::Honest: {
        painter->setPen(Qt::NoPen);
        painter->setBrush(colour);
        painter->drawEllipse(r);
        QPen tick(fill, std::max(1.4, d / 7));
        tick.setCapStyle(Qt::RoundCap);
        tick.setJoinStyle(Qt::RoundJoin);
        painter->setPen(tick);
        QPainterPath p;
        p.moveTo(r.left() + d * 0.28, r.top() + d * 0.52);
        p.lineTo(r.left() + d * 0.44, r.top() + d * 0.68);
        p.lineTo(r.left() + d * 0.72, r.top() + d * 0.34);
        painter->setBrush(Qt::NoBrush);
        painter->drawPath(p);
        break;
    }
    case BehaviourKind::Dropout: {
        // A circle with a gap: the client that is not there any more.
        painter->setPen(pen);
        painter->setBrush(Qt::NoBrush);
        const QRectF ring = r.adjusted(d * 0.12, d * 0.12, -d * 0.12, -d * 0.12);
        painter->drawArc(ring, 60 * 16, 300 * 16);
        painter->setPen(Qt::NoPen);
        painter->setBrush(colour);
        painter->drawEllipse(QPointF(r.center()), d * 0.12, d * 0.12);
        break;
    }
    case BehaviourKind::Attack: {
        QPainterPath tri;
        tri.moveTo(r.center().x(), r.top() + d * 0.06);
        tri.lineTo(r.right() - d * 0.02, r.bottom() - d * 0.08);
        tri.lineTo(r.left() + d * 0.02, r.bottom() - d * 0.08);
        tri.closeSubpath();
        painter->setPen(QPen(colour, 1, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        painter->setBrush(colour);
        painter->drawPath(tri);
        QPen mark(fill, std::max(1.3, d / 8));
        mark.setCapStyle(Qt::RoundCap);
        painter->setPen(mark);
        painter->drawLine(QPointF(r.center().x(), r.top() + d * 0.38),
                          QPointF(r.center().x(), r.top() + d * 0.62));
        painter->drawPoint(QPointF(r.center().x(), r.top() + d * 0.77));
        break;
    }
    }
    painter->restore();
}

QColor labelColour(int index, int count) {
    const int n = std::max(1, count);
    // Spread the hues, alternating lightness so that neighbouring classes stay apart.
    const double hue = std::fmod(0.58 + double(index) / n, 1.0);
    const double value = index % 2 == 0 ? 0.86 : 0.70;
    return QColor::fromHsvF(float(hue), 0.55f, float(value));
}

QString groupNameFrom(const QString &text) {
    QString out;
    for (const QChar c : text) {
        if (c.isLetterOrNumber() && c.unicode() < 128)
            out.append(c);
        else if (c == QLatin1Char('_') || c == QLatin1Char('-'))
            out.append(c);
        else if (!out.endsWith(QLatin1Char('-')))
            out.append(QLatin1Char('-'));
    }
    while (out.endsWith(QLatin1Char('-')))
        out.chop(1);
    if (out.isEmpty()) out = QStringLiteral("group");
    return out.left(32); // room for a "-2" suffix
}

} // namespace fedwb
