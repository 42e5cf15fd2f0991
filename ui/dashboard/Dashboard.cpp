#include "dashboard/Dashboard.h"
#include "widgets/GroupColours.h"

#include "widgets/ChartExport.h"

#include <QAbstractTableModel>
#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QCursor>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QJsonValue>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineEdit>
#include <QLineSeries>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <QElapsedTimer>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

namespace fedwb {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

double quantile(const std::vector<double> &v, double q) { // of sorted v (non-empty), linear interpolation
    const double at = q * double(v.size() - 1);
    const std::size_t lo = std::size_t(std::floor(at)), hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (v[hi] - v[lo]) * (at - double(lo));
}

// At most ~2 * buckets points for a chart a few hundred pixels wide: per bucket of consecutive points its
// lowest and highest (in x order), so spikes stay visible; short series are kept as they are.
QList<QPointF> thinned(const QList<QPointF> &points, qsizetype buckets = 160) {
    if (points.size() <= 2 * buckets) return points;
    QList<QPointF> out;
    out.reserve(2 * buckets + 2);
    const double per = double(points.size()) / double(buckets);
    for (qsizetype b = 0; b < buckets; ++b) {
        const qsizetype from = qsizetype(b * per), to = std::min(points.size(), qsizetype((b + 1) * per));
        qsizetype lo = from, hi = from;
        for (qsizetype i = from; i < to; ++i) {
            if (points[i].y() < points[lo].y()) lo = i;
            if (points[i].y() > points[hi].y()) hi = i;
        }
        out.append(points[std::min(lo, hi)]);
        if (lo != hi) out.append(points[std::max(lo, hi)]);
    }
    if (out.last() != points.last()) out.append(points.last());
    return out;
}

} // namespace

// "test accuracy: 0.8123 at round 12": the nearest point's value, for a hovered series.
QString valueText(const QString &name, const QPointF &at, const QString &xTitle) {
    return QStringLiteral("%1: %2 at %3 %4")
        .arg(name)
        .arg(at.y(), 0, 'g', 5)
        .arg(xTitle.toLower())
        .arg(at.x(), 0, 'g', 6);
}

namespace {

// A range from a multiple of a round step (1, 2, 2.5 or 5 times a power of ten) to another, with at most
// `ticks` labels: small charts have room for about five (QtCharts elides labels that would overlap).
void setNiceRange(QValueAxis *axis, double lo, double hi, int ticks) {
    const double span = std::max(hi - lo, 1e-12);
    double step = 1;
    const double raw = span / (ticks - 1);
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * p >= raw) {
            step = m * p;
            break;
        }
    const double from = std::floor(lo / step) * step, to = std::ceil(hi / step) * step;
    axis->setRange(from, to);
    axis->setTickCount(int(std::lround((to - from) / step)) + 1);
}

// Bands: every k-th point (and the last), so lower and upper stay paired.
QList<QPointF> strided(const QList<QPointF> &points, qsizetype most = 320) {
    if (points.size() <= most) return points;
    const qsizetype k = (points.size() + most - 1) / most;
    QList<QPointF> out;
    for (qsizetype i = 0; i < points.size(); i += k)
        out.append(points[i]);
    if (out.last() != points.last()) out.append(points.last());
    return out;
}

} // namespace

// ---------------------------------------------------------------------------------------------------------
// A clients x rounds image, scaled to the widget without smoothing; hover names the cell, a click selects
// the client, the selected client's row is outlined.
class ClientGrid : public QWidget {
public:
    std::function<QString(int row, int column)> describe;
    std::function<void(int row)> clicked;
    const QImage *image = nullptr;
    const int *usedColumns = nullptr; // the image is allocated wider than drawn: its first *usedColumns
    int highlightRow = -1;
    QString emptyText;

    explicit ClientGrid(QWidget *parent = nullptr)
        : QWidget(parent) {
        setMouseTracking(true);
        setMinimumHeight(120);
        setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    }

protected:
    QRect area() const { return rect().adjusted(2, 2, -2, -2); }
    bool cellAt(const QPoint &p, int *row, int *column) const {
        if (!image || image->isNull() || *usedColumns == 0 || !area().contains(p)) return false;
        const QRect a = area();
        *column = std::clamp(int(double(p.x() - a.left()) / a.width() * *usedColumns), 0, *usedColumns - 1);
        *row =
            std::clamp(int(double(p.y() - a.top()) / a.height() * image->height()), 0, image->height() - 1);
        return true;
    }
    void paintEvent(QPaintEvent *) override {
        QPainter p(this);
        p.fillRect(rect(), palette().base());
        if (!image || image->isNull() || *usedColumns == 0) {
            p.setPen(palette().color(QPalette::PlaceholderText));
            p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, emptyText);
            return;
        }
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);
        const QRect a = area();
        p.drawImage(a, *image, QRect(0, 0, *usedColumns, image->height()));
        if (highlightRow >= 0 && highlightRow < image->height()) {
            const double h = double(a.height()) / image->height();
            QPen pen(palette().color(QPalette::Text));
            pen.setWidth(2);
            p.setPen(pen);
            p.setBrush(Qt::NoBrush);
            p.drawRect(QRectF(a.left(), a.top() + highlightRow * h - 1, a.width(), std::max(2.0, h) + 2));
        }
    }
    void mouseMoveEvent(QMouseEvent *e) override {
        int row = 0, column = 0;
        if (describe && cellAt(e->position().toPoint(), &row, &column))
            QToolTip::showText(e->globalPosition().toPoint(), describe(row, column), this);
        else
            QToolTip::hideText();
    }
    void mousePressEvent(QMouseEvent *e) override {
        int row = 0, column = 0;
        if (clicked && cellAt(e->position().toPoint(), &row, &column)) clicked(row);
    }
};

