// The designer's partition preview and data pre-flight: one stacked bar per client (its label counts, train +
// test), a strip under each bar in its group's colour (the canvas's groupColour()), a header with the
// dataset, the sizes and how non-IID the split is, and a legend of the classes.
//
// It watches a FederationModel. When the validated workspace's dataset, partition or clients.count/groups
// change (unrelated edits such as training.lr are ignored), or a workspace is opened (reset), it waits
// kDebounceMs and then runs summarizePartition() — the same dataset loading and partitioning a run does — on
// a worker thread it owns: never on the GUI thread, one computation at a time, the latest request wins and a
// result of an older request is discarded. While it computes the old bars stay, with a subtle "updating…".
//
// The same computation is the data pre-flight: when it fails (dataset missing or unreadable, partition
// impossible) the preview shows the message with its key path instead of bars, and preflightChanged()
// tells the window (disable Run, with the reason) and the inspector (mark the field).
#pragma once

#include "run/Experiment.h"
#include "spec/FederationSpec.h"

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QVector>
#include <QWidget>

#include <memory>
#include <optional>

class QThread;
class QTimer;
class QToolButton;

namespace fedwb {

class FederationModel;

class PartitionPreview : public QWidget {
    Q_OBJECT

public:
    static constexpr int kDebounceMs = 60;

    explicit PartitionPreview(FederationModel *model, QWidget *parent = nullptr);
    ~PartitionPreview() override; // waits for a computation in flight (at most one)

    // ---- What is shown
    // The partition of the last applied result; null before the first one and while the pre-flight fails.
    const PartitionSummary *summary() const { return m_summary ? &*m_summary : nullptr; }
    // A request waits for its debounce or a computation runs.
    bool isComputing() const;
    // Computations handed to the worker since construction (diagnostics and tests: an unrelated edit does
    // not add one; a burst of edits adds few).
    int computationsStarted() const { return m_started; }
    // The validated workspace is invalid now: the bars are those of the last valid one.
    bool showsStaleWorkspace() const { return m_invalidWorkspace; }

    // ---- The data pre-flight (the last finished computation for the current workspace)
    // True before the first result and when the dataset loads and the partition can be made.
    bool preflightOk() const { return m_problemMessage.isEmpty(); }
    // "path: message" ("dataset.path: '/x' is not a folder …"); empty when the pre-flight passed.
    QString preflightProblem() const;
    QString preflightPath() const { return m_problemPath; } // the key to change ("partition.min_samples")

    // ---- For the canvas's group glyphs
    // Per client group (by name): the mean over the group's clients of each client's label shares
    // (histogram / client total; every client counts equally), one entry per class, summing to 1. Empty
    // while summary() is null; a group without clients maps to an empty vector.
    QHash<QString, QVector<double>> groupLabelShares() const;

    // ---- The non-IID measures shown in the header (static: tests and other views use them)
    // Mean over clients of the total-variation distance between the client's label shares and the label mix
    // of all clients' samples: 0.5 * sum_k |p_ck - q_k|. 0 = every client has the global mix (IID); near 1 =
    // clients hold disjoint classes. Clients without samples are skipped; NaN when none has any.
    static double meanLabelDistance(const PartitionSummary &summary);
    // Mean over clients of the fewest classes holding at least 90% of the client's samples.
    static double meanClassesFor90Percent(const PartitionSummary &summary);

    // ---- Drawing order and export
    void setSortBySize(bool bySize); // bars by total size (largest first) instead of by client id
    bool sortBySize() const { return m_sortBySize; }
    // Writes the chart (header, bars, legend; no buttons) as .png or .svg (by suffix; .pdf works too): false
    // with *error when the file cannot be written. The SVG is drawn as vectors, not an embedded image.
    bool exportImage(const QString &path, QString *error = nullptr);

    // ---- Hover (the tooltip the chart shows over a bar)
    QWidget *chart() const;
    // Where client `clientId`'s bar is drawn, in chart() coordinates (empty when not shown).
    QRect barRect(int clientId) const;
    // The tooltip of client `clientId`: id, group, train/test samples, per-class counts (empty if unknown).
    QString clientToolTip(int clientId) const;

Q_SIGNALS:
    // After each applied result (a successful one or a failed pre-flight).
    void updated();
    // After every finished pre-flight for the current workspace. `path` is the key to change ("dataset.path",
    // "partition.min_samples"; may be empty for a failure outside the workspace), `message` the problem
    // without the path; both empty when ok.
    void preflightChanged(bool ok, const QString &path, const QString &message);
    void computingChanged(bool computing);

private:
    class Chart;
    class Worker;
    struct Result;
    friend class Chart;

    void onModelChanged(const QString &path);
    void onValidated();
    void request(bool force);
    void startLatest();
    void onResult(const std::shared_ptr<Result> &result);
    void setComputing(bool computing);
    void exportWithDialog(const QString &suffix);
    QString classLabel(int k) const;
    void updateOrder(); // m_order from the summary and the sort

    FederationModel *m_model;
    Chart *m_chart;
    QToolButton *m_sortButton;
    QTimer *m_debounce;
    QThread *m_thread;
    Worker *m_worker;

    // Requests: each gets the next generation; only the latest one's result is applied.
    quint64 m_generation = 0;                  // of the latest request
    quint64 m_runningGeneration = 0;           // of the computation on the worker (0: none)
    std::optional<FederationSpec> m_requested; // the spec of the latest request
    QByteArray m_requestedKey;                 // its dataset/partition/clients part
    bool m_forceNext = false;                  // the model was reset: recompute even an unchanged key
    int m_started = 0;
    bool m_computing = false;
    bool m_invalidWorkspace = false;

    // The applied result.
    std::optional<PartitionSummary> m_summary;
    std::optional<FederationSpec> m_shownSpec; // the spec it was computed for
    QStringList m_classNames;                  // from the dataset's facts (empty: "class k")
    QHash<QString, int> m_groupIndex;          // group name -> index in the spec's groups (colours)
    QVector<int> m_order;                      // index into summary clients of each bar, left to right
    QString m_problemPath, m_problemMessage;
    bool m_sortBySize = false;
};

} // namespace fedwb
