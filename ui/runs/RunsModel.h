// The runs of a store as a table model: id, name, status, rounds, final and best accuracy, start, duration,
// workspace, tags, and (as extra columns) the settings that differ between the listed runs, so runs that
// look alike by name are told apart. A proxy filters on any shown text.
#pragma once

#include "store/RunStore.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QHash>
#include <QList>
#include <QSortFilterProxyModel>
#include <QStringList>

namespace fedwb {

// The colour a run's status is shown in (green finished, blue running, amber stopped, red failed).
QColor runStatusColour(RunStatus status);

class RunsModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        Id,
        Name,
        Status,
        Rounds,
        FinalAccuracy,
        BestAccuracy,
        Started,
        Duration,
        Workspace,
        Tags,
        FixedColumns
    };
    static constexpr int kRunIdRole = Qt::UserRole + 1;
    static constexpr int kSortRole = Qt::UserRole + 2;
    static constexpr int kMaxSettingColumns = 6;

    explicit RunsModel(QObject *parent = nullptr);

    // Re-reads the runs (newest first) from `store`; false with store.lastError() on a read failure.
    bool reload(const RunStore &store);
    void clear();

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    const StoredRun &runAt(int row) const { return m_runs[row]; }
    int rowOf(qint64 runId) const;                                   // -1 when not listed
    const QStringList &settingColumns() const { return m_settings; } // "section.key" of the extra columns

private:
    QList<StoredRun> m_runs;
    QHash<qint64, double> m_best;
    QStringList m_settings;
};

// Keeps the rows any of whose shown texts contain the filter (case-insensitive), sorts by kSortRole.
class RunsFilterModel : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit RunsFilterModel(QObject *parent = nullptr);
    void setFilterText(const QString &text); // plain text, not a pattern
    QString filterText() const { return m_text; }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override;

private:
    QString m_text;
};

} // namespace fedwb
