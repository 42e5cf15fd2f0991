// Compare two or more stored runs: one chart of a chosen metric with one colour per run (the colours of
// fedwb-cli report), runs of one sweep grid point drawn as their mean with a mean +- std band, the settings
// that differ between the runs, and their final metrics side by side. Fed with runs as stored; the view
// never computes a metric itself beyond what engine/metrics/Comparison.h does.
#pragma once

#include "metrics/Report.h"

#include <QChartView>
#include <QList>
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QCheckBox;
class QLabel;
class QTableWidget;
class QLineSeries;
class QAreaSeries;

namespace fedwb {

class CompareView : public QWidget {
    Q_OBJECT

public:
    enum Metric { TestAccuracy, TestLoss, Worst10, Jain, Epsilon, AttackSuccess, MetricCount };

    explicit CompareView(QWidget *parent = nullptr);

    void setRuns(const QList<ReportRun> &runs);
    const QList<ReportRun> &runs() const { return m_runs; }
    void setMetric(Metric metric);
    Metric metric() const;
    // Runs sharing a sweep id and grid point become one mean line with a +- std band.
    void setGroupSweeps(bool group);

    // What the chart shows now (for tests and exports).
    struct Curve {
        QString label;
        QString colour;
        QList<QPointF> points;       // (round, value) or (round, mean)
        QList<QPointF> lower, upper; // the band (empty for a single run)
        QList<qint64> runIds;
    };
    const QList<Curve> &curves() const { return m_curves; }
    QTableWidget *differencesTable() const { return m_differences; }
    QTableWidget *metricsTable() const { return m_metrics; }
    QChartView *chartView() const { return m_chartView; }
    QString reportHtml() const; // the fedwb-cli report of these runs, with the target accuracy set here
    void setTargetAccuracy(double target);                      // 0: none
    bool saveReport(const QString &path, QString *error) const; // whole or not at all
    QString colourOfRun(qint64 runId) const;                    // the colour of the curve that draws it

private:
    void rebuild();
    void fillTables();

    QList<ReportRun> m_runs;
    QList<Curve> m_curves;
    QComboBox *m_metricBox;
    QCheckBox *m_groupBox;
    QLabel *m_placeholder;
    QChartView *m_chartView;
    QTableWidget *m_differences;
    QTableWidget *m_metrics;
    QDoubleSpinBox *m_target;
};

} // namespace fedwb
