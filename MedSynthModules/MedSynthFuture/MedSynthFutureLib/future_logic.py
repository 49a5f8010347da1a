"""Logic of the MedSynthFuture module: a T1 volume node in; a timepoint Sequence, a change-map
overlay with its colour legend and a regional volume table out.

Qt-free; the module's ``MedSynthFutureLogic`` adds only Slicer's ``ScriptedLoadableModuleLogic``.
From the Python console::

    logic = slicer.util.getModuleLogic("MedSynthFuture")
    nodes = logic.runPrediction(slicer.util.getNode("T1"), age=72, sex="F", diagnosis="MCI", years=3, timepoints=3)
"""

from __future__ import annotations

from dataclasses import dataclass

from MedSynthFutureLib.conditions import condition_problem, intervals
from MedSynthFutureLib.timepoints import add_timepoint_sequence
from MedSynthFutureLib.volume_table import add_volume_table
from MedSynthLib.background import BackgroundJob
from MedSynthLib.jobs import node_job
from MedSynthLib.outputs import add_output_volume
from MedSynthLib.overlays import add_color_legend, show_overlay, style_heat_map
from MedSynthLib.volume_bridge import node_to_image
from medsynth.errors import InputError
from medsynth.models import ModelEntry, ModelRegistry
from medsynth.runtime import OnnxGenerator
from medsynth.domain import domain_summary
from medsynth.tasks.future import TASK, FutureResult, predict_future
from medsynth.tasks.future_pictures import change_map_range

CHANGE_MAP_TITLE = "Tissue loss (%)"
CHANGE_MAP_OPACITY = 0.5


@dataclass
class FutureNodes:
    """What a prediction adds to the scene."""

    sequence: object
    browser: object
    proxy: object
    change_map: object
    table: object
    result: FutureResult


class FutureLogic:
    """Future-MRI predictions on MRML nodes; the input nodes are never modified."""

    def __init__(self, registry: ModelRegistry | None = None):
        self.registry = registry or ModelRegistry.default()

    def models(self) -> list[ModelEntry]:
        return self.registry.entries(TASK)

    def model(self, modelId: str | None = None) -> ModelEntry:
        return self.registry.find(modelId or None, task=TASK)

    def problem(self, inputVolume, age: float, sex: str, diagnosis: str, years: float, timepoints: int,
                modelId: str | None = None) -> str | None:
        """Why Apply cannot run yet (None when it can)."""
        entries = self.models()
        if not entries:
            return "No future-MRI model is installed; import one in the MedSynth module."
        if inputVolume is None:
            return "Select the T1 volume."
        return condition_problem(self.model(modelId).card, age, sex, diagnosis, years, timepoints)

    def domainReport(self, inputVolume, modelId: str | None = None) -> str:
        """What the input looks like and whether it is inside the model's validated domain (shown before Apply)."""
        return domain_summary(node_to_image(inputVolume), self.model(modelId).card)

    def startPrediction(self, inputVolume, age: float, sex: str, diagnosis: str, years: float, timepoints: int = 1,
                        labelVolume=None, modelId: str | None = None, threads: int | None = None,
                        allowOutsideDomain: bool = False) -> BackgroundJob:
        """A not-yet-started job; its result (after ``finish``) is a :class:`FutureNodes`. ``allowOutsideDomain``
        runs on an input outside the model's validated domain, stamping the outputs."""
        entry = self.model(modelId)
        problem = condition_problem(entry.card, age, sex, diagnosis, years, timepoints)
        if problem:
            raise InputError(problem)
        labels = node_to_image(labelVolume) if labelVolume is not None else None
        steps = intervals(years, timepoints)

        def work(image, progress, cancelled) -> FutureResult:
            return predict_future(image, age, sex, diagnosis, steps, labels=labels, model=OnnxGenerator(entry, threads),
                                  progress=progress, cancelled=cancelled, input_description=inputVolume.GetName(),
                                  allow_outside=allowOutsideDomain)

        return node_job(inputVolume, work, lambda result: self._make_nodes(inputVolume, result))

    def runPrediction(self, inputVolume, age: float, sex: str, diagnosis: str, years: float, timepoints: int = 1,
                      labelVolume=None, modelId: str | None = None, threads: int | None = None,
                      allowOutsideDomain: bool = False) -> FutureNodes:
        """Run synchronously (scripts, tests)."""
        job = self.startPrediction(inputVolume, age, sex, diagnosis, years, timepoints, labelVolume, modelId, threads,
                                   allowOutsideDomain)
        return job.start().wait_for_completion()

    def _make_nodes(self, inputVolume, result: FutureResult) -> FutureNodes:
        sequence, browser, proxy = add_timepoint_sequence(
            inputVolume, result.baseline, {p.years: p.image for p in result.predictions}, result.provenance)
        final = result.final
        change_map = add_output_volume(final.tissue_loss, inputVolume, f"tissue loss +{final.years:g} y",
                                       result.provenance)
        low, high = change_map_range(final.tissue_loss)
        style_heat_map(change_map, (low, high), threshold=low)
        show_overlay(proxy, change_map, opacity=CHANGE_MAP_OPACITY)
        add_color_legend(change_map, CHANGE_MAP_TITLE)
        table = add_volume_table(inputVolume, result.volumes, result.provenance)
        return FutureNodes(sequence, browser, proxy, change_map, table, result)
