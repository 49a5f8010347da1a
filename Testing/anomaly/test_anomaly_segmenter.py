"""The anomaly segmenter's training samples and its exported graph (torch for training, real onnxruntime)."""

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("torch")

from medsynth.tasks.anomaly.space import MNI_SIZE_XYZ, SEGMENTATION_OUTPUTS  # noqa: E402

SHAPE = MNI_SIZE_XYZ[::-1]


def _brains(count=2, seed=0):
    """Ellipsoid 'brains' with a smooth random texture on the MNI grid, their masks and two lesion shapes."""
    import scipy.ndimage as ndi

    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    mask = ((z - 45) / 32.0) ** 2 + ((y - 54) / 40.0) ** 2 + ((x - 45) / 33.0) ** 2 < 1
    heads = [np.clip(0.6 + ndi.gaussian_filter(rng.standard_normal(SHAPE), 3) * 2, 0, 1).astype(np.float32)
             for _ in range(count)]
    lesions = [(((z - 40) / 6.0) ** 2 + ((y - 50) / 8.0) ** 2 + ((x - 30) / 5.0) ** 2 < 1).astype(np.uint8),
               (((z - 55) / 4.0) ** 2 + ((y - 70) / 4.0) ** 2 + ((x - 60) / 4.0) ** 2 < 1).astype(np.uint8)]
    return heads, [mask] * count, lesions


def _maker(**config):
    from medsynth.training.anomaly.synthetic import SampleMaker, SyntheticConfig

    heads, masks, lesions = _brains()
    return SampleMaker(heads, masks, lesions, replace(SyntheticConfig(), **config))


def test_samples_are_seeded_masked_and_mirrored():
    first, second = _maker(seed=4).batch(), _maker(seed=4).batch()
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(first, second))
    assert not np.array_equal(first[0].numpy(), _maker(seed=5).batch()[0].numpy())
    # A patch as large as the volume is the whole volume: the second channel is the first one mirrored.
    inputs, labels, masks = _maker(patch_size=SHAPE).sample()
    assert np.array_equal(inputs[1].numpy(), inputs[0].numpy()[..., ::-1])
    assert inputs.min() >= 0 and inputs.max() <= 1 and not inputs[0][masks[0] == 0].any()


@pytest.mark.parametrize("tumour_probability", [0.0, 1.0])
def test_labels_are_only_visible_implants_inside_the_brain(tumour_probability):
    healthy = [_maker(anomaly_probability=0.0, seed=s).sample() for s in range(3)]
    assert all(not labels.any() for _, labels, _ in healthy)
    sick = [_maker(anomaly_probability=1.0, tumour_probability=tumour_probability, seed=s, patch_size=SHAPE).sample()
            for s in range(4)]
    assert sum(bool(labels.any()) for _, labels, _ in sick) >= 3
    for _, labels, masks in sick:
        assert not (labels.numpy() > 0)[masks.numpy() == 0].any()


def test_mass_effect_pushes_tissue_outward_and_leaves_far_tissue_alone():
    import torch

    centre = np.array([45.0, 54.0, 45.0], np.float32)
    z, y, x = np.mgrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    radius = np.sqrt((z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2)
    shell = torch.from_numpy((np.abs(radius - 6) < 1).astype(np.float32))[None]
    maker = _maker()
    pushed = maker._mass_effect(shell, centre, reach=10.0, strength=0.4)[0].numpy()
    assert np.allclose(maker._mass_effect(shell, centre, reach=10.0, strength=0.0).numpy(), shell.numpy(), atol=1e-5)
    mean_radius = (radius * pushed).sum() / pushed.sum()
    assert mean_radius > 7.0  # the shell at 6 voxels moved outward
    texture = torch.from_numpy(_brains(1)[0][0])[None]
    moved = maker._mass_effect(texture, centre, reach=10.0, strength=0.4)[0].numpy()
    far, near = radius > 35, radius < 8
    assert np.abs(moved - texture[0].numpy())[far].max() < 1e-3  # tissue far from the mass stays put
    assert np.abs(moved - texture[0].numpy())[near].max() > 0.05  # tissue near it moved


def test_exported_segmenter_matches_torch_and_reads_as_a_segmentation_model(tmp_path):
    import torch

    from medsynth.runtime.onnx_model import import_onnxruntime
    from medsynth.tasks.anomaly.space import is_segmentation_model, population_maps
    from medsynth.training.anomaly.segmenter import build_segmenter, make_segmenter_module
    from medsynth.training.export import export_onnx

    torch.manual_seed(0)
    heads, masks, _ = _brains(1)
    maps = {"template": heads[0], "brain_prior": masks[0].astype(np.float32), "intensity_mean": heads[0],
            "intensity_sd": np.full(SHAPE, 0.1, np.float32)}
    module = make_segmenter_module(build_segmenter((4, 8, 16, 32)).eval(), maps).eval()
    path = export_onnx(module, SHAPE, tmp_path / "model.onnx")
    session = import_onnxruntime().InferenceSession(str(path), providers=["CPUExecutionProvider"])
    volume = np.where(masks[0], heads[0], 0)[None, None].astype(np.float32)
    onnx_out = session.run(None, {session.get_inputs()[0].name: volume})[0]
    with torch.no_grad():
        torch_out = module(torch.from_numpy(volume)).numpy()
    assert onnx_out.shape == (1, len(SEGMENTATION_OUTPUTS), *SHAPE)
    assert np.abs(onnx_out - torch_out).max() < 1e-3  # probability units; float32 sums differ in order
    assert 0 <= onnx_out[0, 0].min() and onnx_out[0, 0].max() <= 1  # a probability
    read = population_maps(lambda batch: session.run(None, {session.get_inputs()[0].name: batch})[0],
                           SEGMENTATION_OUTPUTS)
    assert read.residual_mean is None and np.abs(read.brain_prior - maps["brain_prior"]).mean() < 0.02  # 4 mm storage
    assert np.allclose(read.template, heads[0], atol=1e-3)  # float16 storage
    assert is_segmentation_model(SEGMENTATION_OUTPUTS) and not is_segmentation_model(("reconstruction",))
