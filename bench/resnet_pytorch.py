#!/usr/bin/env python3
"""torchvision's resnet18 at batch 32 on random [3, S, S] inputs: training and inference images/s,
the same step as bench/resnet_throughput.cpp (forward in training mode, mean cross-entropy, backward,
SGD lr 0.01 momentum 0.9). Threads: torch.set_num_threads(OMP_NUM_THREADS). One JSON line.

  resnet_pytorch.py SIZE [--min-time SECONDS] [--precision f32|bf16]

--precision bf16: forward and loss under torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's own
mixed precision (f32 weights and optimizer), the anchor for pipeline's `precision: bf16`.
"""
import contextlib
import argparse
import json
import os
import resource
import time

import torch
import torchvision


def images_per_second(step, batch, min_time):
    for _ in range(2):
        step()
    start, steps = time.perf_counter(), 0
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and steps >= 5:
            return steps * batch / elapsed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("size", type=int)
    p.add_argument("--min-time", type=float, default=5)
    p.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    a = p.parse_args()
    threads = int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads()))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch = 32
    model = torchvision.models.resnet18(num_classes=1000)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, a.size, a.size)
    y = torch.tensor([i * 31 % 1000 for i in range(batch)])
    loss_fn = torch.nn.CrossEntropyLoss()

    def autocast():
        if a.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def train_step():
        model.train()
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    def infer_step():
        model.eval()
        with torch.no_grad(), autocast():
            model(x)

    train = images_per_second(train_step, batch, a.min_time)
    infer = images_per_second(infer_step, batch, a.min_time)
    print(json.dumps({"impl": "pytorch", "kind": "throughput", "precision": a.precision, "size": a.size, "threads": threads, "batch": batch,
                      "train_ips": round(train, 2), "infer_ips": round(infer, 2),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "torch": torch.__version__, "torchvision": torchvision.__version__}))


if __name__ == "__main__":
    main()
