#include "workers/WorkersPanel.h"

#include "remote/Coordinator.h"
#include "run/RunController.h"
#include "workers/WorkersModel.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMetaObject>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QSysInfo>
#include <QTableView>
#include <QTextCursor>
#include <QTimer>
#include <QVBoxLayout>

#include <mutex>

namespace fedwb {

namespace {

// An argument as a POSIX shell reads it back: as it is when it is plain, else in single quotes.
QString shellQuoted(const QString &arg) {
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_./:=@%+,-]+$"));
    if (plain.match(arg).hasMatch()) return arg;
    QString quoted = arg;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

} // namespace

// The pool's logger runs on the pool's thread: it posts each line to the panel (a queued call), as long as
// the panel wants them; the panel detaches before it stops listening or is destroyed.
struct WorkersPanel::LogRelay {
    std::mutex mutex;
    WorkersPanel *panel = nullptr;
    void post(const QString &line) {
        std::lock_guard lock(mutex);
        if (panel)
            QMetaObject::invokeMethod(
                panel, [p = panel, line] { p->poolEvent(line); }, Qt::QueuedConnection);
    }
    void detach() {
        std::lock_guard lock(mutex);
        panel = nullptr;
    }
};

WorkersPanel::WorkersPanel(RunController *controller, QWidget *parent)
    : QWidget(parent)
    , m_controller(controller)
    , m_selector(new QWidget)
    , m_execution(new QComboBox)
    , m_bind(new QLineEdit(QStringLiteral("tcp://127.0.0.1:5555")))
    , m_key(new QLineEdit)
    , m_allow(new QLineEdit)
    , m_browseKey(new QPushButton(tr("…")))
    , m_browseAllow(new QPushButton(tr("…")))
    , m_insecure(new QCheckBox(tr("Plaintext, this machine only")))
    , m_listenButton(new QPushButton)
    , m_state(new QLabel)
    , m_keyView(new QLineEdit)
    , m_copyKey(new QPushButton(tr("Copy")))
    , m_copyCommand(new QPushButton(tr("Copy worker command")))
    , m_command(new QLineEdit)
    , m_minWorkers(new QSpinBox)
    , m_fallback(new QCheckBox(tr("Train on this machine after")))
    , m_fallbackSeconds(new QDoubleSpinBox)
    , m_summary(new QLabel)
    , m_model(new WorkersModel(this))
    , m_table(new QTableView)
    , m_log(new QPlainTextEdit) {
    setObjectName(QStringLiteral("workersPanel"));

    // The toolbar's selector.
    m_execution->setObjectName(QStringLiteral("executionBox"));
    m_execution->addItem(tr("This machine"), int(Local));
    m_execution->addItem(tr("Workers (remote)"), int(Remote));
    m_execution->setToolTip(tr("Where the clients of the next run train: on this machine's threads, or on "
                               "the fedwb-worker processes connected to the Workers panel's coordinator"));
    auto *selectorLayout = new QHBoxLayout(m_selector);
    selectorLayout->setContentsMargins(8, 0, 8, 0);
    selectorLayout->setSpacing(6);
    selectorLayout->addWidget(new QLabel(tr("Train on:")));
    selectorLayout->addWidget(m_execution);
    connect(m_execution, &QComboBox::currentIndexChanged, this, [this] {
        updateSummary();
        Q_EMIT executionChanged(execution());
    });

    // Listening.
    m_bind->setObjectName(QStringLiteral("bindEdit"));
    m_bind->setToolTip(tr("Where workers connect (fedwb-cli --bind): tcp://0.0.0.0:5555 listens on every "
                          "network interface, tcp://127.0.0.1:* on this machine only, on a free port"));
    m_key->setObjectName(QStringLiteral("keyEdit"));
    m_key->setPlaceholderText(tr("coordinator.key"));
    m_key->setToolTip(tr("This coordinator's key pair (fedwb-cli --key): CurveZMQ encrypts the traffic and "
                         "authenticates both sides"));
    m_allow->setObjectName(QStringLiteral("allowEdit"));
    m_allow->setPlaceholderText(tr("workers' public keys"));
    m_allow->setToolTip(tr("The public keys of the workers it accepts (fedwb-cli --allow), e.g. "
                           "`cat workers/*.pub > allow`"));
    m_insecure->setObjectName(QStringLiteral("insecureBox"));
    m_insecure->setToolTip(tr("fedwb-cli --insecure: no encryption and no authentication, so only on a "
                              "loopback address (127.0.0.1, localhost, ::1)"));
    for (QPushButton *b : {m_browseKey, m_browseAllow}) {
        b->setFixedWidth(b->fontMetrics().horizontalAdvance(QStringLiteral("…")) + 24);
        b->setToolTip(tr("Choose a file"));
    }
    connect(m_browseKey, &QPushButton::clicked, this, [this] {
        const QString f =
            browse(tr("Coordinator key pair"), tr("Key pairs (*.key);;All files (*)"), m_key->text());
        if (!f.isEmpty()) m_key->setText(f);
    });
    connect(m_browseAllow, &QPushButton::clicked, this, [this] {
        const QString f = browse(tr("Allowed workers"), tr("All files (*)"), m_allow->text());
        if (!f.isEmpty()) m_allow->setText(f);
    });
    connect(m_insecure, &QCheckBox::toggled, this, &WorkersPanel::updateState);
    m_listenButton->setObjectName(QStringLiteral("listenButton"));
    connect(m_listenButton, &QPushButton::clicked, this, [this] {
        if (isListening())
            stopListening();
        else
            startListening();
    });
    m_state->setObjectName(QStringLiteral("listenState"));
    m_state->setWordWrap(true);
    m_state->setTextInteractionFlags(Qt::TextSelectableByMouse);

    const auto fileRow = [](QLineEdit *edit, QPushButton *button) {
        auto *row = new QHBoxLayout;
        row->setSpacing(4);
        row->addWidget(edit, 1);
        row->addWidget(button);
        return row;
    };
    auto *listenBox = new QGroupBox(tr("Coordinator"));
    auto *listenForm = new QFormLayout(listenBox);
    listenForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    listenForm->addRow(tr("Address:"), m_bind);
    listenForm->addRow(tr("Key pair:"), fileRow(m_key, m_browseKey));
    listenForm->addRow(tr("Allow list:"), fileRow(m_allow, m_browseAllow));
    listenForm->addRow(QString(), m_insecure);
    listenForm->addRow(QString(), m_listenButton);
    listenForm->addRow(m_state);

    // What workers connect with.
    m_keyView->setObjectName(QStringLiteral("publicKeyView"));
    m_keyView->setReadOnly(true);
    m_keyView->setToolTip(tr("This coordinator's public key: a worker's --server-key file holds it"));
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_keyView->setFont(mono);
    m_copyKey->setToolTip(tr("Copy the public key"));
    connect(m_copyKey, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(QString::fromLatin1(m_publicKey)); });
    m_copyCommand->setObjectName(QStringLiteral("copyCommandButton"));
    m_copyCommand->setToolTip(tr("Copy the command that starts a worker for this coordinator"));
    connect(m_copyCommand, &QPushButton::clicked, this, [this] {
        QApplication::clipboard()->setText(workerCommand());
        appendLog(tr("worker command copied to the clipboard"));
    });
    m_command->setObjectName(QStringLiteral("workerCommand"));
    m_command->setReadOnly(true);
    m_command->setFont(mono);
    m_command->setToolTip(tr("The command that starts a worker for this coordinator (on another machine: "
                             "its host name, its own key pair, this coordinator's .pub file)"));
    auto *connectBox = new QGroupBox(tr("Workers connect with"));
    auto *connectLayout = new QFormLayout(connectBox);
    connectLayout->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    connectLayout->addRow(tr("Public key:"), fileRow(m_keyView, m_copyKey));
    connectLayout->addRow(tr("Command:"), m_command);
    connectLayout->addRow(m_copyCommand);

