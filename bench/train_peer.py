"""PyTorch peer for `reproduce bench` (training throughput): the same model, data, recipe and threads as the C# side.

Usage: /usr/bin/python3 train_peer.py <folder with inputs.bin/targets.bin/meta.json> <threads> <model: mlp|lenet> <epochs> <repeats>
Trains with SGD (lr 0.05, momentum 0.9), batch 128, shuffled by torch.randperm, for <epochs> epochs, <repeats> times
from the same initial weights; prints one JSON object with the median images per second.
"""
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def model_for(kind):
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def main():
    folder, threads, kind, epochs, repeats = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    meta = json.load(open(f"{folder}/meta.json"))
    n = meta["count"]
    x = torch.from_numpy(np.fromfile(f"{folder}/inputs.bin", dtype="<f4").reshape(n, 1, 28, 28).copy())
    y = torch.from_numpy(np.fromfile(f"{folder}/targets.bin", dtype="<i8").copy())
    rates = []
    for r in range(repeats + 1):
        torch.manual_seed(0)
        model = model_for(kind)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        g = torch.Generator().manual_seed(1)
        start = time.perf_counter()
        model.train()
        for _ in range(epochs):
            order = torch.randperm(n, generator=g)
            for s in range(0, n, 128):
                idx = order[s:s + 128]
                opt.zero_grad()
                loss = F.cross_entropy(model(x.index_select(0, idx)), y.index_select(0, idx))
                loss.backward()
                opt.step()
        elapsed = time.perf_counter() - start
        if r > 0:
            rates.append(n * epochs / elapsed)
    print(json.dumps({"images_per_second": statistics.median(rates), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
