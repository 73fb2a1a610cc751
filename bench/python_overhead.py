#!/usr/bin/env python3
"""The Python module's cost over the C++ library (docs/benchmarks.md, "Python overhead").

usage: PYTHONPATH=BUILD/python python3 bench/python_overhead.py BUILD [ROUNDS]

Times `Compressor.encode` from Python for Top-k 1% and blocksign (4,096-element blocks) on 1,024,
1M and 25M standard-normal float32 numbers, and runs BUILD/bench/compress_bench for the same
kernels, alternating the two ROUNDS times (default 3) so both see the same load. Both encode with
seed 7 at a new step each call; the C++ benchmark reuses one Message, Python makes a new one per
call (as `c.encode(x)` does). Prints one table row per case: medians over the rounds, the ratio,
and the difference per call.
"""
import json
import statistics
import subprocess
import sys
import time

import numpy

import gradcomp

CASES = [("topk_1pct", "topk:ratio=0.01"), ("blocksign_4096", "blocksign:block=4096")]
SIZES = [1024, 1 << 20, 25_000_000]
MIN_SECONDS = 0.5


def python_seconds(spec, x):
    """Median seconds per call over batches filling MIN_SECONDS, after a warm-up call."""
    compressor = gradcomp.Compressor(spec)
    compressor.encode(x, seed=7, step=0)
    per_call, step, spent = [], 1, 0.0
    batch = max(1, int(2e5 // x.size))  # ~1 ms batches at small sizes
    while spent < MIN_SECONDS or len(per_call) < 5:
        start = time.perf_counter()
        for _ in range(batch):
            compressor.encode(x, seed=7, step=step)
            step += 1
        elapsed = time.perf_counter() - start
        per_call.append(elapsed / batch)
        spent += elapsed
    return statistics.median(per_call)


def cpp_seconds(build):
    """Seconds per call of compress_bench's Encode for the same cases (median of its repetitions)."""
    pattern = "|".join(name for name, _ in CASES)
    sizes = "|".join(str(d) for d in SIZES)
    out = subprocess.run(
        [f"{build}/bench/compress_bench", f"--benchmark_filter=^Encode/({pattern})/({sizes})/",
         f"--benchmark_min_time={MIN_SECONDS}", "--benchmark_repetitions=3",
         "--benchmark_format=json"], capture_output=True, text=True, check=True).stdout
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    runs = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        _, name, d = b["run_name"].split("/")[:3]
        runs.setdefault((name, int(d)), []).append(b["real_time"] * unit[b["time_unit"]])
    return {key: statistics.median(times) for key, times in runs.items()}


def main():
    build = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rng = numpy.random.default_rng(1)
    vectors = {d: rng.standard_normal(d, dtype=numpy.float32) for d in SIZES}
    py, cpp = {}, {}
    for _ in range(rounds):
        for key, seconds in cpp_seconds(build).items():
            cpp.setdefault(key, []).append(seconds)
        for name, spec in CASES:
            for d in SIZES:
                py.setdefault((name, d), []).append(python_seconds(spec, vectors[d]))
    print(f"gradcomp {gradcomp.__version__}, kernels: {gradcomp.simd_target()}, {rounds} rounds")
    print("| encode | d | C++ (ms) | Python (ms) | Python / C++ | Python − C++ per call (µs) |")
    print("|---|---|---|---|---|---|")
    for name, _ in CASES:
        for d in SIZES:
            c, p = statistics.median(cpp[(name, d)]), statistics.median(py[(name, d)])
            print(f"| {name} | {d:,} | {1e3 * c:.4f} | {1e3 * p:.4f} | {p / c:.3f} | "
                  f"{1e6 * (p - c):.2f} |")


if __name__ == "__main__":
    main()
