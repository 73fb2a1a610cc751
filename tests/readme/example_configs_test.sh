#!/usr/bin/env bash
# Every configuration in examples/configs/ runs as shipped (a few steps of it), warns about
# nothing it does not use, and records the algorithm its comment names.
# Usage: example_configs_test.sh SOURCE_DIR GRADCOMP
set -uo pipefail
source_dir=$1
gradcomp=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
declare -A algorithm=([my]=def [def-rbgs]=def [blockwise-sign-server]=dist-ef-blocksgdm
  [heterogeneous-diana]=diana [hard-threshold]=ef-scaled)
count=0
for config in "$source_dir"/examples/configs/*.toml; do
  name=$(basename "$config" .toml)
  count=$((count + 1))
  [ -n "${algorithm[$name]:-}" ] || { fail "$name.toml is not listed in this test"; continue; }
  smaller=(--set data.train_samples=1000)
  grep -q '^source = "fashion-mnist"' "$config" && smaller+=(--set data.test_samples=200)
  "$gradcomp" train "$config" --set run.steps=3 --set run.eval_every=3 "${smaller[@]}" \
    --out "$name" >"$name.log" 2>&1 ||
    { fail "$name.toml: $(tail -n 5 "$name.log")"; continue; }
  grep -q "warning" "$name.log" && fail "$name.toml warns: $(grep warning "$name.log")"
  grep -q "\"algorithm\": \"${algorithm[$name]}[:\"]" "$name/summary.json" ||
    fail "$name.toml did not run ${algorithm[$name]}: $(grep '"algorithm"' "$name/summary.json")"
done
[ "$count" -eq "${#algorithm[@]}" ] || fail "$count configurations, ${#algorithm[@]} expected"
[ "$failed" -eq 0 ] && echo "example_configs_test: all $count configurations ran"
exit $((failed > 0))
