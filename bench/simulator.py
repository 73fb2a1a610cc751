#!/usr/bin/env python3
"""The in-process simulator against a NumPy loop doing the same update (docs/benchmarks.md).

S004's logistic-regression setting: 6,000 x 5,000 dense float32 data (Gaussian features, labels
from a noisy hyperplane; written as .npy and read by gradcomp with data.source = "npy", so both
train on the same matrix), 20 workers with contiguous shards, batch 1, x0 = 0, gamma = 1/L
(L = gradcomp's, read from its summary), 3,000 steps.
For each setting gradcomp runs with workers.threads = 1 and 2 (its step_seconds: steps only, no
evaluation, no start-up) and the NumPy reference runs the same update vectorised over the workers
(no message encoding), in this one run; worker-steps per second for each and the ratios. The
yardstick for 2 threads / 1: two 1-thread runs at once, pinned to two cores, which share nothing;
their joint worker-steps per second against one run's alone is what two cores give this workload
in that minute (on a shared VM the second core is often slower under load). Where the build has
bench/pool_bench, the cost of handing a cache line between the two threads is printed before and
after the runs: every signal between the pool's threads pays it.

  ef-scaled + threshold at the three densities of issue 17 (32%, 1.2%, 0.15%): lambda is found
  by bisection on short NumPy runs (untimed), then both run with it; the mean densities over the
  run (every 100th step) are printed side by side; def + rbgs:ratio=64 (kappa 0.3);
  dist-ef-blocksgdm (one block, momentum 0.9).

The machine is shared and its speed moves from minute to minute (the same 3,000 steps took 0.41
and 0.58 s in two consecutive runs): each side runs REPEATS times (default 3), alternating, and the
fastest run of each is compared.

usage: simulator.py GRADCOMP [STEPS]     (STEPS default 3000; REPEATS in the environment)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

WORKERS = 20
DENSITY_EVERY = 100  # steps between density samples (gradcomp's evaluations: not in step_seconds)
SAMPLES, FEATURES = 6000, 5000  # the training split of 7,500 generated

BASE = """
[data]
source = "npy"
train = "{directory}/train.npy"
train_labels = "{directory}/train_labels.npy"
test = "{directory}/test.npy"
test_labels = "{directory}/test_labels.npy"
partition = "contiguous"
[model]
name = "logistic:l2=-1"
[workers]
n = 20
[algorithm]
name = "ef-scaled"
lr = 1
lr_unit = "1/L"
[run]
batch = 1
precision = "float"
"""


def start_gradcomp(gradcomp, directory, overrides, steps, threads, core=None):
    """Starts a `gradcomp train` (pinned to `core` if given); returns (process, output directory)."""
    out = os.path.join(directory, f"run-{len(os.listdir(directory))}")
    os.makedirs(out)
    config = os.path.join(directory, "base.toml")
    with open(config, "w") as f:
        f.write(BASE.format(directory=directory))
    command = [gradcomp, "train", config, "--out", os.path.join(out, "run"), "--set",
               f"run.steps={steps}", "--set", f"run.eval_every={DENSITY_EVERY}", "--set",
               f"workers.threads={threads}"]
    for o in overrides:
        command += ["--set", o]
    pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=pin)
    return process, os.path.join(out, "run")


def finish_gradcomp(process, out):
    if process.wait() != 0:
        raise SystemExit(f"gradcomp train failed (exit {process.returncode}); its output is {out}")
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(out, "metrics.jsonl")) as f:
        densities = [r["density"] for r in map(json.loads, f) if r["step"] > 0 and r.get("density") is not None]
    summary["mean_density"] = float(np.mean(densities)) if densities else None
    return summary


def run_gradcomp(gradcomp, directory, overrides, steps, threads):
    return finish_gradcomp(*start_gradcomp(gradcomp, directory, overrides, steps, threads))


def run_pair(gradcomp, directory, overrides, steps):
    """Two 1-thread runs at once, one on each of the first two cores: the step time of the slower.
    What two cores give this workload when the runs share nothing (no data, no synchronisation):
    the ceiling a 2-thread run is measured against, in the same minute."""
    cores = sorted(os.sched_getaffinity(0))[:2]
    started = [start_gradcomp(gradcomp, directory, overrides, steps, 1, core) for core in cores]
    for process, _ in started:
        process.wait()  # both end before either is checked: no run is left behind on a failure
    return max(finish_gradcomp(*run)["final"]["step_seconds"] for run in started)


def sigmoid_coefficient(y, z):
    # -y sigma(-y z), the logistic loss's derivative; sigma(u) = (1 + tanh(u/2))/2 never overflows
    return -y * 0.5 * (1.0 + np.tanh(-0.5 * y * z))


class Problem:
    """The data, written for gradcomp; L and l2 are set from gradcomp's summary."""

    def __init__(self, directory, seed=1):
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((SAMPLES, FEATURES), dtype=np.float32)
        w = np.zeros(FEATURES, np.float32)
        w[:20] = rng.standard_normal(20)  # 20 informative features, as madelon
        labels = (self.X @ w + 0.5 * rng.standard_normal(SAMPLES) > 0).astype(np.float32)
        self.y = 2 * labels - 1
        np.save(os.path.join(directory, "train.npy"), self.X)
        np.save(os.path.join(directory, "train_labels.npy"), labels)
        np.save(os.path.join(directory, "test.npy"), self.X[:200])
        np.save(os.path.join(directory, "test_labels.npy"), labels[:200])
        self.l2 = 0.0
        self.gamma = np.float32(0)
        shard = SAMPLES // WORKERS
        self.starts = np.arange(WORKERS) * shard
        self.shard = shard

    def use_constants(self, summary):
        self.l2 = summary["optimum"]["strong_convexity"]
        self.gamma = np.float32(1.0 / summary["optimum"]["smoothness"])

    def batches(self, steps, seed=2):
        rng = np.random.default_rng(seed)
        return self.starts + rng.integers(0, self.shard, size=(steps, WORKERS))


