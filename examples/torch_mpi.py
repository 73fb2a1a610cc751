"""LeNet on Fashion-MNIST trained with DEF + RBGS (r = 64) through gradcomp.torch.DistributedOptimizer.

    mpirun -np 2 python3 examples/torch_mpi.py          # two workers, one per rank, over Open MPI
    python3 examples/torch_mpi.py --workers 2           # the same two workers in one process
    python3 examples/torch_mpi.py --quick               # 60 steps on 2,000 images (what CI runs)

Needs PYTHONPATH=build/release/python (or an installed gradcomp), Debian's python3-torch and
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist). Prints the test accuracy of the model
DEF outputs (y = x - mean error) and the bits each worker sent, against a dense fp32 allreduce.
"""
import argparse
import gzip
import os

import numpy
import torch

import gradcomp.torch

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's pixel statistics


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return numpy.frombuffer(data, dtype=numpy.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, split, limit):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"))[:limit]
    labels = read_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"))[:limit]
    x = (torch.from_numpy(images.astype(numpy.float32) / 255.0) - MEAN) / STD
    return x.unsqueeze(1), torch.from_numpy(labels.astype(numpy.int64))


def lenet():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).double().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--kappa", type=float, default=0.3)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--ratio", type=int, default=64)
    parser.add_argument("--workers", type=int, default=0, help="n (default: one per rank)")
    parser.add_argument("--quick", action="store_true", help="60 steps on 2,000 images")
    args = parser.parse_args()

    torch.manual_seed(1)
    torch.set_num_threads(1)
    limit = 2000 if args.quick else None
    train_x, train_y = load(args.data, "train", limit)
    test_x, test_y = load(args.data, "test", 1000 if args.quick else None)
    model = lenet()
    # n workers: --workers, else one per rank (Open MPI's environment under mpirun), else 1.
    n = args.workers or int(os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))
    steps_per_epoch = max(1, len(train_x) // (n * args.batch))
    steps = 60 if args.quick else args.epochs * steps_per_epoch
    opt = gradcomp.torch.DistributedOptimizer(
        model.named_parameters(), algorithm=f"def:kappa={args.kappa},momentum={args.momentum}",
        compressor=f"rbgs:ratio={args.ratio}",
        schedule=f"step:lr={args.lr},epochs={0.5 * steps / steps_per_epoch}/{0.75 * steps / steps_per_epoch}",
        steps_per_epoch=steps_per_epoch, total_steps=steps, workers=n, seed=1)
    hosted = opt.hosted

    shards = [torch.arange(w, len(train_x), n) for w in range(n)]  # worker w: every n-th image
    order = {w: shards[w][torch.randperm(len(shards[w]), generator=torch.Generator().manual_seed(w))]
             for w in hosted}
    loss_fn = torch.nn.CrossEntropyLoss()
    for step in range(steps):
        for worker in opt.workers():
            start = (step * args.batch) % max(1, len(order[worker]) - args.batch)
            rows = order[worker][start:start + args.batch]
            loss_fn(model(train_x[rows]), train_y[rows]).backward()
        opt.step()
        if (step + 1) % steps_per_epoch == 0 or step + 1 == steps:
            with opt.evaluated_model():
                acc = accuracy(model, test_x, test_y)
            stats = opt.stats()
            if opt.rank == 0:
                print(f"step {step + 1}/{steps}: test accuracy {100 * acc:.2f}%, "
                      f"bits per worker {stats['bits_up']:.4g} "
                      f"(dense fp32 allreduce {stats['dense_bits']:.4g}, "
                      f"{stats['dense_bits'] / stats['bits_up']:.1f}x more)", flush=True)


if __name__ == "__main__":
    main()
