#include "designer/PartitionPreview.h"

#include "data/DatasetFacts.h"
#include "designer/FederationModel.h"
#include "spec/Registry.h"
#include "spec/SpecError.h"
#include "widgets/ChartExport.h"
#include "widgets/GroupColours.h"

#include <QContextMenuEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLayout>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QPaintEngine>
#include <QPainter>
#include <QThread>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace fedwb {

struct PartitionPreview::Result {
    quint64 generation = 0;
    FederationSpec spec;
    std::optional<PartitionSummary> summary;
    QString path, message; // the failure (message without the path)
};

// Lives in the preview's thread; only a context for the computations posted to it.
class PartitionPreview::Worker : public QObject {
public:
    using QObject::QObject;
};

namespace {

// What the partition depends on: the dataset and partition sections and the clients' count and groups
// (names and sizes; behaviours, per_round and sampling change nothing drawn). dataset.seed and
// partition.seed are in their sections, resolved from run.seed by validation.
QByteArray partitionKey(const FederationSpec &spec) {
    QJsonArray groups;
    for (const ClientGroup &g : spec.groups())
        groups.append(QJsonArray{g.name, g.count});
    const QJsonObject key{{QStringLiteral("dataset"), spec.section(QStringLiteral("dataset"))},
                          {QStringLiteral("partition"), spec.section(QStringLiteral("partition"))},
                          {QStringLiteral("clients"), spec.clientCount()},
                          {QStringLiteral("groups"), groups}};
    return QJsonDocument(key).toJson(QJsonDocument::Compact);
}

// Colours of the classes: twelve well-separated hues and lightnesses, then golden-angle hues.
QColor classColour(int k) {
    static const QColor palette[] = {
        QColor(0x33, 0x66, 0xCC), QColor(0xFF, 0x99, 0x22), QColor(0x33, 0xAA, 0x55),
        QColor(0xDD, 0x44, 0x44), QColor(0x99, 0x66, 0xCC), QColor(0x99, 0x66, 0x44),
        QColor(0xEE, 0x77, 0xBB), QColor(0x88, 0x88, 0x88), QColor(0xBB, 0xBB, 0x33),
        QColor(0x22, 0xBB, 0xCC), QColor(0x22, 0x33, 0x88), QColor(0x88, 0xDD, 0x66)};
    constexpr int n = int(sizeof(palette) / sizeof(palette[0]));
    if (k >= 0 && k < n) return palette[k];
    const int hue = int(std::fmod(double(k) * 137.508, 360.0));
    return QColor::fromHsv(hue, k % 2 ? 160 : 220, k % 3 ? 210 : 160);
}

std::int64_t clientTotal(const ClientSummary &c) {
    return c.trainSamples + c.testSamples;
}

// A round step for about `ticks` ticks up to `max`: 1, 2 or 5 times a power of ten.
double niceStep(double max, int ticks) {
    if (max <= 0) return 1;
    const double raw = max / ticks;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / magnitude;
    const double f = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
    return std::max(1.0, f * magnitude);
}

bool isDark(const QPalette &palette) {
    return palette.color(QPalette::Base).lightness() < 128;
}

} // namespace

// ---------------------------------------------------------------------------------------------------------
// The chart: header, bars, group strip, axes and legend, painted into a cached image (or, for a vector
// export, straight onto the painter).

class PartitionPreview::Chart : public QWidget {
public:
    explicit Chart(PartitionPreview *owner)
        : QWidget(owner)
        , m_owner(owner) {
        setMouseTracking(true);
        setMinimumSize(320, 220);
        setAttribute(Qt::WA_OpaquePaintEvent);
    }

    void invalidate() {
        m_cache = QImage();
        m_layout.reset();
        update();
    }

    struct Layout {
        QRectF header, status, plot, strip, xLabels, legend;
        double pitch = 0, barWidth = 0, yMax = 1, yStep = 1;
        int labelStep = 1;                     // every labelStep-th bar has an x label (0: none)
        QList<QPair<QRectF, int>> legendItems; // rect of the swatch + text, class (>= 0) or -1 - group index
        QString headerText;
        double headerLine1 = 0; // height of the header's first (bold) line
    };

