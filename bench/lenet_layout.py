#!/usr/bin/env python3
"""LeNet's forward and backward pass on one thread in torch's default memory layout and
channels-last (the layout examples/fashion_mnist.py's lenet() uses), on the same batches of
Fashion-MNIST (batch 32), alternating, with the largest difference of their gradients.

usage: PYTHONPATH=examples python3 bench/lenet_layout.py [ROUNDS]
"""
import sys
import time

import torch

import fashion_mnist as fm


def default_layout_lenet():
    return fm.lenet().to(memory_format=torch.contiguous_format)


def pass_ms(model, images, labels, order, steps):
    """Mean milliseconds of one forward and backward pass over `steps` batches."""
    loss_fn = torch.nn.CrossEntropyLoss()
    started = time.perf_counter()
    for step in range(steps):
        rows = fm.batch_rows(order, step, 32)
        loss_fn(model(images[rows]), labels[rows]).backward()
    return 1e3 * (time.perf_counter() - started) / steps


def gradient_difference(default, channels_last, images, labels):
    """The largest |difference| of the two models' gradients on one batch (same weights)."""
    loss_fn = torch.nn.CrossEntropyLoss()
    for model in (default, channels_last):
        model.zero_grad()
        loss_fn(model(images[:32]), labels[:32]).backward()
    return max((a.grad - b.grad).abs().max().item()
               for a, b in zip(default.parameters(), channels_last.parameters()))


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_num_threads(1)
    images, labels = fm.load(fm.DEFAULT_DATA, "train", None)
    order = fm.worker_order(len(images), 2, 0)
    torch.manual_seed(1)
    default = default_layout_lenet()
    torch.manual_seed(1)
    channels_last = fm.lenet()
    difference = gradient_difference(default, channels_last, images, labels)
    print(f"largest gradient difference: {difference:.3g}")
    for model in (default, channels_last):
        pass_ms(model, images, labels, order, 50)  # warm-up
    best = {"default": float("inf"), "channels-last": float("inf")}
    for _ in range(rounds):
        best["default"] = min(best["default"], pass_ms(default, images, labels, order, 300))
        best["channels-last"] = min(best["channels-last"],
                                    pass_ms(channels_last, images, labels, order, 300))
    print(f"forward + backward, batch 32, fastest of {rounds} rounds of 300 batches: "
          f"default layout {best['default']:.2f} ms, channels-last {best['channels-last']:.2f} ms "
          f"({best['default'] / best['channels-last']:.2f}x)")


if __name__ == "__main__":
    main()
