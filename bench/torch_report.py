#!/usr/bin/env python3
"""The table of docs/benchmarks.md "PyTorch on a limited link" from bench/torch_netem.sh's
records (the first is the yardstick: DDP's allreduce, measured in the same run).

usage: torch_report.py RATE RECORD.json...
"""
import json
import sys


def row(record, base):
    reached = record["time_to_target_s"] is not None
    lr = record.get("lr")  # records of before the step size was recorded have none
    cells = [record["name"], "–" if lr is None else f"{lr:g}",
             f"{record['bytes_per_step']:,.0f}", f"{record['step_ms']:.2f}",
             f"{record['step_ms'] / base['step_ms']:.2f}"]
    if reached:
        cells += [str(record["step_to_target"]), f"{record['time_to_target_s']:.1f}"]
        cells.append(f"{base['time_to_target_s'] / record['time_to_target_s']:.2f}x"
                     if base["time_to_target_s"] else "–")
    elif record["diverged_at"] is not None:
        cells += [f"diverged at {record['diverged_at'] + 1}", "–", "–"]
    else:
        cells += [f"not in {record['steps']}", "–", "–"]
    cells.append("–" if record["accuracy"] is None else f"{100 * record['accuracy']:.2f}%")
    return "| " + " | ".join(cells) + " |"


def main():
    rate, paths = sys.argv[1], sys.argv[2:]
    records = [json.load(open(p)) for p in paths]
    base = records[0]
    percent = f"{100 * base['target']:.0f}%"
    for key in ("seed", "batch"):  # what the records state of their runs
        values = sorted({str(r[key]) for r in records if r.get(key) is not None})
        if values:
            print(f"{key} {', '.join(values)}")
    print()
    print(f"| {rate}: method | lr | bytes / step / rank | step (ms) | step / {base['name']}'s | "
          f"steps to {percent} | training time to {percent} (s) | sooner than "
          f"{base['name']} | final accuracy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for record in records:
        print(row(record, base))


if __name__ == "__main__":
    main()
