"""Save one gradient of a PyTorch model for `gradcomp inspect` (README's quickstart).

Writes grad.npy (the gradient, every parameter flattened in named_parameters() order, float32)
and layout.json (the parameters' names and shapes, docs/cli.md), so that

    gradcomp inspect --input grad.npy --layout layout.json -c topk:ratio=0.001 -c blocksign

reports what each compressor would send for it, layer by layer where it works per layer. Put
your own model and batch in place of the small convolutional network and random images below.

    python3 examples/save_gradient.py [--out DIRECTORY]
"""
import argparse
import json
import os

import numpy as np
import torch


def small_network():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(16 * 4 * 4, 120), torch.nn.ReLU(), torch.nn.Linear(120, 10))


def save_gradient(model, directory):
    """Writes the model's current .grad as grad.npy and its parameters as layout.json."""
    named = [(name, p) for name, p in model.named_parameters() if p.grad is not None]
    gradient = torch.cat([p.grad.detach().flatten() for _, p in named]).to(torch.float32)
    np.save(os.path.join(directory, "grad.npy"), gradient.cpu().numpy())
    layers = [{"name": name, "shape": list(p.shape) or [1]} for name, p in named]
    with open(os.path.join(directory, "layout.json"), "w") as out:
        json.dump({"layers": layers}, out, indent=1)
    return gradient.numel(), len(layers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for grad.npy and layout.json")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = small_network()
    images, labels = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    torch.nn.functional.cross_entropy(model(images), labels).backward()
    size, layers = save_gradient(model, args.out)
    print(f"wrote grad.npy ({size} values) and layout.json ({layers} layers) to {args.out}")


if __name__ == "__main__":
    main()
