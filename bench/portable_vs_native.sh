#!/usr/bin/env bash
# The portable build (release preset: baseline x86-64, kernels dispatched at run time) against a
# build for this machine only (native preset: -march=native), encode at d = 1M and 25M
# (docs/benchmarks.md, "Portable against native"). usage: bench/portable_vs_native.sh [ROUNDS]
# Builds compress_bench in both presets (the native one with the benchmarks only), then runs the
# two alternately ROUNDS times (default 3) so both see the same load, and prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cmake --preset release >/dev/null
cmake --build --preset release --target compress_bench >/dev/null
cmake --preset native -DGRADCOMP_WITH_TRAINING=OFF -DGRADCOMP_WITH_PYTHON=OFF \
  -DGRADCOMP_BUILD_TESTS=OFF >/dev/null
cmake --build --preset native --target compress_bench >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq "$rounds"); do
  for preset in release native; do
    "build/$preset/bench/compress_bench" --benchmark_filter='^(Encode|StreamingCopy)/.*/(1048576|25000000)/' \
      --benchmark_min_time=0.5 --benchmark_format=json >"$out/$preset-$round.json"
  done
done
python3 bench/portable_vs_native.py "$out"/release-*.json -- "$out"/native-*.json
