#!/usr/bin/env python3
"""Turns compress_bench JSON output into the tables of docs/benchmarks.md.

usage: compress_bench --benchmark_format=json --benchmark_repetitions=N > out.json
       python3 bench/report.py out.json
Ratios use the median of the repetitions, measured in the same run as the yardsticks.
"""
import json
import statistics
import sys

ENCODE_BAR = {"threshold", "sign", "scaledsign", "blocksign_4096", "rbgs_64", "fp16", "qsgd_16",
              "terngrad"}


def medians(path):
    runs = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        name = b["run_name"] if "run_name" in b else b["name"]
        runs.setdefault(name, []).append(b["real_time"])
    return {name: statistics.median(times) for name, times in runs.items()}


def main():
    times = medians(sys.argv[1])
    sizes = sorted({int(n.split("/")[-2]) for n in times if n.startswith("StreamingCopy")})
    print("| kernel | d | time (ms) | speed / streaming copy | bar |")
    print("|---|---|---|---|---|")
    for d in sizes:
        copy = times[f"StreamingCopy/{d}/real_time"]
        print(f"| streaming copy | {d:,} | {copy:.2f} | 1.00 | yardstick |")
        for name, t in sorted(times.items()):
            parts = name.split("/")
            if parts[0] != "Encode" or int(parts[2]) != d:
                continue
            kernel = parts[1]
            bar = ""
            if kernel in ENCODE_BAR and d == 25_000_000:
                bar = "≥ 0.50: " + ("met" if copy / t >= 0.5 else "**missed**")
            print(f"| encode {kernel} | {d:,} | {t:.2f} | {copy / t:.2f} | {bar} |")
    print()
    print("| Top-k | d | nth_element on abs (ms) | select (ms) | encode (ms) | select speed-up | encode speed-up | bar (≥ 10×, d = 25M) |")
    print("|---|---|---|---|---|---|---|---|")
    for d in sizes:
        for density, tag, enc in (("0.1%", "0_1pct", "topk_0_1pct"), ("1%", "1pct", "topk_1pct")):
            nth = times[f"NthElementAbs/{tag}/{d}/real_time"]
            sel = times[f"SelectTopK/{tag}/{d}/real_time"]
            e = times[f"Encode/{enc}/{d}/real_time"]
            bar = ("met" if nth / e >= 10 else "**missed**") if d == 25_000_000 else ""
            print(f"| {density} | {d:,} | {nth:.2f} | {sel:.2f} | {e:.2f} | {nth / sel:.1f}× | {nth / e:.1f}× | {bar} |")


if __name__ == "__main__":
    main()
