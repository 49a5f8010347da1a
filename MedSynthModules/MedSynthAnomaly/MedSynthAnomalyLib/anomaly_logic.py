"""Logic of the MedSynthAnomaly module: anomaly heat map, findings table and segmentation, artefact verdict.

Qt-free (tested headless against real MRML); the module's ``MedSynthAnomalyLogic`` adds only
Slicer's ``ScriptedLoadableModuleLogic`` base. Usable from the Python console::

    logic = slicer.util.getModuleLogic("MedSynthAnomaly")
    outputs = logic.runAnomaly(slicer.util.getNode("T1"))
    print(outputs.artefact.message(), len(outputs.findings))
    logic.jumpToFinding(outputs, 0)

Outputs, all stamped with provenance and filed beside the input in the Subject Hierarchy:
the heat map (a scalar volume shown over the input with the heat colour table, sub-threshold
voxels transparent, a colour legend), a table node with one row per finding, a segmentation with
one segment per finding, the healthy reconstruction (model method), and the artefact verdict
(returned, and written on the heat map as ``MedSynth.ArtefactLabel`` / ``MedSynth.ArtefactScore``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import vtk

import slicer
from MedSynthLib.background import BackgroundJob
from MedSynthLib.jobs import node_job
from MedSynthLib.outputs import add_output_volume, place_beside, stamp_provenance, synthetic_name
from MedSynthLib.overlays import add_color_legend, set_threshold, show_overlay, style_heat_map
from MedSynthLib.volume_bridge import image_to_node, node_to_image
from medsynth.models import ModelEntry, ModelRegistry
from medsynth.provenance import ATTRIBUTE_PREFIX
from medsynth.runtime import OnnxGenerator
from medsynth.domain import domain_summary
from medsynth.tasks.anomaly.task import PROBABILITY_UNITS, AnomalyResult, anomaly_map
from medsynth.tasks.anomaly.artefacts import ArtefactVerdict
from medsynth.tasks.anomaly.findings import Finding, label_findings

#: Table columns: (name, unit); the centroid columns are what "jump to finding" reads.
TABLE_COLUMNS = (("Finding", ""), ("Volume", "mL"), ("Peak score", "z"), ("Mean score", "z"),
                 ("R", "mm"), ("A", "mm"), ("S", "mm"), ("Bounding box (RAS)", "mm"))


@dataclass
class AnomalyOutputs:
    """The nodes of one anomaly run, the artefact verdict and the engine result (for re-thresholding)."""

    heatMap: object
    findingsTable: object
    findingsSegmentation: object
    reconstruction: object | None
    artefact: ArtefactVerdict
    result: AnomalyResult
    findings: list[Finding] = field(default_factory=list)


class AnomalyLogic:
    """Runs anomaly models on volume nodes; every output is a new, provenance-stamped node."""

    def __init__(self, registry: ModelRegistry | None = None):
        self.registry = registry or ModelRegistry.default()

    def models(self) -> list[ModelEntry]:
        return self.registry.entries("anomaly")

    def domainReport(self, inputVolume, modelId: str | None = None) -> str:
        """What the input looks like and whether it is inside the model's validated domain (shown before Apply)."""
        return domain_summary(node_to_image(inputVolume), self.registry.find(modelId, task="anomaly").card)

    def startAnomaly(self, inputVolume, modelId: str | None = None, method: str = "model",
                     threshold: float | None = None, brainMaskNode=None, opacity: float = 0.5,
                     threads: int | None = None, allowOutsideDomain: bool = False) -> BackgroundJob:
        """A not-yet-started job whose result (after ``finish``) is an :class:`AnomalyOutputs`;
        ``allowOutsideDomain`` runs on a scan outside the model's validated domain, stamping the outputs."""
        entry = self.registry.find(modelId, task="anomaly")
        mask = node_to_image(brainMaskNode) if brainMaskNode is not None else None

        def work(image, progress, cancelled) -> AnomalyResult:
            return anomaly_map(image, OnnxGenerator(entry, threads), method, brain_mask=mask, threshold=threshold,
                               progress=progress, cancelled=cancelled, input_description=inputVolume.GetName(),
                               allow_outside=allowOutsideDomain)

        return node_job(inputVolume, work, lambda result: self.addResultNodes(inputVolume, result, opacity))

    def runAnomaly(self, inputVolume, modelId: str | None = None, method: str = "model",
                   threshold: float | None = None, brainMaskNode=None, threads: int | None = None,
                   allowOutsideDomain: bool = False) -> AnomalyOutputs:
        """Run synchronously (scripts, tests)."""
        job = self.startAnomaly(inputVolume, modelId, method, threshold, brainMaskNode, threads=threads,
                                allowOutsideDomain=allowOutsideDomain)
        return job.start().wait_for_completion()

    def applyThreshold(self, outputs: AnomalyOutputs, threshold: float) -> list[Finding]:
        """Show the map from ``threshold`` up and recompute the findings table and segmentation at it."""
        set_threshold(outputs.heatMap, threshold)
        result = outputs.result
        findings, labels = label_findings(result.score, threshold, result.settings.min_finding_ml, result.brain_mask)
        outputs.findings = findings
        fill_findings_table(outputs.findingsTable, findings)
        fill_findings_segmentation(outputs.findingsSegmentation, labels, findings)
        outputs.heatMap.SetAttribute(ATTRIBUTE_PREFIX + "FindingThreshold", f"{threshold:g}")
        return findings

    def setOpacity(self, outputs: AnomalyOutputs, opacity: float) -> None:
        for composite in outputs.heatMap.GetScene().GetNodesByClass("vtkMRMLSliceCompositeNode"):
            if composite.GetForegroundVolumeID() == outputs.heatMap.GetID():
                composite.SetForegroundOpacity(opacity)

    def jumpToFinding(self, outputs_or_table, row: int) -> tuple[float, float, float]:
        """Centre every slice view on the centroid of finding ``row`` (0-based); returns it (RAS mm)."""
        table = getattr(outputs_or_table, "findingsTable", outputs_or_table)
        if not 0 <= row < table.GetNumberOfRows():
            raise IndexError(f"The findings table has {table.GetNumberOfRows()} rows; row {row} does not exist.")
        ras = tuple(float(table.GetCellText(row, column)) for column in (4, 5, 6))
        slicer.vtkMRMLSliceNode.JumpAllSlices(table.GetScene(), *ras, slicer.vtkMRMLSliceNode.CenteredJumpSlice)
        return ras

    def addResultNodes(self, inputVolume, result: AnomalyResult, opacity: float = 0.5) -> AnomalyOutputs:
        """Nodes for an engine result computed on ``inputVolume``'s image (e.g. by a script or the CLI)."""
        scene = inputVolume.GetScene()
        heat = add_output_volume(result.score, inputVolume, "anomaly map", result.provenance)
        peak = (1.0 if result.score_units == PROBABILITY_UNITS
                else max(float(heat.GetImageData().GetScalarRange()[1]), result.threshold + 1.0))
        style_heat_map(heat, (0.0, peak), threshold=result.threshold)
        show_overlay(inputVolume, heat, opacity=opacity)
        add_color_legend(heat, f"anomaly score ({result.score_units})")
        for key, value in (("ArtefactLabel", result.artefact.label), ("ArtefactScore", f"{result.artefact.score:.2f}"),
                           ("FindingThreshold", f"{result.threshold:g}"), ("ScoreUnits", result.score_units)):
            heat.SetAttribute(ATTRIBUTE_PREFIX + key, value)
        table = scene.AddNewNodeByClass("vtkMRMLTableNode", synthetic_name(inputVolume.GetName(), "anomaly findings"))
        segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode",
                                               synthetic_name(inputVolume.GetName(), "anomaly findings"))
        segmentation.CreateDefaultDisplayNodes()
        segmentation.SetReferenceImageGeometryParameterFromVolumeNode(inputVolume)
        for node in (table, segmentation):
            stamp_provenance(node, result.provenance, inputVolume)
            place_beside(node, inputVolume)
        reconstruction = None
        if result.reconstruction is not None:
            reconstruction = add_output_volume(result.reconstruction, inputVolume, "healthy reconstruction",
                                               result.provenance)
        outputs = AnomalyOutputs(heat, table, segmentation, reconstruction, result.artefact, result)
        outputs.findings = list(result.findings)
        fill_findings_table(table, result.findings)
        fill_findings_segmentation(segmentation, result.finding_labels, result.findings)
        return outputs


