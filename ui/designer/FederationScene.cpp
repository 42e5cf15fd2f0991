#include "designer/FederationScene.h"

#include "data/DatasetFacts.h"
#include "designer/ComponentKinds.h"
#include "designer/FederationModel.h"
#include "model/ModelFacts.h"
#include "run/Experiment.h"
#include "spec/Registry.h"
#include "spec/Schema.h"
#include "widgets/GroupColours.h"

#include <QEvent>
#include <QFontMetricsF>
#include <QGraphicsObject>
#include <QGraphicsSceneMouseEvent>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QMimeData>
#include <QPainter>
#include <QPainterPath>
#include <QRegularExpression>
#include <QStyleOptionGraphicsItem>
#include <QUndoStack>

#include <algorithm>
#include <cmath>

namespace fedwb {

const QString FederationScene::kGroupsMimeType = QStringLiteral("application/x-fedwb-client-groups");

namespace {

// Geometry of the default layout and of the nodes, in scene units (pixels at zoom 1).
constexpr qreal kDataWidth = 216;
constexpr qreal kGroupWidth = 226;
constexpr qreal kServerWidth = 262;
constexpr qreal kPad = 10;
constexpr qreal kRowPad = 8;
constexpr qreal kAccent = 5;
constexpr qreal kRadius = 8;
constexpr qreal kGlyphHeight = 22;
constexpr qreal kColumnGap = 120;
constexpr qreal kGroupGap = 16;
constexpr qreal kRowGap = 12;

QColor mix(const QColor &a, const QColor &b, qreal t) {
    return QColor::fromRgbF(
        float(a.redF() * (1 - t) + b.redF() * t), float(a.greenF() * (1 - t) + b.greenF() * t),
        float(a.blueF() * (1 - t) + b.blueF() * t), float(a.alphaF() * (1 - t) + b.alphaF() * t));
}

bool isDark(const QPalette &palette) {
    return palette.color(QPalette::Base).lightnessF() < 0.5;
}

QColor errorColour(const QPalette &palette) {
    return isDark(palette) ? QColor(0xff, 0x6b, 0x5e) : QColor(0xd0, 0x21, 0x1c);
}

struct Fonts {
    QFont caption, title, detail, small;
    explicit Fonts(const QFont &base)
        : caption(base)
        , title(base)
        , detail(base)
        , small(base) {
        const qreal size = base.pointSizeF() > 0 ? base.pointSizeF() : 9.0;
        caption.setPointSizeF(size * 0.78);
        caption.setWeight(QFont::Bold);
        caption.setLetterSpacing(QFont::PercentageSpacing, 106);
        title.setPointSizeF(size * 1.08);
        title.setWeight(QFont::DemiBold);
        detail.setPointSizeF(size * 0.92);
        small.setPointSizeF(size * 0.8);
    }
};

// "a · b · c" split into lines no wider than `width` at the separators; at most `maxLines`, the last one
// holding the rest, elided.
QStringList wrapPhrases(const QString &text, const QFontMetricsF &fm, qreal width, int maxLines) {
    static const QString sep = QStringLiteral(" · ");
    QStringList lines;
    QString current;
    for (const QString &p : text.split(sep)) {
        if (current.isEmpty()) {
            current = p;
            continue;
        }
        const QString candidate = current + sep + p;
        if (lines.size() == maxLines - 1 || fm.horizontalAdvance(candidate) <= width) {
            current = candidate;
        } else {
            lines.append(current);
            current = p;
        }
    }
    if (!current.isEmpty()) lines.append(current);
    for (QString &l : lines)
        l = fm.elidedText(l, Qt::ElideRight, width);
    return lines;
}

QString joinPhrases(const QStringList &phrases) {
    return phrases.join(QStringLiteral(" · "));
}

// Values set in the workspace that differ from their schema default, as "key value" phrases.
QStringList setPhrases(const FederationModel &model, const QStringList &paths,
                       const QStringList &skipKeys = {}) {
    QStringList out;
    for (const QString &path : paths) {
        const QString key = path.section(QLatin1Char('.'), -1);
        if (skipKeys.contains(key)) continue;
        const QJsonValue v = model.value(path);
        if (v.isUndefined() || v.isNull()) continue;
        const ParamSchema *p = model.paramSchema(path);
        if (p && (p->type == ParamType::String || p->type == ParamType::GroupList)) continue;
        if (p && v == p->defaultValue) continue;
        out.append(paramPhrases(model, {path}, false));
    }
    return out;
}

} // namespace

// ---------------------------------------------------------------------------------------------------------
// The items

namespace canvas {

enum class Role { Node, Row, Header };

struct Content {
    QString caption;
    QString title;
    QString tag;
    bool tagChip = false; // drawn as a pill (a stage's state) rather than as plain text (a group's count)
    bool tagActive = false;
    QStringList lines; // each " · "-joined phrases, wrapped at the separators
    int badge = -1;    // a BehaviourKind drawn before the first line
    QColor accent;     // the bar on the left (a group's colour); invalid: none
    bool inactive = false;
    bool glyph = false;
    QStringList errors;
    QString help;
};

class Card : public QGraphicsObject {
public:
    Card(Role role, QString id, qreal width, QGraphicsItem *parent = nullptr)
        : QGraphicsObject(parent)
        , m_role(role)
        , m_id(std::move(id))
        , m_width(width) {
        setFlag(ItemIsSelectable);
        if (role == Role::Node) {
            setFlag(ItemIsMovable);
            setFlag(ItemSendsGeometryChanges);
        }
    }

    const QString &id() const { return m_id; }
    void setId(const QString &id) { m_id = id; }
    Role role() const { return m_role; }
    const Content &content() const { return m_content; }
    qreal width() const { return m_width; }
    qreal height() const { return m_height; }
    QRectF cardRect() const { return QRectF(0, 0, m_width, m_height); }

    void setContent(const Content &content) {
        m_content = content;
        relayout();
        QStringList tip;
        if (!content.errors.isEmpty()) {
            for (const QString &e : content.errors)
                tip.append(FederationScene::tr("Error: %1").arg(e));
        }
        if (!content.help.isEmpty()) tip.append(content.help);
        setToolTip(tip.join(QLatin1Char('\n')));
    }
    void setGlyph(const QList<QVector<double>> &perClient) {
        if (perClient == m_glyph) return;
        m_glyph = perClient;
        update();
    }
    bool hasGlyphData() const { return !m_glyph.isEmpty(); }

    void relayout() {
        const Fonts f(scene() ? scene()->font() : QFont());
        const QFontMetricsF cap(f.caption), title(f.title), detail(f.detail);
        const qreal pad = m_role == Role::Node ? kPad : kRowPad;
        const qreal x0 = pad + (m_content.accent.isValid() ? kAccent + 2 : 0);
        const qreal textWidth = m_width - x0 - pad;
        m_visualLines.clear();
        qreal y = pad - 1;
        if (!m_content.caption.isEmpty()) y += cap.height() + 3;
        if (!m_content.title.isEmpty()) y += title.height() + 2;
        if (!m_content.inactive) {
            for (int i = 0; i < m_content.lines.size(); ++i) {
                const qreal indent = (i == 0 && m_content.badge >= 0) ? detail.height() + 4 : 0;
                const QStringList wrapped = wrapPhrases(m_content.lines[i], detail, textWidth - indent, 2);
                for (int k = 0; k < wrapped.size(); ++k)
                    m_visualLines.append({wrapped[k], k == 0 && i == 0 && m_content.badge >= 0});
                y += wrapped.size() * (detail.height() + 1);
            }
            if (m_content.glyph) y += 6 + kGlyphHeight;
        }
        y += pad;
        if (m_content.caption.isEmpty() && m_content.title.isEmpty() && m_visualLines.isEmpty()) y = 2 * pad;
        if (!qFuzzyCompare(y, m_height)) {
            prepareGeometryChange();
            m_height = y;
        }
        update();
    }