// ---------------------------------------------------------------------------------------------------------
class ClientTableModel : public QAbstractTableModel {
public:
    enum Column { Id, Group, Train, Test, Accuracy, Selected, Dropped, Worker, ColumnCount };
    const Dashboard *dash = nullptr;
    std::function<int()> rows;
    std::function<QVariant(int row, int column, bool sort)> value;

    int rowCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : rows(); }
    int columnCount(const QModelIndex &parent = {}) const override {
        return parent.isValid() ? 0 : ColumnCount;
    }
    QVariant data(const QModelIndex &index, int role) const override {
        if (!index.isValid()) return {};
        if (role == Qt::DisplayRole) return value(index.row(), index.column(), false);
        if (role == Qt::UserRole) return value(index.row(), index.column(), true);
        if (role == Qt::TextAlignmentRole && index.column() != Group && index.column() != Worker)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        if (role == Qt::DecorationRole && index.column() == Group)
            return dash->groupColour(value(index.row(), Group, false).toString());
        return {};
    }
    QVariant headerData(int section, Qt::Orientation o, int role) const override {
        if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
        static const char *names[] = {QT_TRANSLATE_NOOP("fedwb::Dashboard", "Client"),
                                      QT_TRANSLATE_NOOP("fedwb::Dashboard", "Group"),
                                      QT_TRANSLATE_NOOP("fedwb::Dashboard", "Train"),
                                      QT_TRANSLATE_NOOP("fedwb::Dashboard", "Test"),
                                      QT_TRANSLATE_NOOP("fedwb::Dashboard", "Accuracy"),
                                      QT_TRANSLATE_NOOP("fedwb::Dashboard", "Selected"),
                                      QT_TRANSLATE_NOOP("fedwb::Dashboard", "Dropped"),
                                      QT_TRANSLATE_NOOP("fedwb::Dashboard", "Worker")};
        return Dashboard::tr(names[section]);
    }
    void reset() {
        beginResetModel();
        endResetModel();
    }
    void changed() {
        if (rows() > 0) Q_EMIT dataChanged(index(0, 0), index(rows() - 1, ColumnCount - 1));
    }
};

// ---------------------------------------------------------------------------------------------------------
MetricPanel::MetricPanel(const QString &title, QWidget *parent)
    : QWidget(parent)
    , m_title(title)
    , m_view(new QChartView) {
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMinimumSize(300, 200);
    addSaveImageAction(m_view, title);
    auto *chart = new QChart;
    chart->setTitle(title);
    m_view->setChart(chart);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view);
    setVisible(false);
}

bool MetricPanel::hasData() const {
    return std::any_of(m_series.begin(), m_series.end(), [](const Series &s) { return !s.points.isEmpty(); });
}

// The series' names, dashes and bands: when they stay the same, the chart keeps its objects and only the
// points and ranges change (a redraw of a 500-round run then costs a few milliseconds, not a new chart).
QString MetricPanel::structureOf(const QList<Series> &series) {
    QString key;
    for (const Series &s : series)
        key += s.name + QLatin1Char(s.dashed ? 'd' : 's') + QLatin1Char(s.bandUpper.isEmpty() ? '-' : 'b') +
               s.colour.name() + QLatin1Char('|');
    return key;
}

