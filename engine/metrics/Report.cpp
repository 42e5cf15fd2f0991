#include "metrics/Report.h"

#include "metrics/Comparison.h"

#include <QDateTime>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace fedwb {

QString runColour(qsizetype index) {
    static const char *palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#7F7F00", "#000000"};
    return QLatin1String(palette[index % 8]);
}

namespace {

QString esc(const QString &s) {
    return s.toHtmlEscaped();
}

QString number(const std::optional<double> &v, int decimals) {
    return v ? QString::number(*v, 'f', decimals) : QStringLiteral("—");
}

QString bytesText(std::int64_t b) {
    if (b >= 1'000'000'000) return QString::number(double(b) / 1e9, 'f', 2) + QStringLiteral(" GB");
    if (b >= 1'000'000) return QString::number(double(b) / 1e6, 'f', 1) + QStringLiteral(" MB");
    if (b >= 1'000) return QString::number(double(b) / 1e3, 'f', 1) + QStringLiteral(" kB");
    return QString::number(b) + QStringLiteral(" B");
}

// Round numbers for an axis: about `count` ticks covering [lo, hi].
QList<double> ticks(double lo, double hi, int count) {
    const double span = hi - lo;
    const double raw = span / std::max(1, count);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    QList<double> out;
    for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
        out.append(std::abs(t) < step * 1e-9 ? 0.0 : t);
    return out;
}

// One line chart: x = round, y = value(m) for the rounds where it is finite. Empty when no run has a value.
QString lineChart(const QString &title, const QList<ReportRun> &runs,
                  const std::function<double(const RoundMetrics &)> &value) {
    double xMax = 1, yLo = std::numeric_limits<double>::infinity(), yHi = -yLo;
    for (const ReportRun &r : runs)
        for (const RoundMetrics &m : r.rounds) {
            const double v = value(m);
            if (!std::isfinite(v)) continue;
            xMax = std::max(xMax, double(m.round));
            yLo = std::min(yLo, v);
            yHi = std::max(yHi, v);
        }
    if (!std::isfinite(yLo)) return {};
    const bool nonNegative = yLo >= 0;
    if (yHi - yLo < 1e-12)
        yLo -= std::max(0.05, std::abs(yLo) * 0.1), yHi += std::max(0.05, std::abs(yHi) * 0.1);
    const double pad = (yHi - yLo) * 0.05;
    yLo -= pad, yHi += pad;
    if (nonNegative) yLo = std::max(0.0, yLo); // accuracies, losses, epsilon: no negative axis
    const double w = 440, h = 240, left = 56, right = 18, top = 28, bottom = 36;
    const auto px = [&](double x) { return left + (x - 1) / std::max(1.0, xMax - 1) * (w - left - right); };
    const auto py = [&](double y) { return top + (yHi - y) / (yHi - yLo) * (h - top - bottom); };
    QString svg = QStringLiteral("<svg class='chart' xmlns='http://www.w3.org/2000/svg' "
                                 "style='background:#fff' width='%1' height='%2' "
                                 "viewBox='0 0 %1 %2' role='img' aria-label='%3'>")
                      .arg(w)
                      .arg(h)
                      .arg(esc(title));
    svg += QStringLiteral(
               "<text x='%1' y='16' font-size='13' font-weight='bold' font-family='sans-serif'>%2</text>")
               .arg(left)
               .arg(esc(title));
    for (double t : ticks(yLo, yHi, 5))
        svg += QStringLiteral(
                   "<line x1='%1' x2='%2' y1='%3' y2='%3' stroke='#eeeeee'/><text x='%4' y='%5' "
                   "font-size='10' fill='#555555' font-family='sans-serif' text-anchor='end'>%6</text>")
                   .arg(left)
                   .arg(w - right)
                   .arg(py(t), 0, 'f', 1)
                   .arg(left - 6)
                   .arg(py(t) + 4, 0, 'f', 1)
                   .arg(QString::number(t, 'g', 4));
    for (double t : ticks(1, xMax, 6))
        if (t >= 1 && std::floor(t) == t)
            svg += QStringLiteral("<text x='%1' y='%2' font-size='10' fill='#555555' "
                                  "font-family='sans-serif' text-anchor='middle'>%3</text>")
                       .arg(px(t), 0, 'f', 1)
                       .arg(h - bottom + 16)
                       .arg(t);
    svg += QStringLiteral("<text x='%1' y='%2' font-size='10' fill='#555555' font-family='sans-serif' "
                          "text-anchor='middle'>round</text>")
               .arg((left + w - right) / 2)
               .arg(h - 4);
    svg += QStringLiteral("<rect x='%1' y='%2' width='%3' height='%4' fill='none' stroke='#bbbbbb'/>")
               .arg(left)
               .arg(top)
               .arg(w - left - right)
               .arg(h - top - bottom);
    for (qsizetype i = 0; i < runs.size(); ++i) {
        QStringList points;
        for (const RoundMetrics &m : runs[i].rounds)
            if (const double v = value(m); std::isfinite(v))
                points.append(QStringLiteral("%1,%2").arg(px(m.round), 0, 'f', 1).arg(py(v), 0, 'f', 1));
        if (points.isEmpty()) continue;
        svg += QStringLiteral(
                   "<polyline fill='none' stroke='%1' stroke-width='2' points='%2'><title>run %3</title>"
                   "</polyline>")
                   .arg(runColour(i), points.join(QLatin1Char(' ')))
                   .arg(runs[i].run.id);
        if (points.size() == 1) // a single point is a dot
            svg += QStringLiteral("<circle r='3' fill='%1' cx='%2' cy='%3'/>")
                       .arg(runColour(i), points[0].section(QLatin1Char(','), 0, 0),
                            points[0].section(QLatin1Char(','), 1, 1));
    }
    return svg + QStringLiteral("</svg>");
}

} // namespace

QString comparisonReportHtml(const QList<ReportRun> &runs, double targetAccuracy) {
    QString html = QStringLiteral(
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>FedWorkbench comparison</title>"
        "<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}"
        "h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:20px 0 6px}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px "
        "8px;text-align:left}"
        "th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}"
        ".swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-"
        "align:-1px}"
        ".charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #ddd;background:#fff}"
        ".muted{color:#666;font-size:12px}"
        "@media print{body{margin:8mm}}</style></head><body>\n");
    html += QStringLiteral("<h1>Comparison of %1 runs</h1><p class='muted'>FedWorkbench report, %2</p>\n")
                .arg(runs.size())
                .arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'")));
    const auto swatch = [](qsizetype i) {
        return QStringLiteral("<span class='swatch' style='background:%1'></span>").arg(runColour(i));
    };

    html += QStringLiteral("<h2>Runs</h2><table><tr><th>run</th><th>name</th><th>status</th><th>started</th>"
                           "<th>workspace</th></tr>\n");
    for (qsizetype i = 0; i < runs.size(); ++i) {
        const StoredRun &r = runs[i].run;
        html += QStringLiteral("<tr><td>%1%2</td><td>%3</td><td>%4</td><td>%5</td><td>%6</td></tr>\n")
                    .arg(swatch(i))
                    .arg(r.id)
                    .arg(esc(r.name), runStatusName(r.status),
                         r.startedAt.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm")), esc(r.workspace));
    }
    html += QStringLiteral("</table>\n");

    QList<QJsonObject> specs;
    for (const ReportRun &r : runs)
        specs.append(r.run.spec);
    const QStringList differing = differingKeys(specs);
    html += QStringLiteral("<h2>Settings that differ</h2>");
    if (differing.isEmpty()) {
        html += QStringLiteral("<p>None: the runs have the same settings.</p>\n");
    } else {
        html += QStringLiteral("<table><tr><th>setting</th>");
        for (qsizetype i = 0; i < runs.size(); ++i)
            html += QStringLiteral("<th>%1run %2</th>").arg(swatch(i)).arg(runs[i].run.id);
        html += QStringLiteral("</tr>\n");
        for (const QString &key : differing) {
            html += QStringLiteral("<tr><td>%1</td>").arg(esc(key));
            for (const ReportRun &r : runs)
                html += QStringLiteral("<td>%1</td>").arg(esc(specValueText(r.run.spec, key)));
            html += QStringLiteral("</tr>\n");
        }
        html += QStringLiteral("</table>\n");
    }

    QList<FinalMetrics> finals;
    bool anyEpsilon = false, anyAsr = false;
    for (const ReportRun &r : runs) {
        finals.append(finalMetrics(r.rounds, targetAccuracy));
        anyEpsilon = anyEpsilon || finals.back().epsilon.has_value();
        anyAsr = anyAsr || finals.back().asr.has_value();
    }
    html +=
        QStringLiteral("<h2>Final metrics</h2><table><tr><th>run</th><th>rounds</th><th>final accuracy</th>"
                       "<th>best accuracy (round)</th>");
    if (targetAccuracy > 0) html += QStringLiteral("<th>rounds to %1</th>").arg(targetAccuracy);
    html += QStringLiteral("<th>worst-10%</th><th>Jain</th>");
    if (anyEpsilon) html += QStringLiteral("<th>ε</th>");
    if (anyAsr) html += QStringLiteral("<th>attack success</th>");
    html += QStringLiteral("<th>bytes</th><th>wall time</th></tr>\n");
    for (qsizetype i = 0; i < runs.size(); ++i) {
        const FinalMetrics &f = finals[i];
        html +=
            QStringLiteral(
                "<tr><td>%1%2</td><td class='num'>%3</td><td class='num'>%4</td><td class='num'>%5%6</td>")
                .arg(swatch(i))
                .arg(runs[i].run.id)
                .arg(f.rounds)
                .arg(number(f.finalAccuracy, 4), number(f.bestAccuracy, 4),
                     f.bestRound ? QStringLiteral(" (%1)").arg(*f.bestRound) : QString());
        if (targetAccuracy > 0)
            html += QStringLiteral("<td class='num'>%1</td>")
                        .arg(f.roundsToTarget ? QString::number(*f.roundsToTarget)
                                              : QStringLiteral("not reached"));
        html += QStringLiteral("<td class='num'>%1</td><td class='num'>%2</td>")
                    .arg(number(f.worst10, 4), number(f.jain, 4));
        if (anyEpsilon) html += QStringLiteral("<td class='num'>%1</td>").arg(number(f.epsilon, 3));
        if (anyAsr) html += QStringLiteral("<td class='num'>%1</td>").arg(number(f.asr, 4));
        html += QStringLiteral("<td class='num'>%1</td><td class='num'>%2 s</td></tr>\n")
                    .arg(bytesText(f.bytes))
                    .arg(f.wallSeconds, 0, 'f', 1);
    }
    html += QStringLiteral("</table>\n<h2>Curves</h2><div class='charts'>\n");
    const QList<std::pair<QString, std::function<double(const RoundMetrics &)>>> charts{
        {QStringLiteral("Test accuracy"),
         [](const RoundMetrics &m) { return m.evaluated ? m.testAccuracy : std::nan(""); }},
        {QStringLiteral("Test loss"),
         [](const RoundMetrics &m) { return m.evaluated ? m.testLoss : std::nan(""); }},
        {QStringLiteral("Worst-10% client accuracy"),
         [](const RoundMetrics &m) { return m.evaluated ? m.fairness.worst10 : std::nan(""); }},
        {QStringLiteral("Privacy loss ε"), [](const RoundMetrics &m) { return m.epsilon; }},
        {QStringLiteral("Attack success rate"),
         [](const RoundMetrics &m) { return m.evaluated ? m.asr : std::nan(""); }},
    };
    for (const auto &[title, value] : charts)
        html += lineChart(title, runs, value) + QLatin1Char('\n'); // a chart with no data is left out
    html += QStringLiteral("</div>\n</body></html>\n");
    return html;
}

} // namespace fedwb
