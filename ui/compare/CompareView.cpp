#include "compare/CompareView.h"

#include "dashboard/Dashboard.h"
#include "metrics/Comparison.h"
#include "widgets/ChartExport.h"

#include <QAreaSeries>
#include <QChart>
#include <QCheckBox>
#include <QComboBox>
#include <QCursor>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMap>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <cmath>
#include <functional>
#include <limits>

namespace fedwb {

namespace {

double metricOf(CompareView::Metric metric, const RoundMetrics &m) {
    const double none = std::numeric_limits<double>::quiet_NaN();
    switch (metric) {
    case CompareView::TestAccuracy:
        return m.evaluated ? m.testAccuracy : none;
    case CompareView::TestLoss:
        return m.evaluated ? m.testLoss : none;
    case CompareView::Worst10:
        return m.evaluated ? m.fairness.worst10 : none;
    case CompareView::Jain:
        return m.evaluated ? m.fairness.jain : none;
    case CompareView::Epsilon:
        return m.epsilon;
    case CompareView::AttackSuccess:
        return m.evaluated ? m.asr : none;
    case CompareView::MetricCount:
        break;
    }
    return none;
}

QString text(const std::optional<double> &v, int decimals) {
    return v ? QString::number(*v, 'f', decimals) : QStringLiteral("—");
}

QTableWidgetItem *cell(const QString &s, bool number = false) {
    auto *item = new QTableWidgetItem(s);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QString pointText(const QJsonObject &point) {
    QStringList parts;
    for (auto it = point.constBegin(); it != point.constEnd(); ++it)
        parts << it.key().section(QLatin1Char('.'), -1) + QLatin1Char('=') +
                     (it.value().isString()
                          ? it.value().toString()
                          : QString::fromUtf8(
                                QJsonDocument(QJsonArray{it.value()}).toJson(QJsonDocument::Compact))
                                .mid(1)
                                .chopped(1));
    return parts.join(QStringLiteral(", "));
}

} // namespace

CompareView::CompareView(QWidget *parent)
    : QWidget(parent)
    , m_metricBox(new QComboBox)
    , m_groupBox(new QCheckBox(tr("Group sweep seeds (mean ± std)")))
    , m_placeholder(new QLabel)
    , m_chartView(new QChartView)
    , m_differences(new QTableWidget)
    , m_metrics(new QTableWidget)
    , m_target(new QDoubleSpinBox) {
    setObjectName(QStringLiteral("compareView"));
    m_metricBox->setObjectName(QStringLiteral("compareMetric"));
    m_metricBox->addItems({tr("Test accuracy"), tr("Test loss"), tr("Worst-10% client accuracy"),
                           tr("Jain's fairness index"), tr("Privacy loss ε"), tr("Attack success rate")});
    m_metricBox->setToolTip(tr("The metric drawn for every run, against the round"));
    m_groupBox->setChecked(true);
    m_groupBox->setToolTip(tr("Runs of one sweep grid point (fedwb-cli sweep --seeds N) as one mean line "
                              "with a band of one standard deviation"));
    connect(m_metricBox, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
    connect(m_groupBox, &QCheckBox::toggled, this, [this] { rebuild(); });

    m_chartView->setRenderHint(QPainter::Antialiasing);
    addSaveImageAction(m_chartView, tr("comparison"));
    m_chartView->setMinimumHeight(260);
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    m_placeholder->setText(tr("Select two or more runs in the Runs list (Ctrl+click) to compare them."));
    for (QTableWidget *t : {m_differences, m_metrics}) {
        t->verticalHeader()->hide();
        t->setEditTriggers(QAbstractItemView::NoEditTriggers);
        t->setAlternatingRowColors(true);
        t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
        t->horizontalHeader()->setStretchLastSection(true);
    }
    m_differences->setObjectName(QStringLiteral("compareDifferences"));
    m_metrics->setObjectName(QStringLiteral("compareMetrics"));

    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Metric:")));
    controls->addWidget(m_metricBox);
    controls->addSpacing(12);
    controls->addWidget(m_groupBox);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("Target accuracy:")));
    m_target->setObjectName(QStringLiteral("compareTarget"));
    m_target->setRange(0, 1);
    m_target->setSingleStep(0.05);
    m_target->setDecimals(3);
    m_target->setSpecialValueText(tr("none"));
    m_target->setToolTip(tr("The final-metrics table shows the first round each run reached it"));
    connect(m_target, &QDoubleSpinBox::valueChanged, this, [this] { fillTables(); });
    controls->addWidget(m_target);
    controls->addStretch();
    auto *report = new QPushButton(tr("Save Report…"));
    report->setObjectName(QStringLiteral("compareReport"));
    report->setToolTip(tr("A one-page HTML report of this comparison (the same as fedwb-cli report)"));
    connect(report, &QPushButton::clicked, this, [this] {
        if (m_runs.isEmpty()) return;
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save comparison report"), QStringLiteral("comparison.html"), tr("HTML (*.html)"));
        if (path.isEmpty()) return;
        QString error;
        if (!saveReport(path, &error)) QMessageBox::warning(this, tr("Save report"), error);
    });
    controls->addWidget(report);

