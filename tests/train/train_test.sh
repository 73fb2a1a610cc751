#!/usr/bin/env bash
# `gradcomp train` end to end on a small deterministic problem (LIBSVM file, contiguous partition,
# full-batch gradients, zero init, constant step): reruns are bit-identical, the outputs exist and
# parse, bad input gets exit code 2 and its message; with MODE=mpi also `mpirun -np 2` agrees
# with the local run to 1e-6 relative.
# Usage: train_test.sh GRADCOMP PYTHON MODE(local|mpi) [MPIRUN]
set -uo pipefail
gradcomp=$1
python=$2
mode=$3
mpirun=${4:-mpirun}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# 240 samples, 12 features, sparse rows, labels ±1 from a fixed linear rule.
"$python" "$here/tiny_svm.py" >data.svm

cat >run.toml <<'TOML'
[data]
source = "libsvm"
train = "data.svm"
test_fraction = 0.25
partition = "contiguous"
[model]
name = "logistic:l2=0.001"
[workers]
n = 4
[algorithm]
name = "def-a"
kappa = 0.3
lr = 0.5
[compressor]
name = "topk"
k = 3
[run]
steps = 60
batch = "full"
eval_every = 20
precision = "double"
save_model = true
TOML

"$gradcomp" train run.toml --out a >a.log 2>&1 || fail "first run: $(cat a.log)"
"$gradcomp" train run.toml --out b >b.log 2>&1 || fail "second run: $(cat b.log)"
"$python" - a b <<'PY' || fail "reruns differ"
import json, sys
timing = {"compute_seconds", "step_seconds", "network_seconds", "simulated_seconds"}
def load(run):
    return [{k: v for k, v in json.loads(l).items() if k not in timing} for l in open(f"{run}/metrics.jsonl")]
assert load(sys.argv[1]) == load(sys.argv[2])
PY
cmp -s a/model.npy b/model.npy || fail "reruns' models differ"
for f in config.toml metrics.jsonl metrics.csv summary.json model.npy; do
  [ -s "a/$f" ] || fail "a/$f missing"
done
"$python" - a <<'PY' || fail "outputs do not hold what docs/outputs.md says"
import json, sys, numpy as np
run = sys.argv[1]
rows = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
# The starting point (x = 0: the logistic loss is ln 2, nothing sent yet), then every 20 steps.
assert [r["step"] for r in rows] == [0, 20, 40, 60], rows
assert abs(rows[0]["train_loss"] - 0.6931471805599453) < 1e-12 and rows[0]["bits_up"] == 0, rows[0]
assert rows[-1]["train_loss"] < rows[1]["train_loss"] < 0.6931, rows
assert rows[-1]["bits_up"] > rows[1]["bits_up"] > 0
assert abs(rows[-1]["density"] - 3 / 12) < 1e-12, rows[-1]["density"]
summary = json.load(open(f"{run}/summary.json"))
assert summary["steps"] == 60 and summary["workers"] == 4
assert np.load(f"{run}/model.npy").shape == (12,)
header = open(f"{run}/metrics.csv").readline().strip().split(",")
assert header[:3] == ["step", "epoch", "lr"], header
# The α–β model's totals give back the run's own clock (1 Gbit/s, 50 µs latency): what lets a
# run be timed on other networks afterwards (docs/outputs.md).
for r in rows[1:]:
    model = 50e-6 * r["network_messages"] + r["network_critical_bits"] / 1e9
    assert r["network_messages"] > 0 and abs(model - r["network_seconds"]) <= 1e-12 * r["network_seconds"], r
PY
grep -q "^test accuracy .* after 60.00 epochs" a.log || fail "no closing line: $(cat a.log)"
# Top-k's 3 of 12 values with their indices outweigh the dense exchange of a 12-parameter model:
# the summary says "more", not "0.6x less", and gives small traffic in significant digits.
grep -qE "^sent 0\.[0-9]{3,} MB per worker, [0-9.]+x more than uncompressed SGD \(0\.00[0-9]+ MB\)$" a.log ||
  fail "the traffic line: $(grep '^sent' a.log)"

# Options before the config file: each --set takes one value, the file stays the config.
"$gradcomp" train --set run.steps=3 --set run.eval_every=3 run.toml --out opt >opt.log 2>&1 ||
  fail "options before the config: $(cat opt.log)"
grep -q '"steps": 3' opt/summary.json || fail "--set before the config was not applied"

# Checkpoints: 30 steps, then --resume to 60, ends where a straight 60-step run ends.
"$gradcomp" train run.toml --set run.steps=30 --out half >half.log 2>&1 || fail "half: $(cat half.log)"
[ -s half/checkpoint/rank-0.bin ] && [ -s half/checkpoint/trainer.json ] || fail "no checkpoint"
"$gradcomp" train --resume half --set run.steps=60 >resume.log 2>&1 || fail "resume: $(cat resume.log)"
cmp -s a/model.npy half/model.npy || fail "a resumed run differs from one that never stopped"
"$python" - a half <<'PY' || fail "resumed metrics differ"
import json, sys
timing = {"compute_seconds", "step_seconds", "network_seconds", "simulated_seconds"}
def load(run):
    rows = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
    return {r["step"]: {k: v for k, v in r.items() if k not in timing} for r in rows}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert sorted(b) == [0, 20, 30, 40, 60], sorted(b)
