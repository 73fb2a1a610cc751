"""gradcomp.torch.compression_hook inside DistributedDataParallel (2 processes, gloo): with the
identity compressor it gives DDP's own allreduce; with Top-k and error feedback it follows an
error-feedback reference written here in NumPy step for step; EF21 likewise; bad arguments are
ValueErrors."""
import uuid

import numpy
import pytest

torch = pytest.importorskip("torch")
import torch.multiprocessing  # noqa: E402

import ddp_hooks  # noqa: E402
import gradcomp.torch  # noqa: E402


def run(tmp_path, hook, poison=None, span=(0, ddp_hooks.STEPS)):
    out = tmp_path / "history.pt"
    store = tmp_path / f"store-{uuid.uuid4().hex}"
    torch.multiprocessing.spawn(
        ddp_hooks.train, args=(2, str(store), str(out), hook, poison, span,
                               str(tmp_path / "checkpoint")), nprocs=2)
    return torch.load(out) if poison is None else out


def flat(parameters):
    return numpy.concatenate([p.numpy().ravel() for p in parameters])


def rank_gradients(parameters):
    """Each rank's gradient at the given parameters, flattened in parameter order."""
    net = ddp_hooks.model()
    with torch.no_grad():
        for p, value in zip(net.parameters(), parameters):
            p.copy_(value)
    gradients = []
    for rank in range(2):
        net.zero_grad()
        x, y = ddp_hooks.batch(rank)
        torch.nn.functional.mse_loss(net(x), y).backward()
        gradients.append(flat([p.grad for p in net.parameters()]).astype(numpy.float32))
    return gradients


def unflatten(vector, like):
    out, offset = [], 0
    for p in like:
        out.append(torch.from_numpy(vector[offset:offset + p.numel()].reshape(p.shape).copy()))
        offset += p.numel()
    return out


def top_k(v, k):
    kept = numpy.zeros_like(v)
    order = numpy.argsort(-numpy.abs(v), kind="stable")[:k]
    kept[order] = v[order]
    return kept


def test_the_identity_hook_gives_ddps_allreduce(tmp_path):
    plain = run(tmp_path, None)
    hooked = run(tmp_path, {"compressor": "identity", "error_feedback": False, "start_iter": 0})
    a, b = flat(plain["history"][-1]), flat(hooked["history"][-1])
    assert numpy.linalg.norm(a - b) <= 1e-6 * numpy.linalg.norm(a)
    assert hooked["bits_sent"] > 50 * 24 * 32  # the identity's messages: 24 fp32 values + header


@pytest.mark.parametrize("feedback", [True, "ef21"])
def test_topk_with_error_feedback_follows_the_reference_step_for_step(tmp_path, feedback):
    k, start = 6, 3
    hooked = run(tmp_path, {"compressor": f"topk:k={k}", "error_feedback": feedback,
                            "start_iter": start})
    params = [p.detach().clone() for p in ddp_hooks.model().parameters()]
    memory = [numpy.zeros(24, numpy.float32) for _ in range(2)]  # e_i, or v_i for EF21
    mean_estimate = numpy.zeros(24, numpy.float32)
    for step, recorded in enumerate(hooked["history"]):
        g = rank_gradients(params)
        if step < start:
            average = (g[0] + g[1]) / 2
        elif feedback is True:
            sent = [g[r] + memory[r] for r in range(2)]
            kept = [top_k(s, k) for s in sent]
            memory = [sent[r] - kept[r] for r in range(2)]
            average = (kept[0] + kept[1]) / 2
        else:
            kept = [top_k(g[r] - memory[r], k) for r in range(2)]
            memory = [memory[r] + kept[r] for r in range(2)]
            mean_estimate = mean_estimate + (kept[0] + kept[1]) / 2
            average = mean_estimate
        params = [p - ddp_hooks.LR * a for p, a in zip(params, unflatten(average, params))]
        expected, got = flat(params), flat(recorded)
        assert numpy.linalg.norm(got - expected) <= 1e-6 * numpy.linalg.norm(expected), step
    assert len(hooked["history"]) == ddp_hooks.STEPS
    state = hooked["state"]
    assert state["iter"] == ddp_hooks.STEPS and set(state["errors"]) == {"parameter0", "parameter1"}


def test_a_gathered_compressor_and_a_linear_one_exchange_without_error(tmp_path):
    # blocksign messages are exchanged by all_gather (its scales do not add), rbgs payloads by
    # all_reduce; both train (the loss of the last step is below the first's).
    for spec in ("blocksign", "rbgs:ratio=4"):
        hooked = run(tmp_path, {"compressor": spec, "start_iter": 0})
        first, last = flat(hooked["history"][0]), flat(hooked["history"][-1])
        assert numpy.all(numpy.isfinite(last)) and not numpy.array_equal(first, last), spec


