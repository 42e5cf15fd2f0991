// A validated, fully defaulted federation description, read from a `.fedwb` workspace.
#pragma once

#include "spec/Schema.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace fedwb {

inline constexpr int kWorkspaceFormat = 1;

// A resolved client group: clients [firstClient, firstClient + count) belong to it.
// How a group's clients act: a registered component of category "behaviour" (engine/adversary/Behaviour.h)
// with its parameters, every default filled in. "honest" unless the group says otherwise.
struct BehaviourRef {
    QString name = QStringLiteral("honest");
    QJsonObject params;
    bool operator==(const BehaviourRef &) const = default;
};

struct ClientGroup {
    QString name;
    int firstClient = 0;
    int count = 0;
    int epochs = 0; // local epochs of this group's clients; 0 = training.epochs
    BehaviourRef behaviour;
    QJsonObject privacy; // the privacy keys this group overrides (local DP: clip_norm, noise_multiplier)
};

// The privacy keys a client group may override in clients.groups[i].privacy (local DP).
QStringList groupPrivacyOverrides();

class FederationSpec {
public:
    struct Parsed;

    // Validates a raw workspace object: unknown keys, wrong types, out-of-range values and cross-field
    // constraints become errors naming the key path; keys that belong to another (unselected) component of
    // the same category become warnings. On success the returned spec has every default filled in.
    static Parsed parse(const QJsonObject &raw);

    // Reads a workspace file as JSON (no validation). On failure returns nullopt and sets *error (naming the
    // file, and line:column for a JSON syntax error). Only a regular file of at most a few MiB is read.
    // *warnings gets what the JSON text says but the object cannot show: a key repeated within one object
    // ("run.rounds: duplicate key, the last value is used").
    static std::optional<QJsonObject> readFile(const QString &path, QString *error,
                                               QList<SpecIssue> *warnings = nullptr);
    // Applies "section.key=value" to a raw workspace object. The value is read as JSON when it parses as
    // JSON (numbers, true/false, quoted strings), otherwise as a plain string.
    static bool applyOverride(QJsonObject &raw, const QString &assignment, QString *error);

    const QJsonObject &json() const { return m_json; }
    QJsonObject section(const QString &key) const { return m_json.value(key).toObject(); }
    QJsonValue value(const QString &path) const; // "training.lr"
    double real(const QString &path) const { return value(path).toDouble(); }
    qint64 integer(const QString &path) const { return value(path).toInteger(); }
    QString string(const QString &path) const { return value(path).toString(); }
    bool boolean(const QString &path) const { return value(path).toBool(); }

    // Convenience for the most used values.
    int clientCount() const { return int(integer(QStringLiteral("clients.count"))); }
    int clientsPerRound() const; // resolves a fraction against clients.count (at least 1)
    // clients.sampling poisson: each client's chance to take part in a round (clients.per_round as a
    // fraction, or a count divided by clients.count); fixed: clientsPerRound() / clients.count.
    double samplingRate() const;
    bool poissonSampling() const;
    int rounds() const { return int(integer(QStringLiteral("run.rounds"))); }
    quint64 seed() const { return quint64(integer(QStringLiteral("run.seed"))); }
    quint64 dataSeed() const { return quint64(integer(QStringLiteral("dataset.seed"))); }        // resolved
    quint64 partitionSeed() const { return quint64(integer(QStringLiteral("partition.seed"))); } // resolved
    // The client groups in id order (one group "clients" holding all when clients.groups is empty).
    QList<ClientGroup> groups() const;
    int groupOf(int clientId) const; // index into groups()

private:
    QJsonObject m_json;
};

struct FederationSpec::Parsed {
    std::optional<FederationSpec> spec;
    QList<SpecIssue> errors;
    QList<SpecIssue> warnings;
    bool ok() const { return spec.has_value(); }
    QString errorText() const; // one "path: problem" line per error
};

} // namespace fedwb