    Layout layout(QSize size) const;
    // The layout at the widget's size, kept until the data, the size or the font change (hover asks often).
    const Layout &current() const {
        if (!m_layout || m_layoutSize != size()) {
            m_layout = layout(size());
            m_layoutSize = size();
        }
        return *m_layout;
    }
    void paintContents(QPainter &p, QSize size) const;
    int barAt(QPoint pos) const; // position in m_order, or -1
    QRect barRect(int clientId) const;

protected:
    void paintEvent(QPaintEvent *) override;
    void resizeEvent(QResizeEvent *) override { invalidate(); }
    void changeEvent(QEvent *e) override {
        if (e->type() == QEvent::PaletteChange || e->type() == QEvent::FontChange ||
            e->type() == QEvent::StyleChange)
            invalidate();
        QWidget::changeEvent(e);
    }
    bool event(QEvent *e) override;
    void mouseMoveEvent(QMouseEvent *e) override {
        const int bar = barAt(e->position().toPoint());
        if (bar != m_hover) {
            m_hover = bar;
            update();
        }
        QWidget::mouseMoveEvent(e);
    }
    void leaveEvent(QEvent *e) override {
        if (m_hover >= 0) {
            m_hover = -1;
            update();
        }
        QWidget::leaveEvent(e);
    }
    void contextMenuEvent(QContextMenuEvent *e) override;

private:
    QString statusText() const {
        if (m_owner->m_invalidWorkspace) return PartitionPreview::tr("not updated: the workspace has errors");
        if (m_owner->m_computing) return PartitionPreview::tr("updating…");
        return {};
    }
    QString headerText() const;
    QString headerToolTip() const {
        return PartitionPreview::tr(
            "<p><b>non-IID</b>: the mean over clients of the total-variation distance between a client's "
            "label shares and the label mix of all clients together (half the sum of the absolute "
            "differences of the shares). 0 means every client has the global mix (IID); values near 1 mean "
            "the clients hold different classes.</p><p><b>classes for 90%</b>: the mean over clients of the "
            "fewest classes that hold 90% of a client's samples.</p>");
    }

    PartitionPreview *m_owner;
    mutable QImage m_cache;
    mutable std::optional<Layout> m_layout;
    mutable QSize m_layoutSize;
    int m_hover = -1;
};

QString PartitionPreview::Chart::headerText() const {
    const PartitionSummary *s = m_owner->summary();
    if (!s || !m_owner->m_shownSpec) return {};
    const FederationSpec &spec = *m_owner->m_shownSpec;
    const QLocale locale;
    const ComponentSchema *dataset = Registry::global().component(QStringLiteral("dataset"), s->dataset);
    const QString partName = spec.string(QStringLiteral("partition.name"));
    const ComponentSchema *part = Registry::global().component(QStringLiteral("partitioner"), partName);
    QStringList params;
    if (part)
        for (const ParamSchema &ps : part->params) {
            const QJsonValue v = spec.value(QStringLiteral("partition.") + ps.key);
            if (v.isDouble()) params << ps.key + QLatin1Char(' ') + locale.toString(v.toDouble());
        }
    const QString partition =
        (part ? part->title : partName) +
        (params.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(params.join(QStringLiteral(", "))));
    std::int64_t minSize = std::numeric_limits<std::int64_t>::max(), maxSize = 0, sum = 0;
    for (const ClientSummary &c : s->clients) {
        minSize = std::min(minSize, clientTotal(c));
        maxSize = std::max(maxSize, clientTotal(c));
        sum += clientTotal(c);
    }
    if (s->clients.empty()) minSize = 0;
    const double mean = s->clients.empty() ? 0.0 : double(sum) / double(s->clients.size());
    QString line2 = PartitionPreview::tr("train pool %1 · test set %2 · client size mean %3, min %4, max %5")
                        .arg(locale.toString(qint64(s->trainPool)), locale.toString(qint64(s->testSet)),
                             locale.toString(mean, 'f', 0), locale.toString(qint64(minSize)),
                             locale.toString(qint64(maxSize)));
    const DatasetFacts facts = datasetFacts(s->dataset);
    if (!facts.regression && s->numClasses > 1) {
        const double tv = PartitionPreview::meanLabelDistance(*s);
        const double k90 = PartitionPreview::meanClassesFor90Percent(*s);
        line2 += PartitionPreview::tr(" · non-IID %1 (0 = IID) · 90% of a client's data in %2 of %3 classes")
                     .arg(locale.toString(tv, 'f', 2), locale.toString(k90, 'f', 1),
                          locale.toString(s->numClasses));
    }
    const QString clients =
        s->clients.size() == 1
            ? PartitionPreview::tr("1 client")
            : PartitionPreview::tr("%1 clients").arg(locale.toString(qint64(s->clients.size())));
    const QString line1 =
        PartitionPreview::tr("%1 · %2 · %3").arg(dataset ? dataset->title : s->dataset, clients, partition);
    return line1 + QLatin1Char('\n') + line2;
}

