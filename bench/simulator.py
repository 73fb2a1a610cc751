#!/usr/bin/env python3
"""The in-process simulator against a NumPy loop doing the same update (docs/benchmarks.md).

S004's logistic-regression setting: 6,000 x 5,000 dense float32 data (madelon-shaped, 7,500
generated, 20% held out), 20 workers with contiguous shards, batch 1, gamma = 1/L, 3,000 steps.
For each setting gradcomp runs with workers.threads = 1 and 2 (its step_seconds: steps only, no
evaluation, no start-up) and the NumPy reference runs the same update vectorised over the workers
(no message encoding), in this one run; worker-steps per second for each and the ratios.

  ef-scaled + threshold at three lambdas (densities about 30%, 0.8%, 0.13%): the reference's
  lambda is calibrated first (untimed) to keep the density gradcomp measured;
  def + rbgs:ratio=64 (kappa 0.3); dist-ef-blocksgdm (one block, momentum 0.9).

usage: simulator.py GRADCOMP [STEPS]     (STEPS default 3000)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

WORKERS = 20
SAMPLES, FEATURES = 6000, 5000  # the training split of 7,500 generated

BASE = """
[data]
source = "generate"
generator = "madelon:samples=7500,features=5000,informative=20,redundant=50"
partition = "contiguous"
[model]
name = "logistic:l2=-1"
init = "optimum:offset=0.05"
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


def run_gradcomp(gradcomp, directory, overrides, steps, threads):
    out = os.path.join(directory, f"run-{len(os.listdir(directory))}")
    config = os.path.join(directory, "base.toml")
    with open(config, "w") as f:
        f.write(BASE)
    command = [gradcomp, "train", config, "--out", out, "--set", f"run.steps={steps}",
               "--set", f"run.eval_every={steps}", "--set", f"workers.threads={threads}"]
    for o in overrides:
        command += ["--set", o]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    return summary


def sigmoid_coefficient(y, z):
    return -y / (1.0 + np.exp(y * z))  # -y sigma(-y z), the logistic loss's derivative


class Problem:
    def __init__(self, seed=1):
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((SAMPLES, FEATURES), dtype=np.float32)
        w = rng.standard_normal(FEATURES).astype(np.float32)
        self.y = np.where(self.X @ w + rng.standard_normal(SAMPLES) > 0, 1.0, -1.0).astype(np.float32)
        # L = lambda_max(A^T A) / (4N) by a few power rounds (untimed), l2 = 1e-4 of it.
        v = np.ones(FEATURES, np.float32) / np.sqrt(FEATURES)
        for _ in range(30):
            u = self.X.T @ (self.X @ v)
            v = u / np.linalg.norm(u)
        curvature = float(np.linalg.norm(self.X.T @ (self.X @ v))) / (4 * SAMPLES)
        self.l2 = 1e-4 * curvature
        self.gamma = np.float32(1.0 / (curvature + self.l2))
        shard = SAMPLES // WORKERS
        self.starts = np.arange(WORKERS) * shard
        self.shard = shard

    def batches(self, steps, seed=2):
        rng = np.random.default_rng(seed)
        return self.starts + rng.integers(0, self.shard, size=(steps, WORKERS))


def ef_threshold(p, steps, lam, batches):
    """ef-scaled + hard threshold; returns (seconds, mean density)."""
    X, y, gamma, l2 = p.X, p.y, p.gamma, np.float32(p.l2)
    x = np.zeros(FEATURES, np.float32)
    E = np.zeros((WORKERS, FEATURES), np.float32)
    cut = np.float32(gamma * lam)
    kept = 0
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
        kept += int(np.count_nonzero(keep))
    return time.perf_counter() - start, kept / (steps * WORKERS * FEATURES)


def calibrate_lambda(p, density, batches):
    """The reference's lambda for gradcomp's density: bisection on log lambda over 300 steps."""
    low, high = 1e-4, 1e3
    for _ in range(18):
        middle = float(np.sqrt(low * high))
        _, measured = ef_threshold(p, 300, middle, batches)
        if measured > density:
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


def main():
    gradcomp = os.path.abspath(sys.argv[1])
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    worker_steps = steps * WORKERS
    problem = Problem()
    batches = problem.batches(steps)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        settings = [(f"ef-scaled + threshold, lambda = {lam}", [f'compressor.spec="threshold:lambda={lam}"'], lam)
                    for lam in (0.01, 1, 3)]
        settings += [("def + rbgs:ratio=64", ['algorithm.name="def"', 'compressor.spec="rbgs:ratio=64"'], None),
                     ("dist-ef-blocksgdm", ['algorithm.name="dist-ef-blocksgdm"'], None)]
        run_gradcomp(gradcomp, directory, settings[0][1], 10, 1)  # caches L and f* (untimed)
        for label, overrides, lam in settings:
            one = run_gradcomp(gradcomp, directory, overrides, steps, 1)
            two = run_gradcomp(gradcomp, directory, overrides, steps, 2)
            density = one["final"].get("density")
            if lam is not None:
                reference_lambda = calibrate_lambda(problem, density, batches)
                seconds, reference_density = ef_threshold(problem, steps, reference_lambda, batches)
            elif label.startswith("def"):
                seconds, reference_density = def_rbgs(problem, steps, batches), None
            else:
                seconds, reference_density = dist_ef_blocksgdm(problem, steps, batches), None
            rows.append((label, density, reference_density, one["final"]["step_seconds"],
                         two["final"]["step_seconds"], seconds, one.get("start_seconds")))
        cached = run_gradcomp(gradcomp, directory, settings[0][1], 10, 2)
    print(f"{WORKERS} workers, {steps} steps ({worker_steps:,} worker-steps), numpy {np.__version__}\n")
    print("| setting | density (gradcomp / numpy) | gradcomp 1 thread (s) | gradcomp 2 threads (s) "
          "| numpy (s) | worker-steps/s: 2 threads / numpy | vs numpy, 1 thread | vs numpy, 2 threads "
          "| 2 threads / 1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, density, reference_density, one, two, numpy_seconds, _ in rows:
        densities = "—" if reference_density is None else f"{density:.2%} / {reference_density:.2%}"
        print(f"| {label} | {densities} | {one:.3f} | {two:.3f} | {numpy_seconds:.3f} | "
              f"{worker_steps / two:,.0f} / {worker_steps / numpy_seconds:,.0f} | "
              f"{numpy_seconds / one:.2f}x | {numpy_seconds / two:.2f}x | {one / two:.2f}x |")
    print(f"\nstart-up of a cached rerun (data loaded to first step): {cached['start_seconds']:.3f} s; "
          f"data generation {cached['load_seconds']:.3f} s")


if __name__ == "__main__":
    main()
