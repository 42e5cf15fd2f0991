#include "remote/Portable.h"

#include <QFile>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <unistd.h>

namespace fedwb::remote {

namespace {

QString openblasCore() {
    // Looked up at run time: the BLAS behind libblas.so.3 is an alternatives choice, maybe not OpenBLAS.
    using CoreName = char *(*)();
    if (auto f = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename")))
        if (const char *name = f()) return QString::fromLatin1(name);
    return {};
}

QList<QByteArray> cpuFlags() {
    QFile cpu(QStringLiteral("/proc/cpuinfo"));
    if (cpu.open(QIODevice::ReadOnly))
        for (const QByteArray &line : cpu.readAll().split('\n'))
            if (line.startsWith("flags")) return line.mid(line.indexOf(':') + 1).simplified().split(' ');
    return {};
}

bool cpuHasAvx2() {
    const QList<QByteArray> flags = cpuFlags();
    return flags.contains("avx2") && flags.contains("fma");
}

} // namespace

AtenCapability atenCapability() {
    // As torch 1.13 picks its kernels (ATen/native/DispatchStub.cpp, not exported): ATEN_CPU_CAPABILITY if it
    // names a capability, else the best the CPU has.
    const QList<QByteArray> flags = cpuFlags();
    const auto has = [&](const char *f) { return flags.contains(f); };
    AtenCapability c;
    c.best = QStringLiteral("default");
    if (has("avx2") && has("fma")) c.best = QStringLiteral("avx2");
    if (has("avx512vl") && has("avx512bw") && has("avx512dq") && has("fma"))
        c.best = QStringLiteral("avx512");
    const QString forced = qEnvironmentVariable("ATEN_CPU_CAPABILITY").toLower();
    c.forced = forced == QLatin1String("avx512") || forced == QLatin1String("avx2") ||
               forced == QLatin1String("default");
    c.effective = c.forced ? forced : c.best;
    return c;
}

KernelSettings currentKernelSettings() {
    KernelSettings k;
    k.atenCapability = atenCapability().effective;
    k.openblasCoretype = openblasCore();
    k.intraOpThreads = 1; // every executor trains a client on one intra-op thread
    return k;
}

KernelSettings portableKernelSettings() {
    return {QStringLiteral("avx2"), QStringLiteral("Haswell"), 1};
}

QString portableMismatch() {
    const KernelSettings now = currentKernelSettings(), want = portableKernelSettings();
    QStringList differs;
    if (now.atenCapability != want.atenCapability)
        differs << QStringLiteral("ATen uses %1 kernels (ATEN_CPU_CAPABILITY=avx2 pins them)")
                       .arg(now.atenCapability);
    if (!now.openblasCoretype.isEmpty() &&
        now.openblasCoretype.compare(want.openblasCoretype, Qt::CaseInsensitive) != 0)
        differs << QStringLiteral("OpenBLAS uses its %1 core (OPENBLAS_CORETYPE=Haswell pins it)")
                       .arg(now.openblasCoretype);
    return differs.join(QStringLiteral("; "));
}

bool enterPortableMode(char **argv, QString *error) {
    if (!cpuHasAvx2()) {
        if (error)
            *error = QStringLiteral("portable mode needs a CPU with AVX2 and FMA; this one has neither");
        return false;
    }
    const bool set = qEnvironmentVariable("ATEN_CPU_CAPABILITY") == QLatin1String("avx2") &&
                     qEnvironmentVariable("OPENBLAS_CORETYPE") == QLatin1String("Haswell") &&
                     qEnvironmentVariable("OPENBLAS_NUM_THREADS") == QLatin1String("1");
    if (set) return true; // already re-executed (or started so): the libraries were loaded with it
    ::setenv("ATEN_CPU_CAPABILITY", "avx2", 1);
    ::setenv("OPENBLAS_CORETYPE", "Haswell", 1);
    ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
    ::execv("/proc/self/exe", argv);
    if (error)
        *error = QStringLiteral("could not restart in portable mode: %1")
                     .arg(QString::fromLocal8Bit(strerror(errno)));
    return false;
}

} // namespace fedwb::remote
