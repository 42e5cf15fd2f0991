// Sweeps: a grid of values for some workspace keys, each grid point run with N training seeds over the same
// data and partition. The plan (every run's validated spec) is made before anything runs, so a bad value
// is reported before hours of training; `fedwb-cli sweep` and the GUI's "Vary this parameter" share it.
// Torch-free.
#pragma once

#include "spec/FederationSpec.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace fedwb {

struct SweepVary {
    QString key;        // "partition.alpha"
    QStringList values; // as --set reads them: "0.1", "median", "true"
};

struct SweepPoint {
    QJsonObject values; // key -> value as the workspace holds it (stored as the run's sweep point)
    QStringList sets;   // "key=value" overrides
    QString text() const { return sets.join(QStringLiteral(", ")); }
};

struct SweepJob {
    int point = 0;     // index into SweepPlan::points
    int seedIndex = 0; // 0 .. seeds - 1: run.seed + seedIndex
    FederationSpec spec;
};

struct SweepPlan {
    QList<SweepPoint> points; // the first vary varies slowest
    QList<SweepJob> jobs;     // point by point, seed by seed
    QStringList errors;       // one line per problem, naming the key and the grid point
    QList<SpecIssue> warnings;
    bool ok() const { return errors.isEmpty() && !jobs.isEmpty(); }
};

// `raw` is the workspace as read (overrides applied). seeds in [1, 1000]; run.seed may not be varied with
// seeds > 1; a key may be varied once.
SweepPlan planSweep(const QJsonObject &raw, const QList<SweepVary> &varies, int seeds);

// "sweep-20261201-104849-24139": time and process, unique enough within one store.
QString newSweepId();
// "<base> [key=v, ...] seed S"
QString sweepRunName(const QString &base, const SweepPoint &point, quint64 seed);

} // namespace fedwb
