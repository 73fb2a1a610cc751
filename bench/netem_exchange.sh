#!/usr/bin/env bash
# Runs bench/exchange_bench with 2 ranks twice: on plain loopback (Open MPI's shared-memory
# transport), and with the TCP transport inside a network namespace whose loopback is rate
# limited by a token bucket, then prints the tables of docs/benchmarks.md.
# Needs root (ip netns, tc). Usage: bench/netem_exchange.sh [BUILD_DIR]
#   RATE=1gbit        the token bucket's rate (tc syntax)
#   NETWORK=1Gbit     the network model compared with it (gradcomp syntax)
set -euo pipefail
build=${1:-build/release}
rate=${RATE:-1gbit}
network=${NETWORK:-1Gbit}
bench="$build/bench/exchange_bench"
out="$build/netem"
namespace="gradcomp-netem-$$"
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
common=(--oversubscribe --bind-to none -np 2)

echo "netem: loopback, shared memory" >&2
mpirun "${common[@]}" "$bench" --network="$network" --benchmark_format=json \
  --benchmark_repetitions="${REPETITIONS:-3}" >"$out/loopback.json"

source "$(dirname "$0")/../scripts/limited_link.sh"
limited_link "$namespace" "$rate"
echo "netem: TCP over loopback limited to $rate ($(ip netns exec "$namespace" tc qdisc show dev lo))" >&2
ip netns exec "$namespace" mpirun "${common[@]}" --mca btl tcp,self --mca btl_tcp_if_include lo \
  --mca oob_tcp_if_include lo "$bench" --network="$network" --benchmark_format=json \
  --benchmark_repetitions="${REPETITIONS:-3}" --benchmark_filter="${LIMITED_FILTER:-.}" \
  >"$out/limited.json"

python3 "$(dirname "$0")/exchange_report.py" "$out/loopback.json" "$out/limited.json" "$network"
