"""Small hostile inputs made from synthetic arrays: each one a file ITK would read without complaint."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import SimpleITK as sitk

import medsynth.models.registry as registry

_PIXDIM1, _SCL_SLOPE = 80, 112  # NIfTI-1 header byte offsets
#: The committed real head MR (Testing/data/README.md, MIT).
HEAD_MR = Path(__file__).resolve().parents[1] / "data" / "head_mr_skull_2mm.nii.gz"


def volume(values: np.ndarray | None = None) -> sitk.Image:
    """A 16³ float32 head-sized blob (random texture, no real anatomy)."""
    if values is None:
        values = np.random.default_rng(0).uniform(0, 100, (16, 16, 16)).astype(np.float32)
    return sitk.GetImageFromArray(values)


def ct_values() -> np.ndarray:
    """HU-like values: air (-1000) around a soft-tissue (40) block."""
    values = np.full((16, 16, 16), -1000.0, dtype=np.float32)
    values[3:13, 3:13, 3:13] = 40.0
    return values


def write(path: Path, values: np.ndarray | None = None) -> Path:
    sitk.WriteImage(volume(values), str(path))
    return path


def with_bad_value(path: Path, value: float) -> Path:
    values = sitk.GetArrayFromImage(volume()).copy()
    values[4:6, 4:6, 4:6] = value
    return write(path, values)


def patched_header(path: Path, offset: int, value: float) -> Path:
    """An uncompressed .nii whose header float at ``offset`` is replaced by ``value``."""
    write(path)
    data = bytearray(path.read_bytes())
    data[offset:offset + 4] = struct.pack("<f", value)
    path.write_bytes(bytes(data))
    return path


def zero_pixdim(path: Path) -> Path:
    return patched_header(path, _PIXDIM1, 0.0)


def negative_scale(path: Path) -> Path:
    return patched_header(path, _SCL_SLOPE, -1.0)


def truncated(path: Path) -> Path:
    write(path)
    path.write_bytes(path.read_bytes()[:-1000])
    return path


def model_zip(path: Path, model_id: str, weights: bytes | None = None) -> Path:
    """A model archive copied from the built-in demo model, with another id and optionally other weights."""
    source = registry.BUILTIN_MODELS_DIR / "demo-edges"
    card = json.loads((source / "card.json").read_text())
    card["id"] = model_id
    onnx = weights if weights is not None else (source / "model.onnx").read_bytes()
    card["weights"]["sha256"] = hashlib.sha256(onnx).hexdigest()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/card.json", json.dumps(card))
        archive.writestr("m/model.onnx", onnx)
        archive.writestr("../../evil.sh", "rm -rf ~")
    return path


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file (hidden ones included) under ``folder`` and its sha256: equal before and after = nothing changed."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*")) if not p.is_symlink()}


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def negated_head(path: Path) -> Path:
    """The real head MR with its intensities negated (-x), as a wrong rescale leaves it."""
    sitk.WriteImage(-sitk.Cast(sitk.ReadImage(str(HEAD_MR)), sitk.sitkFloat32), str(path))
    return path


def inverted_head(path: Path) -> Path:
    """The real head MR inverted (max - x), as a viewer's "invert" leaves it."""
    image = sitk.Cast(sitk.ReadImage(str(HEAD_MR)), sitk.sitkFloat32)
    sitk.WriteImage(float(sitk.GetArrayViewFromImage(image).max()) - image, str(path))
    return path


def oblique_slice(path: Path) -> Path:
    """One axial slice of the real head MR after tilting its axes (a 2D image from an oblique volume)."""
    head = sitk.ReadImage(str(HEAD_MR))
    tilt = sitk.Euler3DTransform()
    tilt.SetRotation(0.3, 0.2, 0.1)
    head.SetDirection(tuple((np.asarray(tilt.GetMatrix()).reshape(3, 3) @ np.asarray(head.GetDirection()).reshape(3, 3)).ravel()))
    size = list(head.GetSize())
    sitk.WriteImage(sitk.Extract(head, size[:2] + [0], [0, 0, size[2] // 2]), str(path))
    return path


def slice_in_3d_space(path: Path) -> Path:
    """A 2D NRRD whose axes point into 3D patient space, as Slicer saves one oblique slice."""
    pixels = np.random.default_rng(0).integers(0, 100, (20, 30)).astype("<i2")
    header = ("NRRD0004\ntype: short\ndimension: 2\nspace: left-posterior-superior\nsizes: 30 20\n"
              "space directions: (0.9,0.3,0.1) (-0.3,0.9,0.2)\nkinds: domain domain\nendian: little\n"
              "encoding: raw\nspace origin: (0,0,0)\n\n")
    path.write_bytes(header.encode() + pixels.tobytes())
    return path


def labels_like(path: Path, shift_voxels: int = 0, empty: bool = False) -> Path:
    """A label map on :func:`volume`'s grid (a 16³ block of label 1), optionally empty or moved
    ``shift_voxels`` along x (a map from another space, partly off the image)."""
    values = np.zeros((16, 16, 16), np.uint8) if empty else np.ones((16, 16, 16), np.uint8)
    labels = sitk.GetImageFromArray(values)
    labels.SetOrigin((float(shift_voxels), 0.0, 0.0))
    sitk.WriteImage(labels, str(path))
    return path
