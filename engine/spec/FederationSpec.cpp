#include "spec/FederationSpec.h"

#include "data/DatasetFacts.h"
#include "model/ModelFacts.h"
#include "spec/Registry.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

namespace fedwb {

namespace {

const QStringList &topLevelKeys() {
    static const QStringList keys{QStringLiteral("format"), QStringLiteral("name"),
                                  QStringLiteral("description")};
    return keys;
}

// Capabilities in words, for messages.
QString capabilityText(const QString &capability) {
    if (capability == QLatin1String("image")) return QStringLiteral("image input");
    if (capability == QLatin1String("natural-clients"))
        return QStringLiteral("samples that carry client ids");
    if (capability == QLatin1String("batch-norm")) return QStringLiteral("batch-norm layers");
    if (capability == QLatin1String("hidden-layers")) return QStringLiteral("layers before its output layer");
    if (capability == QLatin1String("classification")) return QStringLiteral("class labels");
    return QString(capability).replace(QLatin1Char('-'), QLatin1Char(' '));
}

QStringList allowedSectionKeys(const SectionSchema &s, const ComponentSchema *c) {
    QStringList keys;
    for (const ParamSchema &p : s.params)
        keys.append(p.key);
    if (c)
        for (const ParamSchema &p : c->params)
            keys.append(p.key);
    return keys;
}

} // namespace

QStringList groupPrivacyOverrides() {
    return {QStringLiteral("clip_norm"), QStringLiteral("noise_multiplier")};
}

QString FederationSpec::Parsed::errorText() const {
    QStringList lines;
    for (const SpecIssue &e : errors)
        lines.append(e.text());
    return lines.join(QLatin1Char('\n'));
}

QJsonValue FederationSpec::value(const QString &path) const {
    const qsizetype dot = path.indexOf(QLatin1Char('.'));
    if (dot < 0) return m_json.value(path);
    return m_json.value(path.left(dot)).toObject().value(path.mid(dot + 1));
}

namespace {

// Sizes of the groups of `list` for `total` clients: counts as given, fractions of `total` by
// largest-remainder rounding of what the counts leave. Empty when they cannot add up to `total`.
std::vector<int> groupSizes(const QJsonArray &list, int total, QString *problem) {
    std::vector<int> sizes(static_cast<std::size_t>(list.size()), 0);
    int counted = 0;
    double fractionSum = 0;
    std::vector<std::pair<double, std::size_t>> fractions;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonObject g = list[i].toObject();
        if (g.contains(QStringLiteral("count"))) {
            sizes[std::size_t(i)] = g.value(QStringLiteral("count")).toInt();
            counted += sizes[std::size_t(i)];
        } else {
            fractionSum += g.value(QStringLiteral("fraction")).toDouble();
            fractions.push_back({g.value(QStringLiteral("fraction")).toDouble(), std::size_t(i)});
        }
    }
    const int rest = total - counted;
    const double wanted = fractionSum * total;
    if (rest < int(fractions.size()) || std::abs(wanted - rest) >= 1.0 || (fractions.empty() && rest != 0)) {
        if (problem)
            *problem = QStringLiteral(
                           "the groups hold %1 clients (counts %2%3); clients.count is %4: they must add up")
                           .arg(counted + wanted, 0, 'g', 6)
                           .arg(counted)
                           .arg(fractions.empty()
                                    ? QString()
                                    : QStringLiteral(" + fractions %1 x %2").arg(fractionSum).arg(total))
                           .arg(total);
        return {};
    }
    // Largest remainder over the fraction groups, so they share exactly `rest` clients.
    int used = 0;
    std::vector<std::pair<double, std::size_t>> remainders;
    for (const auto &[f, i] : fractions) {
        const double exact = f / fractionSum * rest;
        sizes[i] = int(std::floor(exact));
        used += sizes[i];
        remainders.push_back({exact - sizes[i], i});
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](auto &a, auto &b) { return a.first > b.first; });
    for (std::size_t k = 0; used < rest; ++k, ++used)
        sizes[remainders[k % remainders.size()].second] += 1;
    for (std::size_t i = 0; i < sizes.size(); ++i)
        if (sizes[i] < 1) {
            if (problem)
                *problem =
                    QStringLiteral("group '%1' gets no client out of clients.count %2; raise its fraction")
                        .arg(list[qsizetype(i)].toObject().value(QStringLiteral("name")).toString())
                        .arg(total);
            return {};
        }
    return sizes;
}