PartitionPreview::Chart::Layout PartitionPreview::Chart::layout(QSize size) const {
    Layout l;
    const QFontMetricsF fm(font());
    const double pad = 8, w = size.width(), h = size.height();
    const double statusWidth =
        std::max(fm.horizontalAdvance(PartitionPreview::tr("not updated: the workspace has errors")),
                 fm.horizontalAdvance(PartitionPreview::tr("updating…"))) +
        pad;
    // Wide: the status beside the header; narrow: the header takes the width, the status goes to the row
    // of the y axis title.
    const bool statusBeside = w >= 2.5 * statusWidth + 3 * pad;
    l.headerText = headerText();
    QFont bold = font();
    bold.setBold(true);
    const QRectF headerArea(pad, pad, std::max(10.0, w - 2 * pad - (statusBeside ? statusWidth + pad : 0)),
                            h);
    const qsizetype nl = l.headerText.indexOf(QLatin1Char('\n'));
    l.headerLine1 = QFontMetricsF(bold)
                        .boundingRect(headerArea, Qt::TextWordWrap | Qt::AlignLeft, l.headerText.left(nl))
                        .height();
    const double line2 =
        nl < 0 ? 0.0
               : fm.boundingRect(headerArea, Qt::TextWordWrap | Qt::AlignLeft, l.headerText.mid(nl + 1))
                     .height();
    l.header = QRectF(headerArea.topLeft(),
                      QSizeF(headerArea.width(), l.headerText.isEmpty() ? 0.0 : l.headerLine1 + line2));
    const double titleRow = l.header.bottom() + pad; // the y axis title (and, narrow, the status)
    l.status = statusBeside ? QRectF(w - pad - statusWidth, pad, statusWidth, fm.height())
                            : QRectF(w - pad - statusWidth, titleRow, statusWidth, fm.height());

    const PartitionSummary *s = m_owner->summary();
    if (!s) return l;
    const int n = int(s->clients.size());
    std::int64_t maxTotal = 1;
    for (const ClientSummary &c : s->clients)
        maxTotal = std::max(maxTotal, clientTotal(c));
    // The widest y label is that of the top tick, which the tick count (known with the plot's height) moves
    // a little: measure the widest of the candidates.
    const QLocale locale;
    double yLabelWidth = 0;
    for (int ticks : {2, 3, 4, 5}) {
        const double step = niceStep(double(maxTotal), ticks);
        yLabelWidth = std::max(yLabelWidth, fm.horizontalAdvance(locale.toString(
                                                qint64(std::ceil(double(maxTotal) / step) * step))));
    }

    // The legend: classes, then the groups when there are several.
    QList<QPair<QString, int>> entries;
    for (int k = 0; k < s->numClasses; ++k)
        entries.append({m_owner->classLabel(k), k});
    if (m_owner->m_shownSpec) {
        const QList<ClientGroup> groups = m_owner->m_shownSpec->groups();
        for (qsizetype g = 0; g < groups.size(); ++g)
            entries.append({PartitionPreview::tr("group %1").arg(groups[g].name), -1 - int(g)});
    }
    const double swatch = fm.height() * 0.8, gap = 14, row = fm.height() + 4;
    double x = pad, y = 0;
    for (const auto &[text, id] : entries) {
        const double itemWidth = swatch + 5 + fm.horizontalAdvance(text);
        if (id == -1 && x > pad) x += gap; // the groups after the classes, a little apart
        if (x > pad && x + itemWidth > w - pad) {
            x = pad;
            y += row;
        }
        l.legendItems.append({QRectF(x, y, itemWidth, row), id});
        x += itemWidth + gap;
    }
    const double legendHeight = entries.isEmpty() ? 0 : y + row;
    const double xLabelHeight = fm.height() * 2 + 4; // tick labels and the axis title
    const double stripHeight = 5, stripGap = 2;
    const double top = titleRow + fm.height() * 1.6;
    const double left = pad + yLabelWidth + 6;
    const double bottom = h - pad - legendHeight - pad - xLabelHeight - stripGap - stripHeight;
    l.plot = QRectF(QPointF(left, top), QPointF(w - pad - 4, std::max(top + 20, bottom)));
    // About one tick per 2.5 lines of text, at most 5.
    const int ticks = std::clamp(int(l.plot.height() / (fm.height() * 2.5)), 1, 5);
    l.yStep = niceStep(double(maxTotal), ticks);
    l.yMax = std::ceil(double(maxTotal) / l.yStep) * l.yStep;
    l.strip = QRectF(l.plot.left(), l.plot.bottom() + stripGap, l.plot.width(), stripHeight);
    l.xLabels = QRectF(l.plot.left(), l.strip.bottom() + 2, l.plot.width(), xLabelHeight);
    l.legend = QRectF(pad, l.xLabels.bottom() + pad, w - 2 * pad, legendHeight);
    for (auto &item : l.legendItems)
        item.first.translate(0, l.legend.top());

    l.pitch = n > 0 ? l.plot.width() / n : 0;
    l.barWidth = l.pitch >= 4 ? l.pitch * 0.8 : l.pitch;
    const double labelWidth = fm.horizontalAdvance(QString::number(std::max(0, n - 1))) + 8;
    l.labelStep = 0;
    if (n > 0) {
        for (int step : {1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 100000})
            if (step * l.pitch >= labelWidth) {
                l.labelStep = step;
                break;
            }
        // Sorted by size, ids at regular positions would be a random sample: label only when all fit.
        if (m_owner->m_sortBySize && l.labelStep != 1) l.labelStep = 0;
    }
    return l;
}

