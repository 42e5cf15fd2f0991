#include "runs/RunsBrowser.h"

#include "runs/RunsModel.h"
#include "store/RunStore.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QJsonDocument>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QSaveFile>
#include <QTreeView>
#include <QVBoxLayout>

namespace fedwb {

RunsBrowser::RunsBrowser(QWidget *parent)
    : QWidget(parent)
    , m_model(new RunsModel(this))
    , m_proxy(new RunsFilterModel(this))
    , m_filter(new QLineEdit)
    , m_view(new QTreeView) {
    m_proxy->setSourceModel(m_model);
    m_filter->setObjectName(QStringLiteral("runsFilter"));
    m_filter->setPlaceholderText(tr("Filter runs (name, status, tag, setting…)"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &RunsFilterModel::setFilterText);

    m_view->setObjectName(QStringLiteral("runsList"));
    m_view->setModel(m_proxy);
    m_view->setRootIsDecorated(false);
    m_view->setAlternatingRowColors(true);
    m_view->setUniformRowHeights(true);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(RunsModel::Id, Qt::DescendingOrder);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->header()->setSectionResizeMode(RunsModel::Name, QHeaderView::Interactive);
    m_view->setToolTip(tr("Click a run to show it; Ctrl+click or Shift+click several to compare them"));
    connect(m_view, &QWidget::customContextMenuRequested, this, &RunsBrowser::showContextMenu);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        updateActions();
        if (!m_reloading) Q_EMIT selectionChanged(selectedRunIds());
    });

    m_renameAction = new QAction(tr("&Rename…"), this);
    m_renameAction->setShortcut(QKeySequence(Qt::Key_F2));
    m_tagsAction = new QAction(tr("&Tags…"), this);
    m_notesAction = new QAction(tr("&Notes…"), this);
    m_exportAction = new QAction(tr("&Export Data…"), this);
    m_exportAction->setToolTip(tr("Every round of the run as CSV or JSON (as fedwb-cli export)"));
    m_deleteAction = new QAction(tr("&Delete…"), this);
    m_deleteAction->setShortcut(QKeySequence::Delete);
    for (QAction *a : {m_renameAction, m_tagsAction, m_notesAction, m_deleteAction}) {
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        m_view->addAction(a);
    }
    connect(m_renameAction, &QAction::triggered, this, [this] {
        const QList<qint64> ids = selectedRunIds();
        if (ids.size() != 1) return;
        const int row = m_model->rowOf(ids.first());
        bool ok = false;
        const QString name = QInputDialog::getText(this, tr("Rename run %1").arg(ids.first()), tr("Name:"),
                                                   QLineEdit::Normal, m_model->runAt(row).name, &ok);
        if (ok && !renameRun(ids.first(), name.trimmed())) QMessageBox::warning(this, tr("Rename"), m_error);
    });
    connect(m_tagsAction, &QAction::triggered, this, [this] {
        const QList<qint64> ids = selectedRunIds();
        if (ids.isEmpty()) return;
        const StoredRun &first = m_model->runAt(m_model->rowOf(ids.first()));
        bool ok = false;
        const QString text = QInputDialog::getText(
            this, tr("Tags"), tr("Tags of %n run(s), separated by commas:", nullptr, int(ids.size())),
            QLineEdit::Normal, first.tags.join(QStringLiteral(", ")), &ok);
        if (!ok) return;
        QStringList tags;
        for (const QString &t : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
            if (!t.trimmed().isEmpty() && !tags.contains(t.trimmed())) tags.append(t.trimmed());
        for (qint64 id : ids)
            if (!setTags(id, tags)) {
                QMessageBox::warning(this, tr("Tags"), m_error);
                return;
            }
    });
    connect(m_notesAction, &QAction::triggered, this, [this] {
        const QList<qint64> ids = selectedRunIds();
        if (ids.size() != 1) return;
        bool ok = false;
        const QString notes =
            QInputDialog::getMultiLineText(this, tr("Notes on run %1").arg(ids.first()), tr("Notes:"),
                                           m_model->runAt(m_model->rowOf(ids.first())).notes, &ok);
        if (ok && !setNotes(ids.first(), notes)) QMessageBox::warning(this, tr("Notes"), m_error);
    });
    connect(m_deleteAction, &QAction::triggered, this, [this] { deleteRuns(selectedRunIds(), true); });
    connect(m_exportAction, &QAction::triggered, this, [this] {
        const QList<qint64> ids = selectedRunIds();
        if (ids.size() != 1) return;
        const QString path = QFileDialog::getSaveFileName(this, tr("Export run %1").arg(ids.first()),
                                                          QStringLiteral("run-%1.csv").arg(ids.first()),
                                                          tr("CSV (*.csv);;JSON (*.json)"));
        if (!path.isEmpty() && !exportRun(ids.first(), path))
            QMessageBox::warning(this, tr("Export"), m_error);
    });

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 2, 6);
    layout->addWidget(m_filter);
    layout->addWidget(m_view);
    setFocusProxy(m_view);
    updateActions();
}

void RunsBrowser::setStore(RunStore *store, bool readOnly) {
    m_store = store;
    m_readOnly = readOnly;
    reload();
}

