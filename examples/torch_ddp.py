"""LeNet on Fashion-MNIST with DistributedDataParallel on gloo; the gradients are averaged by DDP's
allreduce, PyTorch's fp16 or PowerSGD hook, or a gradcomp hook (Top-k 1%, RBGS r = 64 or blocksign,
each with error feedback).

    mpirun -np 2 python3 examples/torch_ddp.py --hook topk     # rank and size from Open MPI
    python3 examples/torch_ddp.py --hook powersgd --rank 4     # 2 processes (multiprocessing.spawn)
    python3 examples/torch_ddp.py --hook rbgs --quick          # 60 steps on 2,000 images (CI)

Under mpirun the processes meet at --rendezvous (default tcp://MASTER_ADDR:MASTER_PORT from the
environment, else tcp://127.0.0.1:29500); spawned processes meet on a file store of their own.
Debian's torch 1.13 cannot launch this with torchrun (torch.distributed.run) on Python 3.11: its
elastic agent fails with AttributeError: 'NoneType' object has no attribute 'get' (in to_map);
use mpirun or the spawn mode. Needs PYTHONPATH=build/release/python (or an installed gradcomp) and
dataset-fashion-mnist. Prints the test accuracy and the payload bytes each rank sends per step.
"""
import argparse
import os
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks, powerSGD_hook

import fashion_mnist as fm
import gradcomp.torch

GRADCOMP_HOOKS = {"topk": "topk:ratio=0.01", "rbgs": "rbgs:ratio=64", "blocksign": "blocksign"}
HOOKS = ["allreduce", "fp16", "powersgd", *GRADCOMP_HOOKS]


class Communication:
    """The chosen way of averaging gradients, registered on the DDP model, and the payload bytes
    one rank sent per step once compression started (dense steps of a warm-up excluded)."""

    def __init__(self, args, model):
        self.hook, self.args, self.numel = args.hook, args, sum(p.numel() for p in model.parameters())
        self.state = None
        if self.hook == "fp16":
            model.register_comm_hook(None, default_hooks.fp16_compress_hook)
        elif self.hook == "powersgd":
            self.state = powerSGD_hook.PowerSGDState(
                process_group=None, matrix_approximation_rank=args.rank,
                start_powerSGD_iter=args.start_iter, random_seed=args.seed)
            model.register_comm_hook(self.state, powerSGD_hook.powerSGD_hook)
        elif self.hook in GRADCOMP_HOOKS:
            feedback = {"true": True, "false": False, "ef21": "ef21"}[args.error_feedback]
            self.state = gradcomp.torch.HookState(
                compressor=args.compressor or GRADCOMP_HOOKS[self.hook], error_feedback=feedback,
                start_iter=args.start_iter, seed=args.seed)
            model.register_comm_hook(self.state, gradcomp.torch.compression_hook)
        self.bits_at_start = None

    @property
    def name(self):
        if self.hook == "powersgd":
            return f"powersgd:rank={self.args.rank}"
        if self.hook in GRADCOMP_HOOKS:
            return f"{self.state.compressor}+ef" + ("" if self.args.error_feedback == "true"
                                                   else f"={self.args.error_feedback}")
        return self.hook

    def before_step(self, step):
        if step == self.args.start_iter and self.hook in GRADCOMP_HOOKS:
            self.bits_at_start = self.state.bits_sent

    def bytes_per_step(self, steps):
        compressed = steps - self.args.start_iter
        if self.hook == "allreduce":
            return 4.0 * self.numel
        if self.hook == "fp16":
            return 2.0 * self.numel
        if compressed <= 0:
            return 4.0 * self.numel
        if self.hook == "powersgd":  # P and Q of the compressed matrices, the rest dense
            return 4.0 * self.state.total_numel_after_compression / compressed
        return (self.state.bits_sent - self.bits_at_start) / 8 / compressed


def step_is_finite(backward, opt, model):
    """One step; False when it diverged: gradcomp's hook raised on every rank (a rank's gradient
    was not finite), or the parameters are not finite after the step (DDP's allreduce and
    PyTorch's hooks carry a NaN to every rank, so every rank decides alike)."""
    try:
        backward()
    except RuntimeError as error:
        if "the run diverged" not in str(error):
            raise
        return False
    opt.step()
    return all(bool(p.isfinite().all()) for p in model.parameters())


