# Sourced by the shell tests (. tests/check.sh; Bazel runs them from the runfiles root): a
# scratch folder T, `check "what" command...` counting passes and failures (it returns the
# command's success, so `check ... || cat log` can show why), `skip "what: why"` for a check
# that cannot run here, and `finish`, which prints doctest's counter line (CI sums those
# lines; as in doctest, skipped checks are not among the test cases) and fails on any
# failure.
T="${TEST_TMPDIR:-$(mktemp -d)}"
pass=0
fail=0
skipped=0
check() {  # check "what" command...
  local what="$1"
  shift
  if "$@"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAILED: $what"
    return 1
  fi
}
skip() {  # skip "what: why"
  skipped=$((skipped + 1))
  echo "SKIPPED: $1"
}
finish() {
  echo "[doctest] test cases: $((pass + fail)) | $pass passed | $fail failed | $skipped skipped"
  test "$fail" -eq 0
}
