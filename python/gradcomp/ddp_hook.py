"""compression_hook: a DistributedDataParallel communication hook that compresses each bucket with a
gradcomp compressor (error feedback, EF21 or none), exchanges it through the process group and
returns the average (docs/torch.md). Exported as gradcomp.torch.HookState and
gradcomp.torch.compression_hook.

    state = gradcomp.torch.HookState(compressor="topk:ratio=0.01", model=ddp_model)
    ddp_model.register_comm_hook(state, gradcomp.torch.compression_hook)
"""
import torch

from ._gradcomp import Compressor, Layout, Message


class HookState:
    """The state of compression_hook: the error-feedback memory, the iteration, the bits sent.

    compressor: any compressor spec of `gradcomp list`.
    error_feedback: True (e ← p − C(p), p = g + e), False (plain compression), or "ef21" (each rank
        keeps an estimate v_i of its gradient, sends C(g − v_i), and every rank returns the mean
        estimate).
    process_group: the group to exchange over (None: the default group).
    start_iter: the first start_iter iterations are plain allreduces (as PowerSGD's warm-up).
    seed: the shared randomness (rbgs, shared randk, sketch) of bucket b at iteration t is keyed
        by (seed, b, t) on every rank.
    model: the DDP model (or its module), optional. The memory is kept per parameter, and each
        bucket is compressed with its tensors in one fixed order, so nothing depends on how DDP
        groups and orders its buckets (it reorders them after its first iteration, and a resumed
        run starts from the initial order again). With the model, parameters are keyed and
        ordered by name and position in it (a state then also loads into a DDP with other bucket
        sizes); without it, by the order in which the hook first saw them (DDP's initial bucket
        assignment, the same in every run of the same model).
    """

    def __init__(self, compressor="topk:ratio=0.01", error_feedback=True, process_group=None,
                 start_iter=10, seed=0, model=None):
        if error_feedback not in (True, False, "ef21"):
            raise ValueError(f"HookState: error_feedback = {error_feedback!r}; use True, False "
                             "or \"ef21\"")
        if int(start_iter) < 0:
            raise ValueError(f"HookState: start_iter = {start_iter}; give 0 or more iterations")
        Compressor(compressor)  # a bad spec fails here, not inside backward()
        self.compressor = compressor
        self.error_feedback = error_feedback
        self.process_group = process_group
        self.start_iter = int(start_iter)
        self.seed = int(seed)
        self.iter = 0
        self.bits_sent = 0
        self.errors = {}      # parameter key → e (error feedback) or v_i (EF21)
        self.estimates = {}   # EF21: parameter key → the mean estimate v
        self._compressors = {}
        self._seen = {}        # id(parameter) → the order in which the hook first saw it
        self._position = None  # id(parameter) → (position in the model, name)
        if model is not None:
            if not hasattr(model, "named_parameters"):
                raise ValueError(f"HookState: model is a {type(model).__name__}; give the "
                                 "DistributedDataParallel model or its module")
            self._position = {id(p): (i, name.removeprefix("module."))
                              for i, (name, p) in enumerate(model.named_parameters())}

    def state_dict(self):
        """Everything a resumed run needs: iteration, bits, and the memory of every parameter."""
        return {"compressor": self.compressor, "error_feedback": self.error_feedback,
                "start_iter": self.start_iter, "seed": self.seed, "iter": self.iter,
                "bits_sent": self.bits_sent, "keys": self._key_kind(),
                "errors": {k: t.clone() for k, t in self.errors.items()},
                "estimates": {k: t.clone() for k, t in self.estimates.items()}}

    def load_state_dict(self, state):
        for key in ("compressor", "error_feedback", "seed"):
            if state.get(key) != getattr(self, key):
                raise ValueError(f"HookState.load_state_dict: the state has {key} = "
                                 f"{state.get(key)!r}, this hook {getattr(self, key)!r}; build "
                                 "the HookState the state was saved from")
        if state.get("keys") != self._key_kind():
            raise ValueError(f"HookState.load_state_dict: the state is kept by "
                             f"{state.get('keys')}, this hook by {self._key_kind()}; build the "
                             "HookState with model= as when the state was saved, or without")
        self.start_iter = state["start_iter"]
        self.iter = state["iter"]
        self.bits_sent = state["bits_sent"]
        self.errors = {k: t.clone() for k, t in state["errors"].items()}
        self.estimates = {k: t.clone() for k, t in state["estimates"].items()}

    def _key_kind(self):
        return "parameter names" if self._position is not None else "order of first sight"

    def _place(self, parameter):
        """(rank in the compression order, memory key) of a parameter."""
        if self._position is None:
            k = self._seen.setdefault(id(parameter), len(self._seen))
            return k, f"parameter{k}"
        if id(parameter) not in self._position:
            raise ValueError("compression_hook: the bucket holds a parameter that is not in the "
                             "model given to HookState; give HookState the model that DDP wraps")
        return self._position[id(parameter)]

    def _bucket_order(self, bucket):
        """The bucket's tensors in the order they are compressed, as (index in the bucket, key)."""
        placed = [(self._place(p), i) for i, p in enumerate(bucket.parameters())]
        return [(i, key) for (_, key), i in sorted(placed)]

    def _compressor_for(self, index, keys, shapes):
        """One instance per bucket and layout, seeing the bucket's tensors as its layers."""
        signature = (tuple(keys), tuple(map(tuple, shapes)))
        known = self._compressors.get(index)
        if known is None or known[0] != signature:
            layout = Layout.from_shapes([(k, s) for k, s in zip(keys, shapes)])
            known = (signature, Compressor(self.compressor, layout=layout))
            self._compressors[index] = known
        return known[1]

    def _bucket_seed(self, index):
        return (self.seed * 1_000_003 + index) % (1 << 63)


