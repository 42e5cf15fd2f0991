// The federation drawn as what it is: the dataset and the partitioner feeding the client groups, each group
// a node (count, behaviour, overrides, a small glyph of its clients' label mix), the server with its pipeline
// as stacked stage rows (the strategy, every registered stage, the run), and the flow of updates between
// them; the model and local training beside the data.
//
// The scene only listens to a FederationModel: every model change (edits, undo, redo, reset) makes the items
// follow, and the scene edits only through the model (moving a node writes layout.nodes.<id>, one undo step
// per drag). Node ids: "dataset", "partition", "model", "training", "group:NAME", "server" (the server's
// header), "strategy", "stage:KEY" (one per stage section, e.g. "stage:privacy"), "run".
#pragma once

#include <QGraphicsScene>
#include <QHash>
#include <QList>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

class QMimeData;

namespace fedwb {

class FederationModel;
struct PartitionSummary;

namespace canvas {
class Card;
class ServerFrame;
class Edge;
} // namespace canvas

class FederationScene : public QGraphicsScene {
    Q_OBJECT

public:
    // The clipboard format of copied client groups: a JSON array of group objects as the workspace writes
    // them (the clipboard's text holds the same JSON).
    static const QString kGroupsMimeType;

    // `model` must outlive the scene.
    explicit FederationScene(FederationModel *model, QObject *parent = nullptr);
    ~FederationScene() override;

    FederationModel *model() const { return m_model; }

    // ---- Nodes
    QStringList nodeIds() const; // every node and server row, top to bottom, left to right
    QGraphicsItem *nodeItem(const QString &nodeId) const;
    // The node's text as drawn (caption, title, detail lines), one per line.
    QString nodeText(const QString &nodeId) const;
    QStringList nodeErrors(const QString &nodeId) const;
    // The workspace path the node edits, for the inspector: "dataset", "clients.groups[2]" ("clients" for
    // the implicit group), "strategy" (also for "server"), "privacy" (for "stage:privacy"), "run".
    QString pathForNode(const QString &nodeId) const;
    static QString groupNodeId(const QString &groupName) { return QStringLiteral("group:") + groupName; }
    // The group index of a "group:NAME" node, -1 otherwise.
    int groupIndexOfNode(const QString &nodeId) const;
    QRectF nodesBoundingRect() const;

    // ---- Selection
    QStringList selectedNodeIds() const;
    void selectNodes(const QStringList &nodeIds); // replaces the selection

    // ---- Data the partition preview supplies (until then each group shows a neutral placeholder)
    // One label histogram per client (in client id order) and the group of each client.
    void setLabelHistograms(const QStringList &groupOfClient, const QList<QVector<double>> &histograms);
    // The same from the engine's summary, plus the dataset's sample counts for the dataset node.
    void setPartitionSummary(const PartitionSummary &summary);
    void clearLabelHistograms();
    bool hasLabelHistograms(const QString &groupName) const { return m_histograms.contains(groupName); }

    // ---- Edits, each one undo step through the model
    // Groups are removed; a stage is switched off (its switch set to its off value); other nodes stay.
    // Returns whether anything changed.
    bool deleteNodes(const QStringList &nodeIds);
    // The selected groups as clipboard data (null when `nodeIds` holds no group).
    QMimeData *copyGroups(const QStringList &nodeIds) const;
    static bool canPasteGroups(const QMimeData *data);
    // Adds the groups in `data` with unique names (one undo step); returns the new groups' node ids.
    QStringList pasteGroups(const QMimeData *data);

    // The size a node of this id is drawn with (for placing a dropped node).
    QSizeF nodeSize(const QString &nodeId) const;

Q_SIGNALS:
    void selectedNodesChanged(const QStringList &nodeIds);
    void nodeActivated(const QString &nodeId); // double-clicked
    void rebuilt();                            // the items followed a model change
    void modelReset();                         // a new, opened or recovered document

protected:
    void mousePressEvent(QGraphicsSceneMouseEvent *event) override;
    void mouseReleaseEvent(QGraphicsSceneMouseEvent *event) override;
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent *event) override;
    bool event(QEvent *event) override;

private:
    friend class canvas::Card;
    friend class canvas::ServerFrame;

    void onModelChanged(const QString &path);
    void sync();
    void syncGroups();
    void syncServer();
    void placeNodes();
    void rebuildEdges();
    void updateEdges();
    void onSelectionChanged();
    void nodeMoved();
    QStringList groupErrors(int index, bool implicit) const;
    canvas::Card *card(const QString &nodeId) const;
    QList<QGraphicsItem *> topLevelNodes() const;
    QString topLevelId(QGraphicsItem *item) const;

    FederationModel *m_model;
    canvas::Card *m_dataset = nullptr;
    canvas::Card *m_partition = nullptr;
    canvas::Card *m_modelNode = nullptr;
    canvas::Card *m_training = nullptr;
    canvas::ServerFrame *m_server = nullptr;
    QList<canvas::Card *> m_groups; // in group order
    QList<canvas::Edge *> m_edges;
    // Positions of renamed groups until they are moved (the layout key still names the old group).
    QHash<QString, QPointF> m_carriedPositions;
    QHash<QString, QPointF> m_pressPositions; // top-level node id -> position when a mouse button went down
    QHash<QString, QList<QVector<double>>> m_histograms; // group name -> its clients' label histograms
    QString m_summaryDataset;
    qint64 m_trainSamples = -1, m_testSamples = -1;
    QStringList m_lastSelection;
    bool m_syncing = false;
    bool m_edgesDirty = false;
};

} // namespace fedwb
