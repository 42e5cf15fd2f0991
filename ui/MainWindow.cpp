#include "MainWindow.h"

#include "compare/CompareView.h"
#include "dashboard/Dashboard.h"
#include "dashboard/LiveChart.h"
#include "metrics/Comparison.h"
#include "privacy/PrivacyLedger.h"
#include "run/RunController.h"
#include "runs/RunsBrowser.h"
#include "runs/RunsModel.h"
#include "spec/Registry.h"
#include "store/RunStore.h"
#include "workers/WorkersPanel.h"

#include <QAbstractTableModel>
#include <QAction>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFrame>
#include <QHBoxLayout>
#include <QHash>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <functional>

namespace fedwb {

namespace {

const QColor kErrorColor(0xb3, 0x1b, 0x1b);
const QColor kDefaultColor(0x80, 0x80, 0x80);

QString formatNumber(double v, int significant = 4) {
    if (!std::isfinite(v)) return QStringLiteral("—");
    return QString::number(v, 'g', significant);
}

QString formatFixed(double v, int decimals) {
    if (!std::isfinite(v)) return QStringLiteral("—");
    return QString::number(v, 'f', decimals);
}

// "42 s", "3:07", "1:02:03"
QString formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("—");
    if (seconds < 10) return QString::number(seconds, 'f', 1) + QStringLiteral(" s");
    if (seconds < 60) return QString::number(qRound(seconds)) + QStringLiteral(" s");
    const qint64 s = qRound64(seconds);
    if (s < 3600) return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2:%3")
        .arg(s / 3600)
        .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
        .arg(s % 60, 2, 10, QLatin1Char('0'));
}

QString jsonText(const QJsonValue &v) {
    switch (v.type()) {
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double: {
        const double d = v.toDouble();
        if (d == std::floor(d) && std::abs(d) < 1e15) return QString::number(qint64(d));
        return QString::number(d, 'g', 8);
    }
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

// The schema of `section.key`: the section's own parameter, else the selected component's parameter.
const ParamSchema *paramSchema(const QString &section, const QString &key, const QJsonObject &sectionValues) {
    const SectionSchema *s = Registry::global().section(section);
    if (!s) return nullptr;
    if (const ParamSchema *p = s->param(key)) return p;
    if (s->category.isEmpty()) return nullptr;
    const ComponentSchema *c =
        Registry::global().component(s->category, sectionValues.value(QStringLiteral("name")).toString());
    return c ? c->param(key) : nullptr;
}

const ComponentSchema *componentSchema(const QString &section, const QJsonObject &sectionValues) {
    const SectionSchema *s = Registry::global().section(section);
    if (!s || s->category.isEmpty()) return nullptr;
    return Registry::global().component(s->category, sectionValues.value(QStringLiteral("name")).toString());
}

// Keys of `object` in schema order (section params, then component params), then the rest alphabetically.
QStringList orderedKeys(const QString &section, const QJsonObject &object) {
    QStringList order;
    if (const SectionSchema *s = Registry::global().section(section)) {
        for (const ParamSchema &p : s->params)
            order.append(p.key);
        if (const ComponentSchema *c = componentSchema(section, object))
            for (const ParamSchema &p : c->params)
                order.append(p.key);
    }
    QStringList keys;
    for (const QString &k : std::as_const(order))
        if (object.contains(k) && !keys.contains(k)) keys.append(k);
    for (auto it = object.begin(); it != object.end(); ++it)
        if (!keys.contains(it.key())) keys.append(it.key());
    return keys;
}

QLabel *makeCaption(const QString &text) {
    auto *label = new QLabel(text);
    QFont f = label->font();
    f.setPointSizeF(f.pointSizeF() * 0.9);
    label->setFont(f);
    QPalette pal = label->palette();
    pal.setColor(QPalette::WindowText, QColor(0x6b, 0x6b, 0x6b));
    label->setPalette(pal);
    return label;
}

} // namespace

// The per-round table of the Run tab.
class RoundTableModel : public QAbstractTableModel {
public:
    enum Column {
        Round,
        TestAccuracy,
        TestLoss,
        TrainLoss,
        FairMean,
        FairWorst10,
        FairJain,
        Clients,
        RoundSeconds,
        ColumnCount
    };

    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex &parent = {}) const override {
        return parent.isValid() ? 0 : int(m_rows.size());
    }
    int columnCount(const QModelIndex &parent = {}) const override {
        return parent.isValid() ? 0 : ColumnCount;
    }

    QVariant data(const QModelIndex &index, int role) const override {
        if (!index.isValid() || index.row() >= m_rows.size()) return {};
        const Row &r = m_rows.at(index.row());
        const bool testColumn =
            index.column() >= TestAccuracy && index.column() <= FairJain && index.column() != TrainLoss;
        if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
        if (role == Qt::ForegroundRole && testColumn && !r.evaluated)
            return QVariant::fromValue(kDefaultColor);
        if (role != Qt::DisplayRole) return {};
        if (testColumn && !r.evaluated) return QStringLiteral("—");
        switch (index.column()) {
        case Round:
            return r.round;
        case TestAccuracy:
            return formatFixed(r.testAccuracy, 4);
        case TestLoss:
            return formatFixed(r.testLoss, 4);
        case TrainLoss:
            return r.clients > 0 ? formatFixed(r.trainLoss, 4) : QStringLiteral("—");
        case FairMean:
            return formatFixed(r.fairness.mean, 4);
        case FairWorst10:
            return formatFixed(r.fairness.worst10, 4);
        case FairJain:
            return formatFixed(r.fairness.jain, 4);
        case Clients:
            return r.clients;
        case RoundSeconds:
            return formatFixed(r.roundSeconds, 2);
        default:
            return {};
        }
    }

    QVariant headerData(int section, Qt::Orientation orientation, int role) const override {
        if (orientation != Qt::Horizontal) return {};
        if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
        if (role == Qt::ToolTipRole) {
            switch (section) {
            case FairMean:
                return MainWindow::tr("Mean of the per-client local test accuracy");
            case FairWorst10:
                return MainWindow::tr("Mean accuracy of the worst 10 % of clients");
            case FairJain:
                return MainWindow::tr("Jain's fairness index of per-client accuracy (1 = all equal)");
            case Clients:
                return MainWindow::tr("Clients selected this round");
            default:
                return {};
            }
        }
        if (role != Qt::DisplayRole) return {};
        switch (section) {
        case Round:
            return MainWindow::tr("Round");
        case TestAccuracy:
            return MainWindow::tr("Test acc.");
        case TestLoss:
            return MainWindow::tr("Test loss");
        case TrainLoss:
            return MainWindow::tr("Train loss");
        case FairMean:
            return MainWindow::tr("Client mean");
        case FairWorst10:
            return MainWindow::tr("Worst 10 %");
        case FairJain:
            return MainWindow::tr("Jain");
        case Clients:
            return MainWindow::tr("Clients");
        case RoundSeconds:
            return MainWindow::tr("Time (s)");
        default:
            return {};
        }
    }

    void append(const RoundMetrics &m) {
        beginInsertRows({}, int(m_rows.size()), int(m_rows.size()));
        m_rows.append(rowOf(m));
        endInsertRows();
    }
    void setRounds(const QList<RoundMetrics> &rounds) {
        beginResetModel();
        m_rows.clear();
        for (const RoundMetrics &m : rounds)
            m_rows.append(rowOf(m));
        endResetModel();
    }
    void clear() { setRounds({}); }

private:
    struct Row {
        int round = 0;
        bool evaluated = false;
        double testAccuracy = 0, testLoss = 0, trainLoss = 0;
        Fairness fairness;
        int clients = 0;
        double roundSeconds = 0;
    };
    static Row rowOf(const RoundMetrics &m) {
        return Row{m.round,     m.evaluated, m.testAccuracy,    m.testLoss,
                   m.trainLoss, m.fairness,  m.clientsSelected, m.roundSeconds};
    }
    QList<Row> m_rows;
};

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_controller(new RunController(this)) {
    setObjectName(QStringLiteral("MainWindow"));
    createActions();
    createMenus();
    createToolBar();

    m_tabs = new QTabWidget;
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(createDesignTab(), style()->standardIcon(QStyle::SP_FileDialogDetailedView), tr("Design"));
    m_tabs->addTab(createRunTab(), style()->standardIcon(QStyle::SP_MediaPlay), tr("Run"));
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
    statusBar()->showMessage(tr("Open a workspace to begin."));

    connect(m_controller, &RunController::started, this, &MainWindow::onRunStarted);
    connect(m_controller, &RunController::roundFinished, this, &MainWindow::onRoundFinished);
    connect(m_controller, &RunController::progress, this, &MainWindow::onProgress);
    connect(m_controller, &RunController::message, this, &MainWindow::onRunMessage);
    connect(m_controller, &RunController::finished, this, &MainWindow::onRunFinished);

    resize(1280, 800);
    resizeDocks({m_runsDock}, {430}, Qt::Horizontal);
    updateTitle();
    updateActions();
}

MainWindow::~MainWindow() {
    disconnect(m_runsBrowser, nullptr, this, nullptr);
    delete m_controller; // stops and joins a run in progress while the window is still whole
    m_controller = nullptr;
}

// ---------------------------------------------------------------------------------------------------------
// Construction

void MainWindow::createActions() {
    QStyle *st = style();
    m_openAction = new QAction(st->standardIcon(QStyle::SP_DialogOpenButton), tr("&Open Workspace…"), this);
    m_openAction->setIconText(tr("Open"));
    m_openAction->setShortcut(QKeySequence::Open);
    m_openAction->setStatusTip(tr("Open a .fedwb workspace"));
    connect(m_openAction, &QAction::triggered, this, &MainWindow::openWorkspaceDialog);

    m_openStoreAction = new QAction(st->standardIcon(QStyle::SP_DriveHDIcon), tr("Open Run &Store…"), this);
    m_openStoreAction->setStatusTip(tr("Choose the SQLite file that records runs"));
    connect(m_openStoreAction, &QAction::triggered, this, &MainWindow::openStoreDialog);

    m_quitAction = new QAction(st->standardIcon(QStyle::SP_DialogCloseButton), tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    m_quitAction->setMenuRole(QAction::QuitRole);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

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
    file->addAction(m_openAction);
    file->addAction(m_openStoreAction);
    file->addSeparator();
    file->addAction(m_quitAction);

    QMenu *run = menuBar()->addMenu(tr("&Run"));
    run->addAction(m_runAction);
    run->addAction(m_stopAction);
    run->addAction(m_resumeAction);

    m_viewMenu = menuBar()->addMenu(tr("&View")); // filled once the dock exists

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_aboutAction);
}

void MainWindow::createToolBar() {
    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize(QSize(18, 18));
    bar->addAction(m_openAction);
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
    m_progress->setFixedWidth(300);
    m_etaLabel = new QLabel;
    m_etaLabel->setMinimumWidth(120);
    layout->addWidget(m_progress);
    layout->addWidget(m_etaLabel);
    bar->addWidget(progressBox);
}

QWidget *MainWindow::createDesignTab() {
    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(12, 12, 12, 12);
    layout->setSpacing(10);

    m_designHeader = new QLabel;
    m_designHeader->setTextFormat(Qt::RichText);
    m_designHeader->setWordWrap(true);
    m_designHeader->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_designHeader);

