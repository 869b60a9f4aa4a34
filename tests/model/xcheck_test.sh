#!/bin/bash
# The PyTorch cross-check as a test: //tests/model:xcheck_dump writes what ract's float
# training step computes for both presets, tests/model/xcheck_torch.py recomputes it with
# torch.autograd in float64 and compares each tensor relative to its own scale. Needs
# Debian's python3-torch (apt-get install python3-torch; .ci/run installs it): without it
# the test is reported as skipped in doctest's counter line, not as passed.
DUMP="$1"
SCRIPT="$2"
PY=/usr/bin/python3
T="${TEST_TMPDIR:-$(mktemp -d)}"
if ! "$PY" -c "import torch" > /dev/null 2>&1; then
  echo "xcheck: $PY cannot import torch (Debian: apt-get install python3-torch): skipped"
  echo "[doctest] test cases: 1 | 0 passed | 0 failed | 1 skipped"
  exit 0
fi
if ! "$DUMP" "$T"; then
  echo "FAILED: xcheck_dump"
  echo "[doctest] test cases: 1 | 0 passed | 1 failed | 0 skipped"
  exit 1
fi
OMP_NUM_THREADS=1 exec "$PY" "$SCRIPT" "$T"
