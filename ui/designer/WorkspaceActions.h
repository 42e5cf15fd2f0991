// The File menu's workspace actions and their dialogs: New, New From Template, Open, Open Recent, Save,
// Save As, the unsaved-changes question and crash recovery. They act on one WorkspaceDocument; opening a
// file goes through the window's own open function (which shows read problems where it shows them).
#pragma once

#include <QObject>
#include <QString>

#include <functional>

class QAction;
class QMenu;
class QWidget;

namespace fedwb {

class WorkspaceDocument;

class WorkspaceActions : public QObject {
    Q_OBJECT

public:
    using OpenFunction = std::function<bool(const QString &path)>;
    // `dialogParent` parents the dialogs; `open` reads a workspace into the document.
    WorkspaceActions(WorkspaceDocument *document, QWidget *dialogParent, OpenFunction open);

    QAction *newAction() const { return m_new; }
    QAction *openAction() const { return m_open; }
    QAction *saveAction() const { return m_save; }
    QAction *saveAsAction() const { return m_saveAs; }
    QMenu *templatesMenu() const { return m_templates; } // New From Template
    QMenu *recentMenu() const { return m_recent; }       // Open Recent

    // Asks to save unsaved changes (Save / Discard / Cancel): false when the user cancels or saving fails.
    bool maybeSave();
    void openDialog();
    bool saveAsDialog();
    // Offers the newest workspace a crashed session left behind; older ones stay for the next start.
    void offerRecovery();

Q_SIGNALS:
    void message(const QString &text, int timeoutMs);

private:
    void fillRecent();

    WorkspaceDocument *m_document;
    QWidget *m_parent;
    OpenFunction m_openFile;
    QAction *m_new, *m_open, *m_save, *m_saveAs;
    QMenu *m_templates, *m_recent;
};

} // namespace fedwb
