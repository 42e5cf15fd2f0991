#include "MainWindow.h"

#include "compare/CompareView.h"
#include "dashboard/Dashboard.h"
#include "dashboard/LiveChart.h"
#include "designer/DesignerView.h"
#include "designer/FederationCanvas.h"
#include "designer/FederationModel.h"
#include "designer/Palette.h"
#include "designer/WorkspaceActions.h"
#include "metrics/Comparison.h"
#include "run/RunController.h"
#include "run/RunView.h"
#include "runs/RunsBrowser.h"
#include "runs/RunsModel.h"
#include "store/RunStore.h"
#include "workers/WorkersPanel.h"

#include <QAction>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QUndoStack>

#include <algorithm>
#include <cmath>

namespace fedwb {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_document(new WorkspaceDocument(this))
    , m_controller(new RunController(this)) {
    setObjectName(QStringLiteral("MainWindow"));
    m_document->newFromTemplate(QStringLiteral("iid")); // something to start from: the IID baseline
    createActions();
    createMenus();
    createToolBar();

    m_tabs = new QTabWidget;
    m_tabs->setDocumentMode(true);
    m_designer = new DesignerView(m_document);
    // The canvas's own actions (they act on the canvas only) in the Edit and View menus.
    FederationCanvas *canvas = m_designer->canvas();
    m_editMenu->addSeparator();
    for (QAction *a :
         {canvas->copyAction(), canvas->pasteAction(), canvas->deleteAction(), canvas->selectAllAction()})
        m_editMenu->addAction(a);
    for (QAction *a :
         {canvas->zoomInAction(), canvas->zoomOutAction(), canvas->resetZoomAction(), canvas->fitAction()})
        m_viewMenu->addAction(a);
    m_viewMenu->addSeparator();
    m_tabs->addTab(m_designer, style()->standardIcon(QStyle::SP_FileDialogDetailedView), tr("Design"));
    m_runView = new RunView;
    m_tabs->addTab(m_runView, style()->standardIcon(QStyle::SP_MediaPlay), tr("Run"));
    m_dashboard = new Dashboard;
    m_tabs->addTab(m_dashboard, style()->standardIcon(QStyle::SP_FileDialogListView), tr("Dashboard"));
    m_compare = new CompareView;
    m_tabs->addTab(m_compare, style()->standardIcon(QStyle::SP_FileDialogContentsView), tr("Compare"));
    setCentralWidget(m_tabs);

    createRunsDock();
    createWorkersDock();

    m_storeLabel = new QLabel;
    m_storeLabel->setContentsMargins(6, 0, 6, 0);
    statusBar()->addPermanentWidget(m_storeLabel);

    connect(m_document, &WorkspaceDocument::loaded, this, &MainWindow::onDocumentLoaded);
    connect(m_document, &WorkspaceDocument::dirtyChanged, this, &MainWindow::updateTitle);
    connect(m_document, &WorkspaceDocument::pathChanged, this, &MainWindow::updateTitle);
    connect(model(), &FederationModel::changed, this, [this] {
        m_readProblem.clear();
        updateActions();
    });
    connect(m_designer, &DesignerView::runnableChanged, this, &MainWindow::updateActions);
    connect(m_designer, &DesignerView::varyRequested, this, &MainWindow::varyParameter);
    connect(m_runView, &RunView::openSpecAsWorkspace, this,
            [this](const QJsonObject &spec, const QString &name) {
                if (m_files->maybeSave()) openSpecAsWorkspace(spec, name);
            });

    connect(m_controller, &RunController::started, this, &MainWindow::onRunStarted);
    connect(m_controller, &RunController::roundFinished, this, &MainWindow::onRoundFinished);
    connect(m_controller, &RunController::progress, this, &MainWindow::onProgress);
    connect(m_controller, &RunController::message, this,
            [this](const QString &text) { statusBar()->showMessage(text, 8000); });
    connect(m_controller, &RunController::finished, this, &MainWindow::onRunFinished);

    resize(1280, 800);
    resizeDocks({m_runsDock}, {260}, Qt::Horizontal);
    updateTitle();
    updateActions();
    statusBar()->showMessage(tr("Design a federation, or open a workspace (%1).")
                                 .arg(m_openAction->shortcut().toString(QKeySequence::NativeText)));
}

MainWindow::~MainWindow() {
    disconnect(m_runsBrowser, nullptr, this, nullptr);
    delete m_controller; // stops and joins a run in progress while the window is still whole
    m_controller = nullptr;
    delete takeCentralWidget(); // the views listen to the document's model: they go first
    m_designer = nullptr;
}

FederationModel *MainWindow::model() const {
    return m_document->model();
}

LiveChart *MainWindow::liveChart() const {
    return m_runView->chart();
}

// ---------------------------------------------------------------------------------------------------------
// Construction

void MainWindow::createActions() {
    QStyle *st = style();
    m_files =
        new WorkspaceActions(m_document, this, [this](const QString &path) { return openWorkspace(path); });
    connect(m_files, &WorkspaceActions::message, statusBar(), &QStatusBar::showMessage);
    m_openAction = m_files->openAction();
    m_saveAction = m_files->saveAction();
    m_openStoreAction = new QAction(st->standardIcon(QStyle::SP_DriveHDIcon), tr("Open Run &Store…"), this);
    m_openStoreAction->setStatusTip(tr("Choose the SQLite file that records runs"));
    connect(m_openStoreAction, &QAction::triggered, this, &MainWindow::openStoreDialog);

    m_quitAction = new QAction(st->standardIcon(QStyle::SP_DialogCloseButton), tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    m_quitAction->setMenuRole(QAction::QuitRole);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

    m_undoAction = model()->undoStack()->createUndoAction(this, tr("&Undo"));
    m_undoAction->setShortcut(QKeySequence::Undo);
    m_undoAction->setIconText(
        tr("Undo")); // the toolbar's text; the menu says what ("Undo Set partition.alpha")
    m_undoAction->setIcon(st->standardIcon(QStyle::SP_ArrowBack));
    m_redoAction = model()->undoStack()->createRedoAction(this, tr("&Redo"));
    m_redoAction->setShortcuts({QKeySequence::Redo, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z)});
    m_redoAction->setIconText(tr("Redo"));
    m_redoAction->setIcon(st->standardIcon(QStyle::SP_ArrowForward));

    m_runAction = new QAction(st->standardIcon(QStyle::SP_MediaPlay), tr("&Run"), this);
    m_runAction->setShortcuts({QKeySequence(Qt::Key_F5), QKeySequence(Qt::CTRL | Qt::Key_R)});
    m_runAction->setStatusTip(tr("Run the workspace and record it in the run store"));
    connect(m_runAction, &QAction::triggered, this, &MainWindow::startRun);

    m_stopAction = new QAction(st->standardIcon(QStyle::SP_MediaStop), tr("&Stop"), this);
    m_stopAction->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F5));
    m_stopAction->setStatusTip(tr("Stop the run at the next mini-batch; the unfinished round is discarded"));
    connect(m_stopAction, &QAction::triggered, this, &MainWindow::stopRun);

    m_resumeAction = new QAction(st->standardIcon(QStyle::SP_MediaSeekForward), tr("Res&ume"), this);
    m_resumeAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    m_resumeAction->setStatusTip(
        tr("Continue the selected run from its last checkpoint; it ends exactly as an uninterrupted run"));
    connect(m_resumeAction, &QAction::triggered, this, &MainWindow::resumeRun);

    m_aboutAction =
        new QAction(st->standardIcon(QStyle::SP_MessageBoxInformation), tr("&About FedWorkbench"), this);
    m_aboutAction->setMenuRole(QAction::AboutRole);
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);
}

