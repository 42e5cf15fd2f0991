// The run dashboard: everything a run stores, live while it trains and for any stored run. Convergence
// (accuracy, loss), fairness over rounds (std, worst-10%, best-10%, Jain), the per-round distribution of
// client accuracy (median with a 10-90% band), privacy (epsilon against its target), attack success rate
// and bytes per round (each chart hidden while the run has no data for it), against the round, the wall
// time or the bytes sent; a clients x rounds heatmap of local accuracy and a participation timeline
// (trained, dropped, coloured by group; with remote execution the hover names the worker that trained the
// client), both drawn as images; and a sortable, filterable client table.
// Selecting a client highlights it everywhere. Rounds arriving in a burst cost one redraw (~40 ms timer).
#pragma once

#include "run/RunTypes.h"

#include <QHash>
#include <QImage>
#include <QList>
#include <QTimer>
#include <QWidget>

#include <limits>
#include <vector>

class QComboBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;
class QAreaSeries;
class QChartView;
class QLineSeries;
class QValueAxis;

namespace fedwb {

class ClientGrid;
class ClientTableModel;
class MetricPanel;

class Dashboard : public QWidget {
    Q_OBJECT

public:
    static constexpr int kRedrawDelayMs = 40;
    enum XAxis { ByRound, ByWallTime, ByBytes };
    enum RowOrder { ById, BySize, ByGroup, ByFinalAccuracy };
    // Cell states of the participation timeline.
    enum Participation : quint8 { Idle = 0, Trained = 1, Dropped = 2 };

    explicit Dashboard(QWidget *parent = nullptr);
    ~Dashboard() override;

    // A new run: its clients' groups in id order (colours) and the privacy budget (0: none).
    void startRun(int clientCount, const QStringList &groupOfClient, double targetEpsilon);
    void addRound(const fedwb::RoundMetrics &metrics); // buffered; drawn on the next timer tick
    // A stored run, drawn at once (targetEpsilon: its privacy.target_epsilon, 0 for none).
    void setRounds(const QList<fedwb::RoundMetrics> &rounds, double targetEpsilon = 0);
    void clear();

    void setXAxis(XAxis axis);
    void setRowOrder(RowOrder order);
    void selectClient(int clientId); // -1: none
    int selectedClient() const { return m_selected; }
    void flush(); // draw what is buffered now

    // What is drawn (tests, benchmarks).
    int roundCount() const { return int(m_rounds.size()); }
    int clientCount() const { return m_clients; }
    bool redrawPending() const { return m_redraw.isActive(); }
    // Rows in rowOrder(); the heatmap has one column per evaluated round, the timeline one per round.
    QImage heatmap() const {
        return m_heatmapImage.isNull() ? QImage() : m_heatmapImage.copy(0, 0, m_heatDrawn, m_clients);
    }
    QImage participation() const {
        return m_timelineImage.isNull() ? QImage() : m_timelineImage.copy(0, 0, m_timelineDrawn, m_clients);
    }
    const QList<int> &rowOrder() const { return m_order; } // client id of each image row
    QList<MetricPanel *> panels() const { return m_panels; }
    MetricPanel *panel(const QString &objectName) const;
    QTableView *clientTable() const { return m_table; }
    static QColor accuracyColour(double accuracy); // the heatmap's colour scale (NaN: not evaluated)
    // The participation timeline's hover text of a client in the round at `roundIndex` (0-based, in order):
    // "client 3 (honest), round 2: trained on worker w1".
    QString participationText(int clientId, int roundIndex) const;
    // The worker that trained the client in the last round it trained (extra.trained_by); "this machine" for
    // a fallback to local training in a remote run; empty when it never trained remotely.
    QString workerOf(int clientId) const;
    QColor groupColour(const QString &group) const;

private:
    struct Round {
        int round = 0;
        double x[3] = {0, 0, 0};     // round, wall seconds, bytes so far
        RoundMetrics summary;        // without its clients
        std::vector<float> accuracy; // per client, NaN when not evaluated
        std::vector<quint8> state;   // Participation per client
        double q10 = std::numeric_limits<double>::quiet_NaN(), q50 = q10, q90 = q10; // client accuracy
        double personalMean = q10;
    };
    void take(const RoundMetrics &m);
    void redraw();
    void redrawCharts();
    void redrawImages();
    void updateOrder();

    int m_clients = 0;
    QStringList m_groups;
    QHash<QString, QColor> m_groupColours;
    double m_targetEpsilon = 0;
    std::vector<Round> m_rounds;
    QList<RoundMetrics> m_pending;
    std::vector<std::int64_t> m_trainSamples, m_testSamples;
    std::vector<int> m_timesSelected, m_timesDropped;
    std::vector<float> m_latestAccuracy;
    std::vector<QString> m_lastWorker; // workerOf()
    bool m_anyWorker = false;          // some round has extra.trained_by: the table shows a Worker column
    double m_bytesSoFar = 0;
    int m_selected = -1;
    QList<int> m_order;
    std::vector<int> m_heatColumns; // the rounds (indices) with a heatmap column: the evaluated ones
    QTimer m_redraw;

    QComboBox *m_xAxisBox;
    QComboBox *m_orderBox;
    QLabel *m_summary;
    QList<MetricPanel *> m_panels;
    QGridLayout *m_grid;
    QList<MetricPanel *> m_shownPanels;
    ClientGrid *m_heatmap;
    ClientGrid *m_timeline;
    QImage m_heatmapImage, m_timelineImage;   // allocated with room to grow
    int m_heatDrawn = 0, m_timelineDrawn = 0; // their columns drawn so far
    bool m_imagesDirty = true;
    QTimer m_tableRefresh;
    ClientTableModel *m_tableModel;
    QSortFilterProxyModel *m_tableProxy;
    QTableView *m_table;
    QLineEdit *m_tableFilter;
};

// One small chart of named series against the dashboard's x axis; hidden while no series has a point.
// "name: value at x-title x" for a hovered point.
QString valueText(const QString &name, const QPointF &at, const QString &xTitle);

class MetricPanel : public QWidget {
    Q_OBJECT
public:
    struct Series {
        QString name;
        QColor colour;
        QList<QPointF> points;
        bool dashed = false;
        QList<QPointF> bandLower, bandUpper; // optional band drawn under the line
    };
    MetricPanel(const QString &title, QWidget *parent = nullptr);
    void setSeries(const QList<Series> &series, const QString &xTitle);
    const QList<Series> &series() const { return m_series; }
    bool hasData() const;
    QChartView *view() const { return m_view; }

private:
    static QString structureOf(const QList<Series> &series);
    QString m_title;
    QList<Series> m_series;
    QChartView *m_view;
    QString m_structure;
    QList<QLineSeries *> m_lines;
    QList<QAreaSeries *> m_bands; // nullptr where a series has no band
    QValueAxis *m_x = nullptr, *m_y = nullptr;
};

} // namespace fedwb
