#!/usr/bin/env bash
# Runs every fuzz target for a bounded time. usage: run_all.sh BUILD_DIR SECONDS_EACH
set -euo pipefail
build=$1
seconds=${2:-10}
passed=0
failed=0
for target in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus=$(mktemp -d)
  if "$target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=0 "$corpus" \
      >"$corpus.log" 2>&1; then
    runs=$(grep -o 'Done [0-9]* runs' "$corpus.log" | tail -1 || true)
    echo "fuzz $name: ok (${runs:-no summary})"
    passed=$((passed + 1))
  else
    echo "fuzz $name: FAILED"; tail -40 "$corpus.log"
    failed=$((failed + 1))
  fi
  rm -rf "$corpus" "$corpus.log"
done
echo "$passed passed, $failed failed"
[ "$passed" -gt 0 ] && [ "$failed" -eq 0 ]