    QRectF boundingRect() const override { return cardRect().adjusted(-5, -5, 5, 6); }
    QPainterPath shape() const override {
        QPainterPath p;
        p.addRoundedRect(cardRect(), kRadius, kRadius);
        return p;
    }

    void paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) override;

    QString text() const {
        QStringList out;
        if (!m_content.caption.isEmpty()) out.append(m_content.caption);
        if (!m_content.title.isEmpty()) out.append(m_content.title);
        if (!m_content.tag.isEmpty()) out.append(m_content.tag);
        if (!m_content.inactive) out.append(m_content.lines);
        return out.join(QLatin1Char('\n'));
    }

protected:
    QVariant itemChange(GraphicsItemChange change, const QVariant &value) override {
        if (change == ItemPositionHasChanged || change == ItemSelectedHasChanged) {
            if (auto *s = qobject_cast<FederationScene *>(scene())) {
                if (change == ItemPositionHasChanged) s->nodeMoved();
            }
            if (change == ItemSelectedHasChanged) setZValue(isSelected() && m_role == Role::Node ? 1 : 0);
        }
        return QGraphicsObject::itemChange(change, value);
    }
    void mousePressEvent(QGraphicsSceneMouseEvent *event) override {
        if (m_role == Role::Node) {
            QGraphicsObject::mousePressEvent(event);
            return;
        }
        // A server row: selected here; the press then goes on to the server frame, which moves.
        if (event->button() == Qt::LeftButton) {
            if (event->modifiers() & Qt::ControlModifier) {
                setSelected(!isSelected());
            } else if (!isSelected()) {
                if (scene()) scene()->clearSelection();
                setSelected(true);
            }
        }
        event->ignore();
    }

private:
    struct VisualLine {
        QString text;
        bool badge;
    };
    Role m_role;
    QString m_id;
    qreal m_width;
    qreal m_height = 40;
    Content m_content;
    QList<VisualLine> m_visualLines;
    QList<QVector<double>> m_glyph;

    void paintGlyph(QPainter *painter, const QRectF &rect, const QPalette &palette, const Fonts &fonts) const;
};

void Card::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) {
    const QPalette palette = scene() ? scene()->palette() : QPalette();
    const Fonts fonts(scene() ? scene()->font() : QFont());
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::TextAntialiasing);
    const QColor text = palette.color(QPalette::Text);
    const QColor base = palette.color(QPalette::Base);
    const bool inactive = m_content.inactive;
    const QColor detailColour = mix(text, base, inactive ? 0.55 : 0.28);
    const QColor captionColour = mix(text, base, inactive ? 0.55 : 0.45);
    const QRectF r = cardRect();

    if (m_role != Role::Header) {
        if (m_role == Role::Node) {
            QColor shadow = palette.color(QPalette::Shadow);
            shadow.setAlphaF(isDark(palette) ? 0.45f : 0.16f);
            painter->setPen(Qt::NoPen);
            painter->setBrush(shadow);
            painter->drawRoundedRect(r.translated(0, 2), kRadius, kRadius);
        }
        QColor fill = m_role == Role::Node ? base : mix(palette.color(QPalette::AlternateBase), base, 0.25);
        if (inactive) fill = mix(base, palette.color(QPalette::Window), 0.5);
        QPen border(mix(palette.color(QPalette::Mid), base, m_role == Role::Node ? 0.1 : 0.35), 1);
        if (!m_content.errors.isEmpty()) border = QPen(errorColour(palette), 1.8);
        if (inactive && m_content.errors.isEmpty()) border.setStyle(Qt::DashLine);
        painter->setPen(border);
        painter->setBrush(fill);
        const qreal radius = m_role == Role::Node ? kRadius : kRadius - 2;
        painter->drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius);
        if (m_content.accent.isValid()) {
            QPainterPath clip;
            clip.addRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius);
            painter->save();
            painter->setClipPath(clip);
            painter->fillRect(QRectF(0, 0, kAccent, r.height()), m_content.accent);
            painter->restore();
        }
    }
    if (isSelected()) {
        QPen pen(palette.color(QPalette::Highlight), 2.2);
        painter->setPen(pen);
        painter->setBrush(Qt::NoBrush);
        painter->drawRoundedRect(r.adjusted(-3, -3, 3, 3), kRadius + 2, kRadius + 2);
    }

    const QFontMetricsF cap(fonts.caption), title(fonts.title), detail(fonts.detail);
    const qreal pad = m_role == Role::Node ? kPad : kRowPad;
    const qreal x0 = pad + (m_content.accent.isValid() ? kAccent + 2 : 0);
    const qreal right = m_width - pad;
    qreal y = pad - 1;

    // The tag: a stage's state as a pill on the caption line, or a group's count right of its title.
    qreal tagWidth = 0;
    const auto drawTag = [&](qreal lineTop, qreal lineHeight) {
        if (m_content.tag.isEmpty()) return;
        if (m_content.tagChip) {
            painter->setFont(fonts.caption);
            const QString tag = m_content.tag.toUpper();
            const qreal w = cap.horizontalAdvance(tag) + 12;
            const QRectF chip(right - w, lineTop - 1, w, lineHeight + 2);
            if (m_content.tagActive) {
                painter->setPen(Qt::NoPen);
                painter->setBrush(palette.color(QPalette::Highlight));
                painter->drawRoundedRect(chip, chip.height() / 2, chip.height() / 2);
                painter->setPen(palette.color(QPalette::HighlightedText));
            } else {
                painter->setPen(QPen(captionColour, 1));
                painter->setBrush(Qt::NoBrush);
                painter->drawRoundedRect(chip.adjusted(0.5, 0.5, -0.5, -0.5), chip.height() / 2,
                                         chip.height() / 2);
            }
            painter->drawText(chip, Qt::AlignCenter, tag);
            tagWidth = w + 6;
        } else {
            painter->setFont(fonts.detail);
            painter->setPen(detailColour);
            const qreal w = detail.horizontalAdvance(m_content.tag);
            painter->drawText(QRectF(right - w, lineTop, w, lineHeight), Qt::AlignRight | Qt::AlignVCenter,
                              m_content.tag);
            tagWidth = w + 8;
        }
    };

    if (!m_content.caption.isEmpty()) {
        drawTag(y, cap.height());
        painter->setFont(fonts.caption);
        painter->setPen(captionColour);
        painter->drawText(QRectF(x0, y, right - x0 - tagWidth, cap.height()),
                          Qt::AlignLeft | Qt::AlignVCenter,
                          cap.elidedText(m_content.caption, Qt::ElideRight, right - x0 - tagWidth));
        y += cap.height() + 3;
    }
    if (!m_content.title.isEmpty()) {
        if (m_content.caption.isEmpty()) drawTag(y, title.height());
        painter->setFont(fonts.title);
        painter->setPen(inactive ? detailColour : text);
        painter->drawText(QRectF(x0, y, right - x0 - tagWidth, title.height()),
                          Qt::AlignLeft | Qt::AlignVCenter,
                          title.elidedText(m_content.title, Qt::ElideRight, right - x0 - tagWidth));
        y += title.height() + 2;
    }
    if (inactive) return;
    painter->setFont(fonts.detail);
    for (const VisualLine &line : m_visualLines) {
        qreal x = x0;
        if (line.badge) {
            const qreal d = detail.height() - 1;
            paintBehaviourBadge(painter, QRectF(x, y + 0.5, d, d), BehaviourKind(m_content.badge), palette);
            x += d + 5;
            painter->setFont(fonts.detail);
        }
        painter->setPen(detailColour);
        painter->drawText(QRectF(x, y, right - x, detail.height()), Qt::AlignLeft | Qt::AlignVCenter,
                          line.text);
        y += detail.height() + 1;
    }
    if (m_content.glyph) paintGlyph(painter, QRectF(x0, y + 6, right - x0, kGlyphHeight), palette, fonts);
}

