"""Each module logic on the real MRML scene, then File ▸ Close Scene (``scene.Clear(0)``): nothing the
run added survives in the scene, the logic holds no node and no new scene observer, and running again
in the closed scene works and names its outputs as the first run did (no stale "… 2" or reused node).

(A removed node keeps one ModifiedEvent observer when it had a subject-hierarchy item: that is MRML's
own subject hierarchy, the same for a node added by hand, so it is not checked here.)"""

from collections import Counter

import pytest
import vtk

from medsynth.models import ModelRegistry
from model_factory import install_model, pointwise_graph

WATCHED_EVENTS = (vtk.vtkCommand.ModifiedEvent, vtk.vtkCommand.AnyEvent)


def _census(scene) -> Counter:
    """Class name → number of nodes of that class in ``scene``."""
    return Counter(scene.GetNthNode(i).GetClassName() for i in range(scene.GetNumberOfNodes()))


def _closed_census(scene) -> Counter:
    """What a closed scene holds before any run (its singletons; the application's subject hierarchy
    logic, absent here, would recreate the hierarchy node after every close)."""
    scene.Clear(0)
    return _census(scene)


def _load_head(headless, test_data):
    from MedSynthLib.scene_files import load_volume

    return load_volume(headless.scene, test_data / "head_mr_skull_2mm.nii.gz", "Head MR")


def _hub(headless, test_data, tmp_path):
    from MedSynthLib.hub_logic import HubLogic

    logic = HubLogic()
    return logic, lambda: list(logic.runModel(_load_head(headless, test_data), "demo-edges").values())


def _synthct(headless, test_data, tmp_path):
    from MedSynthCTLib.logic import SynthCTLogic

    install_model(tmp_path / "models" / "sct", pointwise_graph(patch=(32, 32, 32)), id="close-sct", task="synth-ct",
                  inference={"patch_size": [32, 32, 32], "overlap": 0.0, "batch_size": 2},
                  input={"modality": "MR", "orientation": "native", "spacing_mm": "native",
                         "normalization": {"scheme": "percentile", "target_range": [0, 1]}},
                  outputs=[{"name": "ct", "units": "HU", "scale": 1000.0, "offset": -1024.0, "clip": [-1024, 3000],
                            "background_value": -1024}])
    logic = SynthCTLogic(ModelRegistry([("test", tmp_path / "models")]))

    def run():
        result = logic.run(_load_head(headless, test_data), uncertainty=True)
        return [result.sct, result.uncertainty]

    return logic, run


def _future(headless, test_data, tmp_path):
    from MedSynthFutureLib.future_logic import FutureLogic

    logic = FutureLogic()

    def run():
        nodes = logic.runPrediction(_load_head(headless, test_data), 72.0, "F", "AD", 2.0, timepoints=1)
        return [nodes.sequence, nodes.browser, nodes.change_map, nodes.table]

    return logic, run


@pytest.mark.parametrize("make", [_hub, _synthct, _future], ids=["MedSynth", "MedSynthCT", "MedSynthFuture"])
def test_logic_leaves_nothing_behind_when_the_scene_closes_and_runs_again(headless, test_data, tmp_path, make):
    headless.slice_logic("Red")  # overlays set slice composite nodes, as in the application
    scene = headless.scene
    empty = _closed_census(scene)
    scene_observed = [scene.HasObserver(event) for event in WATCHED_EVENTS]
    logic, run = make(headless, test_data, tmp_path)
    names = []
    for attempt in range(2):
        outputs = run()
        assert all(node is not None and node.GetScene() is scene for node in outputs)
        names.append(sorted(node.GetName() for node in outputs))
        scene.Clear(0)
        assert _census(scene) == empty, f"run {attempt + 1} left nodes behind"
        for node in outputs:
            assert node.GetScene() is None, f"{node.GetName()} still claims the closed scene"
        assert [scene.HasObserver(event) for event in WATCHED_EVENTS] == scene_observed
        assert not any(getattr(value, "IsA", None) and value.IsA("vtkMRMLNode") for value in vars(logic).values())
    assert names[0] == names[1]


def test_reader_logic_survives_close_scene_mid_case(headless, tmp_path):
    """Closing the scene removes the reader's case and marks nodes under it; the next case loads cleanly."""
    import SimpleITK as sitk
    from MedSynthReaderLib.lead import LeadLogic
    from MedSynthReaderLib.logic import ReaderLogic

    from real_images import centre_crop, t1_cohort

    real_dir, synthetic_dir = tmp_path / "real", tmp_path / "smoothgan"
    for folder in (real_dir, synthetic_dir):
        folder.mkdir()
    for name, image in list(t1_cohort().items())[:2]:
        small = sitk.Cast(centre_crop(image, 24), sitk.sitkFloat32)
        sitk.WriteImage(small, str(real_dir / f"{name}.nii.gz"))
        sitk.WriteImage(sitk.SmoothingRecursiveGaussian(small, 2.0), str(synthetic_dir / f"{name}.nii.gz"))
    session = LeadLogic().createSession(real_dir, [synthetic_dir], tmp_path / "session", readers=["r1"], seed=3)
    scene = headless.scene
    empty = _closed_census(scene)
    reader = ReaderLogic()
    reader.openSession(session.built.session_dir, "r1")
    first = reader.loadCurrentCase()
    stale = [first, *reader.marksNodes.values()]
    scene.Clear(0)
    assert _census(scene) == empty
    assert all(node.GetScene() is None for node in stale)
    again = reader.loadCurrentCase()  # after Close Scene the reader can still show its case
    assert again is not first and again.GetScene() is scene and again.GetName() == first.GetName()
    assert all(node.GetScene() is scene for node in reader.marksNodes.values())
    assert scene.GetNodesByClass("vtkMRMLScalarVolumeNode").GetNumberOfItems() == 1
    reader.closeSession()
    assert _census(scene) == empty
