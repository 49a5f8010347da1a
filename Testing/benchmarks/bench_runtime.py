"""Benchmark: the same network on the same real 1 mm head, three ways, figures and ratios side by side.

1. MONAI ``sliding_window_inference`` + eager torch, as a researcher calls it by default (sw_batch_size=1);
2. MONAI + frozen TorchScript, with the best ``sw_batch_size`` found here (the tuned peer to beat);
3. the MedSynth runtime (``run_generator``: numpy windows + onnxruntime), from a real model folder.

Network: MONAI UNet (16, 32, 64, 128), strides 2, two residual units, random seeded weights (speed
and memory do not depend on the weights). Volume: the MNI152 2009a T1 shipped by nilearn (real,
1 mm) on a 256×256×180 grid. 96³ patches, overlap 0.25, Gaussian blending. Each variant runs in
its own process so its peak RSS is its own; outputs are compared with the default torch result.

    python Testing/benchmarks/bench_runtime.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PATCH = (96, 96, 96)
OVERLAP = 0.25
CHANNELS = (16, 32, 64, 128)


def build_network():
    import torch
    from monai.networks.nets import UNet

    torch.manual_seed(0)
    return UNet(spatial_dims=3, in_channels=1, out_channels=1, channels=CHANNELS, strides=(2, 2, 2),
                num_res_units=2).eval()


def head_volume() -> np.ndarray:
    """The real 1 mm head on 256×256×180 (z, y, x), normalised to [0, 1] at the 99th percentile."""
    import SimpleITK as sitk

    from medsynth.io import read_image
    from medsynth.sample_data import mni152_t1_path

    voxels = sitk.GetArrayFromImage(read_image(mni152_t1_path())).astype(np.float32)
    z, y, x = voxels.shape
    out = np.zeros((180, 256, 256), np.float32)
    z0, y0, x0 = (z - 180) // 2, (256 - y) // 2, (256 - x) // 2
    out[:, y0:y0 + y, x0:x0 + x] = voxels[z0:z0 + 180]
    return out / np.percentile(out[out > 0], 99)


def count_flops_per_patch() -> float:
    """Multiply-adds ×2 of every (transposed) convolution for one 96³ patch, counted with hooks."""
    import torch

    net, total = build_network(), [0.0]

    def hook(module, inputs, output):
        kernel = np.prod(module.kernel_size)
        if isinstance(module, torch.nn.ConvTranspose3d):
            voxels = inputs[0].shape[2] * inputs[0].shape[3] * inputs[0].shape[4]
            total[0] += 2.0 * module.in_channels * module.out_channels * kernel * voxels / module.groups
        else:
            voxels = output.shape[2] * output.shape[3] * output.shape[4]
            total[0] += 2.0 * module.in_channels * module.out_channels * kernel * voxels / module.groups

    for module in net.modules():
        if isinstance(module, (torch.nn.Conv3d, torch.nn.ConvTranspose3d)):
            module.register_forward_hook(hook)
    with torch.no_grad():
        net(torch.zeros(1, 1, *PATCH))
    return total[0]


# --- variants, each run in a child process --------------------------------------------------

def run_torch(workdir: Path, tuned: bool, batch: int) -> dict:
    import torch
    from monai.inferers import sliding_window_inference

    torch.set_num_threads(2)
    net = build_network()
    volume = torch.from_numpy(np.load(workdir / "volume.npy"))[None, None]
    if tuned:
        with torch.no_grad():
            net = torch.jit.freeze(torch.jit.trace(net, torch.zeros(batch, 1, *PATCH)))
    context = torch.inference_mode() if tuned else torch.no_grad()
    with context:
        started = time.perf_counter()
        output = sliding_window_inference(volume, PATCH, batch, net, overlap=OVERLAP, mode="gaussian")
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "output": output.numpy()[0, 0]}


def run_medsynth(workdir: Path, batch: int) -> dict:
    import SimpleITK as sitk

    from medsynth.models import ModelRegistry
    from medsynth.runtime import OnnxGenerator, run_generator

    image = sitk.GetImageFromArray(np.load(workdir / "volume.npy"))
    model = OnnxGenerator(ModelRegistry([("bench", workdir / "models")]).find("bench-unet"), threads=2)
    started = time.perf_counter()
    result = run_generator(model, image, batch_size=batch)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "output": sitk.GetArrayFromImage(result.image)}


def peak_rss_mb() -> float:
    """This process's own peak resident memory (MB).

    ``VmHWM`` from /proc, not ``getrusage().ru_maxrss``: Linux carries ru_maxrss over fork and
    exec, so a child of a parent that once held 800 MB reports at least 800 MB whatever it used
    itself (the session-1/2 figures of this benchmark were inflated that way). Elsewhere, where
    there is no /proc, ru_maxrss is the fallback.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_main(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir)
    baseline_rss = peak_rss_mb()
    if args.variant == "medsynth":
        result = run_medsynth(workdir, args.batch)
    else:
        result = run_torch(workdir, tuned=args.variant == "torch-tuned", batch=args.batch)
    np.save(workdir / f"out-{args.variant}-{args.batch}.npy", result["output"])
    print(json.dumps({"seconds": result["seconds"], "peak_rss_mb": peak_rss_mb(), "import_rss_mb": baseline_rss}))