    m_designProblems = new QLabel;
    m_designProblems->setObjectName(QStringLiteral("designProblems"));
    m_designProblems->setTextFormat(Qt::RichText);
    m_designProblems->setWordWrap(true);
    m_designProblems->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_designProblems->hide();
    layout->addWidget(m_designProblems);

    m_designTree = new QTreeWidget;
    m_designTree->setObjectName(QStringLiteral("designTree"));
    m_designTree->setColumnCount(3);
    m_designTree->setHeaderLabels({tr("Setting"), tr("Value"), tr("Description")});
    m_designTree->setAlternatingRowColors(true);
    m_designTree->setUniformRowHeights(true);
    m_designTree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_designTree->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_designTree->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_designTree, &QWidget::customContextMenuRequested, this, [this](const QPoint &at) {
        const QTreeWidgetItem *item = m_designTree->itemAt(at);
        const QString path = item ? item->data(0, Qt::UserRole).toString() : QString();
        if (path.count(QLatin1Char('.')) != 1 || item->childCount() > 0) return; // a setting, not a section
        QMenu menu(this);
        QAction *vary = menu.addAction(tr("Vary %1…").arg(path));
        vary->setEnabled(m_spec && !isRunning());
        vary->setStatusTip(tr("Run a sweep over values of this setting and compare the runs"));
        if (menu.exec(m_designTree->viewport()->mapToGlobal(at)) == vary) varyParameter(path);
    });
    m_designTree->header()->setStretchLastSection(true);
    m_designTree->header()->setSectionResizeMode(QHeaderView::Interactive);
    layout->addWidget(m_designTree, 1);

    m_designHeader->setText(tr("<h3 style='margin:0'>No workspace loaded</h3>"
                               "<p style='margin-top:4px'>Open a <code>.fedwb</code> workspace with <b>File "
                               "▸ Open Workspace…</b> "
                               "(%1).</p>")
                                .arg(m_openAction->shortcut().toString(QKeySequence::NativeText)));
    return page;
}

