#!/usr/bin/env python3
"""The table of docs/benchmarks.md "The exchange on an emulated cluster".

usage: cluster_report.py OUT_DIR HOSTS:RATE:NETWORK ...
Reads OUT_DIR/cluster-HOSTS-RATE.json (exchange_bench's Transport benchmarks, JSON): the measured
transport of one step against model_comm_s, the α–β model of per-host full-duplex links
(docs/exchange.md). Medians over the repetitions.
"""
import json
import statistics
import sys

STEPS = ("dense", "topk_0.1%", "topk_1%", "rbgs_64", "server_blocksign")


def load(path):
    runs = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        runs.setdefault(b["run_name"].split("/iterations")[0], []).append(b)
    return {name: {key: statistics.median(r[key] for r in rs) for key in rs[0]
                   if isinstance(rs[0][key], (int, float))} for name, rs in runs.items()}


def main():
    out, runs = sys.argv[1], sys.argv[2:]
    print("| hosts | link | step | one message (bytes) | transport (ms) | model, per-host links "
          "(ms) | transport / model |")
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        hosts, rate, network = run.split(":")
        measured = load(f"{out}/cluster-{hosts}-{rate}.json")
        for step in STEPS:
            r = measured.get(f"Transport/{step}")
            if not r:
                continue
            model = r["model_comm_s"]
            print(f"| {hosts} | {network} | {step} | {r['message_bytes']:,.0f} | "
                  f"{r['real_time']:.1f} | {1e3 * model:.1f} | {r['real_time'] / (1e3 * model):.2f} |")


if __name__ == "__main__":
    main()
