// What the coordinator sends a client and what comes back: plain, versioned value types, serializable as
// CBOR, so a remote worker can run a task later without new fields. Torch-free.
#pragma once

#include "spec/FederationSpec.h"
#include "strategy/UpdateStage.h"

#include <QByteArray>
#include <QCborMap>
#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <optional>
#include <span>

namespace fedwb {

inline constexpr int kClientTaskVersion = 1;

// float32 vectors as bytes and back (the wire and state format of every flat vector; native byte order,
// little-endian on every machine FedWorkbench builds for).
QByteArray floatBytes(std::span<const float> values);
inline std::span<const float> floatsOf(const QByteArray &bytes) {
    return {reinterpret_cast<const float *>(bytes.constData()), std::size_t(bytes.size()) / sizeof(float)};
}

// How far K local SGD steps move the model per unit of a constant gradient, in units of the learning rate:
// K for plain SGD; with momentum beta (PyTorch's buf = beta buf + g) the k-th step applies
// (1 - beta^k) / (1 - beta), in total [K - beta (1 - beta^K) / (1 - beta)] / (1 - beta) (Wang et al. 2020);
// with Nesterov (step g + beta buf) [K - beta^2 (1 - beta^K) / (1 - beta)] / (1 - beta). SCAFFOLD's control
// variates and FedNova's normalization divide by it.
double effectiveLocalSteps(std::int64_t steps, double momentum, bool nesterov);

// Local training settings for one client in one round (after per-group overrides and lr decay).
struct TrainingConfig {
    int epochs = 1;
    int batchSize = 32;
    QString optimizer = QStringLiteral("sgd"); // "sgd" | "adam"
    double lr = 0.05;
    double momentum = 0;
    bool nesterov = false;
    double weightDecay = 0;
    // The momentum that moves the model the way effectiveLocalSteps assumes: SGD's (Adam's is no such thing).
    double sgdMomentum() const { return optimizer == QLatin1String("sgd") ? momentum : 0.0; }
    bool sgdNesterov() const { return optimizer == QLatin1String("sgd") && nesterov; }
    bool operator==(const TrainingConfig &) const = default;
};

struct ClientTask {
    int version = kClientTaskVersion;
    qint64 runId = -1;
    int round = 0;
    int clientId = -1;
    QString group;
    QByteArray model; // global parameters, float32 little-endian, flat (QByteArray: copies share the data)
    TrainingConfig training;
    QString algorithm = QStringLiteral("sgd"); // registered client algorithm
    QJsonObject algorithmParams;
    BehaviourRef behaviour;     // how this client acts (its group's behaviour): data poisoning in training
    QList<StageRef> stages;     // client-side update stages, applied in order to the update after training
    QByteArray payloadDown;     // strategy payload (float32), e.g. SCAFFOLD's server control variate
    QByteArray clientState;     // this client's state from earlier rounds (empty: none yet)
    std::uint64_t rngKey = 0;   // the client's batch-order generator for this round
    bool needStartLoss = false; // also report the global model's mean loss on the local data
    QJsonObject spec;           // the validated workspace: lets a remote worker rebuild data and model
    bool operator==(const ClientTask &) const = default;

    // Where the update is when the client stages run on it: their draws are keyed by this task.
    StageContext stageContext() const;

    QCborMap toCbor() const;
    // nullopt (and *error) for a map that is not a task of a version this build reads. A map without a
    // behaviour (written before behaviours existed) is an honest client's.
    static std::optional<ClientTask> fromCbor(const QCborMap &map, QString *error = nullptr);
};

enum class ClientStatus { Ok, Diverged, Dropped, Straggler, Stopped };
QString clientStatusName(ClientStatus status);

struct ClientResult {
    int version = kClientTaskVersion;
    int round = 0;
    int clientId = -1;
    ClientStatus status = ClientStatus::Ok;
    QByteArray update; // delta = local - global, float32 little-endian, flat
    double weight = 0; // training samples
    double trainLoss = 0;
    double startLoss = 0; // when the task asked for it
    std::int64_t steps = 0;
    QByteArray payloadUp;     // client algorithm payload (float32), e.g. SCAFFOLD's change of c_i
    bool hasNewState = false; // newState replaces the client's stored state
    QByteArray newState;
    double computeSeconds = 0;
    std::int64_t bytesUp = 0;
    std::int64_t bytesDown = 0;
    QString worker; // who trained it (the remote executor sets it; empty: this machine)
    bool operator==(const ClientResult &) const = default;

    QCborMap toCbor() const;
    static std::optional<ClientResult> fromCbor(const QCborMap &map, QString *error = nullptr);
};

} // namespace fedwb