def ef_threshold(p, steps, lam, batches):
    """ef-scaled + hard threshold; returns (seconds, mean density of every 100th step)."""
    X, y, gamma, l2 = p.X, p.y, p.gamma, np.float32(p.l2)
    x = np.zeros(FEATURES, np.float32)
    E = np.zeros((WORKERS, FEATURES), np.float32)
    cut = np.float32(gamma * lam)
    densities = []
    start = time.perf_counter()
    for t in range(steps):
        rows = batches[t]
        A = X[rows]
        coefficient = sigmoid_coefficient(y[rows], A @ x).astype(np.float32)
        P = E + gamma * (coefficient[:, None] * A + l2 * x)
        keep = np.abs(P) >= cut
        D = np.where(keep, P, np.float32(0))
        E = P - D
        x -= D.mean(axis=0)
        if (t + 1) % DENSITY_EVERY == 0:
            densities.append(np.count_nonzero(keep) / (WORKERS * FEATURES))
    seconds = time.perf_counter() - start
    return seconds, float(np.mean(densities)) if densities else 0.0


def lambda_for(p, density, batches):
    """lambda giving `density` on 400 NumPy steps: bisection on log lambda (untimed)."""
    low, high = 1e-5, 1e3
    for _ in range(20):
        middle = float(np.sqrt(low * high))
        if ef_threshold(p, 400, middle, batches)[1] > density:
            low = middle
        else:
            high = middle
    return float(np.sqrt(low * high))


def def_rbgs(p, steps, batches, ratio=64, kappa=np.float32(0.3)):
    X, y, gamma, l2 = p.X, p.y, p.gamma, np.float32(p.l2)
    x = np.zeros(FEATURES, np.float32)
    E = np.zeros((WORKERS, FEATURES), np.float32)
    k = FEATURES // ratio
    block_starts = np.random.default_rng(3).integers(0, FEATURES, size=steps)
    offsets = np.arange(k)
    start = time.perf_counter()
    for t in range(steps):
        rows = batches[t]
        A = X[rows]
        points = x - kappa * E
        z = np.einsum("ij,ij->i", A, points)
        coefficient = sigmoid_coefficient(y[rows], z).astype(np.float32)
        P = gamma * (coefficient[:, None] * A + l2 * points) + E
        columns = (block_starts[t] + offsets) % FEATURES
        sent = P[:, columns]
        P[:, columns] = 0
        E = P
        x[columns] -= sent.mean(axis=0)
    return time.perf_counter() - start


def blocksign(P):
    scale = np.abs(P).mean(axis=-1, keepdims=True)
    return np.where(P >= 0, scale, -scale).astype(np.float32)


def dist_ef_blocksgdm(p, steps, batches, mu=np.float32(0.9)):
    X, y, gamma, l2 = p.X, p.y, p.gamma, np.float32(p.l2)
    x = np.zeros(FEATURES, np.float32)
    E = np.zeros((WORKERS, FEATURES), np.float32)
    M = np.zeros((WORKERS, FEATURES), np.float32)
    server_error = np.zeros(FEATURES, np.float32)
    start = time.perf_counter()
    for t in range(steps):
        rows = batches[t]
        A = X[rows]
        coefficient = sigmoid_coefficient(y[rows], A @ x).astype(np.float32)
        G = coefficient[:, None] * A + l2 * x
        M = mu * M + G
        P = mu * M + G + E
        D = blocksign(P)
        E = P - D
        q = D.mean(axis=0) + server_error
        answer = blocksign(q)
        server_error = q - answer
        x -= gamma * answer
    return time.perf_counter() - start


