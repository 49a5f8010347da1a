"""Synthetic CT in the scene: MR node in, sCT node (and uncertainty overlay) out, DICOM export.

Qt-free, so it runs in Slicer, in ``Slicer --no-main-window`` scripts and under pytest against
the real MRML library. Console use::

    logic = slicer.util.getModuleLogic("MedSynthCT")
    result = logic.run(slicer.util.getNode("MR"), model=None, uncertainty=True)
    logic.exportDicom(result.sct, "/data/out/sct_dicom", referenceSeries="/data/patient/MR_series")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from MedSynthLib.background import BackgroundJob
from MedSynthLib.display import apply_ct_window
from MedSynthLib.jobs import node_job
from MedSynthLib.outputs import add_output_volume, provenance_attributes
from MedSynthLib.overlays import add_color_legend, show_overlay, style_heat_map
from MedSynthLib.volume_bridge import node_to_image
from medsynth.domain import domain_summary
from medsynth.io.dicom_export import DicomExportResult, export_sct_dicom
from medsynth.io.guard import check_call_paths
from medsynth.models import ModelEntry, ModelRegistry
from medsynth.provenance import ATTRIBUTE_PREFIX
from medsynth.tasks.synthct import TASK, SynthCTResult, synth_ct


@dataclass
class SynthCTNodes:
    """The nodes one run adds: the synthetic CT (HU) and, when asked for, its uncertainty (HU)."""

    sct: object
    uncertainty: object | None


class SynthCTLogic:
    """Synthetic CT from a head MR volume node with the card's model (see module docstring)."""

    def __init__(self, registry: ModelRegistry | None = None):
        self.registry = registry or ModelRegistry.default()

    def models(self) -> list[ModelEntry]:
        return self.registry.entries(TASK)

    def domainReport(self, inputVolume, model: str | None = None) -> str:
        """What the input looks like and whether it is inside the model's validated domain (shown before Apply)."""
        return domain_summary(node_to_image(inputVolume), self.registry.find(model, task=TASK).card)

    def start(self, inputVolume, model: str | None = None, maskVolume=None, uncertainty: bool = False,
              window: str = "brain", allowOutsideDomain: bool = False) -> BackgroundJob:
        """A not-yet-started job whose ``finish()`` returns :class:`SynthCTNodes`; ``allowOutsideDomain``
        runs on an input outside the model's validated domain, stamping the outputs."""
        entry = self.registry.find(model, task=TASK)
        mask = node_to_image(maskVolume) if maskVolume is not None else None

        def work(image, progress, cancelled) -> SynthCTResult:
            return synth_ct(image, entry, mask=mask, uncertainty=uncertainty, progress=progress,
                            cancelled=cancelled, input_description=inputVolume.GetName(), allow_outside=allowOutsideDomain)

        def make_nodes(result: SynthCTResult) -> SynthCTNodes:
            sct = add_output_volume(result.ct, inputVolume, "sCT", result.provenance)
            apply_ct_window(sct, window)
            spread = None
            if result.uncertainty is not None:
                spread = add_output_volume(result.uncertainty, inputVolume, "sCT uncertainty", result.provenance)
                high = max(float(spread.GetImageData().GetScalarRange()[1]), 1.0)
                style_heat_map(spread, (0.0, high), threshold=0.1 * high)
                show_overlay(sct, spread, opacity=0.5)
                add_color_legend(spread, "sCT uncertainty (HU)")
            return SynthCTNodes(sct, spread)

        return node_job(inputVolume, work, make_nodes)

    def run(self, inputVolume, model: str | None = None, maskVolume=None, uncertainty: bool = False,
            window: str = "brain", allowOutsideDomain: bool = False) -> SynthCTNodes:
        """Synchronous run for scripts and the Python console."""
        job = self.start(inputVolume, model, maskVolume, uncertainty, window, allowOutsideDomain)
        return job.start().wait_for_completion()

    def exportDicom(self, sctVolume, outputFolder: str, referenceSeries: str | None = None,
                    overwrite: bool = False) -> DicomExportResult:
        """Write the sCT node as a DICOM CT series marked synthetic, with the node's provenance.

        The folders are checked by the command line's path guard first (``export-dicom``'s rules)."""
        check_call_paths(inputs={"referenceSeries": referenceSeries}, out_dirs={"outputFolder": outputFolder})
        if sctVolume.GetAttribute(ATTRIBUTE_PREFIX + "Synthetic") != "YES":
            raise ValueError(f"'{sctVolume.GetName()}' is not a MedSynth synthetic CT; only synthetic CTs are exported here.")
        attributes = {key[len(ATTRIBUTE_PREFIX):]: value for key, value in provenance_attributes(sctVolume).items()}
        return export_sct_dicom(node_to_image(sctVolume), Path(outputFolder), reference_series=referenceSeries,
                                extra_attributes=attributes, overwrite=overwrite)