void MainWindow::createMenus() {
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_files->newAction());
    file->addMenu(m_files->templatesMenu());
    file->addAction(m_files->openAction());
    file->addMenu(m_files->recentMenu());
    file->addAction(m_files->saveAction());
    file->addAction(m_files->saveAsAction());
    file->addSeparator();
    file->addAction(m_openStoreAction);
    file->addSeparator();
    file->addAction(m_quitAction);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_undoAction);
    edit->addAction(m_redoAction);
    m_editMenu = edit; // the canvas's actions join once the designer exists

    QMenu *run = menuBar()->addMenu(tr("&Run"));
    run->addAction(m_runAction);
    run->addAction(m_stopAction);
    run->addAction(m_resumeAction);

    m_viewMenu = menuBar()->addMenu(tr("&View")); // filled once the docks exist

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_aboutAction);
}

void MainWindow::createToolBar() {
    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize(QSize(18, 18));
    bar->addAction(m_files->newAction());
    bar->addAction(m_openAction);
    bar->addAction(m_saveAction);
    bar->addSeparator();
    bar->addAction(m_undoAction);
    bar->addAction(m_redoAction);
    bar->addSeparator();
    bar->addAction(m_runAction);
    bar->addAction(m_stopAction);
    bar->addAction(m_resumeAction);
    bar->addSeparator();

    auto *progressBox = new QWidget;
    auto *layout = new QHBoxLayout(progressBox);
    layout->setContentsMargins(8, 0, 8, 0);
    layout->setSpacing(10);
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("runProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_progress->setFormat(tr("idle"));
    m_progress->setFixedWidth(260);
    m_etaLabel = new QLabel;
    m_etaLabel->setMinimumWidth(110);
    layout->addWidget(m_progress);
    layout->addWidget(m_etaLabel);
    bar->addWidget(progressBox);
}

void MainWindow::createRunsDock() {
    m_runsDock = new QDockWidget(tr("Runs"), this);
    m_runsDock->setObjectName(QStringLiteral("runsDock"));
    m_runsDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                            QDockWidget::DockWidgetClosable);
    m_runsBrowser = new RunsBrowser;
    m_runsBrowser->setBusyPredicate([this](qint64 id) { return isRunning() && id == m_liveRunId; });
    connect(m_runsBrowser, &RunsBrowser::selectionChanged, this, &MainWindow::onRunSelectionChanged);
    connect(m_runsBrowser, &RunsBrowser::runsChanged, this, [this] {
        if (m_displayedRunId > 0 && m_store && !m_store->run(m_displayedRunId)) { // deleted
            m_displayedRunId = -1;
            m_runView->clear();
            m_runView->setRunSpec({}, {});
            m_dashboard->clear();
        }
    });
    m_runsRefresh.setSingleShot(true);
    m_runsRefresh.setInterval(1000); // a live run's row: at most once a second
    connect(&m_runsRefresh, &QTimer::timeout, this, [this] { m_runsBrowser->reload(); });
    m_runsDock->setWidget(m_runsBrowser);
    addDockWidget(Qt::LeftDockWidgetArea, m_runsDock);

    // The designer's palette shares the left side with the Runs list: raised on the Design tab, the runs
    // on the others.
    m_paletteDock = new QDockWidget(tr("Palette"), this);
    m_paletteDock->setObjectName(QStringLiteral("paletteDock"));
    m_paletteDock->setFeatures(m_runsDock->features());
    m_paletteDock->setWidget(m_designer->palette());
    addDockWidget(Qt::LeftDockWidgetArea, m_paletteDock);
    tabifyDockWidget(m_runsDock, m_paletteDock);
    connect(m_tabs, &QTabWidget::currentChanged, this,
            [this](int index) { (index == DesignTab ? m_paletteDock : m_runsDock)->raise(); });
    m_paletteDock->raise();
    m_viewMenu->addAction(m_paletteDock->toggleViewAction());
    m_viewMenu->addAction(m_runsDock->toggleViewAction());
}