// A group's behaviour and privacy overrides checked against their registered schemas (category
// "behaviour"; the privacy section's keys a group may override), with the behaviour's defaults filled in.
// Paths name the group by its index in the list: clients.groups[2].behaviour.scale.
QJsonArray normalizedGroups(const QJsonArray &groups,
                            const std::function<void(const QString &, const QString &)> &error) {
    const Registry &reg = Registry::global();
    QJsonArray out;
    for (qsizetype i = 0; i < groups.size(); ++i) {
        QJsonObject g = groups[i].toObject();
        const QString at = QStringLiteral("clients.groups[%1].").arg(i);
        if (g.contains(QStringLiteral("behaviour"))) {
            const QJsonObject given = g.value(QStringLiteral("behaviour")).toObject();
            const QString name = given.value(QStringLiteral("name")).toString();
            const ComponentSchema *c = reg.component(QStringLiteral("behaviour"), name);
            if (!c) {
                error(at + QStringLiteral("behaviour.name"),
                      QStringLiteral("'%1' is unknown; allowed: %2")
                          .arg(name,
                               reg.componentNames(QStringLiteral("behaviour")).join(QStringLiteral(", "))));
            } else {
                QJsonObject b{{QStringLiteral("name"), name}};
                for (const ParamSchema &p : c->params)
                    b.insert(p.key, p.defaultValue);
                for (auto it = given.constBegin(); it != given.constEnd(); ++it) {
                    if (it.key() == QLatin1String("name")) continue;
                    const QString path = at + QStringLiteral("behaviour.") + it.key();
                    const ParamSchema *p = c->param(it.key());
                    if (!p) {
                        QStringList keys;
                        for (const ParamSchema &q : c->params)
                            keys.append(q.key);
                        error(path, QStringLiteral("unknown key; behaviour '%1' has: %2")
                                        .arg(name, keys.isEmpty() ? QStringLiteral("no parameters")
                                                                  : keys.join(QStringLiteral(", "))));
                    } else if (const QString problem = p->check(it.value()); !problem.isEmpty()) {
                        error(path, problem);
                    } else {
                        b.insert(p->key, it.value());
                    }
                }
                g.insert(QStringLiteral("behaviour"), b);
            }
        }
        if (g.contains(QStringLiteral("privacy"))) {
            const SectionSchema *privacy = reg.section(QStringLiteral("privacy"));
            const QStringList overridable = groupPrivacyOverrides();
            const QJsonObject given = g.value(QStringLiteral("privacy")).toObject();
            for (auto it = given.constBegin(); it != given.constEnd(); ++it) {
                const QString path = at + QStringLiteral("privacy.") + it.key();
                const ParamSchema *p = privacy ? privacy->param(it.key()) : nullptr;
                if (!p || !overridable.contains(it.key()))
                    error(path, QStringLiteral("a group may override only: ") +
                                    overridable.join(QStringLiteral(", ")));
                else if (const QString problem = p->check(it.value()); !problem.isEmpty())
                    error(path, problem);
            }
        }
        out.append(g);
    }
    return out;
}

} // namespace

QList<ClientGroup> FederationSpec::groups() const {
    const QJsonArray list = value(QStringLiteral("clients.groups")).toArray();
    if (list.isEmpty()) {
        ClientGroup all;
        all.name = QStringLiteral("clients");
        all.count = clientCount();
        return {all};
    }
    const std::vector<int> sizes = groupSizes(list, clientCount(), nullptr);
    QList<ClientGroup> out;
    int first = 0;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonObject g = list[i].toObject();
        const int n = sizes.empty() ? 0 : sizes[std::size_t(i)];
        ClientGroup group;
        group.name = g.value(QStringLiteral("name")).toString();
        group.firstClient = first;
        group.count = n;
        group.epochs = g.value(QStringLiteral("epochs")).toInt(0);
        if (const QJsonObject b = g.value(QStringLiteral("behaviour")).toObject(); !b.isEmpty()) {
            group.behaviour.name = b.value(QStringLiteral("name")).toString();
            group.behaviour.params = b;
            group.behaviour.params.remove(QStringLiteral("name"));
        }
        group.privacy = g.value(QStringLiteral("privacy")).toObject();
        out.append(std::move(group));
        first += n;
    }
    return out;
}

