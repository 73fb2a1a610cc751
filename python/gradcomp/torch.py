"""gradcomp inside PyTorch training: any gradcomp algorithm as a distributed optimizer.

    opt = gradcomp.torch.DistributedOptimizer(
        model.named_parameters(), algorithm="def:kappa=0.3,momentum=0.9",
        compressor="rbgs:ratio=64", schedule="step:lr=0.03,epochs=6",
        steps_per_epoch=len(loader), total_steps=6 * len(loader), seed=1)
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

The step is the C++ library's (gradcomp.Optimizer, the same code as `gradcomp train`): nothing is
reimplemented here. This module moves values between the model's parameters and the optimizer's
flat vectors. See docs/torch.md.

For DistributedDataParallel, compression_hook is a DDP communication hook: each bucket is
compressed (with error feedback or EF21), exchanged through the process group, and averaged.

    state = gradcomp.torch.HookState(compressor="topk:ratio=0.01", error_feedback=True)
    ddp_model.register_comm_hook(state, gradcomp.torch.compression_hook)
"""
import contextlib
import os

import torch

from ._gradcomp import Layout, Optimizer
from .ddp_hook import HookState, compression_hook

__all__ = ["DistributedOptimizer", "HookState", "compression_hook"]


def _default_backend():
    # mpirun (Open MPI) sets these in every rank's environment.
    return "mpi" if "OMPI_COMM_WORLD_SIZE" in os.environ else "local"


