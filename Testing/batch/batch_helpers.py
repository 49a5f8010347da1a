"""Constants shared by the batch tests and their fixtures."""

#: Real T1 volumes in the cohort (2 mm, ~1 s each through demo-edges on 2 cores; see real_images.t1_cohort).
N_SUBJECTS = 4
#: DICOM slices of the series folder case (a slab is enough to exercise series reading).
N_DICOM_SLICES = 24
#: Sorts third (after the DICOM folder case and the first subject), so the failure is in the middle of the batch.
CORRUPT_NAME = "sub01x-corrupt.nii.gz"
DICOM_CASE = "dicom_series"


def install_anomaly_test_model(folder) -> None:
    """A real ONNX anomaly model in ``folder`` with the task's contract (7 outputs on the 2 mm MNI
    grid): reconstruction = the input, and constant population maps made from nilearn's MNI152 2009a
    templates resampled onto that grid (the T1 as template and healthy mean, grey+white matter as
    brain prior). Not a useful detector; it exercises the whole anomaly chain (registration included)."""
    import copy
    import json

    import numpy as np
    import onnx
    import SimpleITK as sitk
    from onnx import TensorProto, helper, numpy_helper

    from medsynth.models import sha256_of
    from medsynth.sample_data import mni152_t1_path
    from medsynth.tasks.anomaly.space import MAP_CHANNELS, MNI_SIZE_XYZ, OUTPUT_NAMES, mni_reference
    from model_factory import BASE_CARD

    def load(name):
        image = sitk.ReadImage(str(mni152_t1_path().with_name(f"mni_icbm152_{name}_tal_nlin_sym_09a_converted.nii.gz")))
        on_grid = sitk.Resample(sitk.Cast(image, sitk.sitkFloat32), mni_reference(), sitk.Transform(), sitk.sitkLinear)
        return sitk.GetArrayFromImage(on_grid)

    template = load("t1")
    template /= np.percentile(template[template > 0], 99)
    prior = np.clip((load("gm") + load("wm")) / 255.0, 0, 1)
    maps = {"template": template, "brain_prior": prior, "residual_mean": np.zeros_like(template),
            "residual_sd": np.full_like(template, 0.05), "intensity_mean": template,
            "intensity_sd": np.full_like(template, 0.1)}
    shape = ["batch", 1, *MNI_SIZE_XYZ[::-1]]
    nodes, initializers, channels = [helper.make_node("Mul", ["image", "zero"], ["blank"])], [
        numpy_helper.from_array(np.zeros((), np.float32), "zero")], ["image"]
    for name in MAP_CHANNELS:
        initializers.append(numpy_helper.from_array(maps[name][None, None], f"{name}_map"))
        nodes.append(helper.make_node("Add", ["blank", f"{name}_map"], [name]))
        channels.append(name)
    nodes.append(helper.make_node("Concat", channels, ["output"], axis=1))
    graph = helper.make_graph(nodes, "anomaly-test", [helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT,
                                                             ["batch", len(OUTPUT_NAMES), *MNI_SIZE_XYZ[::-1]])],
                              initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    card = copy.deepcopy(BASE_CARD)
    card.update({"id": "anomaly-test", "task": "anomaly",
                 "input": {"modality": "MR", "contrast": "T1", "orientation": "LAS", "spacing_mm": [2.0, 2.0, 2.0],
                           "normalization": {"scheme": "percentile", "lower_percentile": 1.0,
                                             "upper_percentile": 99.0, "target_range": [0.0, 1.0],
                                             "mask": "nonzero"}},
                 "inference": {"patch_size": list(MNI_SIZE_XYZ[::-1]), "overlap": 0.0, "blend": "constant",
                               "batch_size": 1},
                 "outputs": [{"name": name, "units": "a.u.", "background_value": 0} for name in OUTPUT_NAMES]})
    card["weights"]["sha256"] = sha256_of(folder / "model.onnx")
    (folder / "card.json").write_text(json.dumps(card, indent=2))


def install_future_test_model(folder) -> None:
    """A real ONNX future-MRI model in ``folder`` with the task's contract: conditioning age, sex,
    diagnosis, years; outputs the change source (``−years × normalised intensity`` %, so bright
    tissue shrinks more the longer the interval) and constant region probabilities (external CSF
    0.5, which takes up the volume lost). Not a useful predictor; it exercises the whole
    future-MRI chain (Poisson flow, warp, volumes) with a real parcellation."""
    import copy
    import json

    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from medsynth.models import sha256_of
    from medsynth.tasks.future import CHANGE_OUTPUT
    from medsynth.tasks.future_regions import PROBABILITY_PREFIX, REGION_NAMES, region_index
    from model_factory import BASE_CARD

    patch, width, channels = (32, 32, 32), 7, 1 + len(REGION_NAMES)
    weights = np.zeros((width, channels), np.float32)
    weights[width - 1, 0] = -1.0  # years (last conditioning slot) → change channel
    bias = np.zeros(channels, np.float32)
    bias[1 + region_index("csf_external")] = 0.5
    gate = np.zeros((1, channels, 1, 1, 1), np.float32)
    gate[0, 0] = 1.0
    initializers = [numpy_helper.from_array(array, name) for array, name in (
        (weights, "w"), (bias, "b"), (gate, "gate"), (1.0 - gate, "rest"), (np.zeros((), np.float32), "zero"),
        (np.array([-1, channels, 1, 1, 1], np.int64), "shape"))]
    nodes = [helper.make_node("MatMul", ["condition", "w"], ["cw"]), helper.make_node("Add", ["cw", "b"], ["cb"]),
             helper.make_node("Reshape", ["cb", "shape"], ["cvec"]),
             helper.make_node("Mul", ["cvec", "gate"], ["scale"]), helper.make_node("Mul", ["cvec", "rest"], ["const"]),
             helper.make_node("Mul", ["image", "scale"], ["scaled"]),
             helper.make_node("Mul", ["image", "zero"], ["blank"]),
             helper.make_node("Add", ["blank", "const"], ["constant"]),
             helper.make_node("Add", ["scaled", "constant"], ["output"])]
    graph = helper.make_graph(
        nodes, "future-test",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, *patch]),
         helper.make_tensor_value_info("condition", TensorProto.FLOAT, ["batch", width])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", channels, *patch])],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    card = copy.deepcopy(BASE_CARD)
    card.update({
        "id": "future-test", "task": "future-mri",
        "input": {"modality": "MR", "contrast": "T1", "orientation": "native", "spacing_mm": "native",
                  "normalization": {"scheme": "percentile", "lower_percentile": 1.0, "upper_percentile": 99.0,
                                    "target_range": [0.0, 1.0], "mask": "nonzero"}},
        "inference": {"patch_size": list(patch), "overlap": 0.0, "batch_size": 4},
        "conditioning": [
            {"name": "age", "kind": "number", "units": "years", "range": [18, 100], "offset": 18, "scale": 0.01},
            {"name": "sex", "kind": "category", "categories": ["F", "M"]},
            {"name": "diagnosis", "kind": "category", "categories": ["CN", "MCI", "AD"]},
            {"name": "years", "kind": "number", "units": "years", "range": [0, 10]}],
        "outputs": [{"name": CHANGE_OUTPUT, "units": "%", "background_value": 0}] + [
            {"name": PROBABILITY_PREFIX + name, "units": "probability", "clip": [0, 1],
             "background_value": 1 if name == "outside" else 0} for name in REGION_NAMES]})
    card["weights"]["sha256"] = sha256_of(folder / "model.onnx")
    (folder / "card.json").write_text(json.dumps(card, indent=2))
