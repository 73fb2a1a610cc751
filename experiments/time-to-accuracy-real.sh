#!/usr/bin/env bash
# Runs experiments/time-to-accuracy-real.toml for real: `mpirun -np 2 gradcomp reproduce
# time-to-accuracy-real --mpi` with Open MPI's TCP transport inside a network namespace whose
# loopback a token bucket limits to 1 Gbit/s (docs/reproduction.md "time-to-accuracy").
# Needs root (ip netns, tc). Usage: experiments/time-to-accuracy-real.sh [BUILD_DIR] [--quick]
#   RATE=1gbit   the token bucket's rate (tc syntax); the experiment models 1 Gbit/s
set -euo pipefail
build=${1:-build/release}
shift || true
rate=${RATE:-1gbit}
namespace="gradcomp-tta-$$"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
source "$(dirname "$0")/../scripts/limited_link.sh"
limited_link "$namespace" "$rate"
echo "time-to-accuracy-real: TCP over loopback limited to $rate" >&2
ip netns exec "$namespace" mpirun --oversubscribe --bind-to none -np 2 --mca btl tcp,self \
  --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
  "$build/gradcomp" reproduce time-to-accuracy-real --mpi "$@"
