"""Build the built-in model ``anomaly-brain-t1`` from the project's healthy material, reproducibly.

    python -m medsynth.training.anomaly.builtin --out MedSynthExtension/medsynth/models/builtin/anomaly-brain-t1

Training material: the IXI subjects of ``shared/data/subjects_t1`` except the held-out ones
(validation: IXI014; test: IXI049, IXI051), plus the MNI templates ``avg152T1`` and
``single_subj_T1``; brain prior from the training subjects' DLMUSE label maps. Seeded; the
training stops after a fixed number of iterations (``--stop-after``).

Then, on the validation subject only (the test subjects are never touched here): the finding
thresholds of the model and of the z-score baseline (Dice-optimal on validation lesions, raised
if needed until the clean validation scan has no finding) and the artefact threshold (just above
every validation scan without an artefact, at least :data:`MIN_ARTEFACT_THRESHOLD`). The test
figures are added to the card by ``Testing/anomaly/evaluate_builtin.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path
from typing import Sequence

from medsynth.benchmarks.anomaly.build import HELD_OUT_SPLIT, build_benchmark, held_out_inputs
from medsynth.benchmarks.anomaly.evaluate import CaseOutcome, score_cases
from medsynth.metrics.anomaly import validation_threshold
from medsynth.sample_data import shared_data_dir
from medsynth.tasks.anomaly.findings import find_findings
from medsynth.tasks.anomaly.settings import AnomalySettings
from medsynth.training.anomaly.data import HealthyScan, find_healthy_scans
from medsynth.training.anomaly.export import WEIGHTS_FILE, inference_block, input_block, outputs_block
from medsynth.training.anomaly.pipeline import train_healthy_model
from medsynth.training.anomaly.spec import TrainingConfig
from medsynth.training.cards import write_card
from medsynth.training.domains import TRAINED_DOMAINS

MODEL_ID = "anomaly-brain-t1"
VALIDATION_SUBJECTS = HELD_OUT_SPLIT["validation"]
TEST_SUBJECTS = HELD_OUT_SPLIT["test"]
TEMPLATES = ("avg152T1", "single_subj_T1")
MIN_ARTEFACT_THRESHOLD = 4.0
COMMAND = "python -m medsynth.training.anomaly.builtin --out MedSynthExtension/medsynth/models/builtin/anomaly-brain-t1"


def training_scans(data: Path) -> list[HealthyScan]:
    subjects = data / "subjects_t1"
    scans = find_healthy_scans(subjects, subjects / "dlmuse", exclude=VALIDATION_SUBJECTS + TEST_SUBJECTS)
    return scans + [HealthyScan(name, data / "templates" / f"{name}.nii.gz", None, True) for name in TEMPLATES]


def finding_threshold(outcomes: Sequence[CaseOutcome], method: str, min_ml: float) -> float:
    """Dice-optimal on the validation lesions, raised until the clean validation scans have no finding."""
    lesions = [o for o in outcomes if o.case.kind == "lesion"]
    level = validation_threshold([o.scores[method] for o in lesions], [o.labels for o in lesions])
    for clean in (o for o in outcomes if o.case.kind == "clean"):
        while find_findings(clean.score_images[method], level, min_ml, clean.region_image):
            level = level * 1.05 + 0.05
    return round(float(level), 3)


def artefact_threshold(outcomes: Sequence[CaseOutcome], method: str = "model") -> float:
    """Just above every validation scan without an artefact (clean and lesion scans)."""
    negatives = [o.artefact_score[method] for o in outcomes if o.case.kind in ("clean", "lesion")]
    return round(max(MIN_ARTEFACT_THRESHOLD, math.ceil(2 * max(negatives) + 1) / 2), 2)


def card(config: TrainingConfig, settings: AnomalySettings, notes: dict, parity: float, metrics: dict) -> dict:
    return {
        "id": MODEL_ID, "version": "1.0.0", "task": "anomaly", "name": "Healthy-brain T1 reconstruction (anomaly map)",
        "description": ("3D UNet denoising autoencoder trained on healthy T1 brains in MNI space (2 mm); the residual "
                        "between a scan and its healthy reconstruction, normalised by healthy brains, is the anomaly "
                        "score. The ONNX file also carries the healthy template, brain prior and population "
                        "statistics as constant output channels."),
        "input": input_block(config), "domain": TRAINED_DOMAINS["anomaly"], "inference": inference_block(),
        "outputs": outputs_block(),
        "training": {
            "data": ("IXI (CC BY-SA 3.0): 7 healthy adults of shared/data/subjects_t1 (IXI012, 013, 015, 033, 034, 039, "
                     "048; 2 mm) + MNI templates avg152T1 and single_subj_T1 (SPM, GPL-2.0); brain prior from the "
                     "subjects' DLMUSE label maps. Held out: IXI014 (validation), IXI049 and IXI051 (test)."),
            "command": COMMAND, "notes": json.dumps(notes, sort_keys=True)},
        "validation": {
            "data": ("Anomaly benchmark (medsynth anomaly-benchmark, seed 0): real SOOP stroke lesion shapes implanted "
                     "(hypo- and hyper-intense) into held-out IXI scans, and k-space motion/ghosting/spike at 3 "
                     "severities. Thresholds from the validation subject (IXI014); figures on the test subjects "
                     "(IXI049, IXI051). Region: the subject's brain (DLMUSE mask)."),
            "metrics": metrics, "parity_max_abs_diff": parity, "scoring": settings.to_card_block()},
        "intended_use": ("Research and education: highlighting regions of an adult brain T1 MRI that do not look like "
                         "a healthy brain, and flagging scans with acquisition artefacts, as a second pair of eyes. "
                         "Not a medical device; not for diagnosis."),
        "limitations": [
            ("Not reliable outside the IXI scanner yet: on real healthy scans from other sources (MNI templates, "
             "nilearn's MNI152 2009a, pydeface's mean head, the clinical head_mr_skull) it reports 84-222 mL of false "
             "findings, tumours give findings of hundreds of mL, and clean templates/clinical scans get 'spike'/'motion' "
             "verdicts (README, 'Every real scan'; python -m medsynth.benchmarks.anomaly.real_scans)."),
            "Trained on 9 healthy T1 volumes (7 IXI adults aged 23-51 from one 1.5 T site, 2 templates): normal "
            "anatomy outside this range (children, old age, other scanners/sequences) may score as anomalous.",
            "Works at 2 mm after an affine alignment to MNI space: regions smaller than 0.5 mL are not reported as findings and "
            "misalignment at the brain's border is excluded by an eroded brain mask.",
            "Evaluated on synthetic lesions (real shapes, simulated intensities) and simulated k-space artefacts; "
            "figures on real pathology will be lower.",
            "Artefact labels (motion/ghosting/spike) come from simple k-space, blur and background features calibrated "
            "on 7 healthy scans; brain-extracted scans have no background or blur feature; severe ghosting can be "
            "labelled as a spike.",
            "Scans from other scanners or sequences (e.g. a 3 T MPRAGE) can light up healthy white matter: on the "
            "project's real stroke scan the lesion is found, but the strongest finding is in the healthy right "
            "periventricular white matter. Read findings next to the images, never instead of them.",
        ],
        "license": "CC-BY-SA-3.0 (weights derived from IXI images; training also used GPL-2.0 SPM templates)",
        "references": [
            "Kascenas A, Pugeault N, O'Neil AQ. Denoising autoencoders for unsupervised anomaly detection in brain MRI. MIDL 2022.",
            "Baur C, Denner S, Wiestler B, Navab N, Albarqouni S. Autoencoders for unsupervised anomaly segmentation in brain MR images: a comparative study. Med Image Anal 2021;69:101952.",
            "Absher J et al. The stroke outcome optimization project (SOOP). Sci Data 2024;11:839.",
        ],
    }


def build(out: Path, data: Path, work: Path, config: TrainingConfig, log=print) -> Path:
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    trained = train_healthy_model(
        training_scans(data), data / "templates" / "avg152T1.nii.gz", out, config,
        lambda settings, notes, parity: card(config, settings, notes, parity, {}), cache=work / "prepared.npz", log=log)
    model, settings, notes, parity = trained.model, trained.settings, trained.notes, trained.parity
    build_benchmark(work / "validation", {"validation": held_out_inputs(data, VALIDATION_SUBJECTS)}, data / "lesions_mni",
                    data / "templates" / "avg152T1.nii.gz", log=log)
    outcomes = score_cases(work / "validation", model, ("model", "baseline"), settings, ("validation",), log=log)
    settings = settings.with_values(
        threshold=finding_threshold(outcomes, "model", settings.min_finding_ml),
        baseline_threshold=finding_threshold(outcomes, "baseline", settings.min_finding_ml),
        artefact_threshold=artefact_threshold(outcomes))
    notes["total_minutes"] = round((time.perf_counter() - started) / 60, 2)
    write_card(out, card(config, settings, notes, parity, {}), out / WEIGHTS_FILE)
    log(f"wrote {out}: thresholds model {settings.threshold}, baseline {settings.baseline_threshold}, "
        f"artefact {settings.artefact_threshold}; training {notes['training_minutes']:.1f} min")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train and export the built-in anomaly model.")
    parser.add_argument("--out", type=Path, required=True, help="model folder to write (card.json + model.onnx)")
    parser.add_argument("--data", type=Path, default=shared_data_dir(), help="the shared/data corpus")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "medsynth-anomaly-work",
                        help="cache of aligned scans and the validation benchmark")
    parser.add_argument("--iterations", type=int, default=TrainingConfig.iterations)
    parser.add_argument("--stop-after", type=int, default=TrainingConfig.stop_after,
                        help="stop after this many iterations of the schedule (default: the built-in recipe's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("the shared data corpus was not found; give --data")
    config = TrainingConfig(iterations=args.iterations, stop_after=args.stop_after, seed=args.seed)
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)  # ITK's multi-threaded registration is not run-to-run stable
    build(args.out, args.data, args.work, config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
