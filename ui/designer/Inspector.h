// The designer's inspector: the editors of one selection, generated from the registry schemas (there is
// no form per component: a component registered tomorrow gets its editors from its ParamSchemas), and the
// validation panel that lists what blocks Run.
//
// A selection is "" (the workspace: name, description and the list of sections), a section key
// ("partition", "strategy", any key of Registry::sections()) or a client group ("clients.groups[2]": its
// name, size, epochs, behaviour with the behaviour's parameters, and its privacy overrides when privacy.mode
// is local). The canvas' node ids ("group:attackers", "server", "stage:privacy" ...) are accepted as well.
//
// Edits go through FederationModel::setValue as the user types; the merge window is closed when an editor
// loses focus, so typing into one field is one undo step. Text that is not even a value of the field's type
// ("abc" in a number field) is never written: the field turns red with the schema's message and goes back
// to the model's value when it loses focus. A value of the right type that the schema or a cross-field rule
// rejects is written (the model's validation then blocks Run) and shown in red below the field.
#pragma once

#include "spec/Schema.h"

#include <QHash>
#include <QJsonValue>
#include <QList>
#include <QScrollArea>
#include <QString>
#include <QStringList>
#include <QWidget>

class QGridLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QToolButton;
class QVBoxLayout;

namespace fedwb {

class FederationModel;
struct ComponentSchema;

class Inspector : public QScrollArea {
    Q_OBJECT

public:
    explicit Inspector(FederationModel *model, QWidget *parent = nullptr);
    ~Inspector() override;

    // What is shown: "", a section key or "clients.groups[i]".
    QString selection() const { return m_selection; }
    // Shows a selection. Accepts a selection, a canvas node id or a field path ("partition.alpha": its
    // section). Anything unknown shows the workspace.
    void setSelection(const QString &pathOrNodeId);
    // Shows the selection holding `path` and gives its editor the keyboard focus (a validation line was
    // clicked). A path without an editor of its own (a cross-field rule on "clients") shows its selection.
    void focusPath(const QString &path);

    // The selection for a canvas node id: "dataset", "partition", "clients", "model", "training", "run" are
    // section keys; "server" and "strategy" -> "strategy"; "stage:KEY" -> KEY (a section such as privacy or
    // secure_aggregation); "group:NAME" -> "clients.groups[i]" (or "clients" for the implicit group of a
    // workspace without groups). Selections and field paths map to their selection; unknown ids to "".
    static QString selectionForNode(const FederationModel &model, const QString &nodeId);

    // The value paths that have an editor, in row (and tab) order. A group's size is "clients.groups[i].size"
    // (it writes count or fraction).
    QStringList editorPaths() const;
    // The input widget of `path` (QLineEdit, QSpinBox, QComboBox, QCheckBox, QPlainTextEdit; the number field
    // of a count-or-fraction value, whose mode combo is editor(path + ":mode")), or null.
    QWidget *editor(const QString &path) const;
    // The message shown below the field (the parse problem, else the model's errors), empty when fine.
    QString messageAt(const QString &path) const;
    // The "reset to default" button (visible only when the value is set) and the explanation disclosure.
    QToolButton *resetButton(const QString &path) const;
    QToolButton *explanationButton(const QString &path) const;

    // "noise_multiplier" -> "Noise multiplier", "lr_decay" -> "LR decay".
    static QString humanise(const QString &key);

public Q_SLOTS:
    // The data pre-flight's verdict (PartitionPreview::preflightChanged): a failure is shown in red at the
    // field `path` names, like a validation error (or among the selection's problems); ok clears it.
    void setPreflightProblem(bool ok, const QString &path, const QString &message);

Q_SIGNALS:
    void selectionChanged(const QString &selection);
    // "Vary KEY…" from a setting's context menu: a sweep over its values.
    void varyRequested(const QString &path);

protected:
    void changeEvent(QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    struct Row;
    enum class Kind;

    void rebuild();
    void refresh();
    QString signature() const;
    QString normalizedSelection(const QString &pathOrNodeId, QString *field = nullptr) const;

    // The pages.
    void buildWorkspacePage(QVBoxLayout *page);
    void buildSectionPage(QVBoxLayout *page, const QString &section);
    void buildGroupPage(QVBoxLayout *page, int group);
    QWidget *newGrid(QVBoxLayout *page);
    void addHeading(QVBoxLayout *page, const QString &title, const QString &help);
    QWidget *disclosure(const QString &title, const QString &text);
    void addSubheading(const QString &title, const QString &help = {});
    QLabel *secondaryLabel(const QString &text, const QString &objectName);
    void addProblemsLabel(QVBoxLayout *page);
    void addComponentHelp(const ComponentSchema *component);
    void addComponentRow(const QString &sectionPath, const QString &category, const QString &label);
    void addParamRow(const QString &path, const QString &label = {}, const QString &inheritedFrom = {});
    void addGroupSizeRow(int group);
    void addTextRow(const QString &path, const QString &label, bool multiLine);
    void addGroupList(const QString &path);
    void finishRow(Row &row, QWidget *field);

    // Values and edits.
    QJsonValue shownValue(const Row &row) const; // what the model holds for the row (Undefined: not set)
    void showValue(Row &row);
    void showMessage(Row &row);
    QLineEdit *newTextField(Row *row, int generation);
    void textEdited(Row &row, const QString &text);
    void commit(Row &row, const QJsonValue &value);
    void editingFinished(Row &row);
    Row *rowOf(QObject *object);
    Row *rowAt(const QString &path);
    void updateGroupList();
    void updateSectionProblems();
    void relayout();
    void fitLabelColumn();

    FederationModel *m_model;
    QString m_selection;
    QString m_signature;
    QList<Row *> m_rows;
    QList<QWidget *> m_tabOrder; // the page's focusable widgets in page order
    int m_generation = 0;        // bumped by rebuild(): signals of a form being deleted are ignored
    bool m_updating = false;
    // Per page.
    QWidget *m_page = nullptr;
    QGridLayout *m_grid = nullptr;
    int m_gridRow = 0;
    QLabel *m_groupList = nullptr;
    QLabel *m_sectionProblems = nullptr;
    SpecIssue m_preflight; // empty message: none
};

// The model's errors and warnings as a list of lines; activating one (click, Enter) emits issueActivated
// with the path to show, for Inspector::focusPath. The window disables Run while runBlockers() is not empty
// and shows runBlockedText() as Run's tooltip.
class ValidationPanel : public QWidget {
    Q_OBJECT

public:
    explicit ValidationPanel(FederationModel *model, QWidget *parent = nullptr);

    // The errors (and a failed data pre-flight) as "path: message" lines: what blocks Run; empty when none.
    QStringList runBlockers() const;
    // "Run is disabled until these are fixed:" and the blockers, one per line; empty when valid.
    QString runBlockedText() const;
    QListWidget *list() const { return m_list; }

public Q_SLOTS:
    // The data pre-flight's verdict (PartitionPreview::preflightChanged): a failure is listed (and blocks
    // Run) with its key path; ok removes it.
    void setPreflightProblem(bool ok, const QString &path, const QString &message);

Q_SIGNALS:
    // The path of an activated line; a "group N: ..." message on clients.groups names that group.
    void issueActivated(const QString &path);

protected:
    void changeEvent(QEvent *event) override;

private:
    void refresh();
    void activate(QListWidgetItem *item);

    FederationModel *m_model;
    QLabel *m_summary;
    QListWidget *m_list;
    SpecIssue m_preflight; // empty message: none
};

} // namespace fedwb
