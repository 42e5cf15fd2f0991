// fedwb: the desktop GUI. Argument parsing and the main window only.
#include "MainWindow.h"
#include "designer/DesignerView.h"
#include "designer/PartitionPreview.h"
#include "dashboard/LiveChart.h"
#include "spec/Registry.h"
#include "store/RunStore.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QPixmap>
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
        QStringLiteral("Open WORKSPACE, save a PNG of the window (1280x800) to FILE and exit."),
        QStringLiteral("FILE"));
    // For documentation screenshots: run the workspace to the end before grabbing the window.
    QCommandLineOption runFirstOption(QStringLiteral("run-first"),
                                      QStringLiteral("With --screenshot: run the workspace first."));
    runFirstOption.setFlags(QCommandLineOption::HiddenFromHelp);
    const QCommandLineOption runOption(
        QStringLiteral("run"),
        QStringLiteral("Show the stored run ID from --db; give it several times to compare the runs."),
        QStringLiteral("ID"));
    const QCommandLineOption viewOption(
        QStringLiteral("view"),
        QStringLiteral(
            "The view to show: designer (default; also: design), run (the --run), dashboard (the --run's "
            "dashboard) or compare (every --run side by side)."),
        QStringLiteral("VIEW"), QStringLiteral("designer"));
    const QCommandLineOption plotOption(
        QStringLiteral("plot"),
        QStringLiteral(
            "Save the accuracy/loss curves of --run ID as a PNG (900x560) to FILE and exit; needs no display "
            "with QT_QPA_PLATFORM=offscreen."),
        QStringLiteral("FILE"));
    parser.addOption(dbOption);
    parser.addOption(runOption);
    parser.addOption(viewOption);
    parser.addOption(plotOption);
    parser.addOption(screenshotOption);
    parser.addOption(runFirstOption);
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
        view != QLatin1String("dashboard") && view != QLatin1String("compare"))
        return fail(QStringLiteral("--view %1: allowed: designer, run, dashboard, compare").arg(view));
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
        window.resize(1280, 800);
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
        }
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
    if (view == QLatin1String("dashboard")) window.tabs()->setCurrentIndex(fedwb::MainWindow::DashboardTab);
    window.show();
    // Workspaces a crashed session was editing: offered once the window is up.
    QTimer::singleShot(0, &window, [&window] { window.offerRecovery(); });
    return QApplication::exec();
}
