# Sourced by the mpirun tests: what Open MPI needs on this machine (as root in CI).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI keeps its session directory (and Unix sockets, whose paths must stay under 108
# bytes) in $TMPDIR: a short private one, not the long test folder.
TMPDIR="$(mktemp -d /tmp/ract_mpi.XXXXXX)" || exit 1
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
# Under ASan (--config=asan), Open MPI's own allocations that it never frees are not ours.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
