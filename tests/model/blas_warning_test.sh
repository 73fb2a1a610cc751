#!/usr/bin/env bash
# The reference-BLAS warning (model/blas_check.cpp): a network run under Debian's reference BLAS,
# forced through LD_LIBRARY_PATH, prints it exactly once with the library's path and the package
# to install; under the BLAS scripts/setup.sh installs it prints nothing. Skipped (77) when
# libblas3's file is absent.
# Usage: blas_warning_test.sh GRADCOMP
set -uo pipefail
gradcomp=$1
reference=/usr/lib/x86_64-linux-gnu/blas
if [ ! -e "$reference/libblas.so.3" ]; then
  echo "skipped: $reference/libblas.so.3 (libblas3) is not installed"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

tiny_mlp=(train --set 'model.name="mlp:hidden=8"' --set workers.n=2 --set run.epochs=1
  --set run.batch=32 --set data.train_samples=128 --set data.test_samples=32)
expected="gradcomp: warning: libtorch runs on the reference BLAS ($reference/libblas.so.3"
install_hint="install libopenblas0-serial (scripts/setup.sh)"

env LD_LIBRARY_PATH="$reference" "$gradcomp" "${tiny_mlp[@]}" --out reference 2>reference.err \
  >/dev/null || fail "the run on the reference BLAS exited $?: $(cat reference.err)"
count=$(grep -cF "$expected" reference.err)
[ "$count" -eq 1 ] || fail "reference BLAS: the warning appears $count times, not once: $(cat reference.err)"
grep -qF "$install_hint" reference.err || fail "reference BLAS: the warning does not name the fix"

"$gradcomp" "${tiny_mlp[@]}" --out default 2>default.err >/dev/null ||
  fail "the run on the installed BLAS exited $?: $(cat default.err)"
if grep -qF "reference BLAS" default.err; then
  fail "the installed BLAS is the reference one (run scripts/setup.sh): $(cat default.err)"
fi

if [ "$failed" -ne 0 ]; then
  echo "$failed check(s) failed"
  exit 1
fi
echo "blas warning: all checks passed"
