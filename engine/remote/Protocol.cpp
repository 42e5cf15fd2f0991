#include "remote/Protocol.h"
#include "util/Cbor.h"

#include <QCborArray>
#include <QCborStreamReader>
#include <QCborValue>

#include <array>
#include <initializer_list>
#include <utility>

namespace fedwb::remote {

namespace {

enum class Kind { String, Integer, Number, Bool, Bytes, Map, Array };

struct Field {
    const char *key;
    Kind kind;
};

struct Schema {
    MessageType type;
    const char *name;
    std::initializer_list<Field> required;
};

// The required fields of every message (more may follow in later versions: unknown keys are ignored).
const std::array<Schema, 13> &schemas() {
    static const std::array<Schema, 13> s{{
        {MessageType::Hello,
         "hello",
         {{"name", Kind::String},
          {"build", Kind::String},
          {"threads", Kind::Integer},
          {"device", Kind::String},
          {"kernel", Kind::Map},
          {"portable", Kind::Bool},
          {"datasets", Kind::Array}}},
        {MessageType::Welcome, "welcome", {{"heartbeat_ms", Kind::Integer}}},
        {MessageType::Reject, "reject", {{"reason", Kind::String}}},
        {MessageType::Prepare,
         "prepare",
         {{"run", Kind::Integer},
          {"spec", Kind::Map},
          {"dataset_digest", Kind::String},
          {"partition_digest", Kind::String},
          {"parameters", Kind::Integer},
          {"portable", Kind::Bool}}},
        {MessageType::Ready,
         "ready",
         {{"run", Kind::Integer}, {"dataset_digest", Kind::String}, {"partition_digest", Kind::String}}},
        {MessageType::Refuse, "refuse", {{"run", Kind::Integer}, {"reason", Kind::String}}},
        {MessageType::Task, "task", {{"run", Kind::Integer}, {"id", Kind::String}, {"task", Kind::Map}}},
        {MessageType::Result,
         "result",
         {{"run", Kind::Integer}, {"id", Kind::String}, {"result", Kind::Map}, {"kernel", Kind::Map}}},
        {MessageType::Failed,
         "failed",
         {{"run", Kind::Integer}, {"id", Kind::String}, {"reason", Kind::String}}},
        {MessageType::Cancel, "cancel", {{"run", Kind::Integer}, {"ids", Kind::Array}}},
        {MessageType::Heartbeat, "heartbeat", {{"busy", Kind::Integer}}},
        {MessageType::Stop, "stop", {{"reason", Kind::String}}},
        {MessageType::Bye, "bye", {}},
    }};
    return s;
}

bool hasKind(const QCborValue &v, Kind kind) {
    switch (kind) {
    case Kind::String:
        return v.isString();
    case Kind::Integer:
        return v.isInteger();
    case Kind::Number:
        return v.isInteger() || v.isDouble();
    case Kind::Bool:
        return v.isBool();
    case Kind::Bytes:
        return v.isByteArray();
    case Kind::Map:
        return v.isMap();
    case Kind::Array:
        return v.isArray();
    }
    return false;
}

const char *kindName(Kind kind) {
    switch (kind) {
    case Kind::String:
        return "a text string";
    case Kind::Integer:
        return "an integer";
    case Kind::Number:
        return "a number";
    case Kind::Bool:
        return "a boolean";
    case Kind::Bytes:
        return "a byte string";
    case Kind::Map:
        return "a map";
    case Kind::Array:
        return "an array";
    }
    return "?";
}

Decoded refused(QString why, bool wrongVersion = false) {
    Decoded d;
    d.error = std::move(why);
    d.wrongVersion = wrongVersion;
    return d;
}

} // namespace

QString messageTypeName(MessageType type) {
    for (const Schema &s : schemas())
        if (s.type == type) return QString::fromLatin1(s.name);
    return QStringLiteral("?");
}

QString describeBytes(std::int64_t bytes) {
    if (bytes < 1024) return QStringLiteral("%1 bytes").arg(bytes);
    const double mib = double(bytes) / double(1 << 20);
    return QStringLiteral("%1 MiB").arg(mib, 0, 'g', mib < 10 ? 2 : 4);
}

QByteArray encode(MessageType type, QCborMap fields) {
    fields.insert(QStringLiteral("proto"), QStringLiteral("fedwb"));
    fields.insert(QStringLiteral("pv"), kProtocolVersion);
    fields.insert(QStringLiteral("type"), messageTypeName(type));
    return QCborValue(std::move(fields)).toCbor();
}

Decoded decode(const QByteArray &bytes, std::int64_t maxBytes) {
    if (bytes.size() > maxBytes)
        return refused(QStringLiteral("message of %1 bytes is over the limit of %2 bytes")
                           .arg(bytes.size())
                           .arg(maxBytes));
    if (bytes.isEmpty()) return refused(QStringLiteral("empty message"));
    QCborStreamReader reader(bytes);
    const QCborValue value = QCborValue::fromCbor(reader);
    if (reader.lastError() != QCborError::NoError)
        return refused(QStringLiteral("not CBOR: %1").arg(reader.lastError().toString()));
    if (reader.currentOffset() != bytes.size())
        return refused(
            QStringLiteral("%1 bytes after the message").arg(bytes.size() - reader.currentOffset()));
    if (!value.isMap()) return refused(QStringLiteral("not a map"));
    const QCborMap map = value.toMap();
    if (map.value(QStringLiteral("proto")).toString() != QLatin1String("fedwb"))
        return refused(QStringLiteral("not a FedWorkbench message (no \"proto\": \"fedwb\")"));
    const QCborValue version = map.value(QStringLiteral("pv"));
    if (!version.isInteger()) return refused(QStringLiteral("field pv: expected an integer"));
    if (cborInteger(version, 0) != kProtocolVersion)
        return refused(QStringLiteral("protocol version %1; this build speaks version %2")
                           .arg(cborInteger(version, 0))
                           .arg(kProtocolVersion),
                       true);
    const QString type = map.value(QStringLiteral("type")).toString();
    for (const Schema &s : schemas()) {
        if (type != QLatin1String(s.name)) continue;
        for (const Field &f : s.required) {
            const QCborValue v = map.value(QLatin1String(f.key));
            if (v.isUndefined())
                return refused(QStringLiteral("%1: missing field %2").arg(type, QLatin1String(f.key)));
            if (!hasKind(v, f.kind))
                return refused(QStringLiteral("%1: field %2: expected %3")
                                   .arg(type, QLatin1String(f.key), QLatin1String(kindName(f.kind))));
        }
        Decoded d;
        d.message = Message{s.type, map};
        return d;
    }
    return refused(type.isEmpty() ? QStringLiteral("missing field type")
                                  : QStringLiteral("unknown message type '%1'").arg(type.left(40)));
}

QString checkFloat32(const QByteArray &bytes, std::int64_t expectedCount, const QString &field) {
    if (bytes.size() % 4 != 0)
        return QStringLiteral("%1: %2 bytes is not a whole number of float32 values")
            .arg(field)
            .arg(bytes.size());
    if (expectedCount >= 0 && bytes.size() / 4 != expectedCount)
        return QStringLiteral("%1: %2 float32 values, expected %3")
            .arg(field)
            .arg(bytes.size() / 4)
            .arg(expectedCount);
    return {};
}

QCborMap KernelSettings::toCbor() const {
    return QCborMap{{QStringLiteral("aten"), atenCapability},
                    {QStringLiteral("openblas"), openblasCoretype},
                    {QStringLiteral("intra_op_threads"), intraOpThreads}};
}

KernelSettings KernelSettings::fromCbor(const QCborMap &map) {
    KernelSettings k;
    k.atenCapability = map.value(QStringLiteral("aten")).toString();
    k.openblasCoretype = map.value(QStringLiteral("openblas")).toString();
    k.intraOpThreads = int(cborInteger(map.value(QStringLiteral("intra_op_threads")), 1));
    return k;
}

QString KernelSettings::describe() const {
    return QStringLiteral("aten %1, openblas %2, %3 intra-op thread%4")
        .arg(atenCapability.isEmpty() ? QStringLiteral("?") : atenCapability,
             openblasCoretype.isEmpty() ? QStringLiteral("none") : openblasCoretype)
        .arg(intraOpThreads)
        .arg(intraOpThreads == 1 ? "" : "s");
}

} // namespace fedwb::remote
