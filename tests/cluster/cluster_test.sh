#!/usr/bin/env bash
# The emulated cluster end to end (scripts/cluster/cluster.sh, docs/cluster.md): two hosts, each
# with its own 1 Gbit/s link into a bridge, Open MPI starting one rank in each through the agent;
# `gradcomp train` on it (error feedback with Top-k, exchanged by all-gather, two workers per rank)
# ends bit-identical to the local run of the same configuration; a host whose processes are
# killed ends the job within 10 s with messages naming the host and its rank; `down` leaves
# nothing behind, and `up`/`down` are idempotent. Skipped
# (77) without root, ip, tc or the kernel's veth, bridge and tbf, as cluster.sh reports.
# Usage: cluster_test.sh SOURCE_DIR GRADCOMP PYTHON
set -uo pipefail
source_dir=$1
gradcomp=$2
python=$3
cluster=$source_dir/scripts/cluster/cluster.sh
# Names and a subnet of its own, so the test never touches a cluster a user has up.
export CLUSTER_PREFIX=gct CLUSTER_SUBNET=10.250.99 CLUSTER_DIR= ASAN_OPTIONS=detect_leaks=0
CLUSTER_DIR=$(mktemp -d)/cluster
work=$(mktemp -d)
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
cleanup() { bash "$cluster" down >/dev/null 2>&1; rm -rf "$work" "$(dirname "$CLUSTER_DIR")"; }
trap cleanup EXIT
cd "$work"

bash "$cluster" up 2 1gbit
code=$?
[ "$code" -eq 77 ] && exit 77
[ "$code" -eq 0 ] || { echo "FAIL: cluster up exited $code"; exit 1; }
# Idempotent: a second `up` rebuilds the same cluster.
bash "$cluster" up 2 1gbit 2>/dev/null || fail "a second up failed"
[ "$(ip netns list | grep -cE '^gcthost[0-9]+( |$)')" -eq 2 ] || fail "not two hosts: $(ip netns list)"
for i in 1 2; do
  grep -q "tbf.*rate 1Gbit" <<<"$(ip netns exec "gcthost$i" tc qdisc show dev eth0)" ||
    fail "host $i's uplink has no 1 Gbit/s token bucket"
  grep -q "tbf.*rate 1Gbit" <<<"$(tc qdisc show dev "gctv$i")" ||
    fail "host $i's downlink has no token bucket"
done
hosts=$(bash "$cluster" mpirun -np 2 hostname 2>&1 | sort | tr '\n' ' ')
[ "$hosts" = "gcthost1 gcthost2 " ] || fail "one rank per host expected, the ranks ran on: $hosts"

# The small LIBSVM file of tests/train/train_test.sh.
"$python" "$source_dir/tests/train/tiny_svm.py" >data.svm
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
name = "ef"
lr = 0.5
[compressor]
name = "topk"
k = 3
[run]
steps = 40
batch = 8
eval_every = 20
precision = "double"
save_model = true
TOML

"$gradcomp" train run.toml --out local >local.log 2>&1 || fail "local run: $(cat local.log)"
timeout 120 bash "$cluster" mpirun -np 2 "$gradcomp" train run.toml --set workers.backend=mpi \
  --out hosts >hosts.log 2>&1 || fail "the run on two hosts: $(cat hosts.log)"
grep -qxF "gradcomp: 2 ranks on 2 hosts: rank 0 on gcthost1, rank 1 on gcthost2" hosts.log ||
  fail "no line mapping the ranks to their hosts: $(cat hosts.log)"
! grep -q "lost host" hosts.log || fail "a job that ended normally reported a lost host: $(cat hosts.log)"
cmp -s local/model.npy hosts/model.npy || fail "the model of the run on two hosts differs from the local run's"
# The metrics agree exactly but for the diagnostics that sum per-worker norms over the ranks
# (error_norm2, κ*, total_error): the rank's partial sums change their rounding.
"$python" - local hosts <<'PY' || fail "the metrics of the run on two hosts differ from the local run's"
import json, math, sys
timing = {"compute_seconds", "step_seconds", "network_seconds", "simulated_seconds"}
def load(run):
    return [{k: v for k, v in json.loads(l).items() if k not in timing} for l in open(f"{run}/metrics.jsonl")]
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == len(b) == 3 and [r.keys() for r in a] == [r.keys() for r in b], (a, b)
for ra, rb in zip(a, b):
    for key in ra:
        x, y = ra[key], rb[key]
        same = x == y or (isinstance(x, float) and math.isclose(x, y, rel_tol=1e-12, abs_tol=0))
        assert same, (ra["step"], key, x, y)
        if key in ("train_loss", "test_loss", "bits_up", "bits_down", "network_critical_bits"):
            assert x == y, (ra["step"], key, x, y)
PY

# A killed host: every process in host 2's namespace (Open MPI's daemon and the rank) gets SIGKILL
# while the job trains; the job must end within 10 s, and its output name the lost host (Open
# MPI's messages) and the rank on it (gradcomp's start-up line).
timeout 120 bash "$cluster" mpirun -np 2 "$gradcomp" train run.toml --set workers.backend=mpi \
  --set run.steps=100000000 --set run.eval_every=100000000 --set run.checkpoint_every=0 \
  --out killed >killed.log 2>&1 &
job=$!
for _ in $(seq 1 150); do  # until the job trains: rank 0 has written the first evaluation
  [ -s killed/metrics.jsonl ] && break
  sleep 0.2
done
sleep 0.5
ip netns pids gcthost2 | xargs -r kill -9
killed_at=$(date +%s.%N)
wait "$job"
code=$?
seconds=$("$python" -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$killed_at")
echo "killed host: the job ended with exit $code after $seconds s; it said:"
grep -E "on node|Peer host|lost host|ranks? .* on " killed.log
"$python" -c "import sys; sys.exit(float(sys.argv[1]) > 10)" "$seconds" ||
  fail "the job took $seconds s to end after host 2 was killed (limit 10 s)"
[ "$code" -ne 0 ] && [ "$code" -ne 124 ] || fail "killed host: exit code $code"
grep -qE "on node gcthost2|Peer host: *gcthost2|lost host gcthost2" killed.log && grep -qF "rank 1 on gcthost2" killed.log ||
  fail "killed host: the output does not name the host and its rank: $(cat killed.log)"

bash "$cluster" down || fail "down failed"
bash "$cluster" down || fail "a second down failed"
[ -z "$(ip netns list | grep -E '^gcthost')" ] || fail "down left namespaces: $(ip netns list)"
! ip link show gctbr >/dev/null 2>&1 || fail "down left the bridge"
exit $((failed > 0))