def fill_findings_table(table, findings: list[Finding]) -> None:
    """Replace the table's content with one row per finding (columns :data:`TABLE_COLUMNS`)."""
    table.RemoveAllColumns()
    columns = []
    for name, unit in TABLE_COLUMNS:
        array = vtk.vtkStringArray() if name in ("Finding", "Bounding box (RAS)") else vtk.vtkDoubleArray()
        array.SetName(name)
        table.AddColumn(array)
        if unit:
            table.SetColumnUnitLabel(name, unit)
        columns.append(array)
    for finding in findings:
        box = " ".join(f"{lo:.0f}…{hi:.0f}" for lo, hi in zip(finding.bbox_ras_min_mm, finding.bbox_ras_max_mm))
        values = [f"Finding {finding.id}", finding.volume_ml, finding.peak_score, finding.mean_score,
                  *finding.centroid_ras_mm, box]
        for array, value in zip(columns, values):
            array.InsertNextValue(value)
    table.Modified()


def fill_findings_segmentation(segmentation_node, labels, findings: list[Finding]) -> None:
    """One segment per finding (named with its volume and peak score), from the label image."""
    segmentation = segmentation_node.GetSegmentation()
    segmentation.RemoveAllSegments()
    if not findings:
        return
    scene = segmentation_node.GetScene()
    labelmap = image_to_node(labels, scene, "anomaly finding labels", class_name="vtkMRMLLabelMapVolumeNode")
    try:
        if not slicer.modules.segmentations.logic().ImportLabelmapToSegmentationNode(labelmap, segmentation_node):
            raise RuntimeError("Could not convert the findings into a segmentation.")
    finally:
        scene.RemoveNode(labelmap.GetDisplayNode())
        scene.RemoveNode(labelmap)
    for index, finding in enumerate(findings):
        segment = segmentation.GetNthSegment(index)
        segment.SetName(f"Finding {finding.id}: {finding.volume_ml:.1f} mL, peak {finding.peak_score:.1f}")
