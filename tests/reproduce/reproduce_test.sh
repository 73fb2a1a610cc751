#!/usr/bin/env bash
# `gradcomp reproduce` end to end on a tiny experiment (least squares, 40 steps): a claim that
# holds exits 0 and writes report.md, results.md/.csv and the plot; a claim that does not hold
# exits 1 and says FAILS; a known miss does not fail the run; a rerun reuses the finished runs; a
# diverged run is counted by diverged(); bad experiments exit 2 with their message.
# With MPIRUN: only the mpi part, `mpirun -np 2 gradcomp reproduce --mpi` against the local run.
# Usage: reproduce_test.sh GRADCOMP [MPIRUN]
set -uo pipefail
gradcomp=$1
mpirun=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

write_experiment() {  # $1: file, $2: the check's expect, $3: extra TOML
  cat >"$1" <<TOML
[experiment]
name = "tiny"
title = "tiny"
seeds = 2
quick_seeds = 1
[base.data]
source = "generate"
generator = "least-squares:samples=400,features=10,noise=0,dissimilarity=1,groups=4"
partition = "contiguous"
labels = "regression"
test_fraction = 0
[base.model]
name = "least-squares:l2=0"
[base.workers]
n = 4
[base.algorithm]
lr = 0.25
lr_unit = "1/L"
[base.run]
steps = 40
batch = "full"
eval_every = 10
precision = "double"
[[arm]]
id = "sgd"
set = ["algorithm.name=sgd"]
[[arm]]
id = "diana"
set = ["algorithm.name=diana", "compressor.quantizer=\"qsgd:levels=4\""]
[[check]]
claim = "the claim"
expect = "${2}"
[[plot]]
name = "curves"
arms = ["sgd", "diana"]
x = "epoch"
y = "suboptimality"
${3:-}
TOML
}

if [ -n "$mpirun" ]; then
  # Every run under mpirun -np 2 (workers.backend = mpi): the same table as the local reproduction.
  write_experiment mpi.toml "suboptimality(sgd) < 1e-3"
  # Open MPI's own allocations are not freed at exit; LeakSanitizer would fail the asan build.
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0
  export OMPI_MCA_btl_vader_single_copy_mechanism=none
  "$mpirun" --oversubscribe -np 2 "$gradcomp" reproduce mpi.toml --mpi --out mpi >mpi.log 2>&1 ||
    fail "mpirun reproduce: $(tail -5 mpi.log)"
  "$gradcomp" reproduce mpi.toml --out local --quiet >local.log 2>&1 || fail "local reproduce"
  grep -q "backend = 'mpi'" mpi/runs/sgd-seed1/config.toml ||
    fail "the runs did not use the mpi backend"
  cmp -s <(cut -d'|' -f2-6 mpi/results.md) <(cut -d'|' -f2-6 local/results.md) ||
    fail "mpi and local tables differ: $(cat mpi/results.md local/results.md)"
  [ "$failed" = 0 ] && echo "reproduce mpi tests passed"
  exit "$failed"
fi

# 1. A claim that holds: exit 0, outputs, two seeds per arm, the diverged arm counted.
write_experiment holds.toml "suboptimality(sgd) < 1e-3 and diverged(blowup) > 0.99" '[[arm]]
id = "blowup"
set = ["algorithm.name=sgd", "algorithm.lr=1e6"]'
"$gradcomp" reproduce holds.toml --out out1 --quiet >out1.log 2>&1
code=$?
[ "$code" = 0 ] || fail "a holding claim exited $code: $(cat out1.log)"
for f in report.md results.md results.csv curves.png curves.svg experiment.toml \
  runs/sgd-seed1/metrics.jsonl runs/sgd-seed2/summary.json runs/blowup-seed1/diverged.txt; do
  [ -s "out1/$f" ] || fail "missing out1/$f"
done
grep -q "^holds: the claim" out1.log || fail "no 'holds:' line: $(cat out1.log)"
grep -q "1 of 1 checks hold" out1.log || fail "no summary line"
grep -q '^| blowup (`blowup`) | 2 | 2 |' out1/results.md || fail "the diverged arm is not counted: $(cat out1/results.md)"
[ "$(wc -l <out1/results.csv)" = 4 ] || fail "results.csv should have a header and 3 arms"

