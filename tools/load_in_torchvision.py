#!/usr/bin/env python3
"""Loads a safetensors file that pipeline's save_model wrote into a torchvision model with
load_state_dict(strict=True), and prints its eval logits for an input batch as JSON.

  load_in_torchvision.py ARCH CLASSES WEIGHTS.safetensors INPUT.safetensors

INPUT.safetensors holds a tensor named "input" (e.g. the check vectors export_torchvision.py
writes). Needs python3-torch and python3-torchvision; reads safetensors without the safetensors
package.
"""
import json
import struct
import sys

import numpy as np
import torch
import torchvision


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        lo, hi = entry["data_offsets"]
        dtype = {"F32": "<f4", "I64": "<i8"}[entry["dtype"]]
        out[name] = torch.from_numpy(np.frombuffer(data[lo:hi], dtype=dtype).reshape(entry["shape"]).copy())
    return out


def main():
    arch, classes, weights, inputs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    model = getattr(torchvision.models, arch)(num_classes=classes)
    model.load_state_dict(read_safetensors(weights), strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(read_safetensors(inputs)["input"])
    print(json.dumps(logits.flatten().tolist()))


if __name__ == "__main__":
    main()