// ---------------------------------------------------------------------------------------------------------
// Workspaces

bool MainWindow::openWorkspace(const QString &path) {
    QString error;
    if (!m_document->open(path, &error)) {
        m_readProblem = error;
        m_designer->setNotice(QStringLiteral("<b>") +
                              tr("Cannot read %1").arg(QFileInfo(path).fileName()).toHtmlEscaped() +
                              QStringLiteral("</b><br>") + error.toHtmlEscaped());
        statusBar()->showMessage(tr("Cannot read %1: %2").arg(QFileInfo(path).fileName(), error));
        m_tabs->setCurrentIndex(DesignTab);
        updateActions();
        Q_EMIT workspaceLoaded(false);
        return false;
    }
    const bool valid = model()->isValid();
    const QString fileName = QFileInfo(path).fileName();
    statusBar()->showMessage(
        valid ? tr("Loaded %1").arg(fileName)
              : (model()->errors().size() == 1
                     ? tr("%1 is invalid: 1 problem").arg(fileName)
                     : tr("%1 is invalid: %2 problems").arg(fileName).arg(model()->errors().size())),
        valid ? 5000 : 0);
    return valid;
}

bool MainWindow::newWorkspace(const QString &templateId) {
    return m_document->newFromTemplate(templateId);
}

