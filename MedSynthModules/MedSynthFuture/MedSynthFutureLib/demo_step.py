"""The future-MRI step of the MedSynth demo (``python -m MedSynthLib.demo``).

Add it to ``MedSynthLib.demo.STEPS`` as ``("future", demo_future)``. It predicts a real IXI
subject five years ahead with Alzheimer's-disease rates (five yearly timepoints in the scene's
"years" sequence), measures the regional volumes on the subject's own DLMUSE parcellation, and
writes the predicted T1, the tissue-loss map, the volume table and the pictures.
"""

from __future__ import annotations

from MedSynthFutureLib.future_logic import FutureLogic
from medsynth.sample_data import shared_data_dir
from medsynth.tasks.future_pictures import change_map_range, write_pictures

SUBJECT = "IXI048-HH-1326"
CONDITIONS = {"age": 72.0, "sex": "M", "diagnosis": "AD", "years": 5.0, "timepoints": 5}


def demo_future(context) -> dict:
    """Run the step with the demo's ``DemoContext`` (input loading, volume and picture writers)."""
    from MedSynthLib.scene_files import load_volume

    t1, source = context.input_volume(f"subjects_t1/{SUBJECT}-T1_ds.nii.gz", "IXI048 T1")
    corpus = shared_data_dir()
    labels_path = corpus / "subjects_t1" / "dlmuse" / f"{SUBJECT}-T1_ds_DLMUSE.nii.gz" if corpus else None
    labels = load_volume(context.session.scene, labels_path, "IXI048 DLMUSE") if labels_path else None
    nodes = FutureLogic().runPrediction(t1, CONDITIONS["age"], CONDITIONS["sex"], CONDITIONS["diagnosis"],
                                        CONDITIONS["years"], CONDITIONS["timepoints"], labelVolume=labels)
    result = nodes.result
    final = result.final
    context.save_volume(nodes.sequence.GetDataNodeAtValue(f"{final.years:g}"), "future_t1.nii.gz")
    context.save_volume(nodes.change_map, "future_tissue_loss.nii.gz")
    low, high = change_map_range(final.tissue_loss)
    context.save_pictures(nodes.proxy, nodes.change_map, "future_tissue_loss", threshold=low, heat_range=(low, high))
    pictures = write_pictures(result, context.out_dir / "future")
    table = result.volumes.write_csv(context.out_dir / "future_volumes.csv")
    context.written += [str(p.relative_to(context.out_dir)) for p in (*pictures, table)]
    rates = {region: round(result.volumes.get(region, final.years).percent_per_year, 2)
             for region in ("hippocampus", "ventricles", "whole_brain")}
    return {"input": str(source), "conditions": CONDITIONS, "regions": result.measured_on,
            "percent_per_year": rates, "model": f"{result.provenance.model_id} {result.provenance.model_version}"}