def hand_off_costs(gradcomp):
    """bench/pool_bench's hand-off of a cache line between two threads (ns) and a 2-thread pool
    round of empty tasks (µs), if the build has it: the fixed costs a 2-thread step pays, which
    on a shared VM change with where the host puts its two cores."""
    bench = os.path.join(os.path.dirname(gradcomp), "bench", "pool_bench")
    if not os.path.exists(bench) or len(os.sched_getaffinity(0)) < 2:
        return None
    result = subprocess.run([bench, "--benchmark_filter=HandOff|PoolRound/2",
                             "--benchmark_min_time=0.2", "--benchmark_format=json"],
                            check=True, capture_output=True, text=True)
    counters = {b["name"].split("/")[0]: b for b in json.loads(result.stdout)["benchmarks"]}
    return counters["HandOff"]["ns_per_hand_off"], counters["PoolRound"]["us_per_round"]


def main():
    gradcomp = os.path.abspath(sys.argv[1])
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    worker_steps = steps * WORKERS
    rows = []
    costs_before = hand_off_costs(gradcomp)
    with tempfile.TemporaryDirectory() as directory:
        problem = Problem(directory)
        batches = problem.batches(steps)
        problem.use_constants(run_gradcomp(gradcomp, directory, [], 10, 1))  # caches L and f*
        settings = []
        for target in (0.32, 0.012, 0.0015):
            lam = float(f"{lambda_for(problem, target, batches):.3g}")
            settings.append((f"ef-scaled + threshold, lambda = {lam:g} (target {target:.2%})",
                             [f'compressor.spec="threshold:lambda={lam}"'], lam))
        settings += [("def + rbgs:ratio=64", ['algorithm.name="def"', 'compressor.spec="rbgs:ratio=64"'], None),
                     ("dist-ef-blocksgdm", ['algorithm.name="dist-ef-blocksgdm"'], None)]
        repeats = int(os.environ.get("REPEATS", "3"))
        two_cores = len(os.sched_getaffinity(0)) >= 2
        for label, overrides, lam in settings:
            ones, twos, pairs, references = [], [], [], []
            for _ in range(repeats):
                one = run_gradcomp(gradcomp, directory, overrides, steps, 1)
                two = run_gradcomp(gradcomp, directory, overrides, steps, 2)
                if two_cores:
                    pairs.append(run_pair(gradcomp, directory, overrides, steps))
                if lam is not None:
                    seconds, reference_density = ef_threshold(problem, steps, lam, batches)
                elif label.startswith("def"):
                    seconds, reference_density = def_rbgs(problem, steps, batches), None
                else:
                    seconds, reference_density = dist_ef_blocksgdm(problem, steps, batches), None
                ones.append(one["final"]["step_seconds"])
                twos.append(two["final"]["step_seconds"])
                references.append(seconds)
            rows.append((label, one["mean_density"], reference_density, min(ones), min(twos),
                         min(references), min(pairs) if pairs else None))
        cached = run_gradcomp(gradcomp, directory, settings[0][1], 10, 2)
    print(f"{WORKERS} workers, {steps} steps ({worker_steps:,} worker-steps), numpy {np.__version__}, "
          f"fastest of {int(os.environ.get('REPEATS', '3'))} runs each\n")
    print("| setting | density (gradcomp / numpy) | gradcomp 1 thread (s) | gradcomp 2 threads (s) "
          "| numpy (s) | worker-steps/s: 2 threads / numpy | vs numpy, 1 thread | vs numpy, 2 threads "
          "| 2 threads / 1 | two 1-thread runs at once: slower (s) | their worker-steps/s / one run's |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, density, reference_density, one, two, numpy_seconds, pair in rows:
        densities = "—" if reference_density is None else f"{density:.2%} / {reference_density:.2%}"
        pair_columns = "— | —" if pair is None else f"{pair:.3f} | {2 * one / pair:.2f}x"
        print(f"| {label} | {densities} | {one:.3f} | {two:.3f} | {numpy_seconds:.3f} | "
              f"{worker_steps / two:,.0f} / {worker_steps / numpy_seconds:,.0f} | "
              f"{numpy_seconds / one:.2f}x | {numpy_seconds / two:.2f}x | {one / two:.2f}x | "
              f"{pair_columns} |")
    print(f"\nstart-up of a cached rerun (data loaded to first step): {cached['start_seconds']:.3f} s; "
          f"data load {cached['load_seconds']:.3f} s")
    costs_after = hand_off_costs(gradcomp)
    if costs_before and costs_after:
        print(f"a cache line handed between the two threads: {costs_before[0]:.0f} ns before the runs, "
              f"{costs_after[0]:.0f} ns after; a 2-thread pool round of 20 empty tasks: "
              f"{costs_before[1]:.2f} / {costs_after[1]:.2f} us (bench/pool_bench)")


if __name__ == "__main__":
    main()