QWidget *MainWindow::createRunTab() {
    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(12, 12, 12, 12);
    layout->setSpacing(10);

    m_runHeader = new QLabel;
    m_runHeader->setTextFormat(Qt::RichText);
    m_runHeader->setWordWrap(true);
    layout->addWidget(m_runHeader);

    auto *cards = new QHBoxLayout;
    cards->setSpacing(8);
    const auto addCard = [cards](const QString &caption, const QString &tip) {
        auto *frame = new QFrame;
        frame->setObjectName(QStringLiteral("metricCard"));
        frame->setStyleSheet(QStringLiteral("QFrame#metricCard { background: palette(base);"
                                            " border: 1px solid palette(midlight); border-radius: 6px; }"));
        frame->setToolTip(tip);
        auto *box = new QVBoxLayout(frame);
        box->setContentsMargins(10, 6, 10, 8);
        box->setSpacing(2);
        auto *value = new QLabel(QStringLiteral("—"));
        QFont f = value->font();
        f.setPointSizeF(f.pointSizeF() * 1.35);
        f.setWeight(QFont::DemiBold);
        value->setFont(f);
        box->addWidget(makeCaption(caption));
        box->addWidget(value);
        cards->addWidget(frame, 1);
        return value;
    };
    m_valRound = addCard(tr("Round"), tr("Rounds done / planned"));
    m_valAccuracy = addCard(tr("Test accuracy"), tr("Global model on the test set (last evaluation)"));
    m_valTestLoss = addCard(tr("Test loss"), tr("Global model on the test set (last evaluation)"));
    m_valTrainLoss = addCard(tr("Train loss"), tr("Sample-weighted mean over the clients trained"));
    m_valFairMean = addCard(tr("Client mean"), tr("Mean of the per-client local test accuracy"));
    m_valFairWorst = addCard(tr("Worst 10 %"), tr("Mean accuracy of the worst 10 % of clients"));
    m_valFairJain =
        addCard(tr("Jain index"), tr("Jain's fairness index of per-client accuracy (1 = all equal)"));
    m_valWall = addCard(tr("Wall time"), tr("Time since the run started"));
    layout->addLayout(cards);

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->setChildrenCollapsible(false);
    m_chart = new LiveChart;
    m_chart->setObjectName(QStringLiteral("liveChart"));
    splitter->addWidget(m_chart);

    m_roundModel = new RoundTableModel(this);
    m_roundTable = new QTableView;
    m_roundTable->setObjectName(QStringLiteral("roundTable"));
    m_roundTable->setModel(m_roundModel);
    m_roundTable->setAlternatingRowColors(true);
    m_roundTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_roundTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_roundTable->verticalHeader()->hide();
    m_roundTable->verticalHeader()->setDefaultSectionSize(m_roundTable->fontMetrics().height() + 6);
    m_roundTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_roundTable->setMinimumHeight(110);
    splitter->addWidget(m_roundTable);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({480, 170});
    layout->addWidget(splitter, 1);

    resetRunView();
    setRunHeader(tr("<span style='color:#6b6b6b'>No run selected. Press <b>Run</b> or pick a run from the "
                    "<b>Runs</b> list.</span>"));
    return page;
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
        if (m_displayedRunId > 0 && m_store && !m_store->run(m_displayedRunId)) resetRunView(); // deleted
    });
    m_runsRefresh.setSingleShot(true);
    m_runsRefresh.setInterval(1000); // a live run's row: at most once a second
    connect(&m_runsRefresh, &QTimer::timeout, this, [this] { m_runsBrowser->reload(); });
    QWidget *holder = m_runsBrowser;
    m_runsDock->setWidget(holder);
    addDockWidget(Qt::LeftDockWidgetArea, m_runsDock);

    m_viewMenu->addAction(m_runsDock->toggleViewAction());
}