def _gather_memory(memory, keys, sizes, like):
    """The bucket's memory as one vector (zeros where a parameter has none yet)."""
    parts = []
    for key, size in zip(keys, sizes):
        saved = memory.get(key)
        if saved is None:
            parts.append(torch.zeros(size, dtype=like.dtype))
        elif saved.numel() != size:
            raise ValueError(f"compression_hook: the memory of '{key}' holds {saved.numel()} "
                             f"values, the parameter has {size}: the state was saved from another "
                             "model; load a state of this model")
        else:
            parts.append(saved)
    return torch.cat(parts) if parts else like.new_zeros(0)


def _scatter_memory(memory, keys, sizes, vector):
    for key, part in zip(keys, vector.split(sizes)):
        memory[key] = part.clone()


def _exchange_linear(compressor, message, size, dtype, group, world, seed, step, rank):
    """All-reduce of the payload values: the decode of the sum is the sum of the decodes. One
    more value counts the ranks whose gradient was not finite (message None), so all of them
    raise together instead of one waiting in the all_reduce for the others."""
    payload_size = compressor.payload_size(size)
    payload = torch.zeros(payload_size + 1, dtype=dtype)
    if message is None:
        payload[payload_size] = 1
    else:
        compressor.read_payload(message, payload[:payload_size].numpy(), size=size, seed=seed,
                                step=step, worker=rank)
    torch.distributed.all_reduce(payload, group=group)
    if payload[payload_size] != 0:
        return None
    out = torch.zeros(size, dtype=dtype)
    compressor.decode_payload_add(payload[:payload_size].numpy(), out.numpy(),
                                  weight=1.0 / world, seed=seed, step=step)
    return out


def _exchange_gathered(compressor, message, size, dtype, group, world, seed, step):
    """all_gather of the sizes first (never a hang on unequal lengths; -1: this rank's gradient
    was not finite, and every rank returns None), then of the messages padded to the longest;
    every rank decodes them in rank order, so every rank gets the same bits."""
    mine = torch.frombuffer(bytearray(bytes(message) if message is not None else b"\0"),
                            dtype=torch.uint8)
    length = torch.tensor([mine.numel() if message is not None else -1], dtype=torch.int64)
    lengths = [torch.zeros(1, dtype=torch.int64) for _ in range(world)]
    torch.distributed.all_gather(lengths, length, group=group)
    if any(int(n) < 0 for n in lengths):
        return None
    longest = int(max(int(n) for n in lengths))
    padded = torch.zeros(longest, dtype=torch.uint8)
    padded[:mine.numel()] = mine
    gathered = [torch.zeros(longest, dtype=torch.uint8) for _ in range(world)]
    torch.distributed.all_gather(gathered, padded, group=group)
    out = torch.zeros(size, dtype=dtype)
    for r in range(world):
        received = Message.from_bytes(gathered[r][:int(lengths[r])].numpy().tobytes())
        compressor.decode_add(received, out.numpy(), weight=1.0 / world, seed=seed, step=step,
                              worker=r)
    return out


