// The designer's model and document (headless): edits, undo/redo and merging, groups, validation per path,
// the saved file, templates, autosave and recovery.
#include "designer/FederationModel.h"
#include "designer/WorkspaceDocument.h"
#include "spec/FederationSpec.h"
#include "spec/Schema.h"

#include <QApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

using namespace fedwb;

namespace {

QJsonObject quickstart() {
    QFile f(QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/quickstart.fedwb"));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

} // namespace

class TestFederationModel : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_autosave.isValid());
        qputenv("FEDWB_AUTOSAVE_DIR", m_autosave.path().toUtf8());
        QVERIFY(!quickstart().isEmpty());
        QVERIFY(m_settings.isValid());
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settings.path());
    }

    void pathsReadAndWriteNestedValues() {
        const QJsonObject root{
            {QStringLiteral("clients"),
             QJsonObject{{QStringLiteral("groups"),
                          QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("a")}},
                                     QJsonObject{{QStringLiteral("name"), QStringLiteral("b")}}}}}}};
        QCOMPARE(FederationModel::valueAt(root, QStringLiteral("clients.groups[1].name")).toString(),
                 QStringLiteral("b"));
        QVERIFY(FederationModel::valueAt(root, QStringLiteral("clients.groups[2].name")).isUndefined());
        const QJsonValue set = FederationModel::withValueAt(
            root, QStringLiteral("clients.groups[0].behaviour.name"), QStringLiteral("dropout"));
        QCOMPARE(set.toObject()
                     .value(QStringLiteral("clients"))
                     .toObject()
                     .value(QStringLiteral("groups"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QStringLiteral("behaviour"))
                     .toObject()
                     .value(QStringLiteral("name"))
                     .toString(),
                 QStringLiteral("dropout"));
        // Removing the last key of a section removes nothing else.
        const QJsonValue removed = FederationModel::withValueAt(
            QJsonObject{{QStringLiteral("run"),
                         QJsonObject{{QStringLiteral("seed"), 3}, {QStringLiteral("rounds"), 2}}}},
            QStringLiteral("run.seed"), QJsonValue(QJsonValue::Undefined));
        QCOMPARE(removed.toObject().value(QStringLiteral("run")).toObject(),
                 (QJsonObject{{QStringLiteral("rounds"), 2}}));
    }

    void editsUndoRedoAndMerge() {
        FederationModel model;
        const QJsonObject original = quickstart();
        model.reset(original);
        QVERIFY(model.isValid());
        QCOMPARE(model.undoStack()->count(), 0);

        // Typing into one field: one undo step.
        model.setValue(QStringLiteral("partition.alpha"), 0.4);
        model.setValue(QStringLiteral("partition.alpha"), 0.3);
        model.setValue(QStringLiteral("partition.alpha"), 0.2);
        QCOMPARE(model.undoStack()->count(), 1);
        QCOMPARE(model.value(QStringLiteral("partition.alpha")).toDouble(), 0.2);
        // After the field loses focus, the next edit is a step of its own.
        model.closeMergeWindow();
        model.setValue(QStringLiteral("partition.alpha"), 0.1);
        QCOMPARE(model.undoStack()->count(), 2);
        // Another field: another step.
        model.setValue(QStringLiteral("training.lr"), 0.01);
        QCOMPARE(model.undoStack()->count(), 3);
        model.setComponent(QStringLiteral("strategy"), QStringLiteral("fedprox"));
        QCOMPARE(model.effectiveValue(QStringLiteral("strategy.mu")).toDouble(),
                 model.paramSchema(QStringLiteral("strategy.mu"))->defaultValue.toDouble());
        model.setValue(QStringLiteral("strategy.mu"), 0.5);
        QCOMPARE(model.undoStack()->count(), 5);

        model.undoStack()->undo();
        model.undoStack()->undo();
        QCOMPARE(model.value(QStringLiteral("strategy.name")).toString(), QStringLiteral("fedavg"));
        model.undoStack()->undo();
        model.undoStack()->undo();
        QCOMPARE(model.value(QStringLiteral("partition.alpha")).toDouble(), 0.2);
        model.undoStack()->undo();
        QCOMPARE(model.raw(), original);
        QVERIFY(model.undoStack()->isClean());
        while (model.undoStack()->canRedo())
            model.undoStack()->redo();
        QCOMPARE(model.value(QStringLiteral("strategy.mu")).toDouble(), 0.5);
        QCOMPARE(model.value(QStringLiteral("partition.alpha")).toDouble(), 0.1);
    }

    void changingAComponentDropsTheOldParameters() {
        FederationModel model;
        model.reset(quickstart());
        model.setComponent(QStringLiteral("strategy"), QStringLiteral("fedprox"));
        model.setValue(QStringLiteral("strategy.mu"), 0.1);
        model.setComponent(QStringLiteral("strategy"), QStringLiteral("krum"));
        QVERIFY(!model.isSet(QStringLiteral("strategy.mu")));
        QCOMPARE(model.value(QStringLiteral("strategy.name")).toString(), QStringLiteral("krum"));
        // A partitioner change keeps the section's own keys (min_samples) but drops alpha when the new
        // one has no alpha.
        model.setComponent(QStringLiteral("partition"), QStringLiteral("iid"));
        QVERIFY(!model.isSet(QStringLiteral("partition.alpha")));
        QCOMPARE(model.value(QStringLiteral("partition.min_samples")).toInt(), 50);
        QVERIFY2(model.isValid(), qPrintable(model.validationText()));
        QVERIFY(
            model.parameterPaths(QStringLiteral("strategy")).contains(QStringLiteral("strategy.byzantine")));
    }

    void validationNamesThePath() {
        FederationModel model;
        model.reset(quickstart());
        model.setValue(QStringLiteral("partition.alpha"), -1);
        QVERIFY(!model.isValid());
        const QStringList errors = model.errorsAt(QStringLiteral("partition.alpha"));
        QCOMPARE(errors.size(), 1);
        QVERIFY2(errors.first().contains(QStringLiteral("out of range")), qPrintable(errors.first()));
        QVERIFY(model.errorsAt(QStringLiteral("partition")).size() == 1);
        QVERIFY(model.errorsAt(QStringLiteral("training")).isEmpty());
        QVERIFY(model.validationText().startsWith(QStringLiteral("partition.alpha: ")));
        model.undoStack()->undo();
        QVERIFY(model.isValid());
    }

    void groupsAddUpAndRemove() {
        FederationModel model;
        model.reset(quickstart()); // 20 clients, no groups
        QCOMPARE(model.groups().size(), 1);
        QVERIFY(model.groups().first().implicit);
        QSignalSpy groupsChanged(&model, &FederationModel::groupsChanged);
        const int i = model.addGroup({{QStringLiteral("name"), QStringLiteral("attackers")},
                                      {QStringLiteral("count"), 5},
                                      {QStringLiteral("behaviour"),
                                       QJsonObject{{QStringLiteral("name"), QStringLiteral("sign-flip")}}}});
        QCOMPARE(i, 1);
        QCOMPARE(groupsChanged.count(), 1);
        QVERIFY2(model.isValid(), qPrintable(model.validationText()));
        QCOMPARE(model.effectiveValue(QStringLiteral("clients.count")).toInt(), 25);
        const QList<FederationModel::Group> groups = model.groups();
        QCOMPARE(groups.size(), 2);
        QCOMPARE(groups[0].name, QStringLiteral("clients"));
        QCOMPARE(groups[0].count, 20);
        QCOMPARE(groups[1].count, 5);
        QCOMPARE(groups[1].behaviour, QStringLiteral("sign-flip"));
        // The behaviour's own parameters come from its schema.
        QVERIFY(model.paramSchema(QStringLiteral("clients.groups[1].behaviour.scale")));
        QCOMPARE(model.effectiveValue(QStringLiteral("clients.groups[1].behaviour.scale")).toDouble(), 1.0);
        QVERIFY(model.paramSchema(QStringLiteral("clients.groups[1].count")));
        // A second group of the same base name gets a new name.
        model.addGroup({{QStringLiteral("name"), QStringLiteral("attackers")}});
        QCOMPARE(model.groups().at(2).name, QStringLiteral("attackers-2"));
        // A count that no longer adds up is an error at clients.
        model.setValue(QStringLiteral("clients.groups[2].count"), 100);
        QVERIFY(!model.isValid());
        QVERIFY(!model.errorsAt(QStringLiteral("clients")).isEmpty());
        model.undoStack()->undo();
        QVERIFY(model.isValid());
        model.removeGroups({1, 2});
        QCOMPARE(model.groups().size(), 1);
        QCOMPARE(model.effectiveValue(QStringLiteral("clients.count")).toInt(), 20);
        QVERIFY2(model.isValid(), qPrintable(model.validationText()));
        // A bad group name is reported at that group.
        model.setValue(QStringLiteral("clients.groups[0].name"), QStringLiteral("no spaces allowed"));
        QVERIFY(!model.isValid());
        const QStringList at = model.errorsAt(QStringLiteral("clients.groups[0]"));
        QCOMPARE(at.size(), 1);
        QVERIFY2(at.first().startsWith(QStringLiteral("name")), qPrintable(at.first()));
    }

    void groupsGivenAsFractionsKeepTheirSizes() {
        // byzantine: 50 clients, groups of fraction 0.8 and 0.2. A new group changes clients.count, so the
        // fractions become the counts they stood for; removing a group does the same.
        QFile f(QStringLiteral(FEDWB_SOURCE_DIR "/workspaces/examples/byzantine.fedwb"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        FederationModel model;
        model.reset(QJsonDocument::fromJson(f.readAll()).object());
        QVERIFY(model.isValid());
        model.addGroup({{QStringLiteral("name"), QStringLiteral("late")}, {QStringLiteral("fraction"), 0.1}});
        QVERIFY2(model.isValid(), qPrintable(model.validationText()));
        QList<FederationModel::Group> groups = model.groups();
        QCOMPARE(groups.size(), 3);
        QCOMPARE(groups[0].count, 40);
        QCOMPARE(groups[1].count, 10);
        QCOMPARE(groups[2].count, 5);
        QCOMPARE(model.effectiveValue(QStringLiteral("clients.count")).toInt(), 55);
        model.undoStack()->undo();
        model.removeGroups({1});
        QVERIFY2(model.isValid(), qPrintable(model.validationText()));
        QCOMPARE(model.groups().size(), 1);
        QCOMPARE(model.groups().first().count, 40);
        QCOMPARE(model.effectiveValue(QStringLiteral("clients.count")).toInt(), 40);
        // Removing every group leaves the population as it is, as one implicit group.
        model.removeGroups({0});
        QVERIFY(model.groups().first().implicit);
        QCOMPARE(model.groups().first().count, 40);
    }

    void layoutIsKeptAndIgnoredByTheEngine() {
        FederationModel model;
        model.reset(quickstart());
        model.setNodePosition(QStringLiteral("server"), QPointF(120.4, -30.6));
        QCOMPARE(*model.nodePosition(QStringLiteral("server")), QPointF(120, -31));
        QVERIFY2(model.isValid(), qPrintable(model.validationText()));
        QVERIFY(!model.spec()->json().contains(QStringLiteral("layout")));
        model.setValue(QStringLiteral("layout"), 3);
        QCOMPARE(model.errorsAt(QStringLiteral("layout")).size(), 1);
    }

    void savedFileRoundTripsAndValidatesWithTheCli() {
        WorkspaceDocument doc;
        QVERIFY(doc.newFromTemplate(QStringLiteral("non-iid")));
        QVERIFY(doc.isUntitled());
        doc.model()->setValue(QStringLiteral("run.rounds"), 3);
        doc.model()->addGroup(
            {{QStringLiteral("name"), QStringLiteral("flaky")},
             {QStringLiteral("count"), 4},
             {QStringLiteral("behaviour"), QJsonObject{{QStringLiteral("name"), QStringLiteral("dropout")},
                                                       {QStringLiteral("probability"), 0.25}}}});
        doc.model()->setNodePosition(QStringLiteral("group:flaky"), QPointF(10, 20));
        QVERIFY(doc.isDirty());
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("mine.fedwb"));
        QString error;
        QVERIFY2(doc.saveAs(path, &error), qPrintable(error));
        QVERIFY(!doc.isDirty());
        QCOMPARE(doc.path(), path);

        // The file: the top-level keys in registry order, readable, equal to the model.
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY(bytes.indexOf("\"format\"") < bytes.indexOf("\"dataset\""));
        QVERIFY(bytes.indexOf("\"dataset\"") < bytes.indexOf("\"partition\""));
        QVERIFY(bytes.indexOf("\"run\"") < bytes.indexOf("\"layout\""));
        QCOMPARE(QJsonDocument::fromJson(bytes).object(), doc.model()->raw());

        WorkspaceDocument other;
        QVERIFY2(other.open(path, &error), qPrintable(error));
        QCOMPARE(other.model()->raw(), doc.model()->raw());
        QVERIFY(!other.isDirty());
        QVERIFY(WorkspaceDocument::recentFiles().contains(path));

        QProcess cli;
        cli.start(QStringLiteral(FEDWB_CLI), {QStringLiteral("validate"), path});
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY2(cli.exitCode() == 0,
                 QByteArray(cli.readAllStandardOutput() + cli.readAllStandardError()).constData());
    }

    void aFailedSaveKeepsEverything() {
        WorkspaceDocument doc;
        QVERIFY(doc.newFromTemplate(QStringLiteral("iid")));
        doc.model()->setValue(QStringLiteral("run.rounds"), 7);
        QString error;
        QVERIFY(!doc.saveAs(QStringLiteral("/proc/fedwb-no/such.fedwb"), &error));
        QVERIFY2(error.contains(QStringLiteral("cannot write")), qPrintable(error));
        QVERIFY(doc.isDirty());
        QVERIFY(doc.isUntitled());
        QCOMPARE(doc.model()->value(QStringLiteral("run.rounds")).toInt(), 7);
        // A folder that is a file (fails for root too).
        QVERIFY(!doc.saveAs(QStringLiteral(FEDWB_SOURCE_DIR "/README.md/x.fedwb"), &error));
        QVERIFY2(error.contains(QStringLiteral("README.md")), qPrintable(error));
        QVERIFY(doc.isDirty());
        // A read-only existing file is not replaced.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("ro.fedwb"));
        {
            QFile ro(path);
            QVERIFY(ro.open(QIODevice::WriteOnly));
            QVERIFY(ro.write("{}") == 2);
        }
        QFile::setPermissions(path, QFileDevice::ReadOwner);
        QFile::setPermissions(dir.path(), QFileDevice::ReadOwner | QFileDevice::ExeOwner);
        const bool root = QFileInfo(dir.path()).isWritable(); // root writes anyway
        if (!root) {
            QVERIFY(!doc.saveAs(path, &error));
            QFile ro(path);
            QVERIFY(ro.open(QIODevice::ReadOnly));
            QCOMPARE(ro.readAll(), QByteArray("{}"));
        } else {
            qInfo("running as root: the read-only folder check is left to the /proc case above");
        }
        QFile::setPermissions(dir.path(),
                              QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }

    void templatesAreValid() {
        const QList<WorkspaceTemplate> list = WorkspaceDocument::templates();
        QStringList ids;
        for (const WorkspaceTemplate &t : list) {
            ids.append(t.id);
            const FederationSpec::Parsed parsed = FederationSpec::parse(t.raw);
            QVERIFY2(parsed.ok(), qPrintable(t.id + QStringLiteral(": ") + parsed.errorText()));
            QVERIFY(!t.title.isEmpty());
        }
        QVERIFY(ids.contains(QStringLiteral("iid")));
        QVERIFY(ids.contains(QStringLiteral("non-iid")));
        QVERIFY(ids.contains(QStringLiteral("example:byzantine")));
        QVERIFY(ids.size() >= 10); // iid, non-iid, quickstart and the seven examples
        WorkspaceDocument doc;
        QVERIFY(!doc.newFromTemplate(QStringLiteral("no-such")));
        QVERIFY(doc.newFromTemplate(QStringLiteral("iid")));
        QCOMPARE(doc.model()->effectiveValue(QStringLiteral("partition.name")).toString(),
                 QStringLiteral("iid"));
    }

    void autosaveIsRecoveredAfterACrash() {
        // A child process edits a workspace, autosaves, and is killed: its autosave is offered here.
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("FEDWB_AUTOSAVE_DIR"), m_autosave.path());
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        p.setProcessEnvironment(env);
        p.start(QCoreApplication::applicationFilePath(), {QStringLiteral("autosaveChild")});
        QVERIFY(p.waitForStarted());
        // The child prints "autosaved" once its file is written, then waits to be killed.
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += p.readAllStandardOutput()).contains("autosaved") ||
                                     p.state() == QProcess::NotRunning,
                                 30000);
        QVERIFY2(out.contains("autosaved"), p.readAllStandardError().constData());
        // While the child lives its autosave is not offered (it is still being edited).
        for (const Recovery &r : WorkspaceDocument::pendingRecoveries())
            QVERIFY(r.raw.value(QStringLiteral("name")).toString() != QStringLiteral("edited in the child"));
        p.kill();
        QVERIFY(p.waitForFinished(10000));
        const QList<Recovery> pending = WorkspaceDocument::pendingRecoveries();
        QCOMPARE(pending.size(), 1);
        QCOMPARE(pending.first().raw.value(QStringLiteral("name")).toString(),
                 QStringLiteral("edited in the child"));
        WorkspaceDocument doc;
        doc.restore(pending.first());
        QVERIFY(doc.isDirty());
        QCOMPARE(doc.model()->value(QStringLiteral("run.rounds")).toInt(), 4);
        QVERIFY(WorkspaceDocument::pendingRecoveries().isEmpty());
        // A document closed normally leaves nothing behind.
        {
            WorkspaceDocument closed;
            closed.newFromTemplate(QStringLiteral("iid"));
            closed.model()->setValue(QStringLiteral("run.rounds"), 2);
            closed.setAutosaveInterval(20); // the timer writes it while the document is modified
            QTRY_VERIFY_WITH_TIMEOUT(!closed.autosaveFile().isEmpty() && QFile::exists(closed.autosaveFile()),
                                     10000);
        }
        QCOMPARE(QDir(m_autosave.path()).entryList(QDir::Files).size(), 0);
    }

private:
    QTemporaryDir m_autosave, m_settings;
};

// The crash-recovery child: edits, autosaves, then waits to be killed.
static int autosaveChild(int argc, char **argv) {
    QApplication app(argc, argv);
    WorkspaceDocument doc;
    doc.newFromTemplate(QStringLiteral("iid"));
    doc.model()->setValue(QStringLiteral("name"), QStringLiteral("edited in the child"));
    doc.model()->setValue(QStringLiteral("run.rounds"), 4);
    QString error;
    if (!doc.autosaveNow(&error)) {
        fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    fputs("autosaved\n", stdout);
    fflush(stdout);
    return app.exec();
}

int main(int argc, char **argv) {
    if (argc > 1 && qstrcmp(argv[1], "autosaveChild") == 0) return autosaveChild(argc, argv);
    QApplication app(argc, argv);
    TestFederationModel t;
    return QTest::qExec(&t, argc, argv);
}

#include "test_federation_model.moc"