void MetricPanel::setSeries(const QList<Series> &series, const QString &xTitle) {
    m_series = series;
    double xLo = std::numeric_limits<double>::infinity(), xHi = -xLo, yLo = xLo, yHi = -xLo;
    for (const Series &s : series)
        for (const QList<QPointF> *list : {&s.points, &s.bandLower, &s.bandUpper})
            for (const QPointF &p : *list) {
                xLo = std::min(xLo, p.x()), xHi = std::max(xHi, p.x());
                yLo = std::min(yLo, p.y()), yHi = std::max(yHi, p.y());
            }
    // QtCharts sizes its axis labels when a chart is laid out: a chart that had no data, or whose ranges
    // grew by an order of magnitude, is built again so its labels fit.
    const auto magnitude = [](double lo, double hi) {
        const double m = std::max(std::abs(lo), std::abs(hi));
        return std::isfinite(m) && m > 0 ? int(std::floor(std::log10(m))) : -99;
    };
    const QString structure =
        structureOf(series) + QStringLiteral("x%1y%2").arg(magnitude(xLo, xHi)).arg(magnitude(yLo, yHi));
    if (structure != m_structure) {
        m_structure = structure;
        m_lines.clear();
        m_bands.clear();
        auto *chart = new QChart;
        chart->setTitle(m_title);
        chart->setAnimationOptions(QChart::NoAnimation);
        chart->setMargins(QMargins(4, 4, 4, 4));
        chart->legend()->setAlignment(Qt::AlignBottom);
        QFont small = chart->legend()->font();
        small.setPointSizeF(small.pointSizeF() * 0.85);
        chart->legend()->setFont(small);
        m_x = new QValueAxis;
        m_y = new QValueAxis;
        m_x->setLabelsFont(small);
        m_y->setLabelsFont(small);
        m_x->setLabelFormat(QStringLiteral("%.4g"));
        m_y->setLabelFormat(QStringLiteral("%.3g"));
        chart->addAxis(m_x, Qt::AlignBottom);
        chart->addAxis(m_y, Qt::AlignLeft);
        for (const Series &s : series) {
            QAreaSeries *band = nullptr;
            if (!s.bandUpper.isEmpty()) {
                band = new QAreaSeries(new QLineSeries, new QLineSeries);
                QColor fill = s.colour;
                fill.setAlpha(55);
                band->setBrush(fill);
                band->setPen(Qt::NoPen);
                band->setName(s.name + tr(" 10-90%"));
                chart->addSeries(band);
                band->attachAxis(m_x);
                band->attachAxis(m_y);
            }
            m_bands.append(band);
            auto *line = new QLineSeries;
            line->setName(s.name);
            QPen pen(s.colour);
            pen.setWidthF(2);
            if (s.dashed) pen.setStyle(Qt::DashLine);
            line->setPen(pen);
            connect(line, &QLineSeries::hovered, this, [this, line](const QPointF &at, bool state) {
                if (state)
                    QToolTip::showText(QCursor::pos(),
                                       valueText(line->name(), at, m_x ? m_x->titleText() : QString()),
                                       m_view);
                else
                    QToolTip::hideText();
            });
            chart->addSeries(line);
            line->attachAxis(m_x);
            line->attachAxis(m_y);
            m_lines.append(line);
        }
        QChart *old = m_view->chart();
        m_view->setChart(chart);
        delete old;
    }
    m_x->setTitleText(xTitle);
    for (qsizetype i = 0; i < series.size(); ++i) {
        const Series &s = series[i];
        if (QAreaSeries *band = m_bands[i]) {
            band->upperSeries()->replace(strided(s.bandUpper));
            band->lowerSeries()->replace(strided(s.bandLower));
        }
        m_lines[i]->replace(thinned(s.points)); // series() keeps every point
    }
    if (std::isfinite(xLo)) {
        if (xHi - xLo < 1e-9) xHi = xLo + 1;
        if (yHi - yLo < 1e-9) yLo -= 0.05, yHi += 0.05;
        const double pad = (yHi - yLo) * 0.05;
        setNiceRange(m_x, xLo, xHi, 6);
        setNiceRange(m_y, yLo >= 0 ? std::max(0.0, yLo - pad) : yLo - pad, yHi + pad, 5);
    }
    setVisible(hasData());
}

