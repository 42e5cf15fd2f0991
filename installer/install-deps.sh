#!/usr/bin/env bash
# Installs every Debian package FedWorkbench needs to build, test and run. Idempotent: packages already
# present are reported and skipped, so running it twice is safe and fast.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # the sanitizer stage (installer/run-sanitizers.sh): clang, its ASan/UBSan/libFuzzer runtimes (only
  # recommended by clang, so named here) and llvm-symbolizer for file:line in reports
  clang libclang-rt-14-dev llvm
  # Qt 6 (Charts needs the OpenGL and xkbcommon dev packages or find_package fails)
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libxkbcommon-dev
  qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libqt6sql6-sqlite
  # charts saved as SVG (QSvgGenerator)
  qt6-svg-dev
  # LibTorch; OpenBLAS is not optional: the reference BLAS is ~40x slower
  libtorch-dev libopenblas0-openmp
  # remote workers, run store, data
  libzmq3-dev cppzmq-dev libsqlite3-dev zlib1g-dev
  # secure aggregation (engine/privacy/SecureAggregation.cpp): X25519, authenticated encryption, ChaCha20
  # masks and the random source (libsodium); Shamir secret sharing over GF(2^8) (libgfshare)
  libsodium-dev libgfshare-dev
  dataset-fashion-mnist
  # the Slurm integration test (tests/app/test_slurm.sh) starts its own munged, slurmctld and slurmd with a
  # config of its own; installing them starts nothing that matters (slurmctld and slurmd need
  # /etc/slurm/slurm.conf, which is not written; a system munged, where one starts, is not used)
  slurm-wlm munge
  # GUI under test and fonts for screenshots
  xvfb xauth fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    continue
  fi
  missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
