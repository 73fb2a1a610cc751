"""LeNet on Fashion-MNIST trained with DEF + RBGS (r = 64) through gradcomp.torch.DistributedOptimizer.

    mpirun -np 2 python3 examples/torch_mpi.py          # two workers, one per rank, over Open MPI
    python3 examples/torch_mpi.py --workers 2           # the same two workers in one process
    python3 examples/torch_mpi.py --quick               # 60 steps on 2,000 images (what CI runs)

Needs PYTHONPATH=build/release/python (or an installed gradcomp), Debian's python3-torch and
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist). Prints the test accuracy of the model
DEF outputs (y = x - mean error) and the bits each worker sent, against a dense fp32 allreduce.
"""
import argparse
import os

import torch

import fashion_mnist as fm
import gradcomp.torch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kappa", type=float, default=0.3,
                        help="DEF's detach coefficient (on LeNet, 1 reaches 85%% in about half "
                        "the steps of the default: docs/benchmarks.md)")
    parser.add_argument("--ratio", type=int, default=64)
    parser.add_argument("--workers", type=int, default=0, help="n (default: one per rank)")
    fm.add_training_arguments(parser)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    limit = 2000 if args.quick else None
    train_x, train_y = fm.load(args.data, "train", limit)
    test_x, test_y = fm.load(args.data, "test", 1000 if args.quick else None)
    model = fm.lenet()
    # n workers: --workers, else one per rank (Open MPI's environment under mpirun), else 1.
    n = args.workers or int(os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))
    steps_per_epoch = max(1, len(train_x) // (n * args.batch))
    steps = 60 if args.quick else args.epochs * steps_per_epoch
    opt = gradcomp.torch.DistributedOptimizer(
        model.named_parameters(), algorithm=f"def:kappa={args.kappa},momentum={args.momentum}",
        compressor=f"rbgs:ratio={args.ratio}",
        schedule="step:lr={},epochs={}/{}".format(args.lr, *fm.step_decay(steps, steps_per_epoch)),
        steps_per_epoch=steps_per_epoch, total_steps=steps, workers=n, seed=args.seed)
    order = {w: fm.worker_order(len(train_x), n, w, args.seed) for w in opt.hosted}
    eval_every = args.eval_every or steps_per_epoch
    record = fm.RunRecord(f"def:kappa={args.kappa:g}+rbgs:ratio={args.ratio} (optimizer)",
                          args.target)
    loss_fn = torch.nn.CrossEntropyLoss()
    for step in range(steps):
        record.start_step()
        for worker in opt.workers():
            rows = fm.batch_rows(order[worker], step, args.batch)
            loss_fn(model(train_x[rows]), train_y[rows]).backward()
        opt.step()
        record.end_step()
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            with opt.evaluated_model():
                acc = fm.accuracy(model, test_x, test_y)
            record.evaluated(acc)
            stats = opt.stats()
            if opt.rank == 0:
                print(f"step {step + 1}/{steps}: test accuracy {100 * acc:.2f}%, "
                      f"bits per worker {stats['bits_up']:.4g} "
                      f"(dense fp32 allreduce {stats['dense_bits']:.4g}, "
                      f"{stats['dense_bits'] / stats['bits_up']:.1f}x more)", flush=True)

    stats = opt.stats()  # collective: every rank asks, rank 0 writes
    if args.json and opt.rank == 0:
        record.write(args.json, stats["bits_up_step"] / 8, lr=args.lr, seed=args.seed,
                     batch=args.batch, bits_per_worker=stats["bits_up"],
                     dense_bits=stats["dense_bits"])


if __name__ == "__main__":
    main()
