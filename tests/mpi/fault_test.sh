#!/usr/bin/env bash
# A distributed job that fails must end within a bounded time with a clear message: a rank that
# raises, a rank that dies, a handshake mismatch, an undecodable message (fault_probe.cpp).
# Usage: fault_test.sh MPIRUN FAULT_PROBE
set -uo pipefail
mpirun=$1
probe=$2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none ASAN_OPTIONS=detect_leaks=0
failures=0
limit=30  # seconds a failing job may take to end

# expect MODE EXIT_CODE TEXT: the job exits with EXIT_CODE (or any non-zero code if "any")
# within the limit and its output contains TEXT.
expect() {
  local mode=$1 code=$2 text=$3
  local start end status output
  start=$(date +%s)
  output=$(timeout 120 "$mpirun" --oversubscribe --bind-to none -np 2 "$probe" "$mode" 2>&1)
  status=$?
  end=$(date +%s)
  if [ "$status" -eq 124 ]; then
    echo "FAIL $mode: the job hung (killed after 120 s)"; failures=$((failures + 1)); return
  fi
  if [ $((end - start)) -gt $limit ]; then
    echo "FAIL $mode: took $((end - start)) s (limit $limit s)"; failures=$((failures + 1))
  fi
  if [ "$code" = any ] && [ "$status" -eq 0 ] || [ "$code" != any ] && [ "$status" -ne "$code" ]; then
    echo "FAIL $mode: exit code $status, expected $code"; failures=$((failures + 1))
  fi
  if ! grep -qF -- "$text" <<<"$output"; then
    echo "FAIL $mode: output lacks '$text':"; head -20 <<<"$output"; failures=$((failures + 1))
  fi
  echo "ok $mode: exit $status in $((end - start)) s"
}

expect raise 2 "gradcomp (rank 1 of 2): error: probe: rank 1 fails at step 3; stopping every rank"
expect kill any "exited on signal 9"
expect mismatch 2 "gradcomp: error: rank 1 disagrees with rank 0 on the model size: '1000' on rank 1, '1024' on rank 0"
expect decode 2 "the message of worker 1 (rank 1) does not decode: message truncated"

# The mismatch is reported once, by rank 0, not by every rank.
count=$(timeout 120 "$mpirun" --oversubscribe --bind-to none -np 2 "$probe" mismatch 2>&1 | grep -c "disagrees")
if [ "$count" -ne 1 ]; then echo "FAIL mismatch: reported $count times"; failures=$((failures + 1)); fi

exit $((failures > 0))
