"""The patch runtime on real networks: parity with MONAI, exactness, progress, cancellation, contracts."""

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.errors import Cancelled, InputError, ModelError
from medsynth.io import read_image
from medsynth.models import ModelRegistry
from medsynth.runtime import OnnxGenerator, run_generator, sliding_window_predict
from model_factory import install_model, pointwise_graph


@pytest.fixture(scope="module")
def real_volume(test_data):
    """A real T1 head (one person's clinical scan, 2 mm), normalised, as (1, z, y, x) float32."""
    image = read_image(test_data / "head_mr_skull_2mm.nii.gz")
    voxels = sitk.GetArrayFromImage(image).astype(np.float32)
    return (voxels / np.percentile(voxels, 99))[None]


@pytest.fixture(scope="module")
def monai_unet_onnx(tmp_path_factory):
    """A MONAI 3D UNet with random (seeded) weights, exported to ONNX: (torch model, onnx path)."""
    torch = pytest.importorskip("torch")
    from monai.networks.nets import UNet

    torch.manual_seed(0)
    net = UNet(spatial_dims=3, in_channels=1, out_channels=2, channels=(4, 8, 16), strides=(2, 2),
               num_res_units=1).eval()
    path = tmp_path_factory.mktemp("unet") / "unet.onnx"
    torch.onnx.export(net, torch.zeros(1, 1, 32, 32, 32), str(path), input_names=["image"], output_names=["output"],
                      dynamic_axes={"image": {0: "batch"}, "output": {0: "batch"}}, opset_version=17, dynamo=False)
    return net, path


def test_patch_inference_matches_monai_sliding_window(real_volume, monai_unet_onnx):
    torch = pytest.importorskip("torch")
    import onnxruntime as ort
    from monai.inferers import sliding_window_inference

    net, path = monai_unet_onnx
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    volume = real_volume[:, :70, :60, :50]
    ours = sliding_window_predict(lambda batch: session.run(None, {"image": batch})[0], volume, (32, 32, 32),
                                  overlap=0.25, batch_size=3, blend="gaussian", sigma_scale=0.125)
    with torch.no_grad():
        reference = sliding_window_inference(torch.from_numpy(volume[None]), (32, 32, 32), 3, net, overlap=0.25,
                                             mode="gaussian", sigma_scale=0.125).numpy()[0]
    assert ours.shape == reference.shape == (2, 70, 60, 50)
    assert np.max(np.abs(ours - reference)) < 1e-4 * max(1.0, np.abs(reference).max())


def test_volume_smaller_than_a_patch_matches_monai_padding(real_volume, monai_unet_onnx):
    torch = pytest.importorskip("torch")
    import onnxruntime as ort
    from monai.inferers import sliding_window_inference

    net, path = monai_unet_onnx
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    volume = np.ascontiguousarray(real_volume[:, 40:60, 30:55, 20:49])  # 20 × 25 × 29 < 32³
    ours = sliding_window_predict(lambda batch: session.run(None, {"image": batch})[0], volume, (32, 32, 32))
    with torch.no_grad():
        reference = sliding_window_inference(torch.from_numpy(volume[None]), (32, 32, 32), 2, net, overlap=0.25,
                                             mode="gaussian").numpy()[0]
    assert ours.shape == (2, 20, 25, 29)
    assert np.max(np.abs(ours - reference)) < 1e-4 * max(1.0, np.abs(reference).max())


def test_pointwise_network_gives_the_whole_volume_result(real_volume, tmp_path):
    install_model(tmp_path / "pw", pointwise_graph(scale=2.0, offset=1.0))
    model = OnnxGenerator(ModelRegistry([("test", tmp_path)]).find("test-pointwise"))
    volume = real_volume[:, :45, :50, :40]
    result = sliding_window_predict(model.predict, volume, (16, 16, 16), overlap=0.5, batch_size=4)
    np.testing.assert_allclose(result[0], 2.0 * volume[0] + 1.0, rtol=2e-6, atol=2e-6)


def _pointwise_model(tmp_path, **card):
    install_model(tmp_path / "pw", pointwise_graph(), **card)
    return OnnxGenerator(ModelRegistry([("test", tmp_path)]).find(card.get("id", "test-pointwise")))


def test_progress_is_monotonic_and_ends_at_one(real_volume, tmp_path):
    model = _pointwise_model(tmp_path)
    seen = []
    sliding_window_predict(model.predict, real_volume[:, :40, :40, :40], (16, 16, 16), batch_size=2,
                           progress=seen.append)
    assert len(seen) > 5
    assert all(b > a for a, b in zip(seen, seen[1:]))
    assert seen[-1] == 1.0


def test_cancel_stops_within_one_patch(real_volume, tmp_path):
    model = _pointwise_model(tmp_path)
    calls = []

    def predict(batch):
        calls.append(len(batch))
        return model.predict(batch)

    with pytest.raises(Cancelled):
        sliding_window_predict(predict, real_volume[:, :40, :40, :40], (16, 16, 16), batch_size=1,
                               cancelled=lambda: len(calls) >= 3)
    assert calls == [1, 1, 1]


