"""Phantom generation for the built-in model: segmentation, MR contrast, volumes, reproducibility."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from medsynth.training.synthct import phantoms
from medsynth.training.synthct.spec import SynthCTSpec

SHAPE = (24, 48, 48)
SPEC = SynthCTSpec(patch_size=(3, 48, 48))


@pytest.fixture(scope="module")
def ball_ct() -> tuple[np.ndarray, tuple[float, float, float]]:
    """A 2 mm 'head': brain (30 HU) with ventricle-like CSF (5 HU), 1000 HU skull, fat/muscle scalp."""
    grid = np.indices((40, 56, 56)).astype(float)
    centre = np.array([19.5, 27.5, 27.5]).reshape(3, 1, 1, 1)
    radius = np.sqrt((((grid - centre) * 2.0) ** 2).sum(0))  # mm
    hu = np.select([radius < 6, radius < 36, radius < 44, radius < 48, radius < 52], [5.0, 30.0, 1000.0, -90.0, 40.0],
                   -1000.0).astype(np.float32)
    return hu, (2.0, 2.0, 2.0)


def test_segment_head_ct_finds_body_and_brain(ball_ct):
    hu, spacing = ball_ct
    body, brain = phantoms.segment_head_ct(hu, spacing)
    assert body[hu > -400].all() and not body[0, 0, 0]
    assert set(np.unique(brain)) <= {0, phantoms.CSF, phantoms.GM, phantoms.WM}
    assert (brain[hu == 30.0] > 0).mean() > 0.95  # the brain is intracranial
    assert not brain[hu == 1000.0].any() and not brain[hu == 40.0].any()  # skull and scalp are not
    assert (brain == phantoms.GM).any() and (brain == phantoms.WM).any()


def test_contrast_maps_tissues_to_t1_like_signal(ball_ct):
    hu, spacing = ball_ct
    _, brain = phantoms.segment_head_ct(hu, spacing)
    source = phantoms.PhantomSource("ball", hu, brain, spacing, np.array([19.5, 27.5, 27.5]))
    contrast = phantoms.random_contrast(np.random.default_rng(0), random_probability=0.0)
    mr = phantoms.simulate_mr(source, contrast)
    assert mr[hu == -1000].max() == pytest.approx(contrast.air)  # air gives no signal
    assert np.median(mr[hu == 1000]) < np.median(mr[hu == -90])  # cortical bone dark, fat bright
    assert contrast.wm > contrast.gm > contrast.csf


def test_volumes_are_reproducible_and_runtime_shaped(ball_ct):
    hu, spacing = ball_ct
    _, brain = phantoms.segment_head_ct(hu, spacing)
    source = phantoms.PhantomSource("ball", hu, brain, spacing, np.array([19.5, 27.5, 27.5]))
    ranges = replace(phantoms.AugmentationRanges(), population_probability=0.0)
    first = phantoms.make_volume(source, SPEC, SHAPE, np.random.default_rng([7, 1]), ranges)
    again = phantoms.make_volume(source, SPEC, SHAPE, np.random.default_rng([7, 1]), ranges)
    np.testing.assert_array_equal(first.mr, again.mr)
    np.testing.assert_array_equal(first.ct, again.ct)
    assert first.mr.shape == first.ct.shape == first.mask.shape == SHAPE
    assert 0.0 <= float(first.mr.min()) and float(first.mr.max()) <= 1.0  # the card's percentile scheme
    assert first.mask.any() and not first.mask.all()
    assert float(first.ct.max()) > 300 and float(first.ct.min()) >= -1024


def test_template_pairs_are_smoother_than_single_heads(ball_ct):
    hu, spacing = ball_ct
    _, brain = phantoms.segment_head_ct(hu, spacing)
    source = phantoms.PhantomSource("ball", hu, brain, spacing, np.array([19.5, 27.5, 27.5]))
    single = replace(phantoms.AugmentationRanges(), population_probability=0.0, joint_blur_probability=0.0,
                     misregistration_probability=0.0)
    template = replace(single, population_probability=1.0)
    sharp = phantoms.make_volume(source, SPEC, SHAPE, np.random.default_rng(3), single)
    smooth = phantoms.make_volume(source, SPEC, SHAPE, np.random.default_rng(3), template)
    assert float(smooth.ct.max()) < float(sharp.ct.max())  # an averaged skull is dimmer
