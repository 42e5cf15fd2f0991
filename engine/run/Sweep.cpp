#include "run/Sweep.h"

#include <QCoreApplication>
#include <QDateTime>

namespace fedwb {

SweepPlan planSweep(const QJsonObject &raw, const QList<SweepVary> &varies, int seeds) {
    SweepPlan plan;
    if (seeds < 1 || seeds > 1000) {
        plan.errors << QStringLiteral("seeds %1: out of range; allowed: an integer in [1, 1000]").arg(seeds);
        return plan;
    }
    if (varies.isEmpty() && seeds == 1) {
        plan.errors << QStringLiteral("nothing to sweep: vary a key or give more than one seed");
        return plan;
    }
    QStringList seen;
    for (const SweepVary &v : varies) {
        if (v.key == QLatin1String("run.seed") && seeds > 1)
            plan.errors << QStringLiteral(
                               "run.seed with %1 seeds: the training seeds are run.seed, run.seed + 1, "
                               "...; vary one or the other")
                               .arg(seeds);
        if (seen.contains(v.key)) plan.errors << QStringLiteral("%1 is varied twice").arg(v.key);
        if (v.values.isEmpty()) plan.errors << QStringLiteral("%1: no values to vary it over").arg(v.key);
        seen << v.key;
    }
    if (!plan.errors.isEmpty()) return plan;

    QString error;
    plan.points = {SweepPoint{}};
    for (const SweepVary &v : varies) {
        QList<SweepPoint> next;
        for (const SweepPoint &p : std::as_const(plan.points))
            for (const QString &value : v.values) {
                SweepPoint q = p;
                q.sets.append(v.key + QLatin1Char('=') + value.trimmed());
                QJsonObject probe;
                if (!FederationSpec::applyOverride(probe, q.sets.back(), &error)) {
                    plan.errors << error.replace(QLatin1String("--set "), QString());
                    return plan;
                }
                const qsizetype dot = v.key.indexOf(QLatin1Char('.'));
                q.values.insert(v.key,
                                dot < 0 ? probe.value(v.key)
                                        : probe.value(v.key.left(dot)).toObject().value(v.key.mid(dot + 1)));
                next.append(q);
            }
        plan.points = next;
    }
    for (qsizetype i = 0; i < plan.points.size(); ++i) {
        const SweepPoint &point = plan.points[i];
        QJsonObject base = raw;
        for (const QString &set : point.sets)
            FederationSpec::applyOverride(base, set, &error);
        const FederationSpec::Parsed parsed = FederationSpec::parse(base);
        const QString at = point.sets.isEmpty() ? QString() : QStringLiteral(" (at %1)").arg(point.text());
        if (!parsed.ok()) {
            for (const SpecIssue &e : parsed.errors)
                plan.errors << e.text() + at;
            continue;
        }
        if (i == 0) plan.warnings = parsed.warnings;
        // N training seeds over the same data and partition: those seeds are pinned to the point's own.
        const quint64 seed = parsed.spec->seed();
        for (int k = 0; k < seeds; ++k) {
            QJsonObject one = base;
            if (seeds > 1) {
                FederationSpec::applyOverride(
                    one, QStringLiteral("dataset.seed=%1").arg(parsed.spec->dataSeed()), &error);
                FederationSpec::applyOverride(
                    one, QStringLiteral("partition.seed=%1").arg(parsed.spec->partitionSeed()), &error);
                FederationSpec::applyOverride(one, QStringLiteral("run.seed=%1").arg(seed + quint64(k)),
                                              &error);
            }
            const FederationSpec::Parsed p = FederationSpec::parse(one);
            if (!p.ok()) {
                plan.errors << QStringLiteral("seed %1%2: %3").arg(seed + quint64(k)).arg(at, p.errorText());
                break;
            }
            plan.jobs.append({int(i), k, *p.spec});
        }
    }
    if (!plan.errors.isEmpty()) plan.jobs.clear();
    return plan;
}

QString newSweepId() {
    return QStringLiteral("sweep-%1-%2")
        .arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss")))
        .arg(QCoreApplication::applicationPid());
}

QString sweepRunName(const QString &base, const SweepPoint &point, quint64 seed) {
    QString name = base;
    if (!point.sets.isEmpty()) name += QStringLiteral(" [") + point.text() + QLatin1Char(']');
    return name + QStringLiteral(" seed %1").arg(seed);
}

} // namespace fedwb
