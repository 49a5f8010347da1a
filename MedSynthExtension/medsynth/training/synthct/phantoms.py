"""Paired MR/CT head phantoms made from real material in ``shared/data``.

There is no real paired MR + CT of one person offline, so the built-in model learns from pairs
that share one anatomy by construction:

* **the real head CT** (``ct_head/``): its HU are the CT target as they are (real bone and
  soft-tissue texture, a real skull base and face); tissues are segmented from it (body, air,
  fat, muscle, bone, intracranial CSF / grey / white matter) and an MR is *simulated* from them;
* **the SPM tissue probability maps** (``templates/TPM``): randomised hard tissue labels (a
  different head in every realisation), CT values drawn per tissue around real-CT HU with
  bone texture taken from the real head CT's skull, and an MR simulated from the labels;
* **the IXI heads** (``subjects_t1/``): ten real head outlines, brains (their DLMUSE
  parcellations) and scalp/skull layers classified from the T1 (see :func:`ixi_sources`).

Each draw then deforms the anatomy (rotation, anisotropic scaling, elastic warp, left/right
flip), picks a random MR contrast (T1-like tissue ordering most of the time, fully random
otherwise), and adds MR acquisition effects (bias field, blur, noise, gamma, zeroed
background). Some draws are *template pairs*: the MR is the average of one simulated population
of that anatomy and the CT the average of another, as a public MR template and a CT template
line up; some have the CT slightly misregistered, as registered real pairs do; some are blurred
together with their CT (low-resolution scans). A smooth, noise-free MR must therefore map to a
smooth CT, not to a sharp skull. The MR is normalised and masked exactly as the runtime does.

Validation data never enters here: not ``templates/avg152*``, ``scct*`` nor ``head_mr_skull/``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.normalize import normalize
from medsynth.tasks.masks import fill_holes, foreground_mask_array, largest_component
from medsynth.training.synthct.spec import HU_RANGE, SynthCTSpec
from medsynth.training.synthct.volumes import TrainingVolume

#: Brain label values in :attr:`PhantomSource.brain` (0 = not intracranial soft tissue).
CSF, GM, WM = 1, 2, 3


@dataclass
class PhantomSource:
    """One anatomy at its own resolution, LPS-oriented arrays in (z, y, x) order.

    ``hu``: CT in HU (air −1000 outside the body); ``brain``: 0 outside the intracranial soft
    tissue, else CSF / GM / WM; ``centre_index``: the (z, y, x) index of the centre of the
    intracranial space, around which training volumes are cut.
    """

    name: str
    hu: np.ndarray
    brain: np.ndarray
    spacing_zyx: tuple[float, float, float]
    centre_index: np.ndarray


@dataclass(frozen=True)
class AugmentationRanges:
    """Ranges of the random draws (documented physics in the module docstring).

    Angles in degrees, lengths in mm unless the name says voxels (of the model grid).
    """

    rotation_deg: float = 12.0
    scale_range: tuple[float, float] = (0.88, 1.12)
    shift_mm: float = 12.0
    elastic_mm: float = 3.0
    elastic_points: int = 5
    joint_blur_probability: float = 0.3
    joint_blur_voxels: tuple[float, float] = (0.4, 2.0)
    mr_blur_voxels: float = 0.8
    bias_strength: float = 0.25
    texture_strength: float = 0.06
    noise_range: tuple[float, float] = (0.012, 0.05)
    gamma_log_std: float = 0.25
    random_contrast_probability: float = 0.2
    population_probability: float = 0.9
    population_members: tuple[int, int] = (10, 20)
    population_scale: float = 0.05
    population_rotation_deg: float = 3.0
    population_shift_mm: float = 3.0
    population_elastic_mm: float = 3.0
    population_blur_voxels: tuple[float, float] = (0.6, 1.5)
    population_spread: tuple[float, float] = (0.8, 2.5)
    misregistration_probability: float = 0.3
    misregistration_mm: float = 1.0
    zero_background_probability: float = 0.3


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------

def read_lps(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A 3D image reoriented to LPS as a float32 (z, y, x) array, with its (z, y, x) spacing."""
    image = sitk.DICOMOrient(sitk.ReadImage(str(path)), "LPS")
    return sitk.GetArrayFromImage(image).astype(np.float32), tuple(reversed(image.GetSpacing()))


