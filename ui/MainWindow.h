// The main window: design (workspace summary), run (live dashboard) and the runs list of the store.
#pragma once

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
class QTableView;
class QTreeWidget;
class QTreeWidgetItem;

namespace fedwb {

class CompareView;
class Dashboard;
class RunsBrowser;
class LiveChart;
class RoundTableModel;
class RunController;
class RunStore;
class WorkersPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    enum Tab { DesignTab, RunTab, DashboardTab, CompareTab };

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Reads and validates a workspace and shows it in the Design tab. Returns false (and shows why in the
    // Design tab and the status bar) when the file cannot be read or is invalid; Run is disabled then.
    bool openWorkspace(const QString &path);
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
    bool hasValidWorkspace() const { return m_spec.has_value(); }
    QString validationText() const; // the errors (and warnings) shown in the Design tab, plain text
    QTreeWidget *designTree() const { return m_designTree; }
    RunsBrowser *runsBrowser() const { return m_runsBrowser; }
    LiveChart *liveChart() const { return m_chart; }
    QTabWidget *tabs() const { return m_tabs; }
    QAction *runAction() const { return m_runAction; }
    QAction *stopAction() const { return m_stopAction; }
    QAction *resumeAction() const { return m_resumeAction; }
    QProgressBar *progressBar() const { return m_progress; }
    qint64 displayedRunId() const { return m_displayedRunId; }
    void showStoredRun(qint64 runId); // loads a stored run's rounds into the Run tab
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
    QWidget *createDesignTab();
    QWidget *createRunTab();
    void createRunsDock();
    void createWorkersDock(); // remote execution: the Workers dock and the toolbar's execution selector

    void openWorkspaceDialog();
    void openStoreDialog();
    void showAbout();

    void showWorkspaceProblem(const QString &title, const QString &details);
    void fillDesignTree(const QJsonObject &values, const QJsonObject &raw, const QList<SpecIssue> &errors);
    void updateActions();
    void updateTitle();
    QString workspaceName() const; // the workspace's "name", else its file's base name

    void refreshRuns();
    void selectRunInList(qint64 runId);
    void onRunSelectionChanged();

    void onRunStarted(qint64 runId, int totalRounds);
    void onRoundFinished(const RoundMetrics &metrics);
    void onProgress(int round, int totalRounds, int clientsDone, int clientsTotal);
    void onRunMessage(const QString &text);
    void onRunFinished(const RunSummary &summary, qint64 runId);

    void resetRunView();
    void showRoundValues(const RoundMetrics &metrics);
    void setRunHeader(const QString &text);
    void setProgressFraction(double fraction, int round, int totalRounds);

    // State.
    QString m_workspacePath;
    QJsonObject m_raw;
    std::optional<FederationSpec> m_spec;
    QString m_validationText;
    QString m_dbPath;
    std::unique_ptr<RunStore> m_store; // the GUI thread's own connection (reading)
    RunController *m_controller;
    qint64 m_liveRunId = -1;      // the run in progress (or -1)
    qint64 m_displayedRunId = -1; // the run shown in the Run tab
    int m_liveTotalRounds = 0;
    int m_shownTotalRounds = 0;
    int m_lastShownRound = 0;
    bool m_resuming = false; // the run being started continues a stored one
    QElapsedTimer m_runClock;

    // Widgets.
    QAction *m_openAction = nullptr;
    QAction *m_openStoreAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_runAction = nullptr;
    QAction *m_stopAction = nullptr;
    QAction *m_resumeAction = nullptr;
    QAction *m_aboutAction = nullptr;
    QMenu *m_viewMenu = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_etaLabel = nullptr;
    QLabel *m_storeLabel = nullptr;
    QTabWidget *m_tabs = nullptr;
    CompareView *m_compare = nullptr;
    struct ActiveSweep {
        QString id;
        SweepPlan plan;
        qsizetype next = 0;
        QList<qint64> runIds;
        QString baseName;
        bool stopped = false;
    };
    std::optional<ActiveSweep> m_sweep;
    bool launchRun(const FederationSpec &spec, const QString &name, const QString &sweepId,
                   const QJsonObject &sweepPoint);
    bool startNextSweepRun();
    Dashboard *m_dashboard = nullptr;

    QLabel *m_designHeader = nullptr;
    QLabel *m_designProblems = nullptr;
    QTreeWidget *m_designTree = nullptr;

    QLabel *m_runHeader = nullptr;
    LiveChart *m_chart = nullptr;
    QTableView *m_roundTable = nullptr;
    RoundTableModel *m_roundModel = nullptr;
    QLabel *m_valRound = nullptr;
    QLabel *m_valAccuracy = nullptr;
    QLabel *m_valTestLoss = nullptr;
    QLabel *m_valTrainLoss = nullptr;
    QLabel *m_valFairMean = nullptr;
    QLabel *m_valFairWorst = nullptr;
    QLabel *m_valFairJain = nullptr;
    QLabel *m_valWall = nullptr;

    QDockWidget *m_runsDock = nullptr;
    RunsBrowser *m_runsBrowser = nullptr;
    QTimer m_runsRefresh;

    QDockWidget *m_workersDock = nullptr;
    WorkersPanel *m_workersPanel = nullptr;
};

} // namespace fedwb