# 2. The rerun reuses every finished run (the metrics are not rewritten).
stamp=$(stat -c %Y out1/runs/sgd-seed1/metrics.jsonl)
sleep 1
"$gradcomp" reproduce holds.toml --out out1 >out2.log 2>&1 || fail "rerun failed"
[ "$(grep -c 'done before' out2.log)" = 6 ] || fail "rerun did not reuse the 6 runs: $(cat out2.log)"
[ "$(stat -c %Y out1/runs/sgd-seed1/metrics.jsonl)" = "$stamp" ] || fail "a finished run was redone"

# 3. A claim that does not hold: exit 1 and FAILS.
write_experiment fails.toml "suboptimality(sgd) > 1"
"$gradcomp" reproduce fails.toml --quick --out out3 --quiet >out3.log 2>&1
code=$?
[ "$code" = 1 ] || fail "a failing claim exited $code"
grep -q "^FAILS: the claim" out3.log || fail "no FAILS line: $(cat out3.log)"
grep -q "^0 of 1 checks hold, 1 FAIL; report: " out3.log || fail "summary: $(tail -1 out3.log)"
grep -q "suboptimality(sgd) = .* > 1 = 1: no" out3.log || fail "the comparison is not shown"

# 4. The same claim as a known miss: reported, exit 0.
sed 's/^expect = .*/&\nknown_miss = "because"/' fails.toml >miss.toml
"$gradcomp" reproduce miss.toml --quick --out out3 --quiet >out4.log 2>&1
code=$?
[ "$code" = 0 ] || fail "a known miss exited $code"
grep -q "^misses, as known: because: the claim" out4.log || fail "no known-miss line: $(cat out4.log)"
grep -q "^0 of 1 checks hold, 1 miss as known; report: " out4.log || fail "summary: $(tail -1 out4.log)"

# 5. Bad experiments: exit 2 and the message.
expect_error() {  # $1: expected message, then the command's arguments
  local message=$1
  shift
  local output
  output=$("$gradcomp" reproduce "$@" 2>&1)
  local code=$?
  [ "$code" = 2 ] || fail "'$*' exited $code, expected 2"
  [ "$output" = "gradcomp: error: $message" ] || fail "'$*' said: $output; expected: gradcomp: error: $message"
}
write_experiment badarm.toml "accuracy(nope) > 1"
expect_error "badarm.toml: [[check]] #1: accuracy(nope): no arm 'nope' in this mode" badarm.toml
write_experiment badfn.toml "acuracy(sgd) > 1"
out=$("$gradcomp" reproduce badfn.toml 2>&1)
[ $? = 2 ] && [[ "$out" == "gradcomp: error: acuracy(sgd): unknown function 'acuracy'; functions: "* ]] ||
  fail "unknown function: $out"
write_experiment badset.toml "suboptimality(sgd) < 1" '[[arm]]
id = "typo"
set = ["algorithm.lrr=1"]'
out=$("$gradcomp" reproduce badset.toml --out out5 2>&1)
[ $? = 2 ] || fail "a bad override did not exit 2: $out"
[ ! -e out5 ] || fail "a bad override still created the output directory"
expect_error "experiment file 'missing.toml' does not exist" missing.toml
out=$("$gradcomp" reproduce nope 2>&1)
[ $? = 2 ] && [[ "$out" == "gradcomp: error: no experiment 'nope'; known: "*"s004-logreg"* ]] ||
  fail "unknown experiment: $out"

# 6. SIGINT stops the reproduction (exit 130) after the run's checkpoint; the same command then
# resumes that run and ends with the same numbers as an uninterrupted reproduction.
write_experiment long.toml "suboptimality(sgd) < 1" '[[arm]]
id = "long"
set = ["algorithm.name=sgd", "run.steps=1200000", "run.eval_every=400000"]'
sed -i 's/^seeds = 2/seeds = 1/' long.toml
"$gradcomp" reproduce long.toml --out out6 >out6.log 2>&1 &
pid=$!
# Once the run's config.toml exists its trainer has installed the handlers (a background job of
# this shell starts with SIGINT ignored, so an earlier signal would be lost).
for _ in $(seq 1 600); do
  [ -e out6/runs/long-seed1/config.toml ] && break
  sleep 0.1
