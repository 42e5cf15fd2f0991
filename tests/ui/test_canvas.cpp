// The designer's canvas and palette (offscreen): the scene follows the model (edits, undo, redo, reset), the
// nodes and the server's pipeline come from the registry, edits go through the model (palette, delete,
// copy/paste, drags that store layout positions, drops), zoom and fit. Set FEDWB_CANVAS_SCREENSHOTS to a
// directory to keep the rendered canvases as PNG files.
#include "designer/ComponentKinds.h"
#include "designer/FederationCanvas.h"
#include "designer/FederationModel.h"
#include "designer/FederationScene.h"
#include "designer/Palette.h"
#include "run/Experiment.h"
#include "spec/Registry.h"
#include "spec/Schema.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QGraphicsItem>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QMimeData>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>
#include <QUndoStack>

using namespace fedwb;

namespace {

QJsonObject workspace(const QString &relative) {
    QFile f(QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/") + relative);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

QStringList groupNodes(const FederationScene &scene) {
    QStringList out;
    for (const QString &id : scene.nodeIds())
        if (id.startsWith(QLatin1String("group:"))) out.append(id);
    return out;
}

QRectF sceneRectOf(const FederationScene &scene, const QString &id) {
    QGraphicsItem *item = scene.nodeItem(id);
    return item ? item->mapRectToScene(item->shape().boundingRect()) : QRectF();
}

// A left-button drag on the canvas's viewport from `from` to `to` (viewport coordinates), in steps.
void drag(FederationCanvas &canvas, QPoint from, QPoint to, Qt::KeyboardModifiers modifiers = {}) {
    QWidget *vp = canvas.viewport();
    QTest::mousePress(vp, Qt::LeftButton, modifiers, from);
    for (int i = 1; i <= 5; ++i) {
        const QPoint p = from + (to - from) * i / 5;
        QMouseEvent move(QEvent::MouseMove, p, vp->mapToGlobal(p), Qt::NoButton, Qt::LeftButton, modifiers);
        QApplication::sendEvent(vp, &move);
    }
    QTest::mouseRelease(vp, Qt::LeftButton, modifiers, to);
}

// A drag from outside entering the canvas and dropping `data` at `at` (viewport coordinates).
bool dropOn(FederationCanvas &canvas, const QMimeData *data, QPoint at) {
    QDragEnterEvent enter(at, Qt::CopyAction, data, Qt::LeftButton, {});
    QApplication::sendEvent(canvas.viewport(), &enter);
    if (!enter.isAccepted()) return false;
    QDragMoveEvent move(at, Qt::CopyAction, data, Qt::LeftButton, {});
    QApplication::sendEvent(canvas.viewport(), &move);
    QDropEvent drop(QPointF(at), Qt::CopyAction, data, Qt::LeftButton, {});
    QApplication::sendEvent(canvas.viewport(), &drop);
    return drop.isAccepted();
}

QPoint viewPointOf(const FederationCanvas &canvas, const QString &id, QPointF offset = {16, 16}) {
    const QRectF r = sceneRectOf(*canvas.federationScene(), id);
    return canvas.mapFromScene(r.topLeft() + offset);
}

} // namespace

class TestCanvas : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        registerBuiltins();
        QVERIFY(!workspace(QStringLiteral("quickstart.fedwb")).isEmpty());
        QGuiApplication::clipboard()->clear();
    }