// ---------------------------------------------------------------------------------------------------------
// Workspace

bool MainWindow::openWorkspace(const QString &path) {
    m_workspacePath = QFileInfo(path).absoluteFilePath();
    m_spec.reset();
    m_raw = {};
    m_validationText.clear();
    updateTitle();

    const QString fileName = QFileInfo(path).fileName();
    QString error;
    QList<SpecIssue> readWarnings;
    const std::optional<QJsonObject> raw = FederationSpec::readFile(path, &error, &readWarnings);
    if (!raw) {
        m_designTree->clear();
        m_validationText = error;
        showWorkspaceProblem(tr("Cannot read %1").arg(fileName), error.toHtmlEscaped());
        m_designHeader->setText(
            QStringLiteral("<h3 style='margin:0'>%1</h3><span style='color:#6b6b6b'>%2</span>")
                .arg(fileName.toHtmlEscaped(), m_workspacePath.toHtmlEscaped()));
        statusBar()->showMessage(tr("Cannot read %1: %2").arg(fileName, error));
        m_tabs->setCurrentIndex(DesignTab);
        updateActions();
        Q_EMIT workspaceLoaded(false);
        return false;
    }
    m_raw = *raw;
    FederationSpec::Parsed parsed = FederationSpec::parse(m_raw);
    parsed.warnings = readWarnings + parsed.warnings; // duplicate keys first, as fedwb-cli prints them

    QStringList lines;
    for (const SpecIssue &e : parsed.errors)
        lines.append(e.text());
    for (const SpecIssue &w : parsed.warnings)
        lines.append(tr("warning: %1").arg(w.text()));
    m_validationText = lines.join(QLatin1Char('\n'));

    // Title: the workspace's own name when it has one, the file name otherwise; then its description.
    const QString name = m_raw.value(QStringLiteral("name")).toString();
    const QString description = m_raw.value(QStringLiteral("description")).toString();
    QString header = QStringLiteral("<h3 style='margin:0'>%1</h3>")
                         .arg((name.isEmpty() ? fileName : name).toHtmlEscaped());
    if (!description.isEmpty())
        header += QStringLiteral("<p style='margin-top:3px; margin-bottom:0'>%1</p>")
                      .arg(description.toHtmlEscaped());
    header += QStringLiteral("<span style='color:#6b6b6b'>%1</span>")
                  .arg(QDir::toNativeSeparators(m_workspacePath).toHtmlEscaped());
    if (parsed.ok()) {
        m_spec = *parsed.spec;
        fillDesignTree(m_spec->json(), m_raw, {});
        QStringList facts;
        const auto named = [this, &facts](const QString &label, const QString &path) {
            const QString v = m_spec->string(path);
            if (!v.isEmpty())
                facts.append(label + QStringLiteral(" <b>") + v.toHtmlEscaped() + QStringLiteral("</b>"));
        };
        named(tr("dataset"), QStringLiteral("dataset.name"));
        named(tr("partition"), QStringLiteral("partition.name"));
        named(tr("model"), QStringLiteral("model.name"));
        named(tr("strategy"), QStringLiteral("strategy.name"));
        if (m_spec->poissonSampling())
            facts.append(tr("<b>%1</b> clients, each with probability <b>%2</b> per round (Poisson)")
                             .arg(m_spec->clientCount())
                             .arg(m_spec->samplingRate()));
        else
            facts.append(tr("<b>%1</b> clients, <b>%2</b> per round")
                             .arg(m_spec->clientCount())
                             .arg(m_spec->clientsPerRound()));
        facts.append(tr("<b>%1</b> rounds").arg(m_spec->rounds()));
        if (const auto planned = privacy::plannedPrivacy(*m_spec)) {
            const QString epsilon = tr("ε ≤ <b>%1</b> after %2 rounds (δ %3)")
                                        .arg(planned->epsilon, 0, 'g', 3)
                                        .arg(planned->rounds)
                                        .arg(planned->delta, 0, 'g', 3);
            if (planned->mode == QLatin1String("central"))
                facts.append(tr("central DP: noise <b>%1</b>, clip <b>%2</b>%3, %4")
                                 .arg(m_spec->real(QStringLiteral("privacy.noise_multiplier")))
                                 .arg(m_spec->real(QStringLiteral("privacy.clip_norm")))
                                 .arg(m_spec->boolean(QStringLiteral("privacy.adaptive_clipping"))
                                          ? tr(" (adaptive)")
                                          : QString())
                                 .arg(epsilon));
            else
                facts.append(tr("local DP: %1 for a client in every round (worst group)").arg(epsilon));
        }
        header += QStringLiteral("<p style='margin-top:6px'>") +
                  facts.join(QStringLiteral(" &nbsp;·&nbsp; ")) +
                  QStringLiteral("</p><p style='margin-top:2px; color:#6b6b6b'>") +
                  tr("Values set in the workspace are shown in black, defaults in <i>grey italics</i>. "
                     "Hover a setting for its allowed range.") +
                  QStringLiteral("</p>");
        if (parsed.warnings.isEmpty()) {
            m_designProblems->hide();
        } else {
            QString html = QStringLiteral("<b>") + tr("Warnings") + QStringLiteral("</b>");
            for (const SpecIssue &w : parsed.warnings)
                html += QStringLiteral("<br>• ") + w.text().toHtmlEscaped();
            m_designProblems->setStyleSheet(QStringLiteral("QLabel { background: #fff6e0; color: #7a4b00;"
                                                           " border: 1px solid #f0d08a; border-radius: 4px;"
                                                           " padding: 8px; }"));
            m_designProblems->setText(html);
            m_designProblems->show();
        }
        statusBar()->showMessage(tr("Loaded %1").arg(fileName), 5000);
    } else {
        fillDesignTree(m_raw, m_raw, parsed.errors);
        QString details;
        for (const SpecIssue &e : parsed.errors)
            details += QStringLiteral("<br>• ") + e.text().toHtmlEscaped();
        for (const SpecIssue &w : parsed.warnings)
            details += QStringLiteral("<br>• ") + tr("warning: %1").arg(w.text()).toHtmlEscaped();
        showWorkspaceProblem(tr("This workspace is invalid — fix it and open it again:"), details.mid(4));
        statusBar()->showMessage(
            parsed.errors.size() == 1
                ? tr("%1 is invalid: 1 problem").arg(fileName)
                : tr("%1 is invalid: %2 problems").arg(fileName).arg(parsed.errors.size()));
    }
    m_designHeader->setText(header);
    m_tabs->setCurrentIndex(DesignTab);
    updateActions();
    Q_EMIT workspaceLoaded(parsed.ok());
    return parsed.ok();
}