void PartitionPreview::Chart::paintContents(QPainter &p, QSize size) const {
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::Text);
    QColor faint = text;
    faint.setAlphaF(0.55f);
    QColor grid = text;
    grid.setAlphaF(0.12f);
    p.fillRect(QRect(QPoint(0, 0), size), pal.color(QPalette::Base));
    const Layout l = layout(size);
    const QFontMetricsF fm(font());
    QFont bold = font();
    bold.setBold(true);

    const PartitionSummary *s = m_owner->summary();
    if (!s) {
        const double boxWidth = std::min(size.width() - 48.0, fm.averageCharWidth() * 90);
        const QRectF box((size.width() - boxWidth) / 2, 24, boxWidth, size.height() - 48.0);
        p.setPen(text);
        if (!m_owner->preflightOk()) {
            const QColor alarm = isDark(pal) ? QColor(0xFF, 0x80, 0x70) : QColor(0xB0, 0x20, 0x10);
            const QString title =
                PartitionPreview::tr("The data pre-flight failed: a run would fail the same way");
            const QString path = m_owner->m_problemPath;
            const QString body =
                (path.isEmpty() ? QString() : path + QStringLiteral(": ")) + m_owner->m_problemMessage;
            const QString hint =
                path.isEmpty() ? PartitionPreview::tr(
                                     "Check the dataset and the partition; the preview follows every edit.")
                               : PartitionPreview::tr("Change %1; the preview follows every edit.").arg(path);
            p.setFont(bold);
            p.setPen(alarm);
            const QRectF t =
                QFontMetricsF(bold).boundingRect(box, Qt::TextWordWrap | Qt::AlignHCenter, title);
            double y = box.top() + std::max(0.0, (box.height() - t.height() * 4 - fm.height() * 4) / 2);
            QRectF r(box.left(), y, box.width(), t.height());
            p.drawText(r, Qt::TextWordWrap | Qt::AlignHCenter, title);
            y = r.bottom() + fm.height() * 0.8;
            p.setFont(font());
            p.setPen(text);
            const QRectF b = fm.boundingRect(QRectF(box.left(), y, box.width(), box.height()),
                                             Qt::TextWordWrap | Qt::AlignHCenter, body);
            p.drawText(QRectF(box.left(), y, box.width(), b.height()), Qt::TextWordWrap | Qt::AlignHCenter,
                       body);
            y += b.height() + fm.height() * 0.8;
            p.setPen(faint);
            p.drawText(QRectF(box.left(), y, box.width(), fm.height() * 3),
                       Qt::TextWordWrap | Qt::AlignHCenter, hint);
        } else {
            p.setPen(faint);
            p.drawText(box, Qt::AlignCenter | Qt::TextWordWrap,
                       m_owner->m_invalidWorkspace
                           ? PartitionPreview::tr("Fix the workspace's errors to see how the data is split.")
                           : PartitionPreview::tr("Computing the partition…"));
        }
        return;
    }

    // Header.
    const qsizetype nl = l.headerText.indexOf(QLatin1Char('\n'));
    p.setFont(bold);
    p.setPen(text);
    p.drawText(QRectF(l.header.left(), l.header.top(), l.header.width(), l.headerLine1), Qt::TextWordWrap,
               l.headerText.left(nl));
    p.setFont(font());
    p.setPen(faint);
    p.drawText(QRectF(l.header.left(), l.header.top() + l.headerLine1, l.header.width(),
                      l.header.height() - l.headerLine1 + fm.height()),
               Qt::TextWordWrap, l.headerText.mid(nl + 1));

    // Y axis: grid lines and labels.
    const QLocale locale;
    const auto yOf = [&](double v) { return l.plot.bottom() - v / l.yMax * l.plot.height(); };
    p.setPen(faint);
    p.drawText(QRectF(8, l.plot.top() - fm.height() * 1.6, l.plot.right() - 8, fm.height()), Qt::AlignLeft,
               PartitionPreview::tr("samples (train + test)"));
    for (double v = 0; v <= l.yMax + 0.5; v += l.yStep) {
        const double y = yOf(v);
        p.setPen(grid);
        p.drawLine(QPointF(l.plot.left(), y), QPointF(l.plot.right(), y));
        p.setPen(faint);
        p.drawText(QRectF(0, y - fm.height() / 2, l.plot.left() - 6, fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter, locale.toString(qint64(v)));
    }

    // Bars: one per client, the classes stacked from the bottom; the group strip below.
    const QVector<int> &order = m_owner->m_order;
    const bool crisp = l.pitch < 4; // thin bars: no antialiasing seams between neighbours
    p.setRenderHint(QPainter::Antialiasing, false);
    p.setPen(Qt::NoPen);
    for (int pos = 0; pos < order.size(); ++pos) {
        const ClientSummary &c = s->clients[std::size_t(order[pos])];
        const double x = l.plot.left() + pos * l.pitch + (l.pitch - l.barWidth) / 2;
        const double w = crisp ? std::max(1.0, l.pitch) : l.barWidth;
        double acc = 0;
        for (int k = 0; k < int(c.labelHistogram.size()); ++k) {
            const std::int64_t count = c.labelHistogram[std::size_t(k)];
            if (count <= 0) continue;
            const double y0 = yOf(acc), y1 = yOf(acc + double(count));
            p.fillRect(QRectF(x, y1, w, y0 - y1), classColour(k));
            acc += double(count);
        }
        // Samples the histogram does not hold (none today): drawn neutral so the height stays the total.
        if (acc < double(clientTotal(c))) {
            const double y0 = yOf(acc), y1 = yOf(double(clientTotal(c)));
            p.fillRect(QRectF(x, y1, w, y0 - y1), faint);
        }
        p.fillRect(QRectF(x, l.strip.top(), w, l.strip.height()),
                   groupColour(m_owner->m_groupIndex.value(c.group, 0)));
    }
    p.setPen(faint);
    p.drawLine(QPointF(l.plot.left(), l.plot.bottom()), QPointF(l.plot.right(), l.plot.bottom()));

    // X axis labels and title.
    if (l.labelStep > 0)
        for (int pos = 0; pos < order.size(); pos += l.labelStep) {
            const double cx = l.plot.left() + (pos + 0.5) * l.pitch;
            const QString label = QString::number(s->clients[std::size_t(order[pos])].id);
            p.drawText(QRectF(cx - 40, l.xLabels.top(), 80, fm.height()), Qt::AlignHCenter, label);
        }
    p.drawText(QRectF(l.xLabels.left(), l.xLabels.top() + fm.height() + 2, l.xLabels.width(), fm.height()),
               Qt::AlignHCenter,
               m_owner->m_sortBySize ? PartitionPreview::tr("clients, largest first (hover a bar for its id)")
                                     : PartitionPreview::tr("client id"));

    // Legend.
    const double swatch = fm.height() * 0.8;
    for (const auto &[rect, id] : l.legendItems) {
        const QRectF sw(rect.left(), rect.top() + (rect.height() - swatch) / 2, swatch, swatch);
        if (id >= 0) {
            p.fillRect(sw, classColour(id));
        } else {
            p.fillRect(QRectF(sw.left(), sw.center().y() - 2.5, swatch, 5), groupColour(-1 - id));
        }
        p.setPen(text);
        const QString label =
            id >= 0
                ? m_owner->classLabel(id)
                : PartitionPreview::tr("group %1").arg(m_owner->m_shownSpec->groups().value(-1 - id).name);
        p.drawText(QRectF(sw.right() + 5, rect.top(), rect.width() - swatch - 5, rect.height()),
                   Qt::AlignLeft | Qt::AlignVCenter, label);
    }
}

