"""gradcomp.torch.DistributedOptimizer: the C++ algorithms driving a PyTorch model. Its final model
equals `gradcomp train`'s on the same data, algorithm, compressor and seed (locally, and under
mpirun with two workers per rank); a run resumed from state_dict() ends bit-identical; bad input
is a ValueError naming the fix."""
import json
import os
import shutil
import subprocess
import sys

import numpy
import pytest

torch = pytest.importorskip("torch")
import gradcomp  # noqa: E402
import gradcomp.torch  # noqa: E402

import torch_logistic  # noqa: E402
from conftest import run_cli  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# (algorithm, compressor, schedule): the families of the issue — DEF's detached point and output
# model, two-way error feedback with blockwise signs and momentum, the scaled error of an absolute
# compressor, DIANA's shifts and quantizer.
CASES = [
    ("def:kappa=0.5,momentum=0.9", "topk:k=3", "constant:lr=0.5"),
    ("dist-ef-sgdm:momentum=0.9", "blocksign", "constant:lr=0.2"),
    ("ef-scaled", "threshold:lambda=0.01", "constant:lr=0.5"),
    ("diana", "identity", "constant:lr=0.5"),
]
STEPS = 40
WORKERS = 4


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """240 training rows of 12 sparse features, labels from a fixed linear rule; 40 test rows."""
    directory = tmp_path_factory.mktemp("torch_data")
    rng = numpy.random.default_rng(3)

    def write(path, rows):
        with open(path, "w") as out:
            for _ in range(rows):
                x = rng.normal(size=12) * (rng.random(12) < 0.6)
                label = 1 if x @ numpy.linspace(-1, 1, 12) + 0.3 * rng.normal() > 0 else -1
                features = " ".join(f"{j + 1}:{v:.6g}" for j, v in enumerate(x) if v != 0)
                out.write(f"{label:+d} {features}\n")

    write(directory / "train.svm", 240)
    write(directory / "test.svm", 40)
    return directory


def cli_model(data, algorithm, compressor, schedule):
    """The evaluated model `gradcomp train` ends with, and its summary."""
    name = "".join(c if c.isalnum() else "_" for c in algorithm + compressor)
    out = data / f"cli_{name}"
    shutil.rmtree(out, ignore_errors=True)
    run_cli("train", "--out", str(out),
            "--set", 'data.source="libsvm"', "--set", f'data.train="{data / "train.svm"}"',
            "--set", f'data.test="{data / "test.svm"}"', "--set", 'data.partition="contiguous"',
            "--set", f'model.name="logistic:l2={torch_logistic.MU}"',
            "--set", f"workers.n={WORKERS}", "--set", f'algorithm.spec="{algorithm}"',
            "--set", f'algorithm.schedule="{schedule}"', "--set", f'compressor.spec="{compressor}"',
            "--set", f"run.steps={STEPS}", "--set", 'run.batch="full"',
            "--set", 'run.precision="double"', "--set", "run.save_model=true",
            )
    return numpy.load(out / "model.npy"), json.load(open(out / "summary.json"))


def relative(a, b):
    return numpy.linalg.norm(a - b) / numpy.linalg.norm(b)


@pytest.mark.parametrize("algorithm,compressor,schedule", CASES)
def test_the_optimizer_ends_at_gradcomp_trains_model(data, algorithm, compressor, schedule):
    expected, summary = cli_model(data, algorithm, compressor, schedule)
    a, y = torch_logistic.read_libsvm(data / "train.svm", 12)
    model, opt = torch_logistic.make(12, algorithm, compressor, schedule, WORKERS)
    torch_logistic.run_steps(model, opt, a, y, STEPS)
    got = torch_logistic.evaluated(model, opt)
    assert relative(got, expected) <= 1e-6, (got, expected)
    # The same traffic, counted by the same code: bits per worker over the run.
    stats = opt.stats()
    assert stats["step"] == STEPS
    assert stats["bits_up"] == summary["bits_up_per_worker"], (stats, summary)


def run_two_ranks(*args, timeout=120):
    """`mpirun -np 2 python3 ARGS` as root, oversubscribed; skips without mpirun."""
    mpirun = shutil.which("mpirun")
    if not mpirun:
        pytest.skip("mpirun is not installed")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none",
               OMPI_MCA_rmaps_base_oversubscribe="1",
               PYTHONPATH=os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([mpirun, "-np", "2", "--bind-to", "none", sys.executable, *args],
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)