// ---------------------------------------------------------------------------------------------------------
Dashboard::Dashboard(QWidget *parent)
    : QWidget(parent)
    , m_xAxisBox(new QComboBox)
    , m_orderBox(new QComboBox)
    , m_summary(new QLabel)
    , m_heatmap(new ClientGrid)
    , m_timeline(new ClientGrid)
    , m_tableModel(new ClientTableModel)
    , m_tableProxy(new QSortFilterProxyModel(this))
    , m_table(new QTableView)
    , m_tableFilter(new QLineEdit) {
    setObjectName(QStringLiteral("dashboard"));
    m_redraw.setSingleShot(true);
    m_redraw.setInterval(kRedrawDelayMs);
    connect(&m_redraw, &QTimer::timeout, this, &Dashboard::redraw);
    m_tableRefresh.setSingleShot(true);
    m_tableRefresh.setInterval(500);
    connect(&m_tableRefresh, &QTimer::timeout, this, [this] { m_tableModel->changed(); });

    m_xAxisBox->addItems({tr("Round"), tr("Wall time (s)"), tr("Bytes sent (MB)")});
    m_xAxisBox->setToolTip(tr("What the charts are drawn against"));
    connect(m_xAxisBox, &QComboBox::currentIndexChanged, this, [this] { redrawCharts(); });
    m_orderBox->addItems({tr("Client id"), tr("Client size"), tr("Group"), tr("Final accuracy")});
    m_orderBox->setToolTip(tr("How the rows of the heatmap and the timeline are sorted"));
    connect(m_orderBox, &QComboBox::currentIndexChanged, this, [this] {
        updateOrder();
        redrawImages();
    });

    const auto addPanel = [this](const char *name, const QString &title) {
        auto *p = new MetricPanel(title);
        p->setObjectName(QLatin1String(name));
        m_panels.append(p);
        return p;
    };
    addPanel("convergence", tr("Global model"));
    addPanel("fairness", tr("Fairness across clients"));
    addPanel("distribution", tr("Client accuracy (median, 10-90%)"));
    addPanel("privacy", tr("Privacy loss ε"));
    addPanel("attack", tr("Attack success rate"));
    addPanel("bytes", tr("MB per round"));

    m_heatmap->setObjectName(QStringLiteral("heatmap"));
    m_heatmap->image = &m_heatmapImage;
    m_heatmap->usedColumns = &m_heatDrawn;
    m_heatmap->emptyText = tr("Per-client accuracy appears here after the first evaluated round");
    m_timeline->setObjectName(QStringLiteral("participation"));
    m_timeline->image = &m_timelineImage;
    m_timeline->usedColumns = &m_timelineDrawn;
    addSaveImageAction(m_heatmap, tr("client accuracy heatmap"));
    addSaveImageAction(m_timeline, tr("participation"));
    m_timeline->emptyText = tr("Which clients trained in each round appears here");
    m_heatmap->describe = [this](int row, int column) {
        const int id = m_order.value(row, -1);
        if (id < 0 || column >= int(m_heatColumns.size())) return QString();
        const Round &r = m_rounds[std::size_t(m_heatColumns[std::size_t(column)])];
        const float a = r.accuracy[std::size_t(id)];
        return tr("client %1 (%2), round %3: accuracy %4")
            .arg(id)
            .arg(m_groups.value(id))
            .arg(r.round)
            .arg(std::isfinite(a) ? QString::number(a, 'f', 4) : tr("not evaluated"));
    };
    m_timeline->describe = [this](int row, int column) {
        return participationText(m_order.value(row, -1), column);
    };
    for (ClientGrid *g : {m_heatmap, m_timeline})
        g->clicked = [this](int row) { selectClient(m_order.value(row, -1)); };

    m_tableModel->dash = this;
    m_tableModel->rows = [this] { return m_clients; };
    m_tableModel->value = [this](int row, int column, bool sort) -> QVariant {
        const std::size_t i = std::size_t(row);
        switch (column) {
        case ClientTableModel::Id:
            return row;
        case ClientTableModel::Group:
            return m_groups.value(row);
        case ClientTableModel::Train:
            return qint64(i < m_trainSamples.size() ? m_trainSamples[i] : 0);
        case ClientTableModel::Test:
            return qint64(i < m_testSamples.size() ? m_testSamples[i] : 0);
        case ClientTableModel::Accuracy: {
            const float a = i < m_latestAccuracy.size() ? m_latestAccuracy[i] : float(kNaN);
            if (sort) return std::isfinite(a) ? double(a) : -1.0;
            return std::isfinite(a) ? QString::number(a, 'f', 4) : QStringLiteral("—");
        }
        case ClientTableModel::Selected:
            return i < m_timesSelected.size() ? m_timesSelected[i] : 0;
        case ClientTableModel::Dropped:
            return i < m_timesDropped.size() ? m_timesDropped[i] : 0;
        case ClientTableModel::Worker:
            return workerOf(row);
        }
        return {};
    };
    m_tableProxy->setSourceModel(m_tableModel);
    m_tableProxy->setSortRole(Qt::UserRole);
    m_tableProxy->setFilterKeyColumn(-1);
    m_tableProxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_table->setObjectName(QStringLiteral("clientTable"));
    m_table->setModel(m_tableProxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(ClientTableModel::Id, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setAlternatingRowColors(true);
    m_table->setColumnHidden(ClientTableModel::Worker, true); // until a round names its workers
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid()) selectClient(m_tableProxy->mapToSource(current).row());
            });
    m_tableFilter->setPlaceholderText(tr("Filter clients (id, group…)"));
    m_tableFilter->setClearButtonEnabled(true);
    connect(m_tableFilter, &QLineEdit::textChanged, m_tableProxy,
            &QSortFilterProxyModel::setFilterFixedString);

    auto *controls = new QHBoxLayout;
    controls->addWidget(m_summary, 1);
    controls->addWidget(new QLabel(tr("x axis:")));
    controls->addWidget(m_xAxisBox);
    controls->addSpacing(8);
    controls->addWidget(new QLabel(tr("rows:")));
    controls->addWidget(m_orderBox);

    auto *charts = new QWidget;
    m_grid = new QGridLayout(charts);
    m_grid->setContentsMargins(0, 0, 0, 0);

    const auto titled = [](const QString &title, QWidget *w) {
        auto *box = new QWidget;
        auto *l = new QVBoxLayout(box);
        l->setContentsMargins(0, 0, 0, 0);
        l->setSpacing(2);
        l->addWidget(new QLabel(QStringLiteral("<b>%1</b>").arg(title)));
        l->addWidget(w, 1);
        return box;
    };
    auto *tableBox = new QWidget;
    auto *tableLayout = new QVBoxLayout(tableBox);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    tableLayout->setSpacing(2);
    tableLayout->addWidget(new QLabel(tr("<b>Clients</b>")));
    tableLayout->addWidget(m_tableFilter);
    tableLayout->addWidget(m_table, 1);
    auto *bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(titled(tr("Client accuracy by round (red 0 → green 1)"), m_heatmap));
    bottom->addWidget(titled(tr("Participation (group colour: trained; black: dropped out)"), m_timeline));
    bottom->addWidget(tableBox);

    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(charts);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({440, 300});
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addLayout(controls);
    layout->addWidget(split, 1);
    clear();
}