void Card::paintGlyph(QPainter *painter, const QRectF &rect, const QPalette &palette,
                      const Fonts &fonts) const {
    const QColor text = palette.color(QPalette::Text);
    const QColor base = palette.color(QPalette::Base);
    if (m_glyph.isEmpty()) {
        // Before the partition preview has run: a neutral frame saying so.
        QPen pen(mix(text, base, 0.7), 1, Qt::DashLine);
        painter->setPen(pen);
        painter->setBrush(Qt::NoBrush);
        painter->drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3);
        painter->setFont(fonts.small);
        painter->setPen(mix(text, base, 0.5));
        painter->drawText(rect, Qt::AlignCenter, FederationScene::tr("label mix: no preview yet"));
        return;
    }
    // One column per client (neighbouring clients averaged when they do not fit), its labels stacked.
    const int clients = int(m_glyph.size());
    int classes = 0;
    for (const QVector<double> &h : m_glyph)
        classes = std::max(classes, int(h.size()));
    const int columns = std::max(1, std::min(clients, int(rect.width() / 2)));
    const qreal colWidth = rect.width() / columns;
    const qreal gap = colWidth >= 4 ? 1 : 0;
    painter->setPen(Qt::NoPen);
    for (int c = 0; c < columns; ++c) {
        const int from = int(qint64(c) * clients / columns);
        const int to = std::max(from + 1, int(qint64(c + 1) * clients / columns));
        QVector<double> share(classes, 0.0);
        for (int k = from; k < to; ++k) {
            double total = 0;
            for (double v : m_glyph[k])
                total += v;
            if (total <= 0) continue;
            for (int j = 0; j < m_glyph[k].size(); ++j)
                share[j] += m_glyph[k][j] / total / (to - from);
        }
        qreal y = rect.bottom();
        for (int j = 0; j < classes; ++j) {
            const qreal h = share[j] * rect.height();
            if (h <= 0) continue;
            painter->setBrush(labelColour(j, classes));
            painter->drawRect(QRectF(rect.left() + c * colWidth, y - h, colWidth - gap, h));
            y -= h;
        }
    }
}

// The server: a frame that moves, holding its header and its pipeline rows (selected one by one).
class ServerFrame : public QGraphicsObject {
public:
    ServerFrame() {
        setFlag(ItemIsMovable);
        setFlag(ItemSendsGeometryChanges);
        m_header = new Card(Role::Header, QStringLiteral("server"), kServerWidth - 2 * kRowPad, this);
    }
    Card *header() const { return m_header; }
    QList<Card *> rows; // in pipeline order, below the header
    qreal height() const { return m_height; }
    QRectF frameRect() const { return QRectF(0, 0, kServerWidth, m_height); }

    void relayout() {
        m_header->relayout();
        m_header->setPos(kRowPad, 2);
        qreal y = 2 + m_header->height() - 4;
        m_gaps.clear();
        for (int i = 0; i < rows.size(); ++i) {
            if (i > 0) {
                m_gaps.append(y + kRowGap / 2);
                y += kRowGap;
            }
            rows[i]->relayout();
            rows[i]->setPos(kRowPad, y);
            y += rows[i]->height();
        }
        y += kRowPad + 2;
        if (!qFuzzyCompare(y, m_height)) {
            prepareGeometryChange();
            m_height = y;
        }
        update();
    }

    QRectF boundingRect() const override { return frameRect().adjusted(-5, -5, 5, 6); }
    QPainterPath shape() const override {
        QPainterPath p;
        p.addRoundedRect(frameRect(), kRadius + 2, kRadius + 2);
        return p;
    }
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) override {
        const QPalette palette = scene() ? scene()->palette() : QPalette();
        painter->setRenderHint(QPainter::Antialiasing);
        const QRectF r = frameRect();
        QColor shadow = palette.color(QPalette::Shadow);
        shadow.setAlphaF(isDark(palette) ? 0.45f : 0.16f);
        painter->setPen(Qt::NoPen);
        painter->setBrush(shadow);
        painter->drawRoundedRect(r.translated(0, 2), kRadius + 2, kRadius + 2);
        const QColor base = palette.color(QPalette::Base);
        painter->setPen(QPen(mix(palette.color(QPalette::Mid), base, 0.1), 1));
        painter->setBrush(base);
        painter->drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), kRadius + 2, kRadius + 2);
        // Chevrons between the stages: the order the updates pass through.
        const QColor arrow = mix(palette.color(QPalette::Text), base, 0.6);
        painter->setPen(QPen(arrow, 1.4, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        painter->setBrush(Qt::NoBrush);
        for (qreal gy : std::as_const(m_gaps)) {
            const qreal cx = r.center().x();
            QPainterPath p;
            p.moveTo(cx - 4, gy - 2);
            p.lineTo(cx, gy + 2);
            p.lineTo(cx + 4, gy - 2);
            painter->drawPath(p);
        }
    }

protected:
    QVariant itemChange(GraphicsItemChange change, const QVariant &value) override {
        if (change == ItemPositionHasChanged)
            if (auto *s = qobject_cast<FederationScene *>(scene())) s->nodeMoved();
        return QGraphicsObject::itemChange(change, value);
    }
    void mousePressEvent(QGraphicsSceneMouseEvent *event) override {
        // A press on the frame's margin selects the header.
        if (event->button() == Qt::LeftButton && !rowAt(event->pos())) {
            if (event->modifiers() & Qt::ControlModifier) {
                m_header->setSelected(!m_header->isSelected());
            } else if (!m_header->isSelected()) {
                if (scene()) scene()->clearSelection();
                m_header->setSelected(true);
            }
        }
        QGraphicsObject::mousePressEvent(event);
    }
    void mouseReleaseEvent(QGraphicsSceneMouseEvent *event) override {
        QGraphicsObject::mouseReleaseEvent(event);
        // A click (no drag) without Ctrl selects just the row under the mouse.
        if (event->button() == Qt::LeftButton && !(event->modifiers() & Qt::ControlModifier) &&
            event->scenePos() == event->buttonDownScenePos(Qt::LeftButton)) {
            Card *row = rowAt(event->pos());
            if (!row) row = m_header;
            if (scene()) scene()->clearSelection();
            row->setSelected(true);
        }
    }

private:
    Card *rowAt(QPointF pos) const {
        if (m_header->shape().contains(m_header->mapFromParent(pos))) return m_header;
        for (Card *row : rows)
            if (row->shape().contains(row->mapFromParent(pos))) return row;
        return nullptr;
    }
    Card *m_header;
    qreal m_height = 80;
    QList<qreal> m_gaps;
};