    // Run options.
    m_minWorkers->setObjectName(QStringLiteral("minWorkersBox"));
    m_minWorkers->setRange(1, 1024);
    m_minWorkers->setValue(1);
    m_minWorkers->setToolTip(tr("The first round waits until this many workers are ready (--min-workers)"));
    m_fallback->setObjectName(QStringLiteral("fallbackBox"));
    m_fallback->setToolTip(tr("With no worker ready this long, the clients train on this machine "
                              "(--fallback-local); otherwise the run waits for workers"));
    m_fallbackSeconds->setObjectName(QStringLiteral("fallbackSecondsBox"));
    m_fallbackSeconds->setRange(0, 86400);
    m_fallbackSeconds->setDecimals(0);
    m_fallbackSeconds->setValue(30);
    m_fallbackSeconds->setSuffix(tr(" s"));
    connect(m_fallback, &QCheckBox::toggled, m_fallbackSeconds, &QWidget::setEnabled);
    m_fallbackSeconds->setEnabled(false);
    auto *runBox = new QGroupBox(tr("Runs on workers"));
    auto *runForm = new QFormLayout(runBox);
    runForm->addRow(tr("Wait for:"), m_minWorkers);
    m_minWorkers->setSuffix(tr(" ready worker(s)"));
    auto *fallbackRow = new QHBoxLayout;
    fallbackRow->addWidget(m_fallback);
    fallbackRow->addWidget(m_fallbackSeconds);
    fallbackRow->addStretch(1);
    runForm->addRow(fallbackRow);

