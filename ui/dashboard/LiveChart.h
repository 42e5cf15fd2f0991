// Test accuracy, test loss and train loss against the round. Rounds arrive into a buffer and the chart
// redraws on a single-shot ~40 ms timer, so a burst of rounds costs one redraw.
#pragma once

#include "run/RunTypes.h"

#include <QChartView>
#include <QList>
#include <QTimer>

class QChart;
class QGraphicsSimpleTextItem;
class QLineSeries;
class QValueAxis;

namespace fedwb {

class LiveChart : public QChartView {
    Q_OBJECT

public:
    static constexpr int kRedrawDelayMs = 40;

    explicit LiveChart(QWidget *parent = nullptr);
    ~LiveChart() override;

    void addRound(const fedwb::RoundMetrics &metrics);        // buffered; drawn on the next timer tick
    void setRounds(const QList<fedwb::RoundMetrics> &rounds); // replaces everything, drawn at once
    void clear();
    // Shown while no round has arrived yet ("Waiting for the first round…", "No rounds recorded" ...).
    void setPlaceholderText(const QString &text);

    int roundCount() const { return m_roundCount; }     // rounds received, drawn or not
    int plottedRoundCount() const { return m_plotted; } // rounds on the chart now
    bool redrawPending() const { return m_redrawTimer.isActive(); }
    QLineSeries *testAccuracySeries() const { return m_testAccuracy; }
    QLineSeries *testLossSeries() const { return m_testLoss; }
    QLineSeries *trainLossSeries() const { return m_trainLoss; }

Q_SIGNALS:
    void redrawn();

private:
    struct Point {
        int round = 0;
        bool evaluated = false;
        double testAccuracy = 0, testLoss = 0, trainLoss = 0;
        bool hasTrainLoss = false;
    };

    void redraw();
    void updateAxes();
    void updatePlaceholder();

    QChart *m_chart;
    QLineSeries *m_testAccuracy;
    QLineSeries *m_testLoss;
    QLineSeries *m_trainLoss;
    QValueAxis *m_roundAxis;
    QValueAxis *m_accuracyAxis;
    QValueAxis *m_lossAxis;
    QTimer m_redrawTimer;
    QList<Point> m_pending;
    int m_plotted = 0;
    QGraphicsSimpleTextItem *m_placeholderItem;
    int m_roundCount = 0;
    int m_lastRound = 0;
    double m_maxLoss = 0;
};

} // namespace fedwb
