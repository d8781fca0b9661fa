"""PyTorch peer for `reproduce bench`: the same MLP, weights, inputs and thread count as the C# side.

Reads the weights and data the C# benchmark wrote (raw little-endian arrays described by a JSON manifest),
times the gradient and the Hessian-vector product (double backward, as torch.autograd.functional.hvp does),
and prints one JSON object. Run with Debian's interpreter: /usr/bin/python3 (python3-torch).
"""
import json
import statistics
import sys
import time

import numpy as np
import torch


def main():
    manifest_path, threads, dtype_name, repeats = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    torch.set_num_threads(threads)
    dtype = {"float32": torch.float32, "float64": torch.float64}[dtype_name]
    with open(manifest_path) as f:
        manifest = json.load(f)
    folder = manifest_path.rsplit("/", 1)[0]

    def load(name):
        entry = manifest[name]
        array = np.fromfile(f"{folder}/{entry['file']}", dtype=entry["dtype"]).reshape(entry["shape"])
        return torch.from_numpy(array.copy())

    x = load("inputs").to(dtype)
    y = load("targets").long()
    params = [load(n).to(dtype).requires_grad_(True) for n in manifest["parameter_order"]]
    v = load("vector").to(dtype)
    w1, b1, w2, b2 = params

    def loss_fn():
        hidden = torch.relu(x @ w1.T + b1)
        return torch.nn.functional.cross_entropy(hidden @ w2.T + b2, y)

    sizes = [p.numel() for p in params]
    v_parts = [part.view_as(p) for part, p in zip(torch.split(v, sizes), params)]

    def gradient():
        return torch.autograd.grad(loss_fn(), params)

    def hvp():
        grads = torch.autograd.grad(loss_fn(), params, create_graph=True)
        gv = sum((g * vp).sum() for g, vp in zip(grads, v_parts))
        return torch.autograd.grad(gv, params)

    def median_ms(fn):
        for _ in range(3):
            fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    hv = torch.cat([h.reshape(-1) for h in hvp()])
    w1d = w1.detach()
    print(json.dumps({
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "gradient_ms": median_ms(gradient),
        "hvp_ms": median_ms(hvp),
        "hv_norm": float(hv.double().norm()),
        "matmul_ms": median_ms(lambda: x @ w1d.T),
    }))


if __name__ == "__main__":
    main()