    void quickstartHasTheFederationsNodes() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("quickstart.fedwb")));
        QVERIFY(model.isValid());
        FederationScene scene(&model);
        const QStringList ids = scene.nodeIds();
        for (const char *id : {"dataset", "partition", "model", "training", "server", "strategy", "run"})
            QVERIFY2(ids.contains(QLatin1String(id)), id);
        QCOMPARE(groupNodes(scene).size(), model.groups().size());
        QCOMPARE(groupNodes(scene), QStringList{QStringLiteral("group:clients")});
        // Every stage section of the registry has its row, whether on or off.
        QVERIFY(!stageSections().isEmpty());
        for (const QString &key : stageSections())
            QVERIFY2(ids.contains(QStringLiteral("stage:") + key), qPrintable(key));
        // The strategy row names the strategy by its registry title; the other nodes their components'.
        const Registry &reg = Registry::global();
        const QString strategy = model.effectiveValue(QStringLiteral("strategy.name")).toString();
        QVERIFY(scene.nodeText(QStringLiteral("strategy"))
                    .contains(reg.component(QStringLiteral("strategy"), strategy)->title));
        QVERIFY(
            scene.nodeText(QStringLiteral("partition"))
                .contains(reg.component(QStringLiteral("partitioner"), QStringLiteral("dirichlet"))->title));
        QVERIFY(scene.nodeText(QStringLiteral("partition")).contains(QStringLiteral("alpha 0.5")));
        QVERIFY(scene.nodeText(QStringLiteral("dataset")).contains(QStringLiteral("Fashion-MNIST")));
        QVERIFY(scene.nodeText(QStringLiteral("group:clients")).contains(QStringLiteral("20 clients")));
        QVERIFY(scene.nodeText(QStringLiteral("run")).contains(QStringLiteral("20 rounds")));
        QVERIFY(scene.nodeText(QStringLiteral("run")).contains(QStringLiteral("5 clients a round")));
        QVERIFY(scene.nodeErrors(QStringLiteral("partition")).isEmpty());
        // The paths the inspector edits.
        QCOMPARE(scene.pathForNode(QStringLiteral("group:clients")), QStringLiteral("clients"));
        QCOMPARE(scene.pathForNode(QStringLiteral("stage:privacy")), QStringLiteral("privacy"));
        QCOMPARE(scene.pathForNode(QStringLiteral("server")), QStringLiteral("strategy"));
        // The default layout: data left of the groups, the groups left of the server, nothing overlapping.
        const QRectF dataset = sceneRectOf(scene, QStringLiteral("dataset"));
        const QRectF group = sceneRectOf(scene, QStringLiteral("group:clients"));
        const QRectF server = sceneRectOf(scene, QStringLiteral("server"));
        QVERIFY(dataset.right() < group.left());
        QVERIFY(group.right() < server.left());
        const QStringList top{QStringLiteral("dataset"), QStringLiteral("partition"), QStringLiteral("model"),
                              QStringLiteral("training"), QStringLiteral("group:clients")};
        for (const QString &a : top)
            for (const QString &b : top)
                if (a != b)
                    QVERIFY2(!sceneRectOf(scene, a).intersects(sceneRectOf(scene, b)), qPrintable(a + b));
    }

    void stagesFollowTheirSwitches() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("examples/secure-aggregation-dropouts.fedwb")));
        FederationScene scene(&model);
        QCOMPARE(groupNodes(scene),
                 (QStringList{QStringLiteral("group:steady"), QStringLiteral("group:flaky")}));
        QVERIFY(isStageActive(model, QStringLiteral("secure_aggregation")));
        QVERIFY(!isStageActive(model, QStringLiteral("privacy")));
        QVERIFY(scene.nodeText(QStringLiteral("stage:secure_aggregation"))
                    .contains(QStringLiteral("num shares 7")));
        QVERIFY(scene.nodeText(QStringLiteral("group:flaky"))
                    .contains(Registry::global()
                                  .component(QStringLiteral("behaviour"), QStringLiteral("dropout"))
                                  ->title));
        QCOMPARE(behaviourKind(QStringLiteral("dropout")), BehaviourKind::Dropout);
        QCOMPARE(behaviourKind(QStringLiteral("honest")), BehaviourKind::Honest);
        QCOMPARE(behaviourKind(QStringLiteral("sign-flip")), BehaviourKind::Attack);

        // Deleting a stage switches it off, through the model; undo switches it on again.
        QVERIFY(scene.deleteNodes({QStringLiteral("stage:secure_aggregation")}));
        QCOMPARE(model.value(QStringLiteral("secure_aggregation.enabled")), QJsonValue(false));
        QVERIFY(scene.nodeText(QStringLiteral("stage:secure_aggregation")).contains(QStringLiteral("off")));
        model.undoStack()->undo();
        QCOMPARE(model.value(QStringLiteral("secure_aggregation.enabled")), QJsonValue(true));
        // Other nodes are not deleted.
        QVERIFY(!scene.deleteNodes(
            {QStringLiteral("dataset"), QStringLiteral("strategy"), QStringLiteral("run")}));
        QCOMPARE(model.undoStack()->index(), 0);

        // The palette switches a stage on: the choice values of privacy.mode are entries of their own.
        Palette palette(&model);
        QCOMPARE(palette.activate(QStringLiteral("stage:privacy=central")), QStringLiteral("stage:privacy"));
        QCOMPARE(model.value(QStringLiteral("privacy.mode")).toString(), QStringLiteral("central"));
        QVERIFY(isStageActive(model, QStringLiteral("privacy")));
        QVERIFY(palette.isInUse(QStringLiteral("stage:privacy=central")));
        QVERIFY(!palette.isInUse(QStringLiteral("stage:privacy=local")));
        QVERIFY(scene.nodeText(QStringLiteral("stage:privacy")).contains(QStringLiteral("central")));
        model.undoStack()->undo();
        QVERIFY(!isStageActive(model, QStringLiteral("privacy")));
    }

    void paletteAddsAGroupAndUndoRemovesIt() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("quickstart.fedwb")));
        FederationScene scene(&model);
        Palette palette(&model);
        QSignalSpy applied(&palette, &Palette::entryApplied);
        const int before = int(model.groups().size());
        const QString node = palette.activate(QStringLiteral("group:dropout"));
        QCOMPARE(node, QStringLiteral("group:dropout"));
        QCOMPARE(applied.count(), 1);
        // The implicit group became explicit and the new one joined it.
        QCOMPARE(model.groups().size(), before + 1);
        QCOMPARE(model.groups().last().behaviour, QStringLiteral("dropout"));
        QCOMPARE(groupNodes(scene).size(), model.groups().size());
        QVERIFY(scene.nodeIds().contains(node));
        QCOMPARE(model.undoStack()->count(), 1);
        model.undoStack()->undo();
        QCOMPARE(model.groups().size(), before);
        QVERIFY(!scene.nodeIds().contains(node));
        QCOMPARE(groupNodes(scene).size(), model.groups().size());
        model.undoStack()->redo();
        QVERIFY(scene.nodeIds().contains(node));

        // In a workspace whose groups are fractions of clients.count, the groups keep their sizes.
        model.reset(workspace(QStringLiteral("examples/byzantine.fedwb")));
        palette.activate(QStringLiteral("group:label-flip"));
        QVERIFY2(model.isValid(), qPrintable(model.validationText()));
        QCOMPARE(model.groups().size(), 3);
        QCOMPARE(model.groups().at(0).count, 40);
        QCOMPARE(model.groups().at(1).count, 10);
        QCOMPARE(model.effectiveValue(QStringLiteral("clients.count")).toInt(),
                 50 + model.groups().at(2).count);

        // Through the tree, as the user does it: Enter on the entry.
        QTreeWidgetItem *entry = nullptr;
        for (QTreeWidgetItem *item : palette.tree()->findItems(
                 Registry::global()
                     .component(QStringLiteral("behaviour"), QStringLiteral("sign-flip"))
                     ->title,
                 Qt::MatchExactly | Qt::MatchRecursive))
            entry = item;
        QVERIFY(entry);
        palette.show();
        QVERIFY(QTest::qWaitForWindowExposed(&palette));
        palette.tree()->setCurrentItem(entry);
        QTest::keyClick(palette.tree(), Qt::Key_Return);
        QCOMPARE(model.groups().last().behaviour, QStringLiteral("sign-flip"));
        QCOMPARE(groupNodes(scene).size(), model.groups().size());
    }

    void paletteListsTheRegistry() {
        FederationModel model;
        Palette palette(&model);
        const Registry &reg = Registry::global();
        QStringList behaviours, strategies;
        for (const Palette::Entry &e : palette.entries(Palette::Category::Groups))
            behaviours.append(e.id.mid(6));
        for (const Palette::Entry &e : palette.entries(Palette::Category::Strategies))
            strategies.append(e.id.mid(9));
        QCOMPARE(behaviours, reg.componentNames(QStringLiteral("behaviour")));
        QCOMPARE(strategies, reg.componentNames(QStringLiteral("strategy")));
        for (const Palette::Entry &e : palette.entries(Palette::Category::Groups)) {
            const QString name = e.id.mid(6);
            QCOMPARE(e.title, reg.component(QStringLiteral("behaviour"), name)->title);
        }
        // Every stage section has an entry; those with a switch are enabled.
        const QList<Palette::Entry> stages = palette.entries(Palette::Category::Stages);
        for (const QString &key : stageSections()) {
            bool found = false;
            for (const Palette::Entry &e : stages)
                if (e.id == QStringLiteral("stage:") + key ||
                    e.id.startsWith(QStringLiteral("stage:%1=").arg(key))) {
                    found = true;
                    QCOMPARE(e.enabled, stageSwitch(key).valid());
                }
            QVERIFY2(found, qPrintable(key));
        }
        // The tree shows them all.
        int shown = 0;
        for (int i = 0; i < palette.tree()->topLevelItemCount(); ++i)
            shown += palette.tree()->topLevelItem(i)->childCount();
        QCOMPARE(shown, int(palette.entries().size()));
        // Dragging an entry out of the tree carries its payload.
        QTreeWidgetItem *krum = nullptr;
        for (QTreeWidgetItem *item : palette.tree()->findItems(
                 reg.component(QStringLiteral("strategy"), QStringLiteral("krum"))->title,
                 Qt::MatchExactly | Qt::MatchRecursive))
            krum = item;
        QVERIFY(krum);
        QVERIFY(krum->flags() & Qt::ItemIsDragEnabled);
        std::unique_ptr<QMimeData> dragged(
            palette.tree()->model()->mimeData({palette.tree()->indexFromItem(krum)}));
        QVERIFY(dragged);
        const std::optional<QJsonObject> payload = Palette::payloadFrom(dragged.get());
        QVERIFY(payload);
        QCOMPARE(payload->value(QStringLiteral("name")).toString(), QStringLiteral("krum"));
        // The filter hides what does not match.
        palette.findChild<QLineEdit *>()->setText(QStringLiteral("krum"));
        QVERIFY(!krum->isHidden());
        QVERIFY(palette.tree()
                    ->findItems(QStringLiteral("FedAvg"), Qt::MatchExactly | Qt::MatchRecursive)
                    .first()
                    ->isHidden());
        palette.findChild<QLineEdit *>()->clear();
        // A strategy chosen from the palette is marked as in use.
        QCOMPARE(palette.activate(QStringLiteral("strategy:median")), QStringLiteral("strategy"));
        QCOMPARE(model.effectiveValue(QStringLiteral("strategy.name")).toString(), QStringLiteral("median"));
        QVERIFY(palette.isInUse(QStringLiteral("strategy:median")));
        QVERIFY(!palette.isInUse(QStringLiteral("strategy:fedavg")));
    }

    void deletingASelectedGroupRemovesIt() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("examples/byzantine.fedwb")));
        FederationCanvas canvas(&model);
        canvas.resize(1000, 640);
        canvas.show();
        QVERIFY(QTest::qWaitForWindowExposed(&canvas));
        QSignalSpy selection(&canvas, &FederationCanvas::selectionChangedTo);
        // A click selects the node and tells the window.
        QTest::mouseClick(canvas.viewport(), Qt::LeftButton, {},
                          viewPointOf(canvas, QStringLiteral("group:sign-flippers")));
        QCOMPARE(canvas.selectedNodeIds(), QStringList{QStringLiteral("group:sign-flippers")});
        QVERIFY(!selection.isEmpty());
        QCOMPARE(selection.last().first().toStringList(), QStringList{QStringLiteral("group:sign-flippers")});
        QVERIFY(canvas.deleteAction()->isEnabled());
        // A double-click asks for the node's inspector.
        QSignalSpy activated(&canvas, &FederationCanvas::nodeActivated);
        QTest::mouseDClick(canvas.viewport(), Qt::LeftButton, {}, viewPointOf(canvas, QStringLiteral("run")));
        // (QTest's double-click ends with the button down.)
        QTest::mouseRelease(canvas.viewport(), Qt::LeftButton, {},
                            viewPointOf(canvas, QStringLiteral("run")));
        QCOMPARE(activated.count(), 1);
        QCOMPARE(activated.first().first().toString(), QStringLiteral("run"));
        QCOMPARE(canvas.federationScene()->pathForNode(QStringLiteral("run")), QStringLiteral("run"));
        QTest::mouseClick(canvas.viewport(), Qt::LeftButton, {},
                          viewPointOf(canvas, QStringLiteral("group:sign-flippers")));
        // The Delete key, through the canvas's shortcut.
        canvas.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&canvas));
        canvas.setFocus();
        QTest::keyClick(&canvas, Qt::Key_Delete);
        QCOMPARE(model.groups().size(), 1);
        QCOMPARE(model.groups().first().name, QStringLiteral("honest"));
        // The group that stays keeps its 40 clients (its fraction became a count).
        QVERIFY2(model.isValid(), qPrintable(model.validationText()));
        QCOMPARE(model.groups().first().count, 40);
        QCOMPARE(groupNodes(*canvas.federationScene()), QStringList{QStringLiteral("group:honest")});
        QCOMPARE(model.undoStack()->count(), 1);
        model.undoStack()->undo();
        QCOMPARE(groupNodes(*canvas.federationScene()).size(), 2);

        // The other keys: Ctrl+C / Ctrl+V, Ctrl+A, Ctrl+= / Ctrl+-, F.
        canvas.selectNode(QStringLiteral("group:honest"));
        QTest::keyClick(&canvas, Qt::Key_C, Qt::ControlModifier);
        QTest::keyClick(&canvas, Qt::Key_V, Qt::ControlModifier);
        QCOMPARE(model.groups().size(), 3);
        QCOMPARE(model.groups().last().name, QStringLiteral("honest-2"));
        QVERIFY2(model.isValid(), qPrintable(model.validationText()));
        QCOMPARE(model.groups().last().count, 40);
        QTest::keyClick(&canvas, Qt::Key_A, Qt::ControlModifier);
        QCOMPARE(canvas.selectedNodeIds(), canvas.federationScene()->nodeIds());
        const qreal zoom = canvas.zoom();
        QTest::keyClick(&canvas, Qt::Key_Equal, Qt::ControlModifier);
        QVERIFY(canvas.zoom() > zoom);
        QTest::keyClick(&canvas, Qt::Key_Minus, Qt::ControlModifier);
        QTest::keyClick(&canvas, Qt::Key_Minus, Qt::ControlModifier);
        QVERIFY(canvas.zoom() < zoom);
        QTest::keyClick(&canvas, Qt::Key_F);
        QCOMPARE(canvas.zoom(), zoom);
        // Delete with every node selected removes the groups only (the population stays: one group).
        QTest::keyClick(&canvas, Qt::Key_Delete);
        QCOMPARE(model.groups().size(), 1);
        QVERIFY(model.groups().first().implicit);
        QVERIFY(canvas.federationScene()->nodeIds().contains(QStringLiteral("dataset")));
    }

    void copyPasteGivesAUniquelyNamedGroup() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("examples/byzantine.fedwb")));
        FederationCanvas canvas(&model);
        canvas.selectNode(QStringLiteral("group:sign-flippers"));
        QVERIFY(canvas.copyAction()->isEnabled());
        canvas.copySelection();
        const QMimeData *clip = QGuiApplication::clipboard()->mimeData();
        QVERIFY(clip->hasFormat(FederationScene::kGroupsMimeType));
        QVERIFY(clip->text().contains(QStringLiteral("sign-flip")));
        QVERIFY(canvas.pasteAction()->isEnabled());
        canvas.paste();
        const QList<FederationModel::Group> groups = model.groups();
        QCOMPARE(groups.size(), 3);
        QCOMPARE(groups.last().name, QStringLiteral("sign-flippers-2"));
        QCOMPARE(groups.last().behaviour, QStringLiteral("sign-flip"));
        QCOMPARE(groups.last().raw.value(QStringLiteral("behaviour")),
                 groups.at(1).raw.value(QStringLiteral("behaviour")));
        // The pasted group is selected, and the paste is one undo step.
        QCOMPARE(canvas.selectedNodeIds(), QStringList{QStringLiteral("group:sign-flippers-2")});
        QCOMPARE(model.undoStack()->count(), 1);
        model.undoStack()->undo();
        QCOMPARE(model.groups().size(), 2);
        // Pasting twice gives a third name.
        canvas.paste();
        canvas.paste();
        QCOMPARE(model.groups().last().name, QStringLiteral("sign-flippers-3"));
        // Text that is no group is not pasted.
        QGuiApplication::clipboard()->setText(QStringLiteral("hello"));
        QVERIFY(!canvas.pasteAction()->isEnabled());
        const int count = int(model.groups().size());
        canvas.paste();
        QCOMPARE(model.groups().size(), count);
    }

    void draggingANodeStoresItsPosition() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("quickstart.fedwb")));
        FederationCanvas canvas(&model);
        canvas.resize(1000, 640);
        canvas.show();
        QVERIFY(QTest::qWaitForWindowExposed(&canvas));
        FederationScene *scene = canvas.federationScene();
        QGraphicsItem *dataset = scene->nodeItem(QStringLiteral("dataset"));
        const QPointF before = dataset->pos();
        const QPoint from = viewPointOf(canvas, QStringLiteral("dataset"));
        drag(canvas, from, from + QPoint(0, -80));
        QVERIFY(dataset->pos().y() < before.y() - 20);
        // One undo step for the drag, with the position in layout.nodes.
        QCOMPARE(model.undoStack()->count(), 1);
        const std::optional<QPointF> stored = model.nodePosition(QStringLiteral("dataset"));
        QVERIFY(stored);
        QCOMPARE(*stored, dataset->pos());
        QVERIFY(model.isValid()); // the engine ignores the layout section
        // A second drag is a second step.
        drag(canvas, viewPointOf(canvas, QStringLiteral("dataset")),
             viewPointOf(canvas, QStringLiteral("dataset")) + QPoint(-30, 0));
        QCOMPARE(model.undoStack()->count(), 2);
        model.undoStack()->undo();
        QCOMPARE(dataset->pos(), *stored);

        // Dragging the server by one of its rows moves the whole server.
        const QPointF serverBefore = scene->nodeItem(QStringLiteral("server"))->scenePos();
        const QPoint row = viewPointOf(canvas, QStringLiteral("strategy"));
        drag(canvas, row, row + QPoint(60, 40));
        QVERIFY((scene->nodeItem(QStringLiteral("server"))->scenePos() - serverBefore).manhattanLength() >
                30);
        QVERIFY(model.nodePosition(QStringLiteral("server")));
        QCOMPARE(canvas.selectedNodeIds(), QStringList{QStringLiteral("strategy")});

        // Saved and opened again: the nodes are where they were left.
        const QByteArray bytes = FederationModel::toFileBytes(model.raw());
        FederationModel reopened;
        reopened.reset(QJsonDocument::fromJson(bytes).object());
        FederationScene again(&reopened);
        QCOMPARE(again.nodeItem(QStringLiteral("dataset"))->pos(), dataset->pos());
        QCOMPARE(again.nodeItem(QStringLiteral("server"))->scenePos(),
                 scene->nodeItem(QStringLiteral("server"))->scenePos());
    }

    void rubberBandSelectsSeveralAndOneDragMovesThem() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("examples/byzantine.fedwb")));
        FederationCanvas canvas(&model);
        canvas.resize(1000, 640);
        canvas.show();
        QVERIFY(QTest::qWaitForWindowExposed(&canvas));
        FederationScene *scene = canvas.federationScene();
        // A band around both groups, started on empty canvas left of them.
        const QRectF a = sceneRectOf(*scene, QStringLiteral("group:honest"));
        const QRectF b = sceneRectOf(*scene, QStringLiteral("group:sign-flippers"));
        const QRectF both = a.united(b);
        drag(canvas, canvas.mapFromScene(both.topLeft() + QPointF(-30, -8)),
             canvas.mapFromScene(both.bottomLeft() + QPointF(40, 8)));
        QCOMPARE(canvas.selectedNodeIds(),
                 (QStringList{QStringLiteral("group:honest"), QStringLiteral("group:sign-flippers")}));
        const int steps = model.undoStack()->count();
        drag(canvas, viewPointOf(canvas, QStringLiteral("group:honest")),
             viewPointOf(canvas, QStringLiteral("group:honest")) + QPoint(0, 50));
        QCOMPARE(model.undoStack()->count(), steps + 1);
        QVERIFY(model.nodePosition(QStringLiteral("group:honest")));
        QVERIFY(model.nodePosition(QStringLiteral("group:sign-flippers")));
        // Ctrl+A selects everything.
        canvas.selectAllNodes();
        QCOMPARE(canvas.selectedNodeIds(), scene->nodeIds());
    }

    void modelEditsRedrawTheNodes() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("quickstart.fedwb")));
        FederationScene scene(&model);
        const Registry &reg = Registry::global();
        QSignalSpy rebuilt(&scene, &FederationScene::rebuilt);
        model.setComponent(QStringLiteral("strategy"), QStringLiteral("krum"));
        QVERIFY(!rebuilt.isEmpty());
        QVERIFY(scene.nodeText(QStringLiteral("strategy"))
                    .contains(reg.component(QStringLiteral("strategy"), QStringLiteral("krum"))->title));
        model.undoStack()->undo();
        QVERIFY(scene.nodeText(QStringLiteral("strategy"))
                    .contains(reg.component(QStringLiteral("strategy"), QStringLiteral("fedavg"))->title));
        model.undoStack()->redo();
        QVERIFY(scene.nodeText(QStringLiteral("strategy")).contains(QStringLiteral("Krum")));

        // An invalid value marks its node, with the message as tooltip; fixing it clears the mark.
        model.setValue(QStringLiteral("partition.alpha"), -1);
        QVERIFY(!scene.nodeErrors(QStringLiteral("partition")).isEmpty());
        QVERIFY(scene.nodeItem(QStringLiteral("partition"))
                    ->toolTip()
                    .contains(model.errorsAt(QStringLiteral("partition")).first()));
        QVERIFY(scene.nodeErrors(QStringLiteral("dataset")).isEmpty());
        model.undoStack()->undo();
        QVERIFY(scene.nodeErrors(QStringLiteral("partition")).isEmpty());

        // Renaming a group keeps its node (and its selection).
        model.addGroup(QJsonObject{{QStringLiteral("name"), QStringLiteral("phones")}});
        scene.selectNodes({QStringLiteral("group:phones")});
        QGraphicsItem *node = scene.nodeItem(QStringLiteral("group:phones"));
        model.setValue(QStringLiteral("clients.groups[1].name"), QStringLiteral("tablets"));
        QCOMPARE(scene.nodeItem(QStringLiteral("group:tablets")), node);
        QCOMPARE(scene.selectedNodeIds(), QStringList{QStringLiteral("group:tablets")});
        // A renamed group that was moved stays where it was put, through every step of the typing.
        model.setNodePosition(QStringLiteral("group:tablets"), QPointF(-400, -300));
        model.setValue(QStringLiteral("clients.groups[1].name"), QStringLiteral("t"));
        model.setValue(QStringLiteral("clients.groups[1].name"), QStringLiteral("ta"));
        QCOMPARE(scene.nodeItem(QStringLiteral("group:ta"))->pos(), QPointF(-400, -300));
        model.undoStack()->undo(); // the typing, one step
        QCOMPARE(scene.nodeItem(QStringLiteral("group:tablets"))->pos(), QPointF(-400, -300));
        // Group overrides appear on the node.
        model.setValue(QStringLiteral("clients.groups[1].epochs"), 3);
        QVERIFY(scene.nodeText(QStringLiteral("group:tablets")).contains(QStringLiteral("3 local epochs")));

        // A reset (a new document) rebuilds everything and says so.
        QSignalSpy reset(&scene, &FederationScene::modelReset);
        model.reset(workspace(QStringLiteral("examples/byzantine.fedwb")));
        QCOMPARE(reset.count(), 1);
        QCOMPARE(groupNodes(scene).size(), 2);
    }

    void labelHistogramsReplaceThePlaceholder() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("examples/byzantine.fedwb")));
        FederationScene scene(&model);
        QVERIFY(!scene.hasLabelHistograms(QStringLiteral("honest")));
        PartitionSummary summary;
        summary.dataset = QStringLiteral("fashion-mnist");
        summary.numClasses = 3;
        summary.trainPool = 1200;
        summary.testSet = 300;
        for (int i = 0; i < 5; ++i) {
            ClientSummary c;
            c.id = i;
            c.group = i < 4 ? QStringLiteral("honest") : QStringLiteral("sign-flippers");
            c.labelHistogram = {i + 1, 2, 3};
            summary.clients.push_back(c);
        }
        scene.setPartitionSummary(summary);
        QVERIFY(scene.hasLabelHistograms(QStringLiteral("honest")));
        QVERIFY(scene.hasLabelHistograms(QStringLiteral("sign-flippers")));
        QVERIFY(scene.nodeText(QStringLiteral("dataset")).contains(QLocale().toString(1200)));
        scene.clearLabelHistograms();
        QVERIFY(!scene.hasLabelHistograms(QStringLiteral("honest")));
    }

    void dropFromThePaletteAddsWhereDropped() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("examples/byzantine.fedwb")));
        FederationCanvas canvas(&model);
        canvas.resize(1000, 640);
        canvas.show();
        QVERIFY(QTest::qWaitForWindowExposed(&canvas));
        Palette palette(&model);
        Palette::Entry entry;
        for (const Palette::Entry &e : palette.entries(Palette::Category::Groups))
            if (e.id == QLatin1String("group:backdoor")) entry = e;
        QVERIFY(!entry.id.isEmpty());
        std::unique_ptr<QMimeData> data(Palette::mimeData(entry));
        const QPoint at(150, 500);
        // Text is no palette entry: not accepted.
        QMimeData text;
        text.setText(QStringLiteral("krum"));
        QVERIFY(!dropOn(canvas, &text, at));
        QVERIFY(dropOn(canvas, data.get(), at));
        QCOMPARE(model.groups().size(), 3);
        QCOMPARE(model.groups().last().behaviour, QStringLiteral("backdoor"));
        const QString id = FederationScene::groupNodeId(model.groups().last().name);
        QCOMPARE(canvas.selectedNodeIds(), QStringList{id});
        // Centred where it was dropped; the group and its place are one undo step.
        QVERIFY(sceneRectOf(*canvas.federationScene(), id).contains(canvas.mapToScene(at)));
        QCOMPARE(model.undoStack()->count(), 1);
        model.undoStack()->undo();
        QCOMPARE(model.groups().size(), 2);
        QVERIFY(!model.nodePosition(id));

        // A strategy dropped anywhere replaces the strategy.
        for (const Palette::Entry &e : palette.entries(Palette::Category::Strategies))
            if (e.id == QLatin1String("strategy:krum")) entry = e;
        data.reset(Palette::mimeData(entry));
        QVERIFY(dropOn(canvas, data.get(), at));
        QCOMPARE(model.effectiveValue(QStringLiteral("strategy.name")).toString(), QStringLiteral("krum"));
        QCOMPARE(canvas.selectedNodeIds(), QStringList{QStringLiteral("strategy")});
    }

    void zoomAndFitToView() {
        FederationModel model;
        model.reset(workspace(QStringLiteral("examples/byzantine.fedwb")));
        FederationCanvas canvas(&model);
        canvas.resize(900, 560);
        canvas.show();
        QVERIFY(QTest::qWaitForWindowExposed(&canvas));
        const auto everythingVisible = [&] {
            const QRectF visible = canvas.mapToScene(canvas.viewport()->rect()).boundingRect();
            return visible.contains(canvas.federationScene()->itemsBoundingRect());
        };
        // Fitted when shown.
        QVERIFY(everythingVisible());
        const qreal fitted = canvas.transform().m11();
        canvas.zoomIn();
        QVERIFY(canvas.transform().m11() > fitted);
        QCOMPARE(canvas.transform().m11(), canvas.zoom());
        canvas.zoomIn();
        canvas.zoomIn();
        QVERIFY(!everythingVisible());
        canvas.zoomOut();
        QVERIFY(canvas.transform().m11() < fitted * 1.2 * 1.2 * 1.01);
        // Ctrl+wheel zooms too.
        const qreal beforeWheel = canvas.zoom();
        QWheelEvent wheel(QPointF(300, 300), canvas.viewport()->mapToGlobal(QPointF(300, 300)), {},
                          QPoint(0, 240), Qt::NoButton, Qt::ControlModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(canvas.viewport(), &wheel);
        QVERIFY(canvas.zoom() > beforeWheel);
        // A middle-button drag pans.
        canvas.setZoom(1.5);
        const QPoint scroll(canvas.horizontalScrollBar()->value(), canvas.verticalScrollBar()->value());
        QTest::mousePress(canvas.viewport(), Qt::MiddleButton, {}, QPoint(400, 300));
        QMouseEvent pan(QEvent::MouseMove, QPointF(340, 260),
                        canvas.viewport()->mapToGlobal(QPointF(340, 260)), Qt::NoButton, Qt::MiddleButton,
                        {});
        QApplication::sendEvent(canvas.viewport(), &pan);
        QTest::mouseRelease(canvas.viewport(), Qt::MiddleButton, {}, QPoint(340, 260));
        QCOMPARE(canvas.horizontalScrollBar()->value(), scroll.x() + 60);
        QCOMPARE(canvas.verticalScrollBar()->value(), scroll.y() + 40);
        // The limits hold.
        for (int i = 0; i < 40; ++i)
            canvas.zoomOut();
        QCOMPARE(canvas.zoom(), FederationCanvas::kMinZoom);
        canvas.fitToView();
        QVERIFY(everythingVisible());
        // After a fit the view keeps fitting as the federation grows ...
        for (int i = 0; i < 6; ++i)
            model.addGroup(QJsonObject{{QStringLiteral("name"), QStringLiteral("extra")}});
        QVERIFY(everythingVisible());
        for (const QString &id : canvas.federationScene()->nodeIds())
            QVERIFY2(canvas.mapToScene(canvas.viewport()->rect())
                         .boundingRect()
                         .contains(sceneRectOf(*canvas.federationScene(), id)),
                     qPrintable(id));
        // ... until the user clicks: then it stays put.
        const QTransform fittedView = canvas.transform();
        QTest::mouseClick(canvas.viewport(), Qt::LeftButton, {}, QPoint(5, 5));
        model.addGroup(QJsonObject{{QStringLiteral("name"), QStringLiteral("more")}});
        QCOMPARE(canvas.transform(), fittedView);
        // Opening another document fits again.
        canvas.setZoom(2.5);
        model.reset(workspace(QStringLiteral("quickstart.fedwb")));
        QVERIFY(everythingVisible());
    }

    void screenshots() {
        const QString dir = qEnvironmentVariable("FEDWB_CANVAS_SCREENSHOTS");
        struct Shot {
            QString file;
            QJsonObject workspace;
            bool dark;
            bool histograms;
        };
        QJsonObject both = workspace(QStringLiteral("examples/secure-aggregation-dropouts.fedwb"));
        QJsonObject privacy{{QStringLiteral("mode"), QStringLiteral("central")},
                            {QStringLiteral("clip_norm"), 1.0},
                            {QStringLiteral("noise_multiplier"), 0.8}};
        both.insert(QStringLiteral("privacy"), privacy);
        // Every behaviour as a group, overrides, and an error.
        QJsonObject many = workspace(QStringLiteral("quickstart.fedwb"));
        {
            FederationModel model;
            model.reset(many);
            Palette palette(&model);
            for (const Palette::Entry &e : palette.entries(Palette::Category::Groups))
                palette.activate(e.id);
            model.setValue(QStringLiteral("clients.groups[2].epochs"), 3);
            model.setValue(QStringLiteral("clients.groups[3].privacy"),
                           QJsonObject{{QStringLiteral("noise_multiplier"), 2}});
            model.setValue(QStringLiteral("clients.groups[3].behaviour.scale"), 0);
            model.setComponent(QStringLiteral("strategy"), QStringLiteral("multi-krum"));
            many = model.raw();
        }
        const QList<Shot> shots{
            {QStringLiteral("canvas-many-groups.png"), many, false, false},
            {QStringLiteral("canvas-quickstart.png"), workspace(QStringLiteral("quickstart.fedwb")), false,
             false},
            {QStringLiteral("canvas-byzantine.png"), workspace(QStringLiteral("examples/byzantine.fedwb")),
             false, true},
            {QStringLiteral("canvas-secagg.png"),
             workspace(QStringLiteral("examples/secure-aggregation-dropouts.fedwb")), false, true},
            {QStringLiteral("canvas-secagg-privacy-dark.png"), both, true, true},
            {QStringLiteral("canvas-backdoor-dark.png"), workspace(QStringLiteral("examples/backdoor.fedwb")),
             true, false},
        };
        for (const Shot &shot : shots) {
            FederationModel model;
            model.reset(shot.workspace);
            QWidget window;
            window.resize(1180, 640);
            auto *palette = new Palette(&model, &window);
            palette->setGeometry(0, 0, 220, 640);
            auto *canvas = new FederationCanvas(&model, &window);
            canvas->setGeometry(220, 0, 960, 640);
            if (shot.dark) {
                QPalette dark;
                dark.setColor(QPalette::Window, QColor(0x2b, 0x2d, 0x31));
                dark.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
                dark.setColor(QPalette::Base, QColor(0x1f, 0x21, 0x24));
                dark.setColor(QPalette::AlternateBase, QColor(0x2a, 0x2c, 0x30));
                dark.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
                dark.setColor(QPalette::Button, QColor(0x33, 0x35, 0x3a));
                dark.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
                dark.setColor(QPalette::Mid, QColor(0x55, 0x58, 0x5e));
                dark.setColor(QPalette::Highlight, QColor(0x3d, 0x8e, 0xe0));
                dark.setColor(QPalette::HighlightedText, QColor(0xff, 0xff, 0xff));
                window.setPalette(dark);
            }
            if (shot.histograms) {
                // A plausible label skew per client, as the partition preview would supply.
                QStringList groupOf;
                QList<QVector<double>> histograms;
                int client = 0;
                for (const FederationModel::Group &g : model.groups())
                    for (int i = 0; i < g.count; ++i, ++client) {
                        groupOf.append(g.name);
                        QVector<double> h(10);
                        for (int k = 0; k < 10; ++k)
                            h[k] = 1 + ((client * 7 + k * 13) % 17) * (k == client % 10 ? 6 : 1);
                        histograms.append(h);
                    }
                canvas->federationScene()->setLabelHistograms(groupOf, histograms);
            }
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            canvas->fitToView();
            const QStringList groups = groupNodes(*canvas->federationScene());
            if (!groups.isEmpty()) canvas->selectNode(groups.last());
            const QImage image = window.grab().toImage();
            QVERIFY(!image.isNull());
            QCOMPARE(image.size(), window.size() * window.devicePixelRatio());
            if (!dir.isEmpty()) {
                QDir().mkpath(dir);
                QVERIFY(image.save(QDir(dir).filePath(shot.file)));
            }
        }
    }
};

QTEST_MAIN(TestCanvas)
#include "test_canvas.moc"