for step in (0, 20, 40, 60):
    assert a[step] == b[step], (step, a[step], b[step])
PY

# A ResNet with BatchNorm: its running statistics are part of the checkpoint, so the resumed
# run evaluates (eval mode uses them) exactly as the straight one.
fm=/usr/share/datasets/fashion-mnist
cat >rn.toml <<TOML
[data]
source = "idx"
train = "$fm/t10k-images-idx3-ubyte.gz"
train_labels = "$fm/t10k-labels-idx1-ubyte.gz"
test_fraction = 0.02
[model]
name = "resnet:width=4"
[workers]
n = 2
[algorithm]
name = "sgdm"
lr = 0.05
[run]
steps = 8
batch = 8
eval_every = 1000
# The training loss on 400 of the 9,800 training images: the whole set made every evaluation of
# these runs cost about 20 s under the sanitizers (the rg2 runs below use 40).
train_eval_samples = 400
save_model = true
TOML
if [ -e "$fm/t10k-images-idx3-ubyte.gz" ]; then
  "$gradcomp" train rn.toml --out rn8 >rn8.log 2>&1 || fail "resnet: $(cat rn8.log)"
  "$gradcomp" train rn.toml --set run.steps=4 --out rn4 >rn4.log 2>&1 || fail "resnet 4: $(cat rn4.log)"
  "$gradcomp" train --resume rn4 --set run.steps=8 >rn4r.log 2>&1 || fail "resnet resume: $(cat rn4r.log)"
  cmp -s rn8/model.npy rn4/model.npy || fail "resnet: resumed model differs"
  "$python" - rn8 rn4 <<'PY' || fail "resnet: resumed evaluation differs (BatchNorm statistics?)"
import json, sys
timing = {"compute_seconds", "step_seconds", "network_seconds", "simulated_seconds"}
last = [json.loads(open(f"{d}/metrics.jsonl").read().splitlines()[-1]) for d in sys.argv[1:3]]
a, b = ({k: v for k, v in r.items() if k not in timing} for r in last)
assert a == b, (a, b)
PY
  # A run that ends at chance without a NaN is named as collapsed (summary.json and the printed
  # outcome); one that learns is not. chance_accuracy is the largest test class's share.
  small=(--set data.train_samples=2000 --set data.test_samples=500 --set model.name=mlp
    --set workers.n=2 --set algorithm.name=sgd --set compressor.name=identity --set run.steps=60
    --set run.eval_every=10 --set run.batch=32)
  "$gradcomp" train "${small[@]}" --set 'algorithm.schedule="constant:lr=5"' --out dead \
    >dead.log 2>&1 || fail "collapsing run: $(cat dead.log)"
  grep -q "^collapsed: test accuracy at chance (11.80%, the largest class's share) from step 50 on;" \
    dead.log || fail "the collapse is not printed: $(cat dead.log)"
  "$gradcomp" train "${small[@]}" --set 'algorithm.schedule="constant:lr=0.1"' --out alive \
    >alive.log 2>&1 || fail "learning run: $(cat alive.log)"
  grep -q collapsed alive.log && fail "a run that learned is called collapsed: $(cat alive.log)"
  "$python" - dead alive <<'PY' || fail "collapse: summary.json wrong"
import json, sys
dead, alive = (json.load(open(f"{d}/summary.json")) for d in sys.argv[1:3])
acc = [json.loads(l)["test_accuracy"] for l in open(f"{sys.argv[1]}/metrics.jsonl")]
assert dead["chance_accuracy"] == alive["chance_accuracy"] == 59 / 500, dead["chance_accuracy"]
assert dead["collapsed"] == {"step": 50, "test_accuracy": acc[5]}, (dead["collapsed"], acc)
assert max(acc[1:]) <= 59 / 500 + 0.01, acc  # never above chance: the last two count
assert "collapsed" not in alive, alive["collapsed"]
PY
  # run.gradient_geometry measures a gradient at every evaluation without changing the run
  # (the BatchNorm statistics it touches are put back): same model, same metrics, plus
  # grad_phi and grad_sign_delta in (0, 1].
  "$gradcomp" train rn.toml --set run.eval_every=3 --out rg0 >rg0.log 2>&1 || fail "resnet: $(cat rg0.log)"
  "$gradcomp" train rn.toml --set run.eval_every=3 --set run.gradient_geometry=true --out rg1 \
    >rg1.log 2>&1 || fail "resnet geometry: $(cat rg1.log)"
  cmp -s rg0/model.npy rg1/model.npy || fail "gradient_geometry changed the model"
  # run.train_eval_samples evaluates the training loss on another part of the set: same run, another
  # training loss, the same test accuracy.
  "$gradcomp" train rn.toml --set run.eval_every=3 --set run.train_eval_samples=40 --out rg2 \
    >rg2.log 2>&1 || fail "resnet train_eval_samples: $(cat rg2.log)"
  cmp -s rg0/model.npy rg2/model.npy || fail "train_eval_samples changed the model"
  "$python" - rg0 rg2 <<'PY' || fail "train_eval_samples: metrics wrong"
