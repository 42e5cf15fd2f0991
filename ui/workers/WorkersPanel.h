// The Workers panel: the coordinator's side of remote execution in the GUI. Start and stop listening (bind
// address, key pair, allow-list, or plaintext on this machine only: the rules of fedwb-cli's --bind, checked
// by the same engine code), the address and public key workers connect with and the exact fedwb-worker
// command line, the table of connected workers (WorkersModel), a log of the pool's events, and the run
// options (how many workers the first round waits for, training on this machine when none is left).
// The execution selector (this machine or the workers) goes into the main window's toolbar; prepareRun()
// sets the RunController up accordingly before every run.
#pragma once

#include "remote/WorkerPool.h"

#include <QComboBox>
#include <QPointer>
#include <QString>
#include <QWidget>

#include <memory>

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableView;

namespace fedwb {

class RunController;
class WorkersModel;

class WorkersPanel : public QWidget {
    Q_OBJECT

public:
    enum Execution { Local, Remote };

    explicit WorkersPanel(RunController *controller, QWidget *parent = nullptr);
    ~WorkersPanel() override; // stops listening

    // "Clients train on: [this machine | workers]", for the toolbar (owned by this panel).
    QWidget *executionSelector() const { return m_selector; }
    Execution execution() const;
    void setExecution(Execution execution);

    // Binds with the settings in the panel's fields. False (and *error, also shown in the panel) when the
    // settings are refused or the address cannot be bound.
    bool startListening(QString *error = nullptr);
    // Unbinds (the workers reconnect on their own when it listens again). False (and *error) while a run
    // trains on the workers.
    bool stopListening(QString *error = nullptr);
    bool isListening() const { return m_pool != nullptr; }
    QString endpoint() const;                            // as bound; empty when not listening
    QByteArray publicKey() const { return m_publicKey; } // Z85; empty for plaintext
    QString workerCommand() const; // the fedwb-worker line for this coordinator; empty when not listening

    // Before a run starts: the controller set to train on this machine or on the pool's workers. False (and
    // why, to show) when the workers are chosen but nothing listens.
    bool prepareRun(QString *error);

    WorkersModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QString logText() const;
    void appendLog(const QString &line); // time-stamped

    // The settings fields (tests and the screenshot).
    QLineEdit *bindEdit() const { return m_bind; }
    QLineEdit *keyEdit() const { return m_key; }
    QLineEdit *allowEdit() const { return m_allow; }
    QCheckBox *insecureBox() const { return m_insecure; }
    QSpinBox *minWorkersBox() const { return m_minWorkers; }
    QCheckBox *fallbackBox() const { return m_fallback; }
    QDoubleSpinBox *fallbackSecondsBox() const { return m_fallbackSeconds; }
    QPushButton *listenButton() const { return m_listenButton; }
    QPushButton *copyCommandButton() const { return m_copyCommand; }

Q_SIGNALS:
    void executionChanged(fedwb::WorkersPanel::Execution execution);
    void listeningChanged(bool listening);

private:
    struct LogRelay;
    void updateState();
    void updateSummary();
    void showProblem(const QString &text);
    void showNewestLogLine();
    void poolEvent(const QString &line); // from the pool's logger (queued to this thread)
    QString browse(const QString &title, const QString &filter, const QString &current);

    RunController *m_controller;
    std::shared_ptr<remote::WorkerPool> m_pool;
    std::shared_ptr<LogRelay> m_relay;
    QByteArray m_publicKey;
    QString m_keyFile;

    // In the toolbar, which may be destroyed before this panel.
    QPointer<QWidget> m_selector;
    QPointer<QComboBox> m_execution;
    QLineEdit *m_bind, *m_key, *m_allow;
    QPushButton *m_browseKey, *m_browseAllow;
    QCheckBox *m_insecure;
    QPushButton *m_listenButton;
    QLabel *m_state;
    QLineEdit *m_keyView;
    QPushButton *m_copyKey, *m_copyCommand;
    QLineEdit *m_command;
    QSpinBox *m_minWorkers;
    QCheckBox *m_fallback;
    QDoubleSpinBox *m_fallbackSeconds;
    QLabel *m_summary;
    WorkersModel *m_model;
    QTableView *m_table;
    QPlainTextEdit *m_log;
    bool m_logFollows = true; // at its newest line (the user did not scroll up)
};

} // namespace fedwb
