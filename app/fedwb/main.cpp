// fedwb: the desktop GUI. Argument parsing and the main window only.
#include "MainWindow.h"
#include "dashboard/LiveChart.h"
#include "designer/DesignerView.h"
#include "designer/FederationCanvas.h"
#include "designer/FederationModel.h"
#include "designer/PartitionPreview.h"
#include "spec/Registry.h"
#include "store/RunStore.h"
#include "workers/WorkersPanel.h"

#include <QApplication>
#include <QCheckBox>
#include <QCommandLineParser>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QLineEdit>
#include <QPixmap>
#include <QSpinBox>
#include <QTimer>

#include <cstdio>

namespace {

int fail(const QString &text) {
    std::fprintf(stderr, "fedwb: %s\n", qPrintable(text));
    return 1;
}

// Lets layouts settle and the chart's redraw timer fire before a grab.
void settle(int ms) {
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

} // namespace

int main(int argc, char *argv[]) {
    QApplication::setApplicationName(QStringLiteral("FedWorkbench"));
    QApplication::setOrganizationName(QStringLiteral("FedWorkbench"));
    QApplication::setApplicationVersion(QStringLiteral(FEDWB_VERSION));
    QApplication app(argc, argv);
    fedwb::registerBuiltins();

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("FedWorkbench: design, run and compare federated-learning experiments."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("workspace"), QStringLiteral("A .fedwb workspace to open."),
                                 QStringLiteral("[WORKSPACE]"));
    const QCommandLineOption dbOption(
        QStringLiteral("db"),
        QStringLiteral("The run store (SQLite) that lists and records runs (default: %1).")
            .arg(fedwb::RunStore::defaultPath()),
        QStringLiteral("FILE"), fedwb::RunStore::defaultPath());
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Open WORKSPACE, save a PNG of the window (1280x800; 1280x960 with --view "
                       "workers) to FILE and exit."),
        QStringLiteral("FILE"));
    // For documentation screenshots: run the workspace to the end before grabbing the window.
    QCommandLineOption runFirstOption(QStringLiteral("run-first"),
                                      QStringLiteral("With --screenshot: run the workspace first."));
    runFirstOption.setFlags(QCommandLineOption::HiddenFromHelp);
    // For documentation screenshots: the designer with canvas node NODE selected (its inspector page), and
    // optionally one setting set to a value first ("partition.alpha=-1").
    QCommandLineOption selectOption(QStringLiteral("select"),
                                    QStringLiteral("With --screenshot: select canvas node NODE."),
                                    QStringLiteral("NODE"));
    selectOption.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption editOption(
        QStringLiteral("edit"),
        QStringLiteral("With --screenshot: set KEY=VALUE in the designer (undoable)."),
        QStringLiteral("KEY=VALUE"));
    editOption.setFlags(QCommandLineOption::HiddenFromHelp);
    const QCommandLineOption runOption(
        QStringLiteral("run"),
        QStringLiteral("Show the stored run ID from --db; give it several times to compare the runs."),
        QStringLiteral("ID"));
    const QCommandLineOption viewOption(
        QStringLiteral("view"),
        QStringLiteral(
            "The view to show: designer (default; also: design), run (the --run), dashboard (the --run's "
            "dashboard), compare (every --run side by side) or workers (the Workers panel, with the "
            "dashboard)."),
        QStringLiteral("VIEW"), QStringLiteral("designer"));
    const QCommandLineOption plotOption(
        QStringLiteral("plot"),
        QStringLiteral(
            "Save the accuracy/loss curves of --run ID as a PNG (900x560) to FILE and exit; needs no display "
            "with QT_QPA_PLATFORM=offscreen."),
        QStringLiteral("FILE"));
    // Remote execution: the Workers panel's coordinator started at once (the options of fedwb-cli run).
    const QCommandLineOption listenOption(
        QStringLiteral("listen"),
        QStringLiteral("Start the Workers panel's coordinator on ENDPOINT (e.g. tcp://0.0.0.0:5555), with "
                       "--key and --allow, or --insecure for plaintext on this machine only."),
        QStringLiteral("ENDPOINT"));
    const QCommandLineOption keyOption(QStringLiteral("key"),
                                       QStringLiteral("With --listen: this coordinator's key pair (.key)."),
                                       QStringLiteral("FILE"));
    const QCommandLineOption allowOption(
        QStringLiteral("allow"), QStringLiteral("With --listen: the public keys of the workers it accepts."),
        QStringLiteral("FILE"));
    const QCommandLineOption insecureOption(
        QStringLiteral("insecure"),
        QStringLiteral("With --listen: plaintext without keys, on a loopback address only."));
    const QCommandLineOption executorOption(
        QStringLiteral("executor"),
        QStringLiteral("Where runs train their clients: local (default) or remote (the workers)."),
        QStringLiteral("local|remote"), QStringLiteral("local"));
    const QCommandLineOption minWorkersOption(
        QStringLiteral("min-workers"),
        QStringLiteral("With --executor remote: the first round waits for N ready workers (default 1)."),
        QStringLiteral("N"), QStringLiteral("1"));
    parser.addOption(dbOption);
    for (const QCommandLineOption &o :
         {listenOption, keyOption, allowOption, insecureOption, executorOption, minWorkersOption})
        parser.addOption(o);
    parser.addOption(runOption);
    parser.addOption(viewOption);
    parser.addOption(plotOption);
    parser.addOption(screenshotOption);
    parser.addOption(runFirstOption);
    parser.addOption(selectOption);
    parser.addOption(editOption);
    parser.process(app);

    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) return fail(QStringLiteral("expected at most one workspace"));

    qint64 runId = -1;
    QList<qint64> runIds;
    for (const QString &v : parser.values(runOption)) {
        bool ok = false;
        runId = v.toLongLong(&ok);
        if (!ok || runId < 1)
            return fail(QStringLiteral("--run %1: expected a run id (a whole number >= 1)").arg(v));
        runIds.append(runId);
    }
    QString view = parser.value(viewOption);
    if (view == QLatin1String("design")) view = QStringLiteral("designer");
    if (view != QLatin1String("designer") && view != QLatin1String("run") &&
        view != QLatin1String("dashboard") && view != QLatin1String("compare") &&
        view != QLatin1String("workers"))
        return fail(
            QStringLiteral("--view %1: allowed: designer, run, dashboard, compare, workers").arg(view));
    const QString executor = parser.value(executorOption);
    if (executor != QLatin1String("local") && executor != QLatin1String("remote"))
        return fail(QStringLiteral("--executor %1: allowed: local, remote").arg(executor));
    bool minOk = false;
    const int minWorkers = parser.value(minWorkersOption).toInt(&minOk);
    if (!minOk || minWorkers < 1 || minWorkers > 1024)
        return fail(QStringLiteral("--min-workers %1: out of range; allowed: an integer in [1, 1024]")
                        .arg(parser.value(minWorkersOption)));
    for (const QCommandLineOption &o : {keyOption, allowOption, insecureOption})
        if (parser.isSet(o) && !parser.isSet(listenOption))
            return fail(QStringLiteral("--%1 is an option of --listen").arg(o.names().constFirst()));
    if (view == QLatin1String("compare") && runIds.size() < 2)
        return fail(QStringLiteral("--view compare needs two or more --run ID"));
    if ((view == QLatin1String("run") || view == QLatin1String("dashboard")) && runIds.size() != 1)
        return fail(QStringLiteral("--view %1 needs one --run ID").arg(view));
    if (parser.isSet(plotOption)) {
        if (runId < 1) return fail(QStringLiteral("--plot needs --run ID"));
        fedwb::RunStore store(parser.value(dbOption));
        if (!store.isOpen())
            return fail(QStringLiteral("--db %1: %2").arg(parser.value(dbOption), store.lastError()));
        const auto run = store.run(runId);
        if (!run)
            return fail(QStringLiteral("--run %1: no such run in %2").arg(runId).arg(parser.value(dbOption)));
        fedwb::LiveChart chart;
        chart.chart()->setTitle(
            QStringLiteral("Run %1: %2 (%3)").arg(runId).arg(run->name, fedwb::runStatusName(run->status)));
        chart.setRounds(store.rounds(runId));
        chart.resize(900, 560);
        chart.show();
        settle(2 * fedwb::LiveChart::kRedrawDelayMs + 100);
        const QString file = parser.value(plotOption);
        const QPixmap image = chart.grab();
        if (image.isNull() || !image.save(file, "PNG"))
            return fail(QStringLiteral("cannot write %1").arg(file));
        return 0;
    }

    fedwb::MainWindow window;
    window.setDatabasePath(parser.value(dbOption));
    fedwb::WorkersPanel *workers = window.workersPanel();
    workers->minWorkersBox()->setValue(minWorkers);
    if (parser.isSet(listenOption)) {
        workers->bindEdit()->setText(parser.value(listenOption));
        workers->keyEdit()->setText(parser.value(keyOption));
        workers->allowEdit()->setText(parser.value(allowOption));
        workers->insecureBox()->setChecked(parser.isSet(insecureOption));
        if (QString error; !workers->startListening(&error))
            return fail(QStringLiteral("--listen: ") + error);
        std::fprintf(stderr, "fedwb: listening on %s\n", qPrintable(workers->endpoint()));
    }
    if (executor == QLatin1String("remote")) workers->setExecution(fedwb::WorkersPanel::Remote);
    if (view == QLatin1String("workers")) window.workersDock()->show();
    bool loaded = false;
    if (!positional.isEmpty()) loaded = window.openWorkspace(positional.first());

    if (view == QLatin1String("compare") || view == QLatin1String("dashboard") ||
        view == QLatin1String("run")) {
        fedwb::RunStore store(parser.value(dbOption), fedwb::RunStore::Access::ReadOnly);
        for (qint64 id : runIds)
            if (!store.isOpen() || !store.run(id))
                return fail(
                    store.isOpen()
                        ? QStringLiteral("--run %1: no such run in %2").arg(id).arg(parser.value(dbOption))
                        : QStringLiteral("--db %1: %2").arg(parser.value(dbOption), store.lastError()));
        if (view == QLatin1String("compare")) window.compareRuns(runIds);
    }
    if (parser.isSet(screenshotOption)) {
        if (!positional.isEmpty() && !loaded)
            return fail(
                QStringLiteral("cannot load %1:\n%2").arg(positional.first(), window.validationText()));
        // The Workers dock takes the bottom of the window: taller, so the dashboard keeps its room.
        window.resize(1280, view == QLatin1String("workers") ? 960 : 800);
        if (runId > 0 && view != QLatin1String("compare")) { // render that stored run in the Run tab
            window.showStoredRun(runId);
            window.tabs()->setCurrentIndex(view == QLatin1String("dashboard")
                                               ? fedwb::MainWindow::DashboardTab
                                               : fedwb::MainWindow::RunTab);
        }
        window.show();
        if (parser.isSet(runFirstOption)) {
            QEventLoop loop;
            QObject::connect(&window, &fedwb::MainWindow::runFinished, &loop, &QEventLoop::quit);
            window.startRun();
            if (window.isRunning()) loop.exec();
            if (view == QLatin1String("workers"))
                window.tabs()->setCurrentIndex(fedwb::MainWindow::DashboardTab);
        }
        for (const QString &assignment : parser.values(editOption)) {
            QJsonObject raw = window.model()->raw();
            QString error;
            if (!fedwb::FederationSpec::applyOverride(raw, assignment, &error))
                return fail(QStringLiteral("--edit %1: %2").arg(assignment, error));
            const QString key = assignment.section(QLatin1Char('='), 0, 0);
            window.model()->setValue(key, fedwb::FederationModel::valueAt(raw, key));
        }
        if (parser.isSet(selectOption)) window.designer()->canvas()->selectNode(parser.value(selectOption));
        // The designer's partition preview computes on its own thread: wait for it (at most 30 s).
        QElapsedTimer waited;
        waited.start();
        while (window.designer()->preview()->isComputing() && waited.elapsed() < 30000)
            settle(50);
        settle(4 * fedwb::LiveChart::kRedrawDelayMs + 150);
        const QString file = parser.value(screenshotOption);
        const QPixmap shot = window.grab();
        if (shot.isNull() || !shot.save(file, "PNG"))
            return fail(QStringLiteral("cannot write %1").arg(file));
        return 0;
    }

    if (runId > 0 && view != QLatin1String("compare")) window.showStoredRun(runId);
    if (view == QLatin1String("dashboard") || (view == QLatin1String("workers") && runId > 0))
        window.tabs()->setCurrentIndex(fedwb::MainWindow::DashboardTab);
    window.show();
    // Workspaces a crashed session was editing: offered once the window is up.
    QTimer::singleShot(0, &window, [&window] { window.offerRecovery(); });
    return QApplication::exec();
}
