"""What would each compressor do to a real PyTorch gradient? (docs/python.md)

Computes one gradient of a small convolutional network on a batch of random images, asks gradcomp
what Top-k, RBGS, blockwise signs and QSGD would send for it, layer by layer where the compressor
works per layer, and then sends it: encode on one side, bytes across, decode_add into the
parameters' .grad on the other.

    PYTHONPATH=build/release/python python3 python/examples/inspect_gradient.py
"""
import torch

import gradcomp

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
    torch.nn.Linear(16 * 4 * 4, 120), torch.nn.ReLU(), torch.nn.Linear(120, 10))
images, labels = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
torch.nn.functional.cross_entropy(model(images), labels).backward()

layout = gradcomp.Layout.from_module(model)  # one block per parameter, named_parameters() order
gradient = torch.cat([p.grad.flatten() for p in model.parameters()])
print(f"{layout.size} parameters in {len(layout)} tensors")

specs = ["topk:ratio=0.01", "topk:ratio=0.01,scope=layer", "rbgs:ratio=64", "blocksign",
         "qsgd:levels=16"]
print(f"{'compressor':<30} {'bits':>9} {'x fp32':>7} {'density':>8} {'rel.error':>10}  implied")
for report in gradcomp.inspect(gradient, specs, layout):
    implied = ", ".join(f"{k}={v:.3g}" for k, v in report["implied"].items())
    print(f"{report['spec']:<30} {report['bits']:>9} {report['compression_vs_fp32']:>7.1f} "
          f"{report['density']:>8.4f} {report['relative_error']:>10.4f}  {implied}")

# One worker sends Top-k 1% of its gradient; the receiver adds what it decodes into .grad.
compressor = gradcomp.Compressor("topk:ratio=0.01", layout=layout)
wire = bytes(compressor.encode(gradient, seed=1, step=0))
received = torch.zeros(layout.size)
compressor.decode_add(gradcomp.Message.from_bytes(wire), received, seed=1, step=0)
for p, (name, offset, size, shape) in zip(model.parameters(), layout.blocks):
    p.grad.copy_(received[offset:offset + size].view(shape))
print(f"sent {len(wire)} bytes for {4 * layout.size} of float32; "
      f"{int((received != 0).sum())} coordinates arrived")