import json, sys
runs = [[json.loads(l) for l in open(f"{d}/metrics.jsonl")] for d in sys.argv[1:3]]
for whole, part in zip(*runs):
    assert whole["test_accuracy"] == part["test_accuracy"], (whole, part)
    assert whole["train_loss"] != part["train_loss"], (whole, part)
PY
  "$python" - rg0 rg1 <<'PY' || fail "gradient_geometry: metrics wrong"
import json, sys
timing = {"compute_seconds", "step_seconds", "network_seconds", "simulated_seconds"}
runs = [[json.loads(l) for l in open(f"{d}/metrics.jsonl")] for d in sys.argv[1:3]]
assert len(runs[0]) == len(runs[1]) == 4, runs  # steps 0, 3, 6, 8
for plain, measured in zip(*runs):
    assert "grad_phi" not in plain
    for key in ("grad_phi", "grad_sign_delta"):
        assert 0 < measured.pop(key) <= 1, measured
    drop = lambda r: {k: v for k, v in r.items() if k not in timing}
    assert drop(plain) == drop(measured), (plain, measured)
PY
fi

# SIGINT: the run stops after the step in progress, checkpoints, reports, exits 130; resumed to
# step N + 50 it ends where a straight (N + 50)-step run ends.
# The signal is sent once the run directory holds config.toml: by then the handlers are installed
# (they are from before the data is loaded). A background job of this non-interactive shell starts
# with SIGINT ignored, so a signal sent earlier would be lost, however slow the start (sanitizers).
"$gradcomp" train run.toml --set run.steps=50000000 --set run.eval_every=1000000 --out int \
  >int.log 2>&1 &
pid=$!
for _ in $(seq 600); do
  [ -e int/config.toml ] && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
status=$?
[ "$status" -eq 130 ] || fail "interrupted run exited $status, expected 130: $(cat int.log)"
stopped=$(sed -n 's/^interrupted after step \([0-9]*\):.*/\1/p' int.log)
if [ -n "$stopped" ]; then
  target=$((stopped + 50))
  "$gradcomp" train --resume int --set run.steps=$target >int2.log 2>&1 || fail "resume: $(cat int2.log)"
  "$gradcomp" train run.toml --set run.steps=$target --set run.eval_every=1000000 --out straight \
    >straight.log 2>&1 || fail "straight: $(cat straight.log)"
  cmp -s int/model.npy straight/model.npy || fail "interrupted+resumed differs from straight"
else
  fail "no 'interrupted after step' line: $(cat int.log)"
fi

# SIGHUP (a closed terminal) stops a run like SIGINT: checkpoint, exit 130, and the notice that it
# is stopping. (A second signal stopping at once is tested in tests/train/trainer_parts_test.cpp:
# two kills from here can reach the process as one.)
start_long_run() {  # start_long_run DIR: a long run in the background, once its handlers are in
  "$gradcomp" train run.toml --set run.steps=50000000 --set run.eval_every=1000000 --out "$1" \
    >"$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    [ -e "$1/config.toml" ] && break
    sleep 0.1
  done
}
start_long_run hup
kill -HUP "$pid"
wait "$pid"
status=$?
{ [ "$status" -eq 130 ] && grep -q "^interrupted after step" hup.log &&
  grep -qF "gradcomp: stopping after the step in progress: writing the checkpoint" hup.log &&
  [ -e hup/checkpoint/trainer.json ]; } || fail "SIGHUP: exit $status: $(cat hup.log)"
# γ in units of 1/L and [HardThreshold]'s start x* + c: the logged step is 0.5/L exactly, and the first
# evaluation from x* + 1e-3 is much closer to f* than the run from zero.
"$gradcomp" train run.toml --set algorithm.lr_unit=1/L --set algorithm.lr=0.5 \
  --set 'model.init="optimum:offset=0.001"' --set run.steps=10 --set run.eval_every=1 --out unit \
  >unit.log 2>&1 || fail "lr_unit/init: $(cat unit.log)"
"$python" - unit a <<'PY' || fail "lr_unit = 1/L or model.init = optimum wrong"
import json, sys
summary = json.load(open(sys.argv[1] + "/summary.json"))
first = json.loads(open(sys.argv[1] + "/metrics.jsonl").readline())
assert first["lr"] == 0.5 / summary["optimum"]["smoothness"], (first["lr"], summary["optimum"])
zero = json.loads(open(sys.argv[2] + "/metrics.jsonl").readline())
assert first["suboptimality"] < 1e-3 * zero["suboptimality"], (first, zero)
PY
out=$("$gradcomp" train run.toml --set 'model.name="softmax:l2=0"' --set algorithm.lr_unit=1/L \
  --set run.steps=1 --out bad-unit 2>&1)
[ "$out" = 'gradcomp: error: algorithm.lr_unit = "1/L" needs a model with a known smoothness L (logistic, least-squares); '"'"'softmax:l2=0'"'"' has none' ] ||
  fail "lr_unit on softmax: $out"

# sweep: grid × seeds → mean ± std table; plot: PNG and SVG through gnuplot.
"$gradcomp" sweep run.toml --grid compressor.k=1,6 --seeds 2 --set run.steps=20 --out sweep \
  >sweep.log 2>&1 || fail "sweep: $(cat sweep.log)"
