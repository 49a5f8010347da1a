"""Logic of the MedSynth hub module: installed models, importing one, running one on a volume.

Qt-free (tested headless against real MRML); the module's ``MedSynthLogic`` adds only Slicer's
``ScriptedLoadableModuleLogic`` base. Usable from the Python console::

    logic = slicer.util.getModuleLogic("MedSynth")
    nodes = logic.runModel(slicer.util.getNode("MRHead"), "demo-edges")
"""

from __future__ import annotations

from typing import Any, Mapping

from MedSynthLib.background import BackgroundJob
from MedSynthLib.jobs import node_job
from MedSynthLib.outputs import add_output_volume
from MedSynthLib.overlays import add_color_legend, show_overlay, style_heat_map
from medsynth.models import ModelEntry, ModelRegistry
from medsynth.runtime import GenerationResult, OnnxGenerator, run_generator

#: Tasks whose single output is shown as a heat overlay rather than as a new background volume.
HEAT_TASKS = ("demo", "anomaly")


class HubLogic:
    """Models and generic model runs; every output is a new, provenance-stamped synthetic node."""

    def __init__(self, registry: ModelRegistry | None = None):
        self.registry = registry or ModelRegistry.default()

    def models(self, task: str | None = None) -> list[ModelEntry]:
        return self.registry.entries(task)

    def importModel(self, zipPath: str, replace: bool = False) -> ModelEntry:
        return self.registry.import_zip(zipPath, replace=replace)

    def startModel(self, inputVolume, modelId: str, conditions: Mapping[str, Any] | None = None,
                   threads: int | None = None) -> BackgroundJob:
        """A not-yet-started job; its result (after ``finish``) is ``{output name: node}``."""
        entry = self.registry.find(modelId)

        def work(image, progress, cancelled) -> GenerationResult:
            return run_generator(OnnxGenerator(entry, threads), image, conditions, progress, cancelled,
                                 input_description=inputVolume.GetName())

        def make_nodes(result: GenerationResult) -> dict:
            nodes = {name: add_output_volume(image, inputVolume, name, result.provenance)
                     for name, image in result.images.items()}
            if entry.card.task in HEAT_TASKS and len(nodes) == 1:
                (name, node), = nodes.items()
                spec = entry.card.outputs[0]
                value_range = spec.clip or _value_range(node)
                style_heat_map(node, value_range, threshold=value_range[0] + 0.1 * (value_range[1] - value_range[0]))
                show_overlay(inputVolume, node, opacity=0.5)
                add_color_legend(node, f"{name} ({spec.units})" if spec.units else name)
            return nodes

        return node_job(inputVolume, work, make_nodes)

    def runModel(self, inputVolume, modelId: str, conditions: Mapping[str, Any] | None = None,
                 threads: int | None = None) -> dict:
        """Run synchronously (for scripts): ``{output name: node}``."""
        return self.startModel(inputVolume, modelId, conditions, threads).start().wait_for_completion()


def _value_range(node) -> tuple[float, float]:
    low, high = node.GetImageData().GetScalarRange()
    return float(low), float(high)