def test_generator_on_real_image_keeps_geometry_and_input(test_data, tmp_path):
    """Oblique real scan, native grid: exact pointwise result on exactly the input's grid."""
    image = read_image(test_data / "stroke_2mm" / "T1.nii.gz")
    before = sitk.GetArrayFromImage(image).copy()
    model = _pointwise_model(tmp_path)
    result = run_generator(model, image)
    out = result.images["out"]
    assert out.GetSize() == image.GetSize() and out.GetSpacing() == image.GetSpacing()
    assert out.GetOrigin() == image.GetOrigin() and out.GetDirection() == image.GetDirection()
    np.testing.assert_allclose(sitk.GetArrayViewFromImage(out), 2.0 * before + 1.0, rtol=2e-6, atol=1e-4)
    assert np.array_equal(sitk.GetArrayViewFromImage(image), before)
    assert result.provenance.model_sha256 == model.card.weights_sha256
    assert result.provenance.synthetic is True


def test_reoriented_grid_round_trip_is_exact(test_data, tmp_path):
    """A real scan stored with permuted axes (like IXI's PSR files) run by a model that wants RAS:
    re-indexed, never interpolated."""
    image = sitk.PermuteAxes(read_image(test_data / "head_mr_skull_2mm.nii.gz"), [1, 2, 0])
    assert sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines(image.GetDirection()) not in ("RAS", "LPS")
    model = _pointwise_model(tmp_path, input={"modality": "any", "orientation": "RAS", "spacing_mm": "native",
                                              "normalization": {"scheme": "none"}})
    result = run_generator(model, image)
    assert result.provenance.parameters["grid"] == "reorient"
    expected = 2.0 * sitk.GetArrayFromImage(image).astype(np.float32) + 1.0
    np.testing.assert_allclose(sitk.GetArrayViewFromImage(result.image), expected, rtol=2e-6, atol=1e-4)
    assert result.image.GetDirection() == image.GetDirection()


def test_resampled_grid_comes_back_on_the_input_grid(test_data, tmp_path):
    image = read_image(test_data / "stroke_2mm" / "T1.nii.gz")  # oblique
    model = _pointwise_model(tmp_path, input={"modality": "any", "orientation": "LPS", "spacing_mm": [2.0, 2.0, 2.0],
                                              "normalization": {"scheme": "none"}})
    result = run_generator(model, image)
    assert result.provenance.parameters["grid"] == "resample"
    out = result.image
    assert (out.GetSize(), out.GetSpacing(), out.GetOrigin(), out.GetDirection()) == \
           (image.GetSize(), image.GetSpacing(), image.GetOrigin(), image.GetDirection())
    expected = 2.0 * sitk.GetArrayFromImage(image).astype(np.float32) + 1.0
    inside = sitk.GetArrayFromImage(sitk.BinaryErode(image > 20, [3, 3, 3])).astype(bool)
    error = np.abs(sitk.GetArrayViewFromImage(out) - expected)[inside]
    assert np.median(error) < 0.1 * np.median(expected[inside])  # interpolation only, no misplacement


def test_conditioning_reaches_the_network_and_is_validated(real_volume, tmp_path):
    conditions = [{"name": "age", "kind": "number", "range": [40, 90], "units": "years", "offset": 40, "scale": 0.1},
                  {"name": "diagnosis", "kind": "category", "categories": ["CN", "MCI", "AD"]}]
    install_model(tmp_path / "c", pointwise_graph(scale=1.0, offset=0.0, condition_width=4), id="cond",
                  conditioning=conditions)
    model = OnnxGenerator(ModelRegistry([("t", tmp_path)]).find("cond"))
    image = sitk.GetImageFromArray(real_volume[0, :20, :20, :20] + 1.0)
    result = run_generator(model, image, {"age": 70, "diagnosis": "AD"})
    shift = (70 - 40) * 0.1 + 1.0  # encoded age + one-hot AD
    np.testing.assert_allclose(sitk.GetArrayViewFromImage(result.image),
                               real_volume[0, :20, :20, :20] + 1.0 + shift, rtol=1e-5, atol=1e-5)
    with pytest.raises(InputError, match="outside the range"):
        run_generator(model, image, {"age": 120, "diagnosis": "AD"})
    with pytest.raises(InputError, match="one of CN, MCI, AD|choose one of"):
        run_generator(model, image, {"age": 70, "diagnosis": "XX"})
    with pytest.raises(InputError, match="needs the condition 'diagnosis'"):
        run_generator(model, image, {"age": 70})


@pytest.mark.parametrize("change, message", [
    ({"inference": {"patch_size": [8, 8, 8], "overlap": 0.25}}, "contradicts its card"),
    ({"outputs": [{"name": "a"}, {"name": "b"}]}, "contradicts its card"),
    ({"conditioning": [{"name": "age", "kind": "number", "range": [0, 1]}]}, "no input 'condition'"),
    ({"inference": {"patch_size": [16, 16, 16], "overlap": 0.25, "image_input": "mri"}}, "no input named 'mri'"),
])
def test_model_whose_shape_contradicts_its_card_is_refused(tmp_path, change, message):
    install_model(tmp_path / "m", pointwise_graph(), **change)
    with pytest.raises(ModelError, match=message):
        OnnxGenerator(ModelRegistry([("t", tmp_path)]).find("test-pointwise"))


def test_ct_given_to_an_mr_model_is_refused(test_data, tmp_path):
    model = _pointwise_model(tmp_path, input={"modality": "MR", "orientation": "native", "spacing_mm": "native",
                                              "normalization": {"scheme": "none"}})
    with pytest.raises(InputError, match="looks like a CT"):
        run_generator(model, read_image(test_data / "scct_hu.nii.gz"))