    auto *tables = new QSplitter(Qt::Horizontal);
    auto *diffBox = new QWidget;
    auto *diffLayout = new QVBoxLayout(diffBox);
    diffLayout->setContentsMargins(0, 0, 0, 0);
    diffLayout->addWidget(new QLabel(tr("<b>Settings that differ</b>")));
    diffLayout->addWidget(m_differences);
    auto *metricsBox = new QWidget;
    auto *metricsLayout = new QVBoxLayout(metricsBox);
    metricsLayout->setContentsMargins(0, 0, 0, 0);
    metricsLayout->addWidget(new QLabel(tr("<b>Final metrics</b>")));
    metricsLayout->addWidget(m_metrics);
    tables->addWidget(diffBox);
    tables->addWidget(metricsBox);
    tables->setStretchFactor(1, 2);

    auto *split = new QSplitter(Qt::Vertical);
    auto *chartBox = new QWidget;
    auto *chartLayout = new QVBoxLayout(chartBox);
    chartLayout->setContentsMargins(0, 0, 0, 0);
    chartLayout->addLayout(controls);
    chartLayout->addWidget(m_placeholder);
    chartLayout->addWidget(m_chartView, 1);
    split->addWidget(chartBox);
    split->addWidget(tables);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addWidget(split);
    rebuild();
}

void CompareView::setRuns(const QList<ReportRun> &runs) {
    m_runs = runs;
    rebuild();
}

void CompareView::setMetric(Metric metric) {
    m_metricBox->setCurrentIndex(int(metric));
}

CompareView::Metric CompareView::metric() const {
    return Metric(m_metricBox->currentIndex());
}

void CompareView::setGroupSweeps(bool group) {
    m_groupBox->setChecked(group);
}

void CompareView::rebuild() {
    m_curves.clear();
    const Metric which = metric();
    // Group: runs of one sweep point (same sweep id and values) when asked; every other run alone.
    QList<QJsonObject> specs;
    for (const ReportRun &r : std::as_const(m_runs))
        specs.append(r.run.spec);
    const QStringList differing = differingKeys(specs);
    QList<QList<qsizetype>> groups;
    QMap<QString, qsizetype> groupOfKey;
    for (qsizetype i = 0; i < m_runs.size(); ++i) {
        const StoredRun &r = m_runs[i].run;
        if (m_groupBox->isChecked() && !r.sweepId.isEmpty()) {
            const QString key = r.sweepId + QLatin1Char('|') +
                                QString::fromUtf8(QJsonDocument(r.sweepPoint).toJson(QJsonDocument::Compact));
            if (const auto it = groupOfKey.constFind(key); it != groupOfKey.constEnd()) {
                groups[*it].append(i);
                continue;
            }
            groupOfKey.insert(key, groups.size());
        }
        groups.append(QList<qsizetype>{i});
    }
    for (qsizetype g = 0; g < groups.size(); ++g) {
        Curve c;
        c.colour = runColour(g);
        const QList<qsizetype> &members = groups[g];
        for (qsizetype i : members)
            c.runIds.append(m_runs[i].run.id);
        if (members.size() == 1) {
            const ReportRun &r = m_runs[members.first()];
            // Named by what sets it apart: the settings that differ (run names are often the same).
            QStringList parts;
            for (const QString &key : std::as_const(differing))
                if (key != QLatin1String("run.seed") || differing.size() == 1)
                    parts << key.section(QLatin1Char('.'), -1) + QLatin1Char('=') +
                                 specValueText(r.run.spec, key);
            c.label = parts.isEmpty()
                          ? tr("run %1: %2").arg(r.run.id).arg(r.run.name)
                          : tr("run %1: %2").arg(r.run.id).arg(parts.mid(0, 3).join(QStringLiteral(", ")));
            for (const RoundMetrics &m : r.rounds)
                if (const double v = metricOf(which, m); std::isfinite(v))
                    c.points.append(QPointF(m.round, v));
        } else {
            const StoredRun &first = m_runs[members.first()].run;
            c.label = tr("%1 (%2 seeds)").arg(pointText(first.sweepPoint)).arg(members.size());
            QMap<int, QList<double>> byRound;
            for (qsizetype i : members)
                for (const RoundMetrics &m : m_runs[i].rounds)
                    if (const double v = metricOf(which, m); std::isfinite(v)) byRound[m.round].append(v);
            for (auto it = byRound.constBegin(); it != byRound.constEnd(); ++it) {
                const QList<double> &v = it.value();
                double mean = 0;
                for (double x : v)
                    mean += x;
                mean /= double(v.size());
                double sd = 0;
                if (v.size() > 1) {
                    for (double x : v)
                        sd += (x - mean) * (x - mean);
                    sd = std::sqrt(sd / double(v.size() - 1));
                }
                c.points.append(QPointF(it.key(), mean));
                c.lower.append(QPointF(it.key(), mean - sd));
                c.upper.append(QPointF(it.key(), mean + sd));
            }
        }
        m_curves.append(c);
    }

    auto *chart = new QChart;
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setTitle(m_metricBox->currentText());
    auto *x = new QValueAxis;
    x->setTitleText(tr("round"));
    x->setLabelFormat(QStringLiteral("%d"));
    auto *y = new QValueAxis;
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    double xMax = 1, yLo = std::numeric_limits<double>::infinity(), yHi = -yLo;
    for (const Curve &c : std::as_const(m_curves)) {
        for (const QPointF &p : c.points + c.lower + c.upper) {
            xMax = std::max(xMax, p.x());
            yLo = std::min(yLo, p.y());
            yHi = std::max(yHi, p.y());
        }
        if (!c.upper.isEmpty()) {
            auto *upper = new QLineSeries, *lower = new QLineSeries;
            upper->append(c.upper);
            lower->append(c.lower);
            auto *band = new QAreaSeries(upper, lower);
            QColor fill(c.colour);
            fill.setAlpha(60);
            band->setBrush(fill);
            band->setPen(Qt::NoPen);
            chart->addSeries(band);
            band->attachAxis(x);
            band->attachAxis(y);
            chart->legend()->markers(band).constFirst()->setVisible(false);
        }
        auto *line = new QLineSeries;
        line->setName(c.label);
        line->append(c.points);
        line->setPen(QPen(QColor(c.colour), 2));
        connect(line, &QLineSeries::hovered, this, [this, line](const QPointF &at, bool state) {
            if (state)
                QToolTip::showText(QCursor::pos(), valueText(line->name(), at, tr("round")), m_chartView);
            else
                QToolTip::hideText();
        });
        chart->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
    }
    const bool empty = !std::isfinite(yLo);
    if (empty) yLo = 0, yHi = 1;
    if (yHi - yLo < 1e-9) yLo -= 0.05, yHi += 0.05;
    const double pad = (yHi - yLo) * 0.05;
    x->setRange(1, std::max(2.0, xMax));
    if (xMax <= 12) // whole rounds only
        x->setTickCount(int(std::max(2.0, xMax)));
    else
        x->applyNiceNumbers();
    y->setRange(yLo >= 0 ? std::max(0.0, yLo - pad) : yLo - pad, yHi + pad);
    y->applyNiceNumbers();
    QChart *old = m_chartView->chart();
    m_chartView->setChart(chart);
    delete old;
    m_placeholder->setVisible(m_runs.size() < 2 || empty);
    if (m_runs.size() >= 2 && empty)
        m_placeholder->setText(tr("None of these runs stored %1.").arg(m_metricBox->currentText().toLower()));
    else if (m_runs.size() < 2)
        m_placeholder->setText(tr("Select two or more runs in the Runs list (Ctrl+click) to compare them."));
    fillTables(); // their colours follow the curves
}

QString CompareView::reportHtml() const {
    return comparisonReportHtml(m_runs, m_target->value());
}

void CompareView::setTargetAccuracy(double target) {
    m_target->setValue(target);
}

bool CompareView::saveReport(const QString &path, QString *error) const {
    QSaveFile file(path);
    const QByteArray html = reportHtml().toUtf8();
    if (!file.open(QIODevice::WriteOnly) || file.write(html) != html.size() || !file.commit()) {
        if (error) *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QString CompareView::colourOfRun(qint64 runId) const {
    for (const Curve &c : m_curves)
        if (c.runIds.contains(runId)) return c.colour;
    return runColour(0);
}

void CompareView::fillTables() {
    QList<QJsonObject> specs;
    for (const ReportRun &r : std::as_const(m_runs))
        specs.append(r.run.spec);
    const QStringList keys = differingKeys(specs);
    m_differences->clear();
    m_differences->setColumnCount(int(m_runs.size()) + 1);
    m_differences->setRowCount(int(keys.size()));
    QStringList header{tr("Setting")};
    for (const ReportRun &r : std::as_const(m_runs))
        header << tr("run %1").arg(r.run.id);
    m_differences->setHorizontalHeaderLabels(header);
    for (qsizetype c = 0; c < m_runs.size(); ++c)
        m_differences->horizontalHeaderItem(int(c) + 1)
            ->setData(Qt::DecorationRole, QColor(colourOfRun(m_runs[c].run.id)));
    for (qsizetype k = 0; k < keys.size(); ++k) {
        m_differences->setItem(int(k), 0, cell(keys[k]));
        for (qsizetype c = 0; c < m_runs.size(); ++c)
            m_differences->setItem(int(k), int(c) + 1, cell(specValueText(m_runs[c].run.spec, keys[k])));
    }

    const QStringList columns{tr("Run"),
                              tr("Name"),
                              tr("Rounds"),
                              tr("Final accuracy"),
                              tr("Best (round)"),
                              tr("Worst-10%"),
                              tr("Jain"),
                              tr("ε"),
                              tr("Attack success"),
                              tr("Bytes"),
                              tr("Wall time"),
                              tr("Rounds to target")};
    m_metrics->clear();
    m_metrics->setColumnCount(int(columns.size()));
    m_metrics->setHorizontalHeaderLabels(columns);
    m_metrics->setRowCount(int(m_runs.size()));
    for (qsizetype i = 0; i < m_runs.size(); ++i) {
        const FinalMetrics f = finalMetrics(m_runs[i].rounds, m_target->value());
        auto *id = cell(QString::number(m_runs[i].run.id), true);
        id->setData(Qt::DecorationRole, QColor(colourOfRun(m_runs[i].run.id)));
        const int row = int(i);
        m_metrics->setItem(row, 0, id);
        m_metrics->setItem(row, 1, cell(m_runs[i].run.name));
        m_metrics->setItem(row, 2, cell(QString::number(f.rounds), true));
        m_metrics->setItem(row, 3, cell(text(f.finalAccuracy, 4), true));
        m_metrics->setItem(row, 4,
                           cell(f.bestAccuracy
                                    ? QStringLiteral("%1 (%2)").arg(text(f.bestAccuracy, 4)).arg(*f.bestRound)
                                    : QStringLiteral("—"),
                                true));
        m_metrics->setItem(row, 5, cell(text(f.worst10, 4), true));
        m_metrics->setItem(row, 6, cell(text(f.jain, 4), true));
        m_metrics->setItem(row, 7, cell(text(f.epsilon, 3), true));
        m_metrics->setItem(row, 8, cell(text(f.asr, 4), true));
        m_metrics->setItem(row, 9, cell(QLocale().formattedDataSize(f.bytes), true));
        m_metrics->setItem(row, 10, cell(tr("%1 s").arg(f.wallSeconds, 0, 'f', 1), true));
        m_metrics->setItem(row, 11,
                           cell(m_target->value() <= 0 ? QStringLiteral("—")
                                : f.roundsToTarget     ? QString::number(*f.roundsToTarget)
                                                       : tr("not reached"),
                                true));
    }
}

} // namespace fedwb
