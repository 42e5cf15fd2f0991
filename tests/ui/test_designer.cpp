// The designer as a user drives it, through the main window (offscreen): a federation built with the
// palette, the canvas and the inspector; undo/redo back to the original; save and reopen; an invalid value
// that blocks Run; the preview following alpha; and a workspace saved by the GUI that runs under the real
// fedwb-cli to the same result as the same federation written by hand.
#include "MainWindow.h"
#include "designer/DesignerView.h"
#include "designer/FederationCanvas.h"
#include "designer/FederationModel.h"
#include "designer/FederationScene.h"
#include "designer/Inspector.h"
#include "designer/Palette.h"
#include "designer/PartitionPreview.h"
#include "run/Experiment.h"
#include "spec/Registry.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QProcess>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

using namespace fedwb;

namespace {

// Small and fast: 4 natural clients of the synthetic dataset, logistic regression, two rounds.
QJsonObject baseWorkspace() {
    return QJsonObject{
        {QStringLiteral("format"), 1},
        {QStringLiteral("name"), QStringLiteral("designer-test")},
        {QStringLiteral("dataset"), QJsonObject{{QStringLiteral("name"), QStringLiteral("synthetic")},
                                                {QStringLiteral("max_samples"), 240}}},
        {QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("natural")}}},
        {QStringLiteral("clients"), QJsonObject{{QStringLiteral("count"), 4}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("name"), QStringLiteral("logreg")}}},
        {QStringLiteral("run"), QJsonObject{{QStringLiteral("rounds"), 2},
                                            {QStringLiteral("seed"), 3},
                                            {QStringLiteral("threads"), 1}}},
    };
}

QJsonObject runCli(const QStringList &args) {
    QProcess p;
    p.start(QStringLiteral(FEDWB_CLI), args);
    if (!p.waitForFinished(300000) || p.exitCode() != 0) {
        qWarning("fedwb-cli %s failed: %s %s", qPrintable(args.join(QLatin1Char(' '))),
                 p.readAllStandardOutput().constData(), p.readAllStandardError().constData());
        return {};
    }
    const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
    return QJsonDocument::fromJson(lines.last()).object();
}

// Types `text` into a line edit the way a user does: select all, type, leave the field.
void typeInto(QWidget *editor, const QString &text) {
    auto *edit = qobject_cast<QLineEdit *>(editor);
    QVERIFY2(edit, "expected a text field");
    edit->setFocus();
    edit->selectAll();
    QTest::keyClicks(edit, text);
}

} // namespace

