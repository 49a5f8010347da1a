"""The anomaly step of the MedSynth demo (``python -m MedSynthLib.demo``): a real scan with a lesion.

Add it to ``MedSynthLib.demo.STEPS`` as ``("anomaly", demo_anomaly)``. It runs the MedSynthAnomaly
logic on the chronic left-hemisphere stroke of the corpus (``stroke/T1.nii.gz``, brain-extracted,
1 mm, oblique) exactly as the panel would, centres the slice views on the strongest finding, and
writes the heat map, the overlay pictures (three views through the strongest finding, and the
slice views as Slicer renders them), and the findings with the artefact verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

import vtk

from MedSynthAnomalyLib.anomaly_logic import AnomalyLogic
from MedSynthLib.volume_bridge import node_to_image
from medsynth.io.atomic import atomic_path, write_text_atomic
from medsynth.tasks.anomaly.findings import findings_json
from medsynth.tasks.anomaly.pictures import findings_picture

SCAN = "stroke/T1.nii.gz"
#: Slice views rendered as Slicer shows them (layout name → orientation).
SLICE_VIEWS = {"Red": "Axial", "Green": "Coronal", "Yellow": "Sagittal"}


def demo_anomaly(context) -> dict:
    """Run the step with the demo's ``DemoContext`` (input loading, volume and picture writers)."""
    volume, source = context.input_volume(SCAN, "stroke T1")
    for view, orientation in SLICE_VIEWS.items():
        context.session.slice_logic(view).GetSliceNode().SetOrientation(orientation)
    logic = AnomalyLogic()
    outputs = logic.runAnomaly(volume)
    result = outputs.result
    context.save_volume(outputs.heatMap, "anomaly_heatmap.nii.gz")
    peak = max(float(outputs.heatMap.GetImageData().GetScalarRange()[1]), result.threshold + 1.0)
    context.save_pictures(volume, outputs.heatMap, "anomaly", threshold=result.threshold,
                          heat_range=(result.threshold, peak))
    written = [findings_picture(node_to_image(volume), result, context.out_dir / "anomaly_findings_overlay.png")]
    for view in SLICE_VIEWS:
        context.session.slice_logic(view).FitSliceToAll()
    if outputs.findings:
        logic.jumpToFinding(outputs, 0)
    written += [render_slice_view(context.session.slice_logic(view), context.out_dir / f"anomaly_slice_{view.lower()}.png")
                for view in SLICE_VIEWS]
    findings = context.out_dir / "anomaly_findings.json"
    write_text_atomic(findings, findings_json(outputs.findings, result.summary()))
    context.written += [str(p.relative_to(context.out_dir)) for p in (*written, findings)]
    largest = max(outputs.findings, key=lambda f: f.volume_ml, default=None)
    return {"input": str(source), "model": f"{result.provenance.model_id} {result.provenance.model_version}",
            "threshold": result.threshold, "findings": len(outputs.findings),
            "largest_finding": None if largest is None else json.loads(json.dumps(largest.to_dict())),
            "artefact": result.artefact.label}


def render_slice_view(slice_logic, path: Path) -> Path:
    """The slice view's blended picture (background + heat overlay) as Slicer renders it, as PNG."""
    slice_logic.GetImageDataConnection().GetProducer().Update()
    with atomic_path(path, suffix=".png") as temporary:
        writer = vtk.vtkPNGWriter()
        writer.SetInputConnection(slice_logic.GetImageDataConnection())
        writer.SetFileName(str(temporary))
        writer.Write()
    return Path(path)
