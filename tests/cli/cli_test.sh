#!/usr/bin/env bash
# End-to-end checks of the gradcomp command: exit codes and messages for bad input, JSON output,
# and a cross-check of decoded vectors against NumPy formulas.
# usage: cli_test.sh path/to/gradcomp [python3-with-numpy]
set -u
gradcomp=$1
python=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

check() {  # check NAME EXPECTED_CODE EXPECTED_STDERR_SUBSTRING -- command...
  local name=$1 code=$2 text=$3
  shift 4
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -ne "$code" ] || ! grep -qF -- "$text" "$work/err" "$work/out"; then
    echo "FAIL $name: exit $got (expected $code), output:"; cat "$work/out" "$work/err"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

check "list" 0 "topk" -- "$gradcomp" list
check "list json" 0 '"linear_under_shared_seed"' -- "$gradcomp" list --json
check "list exchange" 0 '"exchange": "allreduce"' -- "$gradcomp" list --json
check "list algorithms" 0 '"section": "§3.9 ([BlockEF] Alg 3)"' -- "$gradcomp" list --json
check "list schedules" 0 's002-increasing' -- "$gradcomp" list
check "demo" 0 "built-in demo gradient" -- "$gradcomp" inspect --demo -c topk:ratio=0.01
check "missing input" 2 "inspect needs a vector" -- "$gradcomp" inspect -c topk
check "no such file" 2 "input file '$work/none.npy' does not exist" -- "$gradcomp" inspect -c topk -i "$work/none.npy"
printf 'not numpy' >"$work/text.npy"
check "not npy" 2 "is not a NumPy .npy file" -- "$gradcomp" inspect -c topk -i "$work/text.npy"
check "unknown compressor" 2 "unknown compressor 'topq'; valid compressors: identity" -- "$gradcomp" inspect --demo -c topq
check "bad parameter" 2 "topk: parameter ratio=2 is out of range; valid range (0, 1]" -- "$gradcomp" inspect --demo -c topk:ratio=2
check "unknown subcommand" 2 "gradcomp: error: unknown command 'frobnicate'; commands: list, inspect, train, sweep, plot, reproduce (gradcomp --help)" -- "$gradcomp" frobnicate
check "no subcommand" 2 "gradcomp: error: give a command; commands: list, inspect, train, sweep, plot, reproduce" -- "$gradcomp"
# Whole-number options refuse what CLI11 alone wrapped around or truncated.
check "negative seed" 2 "gradcomp: error: --seed: '-1' is not a whole number from 0 to 18446744073709551615 (gradcomp inspect --help lists the options)" -- "$gradcomp" inspect --demo -c topk --seed -1
check "24-digit seed" 2 "--seed: '123456789012345678901234' is not a whole number from 0 to 18446744073709551615" -- "$gradcomp" inspect --demo -c topk --seed 123456789012345678901234
check "negative step" 2 "--step: '-3' is not a whole number" -- "$gradcomp" inspect --demo -c topk --step -3
check "negative seeds" 2 "--seeds: '-2' is not a whole number" -- "$gradcomp" sweep --seeds -2
check "largest seed" 0 "topk" -- "$gradcomp" inspect --demo -c topk --seed 18446744073709551615
check "option conflict" 2 "gradcomp: error: --input excludes --demo (gradcomp inspect --help lists the options)" -- "$gradcomp" inspect --demo -i x.npy -c topk
check "help" 0 "Usage:" -- "$gradcomp" --help
# Layouts whose sizes overflow 64 bits or pass the wire format's 2^32 − 1 elements (they crashed
# with a segfault or became 0-element layers).
echo '{"layers": [{"shape": [18446744073709551000]}, {"shape": [1616]}]}' >"$work/huge1.json"
check "layout past the wire limit" 2 "gradcomp: error: layout file '$work/huge1.json': the layers up to 'layer0' hold 18446744073709551000 elements, more than the 4294967295 (2^32 − 1) a message can address" -- "$gradcomp" inspect -c topk --demo --layout "$work/huge1.json"
echo '{"layers": [{"name": "w", "shape": [4294967296, 4294967296]}]}' >"$work/huge2.json"
check "layout overflowing 64 bits" 2 "layer 'w' has shape [4294967296, 4294967296], whose element count overflows 64 bits" -- "$gradcomp" inspect -c topk --demo --layout "$work/huge2.json"

