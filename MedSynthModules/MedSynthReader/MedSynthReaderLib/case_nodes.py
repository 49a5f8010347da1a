"""A blinded case in the scene: one volume node that carries nothing but the opaque case id.

The image goes through the volume bridge (no storage node, so no file name or folder is attached
to the node); the node is named and tagged only as the engine's :class:`CaseView` says; the
window/level is the case's, or automatic. Removing a case removes its display and storage nodes
too, so nothing of an earlier case stays behind for the Data module to show.
"""

from __future__ import annotations

from MedSynthLib.volume_bridge import image_to_node
from medsynth.reading import CaseView

SELECTION_NODE_ID = "vtkMRMLSelectionNodeSingleton"


def addCaseVolume(scene, view: CaseView):
    """Load the blinded image of ``view`` into a new scalar volume node, windowed and shown."""
    node = image_to_node(view.load_image(), scene, view.node_name)
    node.SetName(view.node_name)  # exactly the opaque id, even if a stale node had the name
    for name, value in view.attributes.items():
        node.SetAttribute(name, value)
    applyWindowLevel(node, view.window, view.level)
    showInSliceViews(scene, node)
    return node


def applyWindowLevel(node, window: float | None, level: float | None) -> None:
    """The case's window/level (image units); ``None`` means Slicer's automatic window/level."""
    display = node.GetDisplayNode()
    if window is None or level is None:
        display.AutoWindowLevelOn()
        return
    display.AutoWindowLevelOff()
    display.SetWindowLevel(window, level)


def showInSliceViews(scene, node) -> None:
    """Make ``node`` the only layer of every slice view (and the active volume)."""
    for composite in scene.GetNodesByClass("vtkMRMLSliceCompositeNode"):
        composite.SetBackgroundVolumeID(node.GetID())
        composite.SetForegroundVolumeID(None)
        composite.SetLabelVolumeID(None)
    selection = scene.GetNodeByID(SELECTION_NODE_ID)
    if selection is not None:
        selection.SetActiveVolumeID(node.GetID())


def removeWithDisplayNodes(node) -> None:
    """Remove ``node`` and its display and storage nodes from its scene (no-op if already gone)."""
    scene = node.GetScene() if node is not None else None
    if scene is None:
        return
    helpers = [node.GetNthDisplayNode(i) for i in range(node.GetNumberOfDisplayNodes())]
    helpers += [node.GetNthStorageNode(i) for i in range(node.GetNumberOfStorageNodes())]
    scene.RemoveNode(node)
    for helper in helpers:
        if helper is not None and helper.GetScene() is scene:
            scene.RemoveNode(helper)
