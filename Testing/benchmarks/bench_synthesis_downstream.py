"""Downstream gain of targeted synthesis: a lesion-present slice classifier trained on real slices,
on healthy + synthesized slices (learned generator or procedural baseline), or on both, scored on a
real lesion scan none of them saw (leave one scan out; see medsynth.training.synthesis.downstream).

    python Testing/benchmarks/bench_synthesis_downstream.py [--scans CSV | --brats DIR] [--seeds 3]
        [--synthetic 160] [--json out.json]

Real labelled cases: by default the shared corpus's glioma, metastasis and stroke scans with the
hand-threshold lesion references of medsynth.training.synthesis.real_lesions; --brats DIR takes a
BraTS-style folder (<case>/t1n.nii.gz + seg.nii.gz, lesion = seg > 0), --scans a CSV (name, t1,
flair, lesion_type[, label]). Healthy anatomy: the shared IXI subjects; lesion shapes: lesions_mni.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from medsynth.sample_data import shared_data_dir  # noqa: E402
from medsynth.tasks.synthesis.anatomy import find_anatomy, load_healthy  # noqa: E402
from medsynth.tasks.synthesis.factors import factor_space  # noqa: E402
from medsynth.tasks.synthesis.shapes import load_shapes  # noqa: E402
from medsynth.training import require_training_extra  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--scans", type=Path)
    source.add_argument("--brats", type=Path)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=160, help="synthesized slices per arm (half with a lesion)")
    parser.add_argument("--generator-iterations", type=int, default=300)
    parser.add_argument("--classifier-steps", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    require_training_extra()
    import torch

    torch.set_num_threads(1)
    from medsynth.training.synthesis.downstream import run_downstream, summarise
    from medsynth.training.synthesis.pipeline import read_scan_list
    from medsynth.training.synthesis.real_lesions import brats_folder_scans, shared_lesion_scans

    data = shared_data_dir()
    if data is None:
        raise SystemExit("needs the shared data corpus (healthy anatomy subjects_t1, lesion shapes lesions_mni)")
    scans = (read_scan_list(args.scans) if args.scans else brats_folder_scans(args.brats) if args.brats
             else shared_lesion_scans(data))
    sources = find_anatomy(data / "subjects_t1", data / "subjects_t1" / "dlmuse")
    volumes = {s.name: load_healthy(s) for s in sources}
    space = factor_space(sorted(volumes), contrast_limits=(0.05, 3.0))
    rows = run_downstream(scans, volumes, load_shapes(data / "lesions_mni"), space, seeds=range(args.seeds),
                          synthetic_count=args.synthetic, generator_iterations=args.generator_iterations,
                          classifier_steps=args.classifier_steps)
    summary = summarise(rows)
    print(f"{'arm':18s} {'AUROC (95% CI)':24s} {'sensitivity':24s} {'specificity':24s}")
    for arm, entry in summary.items():
        cells = [f"{entry[k]['mean']:.3f} [{entry[k]['ci95'][0]:.3f}, {entry[k]['ci95'][1]:.3f}]"
                 for k in ("auroc", "sensitivity", "specificity")]
        print(f"{arm:18s} " + " ".join(f"{c:24s}" for c in cells))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "runs": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
