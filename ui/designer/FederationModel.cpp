#include "designer/FederationModel.h"

#include "spec/Registry.h"
#include "spec/Schema.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QUndoCommand>
#include <QUndoStack>

#include <algorithm>

namespace fedwb {

namespace {

struct Segment {
    QString key;
    int index = -1; // "groups[2]": key "groups", index 2
};

QList<Segment> splitPath(const QString &path) {
    QList<Segment> out;
    static const QRegularExpression indexed(QStringLiteral("^([^\\[]*)\\[(\\d+)\\]$"));
    for (const QString &part : path.split(QLatin1Char('.'), Qt::SkipEmptyParts)) {
        const QRegularExpressionMatch m = indexed.match(part);
        if (m.hasMatch())
            out.append({m.captured(1), m.captured(2).toInt()});
        else
            out.append({part, -1});
    }
    return out;
}

QJsonValue getIn(const QJsonValue &root, const QList<Segment> &segs, int from) {
    QJsonValue v = root;
    for (int i = from; i < segs.size(); ++i) {
        if (!v.isObject()) return QJsonValue(QJsonValue::Undefined);
        v = v.toObject().value(segs[i].key);
        if (segs[i].index >= 0) {
            if (!v.isArray() || segs[i].index >= v.toArray().size()) return QJsonValue(QJsonValue::Undefined);
            v = v.toArray().at(segs[i].index);
        }
    }
    return v;
}

QJsonValue setIn(const QJsonValue &root, const QList<Segment> &segs, int at, const QJsonValue &value) {
    if (at == segs.size()) return value;
    QJsonObject obj = root.toObject();
    const Segment &s = segs[at];
    if (s.index < 0) {
        const QJsonValue inner = setIn(obj.value(s.key), segs, at + 1, value);
        if (inner.isUndefined())
            obj.remove(s.key);
        else
            obj.insert(s.key, inner);
        return obj;
    }
    QJsonArray arr = obj.value(s.key).toArray();
    while (arr.size() <= s.index)
        arr.append(QJsonObject());
    const QJsonValue inner = setIn(arr.at(s.index), segs, at + 1, value);
    if (inner.isUndefined())
        arr.removeAt(s.index);
    else
        arr.replace(s.index, inner);
    obj.insert(s.key, arr);
    return obj;
}

// "clients.groups[3].behaviour.scale" -> 3 and the rest after the group ("behaviour.scale"); -1 otherwise.
int groupIndexOf(const QString &path, QString *rest = nullptr) {
    static const QRegularExpression re(QStringLiteral("^clients\\.groups\\[(\\d+)\\](?:\\.(.*))?$"));
    const QRegularExpressionMatch m = re.match(path);
    if (!m.hasMatch()) return -1;
    if (rest) *rest = m.captured(2);
    return m.captured(1).toInt();
}

// The fields of one client group (the GroupList parameter describes the list only).
const QList<ParamSchema> &groupFieldSchemas() {
    static const QList<ParamSchema> fields = [] {
        QList<ParamSchema> f;
        ParamSchema name =
            stringParam(QStringLiteral("name"), QStringLiteral("clients"),
                        QStringLiteral("The group's name: 1 to 40 letters, digits, '_' or '-'."));
        name.explanation =
            QStringLiteral("Groups are how clients differ: give each kind of client (honest phones, flaky "
                           "devices, attackers) "
                           "its own group. The name appears in the dashboard's client table and colours.");
        f.append(name);
        ParamSchema count = intParam(QStringLiteral("count"), 1, 1, 1000000,
                                     QStringLiteral("Clients in this group (or set a fraction instead)."),
                                     QStringLiteral("clients"));
        count.explanation = QStringLiteral(
            "How many clients are of this kind. The groups together must hold exactly clients.count clients; "
            "a group's clients get consecutive ids, in the order of the groups.");
        f.append(count);
        ParamSchema fraction =
            realParam(QStringLiteral("fraction"), 0.5, 0, 1,
                      QStringLiteral("Share of clients.count in this group (instead of a count)."), {}, true);
        fraction.explanation = QStringLiteral(
            "A share instead of a count: 0.2 makes a fifth of the clients this kind, whatever clients.count "
            "is, so the group grows with the population. Fraction groups share what the count groups leave.");
        f.append(fraction);
        ParamSchema epochs =
            intParam(QStringLiteral("epochs"), 1, 1, 1000,
                     QStringLiteral("Local epochs of this group's clients (when not set: training.epochs)."),
                     QStringLiteral("epochs"));
        epochs.explanation = QStringLiteral(
            "Devices differ in how much work they can do: a group of weak devices may train fewer local "
            "epochs than the rest. Strategies such as FedNova correct for the difference.");
        f.append(epochs);
        return f;
    }();
    return fields;
}

// The group list with every fraction replaced by the count it resolves to (`resolved`: the groups as the
// engine sees them). Fractions are shares of clients.count: a list whose groups are added or removed keeps
// its groups' sizes only as counts. Unchanged when the sizes are not known (an invalid workspace).
QJsonArray withCountsForFractions(QJsonArray list, const QList<FederationModel::Group> &resolved,
                                  bool known) {
    if (!known || resolved.size() != list.size()) return list;
    for (qsizetype i = 0; i < list.size(); ++i) {
        QJsonObject g = list.at(i).toObject();
        if (!g.contains(QStringLiteral("fraction")) || g.contains(QStringLiteral("count")) ||
            resolved[i].count < 1)
            continue;
        g.remove(QStringLiteral("fraction"));
        g.insert(QStringLiteral("count"), resolved[i].count);
        list.replace(i, g);
    }
    return list;
}

} // namespace

// ---------------------------------------------------------------------------------------------------------
// The undo command: the whole workspace before and after (workspaces are small), merged by path.

class FederationModel::EditCommand : public QUndoCommand {
public:
    EditCommand(FederationModel *model, QJsonObject before, QJsonObject after, QString path, QString text,
                bool mergeable)
        : QUndoCommand(text)
        , m_model(model)
        , m_before(std::move(before))
        , m_after(std::move(after))
        , m_path(std::move(path))
        , m_mergeable(mergeable)
        , m_epoch(model->m_mergeEpoch) {}

