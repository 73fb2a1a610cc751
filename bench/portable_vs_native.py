#!/usr/bin/env python3
"""Table of bench/portable_vs_native.sh: PORTABLE.json... -- NATIVE.json... (compress_bench
JSON, one file per round). Each time is the median over the rounds; the ratio divides the
native time by the portable one (1.00: the portable build is as fast; 0.90: 10% slower)."""
import json
import statistics
import sys


def medians(paths):
    runs = {}
    for path in paths:
        for b in json.load(open(path))["benchmarks"]:
            name = b["run_name"] if "run_name" in b else b["name"]
            runs.setdefault(name, []).append(b["real_time"])
    return {name: statistics.median(times) for name, times in runs.items()}


def main():
    split = sys.argv.index("--")
    portable, native = medians(sys.argv[1:split]), medians(sys.argv[split + 1:])
    print("| kernel | d | portable (ms) | native (ms) | native / portable |")
    print("|---|---|---|---|---|")
    for name in sorted(portable, key=lambda n: (int(n.split("/")[-2]), n)):
        parts = name.split("/")
        label = "streaming copy" if parts[0] == "StreamingCopy" else f"encode {parts[1]}"
        d = int(parts[-2])
        p, n = portable[name], native[name]
        print(f"| {label} | {d:,} | {p:.2f} | {n:.2f} | {n / p:.2f} |")


if __name__ == "__main__":
    main()