    // Two columns of settings beside the table: a wide, short dock at the bottom of the window.
    auto *listenColumn = new QWidget;
    auto *listenLayout = new QVBoxLayout(listenColumn);
    listenLayout->setContentsMargins(0, 0, 0, 0);
    listenLayout->addWidget(listenBox);
    listenLayout->addStretch(1);
    auto *connectColumn = new QWidget;
    auto *connectColumnLayout = new QVBoxLayout(connectColumn);
    connectColumnLayout->setContentsMargins(0, 0, 0, 0);
    connectColumnLayout->addWidget(connectBox);
    connectColumnLayout->addWidget(runBox);
    connectColumnLayout->addStretch(1);

    // The workers.
    m_summary->setObjectName(QStringLiteral("workersSummary"));
    m_table->setObjectName(QStringLiteral("workersTable"));
    m_table->setModel(m_model);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8); // compact rows
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    connect(m_model, &WorkersModel::refreshed, this, &WorkersPanel::updateSummary);
    auto *tableBox = new QWidget;
    auto *tableLayout = new QVBoxLayout(tableBox);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    tableLayout->setSpacing(2);
    tableLayout->addWidget(m_summary);
    tableLayout->addWidget(m_table, 1);

    m_log->setObjectName(QStringLiteral("workersLog"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setFont(mono);
    m_log->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_log->setPlaceholderText(tr("Workers joining, leaving and refused, and the run's waiting messages "
                                 "appear here"));
    // The log follows its newest line, also when the dock is resized, unless the user scrolled up.
    QScrollBar *logBar = m_log->verticalScrollBar();
    connect(logBar, &QAbstractSlider::valueChanged, this,
            [this, logBar](int value) { m_logFollows = value >= logBar->maximum(); });
    connect(logBar, &QAbstractSlider::rangeChanged, this, [this] {
        if (m_logFollows) showNewestLogLine();
    });
    auto *logBox = new QWidget;
    auto *logLayout = new QVBoxLayout(logBox);
    logLayout->setContentsMargins(0, 0, 0, 0);
    logLayout->setSpacing(2);
    logLayout->addWidget(new QLabel(tr("<b>Events</b>")));
    logLayout->addWidget(m_log, 1);

    auto *right = new QSplitter(Qt::Vertical);
    right->addWidget(tableBox);
    right->addWidget(logBox);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 2);
    right->setSizes({170, 100});
    auto *split = new QSplitter(Qt::Horizontal);
    split->addWidget(listenColumn);
    split->addWidget(connectColumn);
    split->addWidget(right);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 0);
    split->setStretchFactor(2, 1);
    split->setSizes({300, 300, 680});
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(split);

    if (m_controller) {
        connect(m_controller, &RunController::executorMessage, this, &WorkersPanel::appendLog);
        connect(m_controller, &RunController::started, this, [this](qint64 runId) {
            if (m_controller->runIsRemote())
                appendLog(runId >= 0 ? tr("run #%1 trains on the workers").arg(runId)
                                     : tr("a run trains on the workers"));
        });
        // Besides the timer, the table follows the run's rounds (tasks done) at once.
        connect(m_controller, &RunController::roundFinished, m_model, &WorkersModel::refresh);
        connect(m_controller, &RunController::finished, this, [this] {
            m_model->refresh();
            updateState();
        });
    }
    updateState();
    updateSummary();
}

