// CurveZMQ keys of coordinators and workers, the coordinator's allow-list, and the rules for plaintext TCP.
// Key files are text: a .pub file holds one Z85 public key, a .key file (mode 0600) the public and the
// secret key; an allow-list is any file of Z85 public keys, one per line (so `cat workers/*.pub` is one).
#pragma once

#include <QByteArray>
#include <QSet>
#include <QString>

#include <optional>

namespace fedwb::remote {

struct CurveKeyPair {
    QByteArray publicKey; // Z85, 40 characters
    QByteArray secretKey; // Z85, 40 characters
};

// Whether this libzmq was built with CURVE (zmq_has("curve")).
bool curveAvailable();
// A new key pair; throws std::runtime_error when CURVE is not available.
CurveKeyPair generateKeyPair();

// Writes DIR/NAME.pub and DIR/NAME.key (0600; refuses to overwrite). False and *error on failure.
bool writeKeyPair(const QString &dir, const QString &name, const CurveKeyPair &keys, QString *error);
// A .key file: both keys (the public one is checked against the secret one).
std::optional<CurveKeyPair> readKeyPair(const QString &file, QString *error);
// A .pub file (or a .key file: its public key).
std::optional<QByteArray> readPublicKey(const QString &file, QString *error);
// An allow-list: Z85 public keys, one per line; a line starting with '#' is a comment; text after the key is
// a label.
std::optional<QSet<QByteArray>> readAllowList(const QString &file, QString *error);

// tcp:// to 127.0.0.0/8, ::1 or localhost, and ipc:// / inproc:// (never leave the machine).
bool isLoopback(const QString &endpoint);

// The rules for an endpoint: with keys (curve) anything goes; without keys only with `insecure`, and on a
// non-loopback address only with `force` too. Empty when allowed (a warning in *warning for plaintext), else
// why not, naming the options. `role` is "--bind" or "--connect".
QString securityProblem(const QString &endpoint, bool curve, bool insecure, bool force, const QString &role,
                        QString *warning);

} // namespace fedwb::remote
