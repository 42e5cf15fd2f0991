// The Runs dock: every run of the store, newest first, sortable by any column and filtered as the user
// types; several runs selectable (Ctrl/Shift+click) for comparison; rename, tags, notes and delete (with
// confirmation) from the context menu or the keyboard (F2, Delete).
#pragma once

#include <QList>
#include <QWidget>

#include <functional>

class QAction;
class QLineEdit;
class QTreeView;

namespace fedwb {

class RunStore;
class RunsModel;
class RunsFilterModel;

class RunsBrowser : public QWidget {
    Q_OBJECT

public:
    explicit RunsBrowser(QWidget *parent = nullptr);

    // The store to list and edit (not owned; nullptr: nothing listed). Edits are offered unless read-only.
    void setStore(RunStore *store, bool readOnly);
    // A run that must not be deleted now (the one being trained).
    void setBusyPredicate(std::function<bool(qint64)> busy) { m_busy = std::move(busy); }
    void reload();

    QList<qint64> selectedRunIds() const; // in list order
    void selectRun(qint64 runId);         // only it, scrolled into view; -1 clears the selection
    void setFilterText(const QString &text);

    // The edits behind the actions (no dialogs): false with a message in the status tip on failure.
    bool renameRun(qint64 runId, const QString &name);
    bool setTags(qint64 runId, const QStringList &tags);
    bool setNotes(qint64 runId, const QString &notes);
    // Deletes the runs (asking first when `confirm`); a busy run is never deleted. The number deleted.
    int deleteRuns(const QList<qint64> &runIds, bool confirm);
    // Every round of a run as CSV or JSON (by the suffix; what fedwb-cli export writes), whole or not at all.
    bool exportRun(qint64 runId, const QString &path);

    RunsModel *model() const { return m_model; }
    RunsFilterModel *proxy() const { return m_proxy; }
    QTreeView *view() const { return m_view; }
    QString lastError() const { return m_error; }

Q_SIGNALS:
    void selectionChanged(const QList<qint64> &runIds);
    void runsChanged(); // something was renamed, tagged or deleted

private:
    bool edit(const std::function<bool(RunStore &)> &change);
    void showContextMenu(const QPoint &at);
    void updateActions();

    RunStore *m_store = nullptr;
    bool m_readOnly = true;
    std::function<bool(qint64)> m_busy;
    RunsModel *m_model;
    RunsFilterModel *m_proxy;
    QLineEdit *m_filter;
    QTreeView *m_view;
    QAction *m_renameAction, *m_tagsAction, *m_notesAction, *m_deleteAction, *m_exportAction;
    QString m_error;
    bool m_reloading = false;
};

} // namespace fedwb
