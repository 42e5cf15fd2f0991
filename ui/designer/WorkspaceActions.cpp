#include "designer/WorkspaceActions.h"

#include "designer/WorkspaceDocument.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QStyle>
#include <QWidget>

namespace fedwb {

WorkspaceActions::WorkspaceActions(WorkspaceDocument *document, QWidget *dialogParent, OpenFunction open)
    : QObject(dialogParent)
    , m_document(document)
    , m_parent(dialogParent)
    , m_openFile(std::move(open)) {
    QStyle *st = dialogParent->style();
    m_new = new QAction(st->standardIcon(QStyle::SP_FileIcon), tr("&New Workspace"), this);
    m_new->setIconText(tr("New"));
    m_new->setShortcut(QKeySequence::New);
    m_new->setStatusTip(
        tr("Start a new workspace from the IID baseline (File ▸ New From Template for others)"));
    connect(m_new, &QAction::triggered, this, [this] {
        if (maybeSave()) m_document->newFromTemplate(QStringLiteral("iid"));
    });

    m_open = new QAction(st->standardIcon(QStyle::SP_DialogOpenButton), tr("&Open Workspace…"), this);
    m_open->setIconText(tr("Open"));
    m_open->setShortcut(QKeySequence::Open);
    m_open->setStatusTip(tr("Open a .fedwb workspace"));
    connect(m_open, &QAction::triggered, this, &WorkspaceActions::openDialog);

    m_save = new QAction(st->standardIcon(QStyle::SP_DialogSaveButton), tr("&Save"), this);
    m_save->setShortcut(QKeySequence::Save);
    m_save->setStatusTip(tr("Save the workspace"));
    connect(m_save, &QAction::triggered, this, [this] {
        if (m_document->isUntitled()) {
            saveAsDialog();
            return;
        }
        QString error;
        if (m_document->save(&error))
            Q_EMIT message(tr("Saved %1").arg(QDir::toNativeSeparators(m_document->path())), 5000);
        else
            QMessageBox::warning(m_parent, tr("Save Workspace"),
                                 tr("The workspace was not saved: %1").arg(error));
    });
    m_saveAs = new QAction(tr("Save &As…"), this);
    m_saveAs->setShortcut(QKeySequence::SaveAs);
    m_saveAs->setStatusTip(tr("Save the workspace under a new name"));
    connect(m_saveAs, &QAction::triggered, this, &WorkspaceActions::saveAsDialog);

    m_templates = new QMenu(tr("New From &Template"), dialogParent);
    for (const WorkspaceTemplate &t : WorkspaceDocument::templates()) {
        QAction *a = m_templates->addAction(t.title);
        a->setStatusTip(t.description);
        a->setToolTip(t.description);
        connect(a, &QAction::triggered, this, [this, id = t.id] {
            if (maybeSave()) m_document->newFromTemplate(id);
        });
    }
    m_templates->setToolTipsVisible(true);
    m_recent = new QMenu(tr("Open &Recent"), dialogParent);
    connect(m_recent, &QMenu::aboutToShow, this, &WorkspaceActions::fillRecent);
    fillRecent();
}

void WorkspaceActions::fillRecent() {
    m_recent->clear();
    const QStringList files = WorkspaceDocument::recentFiles();
    for (const QString &f : files) {
        QAction *a = m_recent->addAction(QFileInfo(f).fileName());
        a->setToolTip(QDir::toNativeSeparators(f));
        a->setStatusTip(QDir::toNativeSeparators(f));
        connect(a, &QAction::triggered, this, [this, f] {
            if (maybeSave()) m_openFile(f);
        });
    }
    if (files.isEmpty()) m_recent->addAction(tr("(none)"))->setEnabled(false);
}

bool WorkspaceActions::maybeSave() {
    if (!m_document->isDirty()) return true;
    const auto answer = QMessageBox::question(
        m_parent, tr("Unsaved Changes"),
        tr("%1 has unsaved changes. Save them first?").arg(m_document->displayName()),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Cancel) return false;
    if (answer == QMessageBox::Discard) return true;
    if (m_document->isUntitled()) return saveAsDialog();
    QString error;
    if (m_document->save(&error)) return true;
    QMessageBox::warning(m_parent, tr("Save Workspace"), tr("The workspace was not saved: %1").arg(error));
    return false;
}

void WorkspaceActions::openDialog() {
    if (!maybeSave()) return;
    QString dir =
        m_document->isUntitled() ? QDir::currentPath() : QFileInfo(m_document->path()).absolutePath();
    if (m_document->isUntitled() && QDir(dir).exists(QStringLiteral("workspaces")))
        dir = QDir(dir).filePath(QStringLiteral("workspaces"));
    const QString path = QFileDialog::getOpenFileName(
        m_parent, tr("Open Workspace"), dir, tr("FedWorkbench workspaces (*.fedwb *.json);;All files (*)"));
    if (!path.isEmpty()) m_openFile(path);
}

bool WorkspaceActions::saveAsDialog() {
    const QString suggested = m_document->isUntitled()
                                  ? QDir(QDir::currentPath()).filePath(QStringLiteral("federation.fedwb"))
                                  : m_document->path();
    QString path = QFileDialog::getSaveFileName(m_parent, tr("Save Workspace As"), suggested,
                                                tr("FedWorkbench workspaces (*.fedwb);;All files (*)"));
    if (path.isEmpty()) return false;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".fedwb");
    QString error;
    if (m_document->saveAs(path, &error)) {
        Q_EMIT message(tr("Saved %1").arg(QDir::toNativeSeparators(path)), 5000);
        return true;
    }
    QMessageBox::warning(m_parent, tr("Save Workspace"), tr("The workspace was not saved: %1").arg(error));
    return false;
}

void WorkspaceActions::offerRecovery() {
    const QList<Recovery> pending = WorkspaceDocument::pendingRecoveries();
    if (pending.isEmpty()) return;
    const Recovery &r = pending.first();
    const QString what =
        r.originalPath.isEmpty() ? tr("an untitled workspace") : QDir::toNativeSeparators(r.originalPath);
    QMessageBox box(QMessageBox::Question, tr("Recover Workspace"),
                    tr("FedWorkbench ended without saving %1 (autosaved %2).\nRecover those changes?")
                        .arg(what, QLocale().toString(r.savedAt.toLocalTime(), QLocale::ShortFormat)),
                    QMessageBox::NoButton, m_parent);
    QPushButton *recover = box.addButton(tr("Recover"), QMessageBox::AcceptRole);
    box.addButton(tr("Discard"), QMessageBox::DestructiveRole);
    box.setDefaultButton(recover);
    box.exec();
    if (box.clickedButton() == recover) {
        m_document->restore(r);
        Q_EMIT message(tr("Recovered %1: save it to keep it").arg(what), 8000);
    } else {
        WorkspaceDocument::discardRecovery(r);
    }
}

} // namespace fedwb
