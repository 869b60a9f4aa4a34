#!/bin/bash
# step_mpi_test_bin under mpirun -np 2 and 3 (loopback, oversubscribed): every rank checks
# its summed gradients against one process's. Prints rank 0's doctest counter line of each
# run. Every mpirun runs under timeout(1).
BIN="$1"
. tests/check.sh
. tests/dist/mpi_env.sh

for np in 2 3; do
  timeout -k 5 120 mpirun --oversubscribe -np "$np" --tag-output "$BIN" > "$T/np$np.out" 2>&1
  rc=$?
  echo "--- -np $np: exit $rc"
  sed 's/^/    | /' "$T/np$np.out"
  check "$np ranks: exit 0 (got $rc)" test "$rc" -eq 0
  check "$np ranks: every rank passed" test "$(grep -c '<stdout>:\[doctest\] Status: SUCCESS' \
    "$T/np$np.out")" -eq "$np"
  sed -n 's/^\[1,0\]<stdout>:\(\[doctest\] test cases:.*\)/\1/p' "$T/np$np.out"
done
finish