Dashboard::~Dashboard() {
    m_table->setModel(nullptr);
    delete m_tableModel;
}

QColor Dashboard::accuracyColour(double a) {
    if (!std::isfinite(a)) return QColor(0xee, 0xee, 0xee);
    a = std::clamp(a, 0.0, 1.0);
    // red (0) -> yellow (0.5) -> green (1)
    if (a < 0.5) return QColor(215, int(48 + (220 - 48) * a * 2), 39);
    return QColor(int(215 - (215 - 26) * (a - 0.5) * 2), int(220 - (220 - 150) * (a - 0.5) * 2),
                  int(39 + (65 - 39) * (a - 0.5) * 2));
}

QString Dashboard::participationText(int id, int column) const {
    if (id < 0 || id >= m_clients || column < 0 || column >= int(m_rounds.size())) return QString();
    const Round &r = m_rounds[std::size_t(column)];
    const quint8 s = r.state[std::size_t(id)];
    QString what = s == Trained ? tr("trained") : s == Dropped ? tr("dropped out") : tr("not selected");
    // Remote execution: which worker trained it (a remote run's client missing there trained here).
    const QJsonValue trainedBy = r.summary.extra.value(QStringLiteral("trained_by"));
    if (s == Trained && trainedBy.isObject()) {
        const QString worker = trainedBy.toObject().value(QString::number(id)).toString();
        what = worker.isEmpty() ? tr("trained on this machine") : tr("trained on worker %1").arg(worker);
    }
    return tr("client %1 (%2), round %3: %4").arg(id).arg(m_groups.value(id)).arg(r.round).arg(what);
}

QString Dashboard::workerOf(int clientId) const {
    return clientId >= 0 && std::size_t(clientId) < m_lastWorker.size() ? m_lastWorker[std::size_t(clientId)]
                                                                        : QString();
}

QColor Dashboard::groupColour(const QString &group) const {
    return m_groupColours.value(group, fedwb::groupColour(0));
}

MetricPanel *Dashboard::panel(const QString &objectName) const {
    for (MetricPanel *p : m_panels)
        if (p->objectName() == objectName) return p;
    return nullptr;
}

void Dashboard::clear() {
    m_redraw.stop();
    m_pending.clear();
    m_rounds.clear();
    m_clients = 0;
    m_groups.clear();
    m_groupColours.clear();
    m_trainSamples.clear();
    m_testSamples.clear();
    m_timesSelected.clear();
    m_timesDropped.clear();
    m_latestAccuracy.clear();
    m_lastWorker.clear();
    m_anyWorker = false;
    m_table->setColumnHidden(ClientTableModel::Worker, true);
    m_bytesSoFar = 0;
    m_selected = -1;
    m_order.clear();
    m_tableModel->reset();
    redraw();
}

void Dashboard::startRun(int clientCount, const QStringList &groupOfClient, double targetEpsilon) {
    clear();
    m_clients = clientCount;
    m_groups = groupOfClient;
    while (m_groups.size() < clientCount)
        m_groups.append(QString());
    for (const QString &g : std::as_const(m_groups))
        if (!m_groupColours.contains(g))
            m_groupColours.insert(g, fedwb::groupColour(int(m_groupColours.size())));
    m_targetEpsilon = targetEpsilon;
    m_trainSamples.assign(std::size_t(clientCount), 0);
    m_testSamples.assign(std::size_t(clientCount), 0);
    m_timesSelected.assign(std::size_t(clientCount), 0);
    m_timesDropped.assign(std::size_t(clientCount), 0);
    m_latestAccuracy.assign(std::size_t(clientCount), float(kNaN));
    m_lastWorker.assign(std::size_t(clientCount), QString());
    updateOrder();
    m_tableModel->reset();
}

void Dashboard::addRound(const RoundMetrics &metrics) {
    m_pending.append(metrics);
    if (!m_redraw.isActive()) m_redraw.start();
}

void Dashboard::setRounds(const QList<RoundMetrics> &rounds, double targetEpsilon) {
    // A stored run: its clients and groups from the rows it recorded.
    int clients = 0;
    for (const RoundMetrics &m : rounds)
        for (const ClientRoundMetrics &c : m.clients)
            clients = std::max(clients, c.clientId + 1);
    QStringList groups(clients);
    for (const RoundMetrics &m : rounds)
        for (const ClientRoundMetrics &c : m.clients)
            if (groups[c.clientId].isEmpty()) groups[c.clientId] = c.group;
    startRun(clients, groups, targetEpsilon);
    for (const RoundMetrics &m : rounds)
        take(m);
    updateOrder();
    redraw();
}

void Dashboard::flush() {
    if (m_redraw.isActive()) {
        m_redraw.stop();
        redraw();
    }
    if (m_tableRefresh.isActive()) {
        m_tableRefresh.stop();
        m_tableModel->changed();
    }
}