@pytest.mark.parametrize("algorithm,compressor,schedule", CASES[:2])
def test_under_mpirun_two_workers_per_rank_end_at_the_same_model(data, algorithm, compressor,
                                                                  schedule):
    expected, _ = cli_model(data, algorithm, compressor, schedule)
    out = data / "mpi_model.npy"
    result = run_two_ranks(os.path.join(HERE, "torch_logistic.py"), str(data / "train.svm"),
                           str(out), algorithm, compressor, schedule, str(STEPS), str(WORKERS),
                           timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert relative(numpy.load(out), expected) <= 1e-6


def test_a_run_resumed_from_state_dict_ends_bit_identical(data):
    algorithm, compressor, schedule = CASES[0]
    a, y = torch_logistic.read_libsvm(data / "train.svm", 12)
    model, opt = torch_logistic.make(12, algorithm, compressor, schedule, WORKERS)
    torch_logistic.run_steps(model, opt, a, y, STEPS)
    straight = torch_logistic.evaluated(model, opt)

    first, opt1 = torch_logistic.make(12, algorithm, compressor, schedule, WORKERS)
    torch_logistic.run_steps(first, opt1, a, y, STEPS // 2)
    saved = opt1.state_dict()
    assert set(saved["gradcomp"]["buffers"]) == {"x", "e/0", "e/1", "e/2", "e/3",
                                                 "m/0", "m/1", "m/2", "m/3"}
    second, opt2 = torch_logistic.make(12, algorithm, compressor, schedule, WORKERS)
    opt2.load_state_dict(saved)
    assert opt2.core.next_step == STEPS // 2
    torch_logistic.run_steps(second, opt2, a, y, STEPS - STEPS // 2)
    assert numpy.array_equal(torch_logistic.evaluated(second, opt2), straight)
    assert opt2.stats()["bits_up"] == opt.stats()["bits_up"]


def test_the_parameters_hold_the_query_point_and_evaluated_model_restores_it():
    model = torch_logistic.Logistic(4)
    opt = gradcomp.torch.DistributedOptimizer(model.named_parameters(),
                                              algorithm="def:kappa=0.5", compressor="topk:k=1",
                                              schedule="constant:lr=1")
    model.weight.grad = torch.tensor([4.0, -1.0, 0.5, 2.0], dtype=torch.float64)
    opt.step()
    # Top-1 sends −4 on coordinate 0: x = (−4, 0, 0, 0), e = (0, −1, 0.5, 2) → z = x − κe.
    expected_z = [-4.0, 0.5, -0.25, -1.0]
    assert model.weight.detach().tolist() == expected_z
    with opt.evaluated_model():
        assert model.weight.detach().tolist() == [-4.0, 1.0, -0.5, -2.0]  # y = x − ē, n = 1
    assert model.weight.detach().tolist() == expected_z


def test_channels_last_parameters_step_as_the_default_layout():
    """A convolution's weight stored channels-last (examples/fashion_mnist.py's LeNet) is read and
    written in its logical order: the same gradients give the same parameters, bit for bit, and
    the parameters keep their layout."""
    def conv(memory_format):
        torch.manual_seed(5)
        return torch.nn.Conv2d(3, 4, 3).to(memory_format=memory_format)

    default, last = conv(torch.contiguous_format), conv(torch.channels_last)
    assert not last.weight.is_contiguous()
    optimizers = [gradcomp.torch.DistributedOptimizer(
        m.named_parameters(), algorithm="def:kappa=0.5,momentum=0.9", compressor="topk:k=20",
        schedule="constant:lr=0.1") for m in (default, last)]
    rng = torch.Generator().manual_seed(7)
    for _ in range(5):
        gradients = [torch.randn(p.shape, generator=rng) for p in default.parameters()]
        for model, opt in zip((default, last), optimizers):
            for p, g in zip(model.parameters(), gradients):
                p.grad = torch.empty_like(p).copy_(g)  # in p's layout, as backward() leaves it
            assert model.weight.grad.stride() == model.weight.stride()
            opt.step()
    for a, b in zip(default.parameters(), last.parameters()):
        assert torch.equal(a, b)
    assert last.weight.is_contiguous(memory_format=torch.channels_last)


def test_bad_input_is_a_value_error_naming_the_fix():
    model = torch_logistic.Logistic(4)
    with pytest.raises(ValueError, match="unknown algorithm 'nope'"):
        gradcomp.torch.DistributedOptimizer(model.named_parameters(), algorithm="nope")
    with pytest.raises(ValueError, match="unknown compressor 'zip'"):
        gradcomp.torch.DistributedOptimizer(model.named_parameters(), compressor="zip")
    half = torch.nn.Linear(3, 2).half()
    with pytest.raises(ValueError, match=r"parameter 'weight' is torch.float16; gradcomp steps "
                                         r"float32 or float64 parameters \(model.float\(\)\)"):
        gradcomp.torch.DistributedOptimizer(half.named_parameters())
    mixed = torch.nn.Linear(3, 2)
    mixed.bias.data = mixed.bias.data.double()
    with pytest.raises(ValueError, match="give every parameter one dtype"):
        gradcomp.torch.DistributedOptimizer(mixed.named_parameters())
    with pytest.raises(ValueError, match="give model.named_parameters()"):
        gradcomp.torch.DistributedOptimizer([])
    with pytest.raises(ValueError, match=r"give \(name, parameter\) pairs"):
        gradcomp.torch.DistributedOptimizer(model.parameters())
    with pytest.raises(ValueError, match=r"schedule 's002-constant:lr=1' is computed from the "
                                         r"run's total number of steps T; give total_steps"):
        gradcomp.torch.DistributedOptimizer(model.named_parameters(), schedule="s002-constant:lr=1")
    with pytest.raises(ValueError, match=r"has epoch milestones; give steps_per_epoch"):
        gradcomp.torch.DistributedOptimizer(model.named_parameters(),
                                            schedule="step:lr=0.1,epochs=2")

    opt = gradcomp.torch.DistributedOptimizer(model.named_parameters(), workers=2)
    with pytest.raises(ValueError, match="compute each worker's gradient inside"):
        opt.step()
    opt.param_groups[0]["params"].append(torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)))
    with pytest.raises(ValueError, match="the parameters changed since the optimizer was built"):
        opt.step()
    with pytest.raises(ValueError, match="give what DistributedOptimizer.state_dict"):
        opt.load_state_dict({"x": 1})


MISMATCH = """
import os, numpy, gradcomp
rank = int(os.environ["OMPI_COMM_WORLD_RANK"])
try:
    gradcomp.Optimizer(gradcomp.Layout.flat(8), numpy.zeros(8), backend="mpi",
                       compressor="topk:k=2" if rank == 0 else "topk:k=3")
except ValueError as e:
    print(f"rank {rank}: {e}", flush=True)
"""


def test_under_mpirun_a_mismatch_between_ranks_is_named_on_every_rank():
    result = run_two_ranks("-c", MISMATCH)
    assert result.returncode == 0, result.stderr
    message = ("rank 1 disagrees with rank 0 on the compressor: "
               "'topk:k=3,scope=model,index=auto,values=auto' on rank 1, "
               "'topk:k=2,scope=model,index=auto,values=auto' on rank 0")
    for rank in (0, 1):
        assert f"rank {rank}: {message}" in result.stdout, result.stdout


NAN_ON_RANK_1 = """
import os, numpy, gradcomp
rank = int(os.environ["OMPI_COMM_WORLD_RANK"])
opt = gradcomp.Optimizer(gradcomp.Layout.flat(8), numpy.zeros(8), backend="mpi")
g = numpy.ones(8)
if rank == 1:
    g[5] = numpy.nan
opt.step([g])
print(f"rank {rank} went on", flush=True)
"""


def test_under_mpirun_an_error_inside_a_step_on_one_rank_ends_the_job():
    result = run_two_ranks("-c", NAN_ON_RANK_1)
    assert result.returncode != 0
    assert ("gradcomp (rank 1 of 2): step 0, worker 1: the gradient has NaN at index 5 "
            "(layer 'all'); the run diverged") in result.stderr, result.stderr
    assert "went on" not in result.stdout


def test_every_algorithm_steps_through_the_optimizer(cli_catalog):
    layout = gradcomp.Layout.from_shapes([("w", [3, 4]), ("b", [4])])
    rng = numpy.random.default_rng(1)
    for entry in gradcomp.list_algorithms():
        # The -sync algorithms all-reduce payloads: a linear compressor under a shared seed.
        second = "randk:ratio=0.5,shared=true" if entry["name"].endswith("-sync") else \
            "topk:ratio=0.25"
        for compressor in ("rbgs:ratio=4", second):
            opt = gradcomp.Optimizer(layout, numpy.zeros(16, dtype=numpy.float32),
                                     algorithm=entry["name"], compressor=compressor,
                                     quantizer="randk:ratio=0.5,unbiased=true,shared=true",
                                     workers=2, schedule="constant:lr=0.1")
            for _ in range(3):
                opt.step([rng.standard_normal(16).astype(numpy.float32) for _ in opt.hosted])
            model = opt.model()
            assert numpy.all(numpy.isfinite(model)) and numpy.any(model != 0), entry["name"]
            assert opt.stats()["bits_up"] > 0, entry["name"]
    assert len(gradcomp.list_algorithms()) == len(cli_catalog["algorithms"]) == 24