WorkersPanel::~WorkersPanel() {
    disconnect(m_model, nullptr, this, nullptr); // no summary while it goes
    if (m_relay) m_relay->detach();
    m_model->setPool(nullptr);
    if (m_selector && !m_selector->parent()) delete m_selector; // never placed in a toolbar
}

WorkersPanel::Execution WorkersPanel::execution() const {
    return m_execution ? Execution(m_execution->currentData().toInt()) : Local;
}

void WorkersPanel::setExecution(Execution execution) {
    if (m_execution) m_execution->setCurrentIndex(m_execution->findData(int(execution)));
}

QString WorkersPanel::browse(const QString &title, const QString &filter, const QString &current) {
    return QFileDialog::getOpenFileName(this, title, current, filter);
}

bool WorkersPanel::startListening(QString *error) {
    if (isListening()) return true;
    remote::ListenSettings settings;
    settings.bind = m_bind->text().trimmed();
    settings.insecure = m_insecure->isChecked();
    if (!settings.insecure) {
        settings.keyFile = m_key->text().trimmed();
        settings.allowFile = m_allow->text().trimmed();
    }
    QString problem;
    if (settings.bind.isEmpty())
        problem = tr("Give the address workers connect to, e.g. tcp://0.0.0.0:5555");
    else if (!settings.insecure && settings.keyFile.isEmpty() && settings.allowFile.isEmpty())
        problem = tr("Give this coordinator's key pair and the allow-list of workers (fedwb-cli keys "
                     "generate), or choose plaintext on this machine only");
    remote::Listening listening;
    if (problem.isEmpty()) {
        listening = remote::listen(settings);
        for (const QString &warning : std::as_const(listening.warnings))
            appendLog(warning);
        if (!listening.pool) problem = tr("Cannot listen: %1").arg(listening.error);
    }
    if (!problem.isEmpty()) {
        showProblem(problem);
        appendLog(problem);
        if (error) *error = problem;
        return false;
    }
    m_pool = std::move(listening.pool);
    m_publicKey = listening.publicKey;
    m_keyFile = settings.keyFile;
    m_relay = std::make_shared<LogRelay>();
    m_relay->panel = this;
    m_pool->setLogger([relay = m_relay](const QString &line) { relay->post(line); });
    m_model->setPool(m_pool);
    appendLog(tr("listening on %1 (%2)")
                  .arg(m_pool->endpoint(), m_pool->encrypted() ? tr("CurveZMQ") : tr("plaintext")));
    updateState();
    Q_EMIT listeningChanged(true);
    return true;
}

bool WorkersPanel::stopListening(QString *error) {
    if (!isListening()) return true;
    if (m_controller && m_controller->runIsRemote()) {
        const QString problem = tr("A run trains on these workers: stop it before the coordinator stops "
                                   "listening");
        showProblem(problem);
        if (error) *error = problem;
        return false;
    }
    const QString was = m_pool->endpoint();
    m_relay->detach();
    m_relay.reset();
    m_model->setPool(nullptr);
    m_pool.reset(); // unbinds; the workers reconnect when it listens again
    m_publicKey.clear();
    appendLog(tr("stopped listening on %1").arg(was));
    updateState();
    Q_EMIT listeningChanged(false);
    return true;
}

QString WorkersPanel::endpoint() const {
    return m_pool ? m_pool->endpoint() : QString();
}

