"""SynthRAD2023/2025 image metrics, checked against the formulas of METRICS.md.

References used here are written independently of medsynth.metrics.synthrad: explicit loops over
windows, summed-area tables, hand arithmetic, and skimage (test-only) where its definition is the
one the challenge uses.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from medsynth.errors import InputError
from medsynth.metrics import synthrad
from medsynth.metrics.synthrad import (
    evaluate_sct,
    mae_2023,
    mae_2025,
    ms_ssim_2025,
    psnr_2023,
    psnr_2025,
    ssim_2023,
    ssim_map,
)

K1, K2 = 0.01, 0.03
WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _random_case(shape, seed=0, noise_hu=80.0):
    """A CT-like volume (with values beyond both ends of the ranges), a noisy sCT, a blob mask."""
    rng = np.random.default_rng(seed)
    ct = rng.uniform(-1500.0, 3500.0, size=shape)
    sct = ct + rng.normal(0.0, noise_hu, size=shape)
    grid = np.indices(shape).astype(float)
    centre = (np.array(shape, dtype=float)[:, None, None, None] - 1) / 2
    radius = np.sqrt(((grid - centre) ** 2).sum(axis=0))
    mask = (radius < 0.4 * min(shape)).astype(np.uint8) * rng.integers(1, 3, size=shape).astype(np.uint8)
    return ct.astype(np.float32), sct.astype(np.float32), mask


# ---------------------------------------------------------------------------------------------
# Slow references


def _direct_ssim_map(x: np.ndarray, y: np.ndarray, data_range: float) -> np.ndarray:
    """SSIM map by explicit loops over 7x7x7 windows of the reflect-padded volumes.

    scipy's 'reflect' repeats the edge voxel (d c b a | a b c d), which is numpy's 'symmetric'.
    The sample variance is computed as sum((w - mean)^2) / (N - 1), not from E[x^2] - E[x]^2.
    """
    px, py = np.pad(x, 3, mode="symmetric"), np.pad(y, 3, mode="symmetric")
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    out = np.empty(x.shape)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            for k in range(x.shape[2]):
                wx = px[i : i + 7, j : j + 7, k : k + 7].ravel()
                wy = py[i : i + 7, j : j + 7, k : k + 7].ravel()
                mx, my = wx.sum() / 343, wy.sum() / 343
                vx = ((wx - mx) ** 2).sum() / 342
                vy = ((wy - my) ** 2).sum() / 342
                vxy = ((wx - mx) * (wy - my)).sum() / 342
                out[i, j, k] = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return out


def _reference_ssim_2023(ct, sct, mask) -> float:
    x = np.clip(np.asarray(ct, dtype=np.float64), -1024, 3000)
    y = np.clip(np.asarray(sct, dtype=np.float64), -1024, 3000)
    m = np.asarray(mask) > 0
    x[~m], y[~m] = -1024, -1024
    smap = _direct_ssim_map(x + 1024, y + 1024, 4024.0)
    inner = (slice(3, -3),) * 3
    return float(smap[inner][m[inner]].mean())


def _box_mean_sat(a: np.ndarray) -> np.ndarray:
    """7x7x7 window means from a summed-area table of the edge-mirrored volume (no scipy)."""
    p = np.pad(a, 3, mode="symmetric")
    sat = np.zeros(tuple(n + 1 for n in p.shape))
    sat[1:, 1:, 1:] = p.cumsum(0).cumsum(1).cumsum(2)
    n0, n1, n2 = a.shape
    total = np.zeros(a.shape)
    for di, si in ((7, 1), (0, -1)):
        for dj, sj in ((7, 1), (0, -1)):
            for dk, sk in ((7, 1), (0, -1)):
                total += si * sj * sk * sat[di : di + n0, dj : dj + n1, dk : dk + n2]
    return total / 343.0


def _reference_ms_ssim_2025(ct, sct, mask) -> float:
    """Masked MS-SSIM written from METRICS.md with different building blocks than the engine.

    Edge padding by clamped indices; window statistics by summed-area tables; the 2x2x2
    'same' convolution as an explicit average of a voxel and its lower neighbours (zero before
    the first voxel, which is what fftconvolve's 'same' keeps for an even kernel).
    """
    m = np.asarray(mask) > 0
    x = np.where(m, np.clip(np.asarray(ct, dtype=np.float64), -1024, 3071), -1024) + 1024
    y = np.where(m, np.clip(np.asarray(sct, dtype=np.float64), -1024, 3071), -1024) + 1024
    index = []
    for n in x.shape:
        before = max((97 - n) // 2, 0)
        after = max(97 - n - before, 0)
        index.append(np.clip(np.arange(-before, n + after), 0, n - 1))
    grid = np.ix_(*index)
    x, y, m = x[grid], y[grid], m[grid]
    r = 4095.0
    c1, c2 = (K1 * r) ** 2, (K2 * r) ** 2
    c3 = c2 / 2
    values = []
    for level, w in enumerate(WEIGHTS):
        mx, my = _box_mean_sat(x), _box_mean_sat(y)
        vx = (_box_mean_sat(x * x) - mx * mx) * 343 / 342
        vy = (_box_mean_sat(y * y) - my * my) * 343 / 342
        vxy = (_box_mean_sat(x * y) - mx * my) * 343 / 342
        sx, sy = np.sqrt(np.maximum(vx, 0)), np.sqrt(np.maximum(vy, 0))
        lum = np.maximum((2 * mx * my + c1) / (mx**2 + my**2 + c1), 0)
        con = np.maximum((2 * sx * sy + c2) / (vx + vy + c2), 0)
        struc = np.maximum((vxy + c3) / (sx * sy + c3), 0)
        level_map = (lum * con * struc) ** w
        inner = (slice(3, -3),) * 3
        values.append(level_map[inner][m[inner]].mean())
        if level < len(WEIGHTS) - 1:
            x, y = _halve(x), _halve(y)
            m = m[::2, ::2, ::2]
    return float(np.prod(np.clip(values, 0, 1)))


def _halve(a: np.ndarray) -> np.ndarray:
    for axis in range(3):
        shifted = np.zeros_like(a)
        src = [slice(None)] * 3
        dst = [slice(None)] * 3
        src[axis], dst[axis] = slice(0, -1), slice(1, None)
        shifted[tuple(dst)] = a[tuple(src)]
        a = (a + shifted) / 2
    return a[::2, ::2, ::2]


# ---------------------------------------------------------------------------------------------
# SSIM 2023


def test_ssim_map_equals_direct_window_loops_including_reflected_border():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 4024, size=(9, 9, 9))
    y = np.clip(x + rng.normal(0, 300, size=x.shape), 0, 4024)
    expected = _direct_ssim_map(x, y, 4024.0)
    got = ssim_map(x, y, 4024.0)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    # the border voxels (whose windows read reflected voxels) are part of the comparison
    assert not np.allclose(got[0], got[4])


def test_ssim_2023_equals_direct_loops_on_9_cube():
    ct, sct, mask = _random_case((9, 9, 9), seed=1, noise_hu=200)
    mask[4, 4, 4] = 0  # a hole inside the scored interior
    expected = _reference_ssim_2023(ct, sct, mask)
    assert abs(ssim_2023(ct, sct, mask) - expected) < 1e-6
    assert 0.0 < expected < 1.0


def test_ssim_map_matches_skimage_before_masking_and_cropping():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 4024, size=(12, 15, 18))
    y = np.clip(x + rng.normal(0, 150, size=x.shape), 0, 4024)
    _, expected = structural_similarity(
        x, y, win_size=7, data_range=4024.0, use_sample_covariance=True, gaussian_weights=False, full=True
    )
    np.testing.assert_allclose(ssim_map(x, y, 4024.0), expected, rtol=0, atol=1e-12)


def test_ssim_2023_matches_the_official_float32_skimage_pipeline_on_real_ct(test_data):
    from scipy.ndimage import gaussian_filter
    from skimage.util import crop

    ct = sitk.GetArrayFromImage(sitk.ReadImage(str(test_data / "scct_hu.nii.gz")))[25:65, 10:100, 5:86]  # head CT template
    sct = gaussian_filter(ct.astype(np.float32), 1.0) + np.random.default_rng(0).normal(0, 25, ct.shape).astype(np.float32)
    mask = (ct > -500).astype(np.uint8)
    # The official 2023 steps, in the official dtype (float32 throughout, skimage filters included).
    gt, pred, m = ct.astype(np.float32), sct.astype(np.float32), mask.astype(np.float32)
    gt, pred = np.clip(gt, -1024.0, 3000.0), np.clip(pred, -1024.0, 3000.0)
    gt, pred = np.where(m == 0, -1024.0, gt) + 1024.0, np.where(m == 0, -1024.0, pred) + 1024.0
    _, smap = structural_similarity(gt, pred, data_range=4024.0, full=True)
    official_ssim = crop(smap, 3)[crop(m, 3).astype(bool)].mean(dtype=np.float64)
    official_psnr = peak_signal_noise_ratio(
        np.clip(ct, -1024, 3000)[mask == 1].astype(np.float64), np.clip(sct, -1024, 3000)[mask == 1].astype(np.float64),
        data_range=4024.0,
    )
    result = evaluate_sct(ct, sct, mask, "2023")
    assert abs(result.ssim - official_ssim) < 1e-6
    assert abs(result.psnr - official_psnr) < 1e-9
    assert abs(result.mae - np.abs(ct[mask > 0] - sct[mask > 0].astype(np.float64)).mean()) < 1e-9


# ---------------------------------------------------------------------------------------------
# MAE and PSNR by hand


def test_mae_and_psnr_by_hand_with_clipping():
    ct = np.zeros((8, 8, 8), dtype=np.float32)
    sct = np.zeros_like(ct)
    mask = np.zeros(ct.shape, dtype=np.uint8)
    mask[0, 0, :4] = 1  # four scored voxels
    sct[0, 0, 0] = 10.0  # error 10
    sct[0, 0, 1] = -30.0  # error 30
    # error 1950 for MAE; 2023 clips both to 3000 (error 0), 2025 clips ct to 3071 (error 21)
    ct[0, 0, 2], sct[0, 0, 2] = 5000.0, 3050.0
    sct[5, 5, 5] = 999.0  # outside the mask: ignored everywhere
    assert mae_2023(ct, sct, mask) == pytest.approx((10 + 30 + 1950) / 4)
    assert mae_2025(ct, sct, mask) == pytest.approx((10 + 30 + 1950) / 4)
    assert psnr_2023(ct, sct, mask) == pytest.approx(10 * math.log10(4024**2 / ((100 + 900 + 0 + 0) / 4)))
    assert psnr_2025(ct, sct, mask) == pytest.approx(10 * math.log10(4095**2 / ((100 + 900 + 21**2 + 0) / 4)))


def test_mask_is_binarised_as_greater_than_zero():
    ct, sct, mask = _random_case((10, 11, 12), seed=2)
    weighted = mask.astype(np.float32) * 7.5  # any positive value means "in the mask"
    weighted[mask == 0] = -3.0  # negative means "out", like 0
    for edition in ("2023", "2025"):
        assert evaluate_sct(ct, sct, weighted, edition) == evaluate_sct(ct, sct, mask > 0, edition)


def test_identical_images_score_perfectly():
    ct, _, mask = _random_case((12, 12, 12), seed=4)
    r23 = evaluate_sct(ct, ct.copy(), mask, "2023")
    r25 = evaluate_sct(ct, ct.copy(), mask, "2025")
    assert r23.mae == 0.0 and r25.mae == 0.0
    assert r23.psnr == math.inf and r25.psnr == math.inf
    assert r23.ssim == pytest.approx(1.0, abs=1e-12)
    assert r25.ms_ssim == pytest.approx(1.0, abs=1e-12)


def test_worse_sct_scores_worse():
    ct, _, mask = _random_case((20, 20, 20), seed=6)
    rng = np.random.default_rng(0)
    good = ct + rng.normal(0, 20, ct.shape).astype(np.float32)
    bad = ct + rng.normal(0, 200, ct.shape).astype(np.float32)
    for edition, key in (("2023", "ssim"), ("2025", "ms_ssim")):
        g, b = evaluate_sct(ct, good, mask, edition), evaluate_sct(ct, bad, mask, edition)
        assert g.mae < b.mae and g.psnr > b.psnr and getattr(g, key) > getattr(b, key)


def test_voxels_outside_the_mask_never_matter():
    ct, sct, mask = _random_case((14, 13, 12), seed=7)
    altered = sct.copy()
    altered[mask == 0] = 12345.0
    for edition in ("2023", "2025"):
        assert evaluate_sct(ct, altered, mask, edition) == evaluate_sct(ct, sct, mask, edition)


# ---------------------------------------------------------------------------------------------
# MS-SSIM 2025


def test_ms_ssim_2025_equals_independent_reference_small_volume_padded_to_97():
    ct, sct, mask = _random_case((20, 24, 30), seed=8, noise_hu=150)
    expected = _reference_ms_ssim_2025(ct, sct, mask)
    assert abs(ms_ssim_2025(ct, sct, mask) - expected) < 1e-6
    assert 0.0 < expected < 1.0


def test_ms_ssim_2025_equals_independent_reference_odd_sizes_above_97():
    rng = np.random.default_rng(9)
    base = np.cumsum(rng.normal(0, 40, size=(99, 100, 40)), axis=0)  # smooth structure, not white noise
    ct = np.clip(base, -1024, 3071).astype(np.float32)
    sct = ct + rng.normal(0, 60, size=ct.shape).astype(np.float32) + 15.0
    mask = np.zeros(ct.shape, dtype=np.uint8)
    mask[5:95, 10:90, 3:37] = 1
    expected = _reference_ms_ssim_2025(ct, sct, mask)
    assert abs(ms_ssim_2025(ct, sct, mask) - expected) < 1e-6


def test_ms_ssim_level_map_with_unit_weight_is_plain_ssim():
    # With C3 = C2/2, C*S collapses to (2 vxy + C2)/(vx + vy + C2), so L*C*S is the SSIM map
    # wherever no term is clipped at 0 (true for positively correlated images).
    rng = np.random.default_rng(10)
    x = rng.uniform(500, 3500, size=(10, 11, 12))
    y = np.clip(x + rng.normal(0, 100, size=x.shape), 0, 4095)
    np.testing.assert_allclose(
        synthrad._ms_ssim_level_map(x, y, 4095.0, 1.0), ssim_map(x, y, 4095.0), rtol=1e-10, atol=0
    )


def test_ms_ssim_luminance_is_weighted_at_every_level():
    # A pure intensity offset leaves contrast and structure at 1, so only the luminance term
    # (raised to each level's weight) lowers the score. The reference follows METRICS.md.
    ct, _, mask = _random_case((16, 16, 16), seed=11)
    mask[:] = 1
    sct = ct + 300.0
    value = ms_ssim_2025(ct, sct, mask)
    assert value < 0.999
    assert abs(value - _reference_ms_ssim_2025(ct, sct, mask)) < 1e-6


# ---------------------------------------------------------------------------------------------
# Inputs: images, grids, errors


def _image(array: np.ndarray, spacing=(1.0, 1.0, 2.0), origin=(0.0, 0.0, 0.0)) -> sitk.Image:
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    return image


def test_simpleitk_images_give_the_same_numbers_as_arrays():
    ct, sct, mask = _random_case((12, 13, 14), seed=12)
    from_images = evaluate_sct(_image(ct), _image(sct), _image(mask), "2025")
    assert from_images == evaluate_sct(ct, sct, mask, "2025")


def test_images_on_different_grids_are_refused_with_a_resampling_hint():
    ct, sct, mask = _random_case((12, 13, 14), seed=13)
    with pytest.raises(InputError, match="[Rr]esample"):
        evaluate_sct(_image(ct), _image(sct, origin=(5.0, 0.0, 0.0)), _image(mask))
    with pytest.raises(InputError, match="spacing"):
        evaluate_sct(_image(ct), _image(sct, spacing=(1.0, 1.0, 3.0)), _image(mask))
    rotated = _image(sct)
    rotated.SetDirection((0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0))
    with pytest.raises(InputError, match="direction"):
        evaluate_sct(_image(ct), rotated, _image(mask))
    # float32 rounding of a NIfTI header is tolerated
    slightly_off = _image(sct, spacing=(1.0 + 1e-7, 1.0, 2.0), origin=(1e-6, 0.0, 0.0))
    assert evaluate_sct(_image(ct), slightly_off, _image(mask)).mae == pytest.approx(mae_2023(ct, sct, mask))


def test_mismatched_shapes_are_refused():
    ct, sct, mask = _random_case((12, 13, 14), seed=14)
    with pytest.raises(InputError, match="same shape"):
        evaluate_sct(ct, sct[:, :, :-1], mask)
    with pytest.raises(InputError, match="size"):
        evaluate_sct(_image(ct), _image(sct[:, :, :-1]), _image(mask))


def test_empty_mask_is_refused():
    ct, sct, _ = _random_case((12, 12, 12), seed=15)
    for function in (mae_2023, psnr_2023, ssim_2023, mae_2025, psnr_2025, ms_ssim_2025):
        with pytest.raises(InputError, match="empty"):
            function(ct, sct, np.zeros(ct.shape))


def test_mask_only_on_the_border_makes_ssim_undefined_with_a_clear_error():
    ct, sct, _ = _random_case((12, 12, 12), seed=16)
    mask = np.zeros(ct.shape, dtype=np.uint8)
    mask[0, :, :] = 1
    assert mae_2023(ct, sct, mask) > 0  # MAE is still defined
    with pytest.raises(InputError, match="border"):
        ssim_2023(ct, sct, mask)


def test_too_small_for_the_ssim_window_is_refused():
    ct, sct, mask = _random_case((6, 12, 12), seed=17)
    with pytest.raises(InputError, match="7"):
        ssim_2023(ct, sct, mask)
    assert 0 < ms_ssim_2025(ct, sct, mask) <= 1  # MS-SSIM pads small volumes to 97


def test_non_finite_values_and_unknown_edition_are_refused():
    ct, sct, mask = _random_case((10, 10, 10), seed=18)
    broken = sct.copy()
    broken[0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        evaluate_sct(ct, broken, mask)
    with pytest.raises(InputError, match="edition"):
        evaluate_sct(ct, sct, mask, "2024")


def test_inputs_are_not_modified():
    ct, sct, mask = _random_case((12, 12, 12), seed=19)
    copies = ct.copy(), sct.copy(), mask.copy()
    evaluate_sct(ct, sct, mask, "2023")
    evaluate_sct(ct, sct, mask, "2025")
    for before, after in zip(copies, (ct, sct, mask)):
        np.testing.assert_array_equal(before, after)


def test_as_dict_uses_the_challenge_key_names():
    ct, sct, mask = _random_case((12, 12, 12), seed=20)
    assert set(evaluate_sct(ct, sct, mask, 2023).as_dict()) == {"mae", "psnr", "ssim"}
    assert set(evaluate_sct(ct, sct, mask, 2025).as_dict()) == {"mae", "psnr", "ms_ssim"}
