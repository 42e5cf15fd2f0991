// A one-page HTML report comparing runs: the runs, the settings that differ between them, a final-metrics
// table and charts (test accuracy, test loss, worst-10% client accuracy, epsilon and attack success rate
// where stored) drawn as inline SVG with one colour per run throughout. Self-contained (no scripts, no
// external files): it opens in any browser and prints on one page. Torch-free.
#pragma once

#include "run/RunTypes.h"
#include "store/RunStore.h"

#include <QList>
#include <QString>

namespace fedwb {

struct ReportRun {
    StoredRun run;
    QList<RoundMetrics> rounds;
};

// The colour of the i-th run in every chart and table (a colour-blind-safe palette, repeating after 8).
QString runColour(qsizetype index);

// targetAccuracy > 0 adds "rounds to reach it" to the table.
QString comparisonReportHtml(const QList<ReportRun> &runs, double targetAccuracy = 0);

} // namespace fedwb
