#include "designer/FederationCanvas.h"

#include "designer/FederationModel.h"
#include "designer/FederationScene.h"
#include "designer/Palette.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDragEnterEvent>
#include <QKeyEvent>
#include <QMimeData>
#include <QPainter>
#include <QScrollBar>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace fedwb {

namespace {

// The widget's palette with every role set: a palette a widget inherits has no roles marked as set, and the
// scene would resolve it against the application palette (light nodes on a dark canvas).
QPalette everyRoleSet(const QPalette &palette) {
    QPalette out;
    for (int g = 0; g < int(QPalette::NColorGroups); ++g)
        for (int r = 0; r < int(QPalette::NColorRoles); ++r)
            out.setBrush(QPalette::ColorGroup(g), QPalette::ColorRole(r),
                         palette.brush(QPalette::ColorGroup(g), QPalette::ColorRole(r)));
    return out;
}

QFont everyPropertySet(QFont font) {
    font.setResolveMask(QFont::AllPropertiesResolved);
    return font;
}

} // namespace

FederationCanvas::FederationCanvas(FederationModel *model, QWidget *parent)
    : QGraphicsView(parent)
    , m_model(model)
    , m_scene(new FederationScene(model, this)) {
    setScene(m_scene);
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing | QPainter::SmoothPixmapTransform);
    setDragMode(RubberBandDrag);
    setRubberBandSelectionMode(Qt::IntersectsItemShape);
    setTransformationAnchor(AnchorViewCenter);
    setResizeAnchor(AnchorViewCenter);
    setViewportUpdateMode(SmartViewportUpdate);
    setAcceptDrops(true);
    setFocusPolicy(Qt::StrongFocus);
    setAccessibleName(tr("Federation canvas"));
    m_scene->setPalette(everyRoleSet(palette()));
    m_scene->setFont(everyPropertySet(font()));

    m_delete = makeAction(tr("&Delete"), {QKeySequence::Delete, QKeySequence(Qt::Key_Backspace)},
                          &FederationCanvas::deleteSelection);
    m_delete->setToolTip(tr("Delete the selected client groups; switch the selected stages off"));
    m_copy = makeAction(tr("&Copy"), {QKeySequence::Copy}, &FederationCanvas::copySelection);
    m_copy->setToolTip(tr("Copy the selected client groups"));
    m_paste = makeAction(tr("&Paste"), {QKeySequence::Paste}, &FederationCanvas::paste);
    m_paste->setToolTip(tr("Add the client groups on the clipboard"));
    m_selectAll = makeAction(tr("Select &All"), {QKeySequence::SelectAll}, &FederationCanvas::selectAllNodes);
    auto *separator = new QAction(this);
    separator->setSeparator(true);
    addAction(separator);
    m_zoomIn = makeAction(tr("Zoom &In"), {QKeySequence::ZoomIn, QKeySequence(Qt::CTRL | Qt::Key_Equal)},
                          &FederationCanvas::zoomIn);
    m_zoomOut = makeAction(tr("Zoom &Out"), {QKeySequence::ZoomOut}, &FederationCanvas::zoomOut);
    m_resetZoom =
        makeAction(tr("Actual &Size"), {QKeySequence(Qt::CTRL | Qt::Key_0)}, &FederationCanvas::resetZoom);
    m_fit = makeAction(tr("&Fit to View"), {QKeySequence(Qt::Key_F)}, &FederationCanvas::fitToView);
    m_fit->setToolTip(tr("Show the whole federation (F)"));
    setContextMenuPolicy(Qt::ActionsContextMenu);

    connect(m_scene, &FederationScene::selectedNodesChanged, this, [this](const QStringList &ids) {
        updateActions();
        Q_EMIT selectionChangedTo(ids);
    });
    connect(m_scene, &FederationScene::nodeActivated, this, &FederationCanvas::nodeActivated);
    connect(m_scene, &FederationScene::modelReset, this, &FederationCanvas::fitToView);
    connect(m_scene, &FederationScene::rebuilt, this, [this] {
        updateActions();
        if (m_autoFit) fit();
    });
    if (QClipboard *clipboard = QGuiApplication::clipboard())
        connect(clipboard, &QClipboard::dataChanged, this, &FederationCanvas::updateActions);
    updateActions();
}

FederationCanvas::~FederationCanvas() = default;

QAction *FederationCanvas::makeAction(const QString &text, const QList<QKeySequence> &keys,
                                      void (FederationCanvas::*slot)()) {
    auto *action = new QAction(text, this);
    action->setShortcuts(keys);
    action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(action, &QAction::triggered, this, slot);
    addAction(action);
    return action;
}

QStringList FederationCanvas::selectedNodeIds() const {
    return m_scene->selectedNodeIds();
}

