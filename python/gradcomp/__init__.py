"""gradcomp: gradient compressors with exact wire formats, from Python.

The compressors, their messages and the catalog are the C++ library's (no second implementation):
see docs/python.md.

    import gradcomp, numpy
    c = gradcomp.Compressor("topk:ratio=0.01")
    m = c.encode(numpy.random.randn(1000).astype(numpy.float32))
    print(m.bits, c.decode(m)[:5])
"""
from ._gradcomp import (  # noqa: F401
    Compressor,
    DecodeError,
    Layout,
    Message,
    Optimizer,
    __version__,
    inspect,
    list_algorithms,
    list_compressors,
    list_schedules,
    simd_target,
)

__all__ = [
    "Compressor",
    "DecodeError",
    "Layout",
    "Message",
    "Optimizer",
    "inspect",
    "list_algorithms",
    "list_compressors",
    "list_schedules",
    "simd_target",
]
