#include "dashboard/LiveChart.h"

#include <QChart>
#include <QFont>
#include <QGraphicsSimpleTextItem>
#include <QLegend>
#include <QLineSeries>
#include <QPen>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace fedwb {

namespace {

const QColor kAccuracyColor(0x1f, 0x77, 0xb4);
const QColor kTestLossColor(0xd6, 0x5f, 0x00);
const QColor kTrainLossColor(0x8c, 0x8c, 0x8c);

// 1, 2, 2.5, 5 times a power of ten, at least `x`.
double niceStep(double x) {
    if (!(x > 0) || !std::isfinite(x)) return 1;
    const double p = std::pow(10.0, std::floor(std::log10(x)));
    const double f = x / p;
    const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * p;
}

QLineSeries *makeSeries(const QString &name, const QColor &color, Qt::PenStyle style, qreal width) {
    auto *series = new QLineSeries;
    series->setName(name);
    QPen pen(color);
    pen.setWidthF(width);
    pen.setStyle(style);
    series->setPen(pen);
    series->setColor(color);
    return series;
}

} // namespace

LiveChart::LiveChart(QWidget *parent)
    : QChartView(parent)
    , m_chart(new QChart)
    , m_testAccuracy(makeSeries(tr("Test accuracy"), kAccuracyColor, Qt::SolidLine, 2.2))
    , m_testLoss(makeSeries(tr("Test loss"), kTestLossColor, Qt::SolidLine, 2.2))
    , m_trainLoss(makeSeries(tr("Train loss"), kTrainLossColor, Qt::DashLine, 1.6))
    , m_roundAxis(new QValueAxis)
    , m_accuracyAxis(new QValueAxis)
    , m_lossAxis(new QValueAxis)
    , m_placeholderItem(new QGraphicsSimpleTextItem(m_chart)) {
    m_chart->setTheme(QChart::ChartThemeLight);
    m_chart->setBackgroundRoundness(0);
    m_chart->setMargins(QMargins(6, 6, 6, 6));
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->setAnimationOptions(QChart::NoAnimation);

    m_chart->addSeries(m_testAccuracy);
    m_chart->addSeries(m_testLoss);
    m_chart->addSeries(m_trainLoss);

    m_roundAxis->setTitleText(tr("Round"));
    m_roundAxis->setLabelFormat(QStringLiteral("%d"));
    m_roundAxis->setTickType(QValueAxis::TicksDynamic);
    m_roundAxis->setTickAnchor(0);
    m_roundAxis->setTickInterval(1);
    m_roundAxis->setMinorTickCount(0);

    m_accuracyAxis->setTitleText(tr("Test accuracy"));
    m_accuracyAxis->setRange(0, 1);
    m_accuracyAxis->setTickCount(6);
    m_accuracyAxis->setLabelFormat(QStringLiteral("%.1f"));
    m_accuracyAxis->setLabelsColor(kAccuracyColor);
    m_accuracyAxis->setTitleBrush(kAccuracyColor);

    m_lossAxis->setTitleText(tr("Loss"));
    m_lossAxis->setTickCount(6); // same count as the accuracy axis, so the grid lines coincide
    m_lossAxis->setGridLineVisible(false);
    m_lossAxis->setLabelsColor(kTestLossColor);
    m_lossAxis->setTitleBrush(kTestLossColor);

    m_chart->addAxis(m_roundAxis, Qt::AlignBottom);
    m_chart->addAxis(m_accuracyAxis, Qt::AlignLeft);
    m_chart->addAxis(m_lossAxis, Qt::AlignRight);
    for (QLineSeries *s : {m_testAccuracy, m_testLoss, m_trainLoss})
        s->attachAxis(m_roundAxis);
    m_testAccuracy->attachAxis(m_accuracyAxis);
    m_testLoss->attachAxis(m_lossAxis);
    m_trainLoss->attachAxis(m_lossAxis);

    QFont placeholderFont = font();
    placeholderFont.setPointSizeF(placeholderFont.pointSizeF() * 1.15);
    m_placeholderItem->setFont(placeholderFont);
    m_placeholderItem->setBrush(QColor(0x80, 0x80, 0x80));
    m_placeholderItem->setZValue(10);
    connect(m_chart, &QChart::plotAreaChanged, this, [this] { updatePlaceholder(); });

    setChart(m_chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumSize(360, 240);

    m_redrawTimer.setSingleShot(true);
    m_redrawTimer.setInterval(kRedrawDelayMs);
    connect(&m_redrawTimer, &QTimer::timeout, this, &LiveChart::redraw);

    setPlaceholderText(tr("No rounds yet"));
    updateAxes();
}

LiveChart::~LiveChart() {
    disconnect(m_chart, nullptr, this, nullptr);
}

void LiveChart::addRound(const RoundMetrics &metrics) {
    Point p;
    p.round = metrics.round;
    p.evaluated = metrics.evaluated;
    p.testAccuracy = metrics.testAccuracy;
    p.testLoss = metrics.testLoss;
    p.trainLoss = metrics.trainLoss;
    p.hasTrainLoss = metrics.clientsSelected > 0 && std::isfinite(metrics.trainLoss);
    m_pending.append(p);
    ++m_roundCount;
    if (!m_redrawTimer.isActive()) m_redrawTimer.start(); // not restarted: a steady stream still redraws
}

void LiveChart::setRounds(const QList<RoundMetrics> &rounds) {
    clear();
    for (const RoundMetrics &m : rounds)
        addRound(m);
    m_redrawTimer.stop();
    redraw();
}

void LiveChart::clear() {
    m_redrawTimer.stop();
    m_pending.clear();
    m_testAccuracy->clear();
    m_testLoss->clear();
    m_trainLoss->clear();
    m_roundCount = 0;
    m_plotted = 0;
    m_lastRound = 0;
    m_maxLoss = 0;
    updateAxes();
    updatePlaceholder();
}

void LiveChart::setPlaceholderText(const QString &text) {
    m_placeholderItem->setText(text);
    updatePlaceholder();
}

void LiveChart::redraw() {
    if (m_pending.isEmpty()) return;
    QList<QPointF> accuracy, testLoss, trainLoss;
    for (const Point &p : std::as_const(m_pending)) {
        if (p.evaluated) {
            if (std::isfinite(p.testAccuracy)) accuracy.append(QPointF(p.round, p.testAccuracy));
            if (std::isfinite(p.testLoss)) {
                testLoss.append(QPointF(p.round, p.testLoss));
                m_maxLoss = std::max(m_maxLoss, p.testLoss);
            }
        }
        if (p.hasTrainLoss) {
            trainLoss.append(QPointF(p.round, p.trainLoss));
            m_maxLoss = std::max(m_maxLoss, p.trainLoss);
        }
        m_lastRound = std::max(m_lastRound, p.round);
    }
    m_plotted += int(m_pending.size());
    m_pending.clear();
    // One append per series: each append is one repaint of that series.
    if (!accuracy.isEmpty()) m_testAccuracy->append(accuracy);
    if (!testLoss.isEmpty()) m_testLoss->append(testLoss);
    if (!trainLoss.isEmpty()) m_trainLoss->append(trainLoss);
    const bool showPoints = m_lastRound <= 40;
    for (QLineSeries *s : {m_testAccuracy, m_testLoss, m_trainLoss})
        s->setPointsVisible(showPoints);
    updateAxes();
    updatePlaceholder();
    Q_EMIT redrawn();
}

void LiveChart::updateAxes() {
    const int lastRound = std::max(m_lastRound, 2);
    m_roundAxis->setRange(1, lastRound);
    double roundStep = std::max(1.0, niceStep(lastRound / 6.0));
    if (roundStep != std::floor(roundStep)) roundStep = 5; // 2.5 rounds: whole rounds only
    m_roundAxis->setTickInterval(roundStep);

    const double step = niceStep((m_maxLoss > 0 ? m_maxLoss * 1.04 : 1.0) / 5.0);
    m_lossAxis->setRange(0, 5 * step);
    // Enough decimals to tell the ticks apart: 0.25 -> 2, 0.5 -> 1, 2.5 -> 1, 5 -> 0.
    const int exponent = int(std::floor(std::log10(step) + 1e-9));
    const bool quarter = std::abs(step / std::pow(10.0, exponent) - 2.5) < 1e-9;
    const int decimals = std::max(0, -exponent + (quarter ? 1 : 0));
    m_lossAxis->setLabelFormat(QStringLiteral("%.") + QString::number(decimals) + QStringLiteral("f"));
}

void LiveChart::updatePlaceholder() {
    const bool empty = m_plotted == 0;
    m_placeholderItem->setVisible(empty);
    if (!empty) return;
    const QRectF area = m_chart->plotArea();
    const QRectF text = m_placeholderItem->boundingRect();
    m_placeholderItem->setPos(area.center() - QPointF(text.width() / 2, text.height() / 2));
}

} // namespace fedwb
