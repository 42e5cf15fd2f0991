// The workspace file behind the designer: new (from templates), open, save, save as, recent files, the
// dirty marker and autosave with crash recovery. It owns the FederationModel being edited. Widget-free
// (the dialogs are MainWindow's).
#pragma once

#include "spec/Schema.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

namespace fedwb {

class FederationModel;

struct WorkspaceTemplate {
    QString id;    // "iid", "non-iid", "example:byzantine"
    QString title; // "IID baseline"
    QString description;
    QJsonObject raw;
};

// A workspace the previous session was editing when it ended without saving (a crash or a kill).
struct Recovery {
    QString autosaveFile; // where it was kept
    QString originalPath; // the file it belongs to; empty for an untitled workspace
    QDateTime savedAt;
    QJsonObject raw;
};

class WorkspaceDocument : public QObject {
    Q_OBJECT

public:
    explicit WorkspaceDocument(QObject *parent = nullptr);
    ~WorkspaceDocument() override; // removes this session's autosave file (nothing is lost: it was asked)

    FederationModel *model() const { return m_model; }

    // The built-in templates: IID baseline, non-IID, then one per example workspace.
    static QList<WorkspaceTemplate> templates();
    // A new untitled workspace from template `id` (false for an unknown id).
    bool newFromTemplate(const QString &id);
    // Reads `path` into the model (invalid workspaces open too: the designer shows what to fix). False
    // with *error set when the file cannot be read (missing, not JSON, not an object ...).
    bool open(const QString &path, QString *error);
    // Writes the workspace to its file / to `path` (atomically, every write checked). False with *error
    // ("cannot write /x/y.fedwb: Permission denied") and nothing changed when it fails.
    bool save(QString *error);
    bool saveAs(const QString &path, QString *error);
    // A new untitled, unsaved workspace holding `raw` (a stored run's settings), called `title`.
    void newFromJson(const QJsonObject &raw, const QString &title);
    // A recovered workspace becomes the document: its original path (if any), marked modified.
    void restore(const Recovery &recovery);

    QString path() const { return m_path; } // empty for an untitled workspace
    bool isUntitled() const { return m_path.isEmpty(); }
    bool isDirty() const;
    QString displayName() const; // the file's name, or "Untitled" (with the template's name)

    // Recently opened and saved files, most recent first (QSettings), existing files only.
    static QStringList recentFiles();
    static void addRecentFile(const QString &path);

    // Autosave: every `intervalMs` while modified, this session's copy is written to the autosave folder
    // (FEDWB_AUTOSAVE_DIR, else the application data folder). A clean save, a new or opened document and
    // a normal exit remove it; after a crash the next start finds it.
    void setAutosaveInterval(int intervalMs);
    bool autosaveNow(QString *error = nullptr);
    QString autosaveFile() const { return m_autosaveFile; }
    static QString autosaveDir();
    // Autosaves left by sessions that are no longer running (not this one), newest first.
    static QList<Recovery> pendingRecoveries();
    static void discardRecovery(const Recovery &recovery);

Q_SIGNALS:
    void pathChanged(const QString &path);
    void dirtyChanged(bool dirty);
    void loaded(); // a new, opened or restored document is in the model

private:
    void setPath(const QString &path);
    void removeAutosave();
    void writeFile(const QString &path, const QByteArray &bytes, QString *error, bool *ok) const;

    FederationModel *m_model;
    QString m_path;
    QString m_untitledName;
    bool m_forcedDirty = false; // a restored or template document is unsaved although nothing was edited
    QString m_autosaveFile;
    QTimer m_autosave;
};

} // namespace fedwb
