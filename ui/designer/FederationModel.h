// The federation being designed: the workspace JSON as the user edits it, its validation, and the undo
// stack. The one model the canvas, the inspector, the partition preview, the tests and the file functions
// share (the canvas and the inspector only listen to it and edit through it). Widget-free.
//
// Paths name values inside the workspace: "partition.alpha", "clients.groups[1].behaviour.name",
// "layout.nodes.server". Every edit is one undoable command; consecutive edits of the same path merge into
// one (typing 0.5 -> 0.45 -> 0.4 in a spin box is one undo step) until closeMergeWindow() is called.
#pragma once

#include "spec/FederationSpec.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QPointF>
#include <QString>
#include <QStringList>

#include <optional>

class QUndoStack;

namespace fedwb {

struct ComponentSchema;
struct ParamSchema;
struct SectionSchema;

class FederationModel : public QObject {
    Q_OBJECT

public:
    explicit FederationModel(QObject *parent = nullptr);
    ~FederationModel() override;

    // ---- The document
    // Replaces the workspace (a new, opened or recovered document): clears the undo stack, validates.
    // `readWarnings` are the reader's own (duplicate keys), shown with the validation warnings.
    void reset(const QJsonObject &raw, const QList<SpecIssue> &readWarnings = {});
    const QJsonObject &raw() const { return m_raw; }

    // The value at `path` as written (Undefined when the workspace does not set it).
    QJsonValue value(const QString &path) const;
    bool isSet(const QString &path) const { return !value(path).isUndefined(); }
    // The value the engine uses: as written, else the default the validated spec filled in, else the
    // schema's default (for an invalid workspace). Undefined for a key no schema knows.
    QJsonValue effectiveValue(const QString &path) const;

    // ---- Schemas for a path (null when none applies)
    // The parameter schema of `path` ("partition.alpha" looks in the partition section and the selected
    // partitioner; "clients.groups[0].behaviour.p" in the group's selected behaviour).
    const ParamSchema *paramSchema(const QString &path) const;
    // The component a section (or "clients.groups[i].behaviour") selects, from its effective name.
    const ComponentSchema *selectedComponent(const QString &sectionPath) const;
    // The parameter paths shown for a section, in schema order: the section's own keys, then those of the
    // selected component ("name" first). For "clients.groups[i].behaviour": the behaviour's keys.
    QStringList parameterPaths(const QString &sectionPath) const;

    // ---- Edits (each one undoable command)
    // Sets (or, with an Undefined value, removes) the value at `path`; objects and arrays on the way are
    // created. `text` names the command in the undo history ("Set partition.alpha" when empty).
    void setValue(const QString &path, const QJsonValue &value, const QString &text = {});
    void removeValue(const QString &path, const QString &text = {}) {
        setValue(path, QJsonValue(QJsonValue::Undefined), text);
    }
    // Chooses component `name` for a section or a group's behaviour: the previous component's parameters
    // (keys the new one does not have) are dropped in the same command.
    void setComponent(const QString &sectionPath, const QString &name);
    // Client groups. A workspace without groups has one implicit group "clients" holding all of
    // clients.count; the first added group makes it explicit. Returns the new group's index.
    int addGroup(QJsonObject group = {});
    void removeGroups(QList<int> indices);
    // Where the canvas draws node `nodeId` ("dataset", "server", "group:NAME", "stage:KEY"): layout.nodes.
    void setNodePosition(const QString &nodeId, QPointF position);
    std::optional<QPointF> nodePosition(const QString &nodeId) const;
    // Several edits as one undo step.
    void beginMacro(const QString &text);
    void endMacro();
    // Ends merging: the next edit of the same path starts a new undo step (an editor lost focus).
    void closeMergeWindow() { ++m_mergeEpoch; }

    QUndoStack *undoStack() const { return m_undo; }

    // ---- The client groups as the engine sees them (from the effective workspace)
    struct Group {
        QString name;
        int count = 0; // resolved (fractions against clients.count); 0 when unknown
        QString behaviour;
        QJsonObject raw; // the group object as written (empty for the implicit group)
        bool implicit = false;
    };
    QList<Group> groups() const;
    QString uniqueGroupName(const QString &base) const;

    // ---- Validation (recomputed after every change)
    const FederationSpec::Parsed &parsed() const { return m_parsed; }
    bool isValid() const { return m_parsed.ok(); }
    const std::optional<FederationSpec> &spec() const { return m_parsed.spec; }
    const QList<SpecIssue> &errors() const { return m_parsed.errors; }
    const QList<SpecIssue> &warnings() const { return m_parsed.warnings; }
    // The messages of the errors at `path` or inside it ("clients" includes "clients.groups[0].count").
    QStringList errorsAt(const QString &path) const;
    // "path: message" lines, errors then warnings ("warning: ..."), as fedwb-cli validate prints them.
    QString validationText() const;

    // The workspace as saved: top-level keys in a fixed order (format, name, description, the sections in
    // registry order, layout) and two-space indented, so a saved file diffs well.
    static QByteArray toFileBytes(const QJsonObject &raw);
    // Path helpers, shared with the editors. Segments are separated by '.'; "groups[2]" indexes an array.
    static QJsonValue valueAt(const QJsonValue &root, const QString &path);
    static QJsonValue withValueAt(const QJsonValue &root, const QString &path, const QJsonValue &value);

Q_SIGNALS:
    // After every edit, undo and redo (`path` is what changed; empty after reset() or a multi-path
    // change). validated() follows at once.
    void changed(const QString &path);
    void validated();
    void groupsChanged(); // the group list (names, counts, behaviours) may have changed

private:
    class EditCommand;
    friend class EditCommand;
    void apply(const QJsonObject &raw, const QString &path); // sets m_raw, revalidates, signals

    QJsonObject m_raw;
    QList<SpecIssue> m_readWarnings;
    FederationSpec::Parsed m_parsed;
    QUndoStack *m_undo;
    int m_mergeEpoch = 0;
};

} // namespace fedwb