void MainWindow::openSpecAsWorkspace(const QJsonObject &spec, const QString &name) {
    QJsonObject raw = spec;
    raw.insert(QStringLiteral("name"), name.isEmpty() ? tr("From a stored run") : name);
    m_document->newFromJson(raw, tr("from a stored run"));
    statusBar()->showMessage(tr("The run's settings are open as a new workspace; Save As keeps them"), 8000);
}

bool MainWindow::saveWorkspace(QString *error) {
    return m_document->save(error);
}

bool MainWindow::saveWorkspaceAs(const QString &path, QString *error) {
    return m_document->saveAs(path, error);
}

void MainWindow::offerRecovery() {
    m_files->offerRecovery();
}

void MainWindow::onDocumentLoaded() {
    m_readProblem.clear();
    m_designer->setNotice({});
    updateRunNotice();
    updateTitle();
    updateActions();
    m_tabs->setCurrentIndex(DesignTab);
    Q_EMIT workspaceLoaded(model()->isValid());
}

void MainWindow::openStoreDialog() {
    const QString dir = m_dbPath.isEmpty() ? QDir::homePath() : QFileInfo(m_dbPath).absolutePath();
    const QString path = QFileDialog::getSaveFileName(this, tr("Open or Create Run Store"), dir,
                                                      tr("Run stores (*.sqlite *.db);;All files (*)"),
                                                      nullptr, QFileDialog::DontConfirmOverwrite);
    if (!path.isEmpty()) setDatabasePath(path);
}

void MainWindow::showAbout() {
    QMessageBox::about(
        this, tr("About FedWorkbench"),
        tr("<h3>FedWorkbench %1</h3>"
           "<p>A desktop workbench for designing, running and comparing federated-learning "
           "experiments.</p>"
           "<p>Workspaces are versioned JSON files; every run is recorded in a SQLite run store.</p>"
           "<p>Built with Qt %2.</p>")
            .arg(QStringLiteral(FEDWB_VERSION), QString::fromLatin1(qVersion())));
}

bool MainWindow::hasValidWorkspace() const {
    return model()->isValid();
}

QString MainWindow::validationText() const {
    if (!m_readProblem.isEmpty()) return m_readProblem;
    return m_designer->validationText();
}

QString MainWindow::workspaceName() const {
    const QString name = model()->value(QStringLiteral("name")).toString();
    if (!name.isEmpty()) return name;
    return m_document->isUntitled() ? tr("Untitled") : QFileInfo(m_document->path()).completeBaseName();
}

void MainWindow::updateActions() {
    const bool running = isRunning();
    const bool recordable = m_store && m_store->isOpen() && !m_store->isReadOnly();
    const bool runnable = m_designer && m_designer->canRun();
    m_runAction->setEnabled(runnable && !running && (recordable || !m_store));
    const QStringList blockers = m_designer ? m_designer->runBlockers() : QStringList();
    m_runAction->setToolTip(
        running ? tr("A run is in progress")
        : blockers.isEmpty()
            ? tr("Run the workspace (%1)").arg(m_runAction->shortcut().toString(QKeySequence::NativeText))
            : tr("Cannot run yet:\n%1").arg(blockers.join(QLatin1Char('\n'))));
    m_stopAction->setEnabled(running);
    m_resumeAction->setEnabled(!running && recordable && canResume(m_displayedRunId));
    m_openStoreAction->setEnabled(!running);
}

void MainWindow::updateTitle() {
    setWindowTitle(tr("%1[*] — FedWorkbench").arg(m_document->displayName()));
    setWindowModified(m_document->isDirty());
}

// A run started from another workspace (or from this one before it was changed) is not what the designer
// shows: say so above the design.
void MainWindow::updateRunNotice() {
    if (!isRunning() || m_liveRunId < 0) {
        m_designer->setNotice({});
        return;
    }
    const bool same = !m_document->isUntitled() && m_document->path() == m_liveWorkspacePath;
    m_designer->setNotice(
        same
            ? QString()
            : tr("Run #%1 of <b>%2</b> is in progress (Run tab). It keeps the settings it started with; this "
                 "workspace is not the one running.")
                  .arg(m_liveRunId)
                  .arg(QFileInfo(m_liveWorkspacePath).fileName().toHtmlEscaped()));
}

