#!/usr/bin/env bash
# The step-size tuning behind experiments/s002-blocksign.toml (docs/reproduction.md "s002"), as
# [BlockEF] tunes: on a 6,000-image hold-out split of the training set (data.validation_samples; the
# test set is not looked at), one seed, 4 epochs with the experiment's decays.
#  1. batch 16: SGD, SGDM, signSGD, signum (and, for the record, dist-EF-blockSGD(M)) over
#     η × {1/4, 1/2, 1, 2, 4} around the pre-tuning steps, widened where the best was at an edge;
#  2. batch 8 picks from {η₀/2, η₀}, batch 32 from {η₀, 2η₀}, η₀ the batch-16 best (below).
# dist-EF-blockSGD(M) then reuse SGD(M)'s steps. About 45 runs of 40-80 s.
# Usage: experiments/s002-step-tuning.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
build=${1:-build/release}
out=${2:-reproductions/s002-tuning}
mkdir -p "$out"
base="$out/base.toml"
cat >"$base" <<'TOML'
[data]
source = "fashion-mnist"
partition = "iid"
validation_samples = 6000

[model]
name = "mlp:hidden=128"

[workers]
n = 8

[algorithm]
wd = 5e-4

[network]
name = "1Gbit"

[run]
epochs = 4
batch = 16
TOML

SGD="algorithm.name=sgd compressor.spec=identity"
SGDM="algorithm.name=sgdm algorithm.kind=nesterov algorithm.momentum=0.9 compressor.spec=identity"
BLOCKSGD="algorithm.name=dist-ef-blocksgd"
BLOCKSGDM="algorithm.name=dist-ef-blocksgdm algorithm.momentum=0.9"
SIGN="algorithm.name=signsgd-mv"
SIGNUM="algorithm.name=signum-mv algorithm.momentum=0.9"

# sweep NAME BATCH "SETTINGS" STEP... : one sweep over the steps (skipped when already done)
sweep() {
  local name=$1 batch=$2 settings=$3
  shift 3
  [ -f "$out/$name/sweep.md" ] && return 0
  rm -rf "${out:?}/$name"
  local schedules=() sets=(--set "run.batch=$batch")
  for lr in "$@"; do schedules+=("\"step:lr=$lr,epochs=2/3\""); done
  for s in $settings; do sets+=(--set "$s"); done
  "$build/gradcomp" sweep "$base" --seeds 1 "${sets[@]}" \
    --grid "algorithm.schedule=$(IFS=,; echo "${schedules[*]}")" --out "$out/$name"
}

sweep sgd 16 "$SGD" 0.025 0.05 0.1 0.2 0.4 0.8
sweep blocksgd 16 "$BLOCKSGD" 0.025 0.05 0.1 0.2 0.4
sweep sgdm 16 "$SGDM" 0.005 0.01 0.02 0.04 0.08 0.16 0.32
sweep blocksgdm 16 "$BLOCKSGDM" 0.005 0.01 0.02 0.04 0.08
sweep signsgd 16 "$SIGN" 0.00025 0.0005 0.001 0.002 0.004
sweep signum 16 "$SIGNUM" 0.000125 0.00025 0.0005 0.001 0.002
# η₀ at batch 16 (measured): SGD 0.4, SGDM 0.08, signSGD 0.0005, signum 0.0005.
sweep sgd-b8 8 "$SGD" 0.2 0.4
sweep sgd-b32 32 "$SGD" 0.4 0.8
sweep sgdm-b8 8 "$SGDM" 0.04 0.08
sweep sgdm-b32 32 "$SGDM" 0.08 0.16
sweep signsgd-b8 8 "$SIGN" 0.00025 0.0005
sweep signsgd-b32 32 "$SIGN" 0.0005 0.001
sweep signum-b8 8 "$SIGNUM" 0.00025 0.0005
sweep signum-b32 32 "$SIGNUM" 0.0005 0.001
echo "s002 step tuning: tables in $out/*/sweep.md" >&2
