"""Bad input raises ValueError with the command line's message; corrupt messages DecodeError."""
import numpy
import pytest
import torch

import gradcomp
from conftest import cli_error, random_vector


@pytest.mark.parametrize("spec", ["nosuch", "topk:ratio=2", "topk:ratio=0.1,k=3", "qsgd:levels=x",
                                  "topk:colour=red", "rbgs:ratio="])
def test_bad_specs_raise_the_cli_message(spec):
    expected = cli_error("inspect", "--demo", "-c", spec)
    with pytest.raises(ValueError) as error:
        gradcomp.Compressor(spec)
    assert str(error.value) == expected
    with pytest.raises(ValueError) as error:
        gradcomp.inspect(numpy.ones(10, numpy.float32), [spec])
    assert str(error.value) == expected


def test_a_layout_of_another_length_in_inspect_is_the_cli_message(tmp_path):
    numpy.save(tmp_path / "x.npy", numpy.ones(11, numpy.float32))
    (tmp_path / "layout.json").write_text('{"layers": [{"name": "a", "shape": [10]}]}')
    expected = cli_error("inspect", "-i", str(tmp_path / "x.npy"), "-c", "sign", "--layout",
                         str(tmp_path / "layout.json"))
    with pytest.raises(ValueError) as error:
        gradcomp.inspect(numpy.ones(11, numpy.float32), ["sign"],
                         gradcomp.Layout.from_json(str(tmp_path / "layout.json")))
    assert str(error.value) == expected


def test_a_missing_layout_file_is_the_cli_message(tmp_path):
    path = str(tmp_path / "missing.json")
    expected = cli_error("inspect", "--demo", "-c", "sign", "--layout", path)
    with pytest.raises(ValueError) as error:
        gradcomp.Layout.from_json(path)
    assert str(error.value) == expected


def raises(exception, message, call, *args, **kwargs):
    with pytest.raises(exception) as error:
        call(*args, **kwargs)
    assert str(error.value) == message


def test_inputs_that_cannot_be_read():
    c = gradcomp.Compressor("topk:k=1")
    raises(ValueError, "encode: x: a NumPy array of dtype int32 cannot be used; give float32 or "
           "float64 (x.astype(numpy.float32))", c.encode, numpy.ones(4, numpy.int32))
    raises(ValueError, "encode: x: the NumPy array is not C-contiguous; pass "
           "numpy.ascontiguousarray(x)", c.encode, numpy.ones(8, numpy.float32)[::2])
    raises(ValueError, "encode: x: a list cannot be used; give a NumPy array or a CPU "
           "torch.Tensor of float32 or float64", c.encode, [1.0, 2.0])
    raises(ValueError, "encode: x: a tensor of dtype torch.float16 cannot be used; give "
           "torch.float32 or torch.float64 (t.float())", c.encode, torch.ones(4, dtype=torch.half))
    raises(ValueError, "encode: x: the tensor is not contiguous; pass t.contiguous()",
           c.encode, torch.ones(4, 4).t())
    raises(ValueError, "topk: the vector holds nan at index 2 (layer 'all'); compressors need "
           "finite input", c.encode, numpy.array([1, 2, numpy.nan], numpy.float32))


def test_outputs_that_cannot_be_written():
    c = gradcomp.Compressor("topk:k=1")
    m = c.encode(numpy.ones(4, numpy.float32))
    read_only = numpy.zeros(4, numpy.float32)
    read_only.flags.writeable = False
    raises(ValueError, "decode_add: out: the NumPy array is read-only; give a writeable array",
           c.decode_add, m, read_only)
    raises(ValueError, "decode_add: out: the tensor requires grad, and gradcomp writes it outside "
           "autograd; pass t.detach() (or p.grad, or p.data)",
           c.decode_add, m, torch.zeros(4, requires_grad=True))
    raises(ValueError, "decode: dtype: a NumPy array of dtype int64 cannot be used; give float32 "
           "or float64 (x.astype(numpy.float32))", c.decode, m, dtype=numpy.int64)