// A flow between two nodes: data (dataset -> partition -> group), updates (group -> server, in the group's
// colour, labelled with the clients a round) or the model (server -> group, dashed).
class Edge : public QGraphicsItem {
public:
    enum Style { Data, Update, Model };
    Edge(Style style, QGraphicsItem *from, QGraphicsItem *to, QColor colour = {}, QString label = {})
        : m_style(style)
        , m_from(from)
        , m_to(to)
        , m_colour(std::move(colour))
        , m_label(std::move(label)) {
        setZValue(-1);
        setAcceptedMouseButtons(Qt::NoButton);
    }
    QGraphicsItem *from() const { return m_from; }
    QGraphicsItem *to() const { return m_to; }
    Style style() const { return m_style; }

    // `a` leaves its node along `na` (a unit normal of the node's side), `b` enters along -`nb`.
    void setGeometry(QPointF a, QPointF na, QPointF b, QPointF nb) {
        QPainterPath path(a);
        const qreal reach = std::max(36.0, 0.45 * std::hypot(b.x() - a.x(), b.y() - a.y()));
        const QPointF end = b + nb * 7; // leave room for the arrowhead
        path.cubicTo(a + na * reach, end + nb * reach, end);
        prepareGeometryChange();
        m_path = path;
        m_tip = b;
        m_direction = -nb;
        m_labelAnchor = a + na * 10;
        m_labelBelow = na.y() > 0.5;
    }
    QRectF boundingRect() const override {
        QRectF r = m_path.boundingRect().united(QRectF(m_tip, QSizeF(1, 1))).adjusted(-10, -10, 10, 10);
        if (!m_label.isEmpty()) r = r.united(QRectF(m_labelAnchor.x() - 10, m_labelAnchor.y() - 24, 160, 48));
        return r;
    }
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) override {
        const QPalette palette = scene() ? scene()->palette() : QPalette();
        const QColor text = palette.color(QPalette::Text);
        const QColor window = palette.color(QPalette::Window);
        painter->setRenderHint(QPainter::Antialiasing);
        QColor colour;
        QPen pen;
        switch (m_style) {
        case Data:
            colour = mix(text, window, 0.55);
            pen = QPen(colour, 1.5);
            break;
        case Update:
            colour = m_colour.isValid() ? m_colour : mix(text, window, 0.4);
            pen = QPen(colour, 2.0);
            break;
        case Model:
            colour = mix(text, window, 0.6);
            pen = QPen(colour, 1.3, Qt::DashLine);
            break;
        }
        pen.setCapStyle(Qt::RoundCap);
        painter->setPen(pen);
        painter->setBrush(Qt::NoBrush);
        painter->drawPath(m_path);
        // The arrowhead at the target.
        const QPointF d = m_direction;
        const QPointF n(-d.y(), d.x());
        const qreal len = m_style == Model ? 7 : 8.5, half = m_style == Model ? 3.5 : 4.2;
        QPolygonF head{m_tip, m_tip - d * len + n * half, m_tip - d * len - n * half};
        painter->setPen(Qt::NoPen);
        painter->setBrush(colour);
        painter->drawPolygon(head);
        if (!m_label.isEmpty()) {
            const Fonts fonts(scene() ? scene()->font() : QFont());
            painter->setFont(fonts.small);
            const QFontMetricsF fm(fonts.small);
            const QSizeF size(fm.horizontalAdvance(m_label) + 8, fm.height() + 2);
            const QRectF box(QPointF(m_labelAnchor.x(), m_labelBelow ? m_labelAnchor.y() + 3
                                                                     : m_labelAnchor.y() - size.height() - 5),
                             size);
            QColor bg = window;
            bg.setAlphaF(0.85f);
            painter->setBrush(bg);
            painter->drawRoundedRect(box, 3, 3);
            painter->setPen(mix(text, window, 0.3));
            painter->drawText(box, Qt::AlignCenter, m_label);
        }
    }

private:
    Style m_style;
    QGraphicsItem *m_from, *m_to;
    QColor m_colour;
    QString m_label;
    QPainterPath m_path;
    QPointF m_tip, m_direction, m_labelAnchor;
    bool m_labelBelow = false;
};

} // namespace canvas

using canvas::Card;
using canvas::Content;
using canvas::Edge;
using canvas::Role;
using canvas::ServerFrame;

// ---------------------------------------------------------------------------------------------------------

FederationScene::FederationScene(FederationModel *model, QObject *parent)
    : QGraphicsScene(parent)
    , m_model(model) {
    registerBuiltins();
    m_dataset = new Card(Role::Node, QStringLiteral("dataset"), kDataWidth);
    m_partition = new Card(Role::Node, QStringLiteral("partition"), kDataWidth);
    m_modelNode = new Card(Role::Node, QStringLiteral("model"), kDataWidth);
    m_training = new Card(Role::Node, QStringLiteral("training"), kDataWidth);
    for (Card *c : {m_dataset, m_partition, m_modelNode, m_training})
        addItem(c);
    m_server = new ServerFrame;
    addItem(m_server);
    connect(m_model, &FederationModel::changed, this, &FederationScene::onModelChanged);
    connect(this, &QGraphicsScene::selectionChanged, this, &FederationScene::onSelectionChanged);
    sync();
}

FederationScene::~FederationScene() {
    // The items go while the scene is still whole, without selection signals; edges (which point at the
    // nodes) first.
    m_syncing = true;
    disconnect(this, &QGraphicsScene::selectionChanged, this, nullptr);
    for (Edge *e : std::as_const(m_edges))
        delete e;
    m_edges.clear();
    m_groups.clear();
    clear();
}

void FederationScene::onModelChanged(const QString &path) {
    const bool reset = path.isEmpty() && m_model->undoStack()->count() == 0;
    if (reset) m_carriedPositions.clear();
    sync();
    if (reset) Q_EMIT modelReset();
}

bool FederationScene::event(QEvent *event) {
    const bool handled = QGraphicsScene::event(event);
    if (event->type() == QEvent::FontChange || event->type() == QEvent::PaletteChange) {
        sync();
        update();
    }
    return handled;
}

// ---------------------------------------------------------------------------------------------------------
// Following the model