class TestDesigner : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        qputenv("FEDWB_AUTOSAVE_DIR", m_dir.filePath(QStringLiteral("autosave")).toUtf8());
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope,
                           m_dir.filePath(QStringLiteral("settings")));
        registerBuiltins();
    }

    void buildUndoRedoSaveAndRunLikeTheHandWrittenOne() {
        const QString basePath = write(QStringLiteral("base"), baseWorkspace());
        MainWindow w;
        w.setDatabasePath(m_dir.filePath(QStringLiteral("designer.sqlite")));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openWorkspace(basePath));
        const QJsonObject original = w.model()->raw();
        DesignerView *d = w.designer();

        // 1. A group of clients that drop out, from the palette: a node on the canvas, a group in the model.
        const int nodesBefore = int(d->canvas()->federationScene()->nodeIds().size());
        const QString node = d->palette()->activate(QStringLiteral("group:dropout"));
        QVERIFY2(node.startsWith(QStringLiteral("group:")), qPrintable(node));
        QCOMPARE(d->canvas()->federationScene()->nodeIds().size(), nodesBefore + 1);
        QCOMPARE(w.model()->groups().size(), 2);
        QCOMPARE(w.model()->groups().at(1).behaviour, QStringLiteral("dropout"));
        const int dropouts = w.model()->groups().at(1).count;

        // 2. The strategy, in the inspector for the server node selected on the canvas.
        d->canvas()->selectNode(QStringLiteral("server"));
        QTRY_COMPARE(d->inspector()->selection(), QStringLiteral("strategy"));
        auto *strategy = qobject_cast<QComboBox *>(d->inspector()->editor(QStringLiteral("strategy.name")));
        QVERIFY(strategy);
        const int fedprox = strategy->findData(QStringLiteral("fedprox"));
        QVERIFY(fedprox >= 0);
        strategy->setCurrentIndex(fedprox);
        Q_EMIT strategy->activated(fedprox); // what a click on the item does
        QCOMPARE(w.model()->value(QStringLiteral("strategy.name")).toString(), QStringLiteral("fedprox"));
        // The form is FedProx's now: its mu, typed in.
        QTRY_VERIFY(d->inspector()->editor(QStringLiteral("strategy.mu")));
        typeInto(d->inspector()->editor(QStringLiteral("strategy.mu")), QStringLiteral("0.25"));
        QCOMPARE(w.model()->value(QStringLiteral("strategy.mu")).toDouble(), 0.25);

        // 3. The dropout probability of the new group.
        const QString groupPath = QStringLiteral("clients.groups[1]");
        d->inspector()->setSelection(groupPath);
        QTRY_VERIFY(d->inspector()->editor(groupPath + QStringLiteral(".behaviour.probability")));
        typeInto(d->inspector()->editor(groupPath + QStringLiteral(".behaviour.probability")),
                 QStringLiteral("0.4"));
        QCOMPARE(w.model()->value(groupPath + QStringLiteral(".behaviour.probability")).toDouble(), 0.4);
        QVERIFY2(w.model()->isValid(), qPrintable(w.model()->validationText()));
        QVERIFY(w.document()->isDirty());
        QVERIFY(w.windowTitle().contains(QStringLiteral("*")) || w.isWindowModified());
        const QJsonObject built = w.model()->raw();

        // Undo everything: the original, byte for byte; redo everything: the federation built.
        QUndoStack *undo = w.model()->undoStack();
        QVERIFY(undo->count() >= 4);
        while (w.undoAction()->isEnabled())
            w.undoAction()->trigger();
        QCOMPARE(w.model()->raw(), original);
        QCOMPARE(d->canvas()->federationScene()->nodeIds().size(), nodesBefore);
        QVERIFY(!w.document()->isDirty());
        while (w.redoAction()->isEnabled())
            w.redoAction()->trigger();
        QCOMPARE(w.model()->raw(), built);

        // Save, reopen in a new window: the same workspace.
        const QString saved = m_dir.filePath(QStringLiteral("built.fedwb"));
        QString error;
        QVERIFY2(w.saveWorkspaceAs(saved, &error), qPrintable(error));
        QVERIFY(!w.document()->isDirty());
        {
            MainWindow other;
            QVERIFY(other.openWorkspace(saved));
            QCOMPARE(other.model()->raw(), built);
        }

        // The same federation written by hand (no layout, nothing the defaults already say).
        QJsonObject hand = baseWorkspace();
        hand.insert(
            QStringLiteral("clients"),
            QJsonObject{
                {QStringLiteral("count"), 4 + dropouts},
                {QStringLiteral("groups"),
                 QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("clients")},
                                        {QStringLiteral("count"), 4}},
                            QJsonObject{{QStringLiteral("name"), QStringLiteral("flaky")},
                                        {QStringLiteral("count"), dropouts},
                                        {QStringLiteral("behaviour"),
                                         QJsonObject{{QStringLiteral("name"), QStringLiteral("dropout")},
                                                     {QStringLiteral("probability"), 0.4}}}}}}});
        hand.insert(
            QStringLiteral("strategy"),
            QJsonObject{{QStringLiteral("name"), QStringLiteral("fedprox")}, {QStringLiteral("mu"), 0.25}});
        const QString handPath = write(QStringLiteral("hand"), hand);

        // Both validate and run to the same result under the real CLI.
        {
            QProcess validate;
            validate.start(QStringLiteral(FEDWB_CLI), {QStringLiteral("validate"), saved});
            QVERIFY(validate.waitForFinished(120000));
            const QByteArray out = validate.readAllStandardOutput();
            QVERIFY2(validate.exitCode() == 0 && out.contains(": valid"), out.constData());
        }
        const QJsonObject fromGui =
            runCli({QStringLiteral("run"), saved, QStringLiteral("--db"),
                    m_dir.filePath(QStringLiteral("cli-gui.sqlite")), QStringLiteral("--json")});
        const QJsonObject fromHand =
            runCli({QStringLiteral("run"), handPath, QStringLiteral("--db"),
                    m_dir.filePath(QStringLiteral("cli-hand.sqlite")), QStringLiteral("--json")});
        QCOMPARE(fromGui.value(QStringLiteral("status")).toString(), QStringLiteral("finished"));
        QCOMPARE(fromHand.value(QStringLiteral("status")).toString(), QStringLiteral("finished"));
        QVERIFY(fromGui.value(QStringLiteral("final_test_accuracy")).isDouble());
        QCOMPARE(fromGui.value(QStringLiteral("final_test_accuracy")).toDouble(),
                 fromHand.value(QStringLiteral("final_test_accuracy")).toDouble());
        QCOMPARE(fromGui.value(QStringLiteral("final_test_loss")).toDouble(),
                 fromHand.value(QStringLiteral("final_test_loss")).toDouble());
        // And the group name mattered not at all, but the settings did: a different mu changes the result.
        hand.insert(
            QStringLiteral("strategy"),
            QJsonObject{{QStringLiteral("name"), QStringLiteral("fedprox")}, {QStringLiteral("mu"), 2.0}});
        const QJsonObject otherMu =
            runCli({QStringLiteral("run"), write(QStringLiteral("hand-mu"), hand), QStringLiteral("--db"),
                    m_dir.filePath(QStringLiteral("cli-mu.sqlite")), QStringLiteral("--json")});
        QVERIFY(otherMu.value(QStringLiteral("final_test_loss")).toDouble() !=
                fromHand.value(QStringLiteral("final_test_loss")).toDouble());
    }

    void invalidValueShowsItsMessageAndBlocksRun() {
        MainWindow w;
        w.setDatabasePath(m_dir.filePath(QStringLiteral("invalid.sqlite")));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openWorkspace(QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb")));
        QVERIFY(w.runAction()->isEnabled());
        Inspector *inspector = w.designer()->inspector();
        inspector->setSelection(QStringLiteral("partition"));
        QWidget *alpha = inspector->editor(QStringLiteral("partition.alpha"));
        QVERIFY(alpha);
        typeInto(alpha, QStringLiteral("-1"));
        // The message FederationSpec gives for it, under the field; Run disabled with the reason.
        QJsonObject raw = w.model()->raw();
        raw.insert(QStringLiteral("partition"),
                   QJsonObject{{QStringLiteral("name"), QStringLiteral("dirichlet")},
                               {QStringLiteral("alpha"), -1}});
        const FederationSpec::Parsed expected = FederationSpec::parse(raw);
        QVERIFY(!expected.ok());
        QString expectedMessage;
        for (const SpecIssue &e : expected.errors)
            if (e.path == QLatin1String("partition.alpha")) expectedMessage = e.message;
        QVERIFY(!expectedMessage.isEmpty());
        QVERIFY2(inspector->messageAt(QStringLiteral("partition.alpha")).contains(expectedMessage),
                 qPrintable(inspector->messageAt(QStringLiteral("partition.alpha"))));
        QVERIFY(!w.runAction()->isEnabled());
        QVERIFY2(w.runAction()->toolTip().contains(QStringLiteral("partition.alpha")),
                 qPrintable(w.runAction()->toolTip()));
        w.startRun();
        QVERIFY(!w.isRunning()); // nothing invalid reaches the engine
        // The canvas marks the partition node.
        QVERIFY(
            !w.designer()->canvas()->federationScene()->nodeErrors(QStringLiteral("partition")).isEmpty());
        // Undo: valid again, Run enabled.
        w.undoAction()->trigger();
        QVERIFY(w.model()->isValid());
        QTRY_VERIFY(w.runAction()->isEnabled());
        QVERIFY(inspector->messageAt(QStringLiteral("partition.alpha")).isEmpty());
    }

    void previewFollowsAlpha() {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        PartitionPreview *preview = w.designer()->preview();
        QSignalSpy updated(preview, &PartitionPreview::updated);
        QVERIFY(w.openWorkspace(QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb")));
        QTRY_VERIFY_WITH_TIMEOUT(!preview->isComputing() && preview->summary(), 60000);
        // Label skew measured here from the histograms: the mean total-variation distance between each
        // client's label mix and the pooled one.
        const auto skew = [](const PartitionSummary &s) {
            std::vector<double> pooled(std::size_t(s.numClasses), 0.0);
            double total = 0;
            for (const ClientSummary &c : s.clients)
                for (int k = 0; k < s.numClasses; ++k) {
                    pooled[std::size_t(k)] += double(c.labelHistogram[std::size_t(k)]);
                    total += double(c.labelHistogram[std::size_t(k)]);
                }
            double sum = 0;
            for (const ClientSummary &c : s.clients) {
                double n = 0, tv = 0;
                for (int k = 0; k < s.numClasses; ++k)
                    n += double(c.labelHistogram[std::size_t(k)]);
                for (int k = 0; k < s.numClasses; ++k)
                    tv += std::abs(double(c.labelHistogram[std::size_t(k)]) / n -
                                   pooled[std::size_t(k)] / total);
                sum += tv / 2;
            }
            return sum / double(s.clients.size());
        };
        const double skewed = skew(*preview->summary());
        w.designer()->inspector()->setSelection(QStringLiteral("partition"));
        updated.clear();
        typeInto(w.designer()->inspector()->editor(QStringLiteral("partition.alpha")), QStringLiteral("100"));
        QTRY_VERIFY_WITH_TIMEOUT(updated.count() >= 1 && !preview->isComputing(), 60000);
        QCOMPARE(w.model()->value(QStringLiteral("partition.alpha")).toDouble(), 100.0);
        const double flat = skew(*preview->summary());
        QVERIFY2(skewed > 0.3 && flat < 0.1, qPrintable(QStringLiteral("%1 -> %2").arg(skewed).arg(flat)));
        // The canvas's group glyph has the preview's label mix.
        QVERIFY(w.designer()->canvas()->federationScene()->hasLabelHistograms(QStringLiteral("clients")));
    }

private:
    QString write(const QString &name, const QJsonObject &ws) {
        const QString path = m_dir.filePath(name + QStringLiteral(".fedwb"));
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return {};
        const QByteArray bytes = QJsonDocument(ws).toJson();
        if (f.write(bytes) != bytes.size()) return {};
        return path;
    }

    QTemporaryDir m_dir;
};

QTEST_MAIN(TestDesigner)
#include "test_designer.moc"