def test_wrongly_sized_vectors():
    layout = gradcomp.Layout.from_shapes([("w", (3, 3))])
    c = gradcomp.Compressor("topk:k=1", layout=layout)
    raises(ValueError, "topk: the vector has 10 elements but the layout describes 9",
           c.encode, numpy.ones(10, numpy.float32))
    m = c.encode(numpy.ones(9, numpy.float32))
    raises(ValueError, "topk: the output has 8 elements but the layout describes 9",
           c.decode_add, m, numpy.zeros(8, numpy.float32))


def test_corrupt_messages_raise_decode_error():
    c = gradcomp.Compressor("topk:ratio=0.1")
    data = bytes(c.encode(random_vector(1000, numpy.float32)))
    assert issubclass(gradcomp.DecodeError, ValueError)
    raises(gradcomp.DecodeError, "message truncated: 3 bytes, shorter than the 16-byte header",
           gradcomp.Message.from_bytes, data[:3])
    raises(gradcomp.DecodeError, "not a gradcomp message (magic 0x5858, expected 0x4347)",
           gradcomp.Message.from_bytes, b"XX" + data[2:])
    raises(gradcomp.DecodeError, "message truncated: 100 values of 4 bytes need 400 bytes, 24 left",
           c.decode, gradcomp.Message.from_bytes(data[:40]))
    other = gradcomp.Compressor("sign").encode(random_vector(1000, numpy.float32))
    raises(gradcomp.DecodeError, "message was made by compressor #9, not by topk (#3)",
           c.decode, other)
    raises(gradcomp.DecodeError, "topk: message is from step 0, the receiver is at step 1",
           c.decode, gradcomp.Message.from_bytes(data), step=1)
    # A corrupt length is refused before the output is allocated (it was sized by the header:
    # 4 billion elements, 16 GB): with a layout, against the layout; without, the fingerprint.
    huge = data[:8] + (2**32 - 1).to_bytes(4, "little") + data[12:]
    with_layout = gradcomp.Compressor("topk:ratio=0.1", layout=gradcomp.Layout.flat(1000))
    raises(gradcomp.DecodeError, "topk: message encodes 4294967295 elements, the layout has 1000",
           with_layout.decode, gradcomp.Message.from_bytes(huge))
    with pytest.raises(gradcomp.DecodeError, match=r"^topk: message was made with other settings "
                       r"or another layout \(fingerprint 0x[0-9a-f]{4}, expected 0x[0-9a-f]{4} "
                       r"for 'topk:ratio=0.1,"):
        c.decode(gradcomp.Message.from_bytes(huge))


def test_bad_layouts():
    raises(ValueError, "Layout: layer 'w' has the negative dimension -3; shapes count elements",
           gradcomp.Layout.from_shapes, [("w", (2, -3))])
    raises(ValueError, "Layout.from_shapes: layer 0 is not a shape nor a (name, shape) pair; give "
           "e.g. [(\"fc1.weight\", (128, 784)), (\"fc1.bias\", (128,))]",
           gradcomp.Layout.from_shapes, [3])
    raises(ValueError, "layout: layer 'w' has shape [4294967296, 4294967296], whose element "
           "count overflows 64 bits; give the layer's real shape", gradcomp.Layout.from_shapes,
           [("w", (2**32, 2**32))])
    raises(ValueError, "layout: the layers up to 'b' hold 4294967296 elements, more than the "
           "4294967295 (2^32 − 1) a message can address (its length field has 32 bits); split "
           "the model into parts below that", gradcomp.Layout.from_shapes,
           [("a", (2**31,)), ("b", (2**31,))])
    raises(ValueError, "Layout.from_module: a int has no named_parameters(); give a "
           "torch.nn.Module", gradcomp.Layout.from_module, 3)