// ---------------------------------------------------------------------------------------------------------
// Run store

void MainWindow::setDatabasePath(const QString &path) {
    m_dbPath = path;
    if (path != QStringLiteral(":memory:")) QDir().mkpath(QFileInfo(path).absolutePath());
    m_store = std::make_unique<RunStore>(path);
    if (!m_store->isOpen() && QFileInfo(path).isFile()) {
        // A store that cannot be written (read-only folder or file) can still be looked at.
        auto reader = std::make_unique<RunStore>(path, RunStore::Access::ReadOnly);
        if (reader->isOpen()) m_store = std::move(reader);
    }
    m_storeLabel->setText(m_store->isReadOnly() && m_store->isOpen()
                              ? tr("Store: %1 (read-only)").arg(QFileInfo(path).fileName())
                              : tr("Store: %1").arg(QFileInfo(path).fileName()));
    m_storeLabel->setToolTip(QDir::toNativeSeparators(path));
    if (!m_store->isOpen())
        statusBar()->showMessage(tr("Cannot open the run store %1: %2").arg(path, m_store->lastError()));
    else if (m_store->isReadOnly())
        statusBar()->showMessage(
            tr("The run store %1 is read-only here: its runs can be viewed, new runs cannot be recorded")
                .arg(path));
    m_displayedRunId = -1;
    refreshRuns();
    updateActions();
}

void MainWindow::refreshRuns() {
    m_runsBrowser->setStore(m_store.get(), !m_store || m_store->isReadOnly());
    m_runsBrowser->selectRun(m_displayedRunId);
}

void MainWindow::onRunSelectionChanged() {
    const QList<qint64> selected = m_runsBrowser->selectedRunIds();
    if (selected.isEmpty()) return;
    if (selected.size() > 1) { // several runs: side by side
        QList<qint64> ids = selected;
        std::sort(ids.begin(), ids.end());
        compareRuns(ids);
        return;
    }
    const qint64 id = selected.first();
    if (id != m_displayedRunId) showStoredRun(id);
    m_tabs->setCurrentIndex(RunTab);
}

bool MainWindow::compareRuns(const QList<qint64> &runIds) {
    if (!m_store || !m_store->isOpen()) return false;
    QList<ReportRun> runs;
    for (qint64 id : runIds) {
        std::optional<StoredRun> run = m_store->run(id);
        if (!run) {
            statusBar()->showMessage(tr("Run %1 is not in %2").arg(id).arg(m_dbPath));
            return false;
        }
        runs.append({*run, m_store->rounds(id)});
    }
    m_compare->setRuns(runs);
    m_tabs->setCurrentIndex(CompareTab);
    return true;
}

void MainWindow::showStoredRun(qint64 runId) {
    if (!m_store || !m_store->isOpen()) return;
    const std::optional<StoredRun> run = m_store->run(runId);
    if (!run) return;
    const QList<RoundMetrics> rounds = m_store->rounds(runId);
    m_displayedRunId = runId;
    m_runView->showStoredRun(*run, rounds,
                             !isRunning() && canResume(runId)
                                 ? tr("Run ▸ Resume (%1) continues it from its last checkpoint.")
                                       .arg(m_resumeAction->shortcut().toString(QKeySequence::NativeText))
                                 : QString());
    m_dashboard->clear();
    m_dashboard->setRounds(rounds, run->spec.value(QStringLiteral("privacy"))
                                       .toObject()
                                       .value(QStringLiteral("target_epsilon"))
                                       .toDouble());
    updateActions();
}

// ---------------------------------------------------------------------------------------------------------
// Running

bool MainWindow::isRunning() const {
    return m_controller->isRunning();
}

void MainWindow::startRun() {
    if (!m_designer->canRun() || isRunning()) return;
    launchRun(*model()->spec(), {}, {}, {});
}