void FederationScene::sync() {
    if (m_syncing) return;
    m_syncing = true;
    const FederationModel &m = *m_model;

    // Dataset
    {
        Content c;
        c.caption = tr("DATASET");
        const QString name = m.effectiveValue(QStringLiteral("dataset.name")).toString();
        const ComponentSchema *comp = m.selectedComponent(QStringLiteral("dataset"));
        c.title = comp ? comp->title : name;
        const DatasetFacts facts = datasetFacts(name);
        QStringList about;
        if (facts.regression)
            about.append(tr("regression target"));
        else if (facts.numClasses > 0)
            about.append(facts.numClasses == 1 ? tr("%n class", nullptr, 1)
                                               : tr("%n classes", nullptr, facts.numClasses));
        if (facts.image && facts.width > 0)
            about.append(facts.channels > 1
                             ? tr("%1×%2×%3 images").arg(facts.width).arg(facts.height).arg(facts.channels)
                             : tr("%1×%2 images").arg(facts.width).arg(facts.height));
        else if (facts.features > 0)
            about.append(facts.features == 1 ? tr("%n feature", nullptr, 1)
                                             : tr("%n features", nullptr, facts.features));
        if (!about.isEmpty()) c.lines.append(joinPhrases(about));
        if (m_summaryDataset == name && m_trainSamples >= 0) {
            const QLocale locale;
            c.lines.append(tr("%1 train · %2 test samples")
                               .arg(locale.toString(m_trainSamples), locale.toString(m_testSamples)));
        } else if (const QStringList set =
                       setPhrases(m, m.parameterPaths(QStringLiteral("dataset")), {QStringLiteral("name")});
                   !set.isEmpty()) {
            c.lines.append(joinPhrases(set));
        }
        c.help = comp ? comp->help : QString();
        c.errors = m.errorsAt(QStringLiteral("dataset"));
        m_dataset->setContent(c);
    }
    // Partition
    {
        Content c;
        c.caption = tr("PARTITION");
        const ComponentSchema *comp = m.selectedComponent(QStringLiteral("partition"));
        c.title = comp ? comp->title : m.effectiveValue(QStringLiteral("partition.name")).toString();
        if (comp) {
            QStringList own;
            for (const ParamSchema &p : comp->params)
                own.append(QStringLiteral("partition.") + p.key);
            if (const QStringList key = paramPhrases(m, own, true); !key.isEmpty())
                c.lines.append(joinPhrases(key));
        }
        QStringList sectionKeys;
        if (const SectionSchema *s = Registry::global().section(QStringLiteral("partition")))
            for (const ParamSchema &p : s->params)
                if (p.key != QLatin1String("name")) sectionKeys.append(QStringLiteral("partition.") + p.key);
        if (const QStringList set = setPhrases(m, sectionKeys); !set.isEmpty())
            c.lines.append(joinPhrases(set));
        c.help = comp ? comp->help : QString();
        c.errors = m.errorsAt(QStringLiteral("partition"));
        m_partition->setContent(c);
    }
    // Model
    {
        Content c;
        c.caption = tr("MODEL");
        const QString name = m.effectiveValue(QStringLiteral("model.name")).toString();
        const ComponentSchema *comp = m.selectedComponent(QStringLiteral("model"));
        c.title = comp ? comp->title : name;
        const std::int64_t params = modelParameterCount(
            name, datasetFacts(m.effectiveValue(QStringLiteral("dataset.name")).toString()),
            m.value(QStringLiteral("model")).toObject());
        QStringList about;
        if (params > 0) about.append(tr("%1 parameters").arg(QLocale().toString(qint64(params))));
        about.append(setPhrases(m, m.parameterPaths(QStringLiteral("model")), {QStringLiteral("name")}));
        if (!about.isEmpty()) c.lines.append(joinPhrases(about));
        c.help = comp ? comp->help : QString();
        c.errors = m.errorsAt(QStringLiteral("model"));
        m_modelNode->setContent(c);
    }
    // Local training
    {
        Content c;
        c.caption = tr("LOCAL TRAINING");
        const int epochs = int(m.effectiveValue(QStringLiteral("training.epochs")).toInteger());
        c.title = epochs == 1 ? tr("%n local epoch", nullptr, 1) : tr("%n local epochs", nullptr, epochs);
        c.lines.append(joinPhrases(
            {tr("batch %1").arg(formatValue(m.effectiveValue(QStringLiteral("training.batch_size")))),
             formatValue(m.effectiveValue(QStringLiteral("training.optimizer"))),
             tr("lr %1").arg(formatValue(m.effectiveValue(QStringLiteral("training.lr"))))}));
        const QStringList rest = setPhrases(m, m.parameterPaths(QStringLiteral("training")),
                                            {QStringLiteral("epochs"), QStringLiteral("batch_size"),
                                             QStringLiteral("optimizer"), QStringLiteral("lr")});
        if (!rest.isEmpty()) c.lines.append(joinPhrases(rest));
        if (const SectionSchema *s = Registry::global().section(QStringLiteral("training"))) c.help = s->help;
        c.errors = m.errorsAt(QStringLiteral("training"));
        m_training->setContent(c);
    }
    syncGroups();
    syncServer();
    placeNodes();
    rebuildEdges();
    setSceneRect(nodesBoundingRect().adjusted(-800, -600, 800, 600));
    m_syncing = false;
    updateEdges();
    onSelectionChanged();
    Q_EMIT rebuilt();
}

QStringList FederationScene::groupErrors(int index, bool implicit) const {
    QStringList out = m_model->errorsAt(QStringLiteral("clients.count"));
    if (implicit) return out + m_model->errorsAt(QStringLiteral("clients.groups"));
    out += m_model->errorsAt(QStringLiteral("clients.groups[%1]").arg(index));
    // The list's own errors ("they must add up") concern every group.
    static const QRegularExpression numbered(QStringLiteral("^group \\d+: "));
    for (const SpecIssue &e : m_model->errors())
        if (e.path == QLatin1String("clients.groups") && !numbered.match(e.message).hasMatch())
            out.append(e.message);
    out.removeDuplicates();
    return out;
}

void FederationScene::syncGroups() {
    const FederationModel &m = *m_model;
    const QList<FederationModel::Group> groups = m.groups();
    // Match the existing nodes by name, then by position (a renamed group keeps its node and its place).
    QList<Card *> old = m_groups;
    QList<Card *> next(groups.size(), nullptr);
    for (qsizetype i = 0; i < groups.size(); ++i) {
        for (qsizetype k = 0; k < old.size(); ++k) {
            if (old[k] && old[k]->id() == groupNodeId(groups[i].name)) {
                next[i] = old[k];
                old[k] = nullptr;
                break;
            }
        }
    }
    for (qsizetype i = 0; i < groups.size(); ++i) {
        if (next[i] || i >= old.size() || !old[i]) continue;
        const QString newId = groupNodeId(groups[i].name);
        // Renamed: the layout still names the old group (or an earlier name while the user types).
        const QString oldId = old[i]->id();
        std::optional<QPointF> from = m.nodePosition(oldId);
        if (!from && m_carriedPositions.contains(oldId)) from = m_carriedPositions.value(oldId);
        m_carriedPositions.remove(oldId);
        if (from && !m.nodePosition(newId)) m_carriedPositions.insert(newId, *from);
        next[i] = old[i];
        next[i]->setId(newId);
        old[i] = nullptr;
    }
    for (Card *c : std::as_const(old)) {
        if (!c) continue;
        for (qsizetype k = m_edges.size() - 1; k >= 0; --k) {
            if (m_edges[k]->from() == c || m_edges[k]->to() == c) delete m_edges.takeAt(k);
        }
        delete c;
    }
    for (qsizetype i = 0; i < groups.size(); ++i) {
        const FederationModel::Group &g = groups[i];
        if (!next[i]) {
            next[i] = new Card(Role::Node, groupNodeId(g.name), kGroupWidth);
            addItem(next[i]);
        }
        Content c;
        c.title = g.name;
        c.tag = g.count == 1 ? tr("%n client", nullptr, 1) : tr("%n clients", nullptr, g.count);
        if (g.raw.contains(QStringLiteral("fraction")))
            c.tag = tr("%1 (%2%)")
                        .arg(c.tag)
                        .arg(g.raw.value(QStringLiteral("fraction")).toDouble() * 100, 0, 'g', 3);
        c.accent = groupColour(int(i));
        const BehaviourKind kind = behaviourKind(g.behaviour);
        c.badge = int(kind);
        const ComponentSchema *behaviour =
            Registry::global().component(QStringLiteral("behaviour"), g.behaviour);
        QStringList first{behaviour ? behaviour->title : g.behaviour};
        // The behaviour's parameters as the workspace sets them (in schema order, defaults left out).
        if (!g.implicit)
            first += setPhrases(m, m.parameterPaths(QStringLiteral("clients.groups[%1].behaviour").arg(i)),
                                {QStringLiteral("name")});
        c.lines.append(joinPhrases(first));
        QStringList overrides;
        if (g.raw.contains(QStringLiteral("epochs"))) {
            const int epochs = int(g.raw.value(QStringLiteral("epochs")).toInteger());
            overrides.append(epochs == 1 ? tr("%n local epoch", nullptr, 1)
                                         : tr("%n local epochs", nullptr, epochs));
        }
        const QJsonObject privacy = g.raw.value(QStringLiteral("privacy")).toObject();
        if (!privacy.isEmpty()) {
            QStringList p;
            for (auto it = privacy.begin(); it != privacy.end(); ++it)
                p.append(tr("%1 %2").arg(keyWords(it.key()), formatValue(it.value())));
            overrides.append(tr("privacy: %1").arg(p.join(QStringLiteral(", "))));
        }
        if (!overrides.isEmpty()) c.lines.append(joinPhrases(overrides));
        c.glyph = true;
        c.errors = groupErrors(int(i), g.implicit);
        c.help = behaviour ? behaviour->help : QString();
        next[i]->setContent(c);
        next[i]->setGlyph(m_histograms.value(g.name));
    }
    m_groups = next;
}

