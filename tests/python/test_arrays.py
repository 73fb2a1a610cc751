"""NumPy arrays and CPU tensors in and out without copies; messages as bytes; layouts from torch
modules; threads."""
import pickle
import threading

import numpy
import pytest
import torch

import gradcomp
from conftest import random_vector


def test_decode_add_into_a_tensor_changes_it_in_place():
    x = random_vector(5000, numpy.float32, seed=1)
    compressor = gradcomp.Compressor("topk:ratio=0.1")
    message = compressor.encode(x)
    out = torch.ones(5000, dtype=torch.float32)
    address = out.data_ptr()
    compressor.decode_add(message, out, weight=0.5)
    assert out.data_ptr() == address
    expected = numpy.ones(5000, dtype=numpy.float32) + numpy.float32(0.5) * compressor.decode(message)
    assert out.numpy().tobytes() == expected.tobytes()


def test_decode_add_into_a_numpy_array_and_a_tensor_view_of_it():
    x = random_vector(300, numpy.float64, seed=2)
    compressor = gradcomp.Compressor("qsgd:levels=8")
    message = compressor.encode(x, seed=4, worker=3)
    decoded = compressor.decode(message, seed=4, worker=3)
    out = numpy.zeros(300)
    compressor.decode_add(message, out, seed=4, worker=3)
    compressor.decode_add(message, torch.from_numpy(out), weight=2.0, seed=4, worker=3)
    assert out.tobytes() == (decoded + 2.0 * decoded).tobytes()


def test_a_tensor_and_its_numpy_array_encode_to_the_same_bytes():
    x = random_vector(10_000, numpy.float32, seed=5)
    for spec in ["blocksign", "randk:ratio=0.01,shared=false", "terngrad"]:
        compressor = gradcomp.Compressor(spec)
        tensor_message = compressor.encode(torch.from_numpy(x), seed=1, step=2, worker=1)
        array_message = compressor.encode(x, seed=1, step=2, worker=1)
        assert bytes(tensor_message) == bytes(array_message)


def test_gradients_of_any_shape_are_read_flat_in_c_order():
    grad = torch.arange(12, dtype=torch.float64).reshape(3, 4) - 5.5
    compressor = gradcomp.Compressor("topk:k=2", layout=gradcomp.Layout.from_shapes([(3, 4)]))
    decoded = compressor.decode(compressor.encode(grad))
    assert list(numpy.nonzero(decoded)[0]) == [0, 11]
    assert decoded[0] == -5.5 and decoded[11] == 5.5


def test_message_bytes_buffer_and_pickle():
    compressor = gradcomp.Compressor("sign")
    message = compressor.encode(random_vector(1000, numpy.float32))
    data = bytes(message)
    assert len(message) == len(data) == 16 + 125
    assert memoryview(message).tobytes() == data
    assert memoryview(message).readonly
    assert numpy.frombuffer(message, dtype=numpy.uint8).tobytes() == data
    for copy in [gradcomp.Message.from_bytes(data), gradcomp.Message.from_bytes(bytearray(data)),
                 gradcomp.Message.from_bytes(numpy.frombuffer(data, numpy.uint8)),
                 pickle.loads(pickle.dumps(message))]:
        assert copy == message
        assert compressor.decode(copy).tobytes() == compressor.decode(message).tobytes()
    assert message.value_format == "fp32" and message.compressor_id == 9


def test_layout_from_a_torch_module_follows_named_parameters():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 26 * 26, 10))
    layout = gradcomp.Layout.from_module(model)
    expected = [(name, tuple(p.shape)) for name, p in model.named_parameters()]
    assert [(name, shape) for name, _, _, shape in layout.blocks] == expected
    assert layout.size == sum(p.numel() for p in model.parameters())
    offsets = [offset for _, offset, _, _ in layout.blocks]
    assert offsets == [0, 36, 40, 40 + 27040]
    assert layout == gradcomp.Layout.from_shapes(expected)
    assert len(layout) == 4


def test_layer_wise_compressors_see_the_modules_layers():
    model = torch.nn.Sequential(torch.nn.Linear(50, 20), torch.nn.Linear(20, 4))
    layout = gradcomp.Layout.from_module(model)
    grad = torch.cat([p.detach().flatten() for p in model.parameters()])
    compressor = gradcomp.Compressor("topk:k=1,scope=layer", layout=layout)
    decoded = compressor.decode(compressor.encode(grad))
    for _, offset, size, _ in layout.blocks:
        assert numpy.count_nonzero(decoded[offset:offset + size]) == 1


