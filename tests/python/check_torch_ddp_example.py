"""examples/torch_ddp.py in its quick mode, with every hook it offers (2 spawned processes each):
every run learns (test accuracy above 20%; chance is 10%) and sends the payload its method implies
per step and rank: LeNet's 61,706 fp32 values for DDP's allreduce, half of that for fp16,
PowerSGD rank 1's P and Q (computed here from the layer shapes and PyTorch's rule: a matrix is
compressed when (rows + cols) * rank * 2 < rows * cols), about 64x less for RBGS r = 64, and at
least 50x less for Top-k 1% and blocksign. Launched by mpirun instead, Top-k prints the same.

Usage: check_torch_ddp_example.py EXAMPLE MPIRUN   (exit 77: no Fashion-MNIST here)"""
import json
import math
import os
import subprocess
import sys
import tempfile

DATA = "/usr/share/datasets/fashion-mnist"
LENET_SHAPES = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,),
                (10, 84), (10,)]
DENSE = 4 * sum(math.prod(shape) for shape in LENET_SHAPES)


def powersgd_bytes(rank):
    values = 0
    for shape in LENET_SHAPES:
        rows, cols = shape[0], math.prod(shape[1:])  # PowerSGD's view(rows, -1)
        r = min(rows, cols, rank)
        values += (rows + cols) * r if (rows + cols) * r * 2 < rows * cols else rows * cols
    return 4 * values


def run(command, record):
    out = subprocess.run(command + ["--quick", "--json", record], capture_output=True, text=True,
                         timeout=300, check=False)
    if out.returncode != 0:
        sys.exit(f"FAIL: {' '.join(command)} exited {out.returncode}: {out.stderr[-2000:]}")
    with open(record) as f:
        return out.stdout, json.load(f)


def main():
    example, mpirun = sys.argv[1], sys.argv[2]
    if not os.path.isdir(DATA):
        print("no Fashion-MNIST (dataset-fashion-mnist)")
        sys.exit(77)
    assert DENSE == 246824
    expected = {"allreduce": lambda b: b == DENSE, "fp16": lambda b: b == DENSE / 2,
                "powersgd": lambda b: b == powersgd_bytes(1),
                "rbgs": lambda b: 60 <= DENSE / b <= 68,
                "topk": lambda b: DENSE / b >= 50, "blocksign": lambda b: DENSE / b >= 25}
    failures = []
    with tempfile.TemporaryDirectory() as directory:
        outputs = {}
        for hook, bytes_ok in expected.items():
            stdout, record = run([sys.executable, example, "--hook", hook],
                                 os.path.join(directory, f"{hook}.json"))
            outputs[hook] = stdout
            print(f"{hook}: accuracy {record['accuracy']:.3f}, {record['bytes_per_step']:.6g} "
                  f"bytes per step", flush=True)
            if not record["accuracy"] > 0.20 or record["steps"] != 60:
                failures.append(f"{hook}: {record}")
            if not bytes_ok(record["bytes_per_step"]):
                failures.append(f"{hook}: {record['bytes_per_step']} bytes per step")
        os.environ.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                          OMPI_MCA_btl_vader_single_copy_mechanism="none")
        stdout, _ = run([mpirun, "--oversubscribe", "--bind-to", "none", "-np", "2",
                         sys.executable, example, "--hook", "topk", "--rendezvous",
                         f"file://{os.path.join(directory, 'store')}"],
                        os.path.join(directory, "mpirun.json"))
        if stdout != outputs["topk"]:
            failures.append(f"mpirun printed\n{stdout}spawn printed\n{outputs['topk']}")
    if failures:
        sys.exit("FAIL: " + "\n".join(failures))
    print("check_torch_ddp_example: all checks passed")


if __name__ == "__main__":
    main()