void PartitionPreview::Chart::paintEvent(QPaintEvent *) {
    QPainter p(this);
    const bool raster = p.paintEngine() && p.paintEngine()->type() == QPaintEngine::Raster;
    if (!raster) { // a vector export (SVG, PDF): draw the shapes themselves
        paintContents(p, size());
        return;
    }
    const qreal dpr = devicePixelRatioF();
    const QSize pixels = (QSizeF(size()) * dpr).toSize();
    if (m_cache.isNull() || m_cache.size() != pixels) {
        m_cache = QImage(pixels, QImage::Format_ARGB32_Premultiplied);
        m_cache.setDevicePixelRatio(dpr);
        QPainter cp(&m_cache);
        cp.setFont(font());
        paintContents(cp, size());
    }
    p.drawImage(QPoint(0, 0), m_cache);

    // Overlays that change without the data: the status and the hovered bar.
    const Layout &l = current();
    const QString status = statusText();
    if (!status.isEmpty()) {
        QColor faint = palette().color(QPalette::Text);
        faint.setAlphaF(0.55f);
        p.setPen(faint);
        QFont italic = font();
        italic.setItalic(true);
        p.setFont(italic);
        p.drawText(l.status, Qt::AlignRight | Qt::AlignTop, status);
    }
    if (m_hover >= 0 && m_owner->summary()) {
        const QVector<int> &order = m_owner->m_order;
        if (m_hover < order.size()) {
            const QRect r = barRect(m_owner->summary()->clients[std::size_t(order[m_hover])].id);
            p.setPen(QPen(palette().color(QPalette::Highlight), 1.5));
            p.setBrush(Qt::NoBrush);
            p.drawRect(QRectF(r).adjusted(-1.5, -1.5, 1.5, 1.5));
        }
    }
}

int PartitionPreview::Chart::barAt(QPoint pos) const {
    const PartitionSummary *s = m_owner->summary();
    if (!s || s->clients.empty()) return -1;
    const Layout &l = current();
    if (pos.y() < l.plot.top() || pos.y() > l.strip.bottom() + 1 || pos.x() < l.plot.left() ||
        pos.x() >= l.plot.right() || l.pitch <= 0)
        return -1;
    const int bar = int((pos.x() - l.plot.left()) / l.pitch);
    return bar >= 0 && bar < int(s->clients.size()) ? bar : -1;
}

