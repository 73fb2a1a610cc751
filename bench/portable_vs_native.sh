#!/usr/bin/env bash
# The portable build (release preset: baseline x86-64, kernels dispatched at run time) against a
# build for this machine only (native preset: -march=native), encode at d = 1M and 25M
# (docs/benchmarks.md, "Portable against native"). usage: bench/portable_vs_native.sh [ROUNDS]
# Builds compress_bench in both presets (the native one with the benchmarks only), then measures
# each kernel in the two builds back to back, ROUNDS times (default 3), and prints the table of
# medians.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
log=$(mktemp)
out=$(mktemp -d)
trap 'rm -rf "$out" "$log"' EXIT
build() {  # quiet unless it fails
  "$@" >"$log" 2>&1 || { cat "$log"; exit 1; }
}
build cmake --preset release
build cmake --build --preset release --target compress_bench
build cmake --preset native -DGRADCOMP_WITH_TRAINING=OFF -DGRADCOMP_WITH_PYTHON=OFF \
  -DGRADCOMP_BUILD_TESTS=OFF
build cmake --build --preset native --target compress_bench
# Kernel by kernel, the two builds back to back (in alternating order, so neither is always first),
# each process timing the streaming copy next to the kernel: both builds measure a kernel under
# the same load (this machine's speed drifts by tens of percent over minutes).
kernels=$(build/release/bench/compress_bench --benchmark_list_tests \
  --benchmark_filter='^(Encode/[^/]*|StreamingCopy)/25000000/' | sed -E 's#/25000000/.*##' | sort -u)
for round in $(seq "$rounds"); do
  order="release native"
  [ $((round % 2)) -eq 0 ] && order="native release"
  for kernel in $kernels; do
    for preset in $order; do
      "build/$preset/bench/compress_bench" \
        --benchmark_filter="^(StreamingCopy|$kernel)/(1048576|25000000)/" \
        --benchmark_min_time=1 --benchmark_format=json >"$out/$preset-$round-${kernel//\//_}.json"
    done
  done
done
python3 bench/portable_vs_native.py "$out"/release-*.json -- "$out"/native-*.json
