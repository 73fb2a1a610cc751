#!/usr/bin/env bash
# Runs every fuzz target (the decoders and the file parsers) for a bounded time from its seed
# corpus (tests/fuzz/corpus/NAME, read only: new inputs go to a temporary directory) with its
# dictionary. Any finding fails.
# usage: run_all.sh BUILD_DIR SECONDS_EACH, or FUZZ_RUNS=N run_all.sh BUILD_DIR (N executions
# each: `make fuzz-long`).
set -euo pipefail
build=$1
seconds=${2:-10}
budget=(-max_total_time="$seconds")
[ -n "${FUZZ_RUNS:-}" ] && budget=(-runs="$FUZZ_RUNS")
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
for target in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  seeds="$here/corpus/${name#fuzz_}"
  [ -d "$seeds" ] || { echo "fuzz $name: no seed corpus in $seeds (make fuzz-corpus)"; failed=$((failed + 1)); continue; }
  # The decoders share the message header's dictionary; a parser has its own, or none.
  case "${name#fuzz_}" in
    npy|layout|config|experiment) dict=(-dict="$here/${name#fuzz_}.dict") ;;
    idx|idx_gz|libsvm|csv|checkpoint) dict=() ;;
    *) dict=(-dict="$here/message.dict") ;;
  esac
  # Experiment files are the largest seeds (up to 7 KB); the rest fit in 4 KB.
  max_len=4096
  [ "${name#fuzz_}" = experiment ] && max_len=8192
  # Inputs that once failed (tests/fuzz/regressions/NAME, kept apart: make fuzz-corpus rewrites
  # the seed corpora) run first among the seeds, every time.
  regressions=()
  [ -d "$here/regressions/${name#fuzz_}" ] && regressions=("$here/regressions/${name#fuzz_}")
  corpus=$(mktemp -d)
  if "$target" "${budget[@]}" -max_len="$max_len" -print_final_stats=1 \
      "${dict[@]}" "$corpus" "$seeds" "${regressions[@]}" >"$corpus.log" 2>&1; then
    runs=$(grep -o 'Done [0-9]* runs' "$corpus.log" | tail -1 || true)
    edges=$(grep -o 'cov: [0-9]*' "$corpus.log" | tail -1 || true)
    echo "fuzz $name: ok (${runs:-no summary}, ${edges:-no coverage line})"
    passed=$((passed + 1))
  else
    echo "fuzz $name: FAILED"; tail -40 "$corpus.log"
    failed=$((failed + 1))
  fi
  rm -rf "$corpus" "$corpus.log"
done
echo "$passed passed, $failed failed"
[ "$passed" -gt 0 ] && [ "$failed" -eq 0 ]
