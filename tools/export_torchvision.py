#!/usr/bin/env python3
"""Turns torchvision weights into a safetensors file that pipeline's load_model reads.

  export_torchvision.py resnet18 resnet18.safetensors --weights DEFAULT      # torchvision's pretrained
  export_torchvision.py resnet18 mine.safetensors --checkpoint model.pth     # a state_dict you trained
  export_torchvision.py mobilenet_v2 rand.safetensors --classes 7 --seed 3   # seeded random init

The file holds the model's state_dict under torchvision's names (num_batches_tracked as I64, all
else F32), which `architecture: NAME` in a model stage reproduces, so

  - {plugin: model, params: {input: [3, 224, 224], architecture: resnet18, classes: 1000}}
  - {plugin: load_model, inputs: {model: ...}, params: {path: resnet18.safetensors}}

loads it strictly. --check H W adds test vectors (ignored by load_model with
`ignore: [input, "expected.*"]`): a seeded input batch and torchvision's eval logits for it.

Needs python3-torch and python3-torchvision (Debian packages); --weights downloads from the
internet on first use. pipeline itself never runs Python.
"""
import argparse
import json
import struct
import sys

import torch
import torchvision


def tensors_of(model, extra):
    out = {}
    for name, t in model.state_dict().items():
        out[name] = t.detach().contiguous()
    out.update(extra)
    return out


def write_safetensors(path, tensors, metadata):
    # The format: 8-byte little-endian header length, a JSON header, then raw little-endian data.
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        if t.dtype == torch.int64:
            dtype, data = "I64", t.numpy().astype("<i8").tobytes()
        else:
            dtype, data = "F32", t.to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("architecture", help="a torchvision.models name: resnet18, resnet34, resnet50, mobilenet_v2")
    p.add_argument("output", help="the .safetensors file to write")
    p.add_argument("--weights", help="torchvision weights enum name, e.g. DEFAULT or IMAGENET1K_V1 (downloads)")
    p.add_argument("--checkpoint", help="a .pth file holding a state_dict (or a whole model) to export")
    p.add_argument("--classes", type=int, default=1000, help="classifier outputs (random init or --checkpoint)")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed for random init and --check")
    p.add_argument("--check", nargs=2, type=int, metavar=("H", "W"), help="add an input batch and eval logits")
    p.add_argument("--batch", type=int, default=4, help="samples in the --check batch")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    build = getattr(torchvision.models, a.architecture, None)
    if build is None:
        sys.exit(f"export_torchvision: torchvision has no model '{a.architecture}'")
    if a.weights:
        model = build(weights=a.weights)
    else:
        model = build(num_classes=a.classes)
    if a.checkpoint:
        state = torch.load(a.checkpoint, map_location="cpu")
        if not isinstance(state, dict):
            state = state.state_dict()
        model.load_state_dict(state, strict=True)
    model.eval()

    extra = {}
    if a.check:
        x = torch.randn(a.batch, 3, a.check[0], a.check[1])
        with torch.no_grad():
            extra = {"input": x, "expected.logits": model(x)}
    metadata = {"format": "pt", "model": f"torchvision {a.architecture}", "torchvision": torchvision.__version__,
                "seed": str(a.seed), "classes": str(model.state_dict()[list(model.state_dict())[-1]].shape[0])}
    write_safetensors(a.output, tensors_of(model, extra), metadata)
    print(f"wrote {a.output}: {len(model.state_dict())} state_dict tensors" + (" and check vectors" if a.check else ""))


if __name__ == "__main__":
    main()
