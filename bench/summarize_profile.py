"""Turns one bench/profile config's output into a table: per step, by primitive kind, propagation
and implementation (reorders apart, by source and destination layout), with primitives created
inside the window and the share of the step outside oneDNN. Arguments: CONFIG WALL VERBOSE PEAK."""
import json
import re
import sys
from collections import defaultdict

def window(path):
    """The lines between the markers, the begin marker's fields (steps, batch, flops_per_step as
    the benchmark counts them) and the window's wall seconds."""
    inside, lines, fields, seconds = False, [], {}, None
    for line in open(path, errors="replace"):
        if line.startswith("pipeline-profile begin"):
            inside, fields = True, {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.e+-]+)", line)}
        elif line.startswith("pipeline-profile end"):
            inside, seconds = False, float(re.search(r"seconds=([0-9.]+)", line).group(1))
        elif inside:
            lines.append(line.rstrip("\n"))
    return lines, fields, seconds


def layouts(descs):
    """'src_f32::blocked:abcd:f0 dst_f32::blocked:aBcd16b:f0' -> 'f32 abcd -> f32 aBcd16b'."""
    found = re.findall(r"(\w+?)_(\w+)::\w+:(\w+):", descs)
    return " -> ".join(f"{dtype} {tag}" for _, dtype, tag in found)


def main():
    config, wall_path, verbose_path, peak_path = sys.argv[1:5]
    _, fields, wall = window(wall_path)
    steps, batch, flops = int(fields["steps"]), int(fields["batch"]), fields["flops_per_step"]
    lines, vfields, _ = window(verbose_path)
    vsteps = int(vfields["steps"])
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
    gflops = flops / (step_ms / 1000) / 1e9
    peak = peaks.get("f32") or float("nan")
    print(f"\n## {config}: training step {step_ms:.2f} ms (batch {batch}, {1000 * batch / step_ms:.0f} img/s), "
          f"{gflops:.1f} GFLOP/s = {100 * gflops / peak:.0f}% of this machine's f32 matmul peak ({peak:.0f}; "
          f"bf16 {peaks.get('bf16') or float('nan'):.0f})")
    # The verbose run's primitive times include its printing: when they exceed the quiet run's
    # step, the time outside oneDNN cannot be told apart from that overhead.
    outside = (f"{step_ms - onednn_ms:.2f} ms = {100 * (step_ms - onednn_ms) / step_ms:.0f}%" if step_ms > onednn_ms
               else "not measurable (the verbose run's primitive times exceed the step)")
    print(f"inside oneDNN {onednn_ms:.2f} ms (reorders {reorder_ms:.2f}), outside oneDNN (our loops, "
          f"allocation, loss, optimizer) {outside}; primitives created per step: "
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