void FederationCanvas::updateActions() {
    const QStringList selected = m_scene->selectedNodeIds();
    bool groups = false, deletable = false;
    for (const QString &id : selected) {
        if (id.startsWith(QLatin1String("group:"))) groups = true;
        if (id.startsWith(QLatin1String("group:")) || id.startsWith(QLatin1String("stage:")))
            deletable = true;
    }
    m_delete->setEnabled(deletable);
    m_copy->setEnabled(groups);
    const QClipboard *clipboard = QGuiApplication::clipboard();
    m_paste->setEnabled(clipboard && FederationScene::canPasteGroups(clipboard->mimeData()));
}

// ---------------------------------------------------------------------------------------------------------
// Zoom and fit

void FederationCanvas::applyZoom(qreal zoom) {
    m_zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
    setTransform(QTransform::fromScale(m_zoom, m_zoom));
    viewport()->update();
}

void FederationCanvas::setZoom(qreal zoom) {
    m_autoFit = false;
    applyZoom(zoom);
}

void FederationCanvas::zoomIn() {
    setZoom(m_zoom * 1.2);
}

void FederationCanvas::zoomOut() {
    setZoom(m_zoom / 1.2);
}

void FederationCanvas::resetZoom() {
    setZoom(1.0);
}

void FederationCanvas::zoomAt(qreal factor, QPoint viewPos) {
    m_autoFit = false;
    const QPointF before = mapToScene(viewPos);
    applyZoom(m_zoom * factor);
    // Keep the scene point under the mouse where it was.
    const QPointF after = mapToScene(viewPos);
    const QPointF shift = (before - after) * m_zoom;
    horizontalScrollBar()->setValue(horizontalScrollBar()->value() + int(std::lround(shift.x())));
    verticalScrollBar()->setValue(verticalScrollBar()->value() + int(std::lround(shift.y())));
}

void FederationCanvas::fitToView() {
    // Asked for: the view keeps fitting (new nodes, resizes) until the user zooms, pans or clicks.
    m_autoFit = true;
    fit();
}

void FederationCanvas::fit() {
    const QRectF all = m_scene->itemsBoundingRect().adjusted(-36, -36, 36, 36);
    if (all.isEmpty() || viewport()->width() < 10 || viewport()->height() < 10) return;
    const qreal sx = viewport()->width() / all.width();
    const qreal sy = viewport()->height() / all.height();
    // A small federation is not blown up beyond a comfortable size.
    applyZoom(std::min({sx, sy, 1.25}));
    centerOn(all.center());
}

void FederationCanvas::resizeEvent(QResizeEvent *event) {
    QGraphicsView::resizeEvent(event);
    if (m_autoFit) fit();
}

void FederationCanvas::showEvent(QShowEvent *event) {
    QGraphicsView::showEvent(event);
    if (m_autoFit) fit();
}

void FederationCanvas::wheelEvent(QWheelEvent *event) {
    if (event->modifiers() & Qt::ControlModifier) {
        const int delta = event->angleDelta().y();
        if (delta != 0) zoomAt(std::pow(1.0015, delta), event->position().toPoint());
        event->accept();
        return;
    }
    m_autoFit = false;
    QGraphicsView::wheelEvent(event);
}

// ---------------------------------------------------------------------------------------------------------
// Pan: middle drag, or Space held while dragging with the left button

void FederationCanvas::keyPressEvent(QKeyEvent *event) {
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat() && !m_panning) {
        m_spacePan = true;
        setInteractive(false);
        setDragMode(ScrollHandDrag);
        event->accept();
        return;
    }
    if (event->key() == Qt::Key_Space) {
        event->accept();
        return;
    }
    QGraphicsView::keyPressEvent(event);
}

void FederationCanvas::keyReleaseEvent(QKeyEvent *event) {
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
        endSpacePan();
        event->accept();
        return;
    }
    QGraphicsView::keyReleaseEvent(event);
}

void FederationCanvas::endSpacePan() {
    if (!m_spacePan) return;
    m_spacePan = false;
    setDragMode(RubberBandDrag);
    setInteractive(true);
}

void FederationCanvas::focusOutEvent(QFocusEvent *event) {
    endSpacePan();
    QGraphicsView::focusOutEvent(event);
}

void FederationCanvas::mousePressEvent(QMouseEvent *event) {
    if (event->button() == Qt::MiddleButton) {
        m_panning = true;
        m_autoFit = false;
        m_panFrom = event->position().toPoint();
        viewport()->setCursor(Qt::ClosedHandCursor);
        event->accept();
        return;
    }
    m_autoFit = false; // the user arranges things: the view stays put
    QGraphicsView::mousePressEvent(event);
}

void FederationCanvas::mouseMoveEvent(QMouseEvent *event) {
    if (m_panning) {
        const QPoint now = event->position().toPoint();
        const QPoint delta = now - m_panFrom;
        m_panFrom = now;
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() - delta.x());
        verticalScrollBar()->setValue(verticalScrollBar()->value() - delta.y());
        event->accept();
        return;
    }
    QGraphicsView::mouseMoveEvent(event);
}