def test_properties_with_and_without_a_layout():
    assert gradcomp.Compressor("topk:k=10").properties["delta"] is None
    properties = gradcomp.Compressor("topk:k=10", layout=gradcomp.Layout.flat(1000)).properties
    assert properties["delta"] == pytest.approx(0.01)
    assert properties["unbiased"] is False and properties["exchange"] == "allgather"
    qsgd = gradcomp.Compressor("qsgd:levels=4", layout=gradcomp.Layout.flat(100)).properties
    assert qsgd["unbiased"] is True and qsgd["omega"] == pytest.approx(min(100 / 16, 10 / 4))
    assert gradcomp.Compressor("rbgs").properties["exchange"] == "allreduce"


@pytest.mark.parametrize("spec", ["topk:ratio=0.01", "qsgd:levels=16", "sketch:ratio=0.05",
                                  "randk:ratio=0.02,shared=false"])
def test_two_threads_encoding_at_once_get_the_messages_of_one_thread(spec):
    inputs = [random_vector(50_000, numpy.float32, seed=s) for s in range(16)]
    compressor = gradcomp.Compressor(spec)
    sequential = [bytes(compressor.encode(x, step=i, worker=i)) for i, x in enumerate(inputs)]
    decoded = [compressor.decode(gradcomp.Message.from_bytes(m), step=i, worker=i).tobytes()
               for i, m in enumerate(sequential)]
    results, decodes = {}, {}

    def work(parity):
        for i in range(parity, len(inputs), 2):
            message = compressor.encode(inputs[i], step=i, worker=i)
            results[i] = bytes(message)
            decodes[i] = compressor.decode(message, step=i, worker=i).tobytes()

    threads = [threading.Thread(target=work, args=(p,)) for p in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(inputs))] == sequential
    assert [decodes[i] for i in range(len(inputs))] == decoded


def test_stateful_compressors_in_two_threads_each_with_its_own_instance():
    layout = gradcomp.Layout.from_shapes([(100, 80)])
    inputs = [random_vector(8000, numpy.float32, seed=s) for s in range(6)]

    def run(messages):
        compressor = gradcomp.Compressor("powersgd:rank=2", layout=layout)
        messages.extend(bytes(compressor.encode(x, step=i)) for i, x in enumerate(inputs))

    alone, first, second = [], [], []
    run(alone)
    threads = [threading.Thread(target=run, args=(m,)) for m in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert first == alone and second == alone


def test_encode_into_a_reused_message_gives_the_fresh_bytes():
    compressor = gradcomp.Compressor("topk:ratio=0.1")
    inputs = [random_vector(1000, numpy.float32, seed=s) for s in range(3)]
    reused = compressor.encode(inputs[0])
    for step, x in enumerate(inputs):
        assert compressor.encode(x, step=step, out=reused) is reused
        assert bytes(reused) == bytes(compressor.encode(x, step=step))


def test_a_message_with_live_views_is_not_encoded_into():
    compressor = gradcomp.Compressor("sign")
    x = random_vector(1000, numpy.float32)
    message = compressor.encode(x)
    alive = ("encode: out: {} view(s) of the message's bytes (memoryview, numpy.frombuffer) are "
             "alive; release them, or encode into a new message")
    view = numpy.frombuffer(message, numpy.uint8)
    with memoryview(message) as other:
        with pytest.raises(ValueError) as error:
            compressor.encode(x, out=message)
        assert str(error.value) == alive.format(2)
        assert other.tobytes() == view.tobytes()
    with pytest.raises(ValueError) as error:
        compressor.encode(x, out=message)
    assert str(error.value) == alive.format(1)
    del view
    compressor.encode(x, step=1, out=message)
    assert message.step == 1
    with pytest.raises(TypeError):
        memoryview(message)[0:1] = b"x"  # read-only
    with pytest.raises(ValueError):
        numpy.frombuffer(message, numpy.uint8).setflags(write=True)


def test_a_failed_encode_into_a_message_leaves_no_stale_message():
    compressor = gradcomp.Compressor("topk:k=3")
    message = compressor.encode(random_vector(10, numpy.float32))
    with pytest.raises(ValueError):
        compressor.encode(numpy.full(10, numpy.nan, numpy.float32), out=message)
    assert len(message) == 0
    with pytest.raises(gradcomp.DecodeError):
        compressor.decode(message)
    with pytest.raises(ValueError) as error:
        compressor.encode(random_vector(10, numpy.float32), out=b"bytes")
    assert str(error.value) == "encode: out must be a gradcomp.Message (or None for a new one)"


def test_simd_target_names_the_kernels_in_use():
    assert gradcomp.simd_target() in {"AVX3", "AVX3_DL", "AVX3_ZEN4", "AVX2", "SSE4", "SCALAR",
                                      "EMU128"}