void RunsBrowser::reload() {
    const QList<qint64> keep = selectedRunIds();
    m_reloading = true;
    if (m_store && m_store->isOpen())
        m_model->reload(*m_store);
    else
        m_model->clear();
    QItemSelection selection;
    for (qint64 id : keep)
        if (const int row = m_model->rowOf(id); row >= 0) {
            const QModelIndex at = m_proxy->mapFromSource(m_model->index(row, 0));
            selection.select(at, at);
        }
    m_view->selectionModel()->select(selection,
                                     QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_reloading = false;
    updateActions();
}

QList<qint64> RunsBrowser::selectedRunIds() const {
    QList<qint64> ids;
    for (const QModelIndex &i : m_view->selectionModel()->selectedRows())
        ids.append(i.data(RunsModel::kRunIdRole).toLongLong());
    return ids;
}

void RunsBrowser::selectRun(qint64 runId) {
    m_reloading = true;
    m_view->selectionModel()->clearSelection();
    if (const int row = m_model->rowOf(runId); row >= 0) {
        const QModelIndex at = m_proxy->mapFromSource(m_model->index(row, 0));
        m_view->selectionModel()->setCurrentIndex(at, QItemSelectionModel::ClearAndSelect |
                                                          QItemSelectionModel::Rows);
        m_view->scrollTo(at);
    }
    m_reloading = false;
    updateActions();
}

void RunsBrowser::setFilterText(const QString &text) {
    m_filter->setText(text);
}

// One edit of the store: refused on a read-only store, the list reloaded after it.
bool RunsBrowser::edit(const std::function<bool(RunStore &)> &change) {
    if (!m_store || m_readOnly) {
        m_error = tr("the run store is read-only");
        return false;
    }
    if (!change(*m_store)) {
        m_error = m_store->lastError();
        return false;
    }
    reload();
    Q_EMIT runsChanged();
    return true;
}

bool RunsBrowser::renameRun(qint64 runId, const QString &name) {
    if (name.isEmpty() && m_store && !m_readOnly) {
        m_error = tr("a run needs a name");
        return false;
    }
    return edit([&](RunStore &store) { return store.renameRun(runId, name); });
}

bool RunsBrowser::setTags(qint64 runId, const QStringList &tags) {
    return edit([&](RunStore &store) { return store.setTags(runId, tags); });
}

bool RunsBrowser::setNotes(qint64 runId, const QString &notes) {
    return edit([&](RunStore &store) { return store.setNotes(runId, notes); });
}

int RunsBrowser::deleteRuns(const QList<qint64> &runIds, bool confirm) {
    if (!m_store || m_readOnly || runIds.isEmpty()) {
        m_error = tr("the run store is read-only");
        return 0;
    }
    QList<qint64> ids;
    for (qint64 id : runIds)
        if (!(m_busy && m_busy(id))) ids.append(id);
    if (ids.size() < runIds.size()) m_error = tr("a run that is training now cannot be deleted");
    if (ids.isEmpty()) {
        if (confirm) QMessageBox::information(this, tr("Delete"), m_error);
        return 0;
    }
    if (confirm) {
        QStringList names;
        for (qint64 id : std::as_const(ids))
            names << QStringLiteral("%1 %2").arg(id).arg(m_model->runAt(m_model->rowOf(id)).name);
        if (QMessageBox::question(
                this, tr("Delete runs"),
                tr("Delete %n run(s) and all their rounds from the store? This cannot be undone.", nullptr,
                   int(ids.size())) +
                    QStringLiteral("\n\n") + names.mid(0, 10).join(QLatin1Char('\n')),
                QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes)
            return 0;
    }
    int deleted = 0;
    for (qint64 id : std::as_const(ids)) {
        if (!m_store->deleteRun(id)) {
            m_error = m_store->lastError();
            break;
        }
        ++deleted;
    }
    reload();
    Q_EMIT runsChanged();
    return deleted;
}

bool RunsBrowser::exportRun(qint64 runId, const QString &path) {
    if (!m_store || !m_store->run(runId)) {
        m_error = tr("run %1 is not in the store").arg(runId);
        return false;
    }
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != QLatin1String("csv") && suffix != QLatin1String("json")) {
        m_error = tr("%1: unknown format; allowed: .csv, .json").arg(path);
        return false;
    }
    const QByteArray bytes = suffix == QLatin1String("csv")
                                 ? m_store->exportCsv(runId).toUtf8()
                                 : QJsonDocument(m_store->exportJson(runId)).toJson(QJsonDocument::Indented);
    if (!m_store->lastError().isEmpty()) {
        m_error = m_store->lastError();
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        m_error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

void RunsBrowser::showContextMenu(const QPoint &at) {
    QMenu menu(this);
    menu.addAction(m_renameAction);
    menu.addAction(m_tagsAction);
    menu.addAction(m_notesAction);
    menu.addAction(m_exportAction);
    menu.addSeparator();
    menu.addAction(m_deleteAction);
    menu.exec(m_view->viewport()->mapToGlobal(at));
}

void RunsBrowser::updateActions() {
    const qsizetype n = m_view->selectionModel() ? m_view->selectionModel()->selectedRows().size() : 0;
    const bool editable = m_store && !m_readOnly;
    m_renameAction->setEnabled(editable && n == 1);
    m_notesAction->setEnabled(editable && n == 1);
    m_exportAction->setEnabled(m_store && n == 1);
    m_tagsAction->setEnabled(editable && n >= 1);
    m_deleteAction->setEnabled(editable && n >= 1);
}

} // namespace fedwb