bool MainWindow::launchRun(const FederationSpec &spec, const QString &name, const QString &sweepId,
                           const QJsonObject &sweepPoint) {
    if (m_dbPath.isEmpty()) setDatabasePath(RunStore::defaultPath());
    if (!m_store->isOpen() || m_store->isReadOnly()) { // its results could not be kept: not started
        statusBar()->showMessage(
            tr("Cannot record a run in %1: %2")
                .arg(m_dbPath, m_store->isOpen() ? tr("the store is read-only here") : m_store->lastError()));
        return false;
    }
    if (QString error; !m_workersPanel->prepareRun(&error)) { // remote execution without a coordinator
        statusBar()->showMessage(error);
        return false;
    }
    m_liveRunId = -1;
    m_displayedRunId = -1;
    m_liveTotalRounds = spec.rounds();
    m_liveWorkspacePath = m_document->path();
    m_runView->setTotalRounds(m_liveTotalRounds);
    m_runView->clear(tr("Waiting for the first round…"));
    m_runView->setRunSpec(spec.json(), name.isEmpty() ? workspaceName() : name);
    m_dashboard->clear();
    m_runClock.start();
    if (!m_controller->start(spec, m_document->path(), m_dbPath, name.isEmpty() ? workspaceName() : name,
                             sweepId,
                             sweepPoint)) // an untitled workspace's run is named after the workspace
        return false;
    m_runView->setHeader(
        tr("<b>Starting</b> %1…").arg((name.isEmpty() ? workspaceName() : name).toHtmlEscaped()));
    m_progress->setValue(0);
    m_progress->setFormat(tr("starting…"));
    m_etaLabel->clear();
    m_tabs->setCurrentIndex(RunTab);
    statusBar()->showMessage(
        m_sweep
            ? tr("Sweep %1: run %2 of %3…").arg(m_sweep->id).arg(m_sweep->next).arg(m_sweep->plan.jobs.size())
            : tr("Running %1…").arg(workspaceName()));
    updateActions();
    return true;
}

bool MainWindow::startSweep(const QList<SweepVary> &varies, int seeds, QString *error) {
    if (isRunning() || !m_designer->canRun()) {
        if (error) *error = isRunning() ? tr("a run is in progress") : tr("the workspace cannot run yet");
        return false;
    }
    SweepPlan plan = planSweep(model()->raw(), varies, seeds);
    if (!plan.ok()) {
        if (error) *error = plan.errors.join(QLatin1Char('\n'));
        return false;
    }
    m_sweep = ActiveSweep{newSweepId(), std::move(plan), 0, {}, workspaceName(), false};
    if (!startNextSweepRun()) {
        if (error) *error = statusBar()->currentMessage();
        m_sweep.reset();
        return false;
    }
    return true;
}

bool MainWindow::startNextSweepRun() {
    const SweepJob &job = m_sweep->plan.jobs[m_sweep->next++];
    const SweepPoint &point = m_sweep->plan.points[job.point];
    return launchRun(job.spec, sweepRunName(m_sweep->baseName, point, job.spec.seed()), m_sweep->id,
                     point.values);
}

void MainWindow::varyParameter(const QString &path) {
    if (!model()->spec() || isRunning()) return;
    const QString current = specValueText(model()->spec()->json(), path);
    bool ok = false;
    const QString values = QInputDialog::getText(
        this, tr("Vary %1").arg(path),
        tr("Run the workspace once for each value of %1 (separated by commas):").arg(path), QLineEdit::Normal,
        current, &ok);
    if (!ok || values.trimmed().isEmpty()) return;
    const int seeds =
        QInputDialog::getInt(this, tr("Vary %1").arg(path),
                             tr("Training seeds per value (mean ± std in Compare):"), 1, 1, 100, 1, &ok);
    if (!ok) return;
    QStringList list;
    for (const QString &v : values.split(QLatin1Char(','), Qt::SkipEmptyParts))
        list << v.trimmed();
    QString error;
    if (!startSweep({{path, list}}, seeds, &error))
        QMessageBox::warning(this, tr("Vary %1").arg(path), error);
}

bool MainWindow::canResume(qint64 runId) const {
    if (runId < 0 || !m_store || !m_store->isOpen()) return false;
    const std::optional<StoredRun> run = m_store->run(runId);
    if (!run || run->roundsDone >= run->roundsPlanned) return false;
    switch (run->status) {
    case RunStatus::Stopped:
    case RunStatus::Interrupted:
    case RunStatus::Failed:
    case RunStatus::Diverged:
        return true;
    default:
        return false;
    }
}

