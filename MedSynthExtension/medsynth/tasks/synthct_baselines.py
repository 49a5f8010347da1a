"""Simple synthetic-CT baselines that a learned model has to beat.

* **best constant**: the median HU of the real CT inside the evaluation mask (the single value
  that minimises the MAE; an oracle, it needs the CT);
* **bulk density**: every voxel gets the HU of its most likely tissue class;
* **probability-weighted**: every voxel gets Σ p(class) × HU(class).

Tissue classes are the six of the SPM tissue probability map (GM, WM, CSF, bone, soft tissue,
air). HU per class are the medians of the CT template ``scct_hu`` over voxels with class
probability ≥ 0.9 (``shared/data/templates/README.md``): 34, 19, 4, 517, 9, −964 HU.

Where the tissue probabilities come from:

* for an MR in the template space (``avg152T1``), the TPM itself, resampled onto its grid;
* for any other head MR, :func:`classify_mr`: the TPM is brought onto the MR by an affine
  registration of the SPM T1 template (Mattes mutual information), then a six-class Gaussian
  mixture of the MR intensities with the registered TPM as voxel-wise priors is fitted by EM
  (unified-segmentation style, without bias correction or warping); the posteriors are the
  probabilities.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.itk_threads import itk_threads

TISSUE_CLASSES = ("grey matter", "white matter", "CSF", "bone", "soft tissue", "air")
#: Median HU of ``scct_hu`` per class at probability ≥ 0.9 (templates/README.md).
CLASS_HU = (34.0, 19.0, 4.0, 517.0, 9.0, -964.0)


def best_constant(ct: np.ndarray, mask: np.ndarray) -> float:
    """The median HU of ``ct`` inside ``mask``: the constant with the lowest MAE there."""
    inside = np.asarray(mask) > 0
    if not inside.any():
        raise InputError("The evaluation mask is empty.")
    return float(np.median(np.asarray(ct, dtype=np.float64)[inside]))


def bulk_density(probabilities: np.ndarray, class_hu: Sequence[float] = CLASS_HU) -> np.ndarray:
    """HU of the most likely class per voxel; ``probabilities`` is (classes, z, y, x)."""
    return np.asarray(class_hu, np.float32)[np.argmax(probabilities, axis=0)]


def probability_weighted(probabilities: np.ndarray, class_hu: Sequence[float] = CLASS_HU) -> np.ndarray:
    """Σ p(class) × HU(class) / Σ p per voxel."""
    weights = np.asarray(class_hu, np.float32).reshape(-1, *([1] * (probabilities.ndim - 1)))
    total = np.maximum(probabilities.sum(axis=0), 1e-6)
    return ((probabilities * weights).sum(axis=0) / total).astype(np.float32)


def tpm_volumes(tpm: sitk.Image) -> list[sitk.Image]:
    """The 3D class volumes of a 4D tissue probability map (one per class)."""
    if tpm.GetDimension() != 4:
        raise InputError(f"A tissue probability map is a 4D image (x, y, z, class); got {tpm.GetDimension()}D.")
    size = list(tpm.GetSize())
    return [sitk.Extract(tpm, size[:3] + [0], [0, 0, 0, index]) for index in range(size[3])]


def tpm_probabilities(tpm: sitk.Image, reference: sitk.Image, transform: sitk.Transform | None = None) -> np.ndarray:
    """Class probabilities (classes, z, y, x) on ``reference``'s grid (linear; outside the TPM: air).

    ``transform`` maps ``reference`` physical points into TPM space (identity when the
    reference is already in template space).
    """
    transform = transform or sitk.Transform()
    volumes = tpm_volumes(tpm)
    out = []
    for index, volume in enumerate(volumes):
        outside = 1.0 if index == len(volumes) - 1 else 0.0
        resampled = sitk.Resample(volume, reference, transform, sitk.sitkLinear, outside, sitk.sitkFloat32)
        out.append(sitk.GetArrayFromImage(resampled))
    probabilities = np.clip(np.stack(out), 0, None)
    return probabilities / np.maximum(probabilities.sum(axis=0, keepdims=True), 1e-6)


#: Seed of the registration's random metric sampling (SimpleITK reads 0 as "wall clock": a new result every run).
REGISTRATION_SEED = 20261126


def register_template(template_t1: sitk.Image, mr: sitk.Image, seed: int = REGISTRATION_SEED,
                      spacing_mm: float = 3.0) -> sitk.Transform:
    """Affine transform mapping ``mr`` physical points into template space (Mattes MI, 3 levels).

    The MR is first smoothed and resampled to ``spacing_mm`` (the 2 mm template carries no finer
    detail), which makes the registration ~10× faster than on a 1 mm grid.
    """
    with itk_threads(1):  # multi-threaded sums (moments, metric) differ run to run; one thread is reproducible
        return _register(_resampled(sitk.Cast(mr, sitk.sitkFloat32), spacing_mm),
                         sitk.Cast(template_t1, sitk.sitkFloat32), seed)


def _register(fixed: sitk.Image, moving: sitk.Image, seed: int) -> sitk.Transform:
    initial = sitk.CenteredTransformInitializer(fixed, moving, sitk.AffineTransform(3),
                                                sitk.CenteredTransformInitializerFilter.MOMENTS)
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=32)
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(0.1, seed)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(learningRate=1.0, minStep=1e-4, numberOfIterations=200,
                                                    gradientMagnitudeTolerance=1e-6)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel([2, 1, 1])
    method.SetSmoothingSigmasPerLevel([2.0, 1.0, 0.0])
    method.SetInitialTransform(initial, inPlace=False)
    return method.Execute(fixed, moving)


def _resampled(image: sitk.Image, spacing_mm: float) -> sitk.Image:
    """``image`` smoothed (Gaussian, σ = spacing/2) and resampled to an isotropic ``spacing_mm`` grid."""
    spacing = np.asarray(image.GetSpacing(), float)
    if np.all(spacing >= spacing_mm * 0.9):
        return image
    size = [max(1, int(round(n * s / spacing_mm))) for n, s in zip(image.GetSize(), spacing)]
    smoothed = sitk.SmoothingRecursiveGaussian(image, spacing_mm / 2)
    return sitk.Resample(smoothed, size, sitk.Transform(), sitk.sitkLinear, image.GetOrigin(), [spacing_mm] * 3,
                         image.GetDirection(), 0.0, sitk.sitkFloat32)


def classify_mr(mr: sitk.Image, tpm: sitk.Image, template_t1: sitk.Image, iterations: int = 25,
                sample_voxels: int = 400_000) -> np.ndarray:
    """Tissue posteriors (classes, z, y, x) of ``mr`` on its own grid (see module docstring).

    The mixture is fitted on an even subsample of ``sample_voxels`` voxels (the parameters of six
    Gaussians do not need millions), then the posteriors are computed once for every voxel.
    """
    transform = register_template(template_t1, mr)
    priors = tpm_probabilities(tpm, mr, transform)
    intensities = sitk.GetArrayFromImage(mr).astype(np.float32).ravel()
    scale = float(np.percentile(intensities, 99.5)) or 1.0
    x = intensities / scale
    flat_priors = priors.reshape(len(priors), -1)
    step = max(1, x.size // sample_voxels)
    sample_x, sample_priors = x[::step].astype(np.float64), flat_priors[:, ::step].astype(np.float64)
    posterior = sample_priors
    for _ in range(iterations):
        means, variances = _gaussian_parameters(posterior, sample_x)
        posterior = _posterior(sample_priors, sample_x, means, variances)
    means, variances = _gaussian_parameters(posterior, sample_x)
    return _posterior(flat_priors, x, means, variances).reshape(priors.shape).astype(np.float32)


def _gaussian_parameters(posterior: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    weight = posterior.sum(axis=1) + 1e-9
    means = (posterior @ x) / weight
    variances = np.maximum((posterior @ x ** 2) / weight - means ** 2, 1e-4)
    return means, variances


def _posterior(priors: np.ndarray, x: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """p(class | x) ∝ prior × N(x; mean, variance), normalised over classes."""
    dtype = priors.dtype
    log_posterior = np.log(priors + dtype.type(1e-6))
    log_posterior -= (0.5 * ((x[None] - means[:, None].astype(dtype)) ** 2 / variances[:, None].astype(dtype)
                             + np.log(variances)[:, None].astype(dtype))).astype(dtype)
    log_posterior -= log_posterior.max(axis=0, keepdims=True)
    posterior = np.exp(log_posterior)
    posterior /= posterior.sum(axis=0, keepdims=True)
    return posterior
