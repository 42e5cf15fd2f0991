#include "runs/RunsModel.h"

#include "metrics/Comparison.h"

#include <QColor>
#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace fedwb {

namespace {

QString durationText(double seconds) {
    if (seconds < 60) return QStringLiteral("%1 s").arg(seconds, 0, 'f', 1);
    if (seconds < 3600) return QStringLiteral("%1 min").arg(seconds / 60, 0, 'f', 1);
    return QStringLiteral("%1 h").arg(seconds / 3600, 0, 'f', 1);
}

} // namespace

QColor runStatusColour(RunStatus s) {
    switch (s) {
    case RunStatus::Finished:
    case RunStatus::BudgetSpent:
        return QColor(0x1e, 0x7b, 0x34);
    case RunStatus::Running:
        return QColor(0x1f, 0x5f, 0xb4);
    case RunStatus::Stopped:
        return QColor(0xa8, 0x62, 0x00);
    case RunStatus::Failed:
    case RunStatus::Interrupted:
    case RunStatus::Diverged:
        return QColor(0xb3, 0x26, 0x1e);
    case RunStatus::Pending:
        break;
    }
    return {};
}

RunsModel::RunsModel(QObject *parent)
    : QAbstractTableModel(parent) {}

bool RunsModel::reload(const RunStore &store) {
    beginResetModel();
    m_runs = store.runs();
    bool ok = store.lastError().isEmpty();
    m_best = store.bestAccuracies();
    ok = ok && store.lastError().isEmpty();
    std::sort(m_runs.begin(), m_runs.end(),
              [](const StoredRun &a, const StoredRun &b) { return a.id > b.id; });
    QList<QJsonObject> specs;
    for (const StoredRun &r : std::as_const(m_runs))
        specs.append(r.spec);
    m_settings = differingKeys(specs);
    m_settings.removeAll(QStringLiteral("run.threads")); // never changes a result
    // The first keys users vary most; run.seed last (it differs between every repeat).
    if (m_settings.removeAll(QStringLiteral("run.seed")) > 0) m_settings.append(QStringLiteral("run.seed"));
    if (m_settings.size() > kMaxSettingColumns) m_settings = m_settings.mid(0, kMaxSettingColumns);
    endResetModel();
    return ok;
}

void RunsModel::clear() {
    beginResetModel();
    m_runs.clear();
    m_best.clear();
    m_settings.clear();
    endResetModel();
}

int RunsModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : int(m_runs.size());
}

int RunsModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : FixedColumns + int(m_settings.size());
}

int RunsModel::rowOf(qint64 runId) const {
    for (qsizetype i = 0; i < m_runs.size(); ++i)
        if (m_runs[i].id == runId) return int(i);
    return -1;
}

QVariant RunsModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_runs.size()) return {};
    const StoredRun &r = m_runs[index.row()];
    const int c = index.column();
    if (role == kRunIdRole) return r.id;
    const auto found = m_best.constFind(r.id);
    const bool hasBest = found != m_best.constEnd();
    const double best = hasBest ? *found : -1.0;
    if (role == kSortRole) {
        switch (c) {
        case Id:
            return r.id;
        case Rounds:
            return r.roundsDone;
        case FinalAccuracy:
            return r.finalTestAccuracy.value_or(-1);
        case BestAccuracy:
            return best;
        case Started:
            return r.startedAt;
        case Duration:
            return r.wallSeconds;
        default:
            return data(index, Qt::DisplayRole);
        }
    }
    if (role == Qt::TextAlignmentRole) {
        if (c == Id || c == Rounds || c == FinalAccuracy || c == BestAccuracy || c == Duration)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    if (role == Qt::ForegroundRole && c == Status) return runStatusColour(r.status);
    if (role == Qt::ToolTipRole) {
        QString tip = QStringLiteral("<b>%1</b><br>%2")
                          .arg(r.name.toHtmlEscaped(), QDir::toNativeSeparators(r.workspace).toHtmlEscaped());
        tip += QStringLiteral("<br>") + tr("started %1").arg(r.startedAt.toLocalTime().toString(Qt::ISODate));
        if (!r.tags.isEmpty())
            tip += QStringLiteral("<br>") +
                   tr("tags: %1").arg(r.tags.join(QStringLiteral(", ")).toHtmlEscaped());
        if (!r.sweepId.isEmpty())
            tip += QStringLiteral("<br>") + tr("sweep %1").arg(r.sweepId.toHtmlEscaped());
        if (!r.notes.isEmpty())
            tip += QStringLiteral("<br><i>%1</i>")
                       .arg(r.notes.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>")));
        if (!r.message.isEmpty()) tip += QStringLiteral("<br>") + r.message.toHtmlEscaped();
        return tip;
    }
    if (role != Qt::DisplayRole) return {};
    switch (c) {
    case Id:
        return QString::number(r.id);
    case Name:
        return r.name;
    case Status:
        return runStatusName(r.status);
    case Rounds:
        return QStringLiteral("%1 / %2").arg(r.roundsDone).arg(r.roundsPlanned);
    case FinalAccuracy:
        return r.finalTestAccuracy ? QString::number(*r.finalTestAccuracy, 'f', 4) : QStringLiteral("—");
    case BestAccuracy:
        return hasBest ? QString::number(best, 'f', 4) : QStringLiteral("—");
    case Started:
        return r.startedAt.toLocalTime().toString(QStringLiteral("d MMM hh:mm"));
    case Duration:
        return durationText(r.wallSeconds);
    case Workspace:
        return QFileInfo(r.workspace).fileName();
    case Tags:
        return r.tags.join(QStringLiteral(", "));
    default:
        if (c - FixedColumns < m_settings.size()) return specValueText(r.spec, m_settings[c - FixedColumns]);
        return {};
    }
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    if (role == Qt::TextAlignmentRole && (section == Id || section == Rounds || section == FinalAccuracy ||
                                          section == BestAccuracy || section == Duration))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && section >= FixedColumns)
        return tr("%1: a setting that differs between the listed runs")
            .arg(m_settings.value(section - FixedColumns));
    if (role != Qt::DisplayRole) return {};
    switch (section) {
    case Id:
        return tr("#");
    case Name:
        return tr("Name");
    case Status:
        return tr("Status");
    case Rounds:
        return tr("Rounds");
    case FinalAccuracy:
        return tr("Accuracy");
    case BestAccuracy:
        return tr("Best");
    case Started:
        return tr("Started");
    case Duration:
        return tr("Duration");
    case Workspace:
        return tr("Workspace");
    case Tags:
        return tr("Tags");
    default:
        return m_settings.value(section - FixedColumns);
    }
}

RunsFilterModel::RunsFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent) {
    setSortRole(RunsModel::kSortRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
}

void RunsFilterModel::setFilterText(const QString &text) {
    m_text = text.trimmed();
    invalidateFilter();
}

bool RunsFilterModel::filterAcceptsRow(int row, const QModelIndex &parent) const {
    const QString &needle = m_text;
    if (needle.isEmpty()) return true;
    const QAbstractItemModel *m = sourceModel();
    for (int c = 0; c < m->columnCount(parent); ++c)
        if (m->index(row, c, parent).data().toString().contains(needle, Qt::CaseInsensitive)) return true;
    return false;
}

} // namespace fedwb
