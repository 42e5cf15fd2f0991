// The workers of a coordinator's pool as a table: the connected ones (ready, busy, preparing, connected,
// refused) and the ones that recently left or were lost, with where they connected from, the age of their
// last heartbeat, device, threads, kernel settings, tasks done and in flight, and measured throughput.
// Refreshed from WorkerPool::snapshot() by a timer (the snapshot is taken under the pool's lock, so the GUI
// thread reads it while the pool's thread runs).
#pragma once

#include "remote/WorkerPool.h"

#include <QAbstractTableModel>
#include <QTimer>

#include <memory>
#include <vector>

namespace fedwb {

class WorkersModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        Name,
        Status,
        Heartbeat,
        Threads,
        Done,
        InFlight,
        Rate,
        Device,
        Address,
        Kernel,
        ColumnCount
    };
    static constexpr int kRefreshMs = 500;

    explicit WorkersModel(QObject *parent = nullptr);

    // The pool shown (null: none; the table empties). Refreshes at once and then every kRefreshMs.
    void setPool(std::shared_ptr<const remote::WorkerPool> pool);
    void refresh(); // reads the pool's snapshot now
    // Shows `snapshot` (tests; what refresh() does with the pool's).
    void setSnapshot(const remote::PoolSnapshot &snapshot);

    // The status shown for a worker: ready, busy (ready with tasks in flight), preparing, connected (no run
    // yet), refused, left or lost.
    static QString statusOf(const remote::WorkerInfo &w);
    const remote::WorkerInfo &worker(int row) const { return m_rows[std::size_t(row)]; }
    bool isDeparted(int row) const { return row >= int(m_connected); }
    int connectedCount() const { return int(m_connected); }
    int readyCount() const { return m_ready; }
    int rowOf(const QString &name) const; // the connected worker of that name, else a departed one, else -1

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

Q_SIGNALS:
    void refreshed(); // after every refresh (the panel's summary line follows it)

private:
    std::shared_ptr<const remote::WorkerPool> m_pool;
    std::vector<remote::WorkerInfo> m_rows; // connected first (by name), then departed (newest first)
    std::size_t m_connected = 0;
    int m_ready = 0;
    QTimer m_timer;
};

} // namespace fedwb