QString MainWindow::validationText() const {
    return m_validationText;
}

QString MainWindow::workspaceName() const {
    const QString name = m_raw.value(QStringLiteral("name")).toString();
    return name.isEmpty() ? QFileInfo(m_workspacePath).completeBaseName() : name;
}

void MainWindow::showWorkspaceProblem(const QString &title, const QString &details) {
    m_designProblems->setStyleSheet(QStringLiteral("QLabel { background: #fdecea; color: #8a1c13;"
                                                   " border: 1px solid #f1b8b2; border-radius: 4px;"
                                                   " padding: 8px; }"));
    m_designProblems->setText(QStringLiteral("<b>") + title.toHtmlEscaped() + QStringLiteral("</b><br>") +
                              details);
    m_designProblems->show();
}

void MainWindow::fillDesignTree(const QJsonObject &values, const QJsonObject &raw,
                                const QList<SpecIssue> &errors) {
    m_designTree->clear();
    QHash<QString, QTreeWidgetItem *> items; // key path -> item

    QFont sectionFont = m_designTree->font();
    sectionFont.setBold(true);
    QFont defaultFont = m_designTree->font();
    defaultFont.setItalic(true);

    // Top-level values (format, name, description) in a group of their own, then the sections in registry
    // order, then anything else the file holds.
    QStringList scalars;
    for (const QString &k : {QStringLiteral("format"), QStringLiteral("name"), QStringLiteral("description")})
        if (values.contains(k) && !values.value(k).isObject()) scalars.append(k);
    for (auto it = values.begin(); it != values.end(); ++it)
        if (!it.value().isObject() && !scalars.contains(it.key())) scalars.append(it.key());
    QStringList keys;
    for (const SectionSchema &s : Registry::global().sections())
        if (values.contains(s.key) && !scalars.contains(s.key)) keys.append(s.key);
    for (auto it = values.begin(); it != values.end(); ++it)
        if (!keys.contains(it.key()) && !scalars.contains(it.key())) keys.append(it.key());

    // Adds `key` (of `parentPath`'s object `obj`) under `parent`; recurses into objects.
    const std::function<void(QTreeWidgetItem *, const QString &, const QString &, const QJsonValue &,
                             const QJsonValue &)>
        addValue = [&](QTreeWidgetItem *parent, const QString &section, const QString &path,
                       const QJsonValue &value, const QJsonValue &rawValue) {
            const QString key = path.section(QLatin1Char('.'), -1);
            auto *item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_designTree);
            item->setText(0, key);
            items.insert(path, item);
            item->setData(0, Qt::UserRole, path); // "section.key": what "Vary this parameter" varies
            if (value.isObject()) {
                const QJsonObject obj = value.toObject();
                const QJsonObject rawObj = rawValue.toObject();
                for (const QString &k : orderedKeys(section, obj))
                    addValue(item, section, path + QLatin1Char('.') + k, obj.value(k), rawObj.value(k));
                return;
            }
            const bool explicitValue = !rawValue.isUndefined();
            const ParamSchema *schema = nullptr;
            if (parent && path.count(QLatin1Char('.')) == 1)
                schema = paramSchema(section, key, values.value(section).toObject());
            QString text = jsonText(value);
            if (schema && schema->type == ParamType::GroupList && value.isArray() &&
                value.toArray().isEmpty()) {
                text = tr("[] (one group \"clients\" holding all)");
            } else if (schema && !schema->zeroText.isEmpty() && value.isDouble() && value.toDouble() == 0) {
                text = QStringLiteral("0 (%1)").arg(schema->zeroText);
            } else if (schema && !schema->unit.isEmpty()) {
                QString unit = schema->unit;
                if (text == QStringLiteral("1") && unit.endsWith(QLatin1Char('s'))) unit.chop(1); // "1 epoch"
                text += QLatin1Char(' ') + unit;
            }
            if (schema && !explicitValue && key == QLatin1String("seed") &&
                schema->defaultValue.toDouble() == -1)
                text += tr(" (= run.seed)"); // dataset.seed and partition.seed follow run.seed unless set
            item->setText(1, text);
            item->setToolTip(1, text);
            if (schema) {
                item->setText(2, schema->help);
                QString tip = QStringLiteral("<b>") + path.toHtmlEscaped() + QStringLiteral("</b>");
                if (!schema->help.isEmpty()) tip += QStringLiteral("<br>") + schema->help.toHtmlEscaped();
                tip += QStringLiteral("<br>") + tr("Allowed: %1").arg(schema->allowedText().toHtmlEscaped());
                tip += QStringLiteral("<br>") +
                       tr("Default: %1").arg(jsonText(schema->defaultValue).toHtmlEscaped());
                for (int c = 0; c < 3; ++c)
                    item->setToolTip(c, tip);
            }
            if (!explicitValue) {
                item->setFont(1, defaultFont);
                item->setForeground(1, kDefaultColor);
                item->setToolTip(1, item->toolTip(1) + QStringLiteral("<br><i>") + tr("default value") +
                                        QStringLiteral("</i>"));
            }
        };

    if (!scalars.isEmpty()) {
        auto *fileItem = new QTreeWidgetItem(m_designTree);
        fileItem->setText(0, tr("workspace"));
        fileItem->setFont(0, sectionFont);
        fileItem->setText(2, tr("The file itself: format version, name and description."));
        for (const QString &k : std::as_const(scalars))
            addValue(fileItem, QString(), k, values.value(k), raw.value(k));
    }
    for (const QString &sectionKey : std::as_const(keys)) {
        const QJsonValue v = values.value(sectionKey);
        if (!v.isObject()) continue; // scalars are grouped above
        const QJsonObject obj = v.toObject();
        const QJsonObject rawObj = raw.value(sectionKey).toObject();
        auto *sectionItem = new QTreeWidgetItem(m_designTree);
        sectionItem->setText(0, sectionKey);
        sectionItem->setFont(0, sectionFont);
        items.insert(sectionKey, sectionItem);
        const SectionSchema *schema = Registry::global().section(sectionKey);
        if (schema) sectionItem->setText(2, schema->help);
        if (obj.value(QStringLiteral("name")).isString()) { // the component this section selects
            sectionItem->setText(1, obj.value(QStringLiteral("name")).toString());
            sectionItem->setFont(1, sectionFont);
            items.insert(sectionKey + QStringLiteral(".name"), sectionItem);
            if (const ComponentSchema *c = componentSchema(sectionKey, obj)) {
                const QString about = c->title.isEmpty() ? c->help : c->title;
                if (!about.isEmpty()) sectionItem->setText(2, about);
                if (!c->help.isEmpty()) sectionItem->setToolTip(2, c->help);
            }
        }
        for (const QString &k : orderedKeys(sectionKey, obj)) {
            if (k == QStringLiteral("name") && obj.value(k).isString()) continue;
            addValue(sectionItem, sectionKey, sectionKey + QLatin1Char('.') + k, obj.value(k),
                     rawObj.value(k));
        }
    }

    // Errors: on the item they name, else on the closest existing parent, else as a top-level row.
    const QIcon errorIcon = style()->standardIcon(QStyle::SP_MessageBoxCritical);
    for (const SpecIssue &e : errors) {
        QString path = e.path;
        QTreeWidgetItem *item = nullptr;
        while (!path.isEmpty() && !(item = items.value(path)))
            path = path.section(QLatin1Char('.'), 0, -2);
        if (!item || path != e.path) {
            auto *row = item ? new QTreeWidgetItem(item) : new QTreeWidgetItem(m_designTree);
            row->setText(0, e.path.isEmpty() ? tr("(workspace)") : e.path.section(QLatin1Char('.'), -1));
            row->setText(1, tr("(missing)"));
            item = row;
        }
        item->setIcon(0, errorIcon);
        for (int c = 0; c < 3; ++c)
            item->setForeground(c, kErrorColor);
        item->setText(2, e.message);
        item->setToolTip(2, e.text());
        for (QTreeWidgetItem *p = item->parent(); p; p = p->parent())
            p->setForeground(0, kErrorColor);
    }

    m_designTree->expandAll();
    m_designTree->resizeColumnToContents(0);
    m_designTree->resizeColumnToContents(1);
    m_designTree->setColumnWidth(0, std::max(m_designTree->columnWidth(0) + 24, 200));
    m_designTree->setColumnWidth(1, std::clamp(m_designTree->columnWidth(1) + 24, 140, 360));
}

