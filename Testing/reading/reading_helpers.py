"""Helpers shared by the reading-session tests (a uniquely named module, unlike conftest)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import SimpleITK as sitk


def write_tiny_images(folder: Path, count: int, prefix: str, seed: int = 0) -> list[Path]:
    """``count`` 6x6x4 random volumes (fast to blind and write) named ``<prefix>_<i>.nii.gz``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        image = sitk.GetImageFromArray(rng.normal(100, 20, (4, 6, 6)).astype(np.float32))
        image.SetSpacing((1.0, 1.0, 2.0))
        path = folder / f"{prefix}_{index:02d}.nii.gz"
        sitk.WriteImage(image, str(path))
        paths.append(path)
    return paths


def tiny_study_dict(root: Path, n_real: int = 3, n_synthetic: int = 3, readers=("r1", "r2"),
                    allow_revisit: bool = False, generators=("genA",), seed: int = 1234) -> dict:
    """A JSON-able study with tiny images under ``root`` (images relative to ``root``)."""
    real = write_tiny_images(root / "real", n_real, "real", seed=1)
    synthetic = write_tiny_images(root / "synthetic", n_synthetic, "synthetic", seed=2)
    cases = [{"id": f"real-{i}", "image": f"real/{p.name}", "truth": "real"} for i, p in enumerate(real)]
    cases += [{"id": f"synthetic-{i}", "image": f"synthetic/{p.name}", "truth": "synthetic",
               "generator": generators[i % len(generators)]} for i, p in enumerate(synthetic)]
    return {"study_id": "tiny", "title": "Tiny study", "seed": seed, "allow_revisit": allow_revisit,
            "cases": cases, "readers": list(readers),
            "acceptance": [{"type": "accuracy_not_above_chance", "scope": "pooled", "alpha": 0.05}]}


def write_study(root: Path, data: dict, name: str = "study.json") -> Path:
    path = root / name
    path.write_text(json.dumps(data, indent=2))
    return path
