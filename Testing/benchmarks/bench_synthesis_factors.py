"""Factor separability of targeted synthesis, and the factor × value grid picture.

    python Testing/benchmarks/bench_synthesis_factors.py --model-dir MODELS/synthesis-lesion-t1 \
        [--cases 20] [--grid Testing/figures/synthesis_factor_grid.png] [--json out.json]

Anatomy: the IXI subjects of the shared corpus (subjects_t1 + DLMUSE), lesion shapes: lesions_mni.
Measured for the learned painter and for the procedural baseline (see
:mod:`medsynth.benchmarks.synthesis.separability` for the three measurements and their targets).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from medsynth.benchmarks.synthesis.separability import NO_STYLE, measure_separability
from medsynth.models.card import load_card
from medsynth.models.registry import ModelEntry
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.sample_data import shared_data_dir
from medsynth.tasks.synthesis.anatomy import find_anatomy, load_healthy
from medsynth.tasks.synthesis.appearance import LearnedAppearance, ProceduralAppearance
from medsynth.tasks.synthesis.cohort import model_limits, type_contrast_of
from medsynth.tasks.synthesis.compose import synthesize_case
from medsynth.tasks.synthesis.factors import factor_space, sample_factors
from medsynth.tasks.synthesis.shapes import load_shapes

GRID = (
    ("lesion_volume_ml", (1.0, 4.0, 10.0, 25.0, 50.0)),
    ("region", ("frontal", "parietal", "temporal", "occipital", "deep")),
    ("lesion_type", ("tumour", "tumour", "stroke", "stroke", "stroke")),
    ("lesion_contrast", (0.4, 0.55, 0.7, 0.9, 1.1)),
    ("z1", (-2.0, -1.0, 0.0, 1.0, 2.0)),
    ("anatomy", None),
    ("contrast_gamma", (0.7, 0.85, 1.0, 1.2, 1.4)),
    ("noise_sd", (0.0, 0.02, 0.04, 0.06, 0.08)),
    ("blur_mm", (0.0, 0.5, 1.0, 1.5, 2.0)),
)


def draw_grid(path: Path, volumes, shapes, painter, space) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = {**sample_factors(space, 5, 0), "class": "lesion", "lesion_type": "tumour", "region": "parietal",
            "lesion_volume_ml": 10.0, "lesion_contrast": 0.7, **NO_STYLE, **{f"z{i}": 0.0 for i in range(1, 5)}}
    figure, axes = plt.subplots(len(GRID), 5, figsize=(7.5, 1.6 * len(GRID)))
    for row, (name, values) in enumerate(GRID):
        values = values or tuple(sorted(volumes))[:5]
        for column, value in enumerate(values):
            case_values = {**base, name: value}
            if name == "lesion_type":
                case_values["lesion_contrast"] = (1.1, 0.9, 0.6, 0.5, 0.4)[column]
            case = synthesize_case(volumes[case_values["anatomy"]], shapes, painter, case_values, 5, 0)
            axis = axes[row, column]
            axis.imshow(case.image, cmap="gray", vmin=0, vmax=1.6)
            axis.contour(case.label, levels=[0.5], colors="tab:red", linewidths=0.6)
            label = value if name != "anatomy" else str(value)[:6]
            axis.set_title(f"{name}={label}" if name != "lesion_type" else f"{value} c={case_values['lesion_contrast']}",
                           fontsize=6)
            axis.axis("off")
    figure.suptitle("Targeted synthesis: one factor changed per row (red: label), all else fixed; SYNTHETIC", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grid", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("needs the shared data corpus (subjects_t1, lesions_mni)")
    entry = ModelEntry(load_card(args.model_dir / "card.json"), args.model_dir, "benchmark")
    sources = find_anatomy(data / "subjects_t1", data / "subjects_t1" / "dlmuse")
    volumes = {s.name: load_healthy(s) for s in sources}
    shapes = load_shapes(data / "lesions_mni")
    space = factor_space(sorted(volumes), **model_limits(entry))
    if args.grid:  # first: it is quick and shows what is measured
        draw_grid(args.grid, volumes, shapes, LearnedAppearance(OnnxGenerator(entry, threads=1)), space)
        print(f"wrote {args.grid}")
    results = {}
    for painter in (LearnedAppearance(OnnxGenerator(entry, threads=1)), ProceduralAppearance()):
        report = measure_separability(volumes, shapes, painter, space, args.cases, args.seed,
                                      type_contrast=type_contrast_of(entry))
        results[painter.name] = report.summary()
        print(painter.name, json.dumps(results[painter.name], indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
