#!/usr/bin/env bash
# --run_under wrapper of --config=aarch64: runs an aarch64 ELF program under Debian's
# user-mode emulator with the cross glibc/libstdc++ as its library root. Anything else
# (an sh_test's script) runs natively with RACT_EMULATOR set, so a script can start the
# aarch64 binaries it tests as `$RACT_EMULATOR "$bin" ...` (empty on a native build).
set -euo pipefail
export RACT_EMULATOR="qemu-aarch64 -L /usr/aarch64-linux-gnu"
prog="$1"
shift
# ELF magic, then e_machine (bytes 18-19, little-endian) 0xb7 = EM_AARCH64.
if [ "$(od -An -tx1 -N4 "$prog" | tr -d ' \n')" = "7f454c46" ] &&
  [ "$(od -An -tx1 -j18 -N2 "$prog" | tr -d ' \n')" = "b700" ]; then
  exec qemu-aarch64 -L /usr/aarch64-linux-gnu "$prog" "$@"
fi
exec "$prog" "$@"
