// The Run tab: a run's header, metric cards, live accuracy/loss chart and per-round table, beside the
// settings of the run shown (its own stored spec, read-only, with "Open as new workspace").
#pragma once

#include "run/RunTypes.h"
#include "store/RunStore.h"

#include <QJsonObject>
#include <QWidget>

class QLabel;
class QPushButton;
class QTableView;

namespace fedwb {

class LiveChart;
class RoundTableModel;
class SpecTree;

class RunView : public QWidget {
    Q_OBJECT

public:
    explicit RunView(QWidget *parent = nullptr);

    // Empties the cards, the chart and the table (the header and the settings stay).
    void clear(const QString &placeholder = {});
    void setHeader(const QString &html);
    QString headerText() const;
    // The planned rounds shown in the Round card ("3 / 20").
    void setTotalRounds(int rounds);
    // A stored run: its rounds, a header with its status, and its own settings beside them.
    void showStoredRun(const StoredRun &run, const QList<RoundMetrics> &rounds, const QString &resumeHint);
    // The settings panel: `spec` is the run's (validated) spec; empty hides the panel.
    void setRunSpec(const QJsonObject &spec, const QString &title);
    // A round of the live run (ignored when not after the last one shown).
    void addRound(const RoundMetrics &metrics);
    int lastShownRound() const { return m_lastShownRound; }

    LiveChart *chart() const { return m_chart; }
    SpecTree *specTree() const { return m_specTree; }

Q_SIGNALS:
    // "Open as new workspace" on the settings of the run shown.
    void openSpecAsWorkspace(const QJsonObject &spec, const QString &name);

private:
    void showRoundValues(const RoundMetrics &metrics);

    QLabel *m_header = nullptr;
    LiveChart *m_chart = nullptr;
    QTableView *m_roundTable = nullptr;
    RoundTableModel *m_roundModel = nullptr;
    QLabel *m_valRound = nullptr, *m_valAccuracy = nullptr, *m_valTestLoss = nullptr,
           *m_valTrainLoss = nullptr, *m_valFairMean = nullptr, *m_valFairWorst = nullptr,
           *m_valFairJain = nullptr, *m_valWall = nullptr;
    QWidget *m_specPanel = nullptr;
    QLabel *m_specTitle = nullptr;
    SpecTree *m_specTree = nullptr;
    QPushButton *m_openSpec = nullptr;
    QJsonObject m_spec;
    QString m_specName;
    int m_totalRounds = 0;
    int m_lastShownRound = 0;
};

// "42 s", "3:07", "1:02:03"
QString formatDuration(double seconds);

} // namespace fedwb
