#!/usr/bin/env python3
"""The Python module's cost over the C++ library (docs/benchmarks.md, "Python overhead").

usage: PYTHONPATH=BUILD/python python3 bench/python_overhead.py BUILD [ROUNDS]

Times `Compressor.encode` from Python for Top-k 1% and blocksign (4,096-element blocks) on 1,024,
1M and 25M standard-normal float32 numbers, and runs BUILD/bench/compress_bench for the same
kernel and size right before or after it (the order alternates between rounds), ROUNDS times
(default 3), so that both see the same load. Both encode with
seed 7 at a new step each call. The C++ benchmark reuses one Message, and so does the Python
column compared with it (`c.encode(x, out=m)`); the last column makes a new message per call
(`c.encode(x)`), which costs the allocation (and, on this VM, the page faults) of its bytes.
Prints one table row per case: medians over the rounds, the ratio, the difference per call.
Last, that encode releases the GIL: 2 × 20 QSGD encodes of 25M floats (one Compressor each) in
one thread, then in two.
"""
import json
import statistics
import subprocess
import sys
import threading
import time

import numpy

import gradcomp

CASES = [("topk_1pct", "topk:ratio=0.01"), ("blocksign_4096", "blocksign:block=4096")]
SIZES = [1024, 1 << 20, 25_000_000]
MIN_SECONDS = 0.5


def python_seconds(spec, x, reuse):
    """Median seconds per call over batches filling MIN_SECONDS, after a warm-up call."""
    compressor = gradcomp.Compressor(spec)
    message = compressor.encode(x, seed=7, step=0)
    out = message if reuse else None
    per_call, step, spent = [], 1, 0.0
    batch = max(1, int(2e5 // x.size))  # ~1 ms batches at small sizes
    while spent < MIN_SECONDS or len(per_call) < 5:
        start = time.perf_counter()
        for _ in range(batch):
            compressor.encode(x, seed=7, step=step, out=out)
            step += 1
        elapsed = time.perf_counter() - start
        per_call.append(elapsed / batch)
        spent += elapsed
    return statistics.median(per_call)


def two_threads_speedup(x, calls=20):
    """Seconds for 2 × calls encodes in one thread over the same in two threads."""
    compressors = [gradcomp.Compressor("qsgd:levels=16") for _ in range(2)]
    messages = [c.encode(x) for c in compressors]

    def work(i):
        for step in range(calls):
            compressors[i].encode(x, step=step, out=messages[i])

    start = time.perf_counter()
    work(0)
    work(1)
    one = time.perf_counter() - start
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return one, time.perf_counter() - start


def cpp_seconds(build, name, d):
    """Seconds per call of compress_bench's Encode/name/d (median of its 3 repetitions)."""
    out = subprocess.run(
        [f"{build}/bench/compress_bench", f"--benchmark_filter=^Encode/{name}/{d}/",
         f"--benchmark_min_time={MIN_SECONDS}", "--benchmark_repetitions=3",
         "--benchmark_format=json"], capture_output=True, text=True, check=True).stdout
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    return statistics.median(b["real_time"] * unit[b["time_unit"]]
                             for b in json.loads(out)["benchmarks"]
                             if b.get("run_type") != "aggregate")


def main():
    build = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rng = numpy.random.default_rng(1)
    vectors = {d: rng.standard_normal(d, dtype=numpy.float32) for d in SIZES}
    py, fresh, cpp = {}, {}, {}
    for round_ in range(rounds):
        for name, spec in CASES:
            for d in SIZES:
                if round_ % 2 == 0:
                    cpp.setdefault((name, d), []).append(cpp_seconds(build, name, d))
                py.setdefault((name, d), []).append(python_seconds(spec, vectors[d], True))
                fresh.setdefault((name, d), []).append(python_seconds(spec, vectors[d], False))
                if round_ % 2 == 1:
                    cpp.setdefault((name, d), []).append(cpp_seconds(build, name, d))
    print(f"gradcomp {gradcomp.__version__}, kernels: {gradcomp.simd_target()}, {rounds} rounds")
    print("| encode | d | C++ (ms) | Python, out=m (ms) | Python / C++ | Python − C++ per call (µs) "
          "| Python, new message (ms) |")
    print("|---|---|---|---|---|---|---|")
    for name, _ in CASES:
        for d in SIZES:
            c, p = statistics.median(cpp[(name, d)]), statistics.median(py[(name, d)])
            f = statistics.median(fresh[(name, d)])
            print(f"| {name} | {d:,} | {1e3 * c:.4f} | {1e3 * p:.4f} | {p / c:.3f} | "
                  f"{1e6 * (p - c):.2f} | {1e3 * f:.4f} |")
    one, two = two_threads_speedup(vectors[25_000_000])
    print(f"\nGIL released: 2 × 20 QSGD encodes of 25M floats, one thread {one:.2f} s, two threads "
          f"{two:.2f} s: {one / two:.2f}×")


if __name__ == "__main__":
    main()
