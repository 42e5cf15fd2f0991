// Running the real fedwb-cli from a test (FEDWB_CLI is its path): exit code, stdout, stderr.
#pragma once

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace fedwb::test {

struct Result {
    int exitCode = -1; // -1: it crashed, was killed or timed out
    QString out, err;
    bool timedOut = false;
    QString lastLine() const {
        const QStringList lines = out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        return lines.isEmpty() ? QString() : lines.last();
    }
    QJsonObject json() const { return QJsonDocument::fromJson(lastLine().toUtf8()).object(); } // --json
};

// Waits for a started process (killing it after timeoutMs) and collects what it printed.
inline Result finished(QProcess &p, int timeoutMs = 240000) {
    Result r;
    if (!p.waitForFinished(timeoutMs)) {
        r.timedOut = true;
        p.kill();
        p.waitForFinished();
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

// A quick federation: Synthetic(0.5, 0.5) over 8 natural clients (4 a round), logistic regression.
inline QByteArray syntheticWorkspace(int rounds, int threads) {
    return QStringLiteral(R"({
  "format": 1, "name": "synthetic test",
  "dataset": {"name": "synthetic", "alpha": 0.5, "beta": 0.5},
  "partition": {"name": "natural"},
  "clients": {"count": 8, "per_round": 0.5},
  "model": {"name": "logreg"},
  "training": {"lr": 0.05, "batch_size": 16},
  "run": {"rounds": %1, "seed": 3, "threads": %2}
})")
        .arg(rounds)
        .arg(threads)
        .toUtf8();
}

inline Result cli(const QStringList &args, int timeoutMs = 240000) {
    QProcess p;
    p.start(QStringLiteral(FEDWB_CLI), args);
    return finished(p, timeoutMs);
}

} // namespace fedwb::test