QRect PartitionPreview::Chart::barRect(int clientId) const {
    const PartitionSummary *s = m_owner->summary();
    if (!s) return {};
    const QVector<int> &order = m_owner->m_order;
    const auto it = std::find_if(order.begin(), order.end(),
                                 [&](int i) { return s->clients[std::size_t(i)].id == clientId; });
    if (it == order.end()) return {};
    const Layout &l = current();
    const int pos = int(it - order.begin());
    const ClientSummary &c = s->clients[std::size_t(*it)];
    const double x = l.plot.left() + pos * l.pitch + (l.pitch - l.barWidth) / 2;
    const double top = l.plot.bottom() - double(clientTotal(c)) / l.yMax * l.plot.height();
    return QRectF(x, top, std::max(1.0, l.barWidth), std::max(1.0, l.plot.bottom() - top)).toAlignedRect();
}

bool PartitionPreview::Chart::event(QEvent *e) {
    if (e->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(e);
        const int bar = barAt(help->pos());
        if (bar >= 0) {
            const int id = m_owner->summary()->clients[std::size_t(m_owner->m_order[bar])].id;
            QToolTip::showText(help->globalPos(), m_owner->clientToolTip(id), this, barRect(id));
            return true;
        }
        if (m_owner->summary() && current().header.contains(help->pos())) {
            QToolTip::showText(help->globalPos(), headerToolTip(), this);
            return true;
        }
        QToolTip::hideText();
        e->ignore();
        return true;
    }
    return QWidget::event(e);
}

void PartitionPreview::Chart::contextMenuEvent(QContextMenuEvent *e) {
    QMenu menu(this);
    QAction *sort = menu.addAction(PartitionPreview::tr("Sort by size"));
    sort->setCheckable(true);
    sort->setChecked(m_owner->m_sortBySize);
    menu.addSeparator();
    QAction *png = menu.addAction(PartitionPreview::tr("Export as PNG…"));
    QAction *svg = menu.addAction(PartitionPreview::tr("Export as SVG…"));
    const bool hasData = m_owner->summary() || !m_owner->preflightOk();
    png->setEnabled(hasData);
    svg->setEnabled(hasData);
    QAction *chosen = menu.exec(e->globalPos());
    if (chosen == sort) m_owner->setSortBySize(!m_owner->m_sortBySize);
    if (chosen == png) m_owner->exportWithDialog(QStringLiteral("png"));
    if (chosen == svg) m_owner->exportWithDialog(QStringLiteral("svg"));
}

// ---------------------------------------------------------------------------------------------------------

