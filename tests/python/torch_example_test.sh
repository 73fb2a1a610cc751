#!/usr/bin/env bash
# examples/torch_mpi.py in its quick mode, as docs/torch.md runs it: under `mpirun -np 2` (one
# worker per rank) and with the same two workers simulated in one process. Both must print the
# same figures (the run does not depend on the layout), learn (test accuracy above 20%, chance is
# 10%) and send 64 times fewer bits than a dense fp32 allreduce (RBGS r = 64). --seed 2 must change
# the run, and seed 1 must keep the images' order the examples had before --seed (seeded by the
# worker alone), so that runs recorded in docs/benchmarks.md stay reproducible, and LeNet's
# channels-last layout must give the default layout's gradients.
# Usage: torch_example_test.sh PYTHON EXAMPLE MPIRUN
set -uo pipefail
python=$1
example=$2
mpirun=$3
[ -d /usr/share/datasets/fashion-mnist ] || { echo "no Fashion-MNIST (dataset-fashion-mnist)"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
local_out=$("$python" "$example" --quick --workers 2) || { echo "FAIL: local run: $local_out"; exit 1; }
mpi_out=$(timeout 300 "$mpirun" --oversubscribe --bind-to none -np 2 "$python" "$example" --quick) ||
  { echo "FAIL: mpirun: $mpi_out"; exit 1; }
echo "$mpi_out"
[ "$local_out" = "$mpi_out" ] || { echo "FAIL: local and mpirun differ: $local_out"; exit 1; }
last=$(tail -n 1 <<<"$mpi_out")
[[ $last =~ ^step\ 60/60:\ test\ accuracy\ ([0-9.]+)%.*\ 64\.0x\ more\)$ ]] ||
  { echo "FAIL: unexpected last line: $last"; exit 1; }
awk -v a="${BASH_REMATCH[1]}" 'BEGIN { exit !(a > 20) }' || { echo "FAIL: accuracy ${BASH_REMATCH[1]}%"; exit 1; }
seed2_out=$("$python" "$example" --quick --workers 2 --seed 2) || { echo "FAIL: --seed 2: $seed2_out"; exit 1; }
[ "$seed2_out" != "$local_out" ] || { echo "FAIL: --seed 2 printed what seed 1 printed"; exit 1; }
PYTHONPATH="$(dirname "$example")${PYTHONPATH:+:$PYTHONPATH}" "$python" - <<'EOF' || exit 1
import torch
import fashion_mnist as fm
for worker in range(3):
    shard = torch.arange(worker, 1000, 3)
    before = shard[torch.randperm(len(shard), generator=torch.Generator().manual_seed(worker))]
    assert torch.equal(fm.worker_order(1000, 3, worker), before), f"seed 1 moved worker {worker}"
    assert not torch.equal(fm.worker_order(1000, 3, worker, 2), before), f"seed 2 = 1 ({worker})"
# LeNet's convolutions run channels-last; the gradients are the default layout's (up to the
# order of a convolution's sums, which the layout may change).
torch.manual_seed(1)
last = fm.lenet()
torch.manual_seed(1)
default = fm.lenet().to(memory_format=torch.contiguous_format)
assert last[0].weight.is_contiguous(memory_format=torch.channels_last)
assert [p.shape for p in last.parameters()] == [p.shape for p in default.parameters()]
images, labels = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
for model in (last, default):
    torch.nn.functional.cross_entropy(model(images), labels).backward()
for a, b in zip(last.parameters(), default.parameters()):
    assert torch.allclose(a.grad, b.grad, rtol=1e-5, atol=1e-6), (a.grad - b.grad).abs().max()
EOF
echo "torch_example_test: all checks passed"
