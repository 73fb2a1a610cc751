"""The small deterministic LIBSVM file of the end-to-end tests (train_test.sh, cluster_test.sh):
240 samples, 12 features, sparse rows, labels ±1 from a fixed linear rule; printed to stdout."""
import numpy as np

rng = np.random.default_rng(3)
for i in range(240):
    x = rng.normal(size=12) * (rng.random(12) < 0.6)
    y = 1 if x @ np.linspace(-1, 1, 12) + 0.3 * rng.normal() > 0 else -1
    print(f"{y:+d} " + " ".join(f"{j + 1}:{v:.6g}" for j, v in enumerate(x) if v != 0))
