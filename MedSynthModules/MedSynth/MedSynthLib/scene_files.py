"""Volumes and scenes to and from files through MRML storage nodes (no ``slicer.app`` needed).

Inside Slicer, ``slicer.util.loadVolume`` does the same with dialogs and options; these work
headless too, so the demo and the batch scripts can read inputs and write ``.mrb`` bundles.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import slicer


def load_volume(scene, path: str | os.PathLike, name: str | None = None):
    """Read a NIfTI / NRRD / MHA file into a new scalar volume node with Slicer's own reader."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Volume file not found: {path}")
    storage = slicer.vtkMRMLVolumeArchetypeStorageNode()
    storage.SetFileName(str(path))
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name or path.name.split(".")[0])
    if not storage.ReadData(node):
        scene.RemoveNode(node)
        raise ValueError(f"Slicer could not read {path} as a volume.")
    scene.AddNode(storage)
    node.SetAndObserveStorageNodeID(storage.GetID())
    node.CreateDefaultDisplayNodes()
    return node


def save_bundle(scene, path: str | os.PathLike) -> Path:
    """Write the whole scene with its data as a Medical Reality Bundle (``.mrb``), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Slicer names the bundle's inner folder and scene after the file, so write under the final
    # name inside a private folder beside the destination, then move it into place.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".mrb-") as staging:
        staged = Path(staging) / path.name
        if not scene.WriteToMRB(str(staged)):
            raise OSError(f"Could not write the scene bundle {path}.")
        os.replace(staged, path)
    return path


def load_bundle(scene, path: str | os.PathLike) -> None:
    """Replace the scene's content with a ``.mrb`` bundle."""
    if not scene.ReadFromMRB(str(path)):
        raise OSError(f"Could not read the scene bundle {path}.")
