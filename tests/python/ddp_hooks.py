"""Two-process DDP training on gloo for the hook tests (torch.multiprocessing.spawn): a small
linear model, each rank its own fixed batch; rank 0 saves the parameters after every step."""
import datetime

import torch

import gradcomp.torch

STEPS = 50
LR = 0.1


def batch(rank):
    generator = torch.Generator().manual_seed(100 + rank)
    return (torch.randn(8, 5, generator=generator), torch.randn(8, 4, generator=generator))


def model():
    torch.manual_seed(0)
    return torch.nn.Linear(5, 4)


def train(rank, world, store, out, hook, poison=None, span=(0, STEPS), checkpoint=None):
    """hook: None (DDP's allreduce) or a dict of HookState arguments. store: a file of this run
    only, the rendezvous (a TCP port could be taken by another job's run between choosing it and
    binding it, and two runs meeting on one port would wait for each other forever).
    poison: (rank, step): that rank's batch holds a NaN at that step; every rank writes the error
    it raised to OUT.rankR (a rank waiting for the others fails after gloo's 60 s timeout).
    span: the steps to run; a run starting after 0 loads CHECKPOINT.rankR (parameters and hook
    state), a run ending before STEPS saves it."""
    torch.distributed.init_process_group("gloo", init_method=f"file://{store}", rank=rank,
                                         world_size=world, timeout=datetime.timedelta(seconds=60))
    torch.set_num_threads(1)
    net = torch.nn.parallel.DistributedDataParallel(model())
    state = None
    if hook is not None:  # "by_name": True gives HookState the model (memory kept by name)
        arguments = {k: v for k, v in hook.items() if k != "by_name"}
        state = gradcomp.torch.HookState(**arguments, model=net if hook.get("by_name") else None)
        net.register_comm_hook(state, gradcomp.torch.compression_hook)
    if span[0] > 0:
        saved = torch.load(f"{checkpoint}.rank{rank}")
        net.module.load_state_dict(saved["model"])
        state.load_state_dict(saved["hook"])
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    x, y = batch(rank)
    history = []
    for step in range(*span):
        opt.zero_grad()
        poisoned = poison == (rank, step)
        try:
            torch.nn.functional.mse_loss(net(x * float("nan") if poisoned else x), y).backward()
        except RuntimeError as error:
            with open(f"{out}.rank{rank}", "w") as f:
                f.write(str(error))
            # Every rank raises at the same step, so they can leave together as below: a rank
            # whose peer had already exited with gloo's pairs still open was seen to abort at exit
            # ("terminate called without an active exception").
            torch.distributed.barrier()
            del net
            torch.distributed.destroy_process_group()
            return
        opt.step()
        history.append([p.detach().clone() for p in net.module.parameters()])
    if span[1] < STEPS:
        torch.save({"model": net.module.state_dict(), "hook": state.state_dict()},
                   f"{checkpoint}.rank{rank}")
    if rank == 0:
        torch.save({"history": history, "bits_sent": state.bits_sent if state else None,
                    "state": state.state_dict() if state else None}, out)
    # Both ranks leave together: a rank tearing gloo down while the other still holds its pairs
    # could leave the other's destructors waiting (seen as a rare hang at exit).
    torch.distributed.barrier()
    del net
    torch.distributed.destroy_process_group()