def _ball(radius_mm: float, spacing_zyx: Sequence[float]) -> np.ndarray:
    half = [int(np.ceil(radius_mm / s)) for s in spacing_zyx]
    grids = np.meshgrid(*[np.arange(-h, h + 1) * s for h, s in zip(half, spacing_zyx)], indexing="ij")
    return sum(g ** 2 for g in grids) <= radius_mm ** 2


def segment_head_ct(hu: np.ndarray, spacing_zyx: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Body mask and intracranial brain labels (CSF/GM/WM) of a head CT in HU.

    Body: HU > −400, largest component (drops the head holder), holes filled. Intracranial soft
    tissue: −20…150 HU voxels, eroded by 3.5 mm (cuts the brain off the scalp through the skull
    foramina), largest component, grown back inside the soft tissue. CSF: HU smoothed over
    1.5 mm below 12 HU, in pieces of at least 0.2 ml (noise specks are not CSF). Grey matter: a
    3 mm ribbon along CSF and the brain surface (CT hardly separates grey from white matter,
    but the simulated MR needs a cortex).
    """
    body = fill_holes(largest_component(hu > -400))
    soft = (hu >= -20) & (hu < 150) & body
    ball = _ball(3.5, spacing_zyx)
    intracranial = ndi.binary_dilation(largest_component(ndi.binary_erosion(soft, ball)), ball) & soft
    intracranial = ndi.binary_fill_holes(intracranial) & (hu < 150)
    smooth = ndi.gaussian_filter(hu, [1.5 / s for s in spacing_zyx])
    csf = _without_small_pieces(intracranial & (smooth < 12), 200.0, spacing_zyx)
    tissue = intracranial & ~csf
    distance = ndi.distance_transform_edt(tissue, sampling=spacing_zyx)
    brain = np.zeros(hu.shape, np.uint8)
    brain[tissue] = WM
    brain[tissue & (distance <= 3.0)] = GM
    brain[csf] = CSF
    return body, brain


def _without_small_pieces(mask: np.ndarray, min_mm3: float, spacing_zyx: Sequence[float]) -> np.ndarray:
    labels, count = ndi.label(mask)
    if count == 0:
        return mask
    sizes = np.bincount(labels.ravel()) * float(np.prod(spacing_zyx))
    keep = sizes >= min_mm3
    keep[0] = False
    return keep[labels]


def ct_head_source(data_dir: Path) -> PhantomSource:
    """The real head CT as a phantom: real HU (head holder removed) + segmented brain labels."""
    hu, spacing = read_lps(data_dir / "ct_head" / "cranium_ct.nii.gz")
    body, brain = segment_head_ct(hu, spacing)
    hu = np.where(body, hu, -1000.0).astype(np.float32)
    return PhantomSource("ct_head", hu, brain, spacing, _centre(brain > 0))


#: DLMUSE (MUSE) label values of the ventricles: 3rd, 4th, right/left inferior lateral, right/left lateral.
MUSE_VENTRICLES = (4, 11, 49, 50, 51, 52)


def ixi_sources(data_dir: Path, bone_quantiles: np.ndarray) -> list[PhantomSource]:
    """The ten IXI heads of ``subjects_t1/`` as phantoms (real head, scalp and brain shapes).

    The T1 is read as a tissue map, relative to its white-matter level r = T1 / WM:
    brain from the DLMUSE parcellation (ventricles → CSF, else r < 0.5 CSF, < 0.85 GM, else WM);
    dark (r < 0.3) voxels touching the brain (2 mm) → extracerebral CSF; dark voxels within
    12 mm of the intracranial space → skull tables (bone HU from the real skull's upper
    quantiles), closed by 3 mm so the diploë between the tables is bone too (marrow HU from the
    lower quantiles); other thick dark regions → air (sinuses, airways); the rest of the body →
    soft tissue whose HU goes from muscle (40) to fat (−90) as r rises from 0.6 to 1.1. A
    heuristic pseudo-CT: the real value of these phantoms is the geometry, not the HU.
    """
    folder = data_dir / "subjects_t1"
    sources = []
    for path in sorted(folder.glob("IXI*-T1_ds.nii.gz")):
        labels_path = folder / "dlmuse" / path.name.replace(".nii.gz", "_DLMUSE.nii.gz")
        t1, spacing = read_lps(path)
        labels, _ = read_lps(labels_path)
        sources.append(_ixi_source(path.name.split("-")[0], t1, np.rint(labels).astype(np.int32), spacing,
                                   bone_quantiles))
    return sources


def _ixi_source(name: str, t1: np.ndarray, labels: np.ndarray, spacing: tuple[float, float, float],
                bone_quantiles: np.ndarray) -> PhantomSource:
    parcellated = ndi.binary_fill_holes(labels > 0)
    values = t1[parcellated]
    ratio = t1 / float(np.median(values[values > np.percentile(values, 60)]))
    body = foreground_mask_array(t1, spacing, 0.0, 0.5)
    brain = np.zeros(t1.shape, np.uint8)
    brain[parcellated] = np.where(ratio[parcellated] < 0.5, CSF, np.where(ratio[parcellated] < 0.85, GM, WM))
    brain[np.isin(labels, MUSE_VENTRICLES)] = CSF
    dark = (ratio < 0.3) & body
    outer_csf = ndi.binary_dilation(parcellated, _ball(2.0, spacing)) & dark & ~parcellated
    brain[outer_csf] = CSF
    intracranial = brain > 0
    distance = ndi.distance_transform_edt(~intracranial, sampling=spacing)
    tables = dark & ~intracranial & (distance <= 12.0)
    bone = ndi.binary_closing(tables, _ball(3.0, spacing)) & body & ~intracranial
    quantile = np.linspace(0, 1, len(bone_quantiles))
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # stable across runs (str hash is salted)
    texture = _uniform_field(t1.shape, 1.0, rng)
    fat = np.clip((ratio - 0.6) / 0.5, 0, 1)
    hu = np.where(body, 40.0 * (1 - fat) - 90.0 * fat, -1000.0).astype(np.float32)
    air = ndi.binary_opening(dark & ~bone & ~intracranial, iterations=1)
    hu[air] = -1000.0
    hu[bone] = np.interp(0.45 + 0.5 * texture[bone], quantile, bone_quantiles)
    marrow = bone & ~tables
    hu[marrow] = np.interp(0.05 + 0.35 * texture[marrow], quantile, bone_quantiles)
    hu[intracranial] = 20.0
    return PhantomSource(f"ixi-{name}", hu, brain, spacing, _centre(intracranial))


def skull_hu_quantiles(source: PhantomSource, count: int = 101) -> np.ndarray:
    """Quantiles (0…1 in ``count`` steps) of the HU of a real skull: texture for label phantoms."""
    bone = source.hu[(source.hu > 250) & (source.brain == 0)]
    return np.percentile(bone, np.linspace(0, 100, count)).astype(np.float32)


def tpm_sources(data_dir: Path, count: int, bone_quantiles: np.ndarray, seed: int) -> list[PhantomSource]:
    """``count`` random heads from the SPM tissue probability maps (GM, WM, CSF, bone, soft, air)."""
    tpm = sitk.ReadImage(str(data_dir / "templates" / "TPM.nii.gz"))
    size = list(tpm.GetSize())
    classes = []
    for index in range(6):
        volume = sitk.Extract(tpm, size[:3] + [0], [0, 0, 0, index])
        classes.append(sitk.GetArrayFromImage(sitk.DICOMOrient(volume, "LPS")))
    probabilities = np.stack(classes).astype(np.float32)
    spacing = tuple(reversed(volume.GetSpacing()))
    rng = np.random.default_rng(seed)
    return [_tpm_realisation(probabilities, spacing, bone_quantiles, rng, f"tpm{i:02d}") for i in range(count)]


def _tpm_realisation(probabilities: np.ndarray, spacing: tuple[float, float, float], bone_quantiles: np.ndarray,
                     rng: np.random.Generator, name: str) -> PhantomSource:
    """Hard labels = argmax(log p + smooth noise): boundaries wander by a few mm between draws."""
    logits = np.log(probabilities + 1e-3)
    for index in range(len(logits)):
        logits[index] += _smooth_noise(logits.shape[1:], 3.0, rng) * 0.6
    labels = np.argmax(logits, axis=0)
    gm_hu, wm_hu, csf_hu = rng.normal(37, 3), rng.normal(27, 3), rng.normal(9, 4)
    hu = np.full(labels.shape, -1000.0, np.float32)
    hu[labels == 0] = gm_hu
    hu[labels == 1] = wm_hu
    hu[labels == 2] = csf_hu
    hu[labels < 3] += _smooth_noise(labels.shape, 1.0, rng)[labels < 3] * 3.0
    bone = labels == 3
    bone_u = _uniform_field(labels.shape, 2.5, rng)
    hu[bone] = np.interp(bone_u[bone], np.linspace(0, 1, len(bone_quantiles)), bone_quantiles)
    soft = labels == 4
    fat = _uniform_field(labels.shape, 3.0, rng) ** 1.5
    hu[soft] = (fat * rng.normal(-95, 10) + (1 - fat) * rng.normal(45, 8))[soft]
    brain = np.zeros(labels.shape, np.uint8)
    brain[labels == 2] = CSF
    brain[labels == 0] = GM
    brain[labels == 1] = WM
    return PhantomSource(name, hu, brain, spacing, _centre(brain > 0))


def _centre(mask: np.ndarray) -> np.ndarray:
    return np.array([np.mean(axis) for axis in np.nonzero(mask)], dtype=np.float64)


def _smooth_noise(shape: Sequence[int], sigma_voxels: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian noise smoothed with ``sigma_voxels`` (computed coarse, upsampled)."""
    factor = max(1, int(sigma_voxels))
    coarse_shape = [max(2, int(np.ceil(s / factor))) for s in shape]
    coarse = ndi.gaussian_filter(rng.standard_normal(coarse_shape).astype(np.float32), sigma_voxels / factor)
    coarse /= coarse.std() + 1e-6
    return _resize(coarse, shape)


def _uniform_field(shape: Sequence[int], sigma_voxels: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth random field with values uniformly spread over 0…1 (Gaussian field through its CDF)."""
    from scipy.special import ndtr
    return ndtr(_smooth_noise(shape, sigma_voxels, rng)).astype(np.float32)


def _resize(array: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Separable linear interpolation of a small ``array`` onto ``shape`` (corners aligned).

    Done as one small matrix product per axis, which is ~50× faster than ``map_coordinates``
    for the coarse random fields (noise, bias, elastic displacements) it is used for.
    """
    out = np.asarray(array, dtype=np.float32)
    for axis, (have, want) in enumerate(zip(array.shape, shape)):
        if have == want:
            continue
        position = np.linspace(0, have - 1, want)
        low = np.minimum(np.floor(position).astype(int), have - 2) if have > 1 else np.zeros(want, int)
        weights = np.zeros((want, have), np.float32)
        frac = position - low if have > 1 else np.zeros(want)
        weights[np.arange(want), low] = 1 - frac
        if have > 1:
            weights[np.arange(want), low + 1] += frac
        out = np.moveaxis(np.tensordot(weights, np.moveaxis(out, axis, 0), axes=(1, 0)), 0, axis)
    return np.ascontiguousarray(out, dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# MR contrast
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Contrast:
    """MR signal (arbitrary units, white matter ≈ 1 for T1-like draws) per tissue.

    Outside the brain the signal is a piecewise-linear function of HU through the control points
    air (−1000 HU), fat (−100), muscle (40), marrow-rich bone (``bone_low_hu``) and cortical bone
    (``bone_high_hu``): partial-volume voxels of the CT get blended MR signal, and a skull's
    diploë (lower HU, fatty marrow) is brighter than its tables, as on T1.
    """

    air: float
    fat: float
    muscle: float
    marrow: float
    cortical: float
    csf: float
    gm: float
    wm: float
    bone_low_hu: float
    bone_high_hu: float

    def hu_points(self) -> np.ndarray:
        return np.array([-1000.0, -100.0, 40.0, self.bone_low_hu, self.bone_high_hu], np.float32)

    def mr_points(self) -> np.ndarray:
        return np.array([self.air, self.fat, self.muscle, self.marrow, self.cortical], np.float32)


def random_contrast(rng: np.random.Generator, random_probability: float) -> Contrast:
    """T1-like tissue ordering (WM > GM > CSF, bright fat, dark bone and air) or, with
    ``random_probability``, any signal per tissue except air and cortical bone, which give no
    signal in any conventional MR sequence."""
    air = rng.uniform(0.0, 0.04)
    cortical = rng.uniform(0.0, 0.15)
    bone_low, bone_high = rng.uniform(200, 450), rng.uniform(800, 1400)
    if rng.random() < random_probability:
        fat, muscle, marrow, csf, gm, wm = rng.uniform(0.1, 1.0, 6)
        return Contrast(air, fat, muscle, marrow, cortical, csf, gm, wm, bone_low, bone_high)
    return Contrast(air=air, fat=rng.uniform(0.8, 1.6), muscle=rng.uniform(0.35, 0.75), marrow=rng.uniform(0.25, 1.3),
                    cortical=cortical, csf=rng.uniform(0.08, 0.4), gm=rng.uniform(0.55, 0.85), wm=rng.uniform(0.9, 1.1),
                    bone_low_hu=bone_low, bone_high_hu=bone_high)


def simulate_mr(source: PhantomSource, contrast: Contrast) -> np.ndarray:
    """Noise-free MR signal at the source's resolution (float32)."""
    mr = np.interp(source.hu, contrast.hu_points(), contrast.mr_points()).astype(np.float32)
    lut = np.array([0.0, contrast.csf, contrast.gm, contrast.wm], np.float32)
    inside = source.brain > 0
    mr[inside] = lut[source.brain[inside]]
    return mr


# ---------------------------------------------------------------------------------------------
# Volumes on the model grid
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pose:
    """Where a model-grid box lands in a source: ``source_mm = matrix @ grid_mm + shift_mm``."""

    matrix: np.ndarray
    shift_mm: np.ndarray


def random_pose(rng: np.random.Generator, ranges: AugmentationRanges) -> Pose:
    """Random rotation, anisotropic scaling, left/right mirror (x is the last array axis) and shift."""
    angles = np.deg2rad(rng.uniform(-ranges.rotation_deg, ranges.rotation_deg, 3))
    matrix = _rotation(angles) @ np.diag(rng.uniform(*ranges.scale_range, 3))
    if rng.random() < 0.5:
        matrix = matrix @ np.diag([1.0, 1.0, -1.0])
    return Pose(matrix, rng.uniform(-ranges.shift_mm, ranges.shift_mm, 3))


def member_pose(pose: Pose, rng: np.random.Generator, ranges: AugmentationRanges, spread: float = 1.0) -> Pose:
    """One member of a simulated population around ``pose``: its own head size, tilt and position,
    as the scans averaged into a template still differ after affine registration. ``spread``
    scales the population ranges (how tightly a template's scans were registered)."""
    angle = ranges.population_rotation_deg * spread
    jitter = np.deg2rad(rng.uniform(-angle, angle, 3))
    scale = 1 + rng.uniform(-ranges.population_scale, ranges.population_scale, 3) * spread
    shift = pose.shift_mm + rng.uniform(-ranges.population_shift_mm, ranges.population_shift_mm, 3) * spread
    return Pose(pose.matrix @ _rotation(jitter) @ np.diag(scale), shift)


def source_coordinates(source: PhantomSource, shape: Sequence[int], spacing_zyx: Sequence[float], pose: Pose,
                       elastic_mm: float, rng: np.random.Generator, elastic_points: int = 5) -> np.ndarray:
    """Source index coordinates (3, *shape) of the model-grid box placed by ``pose`` and warped by a
    smooth random displacement of ``elastic_mm`` standard deviation."""
    axes = [(np.arange(n, dtype=np.float32) - (n - 1) / 2) * s for n, s in zip(shape, spacing_zyx)]
    points = np.stack(np.meshgrid(*axes, indexing="ij")).reshape(3, -1)
    if elastic_mm > 0:
        coarse = rng.normal(0, elastic_mm, (3,) + (elastic_points,) * 3).astype(np.float32)
        points = points + np.stack([_resize(c, shape) for c in coarse]).reshape(3, -1)
    mm = pose.matrix.astype(np.float32) @ points + pose.shift_mm[:, None].astype(np.float32)
    index = source.centre_index[:, None] + mm / np.asarray(source.spacing_zyx, np.float32)[:, None]
    return index.reshape(3, *shape).astype(np.float32)


def _rotation(angles: np.ndarray) -> np.ndarray:
    matrix = np.eye(3)
    for axis, angle in enumerate(angles):
        c, s = np.cos(angle), np.sin(angle)
        i, j = [a for a in range(3) if a != axis]
        rotation = np.eye(3)
        rotation[i, i], rotation[i, j], rotation[j, i], rotation[j, j] = c, -s, s, c
        matrix = matrix @ rotation
    return matrix


def make_volume(source: PhantomSource, spec: SynthCTSpec, shape: Sequence[int], rng: np.random.Generator,
                ranges: AugmentationRanges = AugmentationRanges(), name: str = "") -> TrainingVolume:
    """One random MR/CT pair of ``source`` on a model-grid box of ``shape`` (z, y, x).

    Two kinds of pairs: a single head (MR and CT share one deformation; with
    ``misregistration_probability`` the CT gets a small extra warp, as registered real pairs
    do); or a template pair: the MR is the average of one simulated population and the CT the
    average of another (``population_members`` each around the same pose, each population with
    its own, independently drawn spread), which is how a public MR template and a CT template made from
    other people, registered differently, line up. Given a smooth MR, the network cannot know
    how blurred the CT template is, and learns the median: a smooth, dimmer skull.
    """
    contrast = random_contrast(rng, ranges.random_contrast_probability)
    signal = simulate_mr(source, contrast)
    pose = random_pose(rng, ranges)
    members = 1
    sample = lambda volume, where, air: ndi.map_coordinates(volume, where, order=1, mode="constant", cval=air)  # noqa: E731
    if rng.random() < ranges.population_probability:
        low, high = ranges.population_members
        members, ct_members = (int(rng.integers(low, high + 1)) for _ in range(2))
        mr_spread, ct_spread = rng.uniform(*ranges.population_spread, 2)

        def average(volume: np.ndarray, count: int, spread: float, air: float) -> np.ndarray:
            return sum(sample(volume, source_coordinates(source, shape, spec.spacing_zyx,
                                                         member_pose(pose, rng, ranges, spread),
                                                         ranges.population_elastic_mm * spread, rng), air)
                       for _ in range(count)) / count

        mr = average(signal, members, mr_spread, contrast.air)
        ct = average(source.hu, ct_members, ct_spread, -1000.0)
        mr = ndi.gaussian_filter(mr, rng.uniform(*ranges.population_blur_voxels))  # templates are smoothed, and a
        ct = ndi.gaussian_filter(ct, rng.uniform(*ranges.population_blur_voxels))  # few members would leave ghosts
    else:
        where = source_coordinates(source, shape, spec.spacing_zyx, pose, ranges.elastic_mm, rng)
        mr = sample(signal, where, contrast.air)
        if rng.random() < ranges.misregistration_probability:
            where = where + _misregistration(shape, source.spacing_zyx, ranges.misregistration_mm, rng)
        ct = sample(source.hu, where, -1000.0)
    mr, ct = mr.astype(np.float32), ct.astype(np.float32)
    if rng.random() < ranges.joint_blur_probability:
        sigma = rng.uniform(*ranges.joint_blur_voxels) * rng.uniform(0.8, 1.2, 3)
        mr, ct = ndi.gaussian_filter(mr, sigma), ndi.gaussian_filter(ct, sigma)
    mr = _acquire(mr, ct, contrast, rng, ranges, noise_scale=1.0 if members == 1 else members ** -0.5)
    mask = foreground_mask_array(mr, spec.spacing_zyx, spec.mask_margin_mm, spec.mask_threshold_fraction)
    network_input = normalize(mr, spec.normalization)
    return TrainingVolume(name or source.name, network_input, np.clip(ct, *HU_RANGE), mask)


def _misregistration(shape: Sequence[int], source_spacing_zyx: Sequence[float], amplitude_mm: float,
                     rng: np.random.Generator) -> np.ndarray:
    """A smooth displacement (source voxels, (3, *shape)): shift plus warp of ``amplitude_mm``."""
    coarse = rng.normal(0, amplitude_mm, (3, 4, 4, 4)) + rng.normal(0, amplitude_mm, (3, 1, 1, 1))
    field = np.stack([_resize(c.astype(np.float32), shape) for c in coarse])
    return field / np.asarray(source_spacing_zyx, np.float32).reshape(3, 1, 1, 1)


def _acquire(mr: np.ndarray, ct: np.ndarray, contrast: Contrast, rng: np.random.Generator,
             ranges: AugmentationRanges, noise_scale: float = 1.0) -> np.ndarray:
    """MR acquisition effects: blur, tissue texture, bias field, Rician-like noise, gamma, background.

    ``noise_scale`` < 1 for population averages (averaging n scans divides the noise by √n)."""
    shape = mr.shape
    blur = rng.uniform(0, ranges.mr_blur_voxels, 3)
    if blur.max() > 0.2:
        mr = ndi.gaussian_filter(mr, blur)
    mr = mr * (1 + ranges.texture_strength * rng.random() * _smooth_noise(shape, 1.0, rng))
    bias = rng.normal(0, ranges.bias_strength, (4, 4, 4)).astype(np.float32)
    mr = mr * np.exp(_resize(bias, shape))
    level = max(contrast.wm, contrast.fat, contrast.gm)
    noise = rng.uniform(*ranges.noise_range) * level * noise_scale
    mr = np.hypot(mr + rng.normal(0, noise, shape).astype(np.float32), rng.normal(0, noise, shape).astype(np.float32))
    mr = np.maximum(mr, 0) / (np.percentile(mr, 99.9) + 1e-6)
    mr = np.power(np.minimum(mr, 4.0), np.exp(rng.normal(0, ranges.gamma_log_std)))
    if rng.random() < ranges.zero_background_probability:
        body = ndi.binary_dilation(ct > -500, iterations=2)
        mr = np.where(body, mr, 0.0)
    return mr.astype(np.float32)
