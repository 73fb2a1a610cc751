#!/usr/bin/env python3
"""Table of bench/portable_vs_native.sh: PORTABLE.json... -- NATIVE.json... (compress_bench JSON,
one file per kernel and round, each with the streaming copy measured in the same process).

Per kernel and size: the median time over the rounds in each build, their ratio (native time /
portable time: 1.00 = as fast, 0.90 = the portable build takes 11% longer), and the same ratio
after dividing each time by the streaming copy of its own process (which removes what a process
inherits from the machine's state at the moment, the copy's code being the same in both builds).
"""
import json
import statistics
import sys


def collect(paths):
    """{(kernel, d): ([times], [times / copy of the same process])}"""
    runs = {}
    for path in paths:
        times = {}
        for b in json.load(open(path))["benchmarks"]:
            parts = b["run_name"].split("/")
            kernel = "streaming copy" if parts[0] == "StreamingCopy" else f"encode {parts[1]}"
            times[(kernel, int(parts[-2]))] = b["real_time"]
        for (kernel, d), t in times.items():
            raw, normalised = runs.setdefault((kernel, d), ([], []))
            raw.append(t)
            normalised.append(t / times[("streaming copy", d)])
    return runs


def main():
    split = sys.argv.index("--")
    portable, native = collect(sys.argv[1:split]), collect(sys.argv[split + 1:])
    print("| kernel | d | portable (ms) | native (ms) | native / portable | the same, per copy |")
    print("|---|---|---|---|---|---|")
    for key in sorted(portable, key=lambda k: (k[1], k[0] != "streaming copy", k[0])):
        p_raw, p_norm = (statistics.median(v) for v in portable[key])
        n_raw, n_norm = (statistics.median(v) for v in native[key])
        print(f"| {key[0]} | {key[1]:,} | {p_raw:.2f} | {n_raw:.2f} | {n_raw / p_raw:.2f} | "
              f"{n_norm / p_norm:.2f} |")


if __name__ == "__main__":
    main()
