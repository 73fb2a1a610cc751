"""Untrusted bytes through the Python module: Message.from_bytes, decode, decode_add, read_payload and
pickle, on mutations of the decoder fuzz targets' seed corpora (tests/fuzz/corpus/NAME/).

Debian has no coverage-guided fuzzer for Python (atheris), so this is a seeded mutation loop: every
seed message of every fuzz target's compressor, mutated the ways libFuzzer mutates (bit flips, bytes
set to boundary values, inserted, erased, truncated, a chunk copied), must either be refused with a
gradcomp.DecodeError (a ValueError) or decode to a finite vector of the layout's length. A crash ends
the test process; any other exception, a wrong length or a non-finite value fails the test. The C++
decoders under them are fuzzed with coverage by `make test-fuzz`; this covers the binding: the
buffer protocol, the copies and the header checks Python adds.
"""
import pathlib
import pickle
import random
import re

import numpy
import pytest

import gradcomp

FUZZ = pathlib.Path(__file__).resolve().parent.parent / "fuzz"

# The layouts the first byte of a decoder seed chooses (tests/fuzz/fuzz_layout.hpp, in order).
LAYOUTS = [
    [[6, 5], [7], [0], [11]],
    [[1]],
    [[1], [0], [3], [1]],
    [[16, 16], [2, 2, 2], [1]],
]
MUTATIONS_PER_SEED = 100
BOUNDARY_BYTES = [0x00, 0x01, 0x7F, 0x80, 0xFF]


def fuzz_specs():
    """(name, spec) of every decoder fuzz target, read from tests/fuzz/CMakeLists.txt."""
    text = (FUZZ / "CMakeLists.txt").read_text()
    block = re.search(r"set\(GRADCOMP_FUZZ_SPECS(.*?)\)\n", text, re.S).group(1)
    entries = re.findall(r'"([^"]+)"', block)
    return [tuple(e.split("=", 1)) if "=" in e else (e, e) for e in entries]


def mutate(data, rng):
    """One to three of libFuzzer's kinds of mutation."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(6)
        at = rng.randrange(len(data) + 1)
        if kind == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif kind == 1 and data:
            data[min(at, len(data) - 1)] = rng.choice(BOUNDARY_BYTES)
        elif kind == 2:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 3 and data:
            del data[at:at + rng.randint(1, 8)]
        elif kind == 4:
            del data[at:]
        elif kind == 5 and data:
            start = rng.randrange(len(data))
            chunk = data[start:start + rng.randint(1, 16)]
            data[at:at] = chunk
    return bytes(data)


def check_decodes_or_refuses(compressor, data, size):
    """Returns True when the bytes decoded (then they are checked), False when refused."""
    try:
        message = gradcomp.Message.from_bytes(data)
    except gradcomp.DecodeError:
        return False
    assert bytes(message) == data and len(message) == len(data)
    assert bytes(memoryview(message)) == data
    assert bytes(pickle.loads(pickle.dumps(message))) == data
    context = {"step": message.step}
    try:
        decoded = compressor.decode(message, **context)
    except gradcomp.DecodeError:
        return False
    assert decoded.shape == (size,)
    assert numpy.isfinite(decoded).all()
    if decoded.dtype == numpy.float32:
        out = numpy.ones(size, numpy.float32)
        compressor.decode_add(message, out, weight=0.5, **context)
        numpy.testing.assert_allclose(out, 1 + 0.5 * decoded, rtol=1e-6, atol=1e-6)
    payload_size = compressor.payload_size(size)
    if payload_size is not None and decoded.dtype == numpy.float32:
        payload = numpy.zeros(payload_size, numpy.float32)
        compressor.read_payload(message, payload, size=size, **context)
        assert numpy.isfinite(payload).all()
    return True


@pytest.mark.parametrize("name,spec", fuzz_specs())
def test_mutated_messages_decode_or_raise_decode_error(name, spec):
    seeds = sorted((FUZZ / "corpus" / name).iterdir())
    assert seeds, f"no seed corpus for {name} (make fuzz-corpus)"
    compressors = [gradcomp.Compressor(spec, layout=gradcomp.Layout.from_shapes(shapes))
                   for shapes in LAYOUTS]
    rng = random.Random(f"{name}:2026")
    decoded = refused = 0
    for seed in seeds:
        raw = seed.read_bytes()
        layout = (raw[0] >> 1) % len(LAYOUTS)
        compressor, size = compressors[layout], compressors[layout].layout.size
        for _ in range(MUTATIONS_PER_SEED):
            if check_decodes_or_refuses(compressor, mutate(raw[1:], rng), size):
                decoded += 1
            else:
                refused += 1
    # Both answers were reached: mutations got past the header into the body, and corrupt ones
    # were refused.
    assert decoded > 0 and refused > 0, (decoded, refused)