done
sleep 0.5
kill -INT "$pid"
wait "$pid"
code=$?
[ "$code" = 130 ] || fail "an interrupted reproduction exited $code: $(tail -3 out6.log)"
grep -q "gradcomp: interrupted during out6/runs/long-seed1" out6.log || fail "no interruption message: $(tail -3 out6.log)"
"$gradcomp" reproduce long.toml --out out6 >out7.log 2>&1 || fail "the continued reproduction failed"
grep -q "^\[3/3\] long seed 1: resumed, " out7.log || fail "the run did not resume: $(grep '^\[' out7.log)"
"$gradcomp" reproduce long.toml --out out8 --quiet >/dev/null 2>&1 || fail "the straight reproduction failed"
losses() { grep -o '"train_loss":[^,]*,"train_accuracy":[^,]*' "$1"; }
# The resumed run keeps the record of the interruption, then the same records as the straight one.
cmp -s <(losses out6/runs/long-seed1/metrics.jsonl | tail -3) \
  <(losses out8/runs/long-seed1/metrics.jsonl | tail -3) || fail "the resumed run differs from the straight one"
# Step 0 (the starting point) and steps 400k, 800k, 1.2M.
[ "$(losses out8/runs/long-seed1/metrics.jsonl | wc -l)" = 4 ] || fail "the straight run lacks records"

# 7. A classifier's run that ends at chance without a NaN is counted as collapsed: in
# collapsed(arm), in the results table's column and in a [[table]] cell.
fm=/usr/share/datasets/fashion-mnist
if [ -e "$fm/t10k-images-idx3-ubyte.gz" ]; then
  cat >collapse.toml <<'TOML'
[experiment]
name = "collapse"
title = "collapse"
seeds = 1
[base.data]
source = "fashion-mnist"
train_samples = 2000
test_samples = 500
[base.model]
name = "mlp"
[base.workers]
n = 2
[base.algorithm]
name = "sgd"
[base.run]
steps = 60
eval_every = 10
batch = 32
[[arm]]
id = "lr-{lr}"
set = ["algorithm.schedule=\"constant:lr={lr}\""]
values = { lr = [0.1, 5] }
[[check]]
claim = "the large step collapses, the small one does not"
expect = "collapsed(lr-5) > 0.99 and collapsed(lr-0.1) < 0.01 and diverged(lr-5) < 0.01"
[[table]]
title = "accuracy"
columns = ["0.1", "5"]
rows = ["lr-{c}"]
labels = ["SGD"]
[[table]]
title = "gap"
columns = ["5"]
rows = ["lr-{c}"]
labels = ["SGD"]
baseline = "lr-0.1"
plot = "gap"
plot_x = "steps"
TOML
  "$gradcomp" reproduce collapse.toml --out out9 >out9.log 2>&1 || fail "collapse experiment: $(cat out9.log)"
  grep -q '^\[2/2\] lr-5 seed 1: test accuracy 9.20%, collapsed at step 50 (' out9.log ||
    fail "the collapsed run's outcome: $(grep '^\[' out9.log)"
  grep -q '^| lr-5 (`lr-5`) | 1 | 0 | 1 |' out9/results.md || fail "collapsed column: $(cat out9/results.md)"
  grep -q '^| lr-0.1 (`lr-0.1`) | 1 | 0 | 0 |' out9/results.md || fail "collapsed column: $(cat out9/results.md)"
  grep -qF '| 9.20 ± 0.00 (1 of 1 collapsed) |' out9/results.md || fail "table cell: $(cat out9/results.md)"
  # A baseline makes each cell the baseline's mean minus the arm's; plot draws the rows.
  grep -qF '| SGD | 56.80 ± 0.00 (1 of 1 collapsed) |' out9/results.md || fail "gap cell: $(cat out9/results.md)"
  [ -s out9/gap.svg ] && [ -s out9/gap.png ] || fail "the table's plot is missing"
  grep -q '^60 56.8' out9/gap.series0.dat || fail "the plotted point: $(cat out9/gap.series0.dat)"
fi

if [ "$failed" != 0 ]; then
  echo "$failed failure(s)"
  exit 1
fi
echo "reproduce tests passed"
