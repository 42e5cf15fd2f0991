// libFuzzer: one ZeroMQ message body as the coordinator or a worker receives it: remote::decode (size limit,
// CBOR, one map, protocol version, message type, required fields and their types), then what the receivers
// read out of an accepted message: the ClientTask of a task, the ClientResult of a result with its float32
// length checks, kernel settings, the workspace of a prepare, the ids of a cancel.
//
// Beyond "no crash, no leak, no UB" it checks what the API promises: a refused message has a reason; an
// accepted one re-encodes to a message of the same type that is accepted again; an accepted task or result
// survives its own CBOR round trip unchanged.
#include "fuzz_support.h"

#include "remote/Protocol.h"
#include "train/ClientTask.h"

#include <QCborArray>
#include <QCborValue>

using namespace fedwb;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    fuzz::initQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    constexpr std::int64_t kLimit = 1 << 20; // as a coordinator configured with a small limit
    const remote::Decoded d = remote::decode(bytes, kLimit);
    if (!d.message) {
        FUZZ_CHECK(!d.error.isEmpty(), QStringLiteral("a refused message without a reason"));
        return 0;
    }
    FUZZ_CHECK(d.error.isEmpty(), d.error);
    const remote::Message &m = *d.message;
    const QByteArray again = remote::encode(m.type, m.fields);
    const remote::Decoded d2 = remote::decode(again, kLimit + std::int64_t(again.size()));
    FUZZ_CHECK(
        d2.message && d2.message->type == m.type,
        QStringLiteral("a re-encoded %1 is refused: %2").arg(remote::messageTypeName(m.type), d2.error));
    (void)remote::KernelSettings::fromCbor(m.fields.value(QStringLiteral("kernel")).toMap()).describe();
    switch (m.type) {
    case remote::MessageType::Task: {
        QString error;
        const auto t = ClientTask::fromCbor(m.fields.value(QStringLiteral("task")).toMap(), &error);
        if (!t) {
            FUZZ_CHECK(!error.isEmpty(), QStringLiteral("a refused task without a reason"));
            break;
        }
        (void)remote::checkFloat32(t->model, -1, QStringLiteral("model"));
        const auto back = ClientTask::fromCbor(t->toCbor());
        FUZZ_CHECK(back && QCborValue(back->toCbor()).toCbor() == QCborValue(t->toCbor()).toCbor(),
                   QStringLiteral("a task changes in its CBOR round trip"));
        break;
    }
    case remote::MessageType::Result: {
        QString error;
        const auto r = ClientResult::fromCbor(m.fields.value(QStringLiteral("result")).toMap(), &error);
        if (!r) {
            FUZZ_CHECK(!error.isEmpty(), QStringLiteral("a refused result without a reason"));
            break;
        }
        const QString check = remote::checkFloat32(r->update, 610, QStringLiteral("update"));
        FUZZ_CHECK(check.isEmpty() == (r->update.size() == 610 * 4), check);
        const auto back = ClientResult::fromCbor(r->toCbor());
        FUZZ_CHECK(back && QCborValue(back->toCbor()).toCbor() == QCborValue(r->toCbor()).toCbor(),
                   QStringLiteral("a result changes in its CBOR round trip"));
        break;
    }
    case remote::MessageType::Prepare:
        (void)m.fields.value(QStringLiteral("spec")).toMap().toJsonObject();
        break;
    case remote::MessageType::Cancel:
        for (const QCborValue &id : m.fields.value(QStringLiteral("ids")).toArray())
            (void)id.toString();
        break;
    default:
        break;
    }
    return 0;
}
