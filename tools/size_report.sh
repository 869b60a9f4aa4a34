#!/usr/bin/env bash
# Code size of the on-device scorer (issue 8): builds the targets lean (--config=lean:
# -fno-exceptions -fno-rtti) for x86-64 and for aarch64 (--config=aarch64), and prints
# the `size` (text/data/bss) of every project library in their dependency closure, then
# checks the total text of each architecture against the budget, and that no object needs
# the C++ exception or RTTI runtime (the heap functions they call are listed).
#   tools/size_report.sh [--budget BYTES] [TARGET...]
# A cc_binary among the targets (e.g. an example edge app) is also sized as linked.
# Default target: //ract:scorer; default budget: 65536 (64 KiB of text). Exits 1 when a
# build fails or the budget is exceeded.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

budget=65536
if [ "${1:-}" = --budget ]; then
  budget="$2"
  shift 2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(//ract:scorer); fi

# The project's own libraries (not third_party glue) that the targets link.
query="kind('cc_library', deps($(
  IFS=+
  echo "${targets[*]}"
))) intersect //ract/..."
libs=$(bazel query "$query" 2>/dev/null) || {
  echo "size_report: cannot query $query" >&2
  exit 1
}

# Linked programs among the targets (an example app, tools/score): their whole `size` is
# printed too, after the linker dropped unused sections; it does not count to the budget.
binaries=$(bazel query "kind('cc_binary', $(
  IFS=+
  echo "${targets[*]}"
))" 2>/dev/null)

status=0
for arch in x86_64 aarch64; do
  if [ "$arch" = aarch64 ]; then
    cfg=(--config=aarch64 --config=lean)
    size_tool=aarch64-linux-gnu-size
    nm_tool=aarch64-linux-gnu-nm
  else
    nm_tool="nm"
    cfg=(--config=lean)
    size_tool=size
  fi
  # Every library as a top-level target: Bazel archives only those.
  # shellcheck disable=SC2086
  if ! bazel build "${cfg[@]}" "${targets[@]}" $libs </dev/null >/dev/null 2>&1; then
    echo "size_report: lean $arch build of ${targets[*]} failed:" >&2
    # shellcheck disable=SC2086
    bazel build "${cfg[@]}" "${targets[@]}" $libs </dev/null 2>&1 | grep -E 'ERROR|error' >&2
    status=1
    continue
  fi
  bin=$(bazel info "${cfg[@]}" bazel-bin 2>/dev/null)
  total_text=0
  total_data=0
  total_bss=0
  archives=()
  printf '%-8s %-32s %8s %8s %8s\n' arch library text data bss
  for lib in $libs; do
    pkg=${lib#//}
    pkg=${pkg%%:*}
    name=${lib##*:}
    a="$bin/$pkg/lib$name.a"
    [ -f "$a" ] || a="$bin/$pkg/lib$name.pic.a"
    if [ ! -f "$a" ]; then
      # A header-only library has no archive; anything else is a broken build.
      if bazel query "labels(srcs, $lib)" 2>/dev/null | grep -q '\.c'; then
        echo "size_report: no archive for $lib in $bin" >&2
        status=1
      fi
      continue
    fi
    read -r text data bss < <("$size_tool" -t "$a" | awk 'END { print $1, $2, $3 }')
    printf '%-8s %-32s %8d %8d %8d\n' "$arch" "$lib" "$text" "$data" "$bss"
    archives+=("$a")
    total_text=$((total_text + text))
    total_data=$((total_data + data))
    total_bss=$((total_bss + bss))
  done
  printf '%-8s %-32s %8d %8d %8d\n' "$arch" total "$total_text" "$total_data" "$total_bss"
  for b in $binaries; do
    pkg=${b#//}
    pkg=${pkg%%:*}
    read -r text data bss < <("$size_tool" "$bin/$pkg/${b##*:}" | awk 'END { print $1, $2, $3 }')
    printf '%-8s %-32s %8d %8d %8d  (linked program, not in the budget)\n' \
      "$arch" "$b" "$text" "$data" "$bss"
  done
  # What the objects need from outside: no C++ exception or RTTI machinery may appear;
  # the heap functions they call are listed (the scorer may allocate at init only).
  if [ ${#archives[@]} -gt 0 ]; then
    undef=$("$nm_tool" -u "${archives[@]}" 2>/dev/null | awk 'NF == 2 { print $2 }' | sort -u)
    cxx=$(grep -E '^(__cxa_|__gxx_personality|_Unwind_|_ZTI|_ZTS|__dynamic_cast)' <<<"$undef")
    heap=$(grep -E '^(malloc|calloc|realloc|free|aligned_alloc|posix_memalign|_Znw|_Zna|_Zdl|_Zda)' <<<"$undef")
    echo "$arch heap calls: ${heap:-none}" | tr "\n" " "; echo
    if [ -n "$cxx" ]; then
      echo "size_report: $arch objects use exceptions/RTTI: ${cxx//$'\n'/ }" >&2
      status=1
    fi
  fi
  if [ "$total_text" -gt "$budget" ]; then
    echo "size_report: $arch text $total_text bytes exceeds the budget of $budget" >&2
    status=1
  else
    echo "size_report: $arch text $total_text of $budget bytes ($((100 * total_text / budget))%)"
  fi
done
exit "$status"