if [ -n "$python" ] && "$python" -c "import numpy" 2>/dev/null; then
  "$python" - "$work" <<'PY'
import numpy as np, sys
w = sys.argv[1]
rng = np.random.default_rng(0)
np.save(f"{w}/x32.npy", rng.standard_normal(5000).astype(np.float32))
np.save(f"{w}/x64.npy", rng.standard_normal((50, 40)))
np.save(f"{w}/int.npy", np.arange(10, dtype=np.int32))
np.save(f"{w}/empty.npy", np.zeros(0, dtype=np.float32))
x = rng.standard_normal(100).astype(np.float32); x[42] = np.nan
np.save(f"{w}/nan.npy", x)
np.save(f"{w}/fortran.npy", np.asfortranarray(rng.standard_normal((3, 4))))
PY
  check "wrong dtype" 2 "has dtype '<i4'; gradcomp reads float32" -- "$gradcomp" inspect -c topk -i "$work/int.npy"
  check "empty" 2 "holds an empty array" -- "$gradcomp" inspect -c topk -i "$work/empty.npy"
  check "nan" 2 "holds nan at index 42" -- "$gradcomp" inspect -c topk -i "$work/nan.npy"
  check "fortran" 2 "is stored in Fortran order" -- "$gradcomp" inspect -c topk -i "$work/fortran.npy"
  echo '{"layers": [{"name": "w", "shape": [7]}]}' >"$work/short.json"
  check "layout mismatch" 2 "the layout describes 7 elements but the input has 5000" -- "$gradcomp" inspect -c topk -i "$work/x32.npy" --layout "$work/short.json"
  check "output needs one" 2 "--output writes one decoded vector" -- "$gradcomp" inspect -c topk -c sign -i "$work/x32.npy" -o "$work/o.npy"
  # Decoded vectors against NumPy formulas (float32 and float64 inputs).
  "$gradcomp" inspect -c topk:k=50 -i "$work/x32.npy" -o "$work/topk.npy" --json >"$work/topk.json" &&
  "$gradcomp" inspect -c scaledsign -i "$work/x64.npy" -o "$work/sign.npy" >/dev/null &&
  "$gradcomp" inspect -c threshold:lambda=1.5 -i "$work/x64.npy" -o "$work/thr.npy" >/dev/null &&
  echo '{"layers": [{"name": "a", "shape": [20, 40]}, {"name": "b", "shape": [30, 40]}]}' >"$work/two.json" &&
  "$gradcomp" inspect -c blocksign -i "$work/x64.npy" --layout "$work/two.json" -o "$work/block.npy" >/dev/null
  if "$python" - "$work" <<'PY'
import json, numpy as np, sys
w = sys.argv[1]
x32 = np.load(f"{w}/x32.npy"); x64 = np.load(f"{w}/x64.npy")
topk = np.load(f"{w}/topk.npy")
order = np.lexsort((np.arange(x32.size), -np.abs(x32)))[:50]
ref = np.zeros_like(x32); ref[order] = x32[order]
assert topk.dtype == np.float32 and np.array_equal(topk, ref), "topk differs from numpy"
report = json.load(open(f"{w}/topk.json"))
err = float(np.sum((x32.astype(np.float64) - ref) ** 2) / np.sum(x32.astype(np.float64) ** 2))
assert abs(report["relative_error"] - err) < 1e-9, (report["relative_error"], err)
assert report["density"] == 50 / 5000 and report["bits"] % 8 == 0
sign = np.load(f"{w}/sign.npy")
scale = np.abs(x64).sum() / x64.size
assert sign.shape == (50, 40) and np.allclose(sign, np.where(x64 >= 0, scale, -scale), rtol=1e-14, atol=0)
thr = np.load(f"{w}/thr.npy")
assert np.array_equal(thr, np.where(np.abs(x64) >= 1.5, x64, 0))
block = np.load(f"{w}/block.npy").ravel(); flat = x64.ravel()
for lo, hi in [(0, 800), (800, 2000)]:
    s = np.abs(flat[lo:hi]).sum() / (hi - lo)
    assert np.allclose(block[lo:hi], np.where(flat[lo:hi] >= 0, s, -s), rtol=1e-14, atol=0)
PY
  then passed=$((passed + 1)); else echo "FAIL numpy cross-check"; failed=$((failed + 1)); fi
else
  echo "python3 with numpy not found: the NumPy cross-checks are required" >&2
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
