"""SynthRAD2023 and SynthRAD2025 image metrics for a synthetic CT, as the challenges compute them.

Each metric is a short function with its intensity range, masking and clipping written out, so a
reader can check it against the challenge papers and ``/work/shared/METRICS.md``:

========  ==========================  ===========================================================
edition   metric                      rule
========  ==========================  ===========================================================
2023      MAE (HU)                    mean |ct - sct| over mask voxels; no clipping
2023      PSNR (dB)                   clip both to [-1024, 3000] HU; over mask voxels; R = 4024
2023      SSIM                        clip; outside mask := -1024; shift by +1024; 7^3 uniform
                                      window SSIM map; mean of the map over the mask, 3-voxel
                                      border excluded
2025      MAE (HU)                    as 2023 (outside mask := -1024 first, which MAE ignores)
2025      PSNR (dB)                   as 2023 with range [-1024, 3071] HU, R = 4095
2025      MS-SSIM                     5-level masked MS-SSIM on images padded to >= 97 voxels
========  ==========================  ===========================================================

The mask is always binarised as ``mask > 0`` and must not be empty. Inputs are numpy arrays or
SimpleITK images; images must share one voxel grid (resample first otherwise).

Precision: like the official 2023 code, 2023 metrics first round the inputs to float32 (which is
lossless for int16 CTs and float32 model outputs); everything after that is computed in float64.
The official code runs skimage's SSIM filters in the input's float type (float32 for 2023), so its
SSIM can differ from this float64 computation in the 5th-6th decimal; the challenge reports 3-4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.ndimage import uniform_filter
from scipy.signal import fftconvolve

from medsynth.errors import InputError
from medsynth.metrics._inputs import ArrayOrImage, binary_mask, require_finite, to_arrays

#: Intensity range (HU) used for clipping and as the PSNR/SSIM dynamic range, SynthRAD2023.
SYNTHRAD2023_RANGE_HU = (-1024.0, 3000.0)
#: Intensity range (HU) used for clipping and as the PSNR/SSIM dynamic range, SynthRAD2025.
SYNTHRAD2025_RANGE_HU = (-1024.0, 3071.0)
#: Side of the cubic uniform SSIM window (voxels); the map's border of half this is excluded.
SSIM_WINDOW = 7
#: SSIM stabilising constants (Wang et al. 2004): C1 = (K1 R)^2, C2 = (K2 R)^2.
SSIM_K1 = 0.01
SSIM_K2 = 0.03
#: MS-SSIM level weights (Wang et al. 2003), finest level first.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
#: Every axis is edge-padded to at least this many voxels before MS-SSIM, so that 5 levels fit.
MS_SSIM_MIN_SIZE = 97

Edition = Literal["2023", "2025"]
EDITIONS: tuple[str, ...] = ("2023", "2025")


@dataclass(frozen=True)
class SCTMetrics:
    """Image metrics of one synthetic CT against its real CT, inside a mask.

    ``mae`` is in HU, ``psnr`` in dB (``math.inf`` when the clipped images are identical inside the
    mask), ``ssim`` (2023) and ``ms_ssim`` (2025) are unitless, at most 1. The metric the other
    edition uses is ``None``.
    """

    edition: str
    mae: float
    psnr: float
    ssim: float | None
    ms_ssim: float | None
    mask_voxels: int

    def as_dict(self) -> dict[str, float]:
        """The edition's metrics under the challenge's names: ``mae``, ``psnr``, ``ssim`` or ``ms_ssim``."""
        values = {"mae": self.mae, "psnr": self.psnr}
        if self.ssim is not None:
            values["ssim"] = self.ssim
        if self.ms_ssim is not None:
            values["ms_ssim"] = self.ms_ssim
        return values


# --------------------------------------------------------------------------------------------
# Public metrics, one function each


def mae_2023(ct: ArrayOrImage, sct: ArrayOrImage, mask: ArrayOrImage) -> float:
    """SynthRAD2023 mean absolute error in HU: ``sum|ct - sct| / n`` over the mask voxels.

    No clipping: an sCT that invents 5000 HU bone is penalised in full. Range [0, inf).
    """
    gt, pred, m = _prepare(ct, sct, mask, "2023")
    return _mae(gt, pred, m)


def psnr_2023(ct: ArrayOrImage, sct: ArrayOrImage, mask: ArrayOrImage) -> float:
    """SynthRAD2023 peak signal-to-noise ratio in dB over the mask voxels.

    Both images are clipped to [-1024, 3000] HU and the peak is that range, R = 4024 HU:
    ``10 log10(R^2 / mean((ct - sct)^2))``. Higher is better; ``math.inf`` when identical.
    """
    gt, pred, m = _prepare(ct, sct, mask, "2023")
    return _psnr(gt, pred, m, SYNTHRAD2023_RANGE_HU)


def ssim_2023(ct: ArrayOrImage, sct: ArrayOrImage, mask: ArrayOrImage) -> float:
    """SynthRAD2023 masked structural similarity, unitless, at most 1 (identical images).

    Both images are clipped to [-1024, 3000] HU, voxels outside the mask set to -1024 in both, and
    shifted by +1024 to [0, 4024]. The SSIM map (:func:`ssim_map`, 7x7x7 uniform window, sample
    covariance, R = 4024) is averaged over the mask voxels that are at least 3 voxels from the
    volume border (the window there would read reflected voxels).
    """
    gt, pred, m = _prepare(ct, sct, mask, "2023")
    return _ssim_2023(gt, pred, m)


def mae_2025(ct: ArrayOrImage, sct: ArrayOrImage, mask: ArrayOrImage) -> float:
    """SynthRAD2025 mean absolute error in HU over the mask voxels; no clipping. Range [0, inf).

    The 2025 code first sets voxels outside the mask to -1024 in both images; MAE only reads mask
    voxels, so it equals the 2023 MAE of the same inputs (up to the 2023 float32 rounding).
    """
    gt, pred, m = _prepare(ct, sct, mask, "2025")
    return _mae(gt, pred, m)


def psnr_2025(ct: ArrayOrImage, sct: ArrayOrImage, mask: ArrayOrImage) -> float:
    """SynthRAD2025 PSNR in dB: as :func:`psnr_2023` with range [-1024, 3071] HU, R = 4095 HU."""
    gt, pred, m = _prepare(ct, sct, mask, "2025")
    return _psnr(gt, pred, m, SYNTHRAD2025_RANGE_HU)


def ms_ssim_2025(ct: ArrayOrImage, sct: ArrayOrImage, mask: ArrayOrImage) -> float:
    """SynthRAD2025 masked multi-scale SSIM, unitless, in [0, 1] (1 = identical).

    1. Clip both to [-1024, 3071] HU, set voxels outside the mask to -1024, shift by +1024.
    2. Edge-pad every axis shorter than 97 voxels to 97 (centred), the mask likewise.
    3. At each of 5 levels: the map ``L^w C^w S^w`` (luminance, contrast, structure terms of SSIM,
       each clipped at 0, all three raised to that level's weight w, as the official code does);
       the level value is its mean over the mask, 3-voxel border excluded. Then the images are
       averaged over 2x2x2 blocks (``fftconvolve`` 'same', zero beyond the first voxel) and every
       second voxel kept; the mask keeps every second voxel.
    4. MS-SSIM = product of the 5 level values, each clipped to [0, 1].
    """
    gt, pred, m = _prepare(ct, sct, mask, "2025")
    return _ms_ssim_2025(gt, pred, m)


def evaluate_sct(
    ct: ArrayOrImage, sct: ArrayOrImage, mask: ArrayOrImage, edition: Edition | int = "2023"
) -> SCTMetrics:
    """All image metrics of one edition (``"2023"``: MAE, PSNR, SSIM; ``"2025"``: MAE, PSNR, MS-SSIM).

    ``ct`` is the real CT, ``sct`` the synthetic CT, both in HU; ``mask`` selects the voxels to
    score (``> 0``; the SynthRAD body/patient outline). The inputs are checked once and never
    modified.
    """
    edition = _edition(edition)
    gt, pred, m = _prepare(ct, sct, mask, edition)
    if gt.ndim != 3:
        raise InputError(f"evaluate_sct needs 3-D volumes; got {gt.ndim}-D arrays of shape {gt.shape}.")
    if edition == "2023":
        return SCTMetrics(
            edition=edition,
            mae=_mae(gt, pred, m),
            psnr=_psnr(gt, pred, m, SYNTHRAD2023_RANGE_HU),
            ssim=_ssim_2023(gt, pred, m),
            ms_ssim=None,
            mask_voxels=int(m.sum()),
        )
    return SCTMetrics(
        edition=edition,
        mae=_mae(gt, pred, m),
        psnr=_psnr(gt, pred, m, SYNTHRAD2025_RANGE_HU),
        ssim=None,
        ms_ssim=_ms_ssim_2025(gt, pred, m),
        mask_voxels=int(m.sum()),
    )


def ssim_map(x: np.ndarray, y: np.ndarray, data_range: float) -> np.ndarray:
    """Voxel-wise SSIM of two same-shape arrays with a 7^ndim uniform window (skimage's default map).

    ``ux = U(x)``, ``vx = cn (U(x^2) - ux^2)``, ``vxy = cn (U(xy) - ux uy)`` with ``U`` the
    uniform filter (reflecting at the border) and ``cn = N / (N - 1)``, N = 7^ndim (sample
    covariance); ``S = (2 ux uy + C1)(2 vxy + C2) / ((ux^2 + uy^2 + C1)(vx + vy + C2))``,
    ``C1 = (0.01 R)^2``, ``C2 = (0.03 R)^2``, R = ``data_range`` (same unit as x and y).
    Computed in float64; the inputs are not modified.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise InputError(f"ssim_map needs two arrays of one shape; got {x.shape} and {y.shape}.")
    _check_window_fits(x.shape)
    ux, uy, vx, vy, vxy = _local_statistics(x, y)
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    numerator = (2 * ux * uy + c1) * (2 * vxy + c2)
    denominator = (ux * ux + uy * uy + c1) * (vx + vy + c2)
    return numerator / denominator


# --------------------------------------------------------------------------------------------
# Implementations on checked float64 arrays and a boolean mask


def _prepare(
    ct: ArrayOrImage, sct: ArrayOrImage, mask: ArrayOrImage, edition: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked float64 copies of ct and sct, the boolean mask; edition-specific preprocessing."""
    edition = _edition(edition)
    arrays = to_arrays({"ct": ct, "sct": sct, "mask": mask})
    # 2023 casts every input to float32 before anything else; 2025 keeps the inputs' values.
    cast = (lambda a: np.asarray(a, dtype=np.float32).astype(np.float64)) if edition == "2023" else (
        lambda a: np.array(a, dtype=np.float64)
    )
    gt, pred = cast(arrays["ct"]), cast(arrays["sct"])
    require_finite("ct", gt)
    require_finite("sct", pred)
    m = binary_mask("mask", arrays["mask"])
    if edition == "2025":
        # The 2025 evaluation sets everything outside the mask to -1024 HU before every metric.
        gt[~m] = -1024.0
        pred[~m] = -1024.0
    return gt, pred, m


def _edition(edition: str | int) -> str:
    text = str(edition).strip()
    if text not in EDITIONS:
        raise InputError(f"Unknown SynthRAD edition {edition!r}; use one of {', '.join(EDITIONS)}.")
    return text


def _mae(gt: np.ndarray, pred: np.ndarray, m: np.ndarray) -> float:
    return float(np.abs(gt[m] - pred[m]).sum() / np.count_nonzero(m))


def _psnr(gt: np.ndarray, pred: np.ndarray, m: np.ndarray, range_hu: tuple[float, float]) -> float:
    lo, hi = range_hu
    diff = np.clip(gt[m], lo, hi) - np.clip(pred[m], lo, hi)
    mse = float(np.mean(diff * diff))
    if mse == 0.0:
        return math.inf  # identical inside the mask: no noise at all
    return float(10.0 * np.log10((hi - lo) ** 2 / mse))


def _ssim_2023(gt: np.ndarray, pred: np.ndarray, m: np.ndarray) -> float:
    lo, hi = SYNTHRAD2023_RANGE_HU
    x, y = _clip_mask_shift(gt, pred, m, lo, hi)
    return _masked_inner_mean(ssim_map(x, y, hi - lo), m, "SSIM")


def _ms_ssim_2025(gt: np.ndarray, pred: np.ndarray, m: np.ndarray) -> float:
    lo, hi = SYNTHRAD2025_RANGE_HU
    x, y = _clip_mask_shift(gt, pred, m, lo, hi)
    pad = [
        (max((MS_SSIM_MIN_SIZE - n) // 2, 0), max(MS_SSIM_MIN_SIZE - n - (MS_SSIM_MIN_SIZE - n) // 2, 0))
        for n in x.shape
    ]
    x = np.pad(x, pad, mode="edge")
    y = np.pad(y, pad, mode="edge")
    m = np.pad(m, pad, mode="edge")
    block_mean = np.full((2,) * x.ndim, 1.0 / 2**x.ndim)
    every_second = (slice(None, None, 2),) * x.ndim
    level_values = []
    for level, weight in enumerate(MS_SSIM_WEIGHTS):
        level_map = _ms_ssim_level_map(x, y, hi - lo, weight)
        level_values.append(_masked_inner_mean(level_map, m, f"MS-SSIM level {level + 1} (after {level} halvings)"))
        if level < len(MS_SSIM_WEIGHTS) - 1:
            x = fftconvolve(x, block_mean, mode="same")[every_second]
            y = fftconvolve(y, block_mean, mode="same")[every_second]
            m = m[every_second]
    return float(np.prod(np.clip(level_values, 0.0, 1.0)))


def _ms_ssim_level_map(x: np.ndarray, y: np.ndarray, data_range: float, weight: float) -> np.ndarray:
    """``L^w C^w S^w`` at one MS-SSIM level; each term clipped at 0 (SynthRAD2025)."""
    ux, uy, vx, vy, vxy = _local_statistics(x, y)
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    c3 = c2 / 2
    sx = np.sqrt(np.maximum(vx, 0.0))
    sy = np.sqrt(np.maximum(vy, 0.0))
    luminance = np.maximum((2 * ux * uy + c1) / (ux * ux + uy * uy + c1), 0.0)
    contrast = np.maximum((2 * sx * sy + c2) / (vx + vy + c2), 0.0)
    structure = np.maximum((vxy + c3) / (sx * sy + c3), 0.0)
    return luminance**weight * contrast**weight * structure**weight


def _local_statistics(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Window means, sample variances and covariance of x and y (7^ndim uniform, reflect)."""
    n = SSIM_WINDOW**x.ndim
    cov_norm = n / (n - 1)
    ux = uniform_filter(x, size=SSIM_WINDOW)
    uy = uniform_filter(y, size=SSIM_WINDOW)
    vx = cov_norm * (uniform_filter(x * x, size=SSIM_WINDOW) - ux * ux)
    vy = cov_norm * (uniform_filter(y * y, size=SSIM_WINDOW) - uy * uy)
    vxy = cov_norm * (uniform_filter(x * y, size=SSIM_WINDOW) - ux * uy)
    return ux, uy, vx, vy, vxy


def _clip_mask_shift(
    gt: np.ndarray, pred: np.ndarray, m: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """Clip to [lo, hi], set voxels outside the mask to lo, shift to [0, hi - lo] (new arrays)."""
    x = np.clip(gt, lo, hi)
    y = np.clip(pred, lo, hi)
    x[~m] = lo
    y[~m] = lo
    x -= lo
    y -= lo
    return x, y


def _masked_inner_mean(values: np.ndarray, m: np.ndarray, what: str) -> float:
    """Mean (float64) of ``values`` over the mask voxels at least half a window from the border."""
    border = SSIM_WINDOW // 2
    inner = (slice(border, -border),) * values.ndim
    selected = values[inner][m[inner]]
    if selected.size == 0:
        raise InputError(
            f"{what} is undefined: no mask voxel lies at least {border} voxels inside the volume border "
            "at this resolution. The mask is too small or only touches the border; use a larger mask."
        )
    return float(selected.mean(dtype=np.float64))


def _check_window_fits(shape: tuple[int, ...]) -> None:
    if min(shape) < SSIM_WINDOW:
        raise InputError(
            f"SSIM uses {SSIM_WINDOW}-voxel windows, so every axis needs at least {SSIM_WINDOW} voxels; "
            f"got shape {shape}."
        )