void Dashboard::take(const RoundMetrics &m) {
    int clients = m_clients;
    for (const ClientRoundMetrics &c : m.clients)
        clients = std::max(clients, c.clientId + 1);
    if (clients > m_clients) { // a run whose size was not announced: grow
        m_clients = clients;
        while (m_groups.size() < clients)
            m_groups.append(QString());
        m_trainSamples.resize(std::size_t(clients), 0);
        m_testSamples.resize(std::size_t(clients), 0);
        m_timesSelected.resize(std::size_t(clients), 0);
        m_timesDropped.resize(std::size_t(clients), 0);
        m_latestAccuracy.resize(std::size_t(clients), float(kNaN));
        m_lastWorker.resize(std::size_t(clients));
        for (Round &r : m_rounds) {
            r.accuracy.resize(std::size_t(clients), float(kNaN));
            r.state.resize(std::size_t(clients), Idle);
        }
    }
    Round r;
    r.round = m.round;
    m_bytesSoFar += double(m.bytesUp + m.bytesDown);
    r.x[ByRound] = m.round;
    r.x[ByWallTime] = m.wallSeconds;
    r.x[ByBytes] = m_bytesSoFar / 1e6;
    r.summary = m;
    r.summary.clients.clear();
    r.summary.checkpoint.clear();
    r.accuracy.assign(std::size_t(m_clients), float(kNaN));
    r.state.assign(std::size_t(m_clients), Idle);
    const QJsonValue trainedBy = m.extra.value(QStringLiteral("trained_by")); // remote execution
    const QJsonObject workerOfClient = trainedBy.toObject();
    if (trainedBy.isObject() && !m_anyWorker) {
        m_anyWorker = true;
        m_table->setColumnHidden(ClientTableModel::Worker, false);
    }
    for (const ClientRoundMetrics &c : m.clients) {
        const std::size_t i = std::size_t(c.clientId);
        if (!c.group.isEmpty() && m_groups[c.clientId].isEmpty()) m_groups[c.clientId] = c.group;
        if (!m_groupColours.contains(m_groups[c.clientId]))
            m_groupColours.insert(m_groups[c.clientId], fedwb::groupColour(int(m_groupColours.size())));
        if (c.accuracy) {
            r.accuracy[i] = float(*c.accuracy);
            m_latestAccuracy[i] = float(*c.accuracy);
        }
        if (c.trained) {
            r.state[i] = Trained;
            ++m_timesSelected[i];
            if (trainedBy.isObject()) {
                const QString worker = workerOfClient.value(QString::number(c.clientId)).toString();
                m_lastWorker[i] = worker.isEmpty() ? tr("this machine") : worker;
            }
        } else if (c.dropped) {
            r.state[i] = Dropped;
            ++m_timesSelected[i];
            ++m_timesDropped[i];
        }
        if (c.trainSamples > 0) m_trainSamples[i] = c.trainSamples;
        if (c.testSamples > 0) m_testSamples[i] = c.testSamples;
    }
    // Personalized accuracy (run.personalize_steps, personal layers): its mean over the clients that have it.
    double personalSum = 0;
    int personalCount = 0;
    for (const ClientRoundMetrics &c : m.clients)
        if (c.personalAccuracy && std::isfinite(*c.personalAccuracy))
            personalSum += *c.personalAccuracy, ++personalCount;
    if (personalCount > 0) r.personalMean = personalSum / personalCount;
    // The distribution of this round's client accuracies, once (a redraw only reads it).
    std::vector<double> values;
    for (float a : r.accuracy)
        if (std::isfinite(a)) values.push_back(a);
    if (!values.empty()) {
        std::sort(values.begin(), values.end());
        r.q10 = quantile(values, 0.1);
        r.q50 = quantile(values, 0.5);
        r.q90 = quantile(values, 0.9);
    }
    m_rounds.push_back(std::move(r));
}

void Dashboard::redraw() {
    QElapsedTimer t;
    t.start();
    const bool grew = !m_pending.isEmpty();
    for (const RoundMetrics &m : std::as_const(m_pending))
        take(m);
    m_pending.clear();
    if (grew && (m_orderBox->currentIndex() == ByFinalAccuracy || m_order.size() != m_clients)) updateOrder();
    redrawCharts();
    redrawImages();
    if (grew && !m_tableRefresh.isActive()) m_tableRefresh.start(); // the table: at most twice a second
    // Under load the next redraw waits at least twice as long as this one took: the event loop stays free.
    m_redraw.setInterval(std::max(kRedrawDelayMs, int(2 * t.elapsed())));
    if (m_rounds.empty()) {
        m_summary->setText(tr("No rounds yet."));
    } else {
        const Round &last = m_rounds.back();
        m_summary->setText(tr("Round %1 · %2 clients · %3 s")
                               .arg(last.round)
                               .arg(m_clients)
                               .arg(last.summary.wallSeconds, 0, 'f', 1));
    }
}

