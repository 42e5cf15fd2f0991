#include "train/ClientTask.h"
#include "util/Cbor.h"

#include "util/Rng.h"

#include <QCborArray>
#include <QCborValue>

#include <cmath>

namespace fedwb {

namespace {

// Keys are short strings: readable in a CBOR dump, stable across versions (append, never rename).
const QString kVersion = QStringLiteral("v");

bool checkVersion(const QCborMap &map, const char *what, QString *error) {
    const QCborValue v = map.value(kVersion);
    if (!v.isInteger() || cborInteger(v, 0) < 1 || cborInteger(v, 0) > kClientTaskVersion) {
        if (error)
            *error = QStringLiteral("not a %1 this build reads (version %2; this build reads 1..%3)")
                         .arg(QLatin1String(what))
                         .arg(v.isInteger() ? QString::number(cborInteger(v, 0)) : QStringLiteral("missing"))
                         .arg(kClientTaskVersion);
        return false;
    }
    return true;
}

QCborMap trainingToCbor(const TrainingConfig &t) {
    QCborMap m;
    m.insert(QStringLiteral("epochs"), t.epochs);
    m.insert(QStringLiteral("batch_size"), t.batchSize);
    m.insert(QStringLiteral("optimizer"), t.optimizer);
    m.insert(QStringLiteral("lr"), t.lr);
    m.insert(QStringLiteral("momentum"), t.momentum);
    m.insert(QStringLiteral("nesterov"), t.nesterov);
    m.insert(QStringLiteral("weight_decay"), t.weightDecay);
    return m;
}

TrainingConfig trainingFromCbor(const QCborMap &m) {
    TrainingConfig t;
    t.epochs = int(cborInteger(m.value(QStringLiteral("epochs")), t.epochs));
    t.batchSize = int(cborInteger(m.value(QStringLiteral("batch_size")), t.batchSize));
    t.optimizer = m.value(QStringLiteral("optimizer")).toString(t.optimizer);
    t.lr = m.value(QStringLiteral("lr")).toDouble(t.lr);
    t.momentum = m.value(QStringLiteral("momentum")).toDouble(t.momentum);
    t.nesterov = m.value(QStringLiteral("nesterov")).toBool(t.nesterov);
    t.weightDecay = m.value(QStringLiteral("weight_decay")).toDouble(t.weightDecay);
    return t;
}

ClientStatus statusFromName(const QString &name) {
    for (ClientStatus s : {ClientStatus::Ok, ClientStatus::Diverged, ClientStatus::Dropped,
                           ClientStatus::Straggler, ClientStatus::Stopped})
        if (clientStatusName(s) == name) return s;
    return ClientStatus::Dropped;
}

} // namespace

double effectiveLocalSteps(std::int64_t steps, double momentum, bool nesterov) {
    const double k = double(steps);
    const double b = momentum;
    if (!(b > 0) || b >= 1) return k;
    const double lead = nesterov ? b * b : b;
    return (k - lead * (1 - std::pow(b, k)) / (1 - b)) / (1 - b);
}

QString clientStatusName(ClientStatus status) {
    switch (status) {
    case ClientStatus::Ok:
        return QStringLiteral("ok");
    case ClientStatus::Diverged:
        return QStringLiteral("diverged");
    case ClientStatus::Dropped:
        return QStringLiteral("dropped");
    case ClientStatus::Straggler:
        return QStringLiteral("straggler");
    case ClientStatus::Stopped:
        return QStringLiteral("stopped");
    }
    return {};
}

StageContext ClientTask::stageContext() const {
    return {round, clientId, deriveSeed(rngKey, "client-stages")};
}

QCborMap ClientTask::toCbor() const {
    QCborMap m;
    m.insert(kVersion, version);
    m.insert(QStringLiteral("kind"), QStringLiteral("task"));
    m.insert(QStringLiteral("run"), runId);
    m.insert(QStringLiteral("round"), round);
    m.insert(QStringLiteral("client"), clientId);
    m.insert(QStringLiteral("group"), group);
    m.insert(QStringLiteral("model"), model);
    m.insert(QStringLiteral("training"), trainingToCbor(training));
    m.insert(QStringLiteral("algorithm"), algorithm);
    m.insert(QStringLiteral("algorithm_params"), QCborValue::fromJsonValue(algorithmParams));
    QCborArray stageList;
    for (const StageRef &st : stages)
        stageList.append(QCborMap{{QStringLiteral("name"), st.name},
                                  {QStringLiteral("params"), QCborValue::fromJsonValue(st.params)}});
    m.insert(QStringLiteral("stages"), stageList);
    m.insert(QStringLiteral("behaviour"),
             QCborMap{{QStringLiteral("name"), behaviour.name},
                      {QStringLiteral("params"), QCborValue::fromJsonValue(behaviour.params)}});
    m.insert(QStringLiteral("payload_down"), payloadDown);
    m.insert(QStringLiteral("client_state"), clientState);
    m.insert(QStringLiteral("rng_key"), QCborValue(qint64(rngKey))); // bit pattern kept; read back unsigned
    m.insert(QStringLiteral("need_start_loss"), needStartLoss);
    m.insert(QStringLiteral("spec"), QCborValue::fromJsonValue(spec));
    return m;
}

std::optional<ClientTask> ClientTask::fromCbor(const QCborMap &m, QString *error) {
    if (!checkVersion(m, "client task", error)) return std::nullopt;
    if (m.value(QStringLiteral("kind")).toString() != QLatin1String("task")) {
        if (error) *error = QStringLiteral("not a client task");
        return std::nullopt;
    }
    ClientTask t;
    t.version = int(cborInteger(m.value(kVersion), 0));
    t.runId = cborInteger(m.value(QStringLiteral("run")), -1);
    t.round = int(cborInteger(m.value(QStringLiteral("round")), 0));
    t.clientId = int(cborInteger(m.value(QStringLiteral("client")), -1));
    t.group = m.value(QStringLiteral("group")).toString();
    t.model = m.value(QStringLiteral("model")).toByteArray();
    t.training = trainingFromCbor(m.value(QStringLiteral("training")).toMap());
    t.algorithm = m.value(QStringLiteral("algorithm")).toString(t.algorithm);
    t.algorithmParams = m.value(QStringLiteral("algorithm_params")).toMap().toJsonObject();
    for (const QCborValue &st : m.value(QStringLiteral("stages")).toArray())
        t.stages.append({st.toMap().value(QStringLiteral("name")).toString(),
                         st.toMap().value(QStringLiteral("params")).toMap().toJsonObject()});
    if (const QCborMap b = m.value(QStringLiteral("behaviour")).toMap(); !b.isEmpty()) {
        t.behaviour.name = b.value(QStringLiteral("name")).toString(t.behaviour.name);
        t.behaviour.params = b.value(QStringLiteral("params")).toMap().toJsonObject();
    }
    t.payloadDown = m.value(QStringLiteral("payload_down")).toByteArray();
    t.clientState = m.value(QStringLiteral("client_state")).toByteArray();
    t.rngKey = std::uint64_t(cborInteger(m.value(QStringLiteral("rng_key")), 0));
    t.needStartLoss = m.value(QStringLiteral("need_start_loss")).toBool();
    t.spec = m.value(QStringLiteral("spec")).toMap().toJsonObject();
    if (t.round < 1 || t.clientId < 0 || t.model.size() % qsizetype(sizeof(float)) != 0) {
        if (error) *error = QStringLiteral("malformed client task (round, client or model)");
        return std::nullopt;
    }
    return t;
}

QCborMap ClientResult::toCbor() const {
    QCborMap m;
    m.insert(kVersion, version);
    m.insert(QStringLiteral("kind"), QStringLiteral("result"));
    m.insert(QStringLiteral("round"), round);
    m.insert(QStringLiteral("client"), clientId);
    m.insert(QStringLiteral("status"), clientStatusName(status));
    m.insert(QStringLiteral("update"), update);
    m.insert(QStringLiteral("weight"), weight);
    m.insert(QStringLiteral("train_loss"), trainLoss);
    m.insert(QStringLiteral("start_loss"), startLoss);
    m.insert(QStringLiteral("steps"), qint64(steps));
    m.insert(QStringLiteral("payload_up"), payloadUp);
    m.insert(QStringLiteral("has_new_state"), hasNewState);
    m.insert(QStringLiteral("new_state"), newState);
    m.insert(QStringLiteral("compute_seconds"), computeSeconds);
    m.insert(QStringLiteral("bytes_up"), qint64(bytesUp));
    m.insert(QStringLiteral("bytes_down"), qint64(bytesDown));
    if (!worker.isEmpty()) m.insert(QStringLiteral("worker"), worker);
    return m;
}

std::optional<ClientResult> ClientResult::fromCbor(const QCborMap &m, QString *error) {
    if (!checkVersion(m, "client result", error)) return std::nullopt;
    if (m.value(QStringLiteral("kind")).toString() != QLatin1String("result")) {
        if (error) *error = QStringLiteral("not a client result");
        return std::nullopt;
    }
    ClientResult r;
    r.version = int(cborInteger(m.value(kVersion), 0));
    r.round = int(cborInteger(m.value(QStringLiteral("round")), 0));
    r.clientId = int(cborInteger(m.value(QStringLiteral("client")), -1));
    r.status = statusFromName(m.value(QStringLiteral("status")).toString());
    r.update = m.value(QStringLiteral("update")).toByteArray();
    r.weight = m.value(QStringLiteral("weight")).toDouble();
    r.trainLoss = m.value(QStringLiteral("train_loss")).toDouble();
    r.startLoss = m.value(QStringLiteral("start_loss")).toDouble();
    r.steps = cborInteger(m.value(QStringLiteral("steps")), 0);
    r.payloadUp = m.value(QStringLiteral("payload_up")).toByteArray();
    r.hasNewState = m.value(QStringLiteral("has_new_state")).toBool();
    r.newState = m.value(QStringLiteral("new_state")).toByteArray();
    r.computeSeconds = m.value(QStringLiteral("compute_seconds")).toDouble();
    r.bytesUp = cborInteger(m.value(QStringLiteral("bytes_up")), 0);
    r.bytesDown = cborInteger(m.value(QStringLiteral("bytes_down")), 0);
    r.worker = m.value(QStringLiteral("worker")).toString();
    if (r.round < 1 || r.clientId < 0 || r.update.size() % qsizetype(sizeof(float)) != 0 ||
        r.payloadUp.size() % qsizetype(sizeof(float)) != 0) {
        if (error) *error = QStringLiteral("malformed client result (round, client, update or payload)");
        return std::nullopt;
    }
    return r;
}

QByteArray floatBytes(std::span<const float> values) {
    return QByteArray(reinterpret_cast<const char *>(values.data()), qsizetype(values.size_bytes()));
}

} // namespace fedwb
