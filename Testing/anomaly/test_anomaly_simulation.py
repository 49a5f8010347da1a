"""k-space artefacts and lesion implants: the physics they claim, reproducibility, inputs untouched."""

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.artefacts import (KSpaceGhosting, KSpaceMotion, KSpaceSpike, SPIKE_INTENSITY,
                                                   make_artefact)
from medsynth.benchmarks.anomaly.lesions import LESION_CONTRAST, LesionImplant, lesion_on_scan


def _phantom(size=(40, 36, 32)) -> sitk.Image:
    """A bright ellipsoid 'head' on a dark background, 2 mm voxels, oblique-free."""
    z, y, x = np.mgrid[:size[2], :size[1], :size[0]].astype(float)
    centre = np.array(size[::-1]) / 2
    inside = ((z - centre[0]) / 12) ** 2 + ((y - centre[1]) / 14) ** 2 + ((x - centre[2]) / 15) ** 2 < 1
    image = sitk.GetImageFromArray((inside * 100.0 + 1.0).astype(np.float32))
    image.SetSpacing((2.0, 2.0, 2.0))
    return image


def test_spike_adds_a_plane_wave_of_the_stated_amplitude():
    image = _phantom()
    before = sitk.GetArrayFromImage(image).copy()
    spike = KSpaceSpike(((0.8, 0.5, 0.5),), intensity=0.2)
    out = sitk.GetArrayFromImage(spike.apply(image))
    assert np.array_equal(sitk.GetArrayFromImage(image), before)
    spectrum_before = np.fft.fftshift(np.fft.fftn(before))
    # The artefact is a cosine along z of amplitude intensity × mean (the DC amplitude / N).
    difference = np.fft.fftshift(np.fft.fftn(out - before))
    peak = np.unravel_index(np.argmax(np.abs(difference) * (np.abs(np.fft.fftshift(np.fft.fftfreq(32)))[:, None, None] > 0.1)),
                            difference.shape)
    assert peak[0] == int(0.8 * 32) or peak[0] == 32 - int(0.8 * 32)
    assert np.abs(out - before).max() == pytest.approx(0.2 * before.mean(), rel=0.35)
    assert np.abs(spectrum_before).max() > 0


def test_ghosting_puts_a_copy_of_the_head_into_the_air():
    image = _phantom()
    voxels = sitk.GetArrayFromImage(image)
    ghost = KSpaceGhosting(num_ghosts=2, axis=1, intensity=0.8, restore_center=0.0)
    out = sitk.GetArrayFromImage(ghost.apply(image))
    head, air = voxels > 10, voxels < 10
    # Every other k-space line scaled by 0.2: a copy of the head, shifted by half the field of view
    # along y, of about intensity / 2 of its brightness, lies over the air.
    ghost_in_air = air & np.roll(head, voxels.shape[1] // 2, axis=1)
    assert out[ghost_in_air].mean() > 10 * voxels[ghost_in_air].mean()
    assert out[air & ~ghost_in_air].mean() < out[ghost_in_air].mean() / 3
    untouched = sitk.GetArrayFromImage(KSpaceGhosting(2, 1, 0.0).apply(image))
    assert np.allclose(untouched, voxels, atol=1e-3)


def test_motion_without_movement_changes_nothing_and_with_movement_blurs():
    image = _phantom()
    voxels = sitk.GetArrayFromImage(image)
    still = KSpaceMotion(times=(0.3, 0.7), positions=((0,) * 6, (0,) * 6), axis=0)
    assert np.allclose(sitk.GetArrayFromImage(still.apply(image)), voxels, atol=1e-3)
    moving = KSpaceMotion(times=(0.3, 0.7), positions=((0, 0, 8, 0, 0, 0), (0, 0, -8, 4, 0, 0)), axis=0)
    out = sitk.GetArrayFromImage(moving.apply(image))
    assert np.abs(out - voxels).mean() > 1.0
    # The k-space centre (overall brightness) comes from the reference position.
    assert out.sum() == pytest.approx(voxels.sum(), rel=0.1)


@pytest.mark.parametrize("kind", ["motion", "ghosting", "spike"])
def test_artefacts_are_reproducible_and_graded(kind):
    image = _phantom()
    voxels = sitk.GetArrayFromImage(image)
    first = make_artefact(kind, "moderate", seed=7)
    assert first == make_artefact(kind, "moderate", seed=7)
    changes = [np.abs(sitk.GetArrayFromImage(make_artefact(kind, s, seed=7).apply(image)) - voxels).mean()
               for s in ("mild", "severe")]
    assert changes[1] > changes[0] > 0
    assert out_grid_equal(first.apply(image), image)


def out_grid_equal(a: sitk.Image, b: sitk.Image) -> bool:
    return a.GetSize() == b.GetSize() and a.GetSpacing() == b.GetSpacing() and a.GetOrigin() == b.GetOrigin()


def test_artefact_arguments_are_checked():
    with pytest.raises(ValueError, match="severity"):
        make_artefact("spike", "extreme", 0)
    with pytest.raises(ValueError, match="kind"):
        make_artefact("zipper", "mild", 0)
    assert KSpaceSpike.from_severity("severe", 1).intensity == SPIKE_INTENSITY["severe"]


def test_lesion_implant_sets_the_lesion_contrast_and_leaves_the_rest():
    image = _phantom()
    voxels = sitk.GetArrayFromImage(image).copy()
    brain = voxels > 10
    lesion = np.zeros_like(brain)
    lesion[14:20, 15:21, 16:22] = True
    implant = LesionImplant.from_severity("hypo", "severe", seed=3)
    out = sitk.GetArrayFromImage(implant.apply(image, lesion, brain))
    assert np.array_equal(sitk.GetArrayFromImage(image), voxels)
    core = np.zeros_like(lesion)
    core[15:19, 16:20, 17:21] = True
    expected = LESION_CONTRAST["hypo"]["severe"] * np.median(voxels[brain])
    assert np.median(out[core]) == pytest.approx(expected, rel=0.1)
    far = np.ones_like(lesion)
    far[10:24, 11:25, 12:26] = False
    assert np.allclose(out[far], voxels[far], atol=1e-3)


def test_lesion_mask_follows_the_registration_and_stays_in_the_brain():
    scan = _phantom()
    lesion_mni = sitk.Image(scan.GetSize(), sitk.sitkUInt8)
    lesion_mni.CopyInformation(scan)
    lesion_mni[5:15, 5:15, 5:15] = 1
    brain = sitk.GetArrayFromImage(scan) > 10
    shift = sitk.TranslationTransform(3, (4.0, 0.0, 0.0))  # scan point + 4 mm = MNI point
    moved = lesion_on_scan(lesion_mni, scan, shift, np.ones_like(brain))
    assert moved[5:15, 5:15, 3:13].all() and not moved[:, :, 13:].any()
    assert not (lesion_on_scan(lesion_mni, scan, shift, brain) & ~brain).any()
