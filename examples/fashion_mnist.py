"""What examples/torch_mpi.py and examples/torch_ddp.py share: Fashion-MNIST from Debian's
dataset-fashion-mnist (gzip IDX files), LeNet, each worker's batches, the test accuracy, and the
run record (time to a target accuracy) the benchmark script bench/torch_netem.sh collects."""
import gzip
import json
import os
import time

import numpy
import torch

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's pixel statistics
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return numpy.frombuffer(data, dtype=numpy.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, split, limit):
    """Images normalised to Fashion-MNIST's mean and deviation, shape (n, 1, 28, 28); labels."""
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"))[:limit]
    labels = read_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"))[:limit]
    x = (torch.from_numpy(images.astype(numpy.float32) / 255.0) - MEAN) / STD
    return x.unsqueeze(1), torch.from_numpy(labels.astype(numpy.int64))


def add_training_arguments(parser):
    """The options both examples take: data, length, batch, step size and the benchmark record."""
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1,
                        help="the initial model, the images' order and the compressors' randomness")
    parser.add_argument("--quick", action="store_true", help="60 steps on 2,000 images")
    parser.add_argument("--eval-every", type=int, default=0, help="steps (default: each epoch)")
    parser.add_argument("--target", type=float, help="record when the test accuracy reaches it")
    parser.add_argument("--json", help="write the run's record (rank 0) to this file")


def lenet():
    """LeNet-5 with its convolutions' weights stored channels-last: torch 1.13's single-threaded
    CPU convolutions and max-pooling run LeNet's forward and backward pass 1.13-1.20x faster than
    in the default layout, with the same gradients (bench/lenet_layout.py). A layout of memory
    only: the parameters' shapes, and the order gradcomp flattens them in, are unchanged."""
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))
    return model.to(memory_format=torch.channels_last)


def worker_order(size, workers, worker, seed=1):
    """Worker w's images: every n-th image from the w-th, in an order fixed by w and the seed (seed
    1 keeps the order of the examples' first version, seeded by w alone). torch's CPU generator
    keeps 32 bits of its seed: the seed's part stays below them."""
    shard = torch.arange(worker, size, workers)
    generator = torch.Generator().manual_seed((seed - 1) * 1_000_003 + worker)
    return shard[torch.randperm(len(shard), generator=generator)]


def batch_rows(order, step, batch):
    """The rows of a worker's batch at a step: consecutive windows cycling through its order."""
    start = (step * batch) % max(1, len(order) - batch)
    return order[start:start + batch]


def step_decay(steps, steps_per_epoch):
    """The learning-rate milestones both examples use: ÷10 at half and at three quarters."""
    return (0.5 * steps / steps_per_epoch, 0.75 * steps / steps_per_epoch)


def accuracy(model, x, y, chunk=500):
    """In chunks: one forward pass over 10,000 images is ten times slower (cache misses)."""
    with torch.no_grad():
        right = sum(int((model(x[i:i + chunk]).argmax(1) == y[i:i + chunk]).sum())
                    for i in range(0, len(x), chunk))
    return right / len(x)


class RunRecord:
    """Training time (steps only: evaluations are not counted), the first training time at which
    the test accuracy reached the target, and the payload bytes per step, for --json."""

    def __init__(self, name, target):
        self.name, self.target = name, target
        self.training_seconds, self.steps = 0.0, 0
        self.time_to_target, self.step_to_target = None, None
        self.accuracy = None
        self.diverged_at = None
        self._started = None

    def start_step(self):
        self._started = time.perf_counter()

    def end_step(self):
        self.training_seconds += time.perf_counter() - self._started
        self.steps += 1

    def evaluated(self, acc):
        self.accuracy = acc
        if self.time_to_target is None and self.target is not None and acc >= self.target:
            self.time_to_target, self.step_to_target = self.training_seconds, self.steps

    def write(self, path, bytes_per_step, **extra):
        record = {"name": self.name, "steps": self.steps,
                  "step_ms": 1e3 * self.training_seconds / max(1, self.steps),
                  "bytes_per_step": bytes_per_step, "accuracy": self.accuracy,
                  "target": self.target, "time_to_target_s": self.time_to_target,
                  "step_to_target": self.step_to_target, "diverged_at": self.diverged_at,
                  **extra}
        partial = f"{path}.partial"
        with open(partial, "w") as f:
            json.dump(record, f)
            f.write("\n")
        os.replace(partial, path)  # a reader never sees half a record
