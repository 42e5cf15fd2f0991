#include "remote/data_digest_p.h"

#include <QCryptographicHash>

namespace fedwb::remote {

namespace {

void addTensor(QCryptographicHash &h, const torch::Tensor &t) {
    const torch::Tensor c = t.contiguous();
    const std::int64_t rank = c.dim();
    h.addData(QByteArrayView(reinterpret_cast<const char *>(&rank), sizeof rank));
    for (const std::int64_t d : c.sizes())
        h.addData(QByteArrayView(reinterpret_cast<const char *>(&d), sizeof d));
    const QByteArray type = QByteArray(c.dtype().name().data());
    h.addData(type);
    h.addData(
        QByteArrayView(static_cast<const char *>(c.data_ptr()), qsizetype(c.numel() * c.element_size())));
}

void addIndices(QCryptographicHash &h, const std::vector<std::int64_t> &v) {
    const std::int64_t n = std::int64_t(v.size());
    h.addData(QByteArrayView(reinterpret_cast<const char *>(&n), sizeof n));
    h.addData(
        QByteArrayView(reinterpret_cast<const char *>(v.data()), qsizetype(v.size() * sizeof(std::int64_t))));
}

} // namespace

QString datasetDigest(const LoadedDataset &data) {
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(data.name.toUtf8());
    for (const torch::Tensor *t : {&data.trainX, &data.trainY, &data.testX, &data.testY})
        addTensor(h, *t);
    return QString::fromLatin1(h.result().toHex());
}

QString partitionDigest(const std::vector<ClientShard> &shards) {
    QCryptographicHash h(QCryptographicHash::Sha256);
    for (const ClientShard &s : shards) {
        addIndices(h, s.train);
        addIndices(h, s.test);
    }
    return QString::fromLatin1(h.result().toHex());
}

} // namespace fedwb::remote
