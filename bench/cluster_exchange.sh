#!/usr/bin/env bash
# The exchange on an emulated cluster (scripts/cluster/cluster.sh; docs/cluster.md): for each
# number of hosts and link rate, one rank per host, each host with its own rate-limited link into
# a bridge. Runs bench/exchange_bench's Transport benchmarks (the collectives of one step of
# 25M floats with the step's byte counts: dense allreduce, Top-k 0.1% and 1% allgather, RBGS
# allreduce, the two-way server with blocksign; no encode or decode) and prints
# docs/benchmarks.md's table: the measured transport against the α–β model of per-host links.
# Needs root. Usage: bench/cluster_exchange.sh [BUILD_DIR]
#   HOSTS="2 4 8"  RATES="1gbit 10gbit"  REPETITIONS=3  FILTER=Transport
set -euo pipefail
build=${1:-build/release}
here=$(cd "$(dirname "$0")" && pwd)
cluster="$here/../scripts/cluster/cluster.sh"
bench="$build/bench/exchange_bench"
out="$build/cluster"
mkdir -p "$out"
trap 'bash "$cluster" down' EXIT

# tc's rate (1gbit, 10gbit, 100mbit) as the network model's spec (1Gbit, 10Gbit, 100Mbit).
model_of() { sed -E 's/gbit$/Gbit/; s/mbit$/Mbit/' <<<"$1"; }

runs=()
for hosts in ${HOSTS:-2 4 8}; do
  for rate in ${RATES:-1gbit 10gbit}; do
    bash "$cluster" up "$hosts" "$rate"
    echo "cluster bench: $hosts hosts, $rate links" >&2
    bash "$cluster" mpirun --bind-to none -np "$hosts" "$bench" --network="$(model_of "$rate")" \
      --benchmark_format=json --benchmark_filter="${FILTER:-Transport}" \
      --benchmark_repetitions="${REPETITIONS:-3}" >"$out/cluster-$hosts-$rate.json"
    runs+=("$hosts:$rate:$(model_of "$rate")")
  done
done
python3 "$here/cluster_report.py" "$out" "${runs[@]}"