# --- parent ----------------------------------------------------------------------------------

def prepare(workdir: Path) -> float:
    """Write the volume and the exported ONNX model folder; return FLOPs per patch."""
    import torch

    from medsynth.models import sha256_of

    np.save(workdir / "volume.npy", head_volume())
    folder = workdir / "models" / "bench-unet"
    folder.mkdir(parents=True)
    torch.onnx.export(build_network(), torch.zeros(1, 1, *PATCH), str(folder / "model.onnx"), input_names=["image"],
                      output_names=["output"], dynamic_axes={"image": {0: "batch"}, "output": {0: "batch"}},
                      opset_version=17, dynamo=False)
    card = {
        "schema_version": 1, "id": "bench-unet", "version": "1.0.0", "task": "demo", "name": "Benchmark UNet",
        "weights": {"file": "model.onnx", "sha256": sha256_of(folder / "model.onnx")},
        "input": {"modality": "any", "orientation": "native", "spacing_mm": "native", "normalization": {"scheme": "none"}},
        "inference": {"patch_size": list(PATCH), "overlap": OVERLAP, "blend": "gaussian", "batch_size": 1},
        "outputs": [{"name": "out"}], "training": {"data": "random weights"},
        "validation": {"data": "none", "metrics": {}}, "intended_use": "Benchmark.", "limitations": ["Benchmark only."],
        "license": "Apache-2.0",
    }
    (folder / "card.json").write_text(json.dumps(card))
    return count_flops_per_patch()


def measure(workdir: Path, variant: str, batch: int, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        completed = subprocess.run([sys.executable, __file__, "--child", variant, "--batch", str(batch),
                                    "--workdir", str(workdir)], capture_output=True, text=True, check=True)
        runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda run: run["seconds"])
    best["output"] = np.load(workdir / f"out-{variant}-{batch}.npy")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per variant (the fastest is kept)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.variant = args.child
        child_main(args)
        return
    from medsynth.runtime import window_starts

    with tempfile.TemporaryDirectory(prefix="medsynth-bench-") as tmp:
        workdir = Path(tmp)
        flops_per_patch = prepare(workdir)
        windows = int(np.prod([len(window_starts(s, p, OVERLAP)) for s, p in zip((180, 256, 256), PATCH)]))
        total_gflop = flops_per_patch * windows / 1e9
        results = {"torch default (eager, sw_batch 1)": measure(workdir, "torch-default", 1, args.repeats)}
        tuned = {batch: measure(workdir, "torch-tuned", batch, args.repeats) for batch in (2, 4)}
        best_batch = min(tuned, key=lambda b: tuned[b]["seconds"])
        results[f"torch tuned (TorchScript, sw_batch {best_batch})"] = tuned[best_batch]
        ours = {batch: measure(workdir, "medsynth", batch, args.repeats) for batch in (1, 2)}
        our_batch = min(ours, key=lambda b: ours[b]["seconds"])
        results[f"MedSynth runtime (onnxruntime, batch {our_batch})"] = ours[our_batch]
    reference = results["torch default (eager, sw_batch 1)"]["output"]
    default, tuned_result = list(results.values())[0], list(results.values())[1]
    print(f"Volume 256×256×180 (real 1 mm MNI152 T1), UNet {CHANNELS}, patches {PATCH}, overlap {OVERLAP}: "
          f"{windows} windows, {total_gflop:.0f} GFLOP")
    scale = float(np.max(np.abs(reference)))
    print(f"{'variant':<44} {'seconds':>8} {'GFLOP/s':>8} {'peak RSS MB':>12} {'max |Δ| / max |out|':>20}")
    for name, run in results.items():
        difference = float(np.max(np.abs(run["output"] - reference))) / scale
        print(f"{name:<44} {run['seconds']:8.1f} {total_gflop / run['seconds']:8.1f} {run['peak_rss_mb']:12.0f} {difference:20.2e}")
    medsynth_run = list(results.values())[2]
    print(f"speed-up vs torch default: {default['seconds'] / medsynth_run['seconds']:.2f}×  (target ≥ 1.5×)")
    print(f"speed vs torch tuned:      {tuned_result['seconds'] / medsynth_run['seconds']:.2f}×  (target ≥ 1.0×)")
    print(f"peak memory vs torch tuned: {medsynth_run['peak_rss_mb'] / tuned_result['peak_rss_mb']:.2f}×  (target ≤ 0.6×)")


if __name__ == "__main__":
    main()
