"""The synthetic-CT step of the MedSynth demo (``python -m MedSynthLib.demo``).

Registered in ``MedSynthLib.demo.STEPS`` as ``("synthct", demo_synthct)``. It runs the MedSynthCT
logic on a real clinical head MR of the corpus (``head_mr_skull/MR.nii.gz``) exactly as the panel
would — built-in model, uncertainty from test-time augmentation — and writes the synthetic CT, its
uncertainty, pictures (the sCT in a bone window, the uncertainty as a heat overlay on the MR, and
the sCT bone (> 300 HU) over the MR) and a DICOM CT series marked ``Synthetic Data = YES``.
"""

from __future__ import annotations

from MedSynthCTLib.logic import SynthCTLogic
from MedSynthLib.volume_bridge import node_to_image
from medsynth.render import VIEWS, overlay_picture, write_png

SCAN = "head_mr_skull/MR.nii.gz"
BONE_WINDOW_HU = (-200.0, 1200.0)
BONE_HU = 300.0


def demo_synthct(context) -> dict:
    """Run the step with the demo's ``DemoContext`` (input loading, volume and picture writers)."""
    mr, source = context.input_volume(SCAN, "head MR", fallback="whole_head")
    logic = SynthCTLogic()
    nodes = logic.run(mr, uncertainty=True)
    context.save_volume(nodes.sct, "sct.nii.gz")
    context.save_volume(nodes.uncertainty, "sct_uncertainty.nii.gz")
    context.save_pictures(nodes.sct, None, "sct", window=BONE_WINDOW_HU)
    high = max(float(nodes.uncertainty.GetImageData().GetScalarRange()[1]), 1.0)
    context.save_pictures(mr, nodes.uncertainty, "sct_uncertainty", threshold=0.1 * high, heat_range=(0.0, high))
    mr_image, sct_image = node_to_image(mr), node_to_image(nodes.sct)
    for view in VIEWS:
        picture = overlay_picture(mr_image, sct_image, view, threshold=BONE_HU, heat_range=(BONE_HU, 1500.0))
        context.written.append(str(write_png(picture, context.out_dir / f"sct_bone_on_mr_{view}.png")
                                   .relative_to(context.out_dir)))
    dicom = logic.exportDicom(nodes.sct, str(context.out_dir / "sct_dicom"), overwrite=True)
    context.written.append("sct_dicom/")
    return {"input": str(source), "model": nodes.sct.GetAttribute("MedSynth.ModelId"),
            "output": nodes.sct.GetName(), "dicom_files": len(dicom.files),
            "max_uncertainty_hu": round(high, 1)}
