"""Real images that travel with the repository, for tests that need more than one file of a kind.

Sources: the files committed under ``Testing/data`` (see its README) and the templates inside the
packages ``Testing/requirements.txt`` installs (nilearn's MNI152 2009a, pydeface's mean head), so
that a fresh clone without ``../shared`` runs these tests.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.io import read_image

TEST_DATA = Path(__file__).resolve().parent / "data"
#: (package, file inside it) of the package-shipped real images.
MNI152_T1 = ("nilearn", "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz")
MEAN_HEAD = ("pydeface", "data/mean_reg2mean.nii.gz")
NIBABEL_4D = ("nibabel", "tests/data/example4d.nii.gz")


def package_file(package: str, inner: str) -> Path:
    """A data file shipped inside an installed package (``Testing/requirements.txt`` installs it)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"{package} is not installed (pip install -r Testing/requirements.txt)")
    path = Path(spec.origin).parent / inner
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {package}")
    return path


def on_2mm_grid(image: sitk.Image) -> sitk.Image:
    """``image`` linearly resampled to 2 mm on its own origin and direction (the size of the other test scans)."""
    size = [round(n * s / 2.0) for n, s in zip(image.GetSize(), image.GetSpacing())]
    resampled = sitk.Resample(sitk.Cast(image, sitk.sitkFloat32), size, sitk.Transform(), sitk.sitkLinear,
                              image.GetOrigin(), (2.0,) * 3, image.GetDirection(), 0.0, sitk.sitkFloat32)
    return sitk.Cast(sitk.Round(resampled), sitk.sitkInt16)


def t1_cohort() -> dict[str, sitk.Image]:
    """Four real T1 volumes from four sources, at 2 mm, by a case name that says where each is from:
    a mean head, one person's whole head, another person's brain-extracted stroke scan, the MNI152 brain."""
    return {
        "sub01-mean_head": on_2mm_grid(read_image(package_file(*MEAN_HEAD))),
        "sub02-head_mr_skull": read_image(TEST_DATA / "head_mr_skull_2mm.nii.gz"),
        "sub03-stroke": read_image(TEST_DATA / "stroke_2mm" / "T1.nii.gz"),
        "sub04-mni152": on_2mm_grid(read_image(package_file(*MNI152_T1))),
    }


def centre_crop(image: sitk.Image, edge: int) -> sitk.Image:
    """The ``edge``³-voxel block at the centre of ``image`` (same spacing and direction)."""
    start = [(n - edge) // 2 for n in image.GetSize()]
    return sitk.RegionOfInterest(image, [edge] * 3, start)


def coarse_muse_labels(t1: sitk.Image) -> sitk.Image:
    """A coarse MUSE-numbered label map of the committed head T1 ``t1`` (any grid of that scan):
    its own brain mask (Seg3D, drawn for this person), split by intensity into white matter (81),
    cortex (100) and lateral ventricles (51), with a hippocampus (47/48) ball each side of the
    centre. Enough to lay out regions for the future-MRI chain; not an anatomical parcellation."""
    brain = sitk.Resample(read_image(TEST_DATA / "head_mr_skull" / "Brain.nrrd"), t1, sitk.Transform(),
                          sitk.sitkNearestNeighbor, 0)
    inside = sitk.GetArrayFromImage(brain) > 0
    voxels = sitk.GetArrayFromImage(t1)
    dark, bright = np.percentile(voxels[inside], [15, 60])
    values = np.zeros(voxels.shape, np.uint8)
    values[inside] = 100
    values[inside & (voxels >= bright)] = 81
    values[inside & (voxels < dark)] = 51
    centre = np.argwhere(inside).mean(axis=0)
    grid = np.indices(voxels.shape).transpose(1, 2, 3, 0)
    for side, label in ((-12, 47), (12, 48)):
        ball = np.linalg.norm(grid - (centre + (-6, 0, side)), axis=-1) <= 3
        values[ball & inside] = label
    labels = sitk.GetImageFromArray(values)
    labels.CopyInformation(t1)
    return labels
