"""File ▸ Close Scene on real MRML: a panel forgets its results and binds a fresh parameter node."""

import ast
import types

import numpy as np
import pytest
import slicer
from slicer.util import VTKObservationMixin

from conftest import MODULE_FOLDERS
from MedSynthLib.scene_close import SceneCloseMixin


class PanelUnderTest(SceneCloseMixin, VTKObservationMixin):
    """A widget as Slicer builds it, minus Qt: a logic, a result, a runner."""

    resultAttributes = ("lastResult",)

    def __init__(self):
        VTKObservationMixin.__init__(self)
        self.bound = 0
        self.logic = types.SimpleNamespace(getParameterNode=self._newParameterNode)
        self.runner = types.SimpleNamespace(state=types.SimpleNamespace(busy=True), cancel=self._cancel)
        self.cancelled = False
        self.lastResult = None
        self.observeSceneClose()

    def _newParameterNode(self):
        self.bound += 1
        return slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScriptedModuleNode", f"params{self.bound}")

    def _cancel(self):
        self.cancelled = True


def test_close_scene_clears_results_and_rebinds(headless):
    panel = PanelUnderTest()
    first = panel._parameterNode
    panel.lastResult = slicer.util.addVolumeFromArray(np.zeros((2, 3, 4), np.float32), name="sCT")
    slicer.mrmlScene.Clear(0)
    assert panel.lastResult is None
    assert panel.cancelled, "a running job must be cancelled when its scene closes"
    assert panel.bound == 2 and panel._parameterNode is not first
    assert slicer.mrmlScene.GetNodeByID(panel._parameterNode.GetID()) is panel._parameterNode
    panel.cleanup()
    slicer.mrmlScene.Clear(0)
    assert panel.bound == 2, "after cleanup() the panel no longer observes the scene"


@pytest.mark.parametrize("module", MODULE_FOLDERS, ids=lambda p: p.name)
def test_every_panel_handles_close_scene(module):
    """Each widget uses SceneCloseMixin and names every result attribute it assigns."""
    tree = ast.parse((module / f"{module.name}.py").read_text())
    widget = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == f"{module.name}Widget")
    assert "SceneCloseMixin" in {getattr(b, "id", None) for b in widget.bases}
    source = ast.unparse(widget)
    assert "self.observeSceneClose()" in source
    assert "self._parameterNode = self.logic.getParameterNode()" not in source, "bind through initializeParameterNode"
    declared = next((ast.literal_eval(s.value) for s in widget.body if isinstance(s, ast.Assign)
                     and getattr(s.targets[0], "id", None) == "resultAttributes"), ())
    for name in ("lastResult", "outputs"):
        if f"self.{name} = " in source:
            assert name in declared, f"{name} survives Close Scene"