void MainWindow::openWorkspaceDialog() {
    QString dir = m_workspacePath.isEmpty() ? QDir::currentPath() : QFileInfo(m_workspacePath).absolutePath();
    if (m_workspacePath.isEmpty() && QDir(dir).exists(QStringLiteral("workspaces")))
        dir = QDir(dir).filePath(QStringLiteral("workspaces"));
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Workspace"), dir, tr("FedWorkbench workspaces (*.fedwb *.json);;All files (*)"));
    if (!path.isEmpty()) openWorkspace(path);
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
           "<p>A desktop workbench for designing, running and comparing federated-learning experiments.</p>"
           "<p>Workspaces are versioned JSON files; every run is recorded in a SQLite run store.</p>"
           "<p>Built with Qt %2.</p>")
            .arg(QStringLiteral(FEDWB_VERSION), QString::fromLatin1(qVersion())));
}

void MainWindow::updateActions() {
    const bool running = isRunning();
    const bool recordable = m_store && m_store->isOpen() && !m_store->isReadOnly();
    m_runAction->setEnabled(m_spec.has_value() && !running && (recordable || !m_store));
    m_stopAction->setEnabled(running);
    m_resumeAction->setEnabled(!running && recordable && canResume(m_displayedRunId));
    m_openStoreAction->setEnabled(!running);
}

