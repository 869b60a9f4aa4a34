#!/bin/bash
# The MPI communicator under mpirun on this machine (loopback, oversubscribed, as root in
# CI): every collective against known answers at 2 ranks (and 1 and 3), then the faults:
# a rank killed, exiting, aborting, stuck or skipping a collective while the others wait
# must end the job with a non-zero status and a message within 30 s. Prints rank 0's
# doctest counter line of the 2-rank run and doctest's counter line of these checks. Every
# mpirun runs under timeout(1), so that even a broken build of the watchdog cannot hang CI.
BIN="$1"
. tests/check.sh

. tests/dist/mpi_env.sh

# run NAME NP ARGS...: mpirun -np NP $BIN ARGS, output tagged by rank in $T/NAME.out (and
# echoed indented, so that its counter lines are not counted twice); sets rc and secs.
run() {
  local name="$1" np="$2"
  shift 2
  local t0
  t0=$(date +%s.%N)
  timeout -k 5 120 mpirun --oversubscribe -np "$np" --tag-output "$BIN" "$@" \
    > "$T/$name.out" 2>&1
  rc=$?
  end_time=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$end_time" 'BEGIN { printf "%.2f", b - a }')
  echo "--- $name (-np $np): exit $rc after $secs s"
  sed 's/^/    | /' "$T/$name.out"
}

# The seconds from the first "KEY=<unix time>" line of $T/NAME.out to the end of the job.
since() {
  local t
  t=$(grep -o "$2=[0-9.]*" "$T/$1.out" | head -1 | cut -d= -f2)
  awk -v a="$t" -v b="$end_time" 'BEGIN { if (a == "") print "?"; else printf "%.2f", b - a }'
}

# --- Primitives.
run primitives2 2 --mode=primitives
check "2 ranks: every collective's known answers (exit 0)" test "$rc" -eq 0
check "2 ranks: rank 1 passed too" grep -q '^\[1,1\]<stdout>:\[doctest\] Status: SUCCESS' \
  "$T/primitives2.out"
# Rank 0's counter line, for CI to count the suite's cases once.
sed -n 's/^\[1,0\]<stdout>:\(\[doctest\] test cases:.*\)/\1/p' "$T/primitives2.out"
for np in 1 3; do
  run "primitives$np" "$np" --mode=primitives
  check "$np ranks: every collective's known answers (exit 0)" test "$rc" -eq 0
  check "$np ranks: every rank passed" test "$(grep -c '<stdout>:\[doctest\] Status: SUCCESS' \
    "$T/primitives$np.out")" -eq "$np"
done

# --- Faults. $1 = mode, $2 = expected exit status, $3 = a line of the message (grep -E),
# the rest = more flags. The job must end within 30 s of its start with exactly that status.
fault() {
  local mode="$1" want="$2" msg="$3"
  shift 3
  run "$mode" 2 --mode="$mode" "$@"
  check "$mode: exit status $want (got $rc)" test "$rc" -eq "$want"
  check "$mode: ended within 30 s ($secs s)" awk -v s="$secs" 'BEGIN { exit !(s < 30) }'
  check "$mode: message" grep -Eq "$msg" "$T/$mode.out"
  check "$mode: no rank got past the fault" bash -c "! grep -q 'collective returned' '$T/$mode.out'"
  echo "fault $mode: exit $rc, $secs s in all, $(since "$mode" fault_time) s after the fault," \
    "$(since "$mode" wait_time) s after rank 0 began to wait"
}

fault kill_waiting 137 'exited on signal 9 \(Killed\)'
fault kill_during 137 'exited on signal 9 \(Killed\)'
fault exit_waiting 3 'Exit code: +3'
fault abort 4 'aborting the job \(exit status 4\): test: this rank gives up'
fault stuck 75 'rank 0 of 2: allreduce_sum_f32 of 4194304 floats did not complete within 3 s' \
  --timeout=3
fault skip 75 'did not complete within 3 s' --timeout=3

# kill -9 from outside: the last rank sleeps in "compute" while rank 0 waits in a barrier.
mkdir -p "$T/pids"
t0=$(date +%s.%N)
timeout -k 5 120 mpirun --oversubscribe -np 2 --tag-output "$BIN" --mode=external_kill \
  --pid_dir="$T/pids" > "$T/external_kill.out" 2>&1 &
job=$!
for _ in $(seq 1 300); do
  if [ -s "$T/pids/pid.1" ]; then break; fi
  sleep 0.1
done
check "external_kill: the rank wrote its pid" test -s "$T/pids/pid.1"
kill_time=$(date +%s.%N)
kill -9 "$(cat "$T/pids/pid.1")"
wait "$job"
rc=$?
end_time=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$end_time" 'BEGIN { printf "%.2f", b - a }')
echo "--- external_kill (-np 2): exit $rc after $secs s"
sed 's/^/    | /' "$T/external_kill.out"
check "external_kill: exit status 137 (got $rc)" test "$rc" -eq 137
check "external_kill: ended within 30 s ($secs s)" awk -v s="$secs" 'BEGIN { exit !(s < 30) }'
check "external_kill: message" grep -q 'exited on signal 9 (Killed)' "$T/external_kill.out"
echo "fault external_kill: exit $rc, $secs s in all," \
  "$(awk -v a="$kill_time" -v b="$end_time" 'BEGIN { printf "%.2f", b - a }') s after kill -9"

finish
