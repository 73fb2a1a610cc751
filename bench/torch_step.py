#!/usr/bin/env python3
"""The libtorch step of the default run against the same work written in PyTorch (issue 17).

gradcomp's default run (`gradcomp train` without a config: Fashion-MNIST, MLP 784-128-10, 8
workers, batch 32, DEF kappa = 0.3 with momentum 0.9, RBGS r = 64) for STEPS steps, its
step_seconds / STEPS (evaluations excluded), on workers.threads = 1 and 2. Against it, in this
Python process with torch's intra-op threads at 1 (as gradcomp sets them), a loop doing the same
work per step:
  for each of the 8 workers: its query point z_j = x - kappa e_j copied into the module's
  parameters, its 32 samples gathered from the 60,000 x 784 training images, forward,
  cross-entropy, backward, the gradient copied into row j of an 8 x d tensor;
  then DEF + RBGS on the 8 x d tensors (m = mu m + g, p = gamma m + e, one random block of d/64
  coordinates sent and zeroed in p, e = p, x -= mean of the sent blocks).
It reports the two halves of the PyTorch loop separately (the passes; the update), so the
difference from gradcomp's step can be placed. Fashion-MNIST is read as gradcomp reads it (IDX
files under /usr/share/datasets); the labels and pixels change no timing, only their shapes do.

usage: torch_step.py GRADCOMP [STEPS]   (STEPS default 600)
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

WORKERS, BATCH, HIDDEN, CLASSES, FEATURES = 8, 32, 128, 10, 784
KAPPA, MU, GAMMA, RATIO = 0.3, 0.9, 0.03, 64
FASHION = "/usr/share/datasets/fashion-mnist"


def gradcomp_step(gradcomp, steps, threads):
    with tempfile.TemporaryDirectory() as directory:
        out = os.path.join(directory, "run")
        subprocess.run([gradcomp, "train", "--out", out, "--set", f"run.steps={steps}",
                        "--set", f"run.eval_every={steps}", "--set", f"workers.threads={threads}"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(os.path.join(out, "summary.json")) as f:
            return json.load(f)["final"]["step_seconds"] / steps


def training_images():
    """The 60,000 training images as float32 in [0, 1] (random pixels if the files are missing)."""
    path = os.path.join(FASHION, "train-images-idx3-ubyte.gz")
    if not os.path.exists(path):
        return torch.rand(60000, FEATURES), torch.randint(0, CLASSES, (60000,))
    with gzip.open(path) as f:
        pixels = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, FEATURES)
    with gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(pixels.astype(np.float32) / 255), torch.from_numpy(labels.astype(np.int64))


def pytorch_step(steps):
    torch.set_num_threads(1)
    torch.manual_seed(1)
    images, labels = training_images()
    model = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(),
                                torch.nn.Linear(HIDDEN, CLASSES))
    parameters = list(model.parameters())
    x = torch.nn.utils.parameters_to_vector(parameters).detach().clone()
    d = x.numel()
    errors = torch.zeros(WORKERS, d)
    momenta = torch.zeros(WORKERS, d)
    gradients = torch.zeros(WORKERS, d)
    k = d // RATIO
    generator = np.random.default_rng(2)
    passes = update = 0.0
    for t in range(steps):
        start = time.perf_counter()
        points = x - KAPPA * errors
        for j in range(WORKERS):
            torch.nn.utils.vector_to_parameters(points[j], parameters)
            for p in parameters:
                p.grad = None
            rows = torch.from_numpy(generator.integers(0, images.shape[0], BATCH))
            loss = torch.nn.functional.cross_entropy(model(images[rows]), labels[rows])
            loss.backward()
            gradients[j] = torch.cat([p.grad.reshape(-1) for p in parameters])
            loss.item()
        middle = time.perf_counter()
        momenta.mul_(MU).add_(gradients)
        sent_points = errors.add_(momenta, alpha=GAMMA)  # p = e + gamma m, in e's storage
        begin = int(generator.integers(0, d))
        columns = (begin + torch.arange(k)) % d
        sent = sent_points[:, columns]
        sent_points[:, columns] = 0  # e = p - C(p)
        x[columns] -= sent.mean(dim=0)
        end = time.perf_counter()
        if t >= steps // 10:  # the first tenth warms up
            passes += middle - start
            update += end - middle
    timed = steps - steps // 10
    return passes / timed, update / timed


def main():
    gradcomp = os.path.abspath(sys.argv[1])
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    one = gradcomp_step(gradcomp, steps, 1)
    two = gradcomp_step(gradcomp, steps, 2)
    passes, update = pytorch_step(steps)
    print(f"torch {torch.__version__}, {WORKERS} workers, MLP {FEATURES}-{HIDDEN}-{CLASSES}, batch {BATCH}, "
          f"{steps} steps\n")
    print("| | ms per step |")
    print("|---|---|")
    print(f"| gradcomp default run, 1 thread | {one * 1e3:.3f} |")
    print(f"| gradcomp default run, 2 threads | {two * 1e3:.3f} |")
    print(f"| PyTorch loop: 8 forward/backward passes | {passes * 1e3:.3f} |")
    print(f"| PyTorch loop: DEF + RBGS update | {update * 1e3:.3f} |")
    print(f"| PyTorch loop, total | {(passes + update) * 1e3:.3f} |")
    print(f"\ngradcomp (1 thread) / PyTorch loop: {one / (passes + update):.2f}")


if __name__ == "__main__":
    main()