[ "$(grep -c '^| compressor.k=' sweep/sweep.md)" -eq 2 ] || fail "sweep table: $(cat sweep/sweep.md)"
grep -q "± " sweep/sweep.md || fail "no ± in the sweep table"
[ -d sweep/run-001-compressor.k=6-seed2 ] || fail "sweep runs missing: $(ls sweep)"
"$python" - <<'PY' || fail "sweep.csv"
import csv, json
rows = list(csv.DictReader(open("sweep/sweep.csv")))
# One column per grid key, metrics.csv's units (fractions, bits), f − f* for the convex model.
assert list(rows[0])[:2] == ["compressor.k", "runs"], list(rows[0])
assert [r["compressor.k"] for r in rows] == ["1", "6"], rows
assert all(r["runs"] == "2" for r in rows)
for row, k in zip(rows, [1, 6]):
    finals = [json.load(open(f"sweep/run-{k // 6:03}-compressor.k={k}-seed{s}/summary.json"))["final"]
              for s in (1, 2)]
    assert float(row["bits_up_mean"]) == sum(f["bits_up"] for f in finals) / 2, (row, finals)
    assert abs(float(row["test_accuracy_mean"]) - sum(f["test_accuracy"] for f in finals) / 2) < 1e-12
    assert 0 <= float(row["test_accuracy_mean"]) <= 1
    assert abs(float(row["suboptimality_mean"]) - sum(f["suboptimality"] for f in finals) / 2) < 1e-12
assert float(rows[0]["bits_up_mean"]) < float(rows[1]["bits_up_mean"]), rows
PY
grep -q "f − f\*" sweep/sweep.md || fail "no f − f* in a convex model's sweep table: $(cat sweep/sweep.md)"
# --columns: the chosen record fields in their order, in both tables; a name that is not a field
# is refused before anything runs.
"$gradcomp" sweep run.toml --grid compressor.k=1,6 --seeds 2 --set run.steps=20 \
  --columns density,kappa_star,bits_down --out sweep-columns >sweep-columns.log 2>&1 ||
  fail "sweep --columns: $(cat sweep-columns.log)"
[ "$(head -1 sweep-columns/sweep.csv)" = "compressor.k,runs,density_mean,density_std,kappa_star_mean,kappa_star_std,bits_down_mean,bits_down_std" ] ||
  fail "--columns in sweep.csv: $(head -1 sweep-columns/sweep.csv)"
grep -qF "| configuration | runs | density | κ* | MB received / worker |" sweep-columns/sweep.md ||
  fail "--columns in sweep.md: $(cat sweep-columns/sweep.md)"
"$python" - <<'PY' || fail "--columns values"
import csv, json
rows = list(csv.DictReader(open("sweep-columns/sweep.csv")))
for row, k in zip(rows, [1, 6]):
    finals = [json.load(open(f"sweep-columns/run-{k // 6:03}-compressor.k={k}-seed{s}/summary.json"))["final"]
              for s in (1, 2)]
    assert abs(float(row["density_mean"]) - k / 12) < 1e-12, row  # Top-k keeps k of 12
    assert float(row["bits_down_mean"]) == sum(f["bits_down"] for f in finals) / 2, (row, finals)
PY
out=$("$gradcomp" sweep run.toml --grid compressor.k=1 --columns density,acuracy --out sweep-bad 2>&1)
[ $? -eq 2 ] && [[ "$out" == "gradcomp: error: --columns 'acuracy' is not a field of a run's record; choose from test_accuracy, "* ]] &&
  [ ! -e sweep-bad ] || fail "a misspelt --columns: $out"
# A grid value in double quotes may hold commas (a schedule, a compressor spec).
"$gradcomp" sweep run.toml --grid 'algorithm.schedule="step:lr=0.1,epochs=1","constant:lr=0.2"' \
  --seeds 1 --set run.steps=5 --out sweep-quoted >sweep-quoted.log 2>&1 ||
  fail "quoted sweep: $(cat sweep-quoted.log)"
"$python" - <<'PY' || fail "quoted sweep.csv"
import csv
rows = list(csv.DictReader(open("sweep-quoted/sweep.csv")))
assert [r["algorithm.schedule"] for r in rows] == ["step:lr=0.1,epochs=1", "constant:lr=0.2"], rows
PY
grep -q "±" sweep-quoted/sweep.md && fail "one seed printed ± 0: $(cat sweep-quoted/sweep.md)"
[ -d "sweep-quoted/run-000-algorithm.schedule=step_lr=0.1_epochs=1-seed1" ] ||
  fail "quoted sweep folders: $(ls sweep-quoted)"
"$gradcomp" plot a half --x bits --y loss --out curves >plot.log 2>&1 || fail "plot: $(cat plot.log)"
[ -s curves.png ] && [ -s curves.svg ] || fail "plot files missing"
grep -q "ef-scaled\|def-a / topk" curves.svg || fail "curves are not labelled by method"
grep -qF "set ylabel 'test loss'" curves.gp || fail "the y label does not say test loss: $(grep ylabel curves.gp)"
# --out into a missing directory (it failed with a temporary file's name), --label, --logx.
"$gradcomp" plot a half --x bits --y accuracy --out figures/new/acc --label "full run" \
  --label "it's resumed" --logx >plot2.log 2>&1 || fail "plot into a new directory: $(cat plot2.log)"
