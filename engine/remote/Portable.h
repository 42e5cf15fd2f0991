// Kernel settings and the portable-reproducibility mode (run.portable, fedwb-worker --portable): ATen's CPU
// capability, OpenBLAS's core type and the intra-op thread count pinned to what every x86-64 CPU with AVX2
// computes identically. Torch-free header; the settings are read from the loaded libraries.
#pragma once

#include "remote/Protocol.h"

#include <QString>

namespace fedwb::remote {

// ATen's CPU capability: the one in use, the best this CPU has, and whether ATEN_CPU_CAPABILITY chose it.
struct AtenCapability {
    QString effective, best; // avx512, avx2, default
    bool forced = false;
};
AtenCapability atenCapability();

// What this process computes with: ATen's dispatch capability in use, OpenBLAS's core (empty without
// OpenBLAS), one intra-op thread per client (as every executor trains).
KernelSettings currentKernelSettings();
// The pinned settings of portable mode: aten avx2, openblas Haswell, 1 intra-op thread.
KernelSettings portableKernelSettings();
// Empty when this process runs with the portable settings, else what differs and how to start it.
QString portableMismatch();

// Sets ATEN_CPU_CAPABILITY=avx2, OPENBLAS_CORETYPE=Haswell and OPENBLAS_NUM_THREADS=1 and re-executes this
// program (OpenBLAS picks its core when it is loaded, so the environment must be set before the process
// starts). Returns when the settings are already in effect (true), or on failure (false, *error: no AVX2,
// or exec failed). `argv` is main()'s.
bool enterPortableMode(char **argv, QString *error);

} // namespace fedwb::remote