int FederationSpec::groupOf(int clientId) const {
    const QList<ClientGroup> gs = groups();
    for (qsizetype i = 0; i < gs.size(); ++i)
        if (clientId >= gs[i].firstClient && clientId < gs[i].firstClient + gs[i].count) return int(i);
    return 0;
}

int FederationSpec::clientsPerRound() const {
    const double v = real(QStringLiteral("clients.per_round"));
    const int count = clientCount();
    if (v > 0 && v < 1) return std::max(1, int(std::lround(v * count)));
    return std::min(count, int(v));
}

double FederationSpec::samplingRate() const {
    const double v = real(QStringLiteral("clients.per_round"));
    if (poissonSampling() && v > 0 && v < 1) return v;
    return double(clientsPerRound()) / double(clientCount());
}

bool FederationSpec::poissonSampling() const {
    return string(QStringLiteral("clients.sampling")) == QLatin1String("poisson");
}

FederationSpec::Parsed FederationSpec::parse(const QJsonObject &raw) {
    registerBuiltins();
    const Registry &reg = Registry::global();
    Parsed out;
    auto error = [&](const QString &path, const QString &msg) { out.errors.append({path, msg}); };

    // Format version first: a newer file is refused as a whole rather than half-understood.
    const QJsonValue format = raw.value(QStringLiteral("format"));
    if (format.isUndefined()) {
        error(QStringLiteral("format"),
              QStringLiteral("missing; a workspace starts with \"format\": %1").arg(kWorkspaceFormat));
        return out;
    }
    if (!format.isDouble() || format.toDouble() != kWorkspaceFormat) {
        error(QStringLiteral("format"),
              QStringLiteral("%1 is not supported; this FedWorkbench reads format %2")
                  .arg(QString::fromUtf8(QJsonDocument(QJsonArray{format}).toJson(QJsonDocument::Compact))
                           .mid(1)
                           .chopped(1))
                  .arg(kWorkspaceFormat));
        return out;
    }

    QStringList sectionKeys;
    for (const SectionSchema &s : reg.sections())
        sectionKeys.append(s.key);
    for (auto it = raw.constBegin(); it != raw.constEnd(); ++it) {
        if (it.key() == QLatin1String("layout")) { // the designer's node positions: not the engine's
            if (!it.value().isObject()) error(it.key(), QStringLiteral("must be an object (node positions)"));
            continue;
        }
        if (topLevelKeys().contains(it.key())) {
            if (it.key() != QLatin1String("format") && !it.value().isString())
                error(it.key(), QStringLiteral("must be a string"));
            continue;
        }
        if (!sectionKeys.contains(it.key()))
            error(it.key(),
                  QStringLiteral("unknown section; allowed: ") + sectionKeys.join(QStringLiteral(", ")));
        else if (!it.value().isObject())
            error(it.key(), QStringLiteral("must be an object of settings"));
    }

    QJsonObject normalized{{QStringLiteral("format"), kWorkspaceFormat}};
    for (const QString &k : {QStringLiteral("name"), QStringLiteral("description")})
        if (raw.value(k).isString()) normalized.insert(k, raw.value(k));

    for (const SectionSchema &s : reg.sections()) {
        const QJsonObject given = raw.value(s.key).toObject();
        QJsonObject section;
        const ComponentSchema *component = nullptr;
        if (!s.category.isEmpty()) {
            const ParamSchema *nameParam = s.param(QStringLiteral("name"));
            const QJsonValue name = given.contains(QStringLiteral("name"))
                                        ? given.value(QStringLiteral("name"))
                                        : nameParam->defaultValue;
            if (const QString problem = nameParam->check(name); !problem.isEmpty())
                error(s.key + QStringLiteral(".name"), problem);
            else
                component = reg.component(s.category, name.toString());
        }
        // Defaults first, then what the file says.
        for (const ParamSchema &p : s.params)
            section.insert(p.key, p.defaultValue);
        if (component) section.insert(QStringLiteral("name"), component->name);
        if (component)
            for (const ParamSchema &p : component->params)
                section.insert(p.key, p.defaultValue);
        for (auto it = given.constBegin(); it != given.constEnd(); ++it) {
            const QString path = s.key + QLatin1Char('.') + it.key();
            const ParamSchema *p = s.param(it.key());
            if (!p && component) p = component->param(it.key());
            if (p) {
                if (p->key == QLatin1String("name") && !s.category.isEmpty()) continue; // checked above
                if (const QString problem = p->check(it.value()); !problem.isEmpty())
                    error(path, problem);
                else
                    section.insert(p->key, it.value());
                continue;
            }
            // A key of another component of this category (left over after switching, say) is harmless.
            QStringList owners;
            for (const QString &other : reg.componentNames(s.category))
                if (const ComponentSchema *c = reg.component(s.category, other); c && c->param(it.key()))
                    owners.append(other);
            if (!owners.isEmpty()) {
                // Still a value a user may switch to: it must be valid for the component it belongs to.
                const ParamSchema *owned = reg.component(s.category, owners.first())->param(it.key());
                if (const QString problem = owned->check(it.value()); !problem.isEmpty())
                    error(path, problem);
                else if (component) // without a component the name error says it all
                    out.warnings.append(
                        {path,
                         QStringLiteral("ignored: %1 '%2' has no parameter '%3' (it belongs to %4)")
                             .arg(s.category, component->name, it.key(), owners.join(QStringLiteral(", ")))});
                continue;
            }
            error(path, QStringLiteral("unknown key; allowed: ") +
                            allowedSectionKeys(s, component).join(QStringLiteral(", ")));
        }
        normalized.insert(s.key, section);
    }
    if (!out.errors.isEmpty()) return out;

    // The default number of clients per round (10) never exceeds a smaller population.
    if (!raw.value(QStringLiteral("clients")).toObject().contains(QStringLiteral("per_round"))) {
        QJsonObject clients = normalized.value(QStringLiteral("clients")).toObject();
        const double count = clients.value(QStringLiteral("count")).toDouble();
        clients.insert(QStringLiteral("per_round"),
                       std::min(clients.value(QStringLiteral("per_round")).toDouble(), count));
        normalized.insert(QStringLiteral("clients"), clients);
    }

    // Cross-field constraints.
    FederationSpec spec;
    spec.m_json = normalized;
    const int count = spec.clientCount();
    const double perRound = spec.real(QStringLiteral("clients.per_round"));
    if (perRound >= 1 && perRound > count)
        error(QStringLiteral("clients.per_round"),
              QStringLiteral(
                  "%1 is more than clients.count (%2); allowed: a count in [1, %2] or a fraction in (0, 1)")
                  .arg(perRound)
                  .arg(count));
    // dataset.seed and partition.seed default to run.seed.
    for (const QString &section : {QStringLiteral("dataset"), QStringLiteral("partition")}) {
        QJsonObject o = spec.m_json.value(section).toObject();
        if (o.value(QStringLiteral("seed")).toInteger() < 0) {
            o.insert(QStringLiteral("seed"), double(spec.seed()));
            spec.m_json.insert(section, o);
        }
    }
    if (const QJsonArray groups = spec.value(QStringLiteral("clients.groups")).toArray(); !groups.isEmpty()) {
        QString problem;
        if (groupSizes(groups, count, &problem).empty()) error(QStringLiteral("clients.groups"), problem);
        QJsonObject clients = spec.m_json.value(QStringLiteral("clients")).toObject();
        clients.insert(QStringLiteral("groups"), normalizedGroups(groups, error));
        spec.m_json.insert(QStringLiteral("clients"), clients);
    }

    // Rules between components come from what each selected component declares: a "needs-X" capability
    // must be met by an "X" of another selected component; a component's own check runs on the workspace
    // (once, however many groups select it). A group's behaviour is selected at clients.groups[i].behaviour.
    struct Selected {
        QString section;
        const ComponentSchema *component;
    };
    QList<Selected> selected;
    for (const SectionSchema &sec : reg.sections())
        if (!sec.category.isEmpty())
            if (const ComponentSchema *c =
                    reg.component(sec.category, spec.string(sec.key + QStringLiteral(".name"))))
                selected.append({sec.key, c});
    const QJsonArray groupList = spec.value(QStringLiteral("clients.groups")).toArray();
    for (qsizetype i = 0; i < groupList.size(); ++i) {
        const QJsonObject b = groupList[i].toObject().value(QStringLiteral("behaviour")).toObject();
        if (const ComponentSchema *c =
                reg.component(QStringLiteral("behaviour"), b.value(QStringLiteral("name")).toString()))
            selected.append({QStringLiteral("clients.groups[%1].behaviour").arg(i), c});
    }
    QSet<const ComponentSchema *> checked;
    for (const Selected &s : selected) {
        for (const QString &cap : s.component->capabilities) {
            if (!cap.startsWith(QLatin1String("needs-"))) continue;
            const QString wanted = cap.mid(6);
            // What the round loop itself gives every strategy (a secure-aggregation stage, say, will take
            // "individual-updates" away by declaring it withdrawn).
            static const QStringList roundLoopProvides{
                QStringLiteral("individual-updates"), QStringLiteral("client-payload"),
                QStringLiteral("local-steps"), QStringLiteral("start-loss")};
            bool met = roundLoopProvides.contains(wanted);
            for (const Selected &o : selected)
                if (o.component != s.component && o.component->has(wanted)) met = true;
            if (met) continue;
            // The section whose components can provide it (and which of them do), and the alternatives here.
            QString provider;
            QStringList providers;
            for (const Selected &o : selected) {
                if (o.component == s.component) continue;
                QStringList names;
                for (const QString &name : reg.componentNames(o.component->category))
                    if (reg.component(o.component->category, name)->has(wanted)) names.append(name);
                if (names.isEmpty()) continue;
                provider = QStringLiteral("%1 '%2'").arg(o.section, o.component->name);
                providers = names;
            }
            QStringList alternatives;
            for (const QString &name : reg.componentNames(s.component->category))
                if (!reg.component(s.component->category, name)->has(cap)) alternatives.append(name);
            error(s.section + QStringLiteral(".name"),
                  QStringLiteral("'%1' needs %2; %3 has none (allowed here: %4%5)")
                      .arg(s.component->name, capabilityText(wanted),
                           provider.isEmpty() ? QStringLiteral("the workspace") : provider,
                           alternatives.join(QStringLiteral(", ")),
                           providers.isEmpty()
                               ? QString()
                               : QStringLiteral("; or with: ") + providers.join(QStringLiteral(", "))));
        }
        if (s.component->check && !checked.contains(s.component)) s.component->check(spec, out.errors);
        checked.insert(s.component);
    }
    for (const SectionSchema &sec : reg.sections())
        if (sec.check) sec.check(spec, out.errors, out.warnings);
    const QString model = spec.string(QStringLiteral("model.name"));
    const DatasetFacts data = datasetFacts(spec.string(QStringLiteral("dataset.name")));
    const QJsonObject modelParams = spec.section(QStringLiteral("model"));
    if (const std::int64_t perSample = activationBytesPerSample(model, data, modelParams); perSample > 0) {
        const qint64 batch = spec.integer(QStringLiteral("training.batch_size"));
        const std::int64_t maxBatch = kActivationBudgetBytes / perSample;
        if (batch > maxBatch)
            error(QStringLiteral("training.batch_size"),
                  QStringLiteral("%1 needs about %2 GB of memory for %3; allowed here: an integer in [1, %4]")
                      .arg(batch)
                      .arg(double(batch * perSample) / double(1 << 30), 0, 'f', 1)
                      .arg(model)
                      .arg(maxBatch));
    }
    if (!out.errors.isEmpty()) return out;
    out.spec = std::move(spec);
    return out;
}

