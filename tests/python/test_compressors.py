"""Every compressor from Python against the command line: the same decoded vector bit for bit, the
same bits on the wire, the same inspect report, the same catalog."""
import json

import numpy
import pytest

import gradcomp
from conftest import random_vector, run_cli

SHAPES = [("fc1.weight", (24, 30)), ("fc1.bias", (24,)), ("fc2.weight", (10, 24)), ("scalar", ())]
SIZE = 24 * 30 + 24 + 10 * 24 + 1

# Every compressor's default spec, and the variants whose wire format differs.
VARIANTS = [
    "identity:values=fp16", "topk:ratio=0.05,scope=layer", "topk:k=0", "topk:k=985",
    "topk:ratio=0.1,index=fixed,values=fp16", "randk:ratio=0.1,shared=false",
    "randk:k=7,unbiased=true,scope=layer", "rbgs:ratio=4,scope=model", "threshold:lambda=1.5",
    "blocksign:block=50", "qsgd:levels=1", "qsgd:levels=127,scope=layer", "qsgd:levels=70000",
    "terngrad:scope=model", "sketch:p=9,kind=gaussian", "round:eps=0.01,bits=6,mode=nearest",
    "powersgd:rank=3,values=fp16", "scale:delta=0.25",
]


def every_spec():
    return [c["default_spec"] for c in gradcomp.list_compressors()] + VARIANTS


def test_every_compressor_of_the_cli_is_covered(cli_catalog):
    names = {spec.split(":")[0] for spec in every_spec()}
    assert names == {c["name"] for c in cli_catalog["compressors"]}
    assert len(names) == 15


def test_catalog_is_the_cli_list(cli_catalog):
    assert gradcomp.list_compressors() == cli_catalog["compressors"]
    assert gradcomp.list_algorithms() == cli_catalog["algorithms"]
    assert gradcomp.list_schedules() == cli_catalog["schedules"]


@pytest.fixture(scope="module")
def layout_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("layout") / "layout.json"
    path.write_text(json.dumps({"layers": [{"name": n, "shape": list(s)} for n, s in SHAPES]}))
    return path


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("spec", every_spec())
def test_decode_of_encode_is_the_cli_output_bit_for_bit(spec, dtype, layout_file, tmp_path):
    x = random_vector(SIZE, dtype, seed=3)
    layout = gradcomp.Layout.from_shapes(SHAPES)
    compressor = gradcomp.Compressor(spec, layout=layout)
    message = compressor.encode(x, seed=7, step=5)
    decoded = compressor.decode(message, seed=7, step=5, dtype=dtype)

    numpy.save(tmp_path / "x.npy", x)
    report = json.loads(run_cli(
        "inspect", "-i", str(tmp_path / "x.npy"), "-c", spec, "--layout", str(layout_file),
        "--seed", "7", "--step", "5", "--repeat", "1", "--json",
        "-o", str(tmp_path / "decoded.npy")).stdout)
    expected = numpy.load(tmp_path / "decoded.npy")

    assert decoded.dtype == expected.dtype == dtype
    assert decoded.tobytes() == expected.tobytes()
    assert message.bits == report["bits"] == 8 * len(bytes(message))
    assert message.payload_bits == report["payload_bits"]
    assert message.length == SIZE and message.step == 5


@pytest.mark.parametrize("spec", ["topk:ratio=0.01", "qsgd:levels=4", "round", "powersgd:rank=1"])
def test_inspect_reports_the_cli_fields_and_numbers(spec, layout_file, tmp_path):
    x = random_vector(SIZE, numpy.float32, seed=4)
    numpy.save(tmp_path / "x.npy", x)
    cli = json.loads(run_cli("inspect", "-i", str(tmp_path / "x.npy"), "-c", spec, "--layout",
                             str(layout_file), "--seed", "2", "--step", "1", "--json").stdout)
    (ours,) = gradcomp.inspect(x, [spec], gradcomp.Layout.from_shapes(SHAPES), seed=2, step=1)
    assert ours.keys() == cli.keys()
    timings = {"encode_seconds", "decode_seconds"}
    assert {k: v for k, v in ours.items() if k not in timings} == \
        {k: v for k, v in cli.items() if k not in timings}
    assert all(ours[k] > 0 for k in timings)


def test_inspect_gives_one_report_per_spec_in_order():
    x = random_vector(1000, numpy.float64)
    reports = gradcomp.inspect(x, ["topk:k=10", "rbgs:ratio=10"])
    assert [r["compressor"] for r in reports] == ["topk:k=10,scope=model,index=auto,values=auto",
                                                  "rbgs:ratio=10,scope=layer,values=auto"]
    assert reports[0]["density"] == 0.01
    assert reports[1]["density"] == 0.1
