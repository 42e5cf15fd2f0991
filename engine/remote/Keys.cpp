#include "remote/Keys.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>

#include <zmq.h>

#include <stdexcept>

namespace fedwb::remote {

namespace {

bool isZ85Key(const QByteArray &text) {
    static const QRegularExpression z85(QStringLiteral("^[0-9a-zA-Z.\\-:+=^!/*?&<>()\\[\\]{}@%$#]{40}$"));
    return z85.match(QString::fromLatin1(text)).hasMatch();
}

// The lines of a key file that are not blank or comments.
std::optional<QList<QByteArray>> keyLines(const QString &file, QString *error) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error) *error = QStringLiteral("%1: cannot read: %2").arg(file, f.errorString());
        return std::nullopt;
    }
    QList<QByteArray> lines;
    for (QByteArray line : f.readAll().split('\n')) {
        line = line.trimmed();
        // '#' is a Z85 character too: only a line that starts with it is a comment.
        if (!line.isEmpty() && !line.startsWith('#')) lines.append(line);
    }
    return lines;
}

bool writeText(const QString &path, const QByteArray &text, bool secret, QString *error) {
    if (QFileInfo::exists(path)) {
        *error = QStringLiteral("%1 exists: keys are never overwritten (remove it first)").arg(path);
        return false;
    }
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        *error = QStringLiteral("%1: cannot write: %2").arg(path, f.errorString());
        return false;
    }
    if (secret) f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    f.write(text);
    if (!f.commit()) {
        *error = QStringLiteral("%1: cannot write: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

} // namespace

bool curveAvailable() {
    return zmq_has("curve") != 0;
}

CurveKeyPair generateKeyPair() {
    if (!curveAvailable()) throw std::runtime_error("this libzmq was built without CURVE support");
    char pub[41] = {}, sec[41] = {};
    if (zmq_curve_keypair(pub, sec) != 0)
        throw std::runtime_error(std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()));
    return {QByteArray(pub, 40), QByteArray(sec, 40)};
}

bool writeKeyPair(const QString &dir, const QString &name, const CurveKeyPair &keys, QString *error) {
    QString why;
    if (!QDir().mkpath(dir)) {
        why = QStringLiteral("--out %1: cannot create the folder").arg(dir);
    } else {
        const QString base = QDir(dir).filePath(name);
        const QByteArray pub = "# FedWorkbench CurveZMQ public key '" + name.toUtf8() +
                               "': give it to peers\n" + keys.publicKey + "\n";
        const QByteArray sec = "# FedWorkbench CurveZMQ key pair '" + name.toUtf8() +
                               "': keep it private\npublic " + keys.publicKey + "\nsecret " + keys.secretKey +
                               "\n";
        if (writeText(base + QStringLiteral(".key"), sec, true, &why) &&
            writeText(base + QStringLiteral(".pub"), pub, false, &why))
            return true;
    }
    if (error) *error = why;
    return false;
}

std::optional<CurveKeyPair> readKeyPair(const QString &file, QString *error) {
    const auto lines = keyLines(file, error);
    if (!lines) return std::nullopt;
    CurveKeyPair k;
    for (const QByteArray &line : *lines) {
        const QList<QByteArray> parts = line.simplified().split(' ');
        if (parts.size() == 2 && parts[0] == "public") k.publicKey = parts[1];
        if (parts.size() == 2 && parts[0] == "secret") k.secretKey = parts[1];
    }
    if (!isZ85Key(k.publicKey) || !isZ85Key(k.secretKey)) {
        if (error)
            *error = QStringLiteral("%1: not a key pair (expected 'public KEY' and 'secret KEY' lines, as "
                                    "fedwb-cli keys generate writes them)")
                         .arg(file);
        return std::nullopt;
    }
    char derived[41] = {};
    if (zmq_curve_public(derived, k.secretKey.constData()) != 0 || QByteArray(derived, 40) != k.publicKey) {
        if (error) *error = QStringLiteral("%1: the public key does not belong to the secret key").arg(file);
        return std::nullopt;
    }
    return k;
}

std::optional<QByteArray> readPublicKey(const QString &file, QString *error) {
    const auto lines = keyLines(file, error);
    if (!lines) return std::nullopt;
    for (const QByteArray &line : *lines) {
        const QList<QByteArray> parts = line.simplified().split(' ');
        if (parts.size() == 1 && isZ85Key(parts[0])) return parts[0];
        if (parts.size() == 2 && parts[0] == "public" && isZ85Key(parts[1])) return parts[1];
    }
    if (error)
        *error =
            QStringLiteral("%1: no public key in it (a .pub file from fedwb-cli keys generate)").arg(file);
    return std::nullopt;
}

std::optional<QSet<QByteArray>> readAllowList(const QString &file, QString *error) {
    const auto lines = keyLines(file, error);
    if (!lines) return std::nullopt;
    QSet<QByteArray> keys;
    int number = 0;
    for (const QByteArray &line : *lines) {
        ++number;
        const QByteArray key = line.simplified().split(' ').front();
        if (!isZ85Key(key)) {
            if (error)
                *error = QStringLiteral("%1: entry %2 ('%3') is not a Z85 public key (40 characters)")
                             .arg(file)
                             .arg(number)
                             .arg(QString::fromLatin1(key.left(48)));
            return std::nullopt;
        }
        keys.insert(key);
    }
    return keys;
}

bool isLoopback(const QString &endpoint) {
    if (endpoint.startsWith(QLatin1String("ipc://")) || endpoint.startsWith(QLatin1String("inproc://")))
        return true;
    if (!endpoint.startsWith(QLatin1String("tcp://"))) return false;
    QString host = endpoint.mid(6);
    if (host.startsWith(QLatin1Char('['))) {
        host = host.mid(1, host.indexOf(QLatin1Char(']')) - 1);
    } else {
        host = host.left(host.lastIndexOf(QLatin1Char(':')));
        if (const qsizetype semi = host.indexOf(QLatin1Char(';')); semi >= 0) host = host.mid(semi + 1);
    }
    if (host == QLatin1String("localhost") || host == QLatin1String("::1")) return true;
    static const QRegularExpression v4(QStringLiteral("^127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$"));
    return v4.match(host).hasMatch();
}

QString securityProblem(const QString &endpoint, bool curve, bool insecure, bool force, const QString &role,
                        QString *warning) {
    if (curve) {
        if (insecure) return QStringLiteral("--insecure and keys exclude each other: give one or the other");
        return {};
    }
    if (!insecure)
        return QStringLiteral(
                   "%1 %2: remote execution is encrypted and authenticated (CurveZMQ): give the keys "
                   "(fedwb-cli keys generate --out DIR; see --help), or --insecure for plaintext on "
                   "this machine only")
            .arg(role, endpoint);
    if (!isLoopback(endpoint) && !force)
        return QStringLiteral(
                   "%1 %2: --insecure sends models and updates in plaintext over the network and lets "
                   "anyone connect; refused on a non-loopback address unless --force is given too")
            .arg(role, endpoint);
    if (warning)
        *warning =
            isLoopback(endpoint)
                ? QStringLiteral("warning: %1 %2 is plaintext and unauthenticated (--insecure; loopback)")
                      .arg(role, endpoint)
                : QStringLiteral("warning: %1 %2 is plaintext and unauthenticated over the network "
                                 "(--insecure --force): anyone who can reach it can join or listen")
                      .arg(role, endpoint);
    return {};
}

} // namespace fedwb::remote