def compression_hook(state, bucket):
    """A DDP communication hook: the bucket's average, compressed as `state` says; returns a
    completed torch.futures.Future holding it, as DDP requires. CUDA buckets are copied to the
    host and back (one device-to-host and one host-to-device copy of the bucket per iteration)."""
    group = state.process_group
    world = torch.distributed.get_world_size(group)
    rank = torch.distributed.get_rank(group)
    buffer = bucket.buffer()
    if buffer.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"compression_hook: the bucket holds {buffer.dtype} gradients; gradcomp "
                         "compresses float32 or float64 (model.float())")
    host = buffer.detach().cpu().contiguous() if buffer.device.type != "cpu" else buffer.detach()
    step = state.iter
    order = state._bucket_order(bucket)  # also in warm-up: the first sight fixes the keys
    if step < state.start_iter:
        result = host.clone()
        torch.distributed.all_reduce(result, group=group)
        result /= world
        state.bits_sent += 8 * result.element_size() * result.numel()
    else:
        result = _compressed_bucket(state, bucket, order, host, group, world, rank, step)
    if buffer.device.type != "cpu":
        buffer.copy_(result)
        result = buffer
    if bucket.is_last():
        state.iter += 1
    future = torch.futures.Future()
    future.set_result(result)
    return future


def _compressed_bucket(state, bucket, order, host, group, world, rank, step):
    """The bucket's tensors in compression order, compressed and averaged, and put back in the
    bucket's order."""
    pieces = host.split([g.numel() for g in bucket.gradients()])
    shapes = [list(bucket.gradients()[i].shape) or [1] for i, _ in order]
    keys = [key for _, key in order]
    sizes = [pieces[i].numel() for i, _ in order]
    in_order = [i for i, _ in order] == list(range(len(order)))
    gradient = host if in_order else torch.cat([pieces[i] for i, _ in order])
    average = _compressed_average(state, bucket.index(), keys, shapes, sizes, gradient, group,
                                  world, rank, step)
    if in_order:
        return average
    result = torch.empty_like(host)
    targets = result.split([g.numel() for g in bucket.gradients()])
    for (i, _), part in zip(order, average.split(sizes)):
        targets[i].copy_(part)
    return result


def _compressed_average(state, index, keys, shapes, sizes, gradient, group, world, rank, step):
    compressor = state._compressor_for(index, keys, shapes)
    seed = state._bucket_seed(index)
    size = gradient.numel()
    if state.error_feedback is True:
        sent = gradient + _gather_memory(state.errors, keys, sizes, gradient)
    elif state.error_feedback == "ef21":
        estimate = _gather_memory(state.errors, keys, sizes, gradient)
        sent = gradient - estimate
    else:
        sent = gradient.clone()
    finite = bool(torch.isfinite(sent).all())
    message = compressor.encode(sent.numpy(), seed=seed, step=step, worker=rank) if finite else None
    state.bits_sent += message.bits if finite else 0
    if compressor.payload_size(size) is not None:
        average = _exchange_linear(compressor, message, size, gradient.dtype, group, world, seed,
                                   step, rank)
    else:
        average = _exchange_gathered(compressor, message, size, gradient.dtype, group, world,
                                     seed, step)
    if average is None:  # every rank raises here, at the same step
        raise ValueError(f"compression_hook: step {step}, bucket {index}: a rank's gradient"
                         f"{'' if state.error_feedback is False else ' (with its error memory)'} "
                         "is not finite; the run diverged — lower the learning rate or the "
                         "compression ratio")
    if state.error_feedback is False:
        return average
    own = torch.from_numpy(compressor.decode(message, dtype=sent.numpy().dtype, seed=seed,
                                             step=step, worker=rank))
    if state.error_feedback is True:
        _scatter_memory(state.errors, keys, sizes, sent - own)
        return average
    _scatter_memory(state.errors, keys, sizes, estimate + own)      # v_i ← v_i + C(g − v_i)
    mean = _gather_memory(state.estimates, keys, sizes, gradient) + average
    _scatter_memory(state.estimates, keys, sizes, mean)             # v ← v + mean C(g_i − v_i)
    return mean