void MainWindow::updateTitle() {
    if (m_workspacePath.isEmpty()) {
        setWindowTitle(tr("FedWorkbench"));
        return;
    }
    setWindowTitle(tr("%1 — FedWorkbench").arg(QFileInfo(m_workspacePath).fileName()));
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
}

void MainWindow::refreshRuns() {
    m_runsBrowser->setStore(m_store.get(), !m_store || m_store->isReadOnly());
    selectRunInList(m_displayedRunId);
}

void MainWindow::selectRunInList(qint64 runId) {
    m_runsBrowser->selectRun(runId);
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
    resetRunView();
    m_displayedRunId = runId;
    m_shownTotalRounds = run->roundsPlanned;
    m_chart->setPlaceholderText(tr("No rounds recorded"));
    m_chart->setRounds(rounds);
    m_dashboard->setRounds(rounds, run->spec.value(QStringLiteral("privacy"))
                                       .toObject()
                                       .value(QStringLiteral("target_epsilon"))
                                       .toDouble());
    m_roundModel->setRounds(rounds);
    for (const RoundMetrics &m : rounds)
        showRoundValues(m);
    if (!rounds.isEmpty()) m_lastShownRound = rounds.last().round;
    if (rounds.isEmpty()) m_valRound->setText(QStringLiteral("0 / %1").arg(run->roundsPlanned));
    m_roundTable->scrollToBottom();

    QString header = tr("<b>Run #%1</b> &nbsp;%2").arg(runId).arg(run->name.toHtmlEscaped());
    header += QStringLiteral(" &nbsp;·&nbsp; <b style='color:%1'>%2</b>")
                  .arg(runStatusColour(run->status).name(), runStatusName(run->status));
    header +=
        QStringLiteral(" &nbsp;·&nbsp; ") +
        tr("started %1").arg(run->startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd hh:mm:ss")));
    if (run->wallSeconds > 0) header += QStringLiteral(" &nbsp;·&nbsp; ") + formatDuration(run->wallSeconds);
    if (!run->message.isEmpty())
        header += QStringLiteral("<br><span style='color:%1'>%2</span>")
                      .arg(kErrorColor.name(), run->message.toHtmlEscaped());
    if (!isRunning() && canResume(runId))
        header +=
            QStringLiteral("<br>") + tr("<i>Run ▸ Resume (%1) continues it from its last checkpoint.</i>")
                                         .arg(m_resumeAction->shortcut().toString(QKeySequence::NativeText));
    setRunHeader(header);
    updateActions();
}

// ---------------------------------------------------------------------------------------------------------
// Running

bool MainWindow::isRunning() const {
    return m_controller->isRunning();
}

void MainWindow::startRun() {
    if (!m_spec || isRunning()) return;
    launchRun(*m_spec, {}, {}, {});
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
    resetRunView();
    m_liveRunId = -1;
    m_displayedRunId = -1;
    m_liveTotalRounds = spec.rounds();
    m_shownTotalRounds = m_liveTotalRounds;
    m_valRound->setText(QStringLiteral("0 / %1").arg(m_liveTotalRounds));
    m_chart->setPlaceholderText(tr("Waiting for the first round…"));
    m_runClock.start();
    if (!m_controller->start(spec, m_workspacePath, m_dbPath, name, sweepId, sweepPoint)) return false;
    setRunHeader(tr("<b>Starting</b> %1…").arg((name.isEmpty() ? workspaceName() : name).toHtmlEscaped()));
    m_progress->setValue(0);
    m_progress->setFormat(tr("starting…"));
    m_etaLabel->clear();
    m_tabs->setCurrentIndex(RunTab);
    statusBar()->showMessage(
        m_sweep
            ? tr("Sweep %1: run %2 of %3…").arg(m_sweep->id).arg(m_sweep->next).arg(m_sweep->plan.jobs.size())
            : tr("Running %1…").arg(QFileInfo(m_workspacePath).fileName()));
    updateActions();
    return true;
}

bool MainWindow::startSweep(const QList<SweepVary> &varies, int seeds, QString *error) {
    if (isRunning() || !m_spec) {
        if (error) *error = isRunning() ? tr("a run is in progress") : tr("open a valid workspace first");
        return false;
    }
    SweepPlan plan = planSweep(m_raw, varies, seeds);
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
    if (!m_spec || isRunning()) return;
    const QString current = specValueText(m_spec->json(), path);
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
    setRunHeader(tr("<b>Resuming run #%1</b>…").arg(runId));
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
    if (m_resuming) { // the rounds kept before the checkpoint, then the live ones after them
        m_resuming = false;
        showStoredRun(runId);
        if (const std::optional<StoredRun> stored = m_store ? m_store->run(runId) : std::nullopt)
            name = stored->name;
    }
    if (m_liveRunId != runId &&
        m_displayedRunId != runId) { // a new run (a resumed one shows its kept rounds)
        const std::optional<StoredRun> stored = m_store ? m_store->run(runId) : std::nullopt;
        const FederationSpec::Parsed parsed = FederationSpec::parse(stored ? stored->spec : m_raw);
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
    }
    m_liveRunId = runId;
    m_displayedRunId = runId;
    m_liveTotalRounds = totalRounds;
    m_shownTotalRounds = totalRounds;
    refreshRuns();
    name = name.toHtmlEscaped();
    setRunHeader(runId >= 0 ? tr("<b>Run #%1</b> &nbsp;%2 &nbsp;·&nbsp; <b style='color:%3'>running</b>")
                                  .arg(runId)
                                  .arg(name, runStatusColour(RunStatus::Running).name())
                            : tr("<b>Run</b> %1 (not recorded) &nbsp;·&nbsp; running").arg(name));
    setProgressFraction(0, 1, totalRounds);
    Q_EMIT runStarted(runId);
}

void MainWindow::onRoundFinished(const RoundMetrics &metrics) {
    if (m_liveTotalRounds > 0)
        setProgressFraction(double(metrics.round) / m_liveTotalRounds, metrics.round, m_liveTotalRounds);

    // The live run's row in the Runs list.
    if (!m_runsRefresh.isActive()) m_runsRefresh.start();

    if (m_displayedRunId != m_liveRunId || metrics.round <= m_lastShownRound) return;
    m_lastShownRound = metrics.round;
    m_chart->addRound(metrics);
    m_dashboard->addRound(metrics);
    m_roundModel->append(metrics);
    m_roundTable->scrollToBottom();
    showRoundValues(metrics);
}

void MainWindow::onProgress(int round, int totalRounds, int clientsDone, int clientsTotal) {
    if (totalRounds <= 0) return;
    const double within = clientsTotal > 0 ? double(clientsDone) / clientsTotal : 0.0;
    setProgressFraction((round - 1 + within) / totalRounds, round, totalRounds);
}

void MainWindow::onRunMessage(const QString &text) {
    statusBar()->showMessage(text, 8000);
}

void MainWindow::onRunFinished(const RunSummary &summary, qint64 runId) {
    m_liveRunId = -1;
    m_resuming = false;
    if (m_displayedRunId == runId && runId >= 0) {
        refreshRuns();
        showStoredRun(runId); // the recorded rounds, header with the final status
    } else {
        refreshRuns();
    }
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
        text += tr(", test accuracy %1").arg(formatFixed(*summary.finalTestAccuracy, 4));
    if (!summary.message.isEmpty()) text += QStringLiteral(": ") + summary.message;
    statusBar()->showMessage(text);
    if (runId < 0) {
        setRunHeader(QStringLiteral("<b>") + text.toHtmlEscaped() + QStringLiteral("</b>"));
    }
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

void MainWindow::resetRunView() {
    m_chart->clear();
    if (m_dashboard) m_dashboard->clear();
    m_chart->setPlaceholderText(tr("No rounds yet"));
    m_roundModel->clear();
    m_lastShownRound = 0;
    for (QLabel *l : {m_valRound, m_valAccuracy, m_valTestLoss, m_valTrainLoss, m_valFairMean, m_valFairWorst,
                      m_valFairJain, m_valWall})
        l->setText(QStringLiteral("—"));
}

void MainWindow::showRoundValues(const RoundMetrics &m) {
    m_valRound->setText(m_shownTotalRounds > 0
                            ? QStringLiteral("%1 / %2").arg(m.round).arg(m_shownTotalRounds)
                            : QString::number(m.round));
    if (m.evaluated) {
        m_valAccuracy->setText(formatFixed(m.testAccuracy, 4));
        m_valTestLoss->setText(formatNumber(m.testLoss));
        m_valFairMean->setText(formatFixed(m.fairness.mean, 4));
        m_valFairWorst->setText(formatFixed(m.fairness.worst10, 4));
        m_valFairJain->setText(formatFixed(m.fairness.jain, 4));
    }
    if (m.clientsSelected > 0) m_valTrainLoss->setText(formatNumber(m.trainLoss));
    m_valWall->setText(formatDuration(m.wallSeconds));
}

void MainWindow::setRunHeader(const QString &text) {
    m_runHeader->setText(text);
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
        m_controller->stop();
    }
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