namespace {

// A workspace is a small text file; anything larger is not one (and must not be read into memory).
constexpr qint64 kMaxWorkspaceBytes = 4 * 1024 * 1024;

// "line:column" (both from 1, columns in characters) of byte `offset` of UTF-8 `text`.
QString lineColumn(const QByteArray &text, qsizetype offset) {
    offset = std::clamp<qsizetype>(offset, 0, text.size());
    int line = 1, column = 1;
    for (qsizetype i = 0; i < offset; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            ++line;
            column = 1;
        } else if ((c & 0xC0) != 0x80) { // not a UTF-8 continuation byte
            ++column;
        }
    }
    return QStringLiteral("%1:%2").arg(line).arg(column);
}

bool isJsonSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Where QJsonParseError's offset points: mostly one past the offending character; for trailing garbage, at
// the whitespace before it.
qsizetype errorPosition(const QByteArray &text, const QJsonParseError &e) {
    qsizetype at = e.offset;
    if (e.error == QJsonParseError::GarbageAtEnd) {
        while (at < text.size() && isJsonSpace(text[at]))
            ++at;
        return at;
    }
    return std::max<qsizetype>(0, at - 1);
}

// The name of a JSON value's type, for "a workspace must be an object, not ...".
QString jsonTypeName(const QJsonValue &v) {
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("a boolean");
    case QJsonValue::Double:
        return QStringLiteral("a number");
    case QJsonValue::String:
        return QStringLiteral("a string");
    case QJsonValue::Array:
        return QStringLiteral("an array");
    default:
        return QStringLiteral("something else");
    }
}

