// The wire protocol between the coordinator and fedwb-worker: one CBOR map per ZeroMQ message, versioned and
// schema-checked on receipt. Torch-free and socket-free, so the decoder can be fuzzed on its own.
//
// Every message is {"proto": "fedwb", "pv": kProtocolVersion, "type": NAME, ...fields}. A message that is
// larger than the limit, not CBOR, not one map, of another protocol version, of an unknown type or with a
// missing or mistyped field is refused with a reason (Decoded::error); the caller logs it and carries on.
#pragma once

#include <QByteArray>
#include <QCborMap>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>

namespace fedwb::remote {

inline constexpr int kProtocolVersion = 1;
// The largest message either side sends or accepts unless configured otherwise (a task carries the model:
// 256 MiB is a model of 64 M float32 parameters plus its state).
inline constexpr std::int64_t kDefaultMaxMessageBytes = std::int64_t(256) << 20;

enum class MessageType {
    Hello,     // worker -> coordinator: name, build, threads, device, kernel settings, datasets it has
    Welcome,   // coordinator -> worker: accepted; heartbeat interval (and its message limit, optional)
    Reject,    // coordinator -> worker: not accepted (reason); the worker stops
    Prepare,   // coordinator -> worker: the run (workspace, dataset and partition digests, portable mode)
    Ready,     // worker -> coordinator: data rebuilt, digests as computed by the worker
    Refuse,    // worker -> coordinator: cannot take part in this run (reason: missing or different data)
    Task,      // coordinator -> worker: one ClientTask with its idempotent id
    Result,    // worker -> coordinator: the ClientResult of a task id, with the worker's kernel settings
    Failed,    // worker -> coordinator: a task threw (reason)
    Cancel,    // coordinator -> worker: stop these task ids
    Heartbeat, // both ways
    Stop,      // coordinator -> worker: exit (fedwb-cli run --stop-workers)
    Bye,       // worker -> coordinator: leaving (SIGINT/SIGTERM); its tasks go to others at once
};
QString messageTypeName(MessageType type);

struct Message {
    MessageType type = MessageType::Heartbeat;
    QCborMap fields; // the whole map, envelope included; typed accessors below read it
};

struct Decoded {
    std::optional<Message> message;
    QString error;             // why the bytes were refused (empty when message is set)
    bool wrongVersion = false; // a fedwb message of another protocol version (the peer should be told)
};

// "1 MiB", "6.3 MiB", "512 bytes": message sizes and limits in messages.
QString describeBytes(std::int64_t bytes);

QByteArray encode(MessageType type, QCborMap fields);
Decoded decode(const QByteArray &bytes, std::int64_t maxBytes = kDefaultMaxMessageBytes);

// A float32 vector on the wire: a byte string whose length is 4 * count. Empty `what` when it fits, else
// the reason naming `field`. expectedCount < 0: any whole number of floats.
QString checkFloat32(const QByteArray &bytes, std::int64_t expectedCount, const QString &field);

// Kernel settings a result was computed with (ATen CPU capability, OpenBLAS core type, intra-op threads).
struct KernelSettings {
    QString atenCapability;   // avx512, avx2, default
    QString openblasCoretype; // as OpenBLAS reports it (empty when the BLAS is not OpenBLAS)
    int intraOpThreads = 1;
    bool operator==(const KernelSettings &) const = default;
    QCborMap toCbor() const;
    static KernelSettings fromCbor(const QCborMap &map);
    QString describe() const; // "aten avx2, openblas Haswell, 1 intra-op thread"
};

} // namespace fedwb::remote