[ -s figures/new/acc.png ] && [ -s figures/new/acc.svg ] || fail "plot into a new directory: $(ls -R figures)"
grep -qF "full run" figures/new/acc.svg && grep -qF "set logscale x" figures/new/acc.gp ||
  fail "--label or --logx not applied: $(cat figures/new/acc.gp)"
grep -qF "set ylabel 'test accuracy (%)'" figures/new/acc.gp || fail "accuracy's y label: $(grep ylabel figures/new/acc.gp)"
out=$("$gradcomp" plot a half --label x --label y --label z 2>&1)
[ $? -eq 2 ] && grep -qF "3 --label for 2 curves; give at most one per curve (a run, or a sweep's grid point), in order" <<<"$out" ||
  fail "three labels for two runs: $out"
# A sweep's directory: one curve per grid point, the mean over its seeds with a ± std band, from
# step 0 (every fresh run's first record is its starting point).
"$gradcomp" plot sweep --y loss --out sweep-plot/loss >plot3.log 2>&1 || fail "plot a sweep: $(cat plot3.log)"
[ "$(grep -o "with filledcurves" sweep-plot/loss.gp | wc -l)" = 4 ] ||
  fail "a band per grid point (png and svg): $(cat sweep-plot/loss.gp)"
grep -qF "title 'compressor.k=6 (mean ± std, 2 runs)'" sweep-plot/loss.gp || fail "sweep curve labels: $(cat sweep-plot/loss.gp)"
"$python" - <<'PY' || fail "the sweep's mean ± std curve"
import json, statistics
for point, k in ((0, 1), (1, 6)):
    runs = [[json.loads(l) for l in open(f"sweep/run-{point:03}-compressor.k={k}-seed{s}/metrics.jsonl")]
            for s in (1, 2)]
    assert [r["step"] for r in runs[0]][0] == 0, "no step-0 record"
    rows = [list(map(float, l.split())) for l in open(f"sweep-plot/loss.run{point}.dat")]
    assert len(rows) == len(runs[0]), (rows, runs[0])
    for row, *records in zip(rows, *runs):
        values = [r["test_loss"] for r in records]
        mean, std = statistics.mean(values), statistics.stdev(values)
        assert abs(row[0] - records[0]["epoch"]) < 1e-12, (row, records)
        assert abs(row[1] - mean) <= 1e-12 * abs(mean), (row, values)
        assert abs(row[2] - (mean - std)) <= 1e-9 and abs(row[3] - (mean + std)) <= 1e-9, (row, values)
    assert rows[0][0] == 0, rows[0]  # the curve starts at step 0
PY

# Bad input: exit code 2 and the message.
expect() {  # expect CODE TEXT -- command...
  local code=$1 text=$2; shift 3
  local out status
  out=$("$@" 2>&1); status=$?
  [ "$status" -eq "$code" ] || fail "'$*' exited $status, expected $code: $out"
  grep -qF -- "$text" <<<"$out" || fail "'$*' lacks '$text': $out"
}
expect 2 "config file 'none.toml' does not exist" -- "$gradcomp" train none.toml
expect 2 "output directory 'a' exists and holds results or files of its own" -- "$gradcomp" train run.toml --out a
expect 2 "unknown key run.epoch; keys of [run]" -- "$gradcomp" train run.toml --set run.epoch=2 --out c
expect 2 "run.train_eval_samples = 10 with the convex model 'logistic:l2=0.001': f - f* is defined on the whole training set; remove the key (0 = every sample)" -- \
  "$gradcomp" train run.toml --set run.train_eval_samples=10 --out c
printf '+1 1:1\n-1 3:1 2:1\n' >bad.svm
expect 2 "bad.svm:2: feature index 2 after 3: indices must increase" -- \
  "$gradcomp" train run.toml --set data.train=bad.svm --out d
expect 2 "the run diverged — lower the learning rate or the compression ratio" -- \
  "$gradcomp" train run.toml --set model.name=least-squares --set data.labels=regression \
  --set algorithm.lr=1e6 --out e
expect 2 "unknown algorithm 'adam'" -- "$gradcomp" train run.toml --set algorithm.name=adam --out f
expect 2 "--resume accepts --set run.steps, run.epochs and workers.backend only" -- \
  "$gradcomp" train --resume half --set algorithm.lr=1
expect 2 "'d' has no checkpoint" -- "$gradcomp" train --resume d
# Milestones at fractions of the run move with its length: such a run is not lengthened.
"$gradcomp" train run.toml --set run.steps=10 --set 'algorithm.schedule="step:lr=0.1,fractions=0.5"' \
  --out frac >frac.log 2>&1 || fail "fractions: $(cat frac.log)"
expect 2 "the schedule 'step:lr=0.1,fractions=0.5' places its milestones at fractions of the run" -- \
  "$gradcomp" train --resume frac --set run.steps=20
# Checkpoints carry checksums: a flipped bit in a rank's file, a damaged trainer.json and a
# hand-edited config.toml are refused with exit 2 naming the file (before, a flipped bit resumed
# with exit 0 into another result, and a damaged trainer.json was an internal error, exit 70).
for copy in flip torn edited; do cp -r half "$copy"; done
"$python" - flip/checkpoint/rank-0.bin <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0x10
open(sys.argv[1], "wb").write(data)
PY
expect 2 "checkpoint 'flip/checkpoint/rank-0.bin' is corrupt: its contents do not match the checksum saved with them" -- \
  "$gradcomp" train --resume flip --set run.steps=80