@pytest.mark.parametrize("spec,feedback,by_name", [("topk:k=6", True, False),
                                                   ("topk:k=6", "ef21", False),
                                                   ("rbgs:ratio=4", True, False),
                                                   ("rbgs:ratio=4", True, True)])
def test_a_hook_resumed_from_its_state_dict_ends_bit_identical(tmp_path, spec, feedback, by_name):
    # 20 steps, then every rank saves its parameters and hook state and a new pair of processes
    # resumes from them: the last parameters and the bits equal an uninterrupted run's exactly
    # (the error or EF21 buffers, the mean estimate and the iteration that keys rbgs' blocks).
    # The resumed DDP's first bucket lists the parameters in another order than the saving run's
    # (DDP reorders buckets after its first iteration): the hook keeps its memory per parameter
    # and compresses in one fixed order, by name (model=) or by first sight.
    hook = {"compressor": spec, "error_feedback": feedback, "start_iter": 3, "by_name": by_name}
    whole = run(tmp_path, hook)
    run(tmp_path, hook, span=(0, 20))
    resumed = run(tmp_path, hook, span=(20, ddp_hooks.STEPS))
    assert len(resumed["history"]) == ddp_hooks.STEPS - 20
    for a, b in zip(whole["history"][-1], resumed["history"][-1]):
        assert torch.equal(a, b)
    assert resumed["bits_sent"] == whole["bits_sent"]
    keys = {"weight", "bias"} if by_name else {"parameter0", "parameter1"}
    assert set(resumed["state"]["errors"]) == keys


@pytest.mark.parametrize("spec", ["topk:k=6", "rbgs:ratio=4"])
def test_a_gradient_that_is_not_finite_on_one_rank_stops_every_rank(tmp_path, spec):
    # Rank 1 alone sees a NaN at step 5: both ranks raise the same error at that step (gathered
    # and all-reduced exchanges alike) instead of rank 0 waiting in a collective for rank 1.
    out = run(tmp_path, {"compressor": spec, "start_iter": 2}, poison=(1, 5))
    expected = ("compression_hook: step 5, bucket 0: a rank's gradient (with its error memory) is "
                "not finite; the run diverged — lower the learning rate or the compression ratio")
    for rank in range(2):
        assert expected in (tmp_path / f"{out.name}.rank{rank}").read_text(), rank


class OneTensorBucket:
    """What compression_hook reads of a DDP bucket, for one parameter."""

    def __init__(self, parameter):
        self.parameter, self.flat = parameter, torch.ones(parameter.numel())

    def buffer(self):
        return self.flat

    def gradients(self):
        return [self.flat.view(self.parameter.shape)]

    def parameters(self):
        return [self.parameter]

    def index(self):
        return 0

    def is_last(self):
        return True


def test_a_state_of_another_model_is_refused(tmp_path):
    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp_path / 'solo'}",
                                         rank=0, world_size=1)
    try:
        first = gradcomp.torch.HookState(compressor="topk:k=1", start_iter=0)
        gradcomp.torch.compression_hook(first, OneTensorBucket(torch.nn.Parameter(torch.zeros(5))))
        other = gradcomp.torch.HookState(compressor="topk:k=1", start_iter=0)
        other.load_state_dict(first.state_dict())
        with pytest.raises(ValueError, match=r"compression_hook: the memory of 'parameter0' holds "
                           r"5 values, the parameter has 6: the state was saved from another "
                           r"model; load a state of this model"):
            gradcomp.torch.compression_hook(other, OneTensorBucket(torch.nn.Parameter(
                torch.zeros(3, 2))))
    finally:
        torch.distributed.destroy_process_group()


def test_bad_hook_arguments_are_value_errors():
    with pytest.raises(ValueError, match="unknown compressor 'zip'"):
        gradcomp.torch.HookState(compressor="zip")
    with pytest.raises(ValueError, match=r"error_feedback = 'yes'; use True, False or \"ef21\""):
        gradcomp.torch.HookState(error_feedback="yes")
    with pytest.raises(ValueError, match="start_iter = -1; give 0 or more iterations"):
        gradcomp.torch.HookState(start_iter=-1)
    state = gradcomp.torch.HookState(compressor="topk:k=2")
    with pytest.raises(ValueError, match="the state has compressor = 'rbgs'"):
        state.load_state_dict(dict(gradcomp.torch.HookState(compressor="rbgs").state_dict()))
    with pytest.raises(ValueError, match="the state is kept by parameter names, this hook by "
                       "order of first sight; build the HookState with model= as when the state "
                       "was saved, or without"):
        state.load_state_dict(gradcomp.torch.HookState(
            compressor="topk:k=2", model=torch.nn.Linear(2, 2)).state_dict())
    with pytest.raises(ValueError, match="HookState: model is a int; give the "
                       "DistributedDataParallel model or its module"):
        gradcomp.torch.HookState(model=3)