class DistributedOptimizer(torch.optim.Optimizer):
    """Every algorithm of `gradcomp list` driving a PyTorch model's update.

    named_parameters: the model's (name, parameter) pairs, all float32 or all float64, on the CPU;
        their names and shapes are the layout layer-wise compressors see.
    backend: "mpi" (one share of the workers per rank; the default under mpirun, which the module
        initialises itself) or "local" (every worker in this process; the default otherwise).
    workers: n; default one per rank ("mpi") or 1 ("local"). With several workers in this process,
        compute each one's gradient inside `for j in opt.workers():` (see workers()).
    schedule, steps_per_epoch, total_steps: the step sizes, as `gradcomp train`'s schedule spec;
        epoch milestones need steps_per_epoch and the s002 schedules total_steps (0: not given,
        a ValueError for the schedules that need it).

    After construction and after every step() the parameters hold the point the next gradient is
    computed at (the algorithm's query point: x − κe for DEF). evaluated_model() swaps in the model
    the algorithm outputs (DEF: x − ē) for evaluation.
    """

    def __init__(self, named_parameters, algorithm="sgd", compressor="identity",
                 quantizer="qsgd:levels=4", schedule="constant:lr=0.1", steps_per_epoch=0,
                 total_steps=0, workers=None, backend=None, seed=0, network="1Gbit"):
        named = list(named_parameters)
        if not named:
            raise ValueError("DistributedOptimizer: no parameters; give model.named_parameters()")
        for item in named:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                    and isinstance(item[1], torch.Tensor)):
                raise ValueError("DistributedOptimizer: give (name, parameter) pairs, as "
                                 "model.named_parameters() yields them")
        names = [name for name, _ in named]
        params = [p for _, p in named]
        dtype = params[0].dtype
        for name, p in named:
            if p.dtype not in (torch.float32, torch.float64):
                raise ValueError(f"DistributedOptimizer: parameter '{name}' is {p.dtype}; gradcomp "
                                 "steps float32 or float64 parameters (model.float())")
            if p.dtype != dtype:
                raise ValueError(f"DistributedOptimizer: parameter '{name}' is {p.dtype}, "
                                 f"'{names[0]}' is {dtype}; give every parameter one dtype "
                                 "(model.float() or model.double())")
            if p.device.type != "cpu":
                raise ValueError(f"DistributedOptimizer: parameter '{name}' is on {p.device}; "
                                 "gradcomp steps CPU parameters (model.cpu())")
        super().__init__(params, {})
        self._names = names
        self._shapes = [tuple(p.shape) for p in params]
        self._layout = Layout.from_shapes([(n, list(s)) for n, s in zip(names, self._shapes)])
        x0 = torch.cat([p.detach().reshape(-1) for p in params]).contiguous()
        self._core = Optimizer(
            self._layout, x0.numpy(), algorithm=algorithm, compressor=compressor,
            quantizer=quantizer, schedule=schedule, workers=workers or 0,
            steps_per_epoch=steps_per_epoch, total_steps=total_steps,
            backend=backend or _default_backend(), seed=seed, network=network)
        size = self._layout.size
        self._point = torch.empty(size, dtype=dtype)
        self._gradients = [torch.zeros(size, dtype=dtype) for _ in self._core.hosted]
        self._collected = set()
        self._load_query_point(0)

    # -- what the optimizer is -------------------------------------------------------------
    @property
    def core(self):
        """The gradcomp.Optimizer underneath (NumPy-level API)."""
        return self._core

    @property
    def algorithm(self):
        return self._core.algorithm

    @property
    def hosted(self):
        """The global indices of the workers this process steps."""
        return self._core.hosted

    @property
    def rank(self):
        return self._core.rank

    # -- the step --------------------------------------------------------------------------
    def workers(self):
        """Iterates over this process's workers: before each body, the parameters hold that
        worker's query point and their gradients are zero; after it, the gradients are that
        worker's. Compute each worker's loss on its own batch inside the loop, then step():

            for j in opt.workers():
                loss_fn(model(x[j]), y[j]).backward()
            opt.step()
        """
        self._check_parameters()
        self._collected.clear()
        for j in range(len(self._gradients)):
            self._load_query_point(j)
            self.zero_grad(set_to_none=False)
            yield self._core.hosted[j]
            self._collect(j)
        self._load_query_point(0)

    @torch.no_grad()
    def step(self, closure=None):
        """One step of the algorithm from the hosted workers' gradients; afterwards the
        parameters hold the next query point. With one hosted worker the gradients are read from
        the parameters (after backward()); with several, collect them with workers() first."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._check_parameters()
        hosted = len(self._gradients)
        if len(self._collected) != hosted:
            if hosted > 1:
                raise ValueError(
                    f"step: this process hosts {hosted} workers and the gradients of "
                    f"{len(self._collected)} were collected; compute each worker's gradient "
                    "inside `for j in opt.workers():` before step()")
            self._collect(0)
        self._core.step([g.numpy() for g in self._gradients])
        self._collected.clear()
        self._load_query_point(0)
        return loss

    @contextlib.contextmanager
    def evaluated_model(self):
        """Within the block the parameters hold the model the algorithm outputs (DEF: x − ē;
        most algorithms: x); the query point is restored afterwards. Collective under mpi."""
        saved = [p.detach().clone() for p in self._params()]
        out = torch.empty_like(self._point)
        self._core.evaluated_model(out.numpy())
        self._write_parameters(out)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, value in zip(self._params(), saved):
                    p.copy_(value)

    def stats(self):
        """The last step's and the running wire bits, density, error norms and κ*, with the
        names and units of metrics.jsonl. Collective under mpi."""
        return self._core.stats()

    # -- checkpoints -----------------------------------------------------------------------
    def state_dict(self):
        """Every state buffer of the algorithm (errors, momenta, shifts, server state, the
        model), the step and the running totals: a run resumed from it ends bit-identical."""
        return {"gradcomp": self._core.state(), "names": list(self._names),
                "shapes": [list(s) for s in self._shapes]}

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict) or "gradcomp" not in state_dict:
            raise ValueError("load_state_dict: give what DistributedOptimizer.state_dict() "
                             "returned")
        if state_dict.get("names") != self._names or \
                [tuple(s) for s in state_dict.get("shapes", [])] != self._shapes:
            raise ValueError("load_state_dict: the state was saved for other parameters "
                             f"({state_dict.get('names')}); build the optimizer on the same model")
        self._core.load_state(state_dict["gradcomp"])
        self._collected.clear()
        self._load_query_point(0)

    # -- moving values between the parameters and the flat vectors -------------------------
    def _params(self):
        return self.param_groups[0]["params"]

    def _check_parameters(self):
        params = self._params()
        shapes = [tuple(p.shape) for p in params]
        if len(self.param_groups) != 1 or shapes != self._shapes:
            raise ValueError("DistributedOptimizer: the parameters changed since the optimizer "
                             f"was built ({len(self._shapes)} tensors of shapes {self._shapes}, "
                             f"now {shapes}); build a new optimizer for a new model")

    def _load_query_point(self, j):
        self._core.query_point(j, self._point.numpy())
        self._write_parameters(self._point)

    @torch.no_grad()
    def _write_parameters(self, flat):
        offset = 0
        for p in self._params():
            n = p.numel()
            p.copy_(flat[offset:offset + n].view_as(p))
            offset += n

    @torch.no_grad()
    def _collect(self, j):
        offset = 0
        target = self._gradients[j]
        for p in self._params():
            n = p.numel()
            if p.grad is None:
                target[offset:offset + n].zero_()
            else:
                target[offset:offset + n].copy_(p.grad.reshape(-1))
            offset += n
        self._collected.add(j)
