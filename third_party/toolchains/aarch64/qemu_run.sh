#!/usr/bin/env bash
# --run_under wrapper of --config=aarch64 (bazel test, bazel run): runs an aarch64 ELF
# program under Debian's user-mode emulator with the cross glibc/libstdc++ as its library
# root. Anything else (an sh_test's script) runs natively, with two aids for the aarch64
# binaries it starts, since this machine has no binfmt_misc to start them by itself:
#  - every argument that is an aarch64 ELF file (the usual `args = ["$(location :tool)"]`)
#    is replaced by a small executable shim that runs it under qemu;
#  - RACT_EMULATOR is exported ("qemu-aarch64 -L /usr/aarch64-linux-gnu"; unset on a
#    native build), for binaries found another way: `$RACT_EMULATOR "$bin" ...`.
set -euo pipefail
sysroot=/usr/aarch64-linux-gnu
export RACT_EMULATOR="qemu-aarch64 -L $sysroot"

is_aarch64_elf() {
  # ELF magic, then e_machine (bytes 18-19, little-endian) 0xb7 = EM_AARCH64.
  [ -f "$1" ] && [ "$(od -An -tx1 -N4 "$1" | tr -d ' \n')" = "7f454c46" ] &&
    [ "$(od -An -tx1 -j18 -N2 "$1" | tr -d ' \n')" = "b700" ]
}

prog="$1"
shift
if is_aarch64_elf "$prog"; then
  exec qemu-aarch64 -L "$sysroot" "$prog" "$@"
fi

args=()
shims=""
for a in "$@"; do
  if is_aarch64_elf "$a"; then
    if [ -z "$shims" ]; then
      shims="$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/qemu_shims.XXXXXX")"
    fi
    shim="$shims/$(basename "$a")"
    [ -e "$shim" ] && shim="$(mktemp "$shims/$(basename "$a").XXXXXX")"
    printf '#!/bin/sh\nexec qemu-aarch64 -L %s %s "$@"\n' "$sysroot" "$(realpath "$a")" >"$shim"
    chmod +x "$shim"
    args+=("$shim")
  else
    args+=("$a")
  fi
done
exec "$prog" "${args[@]}"
