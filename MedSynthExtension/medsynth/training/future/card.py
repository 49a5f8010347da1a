"""The model card of a future-MRI generator, assembled from the spec, training run and evaluation."""

from __future__ import annotations

from typing import Any, Mapping

from medsynth.tasks.future import TASK
from medsynth.training.cards import software_versions
from medsynth.training.future.literature import AGE_RANGE
from medsynth.training.future.model import NetConfig
from medsynth.training.future.spec import FutureSpec
from medsynth.training.domains import TRAINED_DOMAINS

REFERENCES = [
    "Barnes J et al. A meta-analysis of hippocampal atrophy rates in Alzheimer's disease. Neurobiol Aging 2009;30:1711-1723.",
    "Henneman WJP et al. Hippocampal atrophy rates in Alzheimer disease. Neurology 2009;72:999-1007.",
    "Jack CR Jr et al. Comparison of different MRI brain atrophy rate measures with clinical disease progression in AD. "
    "Neurology 2004;62:591-600.",
    "Nestor SM et al. Ventricular enlargement as a possible measure of Alzheimer's disease progression validated using "
    "the ADNI database. Brain 2008;131:2443-2454.",
    "Fotenos AF et al. Normative estimates of cross-sectional and longitudinal brain volume decline in aging and AD. "
    "Neurology 2005;64:1032-1039.",
    "Sluimer JD et al. Whole-brain atrophy rate and cognitive decline. Radiology 2008;248:590-598.",
    "Fraser MA et al. Longitudinal hippocampal atrophy in healthy human ageing: systematic review and meta-analysis. "
    "NeuroImage 2015;112:364-374.",
    "IXI dataset, https://brain-development.org/ixi-dataset/ (CC BY-SA 3.0); DLMUSE parcellations from "
    "CBICA/CCL_NMF_Prediction (MIT).",
]


def build_card(model_id: str, version: str, spec: FutureSpec, net: NetConfig, training: Mapping[str, Any],
               validation: Mapping[str, Any]) -> dict:
    """The card (without ``weights``, which :func:`medsynth.training.cards.write_card` fills in)."""
    low, high = AGE_RANGE
    return {
        "schema_version": 1,
        "id": model_id,
        "version": version,
        "task": TASK,
        "name": "Future brain T1 (simulated Alzheimer's progression)",
        "description": ("Predicts a brain T1 MRI years ahead for a given age, sex, diagnosis (CN/MCI/AD) and interval. "
                        "A 3D UNet estimates the brain regions (9 classes) from the T1; a condition network gives each "
                        "region's annual volume change; their product, times the interval, is the divergence source of "
                        "a smooth diffeomorphic deformation that the runtime applies to the input. Output channel 0 is "
                        "linear in years (zero at years = 0). Trained on SIMULATED progression, not on real follow-ups. "
                        f"Architecture: {net.to_dict()}."),
        "input": {"modality": "MR", "contrast": "T1-weighted", "orientation": spec.orientation,
                  "spacing_mm": list(spec.spacing_mm), "normalization": spec.normalization_card()},
        "domain": TRAINED_DOMAINS["future-mri"],
        "conditioning": spec.conditioning_card(),
        "inference": {"patch_size": list(spec.patch_size), "overlap": spec.overlap, "blend": "gaussian",
                      "batch_size": 2, "image_input": "image", "condition_input": "condition"},
        "outputs": spec.outputs_card(),
        "training": dict(training, software=software_versions()),
        "validation": dict(validation),
        "intended_use": ("Research and teaching: illustrating how a brain might change over years under typical "
                         "literature atrophy rates for CN, MCI or AD, with a change map and regional volume table. "
                         "Not a medical device; not for diagnosis, prognosis of an individual patient, or treatment."),
        "limitations": [
            "Trained on simulated progression only: 8 healthy IXI adults (23-47 years) deformed with literature atrophy "
            "rates; no real longitudinal scan was used. The prediction shows typical group rates, not this patient's.",
            "Geometry only: no change of tissue contrast, no white-matter lesions, microbleeds or infarcts.",
            f"Age {low:g}-{high:g} years; rates are those of 65-80-year-old cohorts, adjusted for age only in their "
            "normal-ageing part. Sex is accepted but has no simulated effect.",
            "Regional change is calibrated to the literature on real parcellations, but the network's regions are "
            "coarse (held-out region Dice in the validation metrics: about one half for the hippocampus), so the spatial "
            "pattern of change is coarser than the simulator's: the prediction beats copying the input on SSIM/MAE "
            "against simulated follow-ups that share its linear-interpolation smoothing, but not with sharper "
            "B-spline resampling, and without a parcellation the volume table measures the model's own regions.",
            "Needs a T1-weighted whole-head or whole-brain MRI. T2, PD and CT inputs are refused; a FLAIR image "
            "(dark fluid like T1) is not reliably detected without a parcellation: do not give one.",
        ],
        "license": ("CC BY-SA 3.0: the weights derive from IXI images (IXI dataset, https://brain-development.org/"
                    "ixi-dataset/, CC BY-SA 3.0); code Apache-2.0."),
        "authors": ["MedSynth developers"],
        "references": REFERENCES,
    }
