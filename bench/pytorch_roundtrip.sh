#!/usr/bin/env bash
# Does a model saved by pipeline load into PyTorch and give the same predictions? Trains the seed
# CNN and the 2-layer LSTM for one epoch (fashion_cnn.yaml / fashion_rnn.yaml plus a save_model
# stage), loads each file into ../shared/anchors/pytorch/common.py's model with load_state_dict
# (strict), and compares PyTorch's test accuracy and predictions with pipeline's evaluate stage.
#   bench/pytorch_roundtrip.sh [BUILD_DIR]        (needs apt-get install python3-torch)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
work="$(mktemp -d)"
for model in cnn rnn; do
  src="$here/../pipelines/fashion_$model.yaml"
  sed "s|^  score:|  save: {plugin: save_model, inputs: {model: fit}, params: {path: $work/$model.safetensors}}\n  score:|" "$src" \
    | sed "s|images: /usr|images: /usr|" > "$work/$model.yaml"
  sed -i "s|^  score:|  score:|; s|    inputs: {model: fit, data: test.train}|    inputs: {model: fit, data: test.train}\n    params: {predictions: $work/$model.csv}|" "$work/$model.yaml"
  "$build/bin/pipeline" run "$work/$model.yaml" --quiet --no-cache --runs-dir "$work/runs" --set fit.epochs=1 > /dev/null 2>&1
done
/usr/bin/python3 - "$work" "$here/../../shared/anchors/pytorch" <<'PY'
import csv, json, struct, sys
import numpy as np
import torch
work, anchors = sys.argv[1], sys.argv[2]
sys.path.insert(0, anchors)
import common

def load_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float32).reshape(t["shape"]).copy())
    return out

X, Y = common.load_split_tensors_lowmem("test")
for name, arch in (("cnn", "cnn"), ("rnn", "lstm")):
    model = common.make_model(arch, 10)
    model.load_state_dict(load_safetensors(f"{work}/{name}.safetensors"), strict=True)
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(X[i:i + 1000]).argmax(1) for i in range(0, X.shape[0], 1000)])
    ours = [int(r["predicted"]) for r in csv.DictReader(open(f"{work}/{name}.csv"))]
    agree = sum(int(p) == o for p, o in zip(pred.tolist(), ours)) / len(ours)
    acc = (pred == Y).float().mean().item()
    ours_acc = sum(o == int(y) for o, y in zip(ours, Y.tolist())) / len(ours)
    print(json.dumps({"bench": "pytorch_roundtrip", "model": arch, "pytorch_accuracy": round(acc, 4),
                      "pipeline_accuracy": round(ours_acc, 4), "same_prediction": round(agree, 5)}))
PY
