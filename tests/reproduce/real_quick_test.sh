#!/usr/bin/env bash
# The real run's quick mode, as CI runs the other reproductions' quick modes:
# experiments/time-to-accuracy-real.sh (mpirun -np 2 inside a network namespace whose loopback a
# token bucket limits to 1 Gbit/s) must hold its claims. Needs root, ip and tc: without them the
# test is skipped (exit 77), as it cannot build the link.
# Usage: real_quick_test.sh SOURCE_DIR BUILD_DIR OUT_DIR
set -uo pipefail
source_dir=$1
build=$2
out=$3
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
  echo "skipped: the rate-limited namespace needs root, ip and tc"
  exit 77
fi
probe="gradcomp-probe-$$"
if ! ip netns add "$probe" 2>/dev/null; then
  echo "skipped: ip netns add is not permitted here"
  exit 77
fi
ip netns del "$probe"
bash "$source_dir/experiments/time-to-accuracy-real.sh" "$build" --quick --quiet --out "$out"
