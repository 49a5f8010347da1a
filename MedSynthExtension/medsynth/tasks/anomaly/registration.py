"""Affine registration of a T1 head or brain MRI to an MNI-space template (SimpleITK only).

Why: a healthy-brain model compares a scan with what a healthy brain looks like *at the same
place*; lesion masks drawn in MNI space must land on the right anatomy of a native scan; and a
brain mask can be taken from a population prior once the scan is aligned. An affine (12
parameter) alignment is what the anomaly model was trained with (its training images were
registered the same way), so remaining non-linear differences are part of "healthy".

Recipe: centre-of-mass initialisation, then a rigid and an affine stage, each multi-resolution
(shrink 4-2 voxels, smoothing 2-1 voxels: an affine needs no finer level and this keeps a
registration at a few seconds on two cores), Mattes mutual information (32 bins, 10 % of
voxels, fixed random seed), regular-step gradient descent with physical-shift scaling. Mutual
information makes the result independent of MR intensity units. ``fixed_mask`` restricts the
metric to the template's head or brain, which matters when the moving image is brain-extracted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from medsynth.errors import Cancelled, InputError
from medsynth.itk_threads import itk_threads
from medsynth.runtime.sliding_window import CancelCheck

#: Seed of the metric's random sampling: the same scan always gives the same transform.
REGISTRATION_SEED = 20251125
#: A registration whose final mutual information is above this (Mattes MI is negative; closer to
#: 0 is worse) did not find the brain; refuse rather than score the wrong anatomy.
MI_FAILURE_LEVEL = -0.05


@dataclass(frozen=True)
class Registration:
    """``transform`` maps template (fixed) physical points to the scan's (moving) points (LPS mm),
    as ITK resampling expects; ``metric`` is the final Mattes mutual information (lower = better)."""

    transform: sitk.Transform
    metric: float

    def inverse(self) -> sitk.Transform:
        """Scan → template points (for putting template-space maps onto the scan's grid)."""
        return self.transform.GetInverse()


def register_affine(moving: sitk.Image, fixed: sitk.Image, fixed_mask: sitk.Image | None = None,
                    cancelled: CancelCheck | None = None) -> Registration:
    """Affinely align ``moving`` (a scan) to ``fixed`` (a template); neither image is modified.

    Raises :class:`InputError` when the alignment fails (e.g. the scan is not a head), and
    :class:`Cancelled` when ``cancelled()`` turns true between iterations. ITK runs on one thread
    here: its multi-threaded moment and metric sums differ run to run, and so would the findings.
    """
    with itk_threads(1):
        return _register(moving, fixed, fixed_mask, cancelled)


def _register(moving: sitk.Image, fixed: sitk.Image, fixed_mask: sitk.Image | None,
              cancelled: CancelCheck | None) -> Registration:
    fixed_f = sitk.Cast(fixed, sitk.sitkFloat32)
    moving_f = sitk.Cast(moving, sitk.sitkFloat32)
    try:
        initial = sitk.CenteredTransformInitializer(fixed_f, moving_f, sitk.Euler3DTransform(),
                                                    sitk.CenteredTransformInitializerFilter.MOMENTS)
    except RuntimeError as exc:
        raise InputError(f"Cannot align the scan with the template ({exc}); is it a head MRI?") from None
    rigid, _ = _run_stage(fixed_f, moving_f, initial, fixed_mask, cancelled, iterations=80)
    affine = sitk.AffineTransform(3)
    affine.SetMatrix(rigid.GetMatrix())
    affine.SetTranslation(rigid.GetTranslation())
    affine.SetCenter(rigid.GetCenter())
    final, metric = _run_stage(fixed_f, moving_f, affine, fixed_mask, cancelled, iterations=100)
    if not np.isfinite(metric) or metric > MI_FAILURE_LEVEL:
        raise InputError("The scan could not be aligned with the brain template (mutual information "
                         f"{metric:.3f}). Check that it is a T1-weighted head or brain MRI covering the whole brain.")
    scales = np.linalg.svd(np.asarray(final.GetMatrix()).reshape(3, 3), compute_uv=False)
    if scales.min() < 0.6 or scales.max() > 1.6:
        raise InputError(f"Aligning the scan with the brain template needed a scaling of {scales.round(2).tolist()}, "
                         "far from an adult brain. Check that the image is a whole adult brain or head T1.")
    return Registration(final, metric)


def resample_to(image: sitk.Image, reference: sitk.Image, transform: sitk.Transform,
                interpolator: int = sitk.sitkLinear, default_value: float = 0.0) -> sitk.Image:
    """``image`` sampled on ``reference``'s grid through ``transform`` (reference → image points), float32."""
    return sitk.Resample(image, reference, transform, interpolator, default_value, sitk.sitkFloat32)


def _run_stage(fixed: sitk.Image, moving: sitk.Image, transform: sitk.Transform, fixed_mask: sitk.Image | None,
               cancelled: CancelCheck | None, iterations: int) -> tuple[sitk.Transform, float]:
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=32)
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(0.1, REGISTRATION_SEED)
    if fixed_mask is not None:
        method.SetMetricFixedMask(sitk.Cast(fixed_mask > 0, sitk.sitkUInt8))
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(learningRate=1.0, minStep=1e-3, numberOfIterations=iterations,
                                                    relaxationFactor=0.6, gradientMagnitudeTolerance=1e-6)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel([4, 2])
    method.SetSmoothingSigmasPerLevel([2, 1])
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    method.SetInitialTransform(transform, inPlace=False)
    if cancelled is not None:
        def check() -> None:
            if cancelled():
                method.StopRegistration()
        method.AddCommand(sitk.sitkIterationEvent, check)
    try:
        result = method.Execute(fixed, moving)
    except RuntimeError as exc:
        raise InputError(f"Aligning the scan with the brain template failed ({str(exc).splitlines()[-1]}).") from None
    if cancelled is not None and cancelled():
        raise Cancelled("Anomaly map cancelled during registration.")
    if isinstance(result, sitk.CompositeTransform) and result.GetNumberOfTransforms() == 1:
        result = result.GetNthTransform(0)
    result = result.Downcast() if hasattr(result, "Downcast") else result
    return result, float(method.GetMetricValue())