// Keys that occur more than once in one object of `text`, a JSON text QJsonDocument accepted (which keeps
// the last value of a repeated key without a word). QJsonDocument cannot report them, so this scans the
// text itself: strings (with their escapes), nesting by an explicit stack (no recursion), array indices
// for the paths ("clients.groups[1].name"). Each repeated key is reported once per object.
QList<SpecIssue> repeatedKeys(const QByteArray &text) {
    struct Frame {
        bool object = false;
        QString path;           // of this object or array ("" at the top)
        bool expectKey = false; // object: the next string is a key
        QString lastKey;        // object: the key whose value comes next
        int index = 0;          // array: the index of the current element
        QSet<QString> seen, reported;
    };
    QList<SpecIssue> out;
    std::vector<Frame> stack;
    // The path of the value that starts now, inside the innermost container.
    const auto valuePath = [&stack]() -> QString {
        if (stack.empty()) return {};
        const Frame &f = stack.back();
        if (f.object) return f.path.isEmpty() ? f.lastKey : f.path + QLatin1Char('.') + f.lastKey;
        return f.path + QStringLiteral("[%1]").arg(f.index);
    };
    const char *p = text.constData();
    const char *const end = p + text.size();
    if (end - p >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; // UTF-8 byte-order mark
    while (p < end) {
        const char c = *p;
        if (isJsonSpace(c) || c == ':') {
            ++p;
        } else if (c == '{' || c == '[') {
            Frame f;
            f.object = c == '{';
            f.expectKey = f.object;
            f.path = valuePath();
            stack.push_back(std::move(f));
            ++p;
        } else if (c == '}' || c == ']') {
            if (!stack.empty()) stack.pop_back();
            ++p;
        } else if (c == ',') {
            if (!stack.empty()) {
                Frame &f = stack.back();
                if (f.object)
                    f.expectKey = true;
                else
                    ++f.index;
            }
            ++p;
        } else if (c == '"') {
            const char *const begin = ++p;
            bool escaped = false;
            while (p < end && *p != '"') {
                if (*p == '\\') {
                    escaped = true;
                    ++p; // the escaped character, whatever it is
                }
                if (p < end) ++p;
            }
            const QByteArray raw(begin, qsizetype(std::min(p, end) - begin));
            if (p < end) ++p; // the closing quote
            if (stack.empty() || !stack.back().object || !stack.back().expectKey) continue; // a value
            Frame &f = stack.back();
            f.expectKey = false;
            QString key;
            if (!escaped) {
                key = QString::fromUtf8(raw);
            } else { // let the JSON parser decode the escapes, so "\u0061" and "a" are the same key
                const QJsonDocument one = QJsonDocument::fromJson("[\"" + raw + "\"]");
                key = one.array().at(0).toString(QString::fromUtf8(raw));
            }
            f.lastKey = key;
            if (f.seen.contains(key)) {
                if (!f.reported.contains(key)) {
                    f.reported.insert(key);
                    out.append({valuePath(), QStringLiteral("duplicate key, the last value is used")});
                }
            } else {
                f.seen.insert(key);
            }
        } else { // a number, true, false or null
            while (p < end && !isJsonSpace(*p) && *p != ',' && *p != ']' && *p != '}')
                ++p;
        }
    }
    return out;
}

} // namespace