void MainWindow::resumeRun() {
    const qint64 runId = m_displayedRunId;
    if (isRunning() || !canResume(runId)) return;
    if (QString error; !m_workersPanel->prepareRun(&error)) {
        statusBar()->showMessage(error);
        return;
    }
    m_liveRunId = -1;
    m_resuming = true;
    m_runClock.start();
    if (!m_controller->resume(runId, m_dbPath)) {
        m_resuming = false;
        return;
    }
    m_runView->setHeader(tr("<b>Resuming run #%1</b>…").arg(runId));
    m_progress->setFormat(tr("resuming…"));
    m_etaLabel->clear();
    m_tabs->setCurrentIndex(RunTab);
    statusBar()->showMessage(tr("Resuming run #%1 from its last checkpoint…").arg(runId));
    updateActions();
}

void MainWindow::stopRun() {
    if (!isRunning()) return;
    if (m_sweep) m_sweep->stopped = true; // the rest of the sweep is not started
    m_controller->stop();
    m_stopAction->setEnabled(false);
    statusBar()->showMessage(tr("Stopping…"));
}

void MainWindow::onRunStarted(qint64 runId, int totalRounds) {
    QString name = workspaceName();
    const std::optional<StoredRun> stored = m_store ? m_store->run(runId) : std::nullopt;
    if (m_resuming) { // the rounds kept before the checkpoint, then the live ones after them
        m_resuming = false;
        showStoredRun(runId);
        if (stored) {
            name = stored->name;
            m_liveWorkspacePath = stored->workspace;
        }
    } else if (stored) {
        name = stored->name;
    }
    if (m_liveRunId != runId &&
        m_displayedRunId != runId) { // a new run (a resumed one shows its kept rounds)
        const FederationSpec::Parsed parsed = FederationSpec::parse(stored ? stored->spec : model()->raw());
        if (parsed.ok()) {
            QStringList groupOfClient;
            for (const ClientGroup &g : parsed.spec->groups())
                for (int i = 0; i < g.count; ++i)
                    groupOfClient.append(g.name);
            m_dashboard->startRun(parsed.spec->clientCount(), groupOfClient,
                                  parsed.spec->real(QStringLiteral("privacy.target_epsilon")));
        } else {
            m_dashboard->clear();
        }
        if (stored) m_runView->setRunSpec(stored->spec, stored->name);
    }
    m_liveRunId = runId;
    m_displayedRunId = runId;
    m_liveTotalRounds = totalRounds;
    m_runView->setTotalRounds(totalRounds);
    refreshRuns();
    name = name.toHtmlEscaped();
    m_runView->setHeader(runId >= 0
                             ? tr("<b>Run #%1</b> &nbsp;%2 &nbsp;·&nbsp; <b style='color:%3'>running</b>")
                                   .arg(runId)
                                   .arg(name, runStatusColour(RunStatus::Running).name())
                             : tr("<b>Run</b> %1 (not recorded) &nbsp;·&nbsp; running").arg(name));
    setProgressFraction(0, 1, totalRounds);
    updateRunNotice();
    Q_EMIT runStarted(runId);
}

void MainWindow::onRoundFinished(const RoundMetrics &metrics) {
    if (m_liveTotalRounds > 0)
        setProgressFraction(double(metrics.round) / m_liveTotalRounds, metrics.round, m_liveTotalRounds);
    if (!m_runsRefresh.isActive()) m_runsRefresh.start(); // the live run's row in the Runs list
    if (m_displayedRunId != m_liveRunId || metrics.round <= m_runView->lastShownRound()) return;
    m_runView->addRound(metrics);
    m_dashboard->addRound(metrics);
}

void MainWindow::onProgress(int round, int totalRounds, int clientsDone, int clientsTotal) {
    if (totalRounds <= 0) return;
    const double within = clientsTotal > 0 ? double(clientsDone) / clientsTotal : 0.0;
    setProgressFraction((round - 1 + within) / totalRounds, round, totalRounds);
}