    int id() const override { return 0xFED; }
    bool mergeWith(const QUndoCommand *other) override {
        const auto *o = static_cast<const EditCommand *>(other);
        if (!m_mergeable || !o->m_mergeable || o->m_path != m_path || o->m_epoch != m_epoch) return false;
        m_after = o->m_after;
        return true;
    }
    void undo() override { m_model->apply(m_before, m_path); }
    void redo() override { m_model->apply(m_after, m_path); }

private:
    FederationModel *m_model;
    QJsonObject m_before, m_after;
    QString m_path;
    bool m_mergeable;
    int m_epoch;
};

// ---------------------------------------------------------------------------------------------------------

FederationModel::FederationModel(QObject *parent)
    : QObject(parent)
    , m_undo(new QUndoStack(this)) {
    registerBuiltins();
    reset(QJsonObject{{QStringLiteral("format"), kWorkspaceFormat}});
}

FederationModel::~FederationModel() = default;

void FederationModel::reset(const QJsonObject &raw, const QList<SpecIssue> &readWarnings) {
    m_undo->clear();
    m_readWarnings = readWarnings;
    apply(raw, QString());
    m_undo->setClean();
}

void FederationModel::apply(const QJsonObject &raw, const QString &path) {
    const QList<Group> before = groups();
    m_raw = raw;
    m_parsed = FederationSpec::parse(m_raw);
    m_parsed.warnings = m_readWarnings + m_parsed.warnings;
    Q_EMIT changed(path);
    Q_EMIT validated();
    const QList<Group> after = groups();
    bool same = before.size() == after.size();
    for (qsizetype i = 0; same && i < after.size(); ++i)
        same = before[i].name == after[i].name && before[i].count == after[i].count &&
               before[i].behaviour == after[i].behaviour && before[i].raw == after[i].raw;
    if (!same) Q_EMIT groupsChanged();
}

QJsonValue FederationModel::valueAt(const QJsonValue &root, const QString &path) {
    return getIn(root, splitPath(path), 0);
}

QJsonValue FederationModel::withValueAt(const QJsonValue &root, const QString &path,
                                        const QJsonValue &value) {
    return setIn(root, splitPath(path), 0, value);
}

QJsonValue FederationModel::value(const QString &path) const {
    return valueAt(m_raw, path);
}

QJsonValue FederationModel::effectiveValue(const QString &path) const {
    const QJsonValue written = value(path);
    if (m_parsed.spec) {
        const QJsonValue normalized = valueAt(m_parsed.spec->json(), path);
        if (!normalized.isUndefined()) return normalized;
    }
    if (!written.isUndefined()) return written;
    if (const ParamSchema *p = paramSchema(path)) return p->defaultValue;
    return QJsonValue(QJsonValue::Undefined);
}

// ---------------------------------------------------------------------------------------------------------
// Schemas

const ComponentSchema *FederationModel::selectedComponent(const QString &sectionPath) const {
    const Registry &reg = Registry::global();
    QString rest;
    if (groupIndexOf(sectionPath, &rest) >= 0) {
        if (rest != QLatin1String("behaviour")) return nullptr;
        const QJsonValue name = effectiveValue(sectionPath + QStringLiteral(".name"));
        return reg.component(QStringLiteral("behaviour"),
                             name.isString() ? name.toString() : QStringLiteral("honest"));
    }
    const SectionSchema *s = reg.section(sectionPath);
    if (!s || s->category.isEmpty()) return nullptr;
    return reg.component(s->category, effectiveValue(sectionPath + QStringLiteral(".name")).toString());
}

const ParamSchema *FederationModel::paramSchema(const QString &path) const {
    const Registry &reg = Registry::global();
    QString rest;
    if (groupIndexOf(path, &rest) >= 0) {
        if (!rest.contains(QLatin1Char('.'))) {
            for (const ParamSchema &p : groupFieldSchemas())
                if (p.key == rest) return &p;
            return nullptr;
        }
        const QString head = rest.section(QLatin1Char('.'), 0, 0);
        const QString key = rest.section(QLatin1Char('.'), 1);
        if (head == QLatin1String("privacy")) {
            const SectionSchema *privacy = reg.section(QStringLiteral("privacy"));
            return privacy ? privacy->param(key) : nullptr;
        }
        if (head == QLatin1String("behaviour")) {
            if (key == QLatin1String("name")) {
                static const ParamSchema name = [] {
                    QStringList names = Registry::global().componentNames(QStringLiteral("behaviour"));
                    ParamSchema p = choiceParam(QStringLiteral("name"), QStringLiteral("honest"), names,
                                                QStringLiteral("How the clients of this group act."));
                    return p;
                }();
                return &name;
            }
            const ComponentSchema *c = selectedComponent(path.section(QLatin1Char('.'), 0, -2));
            return c ? c->param(key) : nullptr;
        }
        return nullptr;
    }
    const QString sectionKey = path.section(QLatin1Char('.'), 0, 0);
    const QString key = path.section(QLatin1Char('.'), 1);
    const SectionSchema *s = reg.section(sectionKey);
    if (!s || key.isEmpty() || key.contains(QLatin1Char('.'))) return nullptr;
    if (const ParamSchema *p = s->param(key)) return p;
    if (const ComponentSchema *c = selectedComponent(sectionKey)) return c->param(key);
    return nullptr;
}

QStringList FederationModel::parameterPaths(const QString &sectionPath) const {
    QStringList out;
    QString rest;
    if (groupIndexOf(sectionPath, &rest) >= 0) {
        if (rest.isEmpty()) {
            for (const ParamSchema &p : groupFieldSchemas())
                out.append(sectionPath + QLatin1Char('.') + p.key);
        } else if (rest == QLatin1String("behaviour")) {
            out.append(sectionPath + QStringLiteral(".name"));
            if (const ComponentSchema *c = selectedComponent(sectionPath))
                for (const ParamSchema &p : c->params)
                    out.append(sectionPath + QLatin1Char('.') + p.key);
        }
        return out;
    }
    const SectionSchema *s = Registry::global().section(sectionPath);
    if (!s) return out;
    if (s->param(QStringLiteral("name"))) out.append(sectionPath + QStringLiteral(".name"));
    for (const ParamSchema &p : s->params)
        if (p.key != QLatin1String("name")) out.append(sectionPath + QLatin1Char('.') + p.key);
    if (const ComponentSchema *c = selectedComponent(sectionPath))
        for (const ParamSchema &p : c->params)
            if (!out.contains(sectionPath + QLatin1Char('.') + p.key))
                out.append(sectionPath + QLatin1Char('.') + p.key);
    return out;
}

// ---------------------------------------------------------------------------------------------------------
// Edits

void FederationModel::setValue(const QString &path, const QJsonValue &value, const QString &text) {
    const QJsonObject after = withValueAt(m_raw, path, value).toObject();
    if (after == m_raw) return;
    m_undo->push(new EditCommand(
        this, m_raw, after, path,
        text.isEmpty() ? (value.isUndefined() ? tr("Reset %1 to its default") : tr("Set %1")).arg(path)
                       : text,
        true));
}

void FederationModel::setComponent(const QString &sectionPath, const QString &name) {
    const ComponentSchema *old = selectedComponent(sectionPath);
    QJsonObject section = value(sectionPath).toObject();
    if (section.value(QStringLiteral("name")).toString() == name && old && old->name == name) return;
    // Keys of the old component that the new one does not have go; the section's own keys stay.
    const Registry &reg = Registry::global();
    const SectionSchema *s = groupIndexOf(sectionPath) >= 0 ? nullptr : reg.section(sectionPath);
    const QString category = s ? s->category : QStringLiteral("behaviour");
    const ComponentSchema *next = reg.component(category, name);
    if (old) {
        for (const ParamSchema &p : old->params) {
            const bool own = s && s->param(p.key);
            const bool shared = next && next->param(p.key);
            if (!own && !shared) section.remove(p.key);
        }
    }
    section.insert(QStringLiteral("name"), name);
    const QJsonObject after = withValueAt(m_raw, sectionPath, section).toObject();
    if (after == m_raw) return;
    m_undo->push(new EditCommand(this, m_raw, after, sectionPath + QStringLiteral(".name"),
                                 tr("Choose %1 for %2").arg(name, sectionPath), false));
}

QString FederationModel::uniqueGroupName(const QString &base) const {
    QStringList taken;
    for (const Group &g : groups())
        if (!g.implicit) taken.append(g.name);
    if (!taken.contains(base)) return base;
    for (int i = 2;; ++i)
        if (!taken.contains(base + QLatin1Char('-') + QString::number(i)))
            return base + QLatin1Char('-') + QString::number(i);
}

int FederationModel::addGroup(QJsonObject group) {
    QJsonArray list = value(QStringLiteral("clients.groups")).toArray();
    QJsonObject clients = value(QStringLiteral("clients")).toObject();
    const int total = int(effectiveValue(QStringLiteral("clients.count")).toInteger());
    if (list.isEmpty()) {
        // The implicit group becomes explicit so that the clients already there keep their behaviour.
        const int given = group.contains(QStringLiteral("count"))
                              ? int(group.value(QStringLiteral("count")).toInteger())
                              : std::max(1, total / 5);
        group.insert(QStringLiteral("count"), given);
        group.remove(QStringLiteral("fraction"));
        list.append(QJsonObject{{QStringLiteral("name"), QStringLiteral("clients")},
                                {QStringLiteral("count"), std::max(1, total)}});
    } else {
        // The new group changes clients.count: every group keeps its size as a count, the new one too.
        list = withCountsForFractions(list, groups(), m_parsed.spec.has_value());
        if (!group.contains(QStringLiteral("count")))
            group.insert(QStringLiteral("count"),
                         group.contains(QStringLiteral("fraction"))
                             ? std::max(1, int(std::lround(
                                               group.value(QStringLiteral("fraction")).toDouble() * total)))
                             : std::max(1, total / 5));
        group.remove(QStringLiteral("fraction"));
    }
    group.insert(QStringLiteral("name"),
                 uniqueGroupName(group.value(QStringLiteral("name")).toString().isEmpty()
                                     ? QStringLiteral("group")
                                     : group.value(QStringLiteral("name")).toString()));
    list.append(group);
    // Groups must add up to clients.count: the population grows by the new group's count.
    if (group.contains(QStringLiteral("count")))
        clients.insert(QStringLiteral("count"), total + group.value(QStringLiteral("count")).toInteger());
    clients.insert(QStringLiteral("groups"), list);
    QJsonObject after = m_raw;
    after.insert(QStringLiteral("clients"), clients);
    m_undo->push(new EditCommand(this, m_raw, after, QStringLiteral("clients.groups"),
                                 tr("Add group %1").arg(group.value(QStringLiteral("name")).toString()),
                                 false));
    return int(list.size()) - 1;
}

void FederationModel::removeGroups(QList<int> indices) {
    // The groups that stay keep their sizes (as counts); clients.count shrinks by the removed ones.
    QJsonArray list = withCountsForFractions(value(QStringLiteral("clients.groups")).toArray(), groups(),
                                             m_parsed.spec.has_value());
    std::sort(indices.begin(), indices.end(), std::greater<>());
    indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
    QJsonObject clients = value(QStringLiteral("clients")).toObject();
    qint64 total = effectiveValue(QStringLiteral("clients.count")).toInteger();
    QStringList names;
    QJsonObject layoutNodes = value(QStringLiteral("layout.nodes")).toObject();
    for (int i : indices) {
        if (i < 0 || i >= list.size()) continue;
        const QJsonObject g = list.at(i).toObject();
        names.prepend(g.value(QStringLiteral("name")).toString());
        if (g.contains(QStringLiteral("count"))) total -= g.value(QStringLiteral("count")).toInteger();
        layoutNodes.remove(QStringLiteral("group:") + g.value(QStringLiteral("name")).toString());
        list.removeAt(i);
    }
    if (names.isEmpty()) return;
    // Without groups the population stays as it was: one implicit group of clients.count clients.
    if (list.isEmpty()) {
        clients.remove(QStringLiteral("groups"));
    } else {
        clients.insert(QStringLiteral("count"), std::max<qint64>(1, total));
        clients.insert(QStringLiteral("groups"), list);
    }
    QJsonObject after = m_raw;
    after.insert(QStringLiteral("clients"), clients);
    if (!layoutNodes.isEmpty() || after.contains(QStringLiteral("layout")))
        after = withValueAt(after, QStringLiteral("layout.nodes"), layoutNodes).toObject();
    m_undo->push(new EditCommand(this, m_raw, after, QStringLiteral("clients.groups"),
                                 names.size() == 1 ? tr("Delete group %1").arg(names.first())
                                                   : tr("Delete %1 groups").arg(names.size()),
                                 false));
}

void FederationModel::setNodePosition(const QString &nodeId, QPointF position) {
    const QJsonArray at{std::round(position.x()), std::round(position.y())};
    const QString path = QStringLiteral("layout.nodes.") + nodeId;
    if (value(path) == QJsonValue(at)) return;
    setValue(path, at, tr("Move %1").arg(nodeId));
}

std::optional<QPointF> FederationModel::nodePosition(const QString &nodeId) const {
    const QJsonArray at = value(QStringLiteral("layout.nodes.") + nodeId).toArray();
    if (at.size() != 2 || !at[0].isDouble() || !at[1].isDouble()) return std::nullopt;
    return QPointF(at[0].toDouble(), at[1].toDouble());
}

void FederationModel::beginMacro(const QString &text) {
    m_undo->beginMacro(text);
}

void FederationModel::endMacro() {
    m_undo->endMacro();
}

// ---------------------------------------------------------------------------------------------------------
// Groups and validation

QList<FederationModel::Group> FederationModel::groups() const {
    QList<Group> out;
    if (m_parsed.spec) {
        const QJsonArray list = value(QStringLiteral("clients.groups")).toArray();
        const QList<ClientGroup> resolved = m_parsed.spec->groups();
        for (qsizetype i = 0; i < resolved.size(); ++i) {
            Group g;
            g.name = resolved[i].name;
            g.count = resolved[i].count;
            g.behaviour = resolved[i].behaviour.name;
            g.implicit = list.isEmpty();
            if (!g.implicit && i < list.size()) g.raw = list.at(i).toObject();
            out.append(g);
        }
        return out;
    }
    const QJsonArray list = value(QStringLiteral("clients.groups")).toArray();
    const double total = value(QStringLiteral("clients.count")).toDouble(10);
    if (list.isEmpty()) {
        out.append({QStringLiteral("clients"), int(total), QStringLiteral("honest"), {}, true});
        return out;
    }
    for (const QJsonValue &v : list) {
        const QJsonObject o = v.toObject();
        Group g;
        g.name = o.value(QStringLiteral("name")).toString();
        g.count = o.contains(QStringLiteral("count"))
                      ? int(o.value(QStringLiteral("count")).toDouble())
                      : int(std::round(o.value(QStringLiteral("fraction")).toDouble() * total));
        g.behaviour = o.value(QStringLiteral("behaviour"))
                          .toObject()
                          .value(QStringLiteral("name"))
                          .toString(QStringLiteral("honest"));
        g.raw = o;
        out.append(g);
    }
    return out;
}

QStringList FederationModel::errorsAt(const QString &path) const {
    QStringList out;
    const int group = groupIndexOf(path);
    const QString groupPrefix = QStringLiteral("group %1: ").arg(group + 1);
    for (const SpecIssue &e : m_parsed.errors) {
        if (e.path == path || e.path.startsWith(path + QLatin1Char('.')) ||
            e.path.startsWith(path + QLatin1Char('[')))
            out.append(e.message);
        else if (group >= 0 && !path.contains(QStringLiteral("].")) &&
                 e.path == QLatin1String("clients.groups") && e.message.startsWith(groupPrefix))
            out.append(e.message.mid(groupPrefix.size())); // the list's shape check names "group N"
    }
    return out;
}

QString FederationModel::validationText() const {
    QStringList lines;
    for (const SpecIssue &e : m_parsed.errors)
        lines.append(e.text());
    for (const SpecIssue &w : m_parsed.warnings)
        lines.append(tr("warning: %1").arg(w.text()));
    return lines.join(QLatin1Char('\n'));
}

QByteArray FederationModel::toFileBytes(const QJsonObject &raw) {
    QStringList order{QStringLiteral("format"), QStringLiteral("name"), QStringLiteral("description")};
    for (const SectionSchema &s : Registry::global().sections())
        order.append(s.key);
    for (auto it = raw.begin(); it != raw.end(); ++it)
        if (!order.contains(it.key()) && it.key() != QLatin1String("layout")) order.append(it.key());
    order.append(QStringLiteral("layout"));

    QByteArray out("{\n");
    bool first = true;
    for (const QString &key : std::as_const(order)) {
        if (!raw.contains(key)) continue;
        if (!first) out += ",\n";
        first = false;
        // One value as JSON text: wrap it in an array to serialize scalars, then take it out again.
        QByteArray text = QJsonDocument(QJsonArray{raw.value(key)}).toJson(QJsonDocument::Indented);
        text = text.trimmed();
        text = text.mid(1, text.size() - 2).trimmed(); // "[ ... ]" -> "..."
        // QJsonDocument indents by four per level and the array wrapper already put the inner lines one
        // level in: they are where they belong below a key indented by four.
        out += "    " + QJsonDocument(QJsonArray{key}).toJson(QJsonDocument::Compact).mid(1).chopped(1) +
               ": " + text;
    }
    out += "\n}\n";
    return out;
}

} // namespace fedwb
