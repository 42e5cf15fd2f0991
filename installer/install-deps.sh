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

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
else
  echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Slurm integration test (tests/app/test_slurm.sh) starts its own munged, slurmctld and slurmd with a
# config of its own. Optional: where they cannot be installed, that test is skipped with the reason.
# munge's post-install script makes /etc/munge/munge.key as user munge and starts the system munged; in a
# container neither may work (no switch to a system user, no init), and neither is used by the test: the
# key is given up front (1 KiB from the kernel's random source, what mungekey writes) and services are kept
# from starting while the packages install.
slurm_packages=(slurm-wlm munge)
slurm_missing=()
for p in "${slurm_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || slurm_missing+=("$p")
done
if [ ${#slurm_missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${slurm_missing[*]} (for the Slurm integration test)"
  [ ${#missing[@]} -gt 0 ] || "${sudo_cmd[@]}" apt-get update -q
  if [ ! -e /etc/munge/munge.key ]; then
    "${sudo_cmd[@]}" mkdir -p /etc/munge
    "${sudo_cmd[@]}" sh -c 'umask 077; head -c 1024 /dev/urandom > /etc/munge/munge.key'
  fi
  policy_made=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    "${sudo_cmd[@]}" sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    policy_made=1
  fi
  if ! "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${slurm_missing[@]}"; then
    echo "install-deps: warning: slurm-wlm/munge could not be installed here; the Slurm test will be skipped"
    "${sudo_cmd[@]}" apt-get purge -y -q slurm-wlm slurmctld slurmd slurm-client munge || true
  fi
  if [ $policy_made = 1 ]; then "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d; fi
fi
echo "install-deps: done"