def train(rank, world, init_method, args):
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    limit = 2000 if args.quick else None
    train_x, train_y = fm.load(args.data, "train", limit)
    test_x, test_y = fm.load(args.data, "test", 1000 if args.quick else None)
    model = torch.nn.parallel.DistributedDataParallel(fm.lenet())
    communication = Communication(args, model)
    steps_per_epoch = max(1, len(train_x) // (world * args.batch))
    steps = 60 if args.quick else args.epochs * steps_per_epoch
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    decay = torch.optim.lr_scheduler.MultiStepLR(
        opt, [round(e * steps_per_epoch) for e in fm.step_decay(steps, steps_per_epoch)], 0.1)
    order = fm.worker_order(len(train_x), world, rank, args.seed)
    eval_every = args.eval_every or steps_per_epoch
    record = fm.RunRecord(communication.name, args.target)
    loss_fn = torch.nn.CrossEntropyLoss()
    for step in range(steps):
        communication.before_step(step)
        record.start_step()
        rows = fm.batch_rows(order, step, args.batch)
        opt.zero_grad()
        if not step_is_finite(lambda: loss_fn(model(train_x[rows]), train_y[rows]).backward(),
                              opt, model):
            record.diverged_at = step
            if rank == 0:
                print(f"step {step + 1}/{steps}: the run diverged ({communication.name})")
            break
        decay.step()
        record.end_step()
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            acc = fm.accuracy(model.module, test_x, test_y)
            record.evaluated(acc)
            if rank == 0:
                print(f"step {step + 1}/{steps}: test accuracy {100 * acc:.2f}%, "
                      f"{communication.name}: {communication.bytes_per_step(step + 1):.6g} bytes "
                      f"per step (dense fp32 {4 * communication.numel})", flush=True)
            dist.barrier()  # the next step's time starts on both ranks together
    if args.json and rank == 0:
        record.write(args.json, communication.bytes_per_step(record.steps), ranks=world,
                     lr=args.lr, seed=args.seed, batch=args.batch)
    dist.barrier()  # both ranks leave together (gloo's teardown)
    del model
    dist.destroy_process_group()


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hook", choices=HOOKS, default="allreduce")
    parser.add_argument("--rank", type=int, default=1, help="PowerSGD's rank (default 1)")
    parser.add_argument("--compressor", help="a gradcomp compressor spec instead of the hook's")
    parser.add_argument("--error-feedback", choices=["true", "false", "ef21"], default="true")
    parser.add_argument("--start-iter", type=int, default=10,
                        help="dense allreduces before compression starts (PowerSGD and gradcomp)")
    parser.add_argument("--processes", type=int, default=2, help="spawned when not under mpirun")
    parser.add_argument("--rendezvous", help="init_method under mpirun")
    fm.add_training_arguments(parser)
    args = parser.parse_args()
    if args.hook not in GRADCOMP_HOOKS and (args.compressor or args.error_feedback != "true"):
        parser.error(f"--compressor and --error-feedback choose a gradcomp hook's compression; "
                     f"--hook {args.hook} has none (use --hook topk, rbgs or blocksign)")
    return args


def main():
    args = parse()
    if "OMPI_COMM_WORLD_SIZE" in os.environ:  # under mpirun: one process per rank
        address = os.environ.get("MASTER_ADDR", "127.0.0.1")
        port = os.environ.get("MASTER_PORT", "29500")
        train(int(os.environ["OMPI_COMM_WORLD_RANK"]), int(os.environ["OMPI_COMM_WORLD_SIZE"]),
              args.rendezvous or f"tcp://{address}:{port}", args)
        return
    with tempfile.TemporaryDirectory() as directory:
        store = f"file://{os.path.join(directory, 'store')}"
        torch.multiprocessing.spawn(train, args=(args.processes, store, args),
                                    nprocs=args.processes)


if __name__ == "__main__":
    main()