QString WorkersPanel::workerCommand() const {
    if (!m_pool) return {};
    // A wildcard address is where this machine listens, not one a worker can connect to: its host name.
    QString at = m_pool->endpoint();
    static const QRegularExpression wildcard(
        QStringLiteral("^tcp://(0\\.0\\.0\\.0|\\*|\\[::\\]|\\[\\*\\]):"));
    at.replace(wildcard, QStringLiteral("tcp://%1:").arg(QSysInfo::machineHostName()));
    QStringList args{QStringLiteral("fedwb-worker"), QStringLiteral("--connect"), at};
    if (m_pool->encrypted()) {
        const QString pub = remote::publicKeyFileOf(m_keyFile);
        args << QStringLiteral("--server-key") << (pub.isEmpty() ? QStringLiteral("coordinator.pub") : pub)
             << QStringLiteral("--key") << QStringLiteral("worker.key");
    } else {
        args << QStringLiteral("--insecure");
    }
    QStringList quoted;
    for (const QString &a : std::as_const(args))
        quoted << shellQuoted(a);
    return quoted.join(QLatin1Char(' '));
}

bool WorkersPanel::prepareRun(QString *error) {
    if (!m_controller) return false;
    if (execution() == Local) {
        m_controller->setRemoteExecution(nullptr, {});
        return true;
    }
    if (!m_pool) {
        if (error)
            *error = tr("The run trains on workers, but the coordinator is not listening: start it in the "
                        "Workers panel (View ▸ Workers), or train on this machine");
        return false;
    }
    remote::RemoteOptions options;
    options.minWorkers = m_minWorkers->value();
    options.fallbackAfterSeconds = m_fallback->isChecked() ? m_fallbackSeconds->value() : -1;
    m_controller->setRemoteExecution(m_pool, options);
    return true;
}

QString WorkersPanel::logText() const {
    return m_log->toPlainText();
}

void WorkersPanel::appendLog(const QString &line) {
    const bool follows = m_logFollows;
    m_log->appendPlainText(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss ")) + line);
    if (follows) showNewestLogLine();
}

void WorkersPanel::poolEvent(const QString &line) {
    appendLog(line);
    m_model->refresh(); // a worker joined, left, became ready or was refused: the table shows it now
}

void WorkersPanel::showNewestLogLine() {
    // Through the cursor, once laid out: the scroll range of wrapped lines is an estimate.
    QTimer::singleShot(0, m_log, [this] {
        m_log->moveCursor(QTextCursor::End);
        m_log->ensureCursorVisible();
        m_logFollows = true;
    });
}

void WorkersPanel::showProblem(const QString &text) {
    m_state->setText(QStringLiteral("<span style='color:#c62828'>%1</span>").arg(text.toHtmlEscaped()));
}

void WorkersPanel::updateState() {
    const bool listening = isListening();
    const bool plaintext = m_insecure->isChecked();
    for (QWidget *w : {static_cast<QWidget *>(m_bind), static_cast<QWidget *>(m_insecure)})
        w->setEnabled(!listening);
    for (QWidget *w : {static_cast<QWidget *>(m_key), static_cast<QWidget *>(m_allow),
                       static_cast<QWidget *>(m_browseKey), static_cast<QWidget *>(m_browseAllow)})
        w->setEnabled(!listening && !plaintext);
    m_listenButton->setText(listening ? tr("Stop listening") : tr("Start listening"));
    if (listening)
        m_state->setText(tr("Listening on <b>%1</b> (%2)")
                             .arg(m_pool->endpoint().toHtmlEscaped(),
                                  m_pool->encrypted() ? tr("CurveZMQ") : tr("plaintext, this machine only")));
    else
        m_state->setText(tr("Not listening"));
    m_keyView->setText(
        listening ? (m_publicKey.isEmpty() ? tr("none (plaintext)") : QString::fromLatin1(m_publicKey))
                  : QString());
    m_keyView->setCursorPosition(0);
    m_copyKey->setEnabled(listening && !m_publicKey.isEmpty());
    m_copyCommand->setEnabled(listening);
    m_command->setText(listening ? workerCommand() : QString());
    m_command->setPlaceholderText(tr("fedwb-worker --connect … (once it listens)"));
    m_command->setCursorPosition(0);
}

void WorkersPanel::updateSummary() {
    const int connected = m_model->connectedCount(), ready = m_model->readyCount();
    QString text = isListening() ? tr("<b>Workers</b> · %1 connected, %2 ready").arg(connected).arg(ready)
                                 : tr("<b>Workers</b> · not listening");
    if (execution() == Remote) text += tr(" · the next run trains on them");
    m_summary->setText(text);
}

} // namespace fedwb