void FederationScene::syncServer() {
    const FederationModel &m = *m_model;
    const Registry &reg = Registry::global();
    {
        Content c;
        c.title = tr("Server");
        c.help =
            tr("Each round the server sends the model to the selected clients, collects their updates and "
               "combines them through the stages below.");
        m_server->header()->setContent(c);
    }
    // The rows: the strategy, every stage section, the run.
    QStringList ids{QStringLiteral("strategy")};
    for (const QString &key : stageSections())
        ids.append(QStringLiteral("stage:") + key);
    ids.append(QStringLiteral("run"));
    QList<Card *> rows;
    for (const QString &id : std::as_const(ids)) {
        Card *row = nullptr;
        for (Card *r : std::as_const(m_server->rows))
            if (r->id() == id) row = r;
        if (!row) row = new Card(Role::Row, id, kServerWidth - 2 * kRowPad, m_server);
        rows.append(row);
    }
    for (Card *r : std::as_const(m_server->rows))
        if (!rows.contains(r)) delete r;
    m_server->rows = rows;

    for (Card *row : std::as_const(rows)) {
        Content c;
        const QString &id = row->id();
        if (id == QLatin1String("strategy")) {
            c.caption = tr("STRATEGY");
            const ComponentSchema *comp = m.selectedComponent(QStringLiteral("strategy"));
            c.title = comp ? comp->title : m.effectiveValue(QStringLiteral("strategy.name")).toString();
            const QStringList set =
                setPhrases(m, m.parameterPaths(QStringLiteral("strategy")), {QStringLiteral("name")});
            if (!set.isEmpty()) c.lines.append(joinPhrases(set));
            c.help = comp ? comp->help : QString();
            c.errors = m.errorsAt(QStringLiteral("strategy"));
        } else if (id == QLatin1String("run")) {
            c.caption = tr("RUN");
            const int rounds = int(m.effectiveValue(QStringLiteral("run.rounds")).toInteger());
            c.title = rounds == 1 ? tr("%n round", nullptr, 1) : tr("%n rounds", nullptr, rounds);
            const double pr = m.effectiveValue(QStringLiteral("clients.per_round")).toDouble();
            const bool poisson =
                m.effectiveValue(QStringLiteral("clients.sampling")).toString() == QLatin1String("poisson");
            QString perRound = pr > 0 && pr < 1 ? tr("%1% of the clients a round").arg(pr * 100, 0, 'g', 3)
                               : int(pr) == 1   ? tr("%n client a round", nullptr, 1)
                                                : tr("%n clients a round", nullptr, int(pr));
            if (poisson) perRound = tr("%1 (Poisson)").arg(perRound);
            QStringList phrases{perRound};
            phrases += setPhrases(m, m.parameterPaths(QStringLiteral("run")), {QStringLiteral("rounds")});
            c.lines.append(joinPhrases(phrases));
            if (const SectionSchema *s = reg.section(QStringLiteral("run"))) c.help = s->help;
            c.errors = m.errorsAt(QStringLiteral("run")) + m.errorsAt(QStringLiteral("clients.per_round")) +
                       m.errorsAt(QStringLiteral("clients.sampling"));
        } else {
            const QString key = id.mid(6);
            const StageSwitch sw = stageSwitch(key);
            c.caption = sectionTitle(key).toUpper();
            c.tag = stageStateText(m, key);
            c.tagChip = true;
            c.tagActive = isStageActive(m, key);
            c.inactive = !c.tagActive;
            QStringList skip;
            if (sw.valid()) skip.append(sw.key);
            const QStringList set = setPhrases(m, m.parameterPaths(key), skip);
            if (!set.isEmpty()) c.lines.append(joinPhrases(set));
            if (const SectionSchema *s = reg.section(key)) c.help = s->help;
            if (c.inactive) c.help = tr("Off. %1").arg(c.help);
            c.errors = m.errorsAt(key);
        }
        row->setContent(c);
    }
    m_server->relayout();
}

void FederationScene::placeNodes() {
    const FederationModel &m = *m_model;
    // The default arrangement, left to right: the data (and what every client trains with), the groups in
    // a column, the server; each column centred on the tallest.
    const qreal leftHeight = m_dataset->height() + 26 + m_partition->height() + 44 + m_modelNode->height() +
                             16 + m_training->height();
    qreal groupsHeight = 0;
    for (Card *g : std::as_const(m_groups))
        groupsHeight += g->height();
    groupsHeight += kGroupGap * std::max<qsizetype>(0, m_groups.size() - 1);
    const qreal tallest = std::max({leftHeight, groupsHeight, m_server->height()});
    const qreal xGroups = kDataWidth + kColumnGap;
    // More groups, more room for their flows to reach the server.
    const qreal xServer = xGroups + kGroupWidth + kColumnGap + 30 +
                          std::min<qreal>(120, 12 * std::max<qsizetype>(0, m_groups.size() - 3));

    QHash<QString, QPointF> defaults;
    qreal y = (tallest - leftHeight) / 2;
    defaults.insert(m_dataset->id(), {0, y});
    y += m_dataset->height() + 26;
    defaults.insert(m_partition->id(), {0, y});
    y += m_partition->height() + 44;
    defaults.insert(m_modelNode->id(), {0, y});
    y += m_modelNode->height() + 16;
    defaults.insert(m_training->id(), {0, y});
    y = (tallest - groupsHeight) / 2;
    for (Card *g : std::as_const(m_groups)) {
        defaults.insert(g->id(), {xGroups, y});
        y += g->height() + kGroupGap;
    }
    defaults.insert(QStringLiteral("server"), {xServer, (tallest - m_server->height()) / 2});

    for (QGraphicsItem *item : topLevelNodes()) {
        const QString id = topLevelId(item);
        QPointF pos = defaults.value(id);
        if (const auto stored = m.nodePosition(id))
            pos = *stored;
        else if (m_carriedPositions.contains(id))
            pos = m_carriedPositions.value(id);
        if (item->pos() != pos) item->setPos(pos);
    }
}

QList<QGraphicsItem *> FederationScene::topLevelNodes() const {
    QList<QGraphicsItem *> out{m_dataset, m_partition, m_modelNode, m_training};
    for (Card *g : m_groups)
        out.append(g);
    out.append(m_server);
    return out;
}

QString FederationScene::topLevelId(QGraphicsItem *item) const {
    if (item == m_server) return QStringLiteral("server");
    if (auto *c = dynamic_cast<Card *>(item)) return c->id();
    return {};
}

