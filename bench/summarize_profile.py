"""Turns one bench/profile config's output into a table: per step, by primitive kind, propagation
and implementation (reorders apart, by source and destination layout), with primitives created
inside the window and the share of the step outside oneDNN. Arguments: CONFIG WALL VERBOSE PEAK."""
import json
import re
import sys
from collections import defaultdict

# Analytic training FLOPs per image (forward + backward = 3 x forward; multiply-add = 2), as
# bench/throughput.cpp and the anchors count them; ResNet-18 at 224 is 1.82 GFLOP forward.
TRAIN_FLOPS_PER_IMAGE = {
    "cnn": 3 * 8.48e6,
    "lstm": 3 * (28 * 2 * 4 * 128 * ((28 + 128) + (128 + 128)) + 2 * 128 * 10),
    "resnet32": 3 * 1.82e9 * (32 / 224) ** 2,
    "resnet224": 3 * 1.82e9,
}
BATCH = {"cnn": 64, "lstm": 64, "resnet32": 32, "resnet224": 32}


def window(path):
    """The lines between the markers, the step count and the window's wall seconds."""
    inside, lines, steps, seconds = False, [], 1, None
    for line in open(path, errors="replace"):
        if line.startswith("pipeline-profile begin"):
            inside, steps = True, int(re.search(r"steps=(\d+)", line).group(1))
        elif line.startswith("pipeline-profile end"):
            inside, seconds = False, float(re.search(r"seconds=([0-9.]+)", line).group(1))
        elif inside:
            lines.append(line.rstrip("\n"))
    return lines, steps, seconds


def layouts(descs):
    """'src_f32::blocked:abcd:f0 dst_f32::blocked:aBcd16b:f0' -> 'f32 abcd -> f32 aBcd16b'."""
    found = re.findall(r"(\w+?)_(\w+)::\w+:(\w+):", descs)
    return " -> ".join(f"{dtype} {tag}" for _, dtype, tag in found)


def main():
    config, wall_path, verbose_path, peak_path = sys.argv[1:5]
    _, steps, wall = window(wall_path)
    lines, vsteps, _ = window(verbose_path)
    peaks = {r["dtype"]: r["gflops"] for r in map(json.loads, open(peak_path)) if r.get("kind") == "peak"}
    groups = defaultdict(lambda: [0.0, 0])
    reorders = defaultdict(lambda: [0.0, 0])
    created = defaultdict(int)
    for line in lines:
        f = line.split(",")
        if len(f) < 5 or f[0] != "onednn_verbose":
            continue
        if f[1].startswith("create"):
            created[f[3]] += 1
            continue
        if f[1] != "exec":
            continue
        ms = float(f[-1])
        if f[3] == "reorder":
            r = reorders[layouts(f[6]) + "  " + f[-2]]
        else:
            r = groups[(f[3], f[5], f[4])]
        r[0] += ms / vsteps
        r[1] += 1 / vsteps
    step_ms = 1000 * wall / steps
    onednn_ms = sum(v[0] for v in groups.values()) + sum(v[0] for v in reorders.values())
    reorder_ms = sum(v[0] for v in reorders.values())
    flops = TRAIN_FLOPS_PER_IMAGE.get(config, 0) * BATCH.get(config, 0)
    gflops = flops / (step_ms / 1000) / 1e9 if flops else float("nan")
    peak = peaks.get("f32") or float("nan")
    print(f"\n## {config}: training step {step_ms:.2f} ms (batch {BATCH.get(config, '?')}), "
          f"{gflops:.1f} GFLOP/s = {100 * gflops / peak:.0f}% of this machine's f32 matmul peak ({peak:.0f}; "
          f"bf16 {peaks.get('bf16') or float('nan'):.0f})")
    print(f"inside oneDNN {onednn_ms:.2f} ms (reorders {reorder_ms:.2f}), outside oneDNN (our loops, "
          f"allocation, loss, optimizer) {max(step_ms - onednn_ms, 0):.2f} ms = "
          f"{100 * max(step_ms - onednn_ms, 0) / step_ms:.0f}%; primitives created per step: "
          f"{sum(created.values()) / vsteps:.1f}")
    print("\n| primitive | propagation | implementation | ms/step | calls/step | % of step |")
    print("|---|---|---|---|---|---|")
    for (kind, prop, impl), (ms, calls) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
        print(f"| {kind} | {prop} | {impl} | {ms:.3f} | {calls:.0f} | {100 * ms / step_ms:.1f} |")
    print("\n| reorder (from -> to, dims) | ms/step | calls/step | % of step |")
    print("|---|---|---|---|")
    for what, (ms, calls) in sorted(reorders.items(), key=lambda kv: -kv[1][0])[:15]:
        print(f"| {what} | {ms:.3f} | {calls:.0f} | {100 * ms / step_ms:.1f} |")


if __name__ == "__main__":
    main()
