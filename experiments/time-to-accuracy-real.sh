#!/usr/bin/env bash
# Runs experiments/time-to-accuracy-real.toml for real: `mpirun -np 2 gradcomp reproduce
# time-to-accuracy-real --mpi` with Open MPI's TCP transport on a rate-limited link
# (docs/reproduction.md "time-to-accuracy"). Two links:
#   default     a network namespace whose loopback a token bucket limits: both ranks' traffic
#               shares the one bucket (a shared medium)
#   CLUSTER=1   two hosts of the emulated cluster (scripts/cluster/cluster.sh; docs/cluster.md),
#               each with its own link of RATE both ways, as two machines on a switch: runs
#               experiments/time-to-accuracy-cluster.toml (the same arms, checks for own links)
# Needs root (ip netns, tc). Usage: experiments/time-to-accuracy-real.sh [BUILD_DIR] [--quick] ...
#   RATE=1gbit   the token bucket's rate (tc syntax); the experiment models 1 Gbit/s
set -euo pipefail
build=${1:-build/release}
shift || true
rate=${RATE:-1gbit}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
here=$(cd "$(dirname "$0")" && pwd)
if [ "${CLUSTER:-0}" = 1 ]; then
  cluster="$here/../scripts/cluster/cluster.sh"
  trap 'bash "$cluster" down' EXIT
  bash "$cluster" up 2 "$rate"
  echo "time-to-accuracy-real: two hosts of the emulated cluster, links of $rate each" >&2
  bash "$cluster" mpirun --bind-to none -np 2 \
    "$build/gradcomp" reproduce time-to-accuracy-cluster --mpi "$@"
  exit
fi
namespace="gradcomp-tta-$$"
source "$here/../scripts/limited_link.sh"
limited_link "$namespace" "$rate"
echo "time-to-accuracy-real: TCP over loopback limited to $rate" >&2
ip netns exec "$namespace" mpirun --oversubscribe --bind-to none -np 2 --mca btl tcp,self \
  --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
  "$build/gradcomp" reproduce time-to-accuracy-real --mpi "$@"