head -c 100 half/checkpoint/trainer.json >torn/checkpoint/trainer.json
expect 2 "checkpoint 'torn/checkpoint/trainer.json' is corrupt: it is not JSON" -- \
  "$gradcomp" train --resume torn --set run.steps=80
echo "# a note" >>edited/config.toml
expect 2 "'edited/config.toml' was changed after the run started" -- \
  "$gradcomp" train --resume edited --set run.steps=80
cmp -s half/metrics.jsonl flip/metrics.jsonl || fail "a refused resume changed the run's metrics"
# A resume with no steps left is refused (it did nothing and exited 0).
expect 2 "the checkpoint in 'half' is at step 60 and the run is 20 steps long: nothing is left to train" -- \
  "$gradcomp" train --resume half --set run.steps=20
# --out reuses what a run that failed before its first result left (config.toml, a temporary),
# and refuses a directory holding anything else, which stays untouched.
mkdir -p stub/checkpoint && cp a/config.toml stub/ && echo x >stub/checkpoint/rank-0.bin.tmp.4242
"$gradcomp" train run.toml --set run.steps=3 --out stub/ >stub.log 2>&1 || fail "reuse: $(cat stub.log)"
[ -s stub/summary.json ] && [ ! -e stub/checkpoint/rank-0.bin.tmp.4242 ] || fail "stub not reused"
mkdir mine && echo notes >mine/notes.txt
expect 2 "output directory 'mine' exists and holds results or files of its own; choose another --out" -- \
  "$gradcomp" train run.toml --out mine
[ "$(cat mine/notes.txt)" = notes ] || fail "the user's file was touched"
# Errors a run can know before it starts are found before its directory exists.
expect 2 "model.init = 'optimum:offset=1' needs a convex model with an optimum; 'mlp:hidden=4' is not" -- \
  "$gradcomp" train run.toml --set data.source=generate --set 'data.generator="madelon:samples=100"' \
  --set model.name=mlp:hidden=4 --set run.precision=float --set 'model.init="optimum:offset=1"' \
  --out init_dir
expect 2 "model.init = 'optimum:offset=x': the offset must be a number" -- \
  "$gradcomp" train run.toml --set 'model.init="optimum:offset=x"' --out init_dir
[ ! -e init_dir ] || fail "a run refused at its start left its directory"
# A sweep checks every grid point before the first run (the last point's typo cost the others).
expect 2 "unknown compressor 'topkk'" -- \
  "$gradcomp" sweep run.toml --grid compressor.name=topk,topkk --seeds 1 --out sweep_bad
[ ! -e sweep_bad ] || fail "a refused sweep ran or created its directory"
# A neural network on sparse LIBSVM rows: made dense (it was refused), and said so.
"$gradcomp" train run.toml --set model.name=mlp:hidden=4 --set run.precision=float \
  --set run.steps=3 --out sparse_mlp >sparse_mlp.log 2>&1 || fail "mlp on sparse data: $(cat sparse_mlp.log)"
grep -qF "gradcomp: note: 'data.svm' is sparse and mlp reads dense rows: made dense (12 features, 0.0115 MB)" sparse_mlp.log ||
  fail "no note for densified data: $(cat sparse_mlp.log)"
# A directory given as the config is refused (it ran the default sgd/identity as an empty config).
mkdir -p conf_dir
expect 2 "config file 'conf_dir' is a directory; give a TOML file (to continue the run in it: gradcomp train --resume conf_dir)" -- \
  "$gradcomp" train conf_dir
# What the user gave and the run does not use is said; summary.json records what ran.
"$gradcomp" train run.toml --set algorithm.name=signsgd-mv --set run.steps=2 --out own >own.log 2>&1 ||
  fail "signsgd-mv: $(cat own.log)"
grep -qF "gradcomp: warning: [compressor] 'topk:k=3' is not used: signsgd-mv compresses with its own sign; remove the compressor's name and parameters" own.log ||
  fail "no warning for an unused [compressor]: $(cat own.log)"
"$gradcomp" train run.toml --set algorithm.name=dqsgd --set run.steps=2 \
  --set compressor.quantizer=qsgd:levels=8 --out quant >quant.log 2>&1 || fail "dqsgd: $(cat quant.log)"
grep -qF "gradcomp: warning: [compressor] 'topk:k=3' is not used: dqsgd compresses with its quantizer (compressor.quantizer)" quant.log ||
  fail "no warning for dqsgd's unused compressor: $(cat quant.log)"
"$gradcomp" train run.toml --set compressor.quantizer=qsgd:levels=8 --set workers.allreduce=library \
  --set run.steps=2 --out unused >unused.log 2>&1 || fail "unused: $(cat unused.log)"
grep -qF "gradcomp: warning: compressor.quantizer = 'qsgd:levels=8' is not used: def-a takes no quantizer" unused.log &&
  grep -qF "gradcomp: warning: workers.allreduce = 'library' is not used: it chooses the all-reduce of workers.backend = \"mpi\"" unused.log ||
  fail "no warning for an unused quantizer or allreduce: $(cat unused.log)"
