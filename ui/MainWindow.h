// The main window wires the views together: the designer (Design tab), the run view, the dashboard and
// Compare, the Runs dock, the file and run actions. What each view does lives in the view.
#pragma once

#include "designer/WorkspaceDocument.h"
#include "run/RunTypes.h"
#include "run/Sweep.h"
#include "spec/FederationSpec.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QMainWindow>
#include <QTimer>

#include <memory>
#include <optional>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;
class QTabWidget;

namespace fedwb {

class CompareView;
class Dashboard;
class DesignerView;
class FederationModel;
class LiveChart;
class RunController;
class RunStore;
class RunView;
class RunsBrowser;
class WorkspaceActions;
class WorkersPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    enum Tab { DesignTab, RunTab, DashboardTab, CompareTab };

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // ---- Workspaces (the designer's document). These functions do not ask about unsaved changes; the
    // File menu's actions (designer/WorkspaceActions) do before calling them.
    // Reads a workspace into the designer. An invalid workspace opens too (the designer shows what to fix)
    // but returns false; an unreadable file leaves the current workspace and returns false. Either way
    // validationText() says why.
    bool openWorkspace(const QString &path);
    bool newWorkspace(const QString &templateId);
    bool saveWorkspace(QString *error = nullptr);
    bool saveWorkspaceAs(const QString &path, QString *error = nullptr);
    // A stored run's spec as a new untitled workspace.
    void openSpecAsWorkspace(const QJsonObject &spec, const QString &name);
    // Offers the workspaces a crashed session left behind (asks; call once the window is shown).
    void offerRecovery();
    WorkspaceDocument *document() const { return m_document; }
    FederationModel *model() const;

    // The run store listed in the Runs dock and written by new runs (created when missing).
    void setDatabasePath(const QString &path);
    QString databasePath() const { return m_dbPath; }

    void startRun();
    void stopRun();
    // A sweep of the open workspace (run/Sweep.h): its runs one after another, tagged with one sweep id,
    // then side by side in Compare (seeds of a point as mean +- std). Stop ends it after the current run.
    bool startSweep(const QList<SweepVary> &varies, int seeds, QString *error = nullptr);
    bool isSweeping() const { return m_sweep.has_value(); }
    void varyParameter(const QString &path); // asks for the values and seeds, then startSweep
    // Continues the run shown in the Run tab (stopped, interrupted, failed or diverged) from its last
    // checkpoint, recorded into the same stored run.
    void resumeRun();
    bool canResume(qint64 runId) const;
    bool isRunning() const;

    // For the app and the tests.
    bool hasValidWorkspace() const;
    QString validationText() const; // what keeps the workspace from loading or running, plain text
    DesignerView *designer() const { return m_designer; }
    RunView *runView() const { return m_runView; }
    RunsBrowser *runsBrowser() const { return m_runsBrowser; }
    LiveChart *liveChart() const;
    QTabWidget *tabs() const { return m_tabs; }
    QAction *runAction() const { return m_runAction; }
    QAction *stopAction() const { return m_stopAction; }
    QAction *resumeAction() const { return m_resumeAction; }
    QAction *undoAction() const { return m_undoAction; }
    QAction *redoAction() const { return m_redoAction; }
    QAction *saveAction() const { return m_saveAction; }
    QProgressBar *progressBar() const { return m_progress; }
    qint64 displayedRunId() const { return m_displayedRunId; }
    void showStoredRun(qint64 runId); // a stored run's rounds and settings in the Run tab and dashboard
    // Stored runs side by side in the Compare tab; false (status bar message) for an unknown id.
    bool compareRuns(const QList<qint64> &runIds);
    CompareView *compareView() const { return m_compare; }
    Dashboard *dashboard() const { return m_dashboard; }
    WorkersPanel *workersPanel() const { return m_workersPanel; }
    QDockWidget *workersDock() const { return m_workersDock; }

Q_SIGNALS:
    void workspaceLoaded(bool valid);
    void runStarted(qint64 runId);
    void runFinished(const fedwb::RunSummary &summary, qint64 runId);
    void sweepFinished(const QString &sweepId, const QList<qint64> &runIds);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void createMenus();
    void createToolBar();
    void createRunsDock();
    void createWorkersDock(); // remote execution: the Workers dock and the toolbar's execution selector

    void openStoreDialog();
    void showAbout();

    void onDocumentLoaded();
    void updateActions();
    void updateTitle();
    void updateRunNotice();
    QString workspaceName() const; // the workspace's "name", else its file's base name

    void refreshRuns();
    void onRunSelectionChanged();

    bool launchRun(const FederationSpec &spec, const QString &name, const QString &sweepId,
                   const QJsonObject &sweepPoint);
    bool startNextSweepRun();
    void onRunStarted(qint64 runId, int totalRounds);
    void onRoundFinished(const RoundMetrics &metrics);
    void onProgress(int round, int totalRounds, int clientsDone, int clientsTotal);
    void onRunFinished(const RunSummary &summary, qint64 runId);
    void setProgressFraction(double fraction, int round, int totalRounds);

    // State.
    WorkspaceDocument *m_document;
    QString m_readProblem; // the last workspace that could not be read, until the next load or edit
    QString m_dbPath;
    std::unique_ptr<RunStore> m_store; // the GUI thread's own connection (reading)
    RunController *m_controller;
    qint64 m_liveRunId = -1;      // the run in progress (or -1)
    qint64 m_displayedRunId = -1; // the run shown in the Run tab
    QString m_liveWorkspacePath;  // the workspace the run in progress was started from
    int m_liveTotalRounds = 0;
    bool m_resuming = false; // the run being started continues a stored one
    QElapsedTimer m_runClock;
    struct ActiveSweep {
        QString id;
        SweepPlan plan;
        qsizetype next = 0;
        QList<qint64> runIds;
        QString baseName;
        bool stopped = false;
    };
    std::optional<ActiveSweep> m_sweep;

    // Actions and widgets.
    WorkspaceActions *m_files = nullptr; // New, Open, Recent, Save, Save As and their dialogs
    QAction *m_openAction = nullptr;
    QAction *m_saveAction = nullptr;
    QAction *m_openStoreAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_undoAction = nullptr;
    QAction *m_redoAction = nullptr;
    QAction *m_runAction = nullptr;
    QAction *m_stopAction = nullptr;
    QAction *m_resumeAction = nullptr;
    QAction *m_aboutAction = nullptr;
    QMenu *m_editMenu = nullptr;
    QMenu *m_viewMenu = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_etaLabel = nullptr;
    QLabel *m_storeLabel = nullptr;
    QTabWidget *m_tabs = nullptr;
    DesignerView *m_designer = nullptr;
    RunView *m_runView = nullptr;
    Dashboard *m_dashboard = nullptr;
    CompareView *m_compare = nullptr;
    QDockWidget *m_runsDock = nullptr;
    QDockWidget *m_paletteDock = nullptr;
    RunsBrowser *m_runsBrowser = nullptr;
    QTimer m_runsRefresh;

    QDockWidget *m_workersDock = nullptr;
    WorkersPanel *m_workersPanel = nullptr;
};

} // namespace fedwb