void Dashboard::redrawCharts() {
    const int axis = m_xAxisBox->currentIndex();
    const QString xTitle = m_xAxisBox->currentText();
    using S = MetricPanel::Series;
    const auto make = [](const QString &name, QColor colour, bool dashed = false) {
        S series;
        series.name = name;
        series.colour = colour;
        series.dashed = dashed;
        return series;
    };
    S accuracy = make(tr("test accuracy"), QColor(0x1f, 0x77, 0xb4));
    S loss = make(tr("test loss"), QColor(0xd6, 0x5f, 0x00));
    S train = make(tr("train loss"), QColor(0x8c, 0x8c, 0x8c), true);
    S personal = make(tr("personalized mean"), QColor(0x00, 0x9E, 0x73));
    S sd = make(tr("std"), QColor(0x8c, 0x8c, 0x8c));
    S worst = make(tr("worst 10%"), QColor(0xb3, 0x26, 0x1e));
    S best = make(tr("best 10%"), QColor(0x1e, 0x7b, 0x34));
    S jain = make(tr("Jain's index"), QColor(0x55, 0x3c, 0x9a));
    S median = make(tr("median"), QColor(0x1f, 0x77, 0xb4));
    S client = make(tr("selected client"), QColor(0x00, 0x00, 0x00));
    S eps = make(tr("ε"), QColor(0x55, 0x3c, 0x9a));
    S target = make(tr("target ε"), QColor(0xb3, 0x26, 0x1e), true);
    S asr = make(tr("attack success"), QColor(0xb3, 0x26, 0x1e));
    S up = make(tr("up"), QColor(0x1f, 0x77, 0xb4));
    S down = make(tr("down"), QColor(0xd6, 0x5f, 0x00));
    if (m_selected >= 0) client.name = tr("client %1").arg(m_selected);
    for (const Round &r : m_rounds) {
        const double x = r.x[axis];
        const RoundMetrics &m = r.summary;
        if (std::isfinite(m.trainLoss)) train.points.append({x, m.trainLoss});
        if (m.evaluated) {
            if (std::isfinite(m.testAccuracy)) accuracy.points.append({x, m.testAccuracy});
            if (std::isfinite(r.personalMean)) personal.points.append({x, r.personalMean});
            if (std::isfinite(m.testLoss)) loss.points.append({x, m.testLoss});
            if (std::isfinite(m.fairness.std)) sd.points.append({x, m.fairness.std});
            if (std::isfinite(m.fairness.worst10)) worst.points.append({x, m.fairness.worst10});
            if (std::isfinite(m.fairness.best10)) best.points.append({x, m.fairness.best10});
            if (std::isfinite(m.fairness.jain)) jain.points.append({x, m.fairness.jain});
            if (std::isfinite(m.asr)) asr.points.append({x, m.asr});
            if (std::isfinite(r.q50)) {
                median.points.append({x, r.q50});
                median.bandLower.append({x, r.q10});
                median.bandUpper.append({x, r.q90});
            }
            if (m_selected >= 0 && std::isfinite(r.accuracy[std::size_t(m_selected)]))
                client.points.append({x, r.accuracy[std::size_t(m_selected)]});
        }
        if (std::isfinite(m.epsilon)) {
            eps.points.append({x, m.epsilon});
            if (m_targetEpsilon > 0) target.points.append({x, m_targetEpsilon});
        }
        if (m.bytesUp > 0 || m.bytesDown > 0) {
            up.points.append({x, double(m.bytesUp) / 1e6});
            down.points.append({x, double(m.bytesDown) / 1e6});
        }
    }
    QList<S> convergence{accuracy, loss, train};
    if (!personal.points.isEmpty()) convergence.append(personal);
    panel(QStringLiteral("convergence"))->setSeries(convergence, xTitle);
    panel(QStringLiteral("fairness"))->setSeries({sd, worst, best, jain}, xTitle);
    QList<S> distribution{median};
    if (!client.points.isEmpty()) distribution.append(client);
    panel(QStringLiteral("distribution"))->setSeries(distribution, xTitle);
    panel(QStringLiteral("privacy"))
        ->setSeries(m_targetEpsilon > 0 ? QList<S>{eps, target} : QList<S>{eps}, xTitle);
    panel(QStringLiteral("attack"))->setSeries({asr}, xTitle);
    panel(QStringLiteral("bytes"))->setSeries({up, down}, xTitle);
    // The charts with data, three to a row, in their order: no holes for the hidden ones (laid out again
    // only when which charts have data changes).
    QList<MetricPanel *> shown;
    for (MetricPanel *p : std::as_const(m_panels))
        if (p->hasData()) shown.append(p);
    if (shown != m_shownPanels) {
        m_shownPanels = shown;
        for (MetricPanel *p : std::as_const(m_panels))
            m_grid->removeWidget(p);
        for (qsizetype i = 0; i < shown.size(); ++i)
            m_grid->addWidget(shown[i], int(i / 3), int(i % 3));
    }
}

