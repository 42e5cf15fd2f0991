#include "run/RunState.h"
#include "util/Cbor.h"

#include <QCborArray>
#include <QCborMap>
#include <QCborValue>

namespace fedwb {

QByteArray RunState::toBytes() const {
    QCborMap m;
    m.insert(QStringLiteral("kind"), QStringLiteral("fedwb-run-state"));
    m.insert(QStringLiteral("v"), version);
    m.insert(QStringLiteral("round"), round);
    m.insert(QStringLiteral("parameter_count"), qint64(parameterCount));
    m.insert(QStringLiteral("model"), model);
    m.insert(QStringLiteral("strategy"), strategy);
    m.insert(QStringLiteral("strategy_state"), strategyState);
    m.insert(QStringLiteral("spec"), QCborValue::fromJsonValue(spec));
    QCborArray clientList;
    for (const auto &[id, state] : clients.all())
        clientList.append(QCborArray{id, state});
    m.insert(QStringLiteral("clients"), clientList);
    m.insert(QStringLiteral("bytes_up"), qint64(bytesUp));
    m.insert(QStringLiteral("bytes_down"), qint64(bytesDown));
    if (lastTestAccuracy) m.insert(QStringLiteral("test_accuracy"), *lastTestAccuracy);
    if (lastTestLoss) m.insert(QStringLiteral("test_loss"), *lastTestLoss);
    if (!privacy.isEmpty()) m.insert(QStringLiteral("privacy"), QCborMap::fromJsonObject(privacy));
    return QCborValue(m).toCbor();
}

std::optional<RunState> RunState::fromBytes(const QByteArray &bytes, QString *error) {
    QCborParserError parseError;
    const QCborValue v = QCborValue::fromCbor(bytes, &parseError);
    const auto fail = [&](const QString &why) -> std::optional<RunState> {
        if (error) *error = why;
        return std::nullopt;
    };
    if (parseError.error != QCborError::NoError)
        return fail(QStringLiteral("not a run state: ") + parseError.errorString());
    const QCborMap m = v.toMap();
    if (m.value(QStringLiteral("kind")).toString() != QLatin1String("fedwb-run-state"))
        return fail(QStringLiteral("not a run state"));
    RunState s;
    s.version = int(cborInteger(m.value(QStringLiteral("v")), 0));
    if (s.version < 1 || s.version > kRunStateVersion)
        return fail(QStringLiteral("run state version %1; this build reads 1..%2")
                        .arg(s.version)
                        .arg(kRunStateVersion));
    s.round = int(cborInteger(m.value(QStringLiteral("round")), 0));
    s.parameterCount = cborInteger(m.value(QStringLiteral("parameter_count")), 0);
    s.model = m.value(QStringLiteral("model")).toByteArray();
    s.strategy = m.value(QStringLiteral("strategy")).toString();
    s.strategyState = m.value(QStringLiteral("strategy_state")).toByteArray();
    s.spec = m.value(QStringLiteral("spec")).toMap().toJsonObject();
    for (const QCborValue &entry : m.value(QStringLiteral("clients")).toArray()) {
        const QCborArray pair = entry.toArray();
        if (pair.size() != 2 || !pair[0].isInteger())
            return fail(QStringLiteral("run state: malformed client state"));
        s.clients.set(int(cborInteger(pair[0], 0)), pair[1].toByteArray());
    }
    s.bytesUp = cborInteger(m.value(QStringLiteral("bytes_up")), 0);
    s.bytesDown = cborInteger(m.value(QStringLiteral("bytes_down")), 0);
    if (m.contains(QStringLiteral("test_accuracy")))
        s.lastTestAccuracy = m.value(QStringLiteral("test_accuracy")).toDouble();
    if (m.contains(QStringLiteral("test_loss")))
        s.lastTestLoss = m.value(QStringLiteral("test_loss")).toDouble();
    s.privacy = m.value(QStringLiteral("privacy")).toMap().toJsonObject();
    if (s.round < 0 || s.parameterCount < 0 || s.model.size() != s.parameterCount * qint64(sizeof(float)))
        return fail(QStringLiteral("run state: the model does not match its parameter count"));
    return s;
}

QStringList resultChangingDifferences(const QJsonObject &a, const QJsonObject &b) {
    static const QStringList free{QStringLiteral("name"),
                                  QStringLiteral("description"),
                                  QStringLiteral("run.rounds"),
                                  QStringLiteral("run.threads"),
                                  QStringLiteral("run.eval_every"),
                                  QStringLiteral("run.checkpoint_every"),
                                  QStringLiteral("run.checkpoints_kept")};
    QStringList differences;
    QStringList sections = a.keys();
    for (const QString &k : b.keys())
        if (!sections.contains(k)) sections.append(k);
    for (const QString &section : std::as_const(sections)) {
        const QJsonValue va = a.value(section), vb = b.value(section);
        if (!va.isObject() || !vb.isObject()) {
            if (va != vb && !free.contains(section)) differences.append(section);
            continue;
        }
        const QJsonObject oa = va.toObject(), ob = vb.toObject();
        QStringList keys = oa.keys();
        for (const QString &k : ob.keys())
            if (!keys.contains(k)) keys.append(k);
        for (const QString &k : std::as_const(keys)) {
            const QString path = section + QLatin1Char('.') + k;
            if (oa.value(k) != ob.value(k) && !free.contains(path)) differences.append(path);
        }
    }
    return differences;
}

} // namespace fedwb
