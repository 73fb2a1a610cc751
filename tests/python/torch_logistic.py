"""ℓ2-regularised logistic regression in PyTorch, trained by gradcomp.torch.DistributedOptimizer
with full-batch gradients on contiguous shards: the same problem as `gradcomp train` with
model.name = "logistic:l2=MU", data.partition = "contiguous", run.batch = "full",
run.precision = "double" (docs/config.md), so both must end at the same model.

Run under mpirun as a script: mpirun -np P python3 torch_logistic.py DATA OUT.npy ALGORITHM
COMPRESSOR SCHEDULE STEPS WORKERS; rank 0 writes the evaluated model to OUT.npy.
"""
import sys

import numpy
import torch

import gradcomp.torch

MU = 0.001


def read_libsvm(path, features):
    """Rows as float32 values (as gradcomp reads them), labels ±1."""
    rows, labels = [], []
    for line in open(path):
        parts = line.split()
        row = numpy.zeros(features, dtype=numpy.float32)
        for item in parts[1:]:
            index, value = item.split(":")
            row[int(index) - 1] = numpy.float32(value)
        rows.append(row)
        labels.append(1.0 if float(parts[0]) > 0 else -1.0)
    return (torch.tensor(numpy.array(rows), dtype=torch.float64),
            torch.tensor(labels, dtype=torch.float64))


def shards(samples, workers):
    """Contiguous shards: worker w holds rows [w·N/n, (w+1)·N/n)."""
    return [range(w * samples // workers, (w + 1) * samples // workers) for w in range(workers)]


class Logistic(torch.nn.Module):
    def __init__(self, features):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(features, dtype=torch.float64))

    def loss(self, a, y):
        return torch.nn.functional.softplus(-y * (a @ self.weight)).mean() + \
            0.5 * MU * self.weight.dot(self.weight)


def make(features, algorithm, compressor, schedule, workers, backend="local", quantizer=None):
    model = Logistic(features)
    options = {"quantizer": quantizer} if quantizer else {}
    opt = gradcomp.torch.DistributedOptimizer(
        model.named_parameters(), algorithm=algorithm, compressor=compressor, schedule=schedule,
        workers=workers, backend=backend, seed=1, **options)
    return model, opt


def run_steps(model, opt, a, y, steps):
    parts = shards(a.shape[0], opt.core.workers)
    for _ in range(steps):
        for worker in opt.workers():
            rows = list(parts[worker])
            model.loss(a[rows], y[rows]).backward()
        opt.step()


def evaluated(model, opt):
    with opt.evaluated_model():
        return model.weight.detach().numpy().copy()


def main(data, out, algorithm, compressor, schedule, steps, workers):
    a, y = read_libsvm(data, 12)
    model, opt = make(12, algorithm, compressor, schedule, int(workers), backend="mpi")
    run_steps(model, opt, a, y, int(steps))
    result = evaluated(model, opt)
    if opt.rank == 0:
        numpy.save(out, result)


if __name__ == "__main__":
    main(*sys.argv[1:])
