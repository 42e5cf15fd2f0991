// Small IDX (the MNIST file format) files for tests of the dataset reader: big-endian header, unsigned
// bytes, gzip as Fashion-MNIST ships. Header-only; the test links zlib.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QString>
#include <QtTest>

#include <zlib.h>

namespace fedwb::test {

inline void writeGz(const QString &path, const QByteArray &bytes) {
    gzFile f = gzopen(QFile::encodeName(path).constData(), "wb");
    QVERIFY2(f, qPrintable(path));
    QCOMPARE(gzwrite(f, bytes.constData(), unsigned(bytes.size())), int(bytes.size()));
    QCOMPARE(gzclose(f), Z_OK);
}

inline QByteArray be32(quint32 v) {
    QByteArray b(4, 0);
    b[0] = char(v >> 24), b[1] = char(v >> 16), b[2] = char(v >> 8), b[3] = char(v);
    return b;
}

// n images of side x side pixels; pixel i of the file is i mod 251.
inline QByteArray idxImages(int n, int side = 28) {
    QByteArray b =
        QByteArray::fromHex("00000803") + be32(quint32(n)) + be32(quint32(side)) + be32(quint32(side));
    for (int i = 0; i < n * side * side; ++i)
        b.append(char(i % 251));
    return b;
}

// n labels 0, 1, ..., 9, 0, ...
inline QByteArray idxLabels(int n) {
    QByteArray b = QByteArray::fromHex("00000801") + be32(quint32(n));
    for (int i = 0; i < n; ++i)
        b.append(char(i % 10));
    return b;
}

} // namespace fedwb::test
