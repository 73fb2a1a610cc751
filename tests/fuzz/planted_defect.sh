#!/usr/bin/env bash
# The fuzzing's own check: a build whose Top-k decoder reads one byte past the message
# (GRADCOMP_FUZZ_PLANTED_DEFECT, the fuzz-planted preset) must be caught by fuzz_topk from its seed
# corpus within 60 s (libFuzzer seed 1: the same search on every run), as AddressSanitizer's
# report of a read past the message's buffer inside the decoder. If the libraries lost their
# instrumentation, or the corpus stopped reaching the value section, this fails. usage: planted_defect.sh BUILD_DIR [SECONDS]
set -uo pipefail
build=$1
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
corpus=$(mktemp -d)
log="$corpus.log"
"$build/tests/fuzz/fuzz_topk" -seed=1 -max_total_time="$seconds" -max_len=4096 \
  -dict="$here/message.dict" -artifact_prefix="$corpus/" "$corpus" "$here/corpus/topk" >"$log" 2>&1
status=$?
found=no
if [ "$status" -ne 0 ] && grep -qE "ERROR: AddressSanitizer: heap-buffer-overflow" "$log" &&
  grep -qE "in .*TopK.*decode_typed|topk\.cpp" "$log"; then
  found=yes
fi
if [ "$found" = yes ]; then
  echo "planted defect: found ($(grep -oE 'AddressSanitizer: [a-z-]+' "$log" | head -1), after $(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#') executions)"
  rm -rf "$corpus" "$log"
  exit 0
fi
echo "planted defect: NOT found in ${seconds} s (exit $status); the fuzzing cannot see inside the decoders"
tail -30 "$log"
rm -rf "$corpus" "$log"
exit 1
