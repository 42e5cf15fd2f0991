#include "designer/WorkspaceDocument.h"

#include "designer/FederationModel.h"
#include "spec/FederationSpec.h"

#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>
#include <QSettings>
#include <QStandardPaths>
#include <QUndoStack>

#include <algorithm>

namespace fedwb {

namespace {

constexpr int kMaxRecent = 8;
const char *const kRecentKey = "recentWorkspaces";

QJsonObject readResource(const QString &path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

bool processAlive(qint64 pid) {
    return pid > 0 && QFileInfo::exists(QStringLiteral("/proc/%1").arg(pid));
}

} // namespace

WorkspaceDocument::WorkspaceDocument(QObject *parent)
    : QObject(parent)
    , m_model(new FederationModel(this)) {
    m_autosave.setInterval(20000);
    connect(&m_autosave, &QTimer::timeout, this, [this] {
        if (isDirty()) autosaveNow();
    });
    m_autosave.start();
    connect(m_model->undoStack(), &QUndoStack::cleanChanged, this,
            [this] { Q_EMIT dirtyChanged(isDirty()); });
}

WorkspaceDocument::~WorkspaceDocument() {
    removeAutosave();
}

// ---------------------------------------------------------------------------------------------------------
// Templates

QList<WorkspaceTemplate> WorkspaceDocument::templates() {
    QList<WorkspaceTemplate> out;
    const QJsonObject quickstart = readResource(QStringLiteral(":/workspaces/quickstart.fedwb"));
    if (!quickstart.isEmpty()) {
        QJsonObject iid = quickstart;
        iid.insert(QStringLiteral("name"), QCoreApplication::translate("fedwb", "IID baseline"));
        iid.insert(QStringLiteral("description"),
                   QCoreApplication::translate("fedwb", "20 clients with equal, uniformly random shares of "
                                                        "Fashion-MNIST train LeNet-5 with FedAvg: the easy "
                                                        "case every other federation is compared with."));
        iid.insert(QStringLiteral("partition"), QJsonObject{{QStringLiteral("name"), QStringLiteral("iid")},
                                                            {QStringLiteral("test_fraction"), 0.1}});
        out.append({QStringLiteral("iid"), QCoreApplication::translate("fedwb", "IID baseline"),
                    iid.value(QStringLiteral("description")).toString(), iid});

        QJsonObject skew = quickstart;
        skew.insert(QStringLiteral("name"), QCoreApplication::translate("fedwb", "Non-IID (label skew)"));
        skew.insert(QStringLiteral("description"),
                    QCoreApplication::translate("fedwb", "The same federation with strong label skew: "
                                                         "Dirichlet(0.1), so most clients hold one or two "
                                                         "classes. Try FedProx or SCAFFOLD against FedAvg."));
        QJsonObject partition = skew.value(QStringLiteral("partition")).toObject();
        partition.insert(QStringLiteral("alpha"), 0.1);
        skew.insert(QStringLiteral("partition"), partition);
        out.append({QStringLiteral("non-iid"), QCoreApplication::translate("fedwb", "Non-IID (label skew)"),
                    skew.value(QStringLiteral("description")).toString(), skew});

        out.append({QStringLiteral("quickstart"), quickstart.value(QStringLiteral("name")).toString(),
                    quickstart.value(QStringLiteral("description")).toString(), quickstart});
    }
    QDirIterator it(QStringLiteral(":/workspaces/examples"), {QStringLiteral("*.fedwb")}, QDir::Files);
    QStringList files;
    while (it.hasNext())
        files.append(it.next());
    files.sort();
    for (const QString &file : std::as_const(files)) {
        const QJsonObject raw = readResource(file);
        if (raw.isEmpty()) continue;
        out.append({QStringLiteral("example:") + QFileInfo(file).completeBaseName(),
                    raw.value(QStringLiteral("name")).toString(QFileInfo(file).completeBaseName()),
                    raw.value(QStringLiteral("description")).toString(), raw});
    }
    return out;
}

bool WorkspaceDocument::newFromTemplate(const QString &id) {
    for (const WorkspaceTemplate &t : templates()) {
        if (t.id != id) continue;
        removeAutosave();
        m_untitledName = t.title;
        m_forcedDirty = false;
        m_model->reset(t.raw);
        setPath(QString());
        Q_EMIT dirtyChanged(isDirty());
        Q_EMIT loaded();
        return true;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------------------
// Files

bool WorkspaceDocument::open(const QString &path, QString *error) {
    QList<SpecIssue> warnings;
    const std::optional<QJsonObject> raw = FederationSpec::readFile(path, error, &warnings);
    if (!raw) return false;
    removeAutosave();
    m_forcedDirty = false;
    m_untitledName.clear();
    m_model->reset(*raw, warnings);
    setPath(QFileInfo(path).absoluteFilePath());
    addRecentFile(m_path);
    Q_EMIT dirtyChanged(isDirty());
    Q_EMIT loaded();
    return true;
}

void WorkspaceDocument::writeFile(const QString &path, const QByteArray &bytes, QString *error,
                                  bool *ok) const {
    *ok = false;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error) *error = tr("cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return;
    }
    if (file.write(bytes) != bytes.size()) {
        if (error) *error = tr("cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        file.cancelWriting();
        return;
    }
    if (!file.commit()) {
        if (error) *error = tr("cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return;
    }
    *ok = true;
}

bool WorkspaceDocument::save(QString *error) {
    if (m_path.isEmpty()) {
        if (error) *error = tr("the workspace has no file yet: use Save As");
        return false;
    }
    return saveAs(m_path, error);
}

bool WorkspaceDocument::saveAs(const QString &path, QString *error) {
    bool ok = false;
    writeFile(path, FederationModel::toFileBytes(m_model->raw()), error, &ok);
    if (!ok) return false;
    removeAutosave();
    m_forcedDirty = false;
    m_model->undoStack()->setClean();
    setPath(QFileInfo(path).absoluteFilePath());
    addRecentFile(m_path);
    Q_EMIT dirtyChanged(isDirty());
    return true;
}

void WorkspaceDocument::newFromJson(const QJsonObject &raw, const QString &title) {
    removeAutosave();
    m_model->reset(raw);
    m_untitledName = title;
    m_forcedDirty = true;
    setPath(QString());
    Q_EMIT dirtyChanged(isDirty());
    Q_EMIT loaded();
}

void WorkspaceDocument::restore(const Recovery &recovery) {
    removeAutosave();
    m_model->reset(recovery.raw);
    m_untitledName = tr("Recovered workspace");
    m_forcedDirty = true;
    setPath(recovery.originalPath);
    discardRecovery(recovery);
    Q_EMIT dirtyChanged(isDirty());
    Q_EMIT loaded();
}

bool WorkspaceDocument::isDirty() const {
    return m_forcedDirty || !m_model->undoStack()->isClean();
}

QString WorkspaceDocument::displayName() const {
    if (!m_path.isEmpty()) return QFileInfo(m_path).fileName();
    return m_untitledName.isEmpty() ? tr("Untitled") : tr("Untitled (%1)").arg(m_untitledName);
}

void WorkspaceDocument::setPath(const QString &path) {
    if (path == m_path) return;
    m_path = path;
    Q_EMIT pathChanged(m_path);
}

QStringList WorkspaceDocument::recentFiles() {
    QSettings settings;
    QStringList out;
    for (const QString &f : settings.value(QLatin1String(kRecentKey)).toStringList())
        if (QFileInfo::exists(f) && !out.contains(f)) out.append(f);
    return out;
}

void WorkspaceDocument::addRecentFile(const QString &path) {
    QSettings settings;
    QStringList list = settings.value(QLatin1String(kRecentKey)).toStringList();
    list.removeAll(path);
    list.prepend(path);
    while (list.size() > kMaxRecent)
        list.removeLast();
    settings.setValue(QLatin1String(kRecentKey), list);
}

// ---------------------------------------------------------------------------------------------------------
// Autosave and recovery

QString WorkspaceDocument::autosaveDir() {
    const QString env = qEnvironmentVariable("FEDWB_AUTOSAVE_DIR");
    if (!env.isEmpty()) return env;
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/autosave");
}

void WorkspaceDocument::setAutosaveInterval(int intervalMs) {
    m_autosave.setInterval(intervalMs);
    m_autosave.start();
}

bool WorkspaceDocument::autosaveNow(QString *error) {
    const QString dir = autosaveDir();
    if (!QDir().mkpath(dir)) {
        if (error) *error = tr("cannot create the autosave folder %1").arg(QDir::toNativeSeparators(dir));
        return false;
    }
    if (m_autosaveFile.isEmpty())
        m_autosaveFile = QDir(dir).filePath(QStringLiteral("workspace-%1-%2.json")
                                                .arg(QCoreApplication::applicationPid())
                                                .arg(quintptr(this), 0, 16));
    const QJsonObject record{
        {QStringLiteral("pid"), QCoreApplication::applicationPid()},
        {QStringLiteral("path"), m_path},
        {QStringLiteral("saved_at"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
        {QStringLiteral("workspace"), m_model->raw()}};
    bool ok = false;
    writeFile(m_autosaveFile, QJsonDocument(record).toJson(QJsonDocument::Compact), error, &ok);
    return ok;
}

void WorkspaceDocument::removeAutosave() {
    if (!m_autosaveFile.isEmpty()) QFile::remove(m_autosaveFile);
    m_autosaveFile.clear();
}

QList<Recovery> WorkspaceDocument::pendingRecoveries() {
    QList<Recovery> out;
    const QDir dir(autosaveDir());
    for (const QFileInfo &info : dir.entryInfoList({QStringLiteral("workspace-*.json")}, QDir::Files)) {
        QFile f(info.absoluteFilePath());
        if (!f.open(QIODevice::ReadOnly)) continue;
        const QJsonObject record = QJsonDocument::fromJson(f.read(8 << 20)).object();
        const qint64 pid = record.value(QStringLiteral("pid")).toInteger();
        if (pid == QCoreApplication::applicationPid() || processAlive(pid)) continue; // still being edited
        if (!record.value(QStringLiteral("workspace")).isObject()) continue;
        out.append({info.absoluteFilePath(), record.value(QStringLiteral("path")).toString(),
                    QDateTime::fromString(record.value(QStringLiteral("saved_at")).toString(), Qt::ISODate),
                    record.value(QStringLiteral("workspace")).toObject()});
    }
    std::sort(out.begin(), out.end(),
              [](const Recovery &a, const Recovery &b) { return a.savedAt > b.savedAt; });
    return out;
}

void WorkspaceDocument::discardRecovery(const Recovery &recovery) {
    if (!recovery.autosaveFile.isEmpty()) QFile::remove(recovery.autosaveFile);
}

} // namespace fedwb
