// The designer's canvas: a view of a FederationScene. Zoom (Ctrl+wheel, Ctrl+= / Ctrl+-, Ctrl+0 for 100%),
// pan (middle drag, Space+drag, scroll bars), fit to view (F, and every new or opened document; the view then
// keeps fitting as nodes come and go until the user zooms, pans or clicks), rubber-band multi-selection,
// Delete (removes the selected groups, switches selected stages off), Ctrl+C / Ctrl+V (client groups, as JSON
// on the clipboard), Ctrl+A; drops from the palette.
#pragma once

#include <QGraphicsView>
#include <QStringList>

class QAction;

namespace fedwb {

class FederationModel;
class FederationScene;

class FederationCanvas : public QGraphicsView {
    Q_OBJECT

public:
    static constexpr qreal kMinZoom = 0.2;
    static constexpr qreal kMaxZoom = 3.0;

    // Draws `model` (which must outlive the canvas) in a scene of its own, owned by the canvas.
    explicit FederationCanvas(FederationModel *model, QWidget *parent = nullptr);
    ~FederationCanvas() override;

    FederationScene *federationScene() const { return m_scene; }
    FederationModel *model() const { return m_model; }
    qreal zoom() const { return m_zoom; }
    QStringList selectedNodeIds() const;

    // The canvas's actions (shortcuts active while the canvas has focus), for menus and tool bars.
    QAction *deleteAction() const { return m_delete; }
    QAction *copyAction() const { return m_copy; }
    QAction *pasteAction() const { return m_paste; }
    QAction *selectAllAction() const { return m_selectAll; }
    QAction *zoomInAction() const { return m_zoomIn; }
    QAction *zoomOutAction() const { return m_zoomOut; }
    QAction *resetZoomAction() const { return m_resetZoom; }
    QAction *fitAction() const { return m_fit; }

public Q_SLOTS:
    void zoomIn();
    void zoomOut();
    void resetZoom();         // 100%
    void setZoom(qreal zoom); // about the view's centre, clamped to [kMinZoom, kMaxZoom]
    void fitToView();
    void deleteSelection();
    void copySelection();
    void paste();
    void selectAllNodes();
    void selectNode(const QString &nodeId); // empty: clears the selection
    void selectNodes(const QStringList &nodeIds);

Q_SIGNALS:
    // The selected nodes ("group:honest", "stage:privacy" ...; see FederationScene), after every change.
    void selectionChangedTo(const QStringList &nodeIds);
    void nodeActivated(const QString &nodeId); // double-clicked

protected:
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void keyReleaseEvent(QKeyEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dragLeaveEvent(QDragLeaveEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void drawBackground(QPainter *painter, const QRectF &rect) override;
    void resizeEvent(QResizeEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void changeEvent(QEvent *event) override;
    void focusOutEvent(QFocusEvent *event) override;

private:
    void fit();
    void zoomAt(qreal factor, QPoint viewPos);
    void applyZoom(qreal zoom);
    void endSpacePan();
    void updateActions();
    QAction *makeAction(const QString &text, const QList<QKeySequence> &keys,
                        void (FederationCanvas::*slot)());

    FederationModel *m_model;
    FederationScene *m_scene;
    qreal m_zoom = 1.0;
    bool m_autoFit = true; // fit after resizes and changes until the user zooms, pans or clicks
    bool m_panning = false;
    bool m_spacePan = false;
    QPoint m_panFrom;
    QAction *m_delete, *m_copy, *m_paste, *m_selectAll, *m_zoomIn, *m_zoomOut, *m_resetZoom, *m_fit;
};

} // namespace fedwb