std::optional<QJsonObject> FederationSpec::readFile(const QString &path, QString *error,
                                                    QList<SpecIssue> *warnings) {
    const auto fail = [error](const QString &message) -> std::optional<QJsonObject> {
        if (error) *error = message;
        return std::nullopt;
    };
    if (warnings) warnings->clear();
    // The type first: opening a FIFO blocks until a writer comes, and a device (/dev/zero, /dev/urandom)
    // never ends.
    const QFileInfo info(path);
    if (!info.exists()) return fail(QStringLiteral("%1: cannot open: no such file").arg(path));
    if (info.isDir())
        return fail(
            QStringLiteral("%1: is a folder; a workspace is a .fedwb file holding a JSON object").arg(path));
    if (!info.isFile())
        return fail(
            QStringLiteral("%1: not a regular file (a device, pipe or socket); a workspace is a .fedwb file "
                           "holding a JSON object")
                .arg(path));
    const auto tooLarge = [&]() {
        return fail(
            QStringLiteral("%1: too large for a workspace (more than %2 MiB); a workspace is a small JSON "
                           "file")
                .arg(path)
                .arg(kMaxWorkspaceBytes / (1024 * 1024)));
    };
    if (info.size() > kMaxWorkspaceBytes) return tooLarge();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("%1: cannot open: %2").arg(path, file.errorString()));
    const QByteArray bytes = file.read(kMaxWorkspaceBytes + 1); // the file may have grown since
    if (file.error() != QFileDevice::NoError)
        return fail(QStringLiteral("%1: cannot read: %2").arg(path, file.errorString()));
    if (bytes.size() > kMaxWorkspaceBytes) return tooLarge();
    if (bytes.trimmed().isEmpty())
        return fail(
            QStringLiteral("%1: the file is empty; a workspace is a JSON object such as {\"format\": 1}")
                .arg(path));
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        // QJsonDocument refuses a lone value ("null", "\"text\"", 3); say what it is rather than "illegal".
        QByteArray start = bytes;
        if (start.startsWith("\xEF\xBB\xBF")) start = start.mid(3);
        start = start.trimmed();
        if (!start.startsWith('{') && !start.startsWith('[')) {
            QJsonParseError wrappedError;
            const QJsonDocument wrapped = QJsonDocument::fromJson("[" + start + "]", &wrappedError);
            if (wrappedError.error == QJsonParseError::NoError && wrapped.array().size() == 1)
                return fail(
                    QStringLiteral("%1: a workspace must be a JSON object such as {\"format\": 1}, not %2")
                        .arg(path, jsonTypeName(wrapped.array().at(0))));
        }
        return fail(
            QStringLiteral("%1:%2: not valid JSON: %3")
                .arg(path, lineColumn(bytes, errorPosition(bytes, parseError)), parseError.errorString()));
    }
    if (!doc.isObject())
        return fail(
            QStringLiteral("%1: a workspace must be a JSON object such as {\"format\": 1}, not an array")
                .arg(path));
    if (warnings) *warnings = repeatedKeys(bytes);
    // A relative dataset.path is relative to the workspace file, so a workspace travels with its data.
    QJsonObject raw = doc.object();
    QJsonObject dataset = raw.value(QStringLiteral("dataset")).toObject();
    const QJsonValue dataPath = dataset.value(QStringLiteral("path"));
    if (dataPath.isString() && !dataPath.toString().isEmpty() && QDir::isRelativePath(dataPath.toString())) {
        dataset.insert(QStringLiteral("path"),
                       QDir::cleanPath(QFileInfo(path).absoluteDir().filePath(dataPath.toString())));
        raw.insert(QStringLiteral("dataset"), dataset);
    }
    return raw;
}

