#!/usr/bin/env python3
"""Tables of docs/benchmarks.md "Exchange" from two exchange_bench JSON files.

usage: exchange_report.py LOOPBACK.json LIMITED.json NETWORK
Medians of the repetitions; every ratio compares runs of the same file (the same run).
"""
import json
import statistics
import sys


def load(path):
    runs = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        name = b["run_name"].split("/iterations")[0]
        runs.setdefault(name, []).append(b)
    return {name: {key: statistics.median(r[key] for r in rs) for key in rs[0]
                   if isinstance(rs[0][key], (int, float))} for name, rs in runs.items()}


def allreduce_table(label, runs):
    print(f"| {label}: floats | ring (ms) | MPI_Allreduce (ms) | ring / MPI_Allreduce |")
    print("|---|---|---|---|")
    for m in ("1000000", "25000000"):
        ring = runs.get(f"Allreduce/ring/{m}")
        library = runs.get(f"Allreduce/library/{m}")
        if ring and library:
            print(f"| {int(m):,} | {ring['real_time']:.1f} | {library['real_time']:.1f} | "
                  f"{ring['real_time'] / library['real_time']:.2f} |")
    print()


def step_table(label, runs, network, bits_per_second):
    dense = runs.get("ExchangeStep/dense")
    print(f"| {label}: step on 25M floats | step (ms) | encode (ms) | exchange (ms) | "
          f"bits sent / worker | step / dense step | modelled comm on {network}, per-worker links "
          f"(ms) | shared-medium model (ms) | measured exchange / shared-medium model |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in ("dense", "topk_0.1%", "rbgs_64"):
        r = runs.get(f"ExchangeStep/{kind}")
        if not r:
            continue
        shared = r["total_sent_bits"] / bits_per_second
        print(f"| {kind} | {r['real_time']:.1f} | {1e3 * r['encode_s']:.1f} | "
              f"{1e3 * r['exchange_s']:.1f} | {r['sent_bits']:,.0f} | "
              f"{r['real_time'] / dense['real_time']:.3f} | {1e3 * r['model_comm_s']:.1f} | "
              f"{1e3 * shared:.1f} | {r['exchange_s'] / shared:.2f} |")
    print()


def model_check(loopback, limited, network, bits_per_second):
    """Communication alone = the exchange on the limited link less the same exchange on loopback
    (decode and the aggregate's fill are the same work on both)."""
    print(f"| step on 25M floats | exchange on {network} (ms) | exchange on loopback (ms) | "
          f"communication: difference (ms) | model, shared medium (ms) | difference / model |")
    print("|---|---|---|---|---|---|")
    for kind in ("dense", "topk_0.1%", "rbgs_64"):
        a, b = limited.get(f"ExchangeStep/{kind}"), loopback.get(f"ExchangeStep/{kind}")
        if not (a and b):
            continue
        communication = a["exchange_s"] - b["exchange_s"]
        shared = a["total_sent_bits"] / bits_per_second
        print(f"| {kind} | {1e3 * a['exchange_s']:.1f} | {1e3 * b['exchange_s']:.1f} | "
              f"{1e3 * communication:.1f} | {1e3 * shared:.1f} | {communication / shared:.2f} |")
    print()


def main():
    loopback, limited, network = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
    rate = float(network.split(":")[0][:-4]) * (1e9 if "Gbit" in network else 1e6)
    allreduce_table("loopback (shared memory)", loopback)
    allreduce_table(f"TCP loopback limited to {network}", limited)
    step_table("loopback (shared memory)", loopback, network, rate)
    step_table(f"TCP loopback limited to {network}", limited, network, rate)
    model_check(loopback, limited, network, rate)


if __name__ == "__main__":
    main()
