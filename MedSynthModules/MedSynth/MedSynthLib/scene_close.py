"""File ▸ Close Scene for every MedSynth panel: forget results and rebind the parameter node.

Closing the scene removes every node a panel holds (its last result, its parameter node). Without
this the panel's wrappers and results point at removed nodes and the next Apply or export fails.
Qt-free (only MRML events and ``VTKObservationMixin``'s ``addObserver``), so it is tested against
real MRML under slicer-core.
"""

from __future__ import annotations

import slicer


class SceneCloseMixin:
    """Mixed into a ScriptedLoadableModuleWidget that also derives from VTKObservationMixin.

    The widget names the attributes holding results in ``resultAttributes``, and may override
    ``onParameterNodeReady()`` to observe its parameter node or refresh its state.
    """

    resultAttributes: tuple[str, ...] = ()

    def observeSceneClose(self) -> None:
        """Call once in ``setup()`` after ``self.logic`` exists; binds the parameter node too."""
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        """(Re)bind the GUI to the logic's parameter node, created again in a fresh scene."""
        self._parameterNode = self.logic.getParameterNode()
        if hasattr(self._parameterNode, "connectGui") and getattr(self, "ui", None) is not None:
            self._parameterNode.connectGui(self.ui)
        self.onParameterNodeReady()

    def onParameterNodeReady(self) -> None:
        """Hook: observe the parameter node or refresh the panel."""

    def clearResults(self) -> None:
        for name in self.resultAttributes:
            setattr(self, name, None)

    def onSceneStartClose(self, _caller=None, _event=None) -> None:
        runner = getattr(self, "runner", None)
        if runner is not None and runner.state.busy:
            runner.cancel()
        self._releaseParameterNode()
        self.clearResults()

    def onSceneEndClose(self, _caller=None, _event=None) -> None:
        parent = getattr(self, "parent", None)
        if parent is None or getattr(parent, "isEntered", True):
            self.initializeParameterNode()

    def cleanup(self) -> None:
        """Called by Slicer when the application exits or the module is reloaded."""
        self._releaseParameterNode()
        self.clearResults()
        self.removeObservers()

    def _releaseParameterNode(self) -> None:
        node = getattr(self, "_parameterNode", None)
        if node is not None and hasattr(node, "disconnectGui") and getattr(self, "ui", None) is not None:
            node.disconnectGui(self.ui)
        self._parameterNode = None