bool FederationSpec::applyOverride(QJsonObject &raw, const QString &assignment, QString *error) {
    const qsizetype eq = assignment.indexOf(QLatin1Char('='));
    if (eq <= 0) {
        if (error)
            *error = QStringLiteral("--set %1: expected KEY=VALUE, e.g. partition.alpha=0.1").arg(assignment);
        return false;
    }
    const QString key = assignment.left(eq).trimmed();
    const QString text = assignment.mid(eq + 1).trimmed();
    const QStringList parts = key.split(QLatin1Char('.'));
    if (parts.size() > 2 || parts.contains(QString())) {
        if (error)
            *error = QStringLiteral("--set %1: KEY must be section.key, e.g. run.rounds").arg(assignment);
        return false;
    }
    QJsonValue value;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray("[") + text.toUtf8() + QByteArray("]"));
    if (doc.isArray() && doc.array().size() == 1)
        value = doc.array().at(0);
    else
        value = text; // a bare word: a string such as fedavg or a path
    if (parts.size() == 1) {
        raw.insert(parts[0], value);
        return true;
    }
    QJsonObject section = raw.value(parts[0]).toObject();
    if (raw.contains(parts[0]) && !raw.value(parts[0]).isObject()) {
        if (error) *error = QStringLiteral("--set %1: '%2' is not a section").arg(assignment, parts[0]);
        return false;
    }
    section.insert(parts[1], value);
    raw.insert(parts[0], section);
    return true;
}

} // namespace fedwb
