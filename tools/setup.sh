#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the tools need. Idempotent: when
# everything is already there it only checks, in well under a second.
set -euo pipefail

packages=(
  bazel-bootstrap   # Bazel 4.2.3 (Debian build), runs offline with third_party/ stand-ins
  libblis-dev       # BLIS 0.9 (GEMM for training)
  doctest-dev       # unit tests
  g++-aarch64-linux-gnu  # cross compiler of --config=aarch64 (third_party/toolchains)
  qemu-user         # qemu-aarch64 runs the aarch64 tests (--config=aarch64)
  clang             # clang 14: libFuzzer targets (--config=fuzz, tools/fuzz)
  libclang-rt-14-dev     # libFuzzer and the sanitizer runtimes for clang
  libopenmpi-dev    # Open MPI 4.1 headers and libmpi: data-parallel training (//ract/dist:comm_mpi,
  openmpi-bin       # tools/train_mpi); mpirun runs the MPI tests. Nothing else links MPI
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