PartitionPreview::PartitionPreview(FederationModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_chart(new Chart(this))
    , m_sortButton(new QToolButton(this))
    , m_debounce(new QTimer(this))
    , m_thread(new QThread(this))
    , m_worker(new Worker) {
    setObjectName(QStringLiteral("partitionPreview"));
    m_chart->setObjectName(QStringLiteral("partitionChart"));
    m_sortButton->setText(tr("Sort by size"));
    m_sortButton->setToolTip(tr("Order the bars by client size instead of client id"));
    m_sortButton->setCheckable(true);
    m_sortButton->setAutoRaise(true);
    connect(m_sortButton, &QToolButton::toggled, this, &PartitionPreview::setSortBySize);
    auto *exportButton = new QToolButton(this);
    exportButton->setText(tr("Export"));
    exportButton->setToolTip(tr("Save the preview as an image"));
    exportButton->setAutoRaise(true);
    exportButton->setPopupMode(QToolButton::InstantPopup);
    auto *menu = new QMenu(exportButton);
    menu->addAction(tr("PNG image…"), this, [this] { exportWithDialog(QStringLiteral("png")); });
    menu->addAction(tr("SVG drawing…"), this, [this] { exportWithDialog(QStringLiteral("svg")); });
    exportButton->setMenu(menu);

    auto *buttons = new QHBoxLayout;
    buttons->setContentsMargins(0, 0, 0, 0);
    buttons->addStretch(1);
    buttons->addWidget(m_sortButton);
    buttons->addWidget(exportButton);
    auto *column = new QVBoxLayout(this);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(0);
    column->addLayout(buttons);
    column->addWidget(m_chart, 1);

    m_debounce->setSingleShot(true);
    m_debounce->setInterval(kDebounceMs);
    connect(m_debounce, &QTimer::timeout, this, &PartitionPreview::startLatest);
    m_worker->moveToThread(m_thread);
    m_thread->setObjectName(QStringLiteral("partition preview"));
    m_thread->start(QThread::LowPriority);

    connect(m_model, &FederationModel::changed, this, &PartitionPreview::onModelChanged);
    connect(m_model, &FederationModel::validated, this, &PartitionPreview::onValidated);
    request(true); // the workspace the model holds now
}

PartitionPreview::~PartitionPreview() {
    m_thread->quit();
    m_thread->wait();
    delete m_worker;
}

bool PartitionPreview::isComputing() const {
    return m_debounce->isActive() || m_runningGeneration != 0;
}

QString PartitionPreview::preflightProblem() const {
    if (m_problemMessage.isEmpty()) return {};
    return m_problemPath.isEmpty() ? m_problemMessage
                                   : m_problemPath + QStringLiteral(": ") + m_problemMessage;
}

void PartitionPreview::onModelChanged(const QString &path) {
    if (path.isEmpty()) m_forceNext = true; // reset (a workspace opened) or a change of several paths
}

void PartitionPreview::onValidated() {
    const bool force = m_forceNext;
    m_forceNext = false;
    request(force);
}

void PartitionPreview::request(bool force) {
    const std::optional<FederationSpec> &spec = m_model->spec();
    if (!spec) {
        if (force) m_requestedKey.clear(); // a new workspace: its first valid state is computed
        if (!m_invalidWorkspace) {
            m_invalidWorkspace = true;
            m_chart->invalidate();
        }
        return;
    }
    if (m_invalidWorkspace) {
        m_invalidWorkspace = false;
        m_chart->invalidate();
    }
    QByteArray key = partitionKey(*spec);
    if (!force && key == m_requestedKey) return;
    m_requestedKey = std::move(key);
    m_requested = *spec;
    ++m_generation;
    m_debounce->start();
    setComputing(true);
}

void PartitionPreview::startLatest() {
    if (m_runningGeneration != 0 || !m_requested) return; // the result of the running one starts it
    const quint64 generation = m_generation;
    const FederationSpec spec = *m_requested;
    m_runningGeneration = generation;
    ++m_started;
    QMetaObject::invokeMethod(
        m_worker,
        [this, generation, spec] {
            auto r = std::make_shared<Result>();
            r->generation = generation;
            r->spec = spec;
            try {
                r->summary = summarizePartition(spec);
            } catch (const SpecError &e) {
                r->path = e.path();
                const QString what = QString::fromStdString(e.what());
                r->message = r->path.isEmpty() ? what : what.mid(r->path.size() + 2);
            } catch (const std::exception &e) {
                r->message = QString::fromStdString(e.what());
            }
            if (!r->summary && r->message.isEmpty()) r->message = tr("the partition could not be computed");
            QMetaObject::invokeMethod(
                this, [this, r] { onResult(r); }, Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void PartitionPreview::onResult(const std::shared_ptr<Result> &r) {
    m_runningGeneration = 0;
    if (r->generation != m_generation) { // stale: a newer request waits (debounce) or starts now
        if (!m_debounce->isActive()) startLatest();
        return;
    }
    m_shownSpec = r->spec;
    m_summary = r->summary;
    m_problemPath = r->summary ? QString() : r->path;
    m_problemMessage = r->summary ? QString() : r->message;
    m_groupIndex.clear();
    const QList<ClientGroup> groups = r->spec.groups();
    for (qsizetype g = 0; g < groups.size(); ++g)
        m_groupIndex.insert(groups[g].name, int(g));
    const DatasetFacts facts = m_summary ? datasetFacts(m_summary->dataset) : DatasetFacts{};
    m_classNames = facts.classNames;
    if (facts.regression) m_classNames = QStringList{tr("samples (regression: no classes)")};
    updateOrder();
    setComputing(m_debounce->isActive());
    m_chart->invalidate();
    Q_EMIT updated();
    Q_EMIT preflightChanged(preflightOk(), m_problemPath, m_problemMessage);
}

void PartitionPreview::setComputing(bool computing) {
    if (computing == m_computing) return;
    m_computing = computing;
    m_chart->update();
    Q_EMIT computingChanged(computing);
}

void PartitionPreview::setSortBySize(bool bySize) {
    if (bySize == m_sortBySize) return;
    m_sortBySize = bySize;
    updateOrder();
    {
        const QSignalBlocker block(m_sortButton);
        m_sortButton->setChecked(bySize);
    }
    m_chart->invalidate();
}

void PartitionPreview::updateOrder() {
    m_order.clear();
    if (!m_summary) return;
    const auto &clients = m_summary->clients;
    m_order.resize(qsizetype(clients.size()));
    std::iota(m_order.begin(), m_order.end(), 0);
    if (m_sortBySize)
        std::stable_sort(m_order.begin(), m_order.end(), [&](int a, int b) {
            return clientTotal(clients[std::size_t(a)]) > clientTotal(clients[std::size_t(b)]);
        });
    else
        std::stable_sort(m_order.begin(), m_order.end(), [&](int a, int b) {
            return clients[std::size_t(a)].id < clients[std::size_t(b)].id;
        });
}

QString PartitionPreview::classLabel(int k) const {
    if (k >= 0 && k < m_classNames.size()) return m_classNames[k];
    return tr("class %1").arg(k);
}

QWidget *PartitionPreview::chart() const {
    return m_chart;
}

QRect PartitionPreview::barRect(int clientId) const {
    return m_chart->barRect(clientId);
}

QString PartitionPreview::clientToolTip(int clientId) const {
    if (!m_summary) return {};
    const auto it = std::find_if(m_summary->clients.begin(), m_summary->clients.end(),
                                 [&](const ClientSummary &c) { return c.id == clientId; });
    if (it == m_summary->clients.end()) return {};
    const ClientSummary &c = *it;
    const QLocale locale;
    const std::int64_t total = clientTotal(c);
    QString html = tr("<b>Client %1</b> · group %2").arg(c.id).arg(c.group.toHtmlEscaped());
    html += QStringLiteral("<br>") + tr("train %1 · test %2 · total %3")
                                         .arg(locale.toString(qint64(c.trainSamples)),
                                              locale.toString(qint64(c.testSamples)),
                                              locale.toString(qint64(total)));
    html += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"1\">");
    for (int k = 0; k < int(c.labelHistogram.size()); ++k) {
        const std::int64_t n = c.labelHistogram[std::size_t(k)];
        const double share = total > 0 ? 100.0 * double(n) / double(total) : 0.0;
        html += QStringLiteral("<tr><td><span style=\"color:%1\">■</span> %2</td><td align=\"right\">&nbsp;%3"
                               "</td><td align=\"right\">&nbsp;%4%</td></tr>")
                    .arg(classColour(k).name(), classLabel(k).toHtmlEscaped(), locale.toString(qint64(n)),
                         locale.toString(share, 'f', 1));
    }
    html += QStringLiteral("</table>");
    return html;
}

QHash<QString, QVector<double>> PartitionPreview::groupLabelShares() const {
    QHash<QString, QVector<double>> out;
    if (!m_summary || !m_shownSpec) return out;
    QHash<QString, int> members;
    for (const ClientGroup &g : m_shownSpec->groups())
        out.insert(g.name, {});
    for (const ClientSummary &c : m_summary->clients) {
        const std::int64_t total =
            std::accumulate(c.labelHistogram.begin(), c.labelHistogram.end(), std::int64_t(0));
        if (total <= 0) continue;
        QVector<double> &shares = out[c.group];
        if (shares.isEmpty()) shares.fill(0.0, m_summary->numClasses);
        for (int k = 0; k < m_summary->numClasses && k < int(c.labelHistogram.size()); ++k)
            shares[k] += double(c.labelHistogram[std::size_t(k)]) / double(total);
        members[c.group] += 1;
    }
    for (auto it = out.begin(); it != out.end(); ++it)
        for (double &v : it.value())
            v /= members.value(it.key(), 1);
    return out;
}

double PartitionPreview::meanLabelDistance(const PartitionSummary &s) {
    std::vector<double> global(std::size_t(std::max(0, s.numClasses)), 0.0);
    double all = 0;
    for (const ClientSummary &c : s.clients)
        for (std::size_t k = 0; k < c.labelHistogram.size() && k < global.size(); ++k) {
            global[k] += double(c.labelHistogram[k]);
            all += double(c.labelHistogram[k]);
        }
    if (all <= 0) return std::numeric_limits<double>::quiet_NaN();
    for (double &g : global)
        g /= all;
    double sum = 0;
    int counted = 0;
    for (const ClientSummary &c : s.clients) {
        double total = 0;
        for (std::size_t k = 0; k < c.labelHistogram.size() && k < global.size(); ++k)
            total += double(c.labelHistogram[k]);
        if (total <= 0) continue;
        double tv = 0;
        for (std::size_t k = 0; k < global.size(); ++k)
            tv += std::abs((k < c.labelHistogram.size() ? double(c.labelHistogram[k]) : 0.0) / total -
                           global[k]);
        sum += tv / 2;
        ++counted;
    }
    return counted ? sum / counted : std::numeric_limits<double>::quiet_NaN();
}

double PartitionPreview::meanClassesFor90Percent(const PartitionSummary &s) {
    double sum = 0;
    int counted = 0;
    for (const ClientSummary &c : s.clients) {
        std::vector<std::int64_t> h = c.labelHistogram;
        const std::int64_t total = std::accumulate(h.begin(), h.end(), std::int64_t(0));
        if (total <= 0) continue;
        std::sort(h.begin(), h.end(), std::greater<>());
        std::int64_t acc = 0;
        int k = 0;
        while (k < int(h.size()) && double(acc) < 0.9 * double(total))
            acc += h[std::size_t(k++)];
        sum += k;
        ++counted;
    }
    return counted ? sum / counted : std::numeric_limits<double>::quiet_NaN();
}

bool PartitionPreview::exportImage(const QString &path, QString *error) {
    ensurePolished();
    if (layout()) layout()->activate(); // a preview never shown yet has laid out nothing
    return saveWidgetImage(m_chart, path, error);
}

void PartitionPreview::exportWithDialog(const QString &suffix) {
    const bool svg = suffix == QLatin1String("svg");
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export the partition preview"), QStringLiteral("partition.") + suffix,
        svg ? tr("SVG drawing (*.svg)") : tr("PNG image (*.png)"));
    if (path.isEmpty()) return;
    QString error;
    if (!exportImage(path, &error)) QMessageBox::warning(this, tr("Export the partition preview"), error);
}

} // namespace fedwb
