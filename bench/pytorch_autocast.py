#!/usr/bin/python3
"""The anchor's throughput benchmark (../shared/anchors/pytorch/bench_throughput.py) with PyTorch's own
bf16 mixed precision: every model call runs under torch.autocast("cpu", dtype=torch.bfloat16), as
the anchor's README recommends for a bf16 comparison; the rest of the step (loss, backward, SGD on
f32 weights) is the anchor's, unchanged. Its JSON line gains "precision": "bf16".

  pytorch_autocast.py --one MODEL THREADS BATCH [the anchor's options]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "anchors", "pytorch"))
import torch  # noqa: E402

import bench_throughput  # noqa: E402
import common  # noqa: E402


class Autocast(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.inner(x).float()


make_model, emit = common.make_model, common.emit
common.make_model = lambda *a, **k: Autocast(make_model(*a, **k))
common.emit = lambda record: emit({**record, "precision": "bf16"})
bench_throughput.common = common

if __name__ == "__main__":
    bench_throughput.main()