void MainWindow::onRunFinished(const RunSummary &summary, qint64 runId) {
    m_liveRunId = -1;
    m_resuming = false;
    refreshRuns();
    if (m_displayedRunId == runId && runId >= 0) showStoredRun(runId); // the recorded rounds, final status
    const QString status = runStatusName(summary.status);
    const int total = std::max(m_liveTotalRounds, summary.roundsDone);
    m_progress->setValue(summary.status == RunStatus::Finished
                             ? 1000
                             : (total > 0 ? int(1000.0 * summary.roundsDone / total) : 0));
    m_progress->setFormat(tr("%1 · %2 / %3").arg(status).arg(summary.roundsDone).arg(total));
    m_etaLabel->setText(tr("in %1").arg(formatDuration(summary.wallSeconds)));

    const QString rounds = summary.roundsDone == 1 ? tr("1 round") : tr("%1 rounds").arg(summary.roundsDone);
    QString text = runId >= 0 ? tr("Run #%1 %2 after %3").arg(runId).arg(status, rounds)
                              : tr("Run %1 after %2").arg(status, rounds);
    if (summary.finalTestAccuracy)
        text += tr(", test accuracy %1").arg(QString::number(*summary.finalTestAccuracy, 'f', 4));
    if (!summary.message.isEmpty()) text += QStringLiteral(": ") + summary.message;
    statusBar()->showMessage(text);
    if (runId < 0)
        m_runView->setHeader(QStringLiteral("<b>") + text.toHtmlEscaped() + QStringLiteral("</b>"));
    updateRunNotice();
    updateActions();
    Q_EMIT runFinished(summary, runId);
    if (m_sweep) { // the next run of the sweep, or its comparison when all are done
        if (runId >= 0) m_sweep->runIds.append(runId);
        const bool more = m_sweep->next < m_sweep->plan.jobs.size();
        if (m_sweep->stopped || summary.status == RunStatus::Stopped || !more) {
            const ActiveSweep done = *m_sweep;
            m_sweep.reset();
            if (done.runIds.size() >= 2) compareRuns(done.runIds);
            statusBar()->showMessage(tr("Sweep %1 %2: %3 of %4 runs")
                                         .arg(done.id, more ? tr("stopped") : tr("finished"))
                                         .arg(done.runIds.size())
                                         .arg(done.plan.jobs.size()));
            Q_EMIT sweepFinished(done.id, done.runIds);
        } else {
            QTimer::singleShot(0, this, [this] {
                if (m_sweep && !isRunning() && !startNextSweepRun()) m_sweep.reset();
            });
        }
    }
}

void MainWindow::setProgressFraction(double fraction, int round, int totalRounds) {
    fraction = std::clamp(fraction, 0.0, 1.0);
    m_progress->setValue(int(std::round(fraction * 1000)));
    m_progress->setFormat(tr("round %1 / %2").arg(std::min(round, totalRounds)).arg(totalRounds));
    const double elapsed = m_runClock.isValid() ? m_runClock.elapsed() / 1000.0 : 0.0;
    if (fraction > 0.002 && elapsed > 0.5 && fraction < 1.0)
        m_etaLabel->setText(tr("ETA %1").arg(formatDuration(elapsed * (1 - fraction) / fraction)));
    else if (fraction <= 0.002)
        m_etaLabel->setText(tr("ETA —"));
}

void MainWindow::closeEvent(QCloseEvent *event) {
    if (isRunning()) {
        const auto answer = QMessageBox::question(this, tr("Run in progress"),
                                                  tr("A run is in progress. Stop it and quit?\n"
                                                     "The rounds done so far stay in the run store."),
                                                  QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
    }
    if (!m_files->maybeSave()) {
        event->ignore();
        return;
    }
    if (isRunning()) m_controller->stop();
    event->accept();
}

// ---------------------------------------------------------------------------------------------------------
// Remote execution

void MainWindow::createWorkersDock() {
    m_workersPanel = new WorkersPanel(m_controller);
    m_workersDock = new QDockWidget(tr("Workers"), this);
    m_workersDock->setObjectName(QStringLiteral("workersDock"));
    m_workersDock->setWidget(m_workersPanel);
    addDockWidget(Qt::BottomDockWidgetArea, m_workersDock);
    m_workersDock->hide(); // shown from the View menu, or when the workers are chosen to train
    m_viewMenu->addAction(m_workersDock->toggleViewAction());
    // "Train on: [this machine | workers]" in the toolbar, before the progress bar.
    if (auto *bar = findChild<QToolBar *>(QStringLiteral("mainToolBar")); bar && !bar->actions().isEmpty()) {
        QAction *progress = bar->actions().constLast();
        bar->insertWidget(progress, m_workersPanel->executionSelector());
        bar->insertSeparator(progress);
    }
    connect(m_workersPanel, &WorkersPanel::executionChanged, this, [this](WorkersPanel::Execution e) {
        if (e == WorkersPanel::Remote) m_workersDock->show();
    });
}

} // namespace fedwb
