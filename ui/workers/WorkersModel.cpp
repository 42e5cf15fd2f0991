#include "workers/WorkersModel.h"

#include <QColor>
#include <QGuiApplication>
#include <QPalette>

namespace fedwb {

namespace {

QString seconds(double s) {
    return s < 10 ? WorkersModel::tr("%1 s").arg(s, 0, 'f', 1) : WorkersModel::tr("%1 s").arg(qint64(s));
}

// "avx2 · Haswell" of "aten avx2, openblas Haswell, 1 intra-op thread" (the tooltip has it all).
QString kernelText(const remote::WorkerInfo &w) {
    QStringList parts;
    for (const QString &part : w.kernel.split(QStringLiteral(", "))) {
        if (part.startsWith(QLatin1String("aten "))) parts << part.mid(5);
        if (part.startsWith(QLatin1String("openblas "))) parts << part.mid(9);
    }
    const QString text = parts.isEmpty() ? w.kernel : parts.join(QStringLiteral(" · "));
    return w.portable ? WorkersModel::tr("portable (%1)").arg(text) : text;
}

} // namespace

WorkersModel::WorkersModel(QObject *parent)
    : QAbstractTableModel(parent) {
    m_timer.setInterval(kRefreshMs);
    connect(&m_timer, &QTimer::timeout, this, &WorkersModel::refresh);
}

void WorkersModel::setPool(std::shared_ptr<const remote::WorkerPool> pool) {
    m_pool = std::move(pool);
    if (m_pool)
        m_timer.start();
    else
        m_timer.stop();
    refresh();
}

void WorkersModel::refresh() {
    setSnapshot(m_pool ? m_pool->snapshot() : remote::PoolSnapshot());
}

void WorkersModel::setSnapshot(const remote::PoolSnapshot &snapshot) {
    std::vector<remote::WorkerInfo> rows = snapshot.workers;
    rows.insert(rows.end(), snapshot.departed.begin(), snapshot.departed.end());
    // The same workers in the same places: the cells change, the rows (and the selection) stay.
    bool same = rows.size() == m_rows.size() && snapshot.workers.size() == m_connected;
    for (std::size_t i = 0; same && i < rows.size(); ++i)
        same = rows[i].name == m_rows[i].name;
    if (!same) beginResetModel();
    m_rows = std::move(rows);
    m_connected = snapshot.workers.size();
    m_ready = snapshot.readyWorkers;
    if (!same)
        endResetModel();
    else if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
    Q_EMIT refreshed();
}

QString WorkersModel::statusOf(const remote::WorkerInfo &w) {
    if (w.state == QLatin1String("ready")) return w.inFlight > 0 ? tr("busy") : tr("ready");
    if (w.state == QLatin1String("preparing")) return tr("preparing");
    if (w.state == QLatin1String("joined")) return tr("connected");
    if (w.state == QLatin1String("refused")) return tr("refused");
    if (w.state == QLatin1String("left")) return tr("left");
    if (w.state == QLatin1String("lost")) return tr("lost");
    return w.state;
}

int WorkersModel::rowOf(const QString &name) const {
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].name == name) return int(i);
    return -1;
}

int WorkersModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int WorkersModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant WorkersModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= int(m_rows.size())) return {};
    const remote::WorkerInfo &w = m_rows[std::size_t(index.row())];
    const bool departed = isDeparted(index.row());
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Name:
            return w.name;
        case Status:
            return statusOf(w);
        case Address:
            return w.address.isEmpty() ? QStringLiteral("—") : w.address;
        case Heartbeat:
            return departed ? tr("%1 ago").arg(seconds(w.heartbeatAgeSeconds))
                            : seconds(w.heartbeatAgeSeconds);
        case Device:
            return w.device;
        case Threads:
            return w.threads;
        case Kernel:
            return kernelText(w);
        case Done:
            return w.tasksDone;
        case InFlight:
            return departed ? QVariant(QStringLiteral("—")) : QVariant(w.inFlight);
        case Rate:
            return w.tasksPerSecond > 0 ? tr("%1/s").arg(w.tasksPerSecond, 0, 'f', 2) : QStringLiteral("—");
        }
        return {};
    }
    if (role == Qt::ToolTipRole) {
        switch (index.column()) {
        case Status:
            return w.note.isEmpty() ? statusOf(w) : tr("%1: %2").arg(statusOf(w), w.note);
        case Heartbeat:
            return departed ? tr("Last heard from %1 ago").arg(seconds(w.heartbeatAgeSeconds))
                            : tr("Time since its last message (heartbeats come every second)");
        case Kernel:
            return tr("Kernel settings: %1%2")
                .arg(w.kernel, w.portable ? tr(" (portable mode, fedwb-worker --portable)") : QString());
        case Rate:
            return tr("Client tasks per second, measured over its recent tasks (with all its threads)");
        default:
            return tr("%1, build %2").arg(w.name, w.build);
        }
    }
    if (role == Qt::TextAlignmentRole) {
        switch (index.column()) {
        case Heartbeat:
        case Threads:
        case Done:
        case InFlight:
        case Rate:
            return int(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return int(Qt::AlignLeft | Qt::AlignVCenter);
        }
    }
    if (role == Qt::ForegroundRole && departed)
        return QGuiApplication::palette().color(QPalette::Disabled, QPalette::Text);
    if (role == Qt::DecorationRole && index.column() == Status) {
        const QString s = w.state;
        if (s == QLatin1String("ready"))
            return w.inFlight > 0 ? QColor(0x00, 0x72, 0xB2) : QColor(0x1e, 0x8e, 0x3e);
        if (s == QLatin1String("preparing")) return QColor(0xE6, 0x9F, 0x00);
        if (s == QLatin1String("refused") || s == QLatin1String("lost")) return QColor(0xc6, 0x28, 0x28);
        return QColor(0x9e, 0x9e, 0x9e); // connected, left
    }
    return {};
}

QVariant WorkersModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Name:
        return tr("Worker");
    case Status:
        return tr("Status");
    case Address:
        return tr("Address");
    case Heartbeat:
        return tr("Heartbeat");
    case Device:
        return tr("Device");
    case Threads:
        return tr("Threads");
    case Kernel:
        return tr("Kernel");
    case Done:
        return tr("Tasks done");
    case InFlight:
        return tr("In flight");
    case Rate:
        return tr("Throughput");
    }
    return {};
}

} // namespace fedwb