void Dashboard::updateOrder() {
    m_imagesDirty = true;
    m_order.resize(m_clients);
    std::iota(m_order.begin(), m_order.end(), 0);
    const int order = m_orderBox->currentIndex();
    if (order == BySize)
        std::stable_sort(m_order.begin(), m_order.end(), [this](int a, int b) {
            return m_trainSamples[std::size_t(a)] > m_trainSamples[std::size_t(b)];
        });
    else if (order == ByGroup)
        std::stable_sort(m_order.begin(), m_order.end(),
                         [this](int a, int b) { return m_groups.value(a) < m_groups.value(b); });
    else if (order == ByFinalAccuracy)
        std::stable_sort(m_order.begin(), m_order.end(), [this](int a, int b) {
            const float x = m_latestAccuracy[std::size_t(a)], y = m_latestAccuracy[std::size_t(b)];
            return (std::isfinite(x) ? x : -1.f) > (std::isfinite(y) ? y : -1.f);
        });
}

void Dashboard::redrawImages() {
    const int rounds = int(m_rounds.size());
    // The heatmap has a column per evaluated round (clients are evaluated then), the timeline one per round.
    // Images are allocated with room to grow: a new round paints only its own column; a new row order (or
    // more clients) paints everything again.
    if (m_imagesDirty) {
        m_heatDrawn = m_timelineDrawn = 0;
        m_heatColumns.clear();
        m_heatmapImage = m_timelineImage = QImage();
    }
    for (int c = m_timelineDrawn; c < rounds; ++c)
        if (m_rounds[std::size_t(c)].summary.evaluated) m_heatColumns.push_back(c);
    const auto fit = [this](QImage &image, int needed) {
        if (needed == 0 || m_clients == 0) return;
        if (!image.isNull() && image.width() >= needed && image.height() == m_clients) return;
        QImage grown(std::max(64, needed * 2), m_clients, QImage::Format_RGB32);
        grown.fill(qRgb(0xf7, 0xf7, 0xf7));
        if (!image.isNull() && image.height() == m_clients) { // keep the columns already drawn
            QPainter p(&grown);
            p.drawImage(0, 0, image);
        }
        image = grown;
    };
    if (m_clients == 0 || rounds == 0) {
        m_heatmapImage = QImage();
        m_timelineImage = QImage();
        m_heatDrawn = m_timelineDrawn = 0;
    } else {
        fit(m_timelineImage, rounds);
        fit(m_heatmapImage, int(m_heatColumns.size()));
        const QRgb idle = qRgb(0xf7, 0xf7, 0xf7), dropped = qRgb(0x20, 0x20, 0x20);
        std::array<QRgb, 256> scale;
        for (int i = 0; i < 256; ++i)
            scale[std::size_t(i)] = accuracyColour(i / 255.0).rgb();
        const QRgb missing = accuracyColour(kNaN).rgb();
        for (int row = 0; row < m_clients; ++row) {
            const int id = m_order[row];
            const QRgb group = groupColour(m_groups.value(id)).rgb();
            auto *time = reinterpret_cast<QRgb *>(m_timelineImage.scanLine(row));
            for (int c = m_timelineDrawn; c < rounds; ++c) {
                const quint8 s = m_rounds[std::size_t(c)].state[std::size_t(id)];
                time[c] = s == Trained ? group : s == Dropped ? dropped : idle;
            }
            if (m_heatmapImage.isNull()) continue;
            auto *heat = reinterpret_cast<QRgb *>(m_heatmapImage.scanLine(row));
            for (std::size_t k = std::size_t(m_heatDrawn); k < m_heatColumns.size(); ++k) {
                const float a = m_rounds[std::size_t(m_heatColumns[k])].accuracy[std::size_t(id)];
                heat[k] = std::isfinite(a) ? scale[std::size_t(std::clamp(int(std::lround(a * 255)), 0, 255))]
                                           : missing;
            }
        }
        m_timelineDrawn = rounds;
        m_heatDrawn = int(m_heatColumns.size());
    }
    m_imagesDirty = false;
    const int row = m_selected >= 0 ? int(m_order.indexOf(m_selected)) : -1;
    m_heatmap->highlightRow = row;
    m_timeline->highlightRow = row;
    m_heatmap->update();
    m_timeline->update();
}

void Dashboard::setXAxis(XAxis axis) {
    m_xAxisBox->setCurrentIndex(int(axis));
}

void Dashboard::setRowOrder(RowOrder order) {
    m_orderBox->setCurrentIndex(int(order));
}

void Dashboard::selectClient(int clientId) {
    if (clientId >= m_clients) clientId = -1;
    if (clientId == m_selected) return;
    m_selected = clientId;
    redrawCharts();
    redrawImages();
    if (clientId >= 0) {
        const QModelIndex at = m_tableProxy->mapFromSource(m_tableModel->index(clientId, 0));
        if (at.isValid() && m_table->currentIndex().row() != at.row()) {
            const QSignalBlocker block(m_table->selectionModel());
            m_table->selectionModel()->setCurrentIndex(at, QItemSelectionModel::ClearAndSelect |
                                                               QItemSelectionModel::Rows);
            m_table->scrollTo(at);
        }
    }
}

} // namespace fedwb