void FederationScene::rebuildEdges() {
    for (Edge *e : std::as_const(m_edges))
        delete e;
    m_edges.clear();
    const FederationModel &m = *m_model;
    const auto add = [this](Edge *e) {
        addItem(e);
        m_edges.append(e);
    };
    add(new Edge(Edge::Data, m_dataset, m_partition));
    const QList<FederationModel::Group> groups = m.groups();
    const double total = std::max<qint64>(1, m.effectiveValue(QStringLiteral("clients.count")).toInteger());
    const double pr = m.effectiveValue(QStringLiteral("clients.per_round")).toDouble();
    const double perRound = pr > 0 && pr < 1 ? pr * total : std::min(pr, total);
    const bool poisson =
        m.effectiveValue(QStringLiteral("clients.sampling")).toString() == QLatin1String("poisson");
    for (qsizetype i = 0; i < m_groups.size() && i < groups.size(); ++i) {
        add(new Edge(Edge::Data, m_partition, m_groups[i]));
        // The clients of this group a round: its share of clients.per_round.
        const double expected = perRound * groups[i].count / total;
        const bool exact = !poisson && groups.size() == 1;
        QString amount;
        if (exact || std::abs(expected - std::round(expected)) < 0.05)
            amount = QLocale().toString(qint64(std::round(expected)));
        else
            amount = QLocale().toString(expected, 'f', expected < 10 ? 1 : 0);
        const QString label = exact ? tr("%1 / round").arg(amount) : tr("≈%1 / round").arg(amount);
        add(new Edge(Edge::Update, m_groups[i], m_server, groupColour(int(i)), label));
        add(new Edge(Edge::Model, m_server, m_groups[i]));
    }
}

namespace {

struct Port {
    QPointF point, normal;
};

// Where a flow from rectangle `a` to rectangle `b` leaves and enters: facing sides, horizontally when the
// nodes stand side by side, else vertically.
std::pair<Port, Port> facingPorts(const QRectF &a, const QRectF &b) {
    if (b.left() >= a.right() + 16)
        return {{QPointF(a.right(), a.center().y()), QPointF(1, 0)},
                {QPointF(b.left(), b.center().y()), QPointF(-1, 0)}};
    if (a.left() >= b.right() + 16)
        return {{QPointF(a.left(), a.center().y()), QPointF(-1, 0)},
                {QPointF(b.right(), b.center().y()), QPointF(1, 0)}};
    if (b.top() >= a.bottom())
        return {{QPointF(a.center().x(), a.bottom()), QPointF(0, 1)},
                {QPointF(b.center().x(), b.top()), QPointF(0, -1)}};
    return {{QPointF(a.center().x(), a.top()), QPointF(0, -1)},
            {QPointF(b.center().x(), b.bottom()), QPointF(0, 1)}};
}

} // namespace

void FederationScene::nodeMoved() {
    if (m_syncing) return;
    updateEdges();
}