"$gradcomp" train run.toml --set 'algorithm.schedule="constant:lr=0.5"' --set algorithm.lr=5 \
  --set run.steps=2 --out lr_unused >lr_unused.log 2>&1 || fail "lr beside a schedule: $(cat lr_unused.log)"
grep -qF "gradcomp: warning: algorithm.lr is not used: algorithm.schedule = 'constant:lr=0.5' sets the rates" lr_unused.log ||
  fail "no warning for an lr beside a schedule: $(cat lr_unused.log)"
grep -q "warning" a.log && fail "a run using everything it was given warned: $(cat a.log)"
"$python" - own quant a <<'PY' || fail "summary.json does not record what ran"
import json, sys
own, quant, a = (json.load(open(f"{d}/summary.json")) for d in sys.argv[1:4])
assert own["compressor"] == "sign" and "quantizer" not in own, own
assert quant["compressor"] == "qsgd:levels=8" and quant["quantizer"] == "qsgd:levels=8", quant
assert a["compressor"].startswith("topk:k=3") and "quantizer" not in a, a
PY
expect 2 "--y 'speed'; choose accuracy, loss, suboptimality, error or geometry" -- "$gradcomp" plot a --y speed
expect 2 "'nowhere' has no metrics.jsonl" -- "$gradcomp" plot nowhere
expect 2 "--grid 'compressor.k': expected section.key=v1,v2,..." -- \
  "$gradcomp" sweep run.toml --grid compressor.k --out sweep2
expect 2 "--grid 'algorithm.schedule=\"constant:lr=1': a double quote is not closed" -- \
  "$gradcomp" sweep run.toml --grid 'algorithm.schedule="constant:lr=1' --out sweep3

