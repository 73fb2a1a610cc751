#!/usr/bin/env bash
# Every command of README.md's quickstart, extracted from the file and run in a fresh directory
# (a newcomer's first steps; the "same run uncompressed" command once failed as written). What
# the test changes, and only this:
#   - `make run` is the Makefile's run target after its build: `build/release/gradcomp train`
#     (checked against the Makefile below); the build is the suite's own.
#   - training commands (train, sweep, and train under mpirun) get a shorter run appended:
#     --set run.steps=12 ... on 3,000 training images (the full runs take minutes each).
#   - mpirun gets --oversubscribe --bind-to none and the run-as-root variables (README says to
#     add --allow-run-as-root as root), `python3` is the interpreter with NumPy and torch, and
#     `cmake --install` installs into a temporary prefix instead of /opt/gradcomp.
# Every command must exit 0.
# Usage: quickstart_test.sh SOURCE_DIR BUILD_DIR PYTHON MPIRUN
set -uo pipefail
source_dir=$1
build_dir=$2
python=$3
mpirun=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build"
ln -s "$build_dir" "$work/build/release"
ln -s "$source_dir/examples" "$work/examples"
ln -s "$source_dir/python" "$work/python"
cd "$work" || exit 1
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

[ "$(sed -n '/^run:/,/^$/p' "$source_dir/Makefile" | head -n 2)" = $'run: build\n\t$(BUILD)/gradcomp train' ] ||
  fail "the Makefile's run target is no longer 'build, then \$(BUILD)/gradcomp train': update this test"

# The commands of the first ```sh block after "## Quickstart": continuation lines joined,
# comments dropped, one per line.
"$python" - "$source_dir/README.md" >commands.txt <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
block = re.search(r"^## Quickstart\n+```sh\n(.*?)^```", text, re.S | re.M).group(1)
command = ""
for line in block.splitlines():
    code = re.sub(r"\s+#.*$", "", line) if not line.lstrip().startswith("#") else ""
    if code.endswith("\\"):
        command += code[:-1].strip() + " "
        continue
    command += code.strip()
    if command:
        print(command)
    command = ""
PY
count=$(wc -l <commands.txt)
[ "$count" -ge 15 ] || fail "only $count commands found in README.md's quickstart"

shorter=(--set run.steps=12 --set run.eval_every=6 --set data.train_samples=3000
  --set data.test_samples=1000)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
while IFS= read -r line; do
  read -r -a words <<<"$line"
  case "$line" in
    "make run") words=(build/release/gradcomp train "${shorter[@]}") ;;
    "build/release/gradcomp train"* | "build/release/gradcomp sweep"*) words+=("${shorter[@]}") ;;
    mpirun*) words=("$mpirun" --oversubscribe --bind-to none "${words[@]:1}" "${shorter[@]}") ;;
    python3*) words[0]=$python ;;
    PYTHONPATH=*) words=(env "${words[0]}" "$python" "${words[@]:2}") ;;
    "cmake --install"*) words=("${words[@]/\/opt\/gradcomp/$work/prefix}") ;;
  esac
  echo "== $line"
  start=$SECONDS
  if "${words[@]}" </dev/null >out.log 2>&1; then
    echo "   exit 0 in $((SECONDS - start)) s: $(tail -n 1 out.log)"
  else
    fail "'$line' (run as '${words[*]}') exited $?: $(tail -n 20 out.log)"
  fi
done <commands.txt
[ -s grad.npy ] && [ -s decoded.npy ] && [ -d runs/run-002 ] && [ -f "$work/prefix/lib/pkgconfig/gradcomp.pc" ] ||
  fail "the quickstart's outputs are missing: $(ls)"
[ "$failed" -eq 0 ] && echo "quickstart_test: all $count commands of README.md's quickstart ran"
exit $((failed > 0))
