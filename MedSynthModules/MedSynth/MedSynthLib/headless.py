"""A headless stand-in for the Slicer application, on the real MRML library (``slicer-core``).

THIN STAND-IN, named as such: ``slicer.app``, Qt and the module manager cannot exist outside the
Slicer application, so this builds what the logic classes need from them — a scene with
default colour tables, the Volumes / Segmentations / Subject Hierarchy / Sequences / Tables /
Markups / Colors logics, remote I/O for ``.mrb`` files — and exposes them as
``slicer.mrmlScene`` and ``slicer.modules.<name>.logic()``. Used by the test-suite and the
demo; inside Slicer none of this runs.
"""

from __future__ import annotations

import tempfile
import types
from pathlib import Path
from dataclasses import dataclass, field

import vtk

import slicer

_LOGIC_CLASSES = {
    "volumes": "vtkSlicerVolumesLogic",
    "segmentations": "vtkSlicerSegmentationsModuleLogic",
    "subjecthierarchy": "vtkSlicerSubjectHierarchyModuleLogic",
    "sequences": "vtkSlicerSequencesLogic",
    "tables": "vtkSlicerTablesLogic",
    "markups": "vtkSlicerMarkupsLogic",
}


@dataclass
class HeadlessSlicer:
    """The scene, application logic and module logics of a headless session."""

    scene: object
    app_logic: object
    logics: dict = field(default_factory=dict)
    slice_logics: dict = field(default_factory=dict)
    _keep_alive: list = field(default_factory=list)

    def slice_logic(self, view: str = "Red"):
        """The slice logic of the ``view`` slice node (both created on first use), for rendering overlays."""
        if view in self.slice_logics:
            return self.slice_logics[view]
        existing = [n for n in self.scene.GetNodesByClass("vtkMRMLSliceNode") if n.GetLayoutName() == view]
        node = existing[0] if existing else _add_slice_node(self.scene, view)
        logic = slicer.vtkMRMLSliceLogic()
        logic.SetMRMLApplicationLogic(self.app_logic)
        logic.SetMRMLScene(self.scene)
        logic.SetSliceNode(node)
        self.slice_logics[view] = logic
        return logic


def start_headless_slicer() -> HeadlessSlicer:
    """Build a fresh headless session and install it as ``slicer.mrmlScene`` / ``slicer.modules``."""
    if getattr(slicer, "app", None) is not None:
        raise RuntimeError("start_headless_slicer() called inside Slicer: it would replace the application's "
                           "scene and modules; use slicer.mrmlScene there.")
    scene = slicer.vtkMRMLScene()
    crosshair = slicer.vtkMRMLCrosshairNode()
    crosshair.SetCrosshairName("default")
    scene.AddNode(crosshair)
    app = slicer.vtkSlicerApplicationLogic()
    cache = tempfile.TemporaryDirectory(prefix="medsynth-headless-")
    # An empty colour-file folder: only the built-in tables are loaded, without error messages.
    (Path(cache.name) / "share" / "ColorFiles").mkdir(parents=True)
    app.SetHomeDirectory(cache.name)
    app.SetShareDirectory("share")
    app.SetMRMLScene(scene)
    colors = slicer.vtkSlicerColorLogic()  # the module logic (colour legends), not the app's basic one
    colors.SetMRMLApplicationLogic(app)
    colors.SetMRMLScene(scene)
    colors.AddDefaultColorNodes()
    app.SetModuleLogic("Colors", colors)
    app.SetSliceLogics(vtk.vtkCollection())
    app.SetViewLogics(vtk.vtkCollection())
    logics = {"colors": colors}
    for name, class_name in _LOGIC_CLASSES.items():
        logic = getattr(slicer, class_name)()
        logic.SetMRMLScene(scene)
        logic.SetMRMLApplicationLogic(app)
        app.SetModuleLogic(name, logic)
        logics[name] = logic
    slicer.vtkMRMLSliceNode.AddDefaultSliceOrientationPresets(scene, True)
    remote_io = slicer.vtkMRMLRemoteIOLogic()
    remote_io.SetMRMLScene(scene)
    remote_io.SetMRMLApplicationLogic(app)
    remote_cache = Path(cache.name) / "cache"  # ReadFromMRB unpacks bundles here
    remote_cache.mkdir()
    (remote_cache / ".slicer-cache").touch()
    remote_io.GetCacheManager().SetRemoteCacheDirectory(str(remote_cache))
    data_io = slicer.vtkDataIOManagerLogic()
    data_io.SetMRMLScene(scene)
    data_io.SetMRMLApplicationLogic(app)
    data_io.SetAndObserveDataIOManager(remote_io.GetDataIOManager())
    remote_io.AddDataIOToScene()
    slicer.mrmlScene = scene
    slicer.modules = types.SimpleNamespace(**{name: types.SimpleNamespace(logic=(lambda lg=lg: lg))
                                              for name, lg in logics.items()})
    return HeadlessSlicer(scene, app, logics, _keep_alive=[remote_io, data_io, cache])


def _add_slice_node(scene, view: str):
    node = scene.CreateNodeByClass("vtkMRMLSliceNode")  # copies the scene's default node: orientation presets
    node.SetName(view)
    node.SetLayoutName(view)
    node.SetDefaultOrientation("Axial")
    node.SetOrientation("Axial")
    scene.AddNode(node)
    return node
