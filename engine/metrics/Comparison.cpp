#include "metrics/Comparison.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>
#include <set>

namespace fedwb {

namespace {

std::optional<double> finite(double v) {
    return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

QJsonValue valueAt(const QJsonObject &spec, const QString &path) {
    const qsizetype dot = path.indexOf(QLatin1Char('.'));
    if (dot < 0) return spec.value(path);
    return spec.value(path.left(dot)).toObject().value(path.mid(dot + 1));
}

} // namespace

QStringList differingKeys(const QList<QJsonObject> &specs) {
    std::set<QString> paths;
    for (const QJsonObject &spec : specs)
        for (auto it = spec.constBegin(); it != spec.constEnd(); ++it) {
            if (it.key() == QLatin1String("name") || it.key() == QLatin1String("description")) continue;
            if (it.value().isObject()) {
                const QJsonObject section = it.value().toObject();
                for (auto k = section.constBegin(); k != section.constEnd(); ++k)
                    paths.insert(it.key() + QLatin1Char('.') + k.key());
            } else {
                paths.insert(it.key());
            }
        }
    QStringList out;
    for (const QString &path : paths) {
        const QJsonValue first = specs.isEmpty() ? QJsonValue() : valueAt(specs.first(), path);
        for (const QJsonObject &spec : specs)
            if (valueAt(spec, path) != first) {
                out.append(path);
                break;
            }
    }
    return out;
}

QString specValueText(const QJsonObject &spec, const QString &path) {
    const QJsonValue v = valueAt(spec, path);
    switch (v.type()) {
    case QJsonValue::Undefined:
        return QStringLiteral("—");
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Double:
        return QString::number(v.toDouble(), 'g', 12);
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    default:
        return QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact))
            .mid(1)
            .chopped(1);
    }
}

FinalMetrics finalMetrics(const QList<RoundMetrics> &rounds, double targetAccuracy) {
    FinalMetrics f;
    for (const RoundMetrics &m : rounds) {
        f.bytes += m.bytesUp + m.bytesDown;
        f.wallSeconds = m.wallSeconds;
        f.rounds = m.round;
        if (const auto e = finite(m.epsilon)) f.epsilon = e;
        if (!m.evaluated) continue;
        const std::optional<double> accuracy = finite(m.testAccuracy);
        if (accuracy) {
            f.finalAccuracy = accuracy;
            if (!f.bestAccuracy || *accuracy > *f.bestAccuracy) {
                f.bestAccuracy = accuracy;
                f.bestRound = m.round;
            }
            if (targetAccuracy > 0 && !f.roundsToTarget && *accuracy >= targetAccuracy)
                f.roundsToTarget = m.round;
        } else {
            f.finalAccuracy.reset();
        }
        f.worst10 = finite(m.fairness.worst10);
        f.jain = finite(m.fairness.jain);
        f.asr = finite(m.asr);
    }
    return f;
}

} // namespace fedwb