void FederationCanvas::mouseReleaseEvent(QMouseEvent *event) {
    if (m_panning && event->button() == Qt::MiddleButton) {
        m_panning = false;
        viewport()->unsetCursor();
        event->accept();
        return;
    }
    QGraphicsView::mouseReleaseEvent(event);
}

// ---------------------------------------------------------------------------------------------------------
// Editing

void FederationCanvas::deleteSelection() {
    m_scene->deleteNodes(m_scene->selectedNodeIds());
}

void FederationCanvas::copySelection() {
    QMimeData *data = m_scene->copyGroups(m_scene->selectedNodeIds());
    if (!data) return;
    if (QClipboard *clipboard = QGuiApplication::clipboard())
        clipboard->setMimeData(data);
    else
        delete data;
    updateActions();
}

void FederationCanvas::paste() {
    const QClipboard *clipboard = QGuiApplication::clipboard();
    if (!clipboard) return;
    const QStringList added = m_scene->pasteGroups(clipboard->mimeData());
    if (!added.isEmpty()) m_scene->selectNodes(added);
}

void FederationCanvas::selectAllNodes() {
    m_scene->selectNodes(m_scene->nodeIds());
}

void FederationCanvas::selectNode(const QString &nodeId) {
    selectNodes(nodeId.isEmpty() ? QStringList() : QStringList{nodeId});
}

void FederationCanvas::selectNodes(const QStringList &nodeIds) {
    m_scene->selectNodes(nodeIds);
    if (nodeIds.size() == 1)
        if (QGraphicsItem *item = m_scene->nodeItem(nodeIds.first())) ensureVisible(item, 40, 40);
}

// ---------------------------------------------------------------------------------------------------------
// Drops from the palette

void FederationCanvas::dragEnterEvent(QDragEnterEvent *event) {
    if (Palette::payloadFrom(event->mimeData())) {
        event->acceptProposedAction();
        return;
    }
    event->ignore();
}

void FederationCanvas::dragMoveEvent(QDragMoveEvent *event) {
    if (Palette::payloadFrom(event->mimeData())) {
        event->acceptProposedAction();
        return;
    }
    event->ignore();
}

void FederationCanvas::dragLeaveEvent(QDragLeaveEvent *event) {
    event->accept();
}

void FederationCanvas::dropEvent(QDropEvent *event) {
    const std::optional<QJsonObject> payload = Palette::payloadFrom(event->mimeData());
    if (!payload) {
        event->ignore();
        return;
    }
    const QPointF at = mapToScene(event->position().toPoint());
    const bool group = payload->value(QStringLiteral("kind")).toString() == QLatin1String("group");
    QString node;
    if (group) {
        // The group and where it was dropped: one undo step.
        m_model->beginMacro(tr("Add %1").arg(event->mimeData()->text()));
        node = Palette::apply(m_model, *payload);
        if (!node.isEmpty()) {
            const QSizeF size = m_scene->nodeSize(node);
            m_model->setNodePosition(node, at - QPointF(size.width() / 2, size.height() / 2));
        }
        m_model->endMacro();
        m_model->closeMergeWindow();
    } else {
        node = Palette::apply(m_model, *payload);
    }
    event->acceptProposedAction();
    if (!node.isEmpty()) {
        m_scene->selectNodes({node});
        setFocus();
    }
}

// ---------------------------------------------------------------------------------------------------------

void FederationCanvas::drawBackground(QPainter *painter, const QRectF &rect) {
    const QPalette pal = palette();
    const QColor window = pal.color(QPalette::Window);
    painter->fillRect(rect, window);
    if (m_zoom < 0.45) return;
    // A faint dot grid: the canvas reads as a surface to arrange things on.
    const QColor text = pal.color(QPalette::Text);
    QColor dot = QColor::fromRgbF(float(window.redF() * 0.86 + text.redF() * 0.14),
                                  float(window.greenF() * 0.86 + text.greenF() * 0.14),
                                  float(window.blueF() * 0.86 + text.blueF() * 0.14));
    constexpr qreal step = 24;
    QPen pen(dot, 1.6 / m_zoom);
    pen.setCapStyle(Qt::RoundCap);
    painter->setPen(pen);
    QList<QPointF> points;
    for (qreal x = std::floor(rect.left() / step) * step; x < rect.right(); x += step)
        for (qreal y = std::floor(rect.top() / step) * step; y < rect.bottom(); y += step)
            points.append(QPointF(x, y));
    painter->drawPoints(points.constData(), int(points.size()));
}

void FederationCanvas::changeEvent(QEvent *event) {
    QGraphicsView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        m_scene->setPalette(everyRoleSet(palette()));
        viewport()->update();
    } else if (event->type() == QEvent::FontChange) {
        m_scene->setFont(everyPropertySet(font()));
    }
}

} // namespace fedwb