if [ "$mode" = mpi ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
  export OMPI_MCA_btl_vader_single_copy_mechanism=none ASAN_OPTIONS=detect_leaks=0
  "$mpirun" --oversubscribe --bind-to none -np 2 "$gradcomp" train run.toml \
    --set workers.backend=mpi --out m >m.log 2>&1 || fail "mpirun: $(cat m.log)"
  "$python" - a m <<'PY' || fail "local and mpi disagree"
import json, sys, numpy as np
a, m = (np.load(f"{d}/model.npy") for d in sys.argv[1:3])
rel = np.linalg.norm(a - m) / np.linalg.norm(a)
assert rel <= 1e-6, rel
la = [json.loads(l)["train_loss"] for l in open(f"{sys.argv[1]}/metrics.jsonl")]
lm = [json.loads(l)["train_loss"] for l in open(f"{sys.argv[2]}/metrics.jsonl")]
assert np.allclose(la, lm, rtol=1e-6), (la, lm)
print(f"local vs mpi -np 2: relative model difference {rel:.3g}")
PY
  # The ResNet under mpirun: BatchNorm statistics averaged over ranks give the local evaluation.
  if [ -d rn8 ]; then
    "$mpirun" --oversubscribe --bind-to none -np 2 "$gradcomp" train rn.toml \
      --set workers.backend=mpi --out rnm >rnm.log 2>&1 || fail "resnet mpirun: $(cat rnm.log)"
    "$python" - rn8 rnm <<'PY' || fail "resnet: local and mpi disagree"
import json, sys, numpy as np
a, m = (np.load(f"{d}/model.npy") for d in sys.argv[1:3])
assert np.linalg.norm(a - m) <= 1e-6 * np.linalg.norm(a), np.linalg.norm(a - m)
la, lm = (json.loads(open(f"{d}/metrics.jsonl").read().splitlines()[-1]) for d in sys.argv[1:3])
assert abs(la["test_loss"] - lm["test_loss"]) <= 1e-5 * abs(la["test_loss"]), (la, lm)
PY
  fi
  # DEF's output model y = x − ē is collective (the errors are all-reduced): every rank computes
  # it for model.npy, not rank 0 alone (which left rank 1 in MPI_Finalize and the run hanging).
  "$gradcomp" train run.toml --set algorithm.name=def --out def_local >def_local.log 2>&1 ||
    fail "def local: $(cat def_local.log)"
  timeout 120 "$mpirun" --oversubscribe --bind-to none -np 2 "$gradcomp" train run.toml \
    --set algorithm.name=def --set workers.backend=mpi --out def_mpi >def_mpi.log 2>&1 ||
    fail "def under mpirun with run.save_model (exit $?): $(cat def_mpi.log)"
  "$python" - def_local def_mpi <<'PY' || fail "def: local and mpi models disagree"
import sys, numpy as np
a, m = (np.load(f"{d}/model.npy") for d in sys.argv[1:3])
assert np.linalg.norm(a - m) <= 1e-6 * np.linalg.norm(a), np.linalg.norm(a - m)
PY
  # Ranks started with other settings or with same-named data of other contents: the start-up
  # handshake compares every setting and the data's hash and names the key (different eval_every
  # hung, different steps aborted with MPI_ERR_TRUNCATE, different batch or data trained a mixed
  # job). Rank 1 is started with the extra arguments, in directory WDIR.
  mismatch() {  # mismatch EXPECTED WDIR -- rank 1's extra arguments
    local expected=$1 wdir=$2
    shift 3
    timeout 120 "$mpirun" --oversubscribe --bind-to none \
      -np 1 "$gradcomp" train run.toml --set workers.backend=mpi --out "$work/mm" : \
      -np 1 -wdir "$wdir" "$gradcomp" train run.toml --set workers.backend=mpi \
      --out "$work/mm" "$@" >mm.log 2>&1
    local code=$?
    { [ "$code" -eq 2 ] && grep -qF "$expected" mm.log; } || fail "mismatch $*: exit $code: $(cat mm.log)"
    rm -rf "$work/mm"
  }
  mismatch "rank 1 disagrees with rank 0 on the setting run.eval_every: '5' on rank 1, '20' on rank 0" \
    "$work" -- --set run.eval_every=5
  mismatch "rank 1 disagrees with rank 0 on the setting run.steps: '40' on rank 1, '60' on rank 0" \
    "$work" -- --set run.steps=40
  mismatch "rank 1 disagrees with rank 0 on the setting run.batch: '8' on rank 1, 'full' on rank 0" \
    "$work" -- --set run.batch=8
  mismatch "rank 1 disagrees with rank 0 on the setting data.partition: 'iid' on rank 1, 'contiguous' on rank 0" \
    "$work" -- --set data.partition=iid
  mismatch "rank 1 disagrees with rank 0 on the setting workers.allreduce: 'library' on rank 1, 'ring' on rank 0" \
    "$work" -- --set workers.allreduce=library
  mkdir -p other && cp run.toml other/ && sed '5s/:[0-9.e-]*/:7/' data.svm >other/data.svm
  mismatch "rank 1 disagrees with rank 0 on the training data's contents: 'hash " "$work/other" --
  # Errors found while the ranks start are printed once: by rank 0 when every rank found it (a
  # config error was printed by each rank), naming the rank otherwise (a rank whose data is
  # missing aborted the job with its own message), and no run directory is made.
  timeout 120 "$mpirun" --oversubscribe --bind-to none -np 2 "$gradcomp" train run.toml \
    --set workers.backend=mpi --set run.epoch=2 --out "$work/once" >once.log 2>&1
  code=$?
  { [ "$code" -eq 2 ] && [ "$(grep -c "unknown key run.epoch" once.log)" -eq 1 ]; } ||
    fail "a config error under mpirun: exit $code, printed $(grep -c "unknown key run.epoch" once.log) times: $(cat once.log)"
  mkdir -p nodata && cp run.toml nodata/
  timeout 120 "$mpirun" --oversubscribe --bind-to none \
    -np 1 "$gradcomp" train run.toml --set workers.backend=mpi --out "$work/once" : \
    -np 1 -wdir "$work/nodata" "$gradcomp" train run.toml --set workers.backend=mpi \
    --out "$work/once" >once.log 2>&1
  code=$?
  { [ "$code" -eq 2 ] && [ "$(grep -c "gradcomp: error: LIBSVM file 'data.svm' does not exist (found by rank 1 of 2)" once.log)" -eq 1 ]; } ||
    fail "rank 1 without its data: exit $code: $(cat once.log)"
  [ ! -e "$work/once" ] || fail "a job that failed to start made its run directory"
  expect 2 "started by mpirun with 2 ranks, but workers.backend = \"local\": every rank would run the whole job; add --set workers.backend=mpi" -- \
    timeout 120 "$mpirun" --oversubscribe --bind-to none -np 2 "$gradcomp" train run.toml --out "$work/once"
  # SIGUSR1 to mpirun (which forwards it to every rank; Ctrl-C makes Open MPI kill the job) stops
  # a job as SIGINT stops a local run: every rank checkpoints and mpirun exits 130.
  timeout 120 "$mpirun" --oversubscribe --bind-to none -np 2 "$gradcomp" train run.toml \
    --set workers.backend=mpi --set run.steps=100000000 --set run.eval_every=100000000 \
    --out "$work/usr1" >usr1.log 2>&1 &
  job=$!
  for _ in $(seq 100); do [ -e "$work/usr1/config.toml" ] && break; sleep 0.1; done
  sleep 1
  pkill -USR1 -P "$job"  # mpirun, the child of timeout
  wait "$job"
  code=$?
  { [ "$code" -eq 130 ] && [ -e "$work/usr1/checkpoint/trainer.json" ] &&
    [ -e "$work/usr1/checkpoint/rank-1.bin" ]; } || fail "SIGUSR1 to mpirun: exit $code: $(tail -n 5 usr1.log)"
  # workers.backend = "mpi" without mpirun runs as the only rank, and says so.
  "$gradcomp" train run.toml --set workers.backend=mpi --set run.steps=2 --out alone >alone.log 2>&1 ||
    fail "mpi backend without mpirun: $(cat alone.log)"
  grep -qF 'gradcomp: note: workers.backend = "mpi" without mpirun: this process is the job'"'"'s only rank' alone.log ||
    fail "no note without mpirun: $(cat alone.log)"
  grep -q "note" m.log && fail "a job under mpirun printed the note: $(cat m.log)"
  "$mpirun" --oversubscribe --bind-to none -np 2 "$gradcomp" train run.toml \
    --set workers.backend=mpi --set workers.n=3 --out n >n.log 2>&1
  grep -qF "3 workers cannot be split evenly over 2 mpi ranks" n.log || fail "uneven split: $(cat n.log)"
fi

[ "$failed" -eq 0 ] && echo "train_test ($mode): all checks passed"
exit $((failed > 0))
