// Shared by the libFuzzer harnesses: a Qt application object, quiet Qt logging, a scratch file for the input,
// and a check that aborts (so libFuzzer saves the input) when a documented guarantee does not hold.
#pragma once

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QString>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace fedwb::fuzz {

// Qt's warnings (a SQLite driver complaining about a corrupt file, ...) would drown libFuzzer's output and
// slow every execution; FEDWB_FUZZ_VERBOSE=1 keeps them. Critical and fatal messages always print.
inline void quietMessages(QtMsgType type, const QMessageLogContext &, const QString &text) {
    if (type == QtCriticalMsg || type == QtFatalMsg) std::fprintf(stderr, "qt: %s\n", qPrintable(text));
}

// Call once from LLVMFuzzerInitialize: one QCoreApplication for the process (plugins, QTemporaryDir).
inline void initQt() {
    static int argc = 1;
    static char name[] = "fedwb-fuzz";
    static char *argv[] = {name, nullptr};
    static QCoreApplication app(argc, argv);
    if (!qEnvironmentVariableIsSet("FEDWB_FUZZ_VERBOSE")) qInstallMessageHandler(quietMessages);
}

// A private folder for the process, removed at exit.
inline const QString &scratchDir() {
    static QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/fedwb-fuzz-XXXXXX"));
    if (!dir.isValid()) {
        std::fprintf(stderr, "fuzz: cannot create a scratch folder in %s\n", qPrintable(QDir::tempPath()));
        std::abort();
    }
    static const QString path = dir.path();
    return path;
}

// Writes the input to `path` (replacing it); aborts when the file system fails, which is not the target's bug
// but would make the run meaningless.
inline void writeInput(const QString &path, const std::uint8_t *data, std::size_t size) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        f.write(reinterpret_cast<const char *>(data), qint64(size)) != qint64(size)) {
        std::fprintf(stderr, "fuzz: cannot write %s\n", qPrintable(path));
        std::abort();
    }
}

// A guarantee of the code under test; a violation is a finding like a crash.
[[noreturn]] inline void violated(const char *file, int line, const char *what, const QString &detail) {
    std::fprintf(stderr, "%s:%d: guarantee violated: %s %s\n", file, line, what, qPrintable(detail));
    std::abort();
}

} // namespace fedwb::fuzz

#define FUZZ_CHECK(cond, detail)                                                                             \
    do {                                                                                                     \
        if (!(cond)) ::fedwb::fuzz::violated(__FILE__, __LINE__, #cond, (detail));                           \
    } while (false)