void FederationScene::updateEdges() {
    const auto rectOf = [this](QGraphicsItem *item) {
        if (item == m_server) return m_server->mapRectToScene(m_server->frameRect());
        return item->mapRectToScene(static_cast<Card *>(item)->cardRect());
    };
    for (Edge *e : std::as_const(m_edges)) {
        const QRectF a = rectOf(e->from()), b = rectOf(e->to());
        // Every group's updates converge on one port of the server (and the model leaves from one next to
        // it), as the partition's data fans out from one: however many groups, the flows stay ordered.
        auto [pa, pb] = facingPorts(a, b);
        if (e->style() != Edge::Data) {
            // The update above (or left of) the model flowing back.
            const qreal shift = e->style() == Edge::Update ? -7 : 7;
            const QPointF along = pa.normal.x() != 0 ? QPointF(0, shift) : QPointF(shift, 0);
            pa.point += along;
            pb.point += along;
        }
        e->setGeometry(pa.point, pa.normal, pb.point, pb.normal);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Nodes

Card *FederationScene::card(const QString &nodeId) const {
    for (Card *c : {m_dataset, m_partition, m_modelNode, m_training, m_server->header()})
        if (c->id() == nodeId) return c;
    for (Card *c : m_groups)
        if (c->id() == nodeId) return c;
    for (Card *c : m_server->rows)
        if (c->id() == nodeId) return c;
    return nullptr;
}

QStringList FederationScene::nodeIds() const {
    QStringList out;
    for (Card *c : {m_dataset, m_partition, m_modelNode, m_training})
        out.append(c->id());
    for (Card *c : m_groups)
        out.append(c->id());
    out.append(m_server->header()->id());
    for (Card *c : m_server->rows)
        out.append(c->id());
    return out;
}

QGraphicsItem *FederationScene::nodeItem(const QString &nodeId) const {
    return card(nodeId);
}

QString FederationScene::nodeText(const QString &nodeId) const {
    const Card *c = card(nodeId);
    return c ? c->text() : QString();
}

QStringList FederationScene::nodeErrors(const QString &nodeId) const {
    const Card *c = card(nodeId);
    return c ? c->content().errors : QStringList();
}

int FederationScene::groupIndexOfNode(const QString &nodeId) const {
    if (!nodeId.startsWith(QLatin1String("group:"))) return -1;
    const QList<FederationModel::Group> groups = m_model->groups();
    for (qsizetype i = 0; i < groups.size(); ++i)
        if (groupNodeId(groups[i].name) == nodeId) return int(i);
    return -1;
}

QString FederationScene::pathForNode(const QString &nodeId) const {
    if (nodeId == QLatin1String("server")) return QStringLiteral("strategy");
    if (nodeId.startsWith(QLatin1String("stage:"))) return nodeId.mid(6);
    if (nodeId.startsWith(QLatin1String("group:"))) {
        const int i = groupIndexOfNode(nodeId);
        if (i < 0) return {};
        if (m_model->groups().at(i).implicit) return QStringLiteral("clients");
        return QStringLiteral("clients.groups[%1]").arg(i);
    }
    return card(nodeId) ? nodeId : QString();
}

QRectF FederationScene::nodesBoundingRect() const {
    QRectF r;
    for (QGraphicsItem *item : topLevelNodes()) {
        const QRectF b = item == m_server ? m_server->mapRectToScene(m_server->frameRect())
                                          : item->mapRectToScene(static_cast<Card *>(item)->cardRect());
        r = r.united(b);
    }
    return r;
}

QSizeF FederationScene::nodeSize(const QString &nodeId) const {
    if (const Card *c = card(nodeId)) return {c->width(), c->height()};
    if (nodeId.startsWith(QLatin1String("group:"))) return {kGroupWidth, 80};
    return {kDataWidth, 60};
}

// ---------------------------------------------------------------------------------------------------------
// Selection

QStringList FederationScene::selectedNodeIds() const {
    QStringList out;
    for (const QString &id : nodeIds())
        if (const Card *c = card(id); c && c->isSelected()) out.append(id);
    return out;
}

void FederationScene::selectNodes(const QStringList &nodeIds) {
    const bool wasSyncing = m_syncing;
    m_syncing = true; // one signal for the whole change
    clearSelection();
    for (const QString &id : nodeIds)
        if (Card *c = card(id)) c->setSelected(true);
    m_syncing = wasSyncing;
    onSelectionChanged();
}

void FederationScene::onSelectionChanged() {
    if (m_syncing) return;
    const QStringList now = selectedNodeIds();
    if (now == m_lastSelection) return;
    m_lastSelection = now;
    Q_EMIT selectedNodesChanged(now);
}

// ---------------------------------------------------------------------------------------------------------
// Label histograms

void FederationScene::setLabelHistograms(const QStringList &groupOfClient,
                                         const QList<QVector<double>> &histograms) {
    m_histograms.clear();
    for (qsizetype i = 0; i < histograms.size() && i < groupOfClient.size(); ++i)
        m_histograms[groupOfClient[i]].append(histograms[i]);
    for (qsizetype i = 0; i < m_groups.size(); ++i) {
        const QString name = m_groups[i]->id().mid(6);
        m_groups[i]->setGlyph(m_histograms.value(name));
    }
}

void FederationScene::setPartitionSummary(const PartitionSummary &summary) {
    QStringList groupOf;
    QList<QVector<double>> histograms;
    for (const ClientSummary &c : summary.clients) {
        groupOf.append(c.group);
        QVector<double> h;
        h.reserve(qsizetype(c.labelHistogram.size()));
        for (std::int64_t v : c.labelHistogram)
            h.append(double(v));
        histograms.append(h);
    }
    m_summaryDataset = summary.dataset;
    m_trainSamples = summary.trainPool;
    m_testSamples = summary.testSet;
    setLabelHistograms(groupOf, histograms);
    sync();
}

void FederationScene::clearLabelHistograms() {
    m_histograms.clear();
    m_summaryDataset.clear();
    m_trainSamples = m_testSamples = -1;
    for (Card *g : std::as_const(m_groups))
        g->setGlyph({});
    sync();
}

// ---------------------------------------------------------------------------------------------------------
// Edits

bool FederationScene::deleteNodes(const QStringList &nodeIds) {
    QList<int> groups;
    QStringList stages;
    const QList<FederationModel::Group> all = m_model->groups();
    for (const QString &id : nodeIds) {
        const int i = groupIndexOfNode(id);
        if (i >= 0 && !all[i].implicit) groups.append(i);
        if (id.startsWith(QLatin1String("stage:"))) {
            const QString key = id.mid(6);
            if (stageSwitch(key).valid() && isStageActive(*m_model, key)) stages.append(key);
        }
    }
    if (groups.isEmpty() && stages.isEmpty()) return false;
    const bool macro = int(!groups.isEmpty()) + stages.size() > 1;
    m_model->closeMergeWindow();
    if (macro) m_model->beginMacro(tr("Delete selection"));
    if (!groups.isEmpty()) m_model->removeGroups(groups);
    for (const QString &key : std::as_const(stages)) {
        const StageSwitch sw = stageSwitch(key);
        m_model->setValue(sw.path(), sw.offValue, tr("Switch %1 off").arg(sectionTitle(key)));
    }
    if (macro) m_model->endMacro();
    m_model->closeMergeWindow();
    return true;
}

QMimeData *FederationScene::copyGroups(const QStringList &nodeIds) const {
    QJsonArray list;
    const QList<FederationModel::Group> all = m_model->groups();
    for (const QString &id : nodeIds) {
        const int i = groupIndexOfNode(id);
        if (i < 0) continue;
        QJsonObject g = all[i].implicit ? QJsonObject{{QStringLiteral("name"), all[i].name},
                                                      {QStringLiteral("count"), all[i].count}}
                                        : all[i].raw;
        list.append(g);
    }
    if (list.isEmpty()) return nullptr;
    auto *data = new QMimeData;
    data->setData(kGroupsMimeType, QJsonDocument(list).toJson(QJsonDocument::Compact));
    data->setText(QString::fromUtf8(QJsonDocument(list).toJson(QJsonDocument::Indented)));
    return data;
}

namespace {

// The groups in clipboard data: our own format, else text holding a group object or an array of them.
QJsonArray groupsIn(const QMimeData *data) {
    if (!data) return {};
    QByteArray bytes;
    if (data->hasFormat(FederationScene::kGroupsMimeType))
        bytes = data->data(FederationScene::kGroupsMimeType);
    else if (data->hasText())
        bytes = data->text().toUtf8();
    const QJsonDocument doc = QJsonDocument::fromJson(bytes);
    QJsonArray list = doc.isArray() ? doc.array() : QJsonArray();
    if (doc.isObject()) list.append(doc.object());
    QJsonArray out;
    for (const QJsonValue &v : std::as_const(list)) {
        const QJsonObject o = v.toObject();
        // A group names itself and has a size; anything else on the clipboard is not one.
        if (o.value(QStringLiteral("name")).isString() &&
            (o.contains(QStringLiteral("count")) || o.contains(QStringLiteral("fraction"))))
            out.append(o);
    }
    return out;
}

} // namespace

bool FederationScene::canPasteGroups(const QMimeData *data) {
    return !groupsIn(data).isEmpty();
}

QStringList FederationScene::pasteGroups(const QMimeData *data) {
    const QJsonArray list = groupsIn(data);
    if (list.isEmpty()) return {};
    QStringList added;
    m_model->closeMergeWindow();
    m_model->beginMacro(tr("Paste %n group(s)", nullptr, int(list.size())));
    for (const QJsonValue &v : list) {
        const QJsonObject g = v.toObject();
        const QString original = g.value(QStringLiteral("name")).toString();
        const int index = m_model->addGroup(g);
        const QList<FederationModel::Group> now = m_model->groups();
        if (index < 0 || index >= now.size()) continue;
        const QString id = groupNodeId(now[index].name);
        added.append(id);
        // Next to the original when the user placed it; in the groups column otherwise.
        if (const auto at = m_model->nodePosition(groupNodeId(original)))
            m_model->setNodePosition(id, *at + QPointF(28, 28));
    }
    m_model->endMacro();
    m_model->closeMergeWindow();
    return added;
}

// ---------------------------------------------------------------------------------------------------------
// Mouse: a drag writes the positions of the nodes it moved as one undo step.

void FederationScene::mousePressEvent(QGraphicsSceneMouseEvent *event) {
    m_pressPositions.clear();
    for (QGraphicsItem *item : topLevelNodes())
        m_pressPositions.insert(topLevelId(item), item->pos());
    QGraphicsScene::mousePressEvent(event);
}

void FederationScene::mouseReleaseEvent(QGraphicsSceneMouseEvent *event) {
    QGraphicsScene::mouseReleaseEvent(event);
    if (m_pressPositions.isEmpty() || event->buttons() != Qt::NoButton) return;
    QList<std::pair<QString, QPointF>> moved;
    for (QGraphicsItem *item : topLevelNodes()) {
        const QString id = topLevelId(item);
        const auto it = m_pressPositions.constFind(id);
        if (it != m_pressPositions.constEnd() && (item->pos() - *it).manhattanLength() >= 1)
            moved.append({id, item->pos()});
    }
    m_pressPositions.clear();
    if (moved.isEmpty()) return;
    m_model->closeMergeWindow();
    if (moved.size() > 1) m_model->beginMacro(tr("Move %n node(s)", nullptr, int(moved.size())));
    for (const auto &[id, pos] : std::as_const(moved)) {
        m_carriedPositions.remove(id);
        m_model->setNodePosition(id, pos);
    }
    if (moved.size() > 1) m_model->endMacro();
    m_model->closeMergeWindow();
}

void FederationScene::mouseDoubleClickEvent(QGraphicsSceneMouseEvent *event) {
    QGraphicsScene::mouseDoubleClickEvent(event);
    for (QGraphicsItem *item : items(event->scenePos())) {
        if (auto *c = dynamic_cast<Card *>(item)) {
            Q_EMIT nodeActivated(c->id());
            return;
        }
        if (item == m_server) {
            Q_EMIT nodeActivated(m_server->header()->id());
            return;
        }
    }
}

} // namespace fedwb
