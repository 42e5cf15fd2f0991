// Comparing runs: which settings differ, and the final metrics of each run in one table. Shared by
// `fedwb-cli report`, the GUI's Compare view and sweeps. Torch-free.
#pragma once

#include "run/RunTypes.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace fedwb {

struct StoredRun;

// The "section.key" paths (top-level keys as themselves) whose values are not the same in every one of
// `specs` (validated workspaces), sorted; a key missing from some spec counts as differing. name and
// description are left out: they describe, they do not configure.
QStringList differingKeys(const QList<QJsonObject> &specs);
// The value at "section.key" as short text ("0.1", "median", "[...]" for arrays), "—" when absent.
QString specValueText(const QJsonObject &spec, const QString &path);

struct FinalMetrics {
    std::optional<double> finalAccuracy; // of the last evaluated round
    std::optional<double> bestAccuracy;  // over the evaluated rounds
    std::optional<int> bestRound;
    std::optional<int> roundsToTarget; // the first evaluated round reaching the target accuracy
    std::optional<double> worst10;     // of the last evaluated round
    std::optional<double> jain;
    std::optional<double> epsilon; // after the last round (DP runs)
    std::optional<double> asr;     // of the last evaluated round (backdoor runs)
    std::int64_t bytes = 0;        // up + down over all rounds
    double wallSeconds = 0;        // at the end of the last round
    int rounds = 0;
};
// From the rounds of a run in order; targetAccuracy <= 0 leaves roundsToTarget empty. Non-finite values
// (not measured) are absent.
FinalMetrics finalMetrics(const QList<RoundMetrics> &rounds, double targetAccuracy = 0);

} // namespace fedwb
