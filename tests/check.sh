# Sourced by the shell tests (. tests/check.sh; Bazel runs them from the runfiles root): a
# scratch folder T, `check "what" command...` counting passes and failures, and `finish`,
# which prints doctest's counter line (CI sums those lines) and fails on any failure.
T="${TEST_TMPDIR:-$(mktemp -d)}"
pass=0
fail=0
check() {  # check "what" command...
  local what="$1"
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $what"; fi
}
finish() {
  echo "[doctest] test cases: $((pass + fail)) | $pass passed | $fail failed | 0 skipped"
  test "$fail" -eq 0
}
