#!/usr/bin/env bash
# LeNet on Fashion-MNIST, 2 ranks over TCP inside a network namespace whose loopback is rate
# limited by a token bucket (as bench/netem_exchange.sh): DDP's allreduce, PyTorch's fp16 and
# PowerSGD (rank 1 and 4) hooks, gradcomp's Top-k 1% + EF and RBGS r = 64 + EF hooks
# (examples/torch_ddp.py), and DEF + RBGS r = 64 through gradcomp's optimizer (examples/torch_mpi.py).
# Each run records its mean step time, payload bytes per step and rank, and the training time
# (evaluations excluded) until the test accuracy first reached TARGET; then prints the table of
# docs/benchmarks.md "PyTorch on a limited link". Needs root (ip netns, tc).
# Usage: bench/torch_netem.sh [BUILD_DIR]
#   RATE=1gbit      the token bucket's rate (tc syntax)      EPOCHS=4     epochs of every run
#   TARGET=0.85     the test accuracy to reach               EVAL_EVERY=50  steps between evaluations
#   LR=0.03         the hooks' runs' step size (÷10 at half and three quarters of the run)
#   DEF_LR=0.03     the optimizer's run's step size      KAPPA=1   its detach coefficient
#   SEED=1          the initial model, the images' order and the compressors' randomness
#   BATCH=32        images per rank and step
# The step sizes default to the best of DDP's allreduce and of DEF over eight seeds (0.03 for both
# of 0.03 and 0.05, docs/benchmarks.md); κ = 1 takes DEF to 85% in half the steps of κ = 0.3.
set -euo pipefail
build=$(realpath "${1:-build/release}")
here=$(dirname "$(realpath "$0")")
examples="$here/../examples"
rate=${RATE:-1gbit}
out="$build/torch-netem/$rate/batch-${BATCH:-32}-seed-${SEED:-1}"
namespace="gradcomp-torch-$$"
mkdir -p "$out"
export PYTHONPATH="$build/python${PYTHONPATH:+:$PYTHONPATH}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export GLOO_SOCKET_IFNAME=lo
python=${PYTHON:-/usr/bin/python3}
common=(--target "${TARGET:-0.85}" --epochs "${EPOCHS:-4}" --eval-every "${EVAL_EVERY:-50}"
        --seed "${SEED:-1}" --batch "${BATCH:-32}")

source "$here/../scripts/limited_link.sh"
limited_link "$namespace" "$rate"
echo "torch-netem: TCP over loopback limited to $rate" >&2

# Every process over TCP on the namespace's loopback: gloo for DDP, Open MPI's tcp transport for
# the optimizer (shared memory would bypass the limited link).
launch() {
  ip netns exec "$namespace" mpirun --oversubscribe --bind-to none -np 2 \
    --mca btl tcp,self --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo "$python" "$@"
}
run_ddp() {
  local name=$1; shift
  echo "torch-netem: $name" >&2
  launch "$examples/torch_ddp.py" "$@" "${common[@]}" --lr "${LR:-0.03}" --json "$out/$name.json" >"$out/$name.log"
}
run_ddp allreduce --hook allreduce
run_ddp fp16 --hook fp16
run_ddp powersgd1 --hook powersgd --rank 1
run_ddp powersgd4 --hook powersgd --rank 4
run_ddp topk --hook topk
run_ddp rbgs --hook rbgs
echo "torch-netem: def+rbgs (optimizer)" >&2
launch "$examples/torch_mpi.py" "${common[@]}" --lr "${DEF_LR:-0.03}" --kappa "${KAPPA:-1}" --json "$out/def-rbgs.json" >"$out/def-rbgs.log"

"$python" "$here/torch_report.py" "$rate" "$out"/{allreduce,fp16,powersgd1,powersgd4,topk,rbgs,def-rbgs}.json
