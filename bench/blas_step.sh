#!/usr/bin/env bash
# The training step under libtorch with the BLAS that scripts/setup.sh installs (OpenBLAS, serial)
# against Debian's reference BLAS (libblas3), alternated in one run so that both see the same
# machine: 200 steps of one worker, batch 32, per model; prints the compute seconds of each run
# (docs/benchmarks.md "The BLAS under libtorch"). Usage: bench/blas_step.sh [BUILD_DIR]
#   REPETITIONS=3   runs per BLAS and model
set -euo pipefail
build=${1:-build/release}
reference=/usr/lib/x86_64-linux-gnu/blas   # libblas3's libblas.so.3
if [ ! -e "$reference/libblas.so.3" ]; then
  echo "blas_step: $reference/libblas.so.3 is missing; install libblas3 to compare with it" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
compute_seconds() {  # $1: model; the rest: the gradcomp command. Prints one 200-step run's compute_seconds
  local model=$1
  shift
  "$@" train --set workers.n=1 --set run.epochs=1 --set data.train_samples=6400 \
    --set data.test_samples=1000 --set run.batch=32 --set run.train_eval_samples=1000 \
    --set "model.name=\"$model\"" --out "$work/run" >/dev/null 2>&1
  python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[-1])["compute_seconds"])' \
    "$work/run/metrics.jsonl"
  rm -rf "$work/run"
}
echo "model,blas,repetition,compute_seconds_200_steps"
for model in "mlp:hidden=1280" "lenet"; do
  for repetition in $(seq "${REPETITIONS:-3}"); do
    echo "$model,default,$repetition,$(compute_seconds "$model" "$build/gradcomp")"
    echo "$model,reference,$repetition,$(compute_seconds "$model" env LD_LIBRARY_PATH="$reference" "$build/gradcomp")"
  done
done
