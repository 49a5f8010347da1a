"""``medsynth info IMAGE``: geometry, an intensity summary and the domain report, the first check on any input."""

from __future__ import annotations

import argparse
import json

import numpy as np
import SimpleITK as sitk

from medsynth.errors import MedSynthError
from medsynth.geometry import orientation_code
from medsynth.io import read_image


def image_info(image: sitk.Image) -> dict:
    """Geometry (size, spacing mm, origin mm, direction, orientation code) and intensity summary."""
    voxels = sitk.GetArrayViewFromImage(image)
    finite = voxels[np.isfinite(voxels)] if np.issubdtype(voxels.dtype, np.floating) else voxels.ravel()
    info = {
        "dimension": image.GetDimension(),
        "size": list(image.GetSize()),
        "spacing_mm": [round(s, 6) for s in image.GetSpacing()],
        "origin_mm": [round(o, 4) for o in image.GetOrigin()],
        "direction": [round(d, 6) for d in image.GetDirection()],
        "pixel_type": image.GetPixelIDTypeAsString(),
        "components": image.GetNumberOfComponentsPerPixel(),
        "non_finite_voxels": int(voxels.size - finite.size),
    }
    if image.GetDimension() == 3:
        info["orientation"] = orientation_code(image)
    if finite.size:
        p1, p50, p99 = np.percentile(finite, [1, 50, 99])
        info["intensity"] = {"min": float(finite.min()), "p1": float(p1), "median": float(p50), "p99": float(p99),
                             "max": float(finite.max()), "mean": float(finite.mean()), "std": float(finite.std())}
    return info


def domain_info(image: sitk.Image) -> tuple[dict | None, list[str]]:
    """The :class:`~medsynth.domain.DomainReport` as a dict and as lines (None and the reason when unusable)."""
    from medsynth.domain import measure_domain

    try:
        report = measure_domain(image)
    except MedSynthError as exc:
        return None, [f"not measured: {exc}"]
    return json.loads(json.dumps(report.to_dict(), default=float)), report.lines()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="show an image's geometry, intensities and domain report",
                                   description="Print geometry (size, spacing, origin, orientation), an intensity "
                                               "summary and the domain report (modality, contrast, skull, field of "
                                               "view, SNR, bias: what the models' domains are checked against) of a "
                                               "NIfTI/NRRD/MHA file or DICOM series folder.")
    parser.add_argument("image", help="image file or DICOM series folder")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    image = read_image(args.image)
    info = image_info(image)
    domain, lines = domain_info(image)
    if args.json:
        print(json.dumps({**info, "domain": domain}, indent=2))
        return 0
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v:.6g}" for k, v in value.items())
        print(f"{key:<18} {value}")
    print("domain")
    for line in lines:
        print(f"  {line}")
    return 0
