"""Build the candidate anomaly segmenter ``anomaly-segmenter-t1`` from the project's material, reproducibly.

    python -m medsynth.training.anomaly.segmenter_builtin --out models/anomaly-segmenter-t1

A candidate for the built-in ``anomaly-brain-t1``, not shipped: it stays out of the package until it
finds real tumours (see the README, "Experiment: a segmenter trained on simulated scanners").

Training material: the IXI training subjects and the two SPM templates of
:func:`medsynth.training.anomaly.builtin.training_scans` (the held-out IXI014, IXI049 and IXI051 are
never read), each brain-extracted by deepbet and aligned exactly as at run time; the lesion shapes of
``lesions_mni`` except the benchmark's test share (:func:`training_lesion_files`), so the implanted-
lesion test figures are on shapes the network never saw. Everything else is simulated
(:mod:`medsynth.training.anomaly.synthetic`). Seeded; ITK on one thread; fixed iteration count.

Scoring settings: the artefact reference comes from all training scans, the IXI subjects and the
templates, each domain counted as its own so that the reference spans more than one scanner; then, as for the reconstruction built-in, the finding
threshold (Dice-optimal on implanted validation lesions, raised until the clean validation scan has no
finding, never below :data:`MIN_PROBABILITY_THRESHOLD`) and the artefact threshold come from the
validation subject only (:func:`calibrate`; ``--recalibrate`` redoes this step on a trained model).
The first run was evaluated at a fixed 0.5 before this step existed (README).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.build import lesion_index, split_share
from medsynth.io import read_image
from medsynth.sample_data import shared_data_dir
from medsynth.tasks.anomaly.alignment import align_scan
from medsynth.tasks.anomaly.artefacts import reference_statistics
from medsynth.tasks.anomaly.brain_net import brain_mask
from medsynth.tasks.anomaly.settings import METHODS, AnomalySettings
from medsynth.tasks.anomaly.space import (MNI_ORIENTATION, MNI_SPACING_MM, PopulationMaps, SEGMENTATION_OUTPUTS,
                                          mni_reference)
from medsynth.training.anomaly.builtin import training_scans
from medsynth.training.anomaly.data import PreparedScan, build_template_and_prior, normalised_head
from medsynth.training.anomaly.export import inference_block
from medsynth.training.anomaly.population import intensity_maps
from medsynth.training.anomaly.segmenter import SegmenterConfig, make_segmenter_module, train_segmenter
from medsynth.training.anomaly.spec import default_normalization
from medsynth.training.anomaly.synthetic import SampleMaker, SyntheticConfig
from medsynth.training.cards import software_versions, write_card
from medsynth.training.domains import TRAINED_DOMAINS
from medsynth.training.export import check_parity, export_onnx

WEIGHTS_FILE = "model.onnx"
MODEL_ID = "anomaly-segmenter-t1"
VERSION = "0.2.0"
#: The finding threshold before calibration, and its floor: a probability below this is noise.
PROBABILITY_THRESHOLD = 0.5
MIN_PROBABILITY_THRESHOLD = 0.05
#: How the probability is scored: inside deepbet's mask (what the network was trained on), unfiltered
#: (the network's output is already smooth; a 5³ median would erase small metastases) and eroded by one
#: voxel only (the network saw the brain's border in training).
SCORING = {"brain_mask": "deepbet", "median_size": 1, "erosion_voxels": 1}
COMMAND = "python -m medsynth.training.anomaly.segmenter_builtin --out models/anomaly-segmenter-t1"
_OUTPUT_TEXT = {
    "anomaly_probability": ("probability", "Probability that the tissue is not healthy brain (0-1)."),
    "template": ("normalised intensity", "Healthy template (registration target); constant."),
    "brain_prior": ("fraction of healthy subjects", "Probability of brain at each voxel; constant."),
    "intensity_mean": ("normalised intensity", "Mean healthy intensity (z-score baseline); constant."),
    "intensity_sd": ("normalised intensity", "Standard deviation of healthy intensity (z-score baseline); constant."),
}


def training_lesion_files(lesion_dir: Path) -> list[Path]:
    """Every lesion file except the anomaly benchmark's test share (see ``build.select_lesions``)."""
    test_share = set(split_share(lesion_dir, "test"))
    return [lesion_dir / name for name in lesion_index(lesion_dir) if name not in test_share]


def lesions_on_mni_grid(files: Sequence[Path], min_voxels: int = 8) -> list[np.ndarray]:
    """Lesion masks (MNI space, any grid) on the 2 mm MNI grid, uint8; tiny ones dropped."""
    reference = mni_reference()
    shapes = []
    for path in files:
        moved = sitk.Resample(sitk.Cast(read_image(path) > 0, sitk.sitkFloat32), reference, sitk.Transform(),
                              sitk.sitkLinear, 0.0, sitk.sitkFloat32)
        voxels = sitk.GetArrayFromImage(moved) >= 0.5
        if voxels.sum() >= min_voxels:
            shapes.append(voxels.astype(np.uint8))
    return shapes


def prepare(data: Path, cache: Path, log=print) -> dict:
    """Training heads, deepbet brain masks and population maps on the MNI grid (cached in ``cache``)."""
    if cache.is_file():
        loaded = np.load(cache)
        return {k: loaded[k] for k in loaded.files}
    normalization = default_normalization()
    scans = training_scans(data)
    template, prior = build_template_and_prior(scans, read_image(data / "templates" / "avg152T1.nii.gz"),
                                               normalization, log)
    ones = np.ones_like(prior)
    maps = PopulationMaps(template, prior, ones, ones, template, ones)
    heads, prepared = [], []
    for scan in scans:
        image = read_image(scan.path)
        aligned = align_scan(image, maps, normalization, brain_mask=brain_mask(image), brain_extracted=False)
        heads.append(normalised_head(aligned.mni_image, aligned.brain_mask, normalization))
        prepared.append(PreparedScan(scan.name, aligned.network_input, aligned.brain_mask))
        log(f"prepared {scan.name}: brain {aligned.brain_mask.sum() * 8 / 1000:.0f} mL, "
            f"mutual information {aligned.registration.metric:.3f}")
    population = {"brain_prior": prior, **intensity_maps(prepared, template, prior)}
    result = {"names": np.array([s.name for s in scans]), "heads": np.stack(heads).astype(np.float32),
              "masks": np.stack([p.brain_mask for p in prepared]), **population}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **result)
    return result


def card(settings: AnomalySettings, notes: dict, parity: float, config: SyntheticConfig) -> dict:
    return {
        "id": MODEL_ID, "version": VERSION, "task": "anomaly",
        "name": "Brain T1 anomaly segmenter (trained on simulated scanners and lesions)",
        "description": ("3D UNet that sees a brain-extracted T1 aligned to MNI space (2 mm) and its left-right mirror, "
                        "and gives per voxel the probability that the tissue is not healthy brain. Trained on healthy "
                        "brains re-rendered as by many scanners (random tissue contrast curve, gamma, bias field, "
                        "blur, noise, brain-mask and alignment jitter) with implanted real lesion shapes, random "
                        "blobs of darker or brighter tissue and tumour-like masses (core, rim, oedema, mass effect). The ONNX file also carries the healthy template, brain "
                        "prior and the z-score baseline's statistics as constant output channels."),
        "input": {"modality": "MR", "contrast": "T1", "orientation": MNI_ORIENTATION, "spacing_mm": list(MNI_SPACING_MM),
                  "normalization": {k: (list(v) if isinstance(v, tuple) else v)
                                    for k, v in default_normalization().__dict__.items()}},
        "domain": TRAINED_DOMAINS["anomaly"], "inference": inference_block(),
        "outputs": [{"name": n, "units": _OUTPUT_TEXT[n][0], "description": _OUTPUT_TEXT[n][1], "background_value": 0}
                    for n in SEGMENTATION_OUTPUTS],
        "training": {
            "data": ("IXI (CC BY-SA 3.0): 7 healthy adults of shared/data/subjects_t1 (IXI012, 013, 015, 033, 034, 039, "
                     "048; 2 mm) + MNI templates avg152T1 and single_subj_T1 (SPM, GPL-2.0), brain masks by deepbet; "
                     "lesion shapes: SOOP masks of shared/data/lesions_mni except the benchmark's test share. "
                     "Held out: IXI014 (calibration), IXI049 and IXI051 (test)."),
            "command": COMMAND, "notes": json.dumps({**notes, "synthetic": config.__dict__}, sort_keys=True, default=list)},
        "validation": {
            "data": ("Settings fixed before evaluation (probability >= 0.5, default minimum finding volume). Figures: "
                     "python -m medsynth.benchmarks.anomaly.real_scans (every real scan, per role) and the implanted-"
                     "lesion benchmark; see the README."),
            "metrics": {}, "parity_max_abs_diff": parity, "scoring": settings.to_card_block()},
        "intended_use": ("Research and education: highlighting regions of an adult brain T1 MRI that do not look like "
                         "healthy brain, and flagging scans with acquisition artefacts, as a second pair of eyes. "
                         "Not a medical device; not for diagnosis."),
        "limitations": [
            "Trained on 9 healthy brains (7 IXI adults from one 1.5 T site, 2 templates) re-rendered as other scanners; "
            "anatomy outside their range (children, very old brains, large ventricles) may score as anomalous.",
            "Anomalies it learned are simulated (real lesion outlines, simulated tissue and tumour-like masses). "
            "Version 0.1.0 (1,800 iterations, no masses) reported nothing on the project's real glioma and metastasis "
            "scans; it is not a screening tool (README, 'Experiment: a segmenter trained on simulated scanners').",
            "Works at 2 mm after an affine alignment to MNI space: findings under the minimum volume are not reported.",
            "Artefact labels come from simple k-space, blur and background features calibrated on the training scans.",
        ],
        "license": "CC-BY-SA-3.0 (weights derived from IXI images; training also used GPL-2.0 SPM templates)",
        "references": [
            "Zavrtanik V, Kristan M, Skocaj D. DRAEM - a discriminatively trained reconstruction embedding for surface "
            "anomaly detection. ICCV 2021.",
            "Billot B et al. SynthSeg: segmentation of brain MRI scans of any contrast and resolution without "
            "retraining. Med Image Anal 2023;86:102789.",
            "Fisch L et al. deepbet: fast brain extraction of T1-weighted MRI using convolutional neural networks. "
            "Comput Biol Med 2024.",
            "Absher J et al. The stroke outcome optimization project (SOOP). Sci Data 2024;11:839.",
        ],
    }


def build(out: Path, data: Path, work: Path, config: SegmenterConfig, synthetic: SyntheticConfig, log=print) -> Path:
    started = time.perf_counter()
    prepared = prepare(data, work / "segmenter_prepared.npz", log)
    lesions = lesions_on_mni_grid(training_lesion_files(data / "lesions_mni"))
    log(f"{len(prepared['names'])} training brains, {len(lesions)} lesion shapes")
    maker = SampleMaker(list(prepared["heads"]), list(prepared["masks"]), lesions, synthetic)
    outcome = train_segmenter(maker, config, log)
    module = make_segmenter_module(outcome.network, prepared).eval()
    out.mkdir(parents=True, exist_ok=True)
    shape = tuple(prepared["heads"].shape[1:])
    path = export_onnx(module, shape, out / WEIGHTS_FILE)
    parity_input = np.where(prepared["masks"][0], prepared["heads"][0], 0.0)[None].astype(np.float32)
    parity = check_parity(module, path, parity_input, shape, overlap=0.0, batch_size=1,
                          description="torch vs onnxruntime, all 5 channels, one real training volume").max_abs_diff
    notes = {"config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.__dict__.items()},
             "iterations_done": outcome.iterations, "training_minutes": round(outcome.seconds / 60, 2),
             "final_loss": round(outcome.final_loss, 4), "parameters": outcome.parameters,
             "software": software_versions()}
    settings = AnomalySettings(threshold=PROBABILITY_THRESHOLD, **SCORING)
    notes["total_minutes"] = round((time.perf_counter() - started) / 60, 2)
    write_card(out, card(settings, notes, parity, synthetic), path)
    calibrate(out, data, work, log)
    log(f"wrote {out} (parity {parity:.1e}, training {notes['training_minutes']:.1f} min)")
    return out


def artefact_reference(model, data: Path) -> dict[str, tuple[float, float]]:
    """The artefact features' healthy reference over every training scan, each scan's domain (the IXI
    site, each template) counted as its own (:func:`reference_statistics`), not one scanner."""
    from medsynth.tasks.anomaly.task import analyse_scan

    features, domains = [], []
    for scan in training_scans(data):
        image = read_image(scan.path)
        results = analyse_scan(image, model, METHODS, brain_mask=brain_mask(image), brain_extracted=False)
        features.append({**results["model"].artefact.features, **results["baseline"].artefact.features})
        domains.append(scan.name if scan.in_mni else "IXI")
    return reference_statistics(features, domains)


def calibrate(out: Path, data: Path, work: Path, log=print) -> AnomalySettings:
    """The artefact reference (:func:`artefact_reference`), then the finding and artefact thresholds of the
    model in ``out`` from the validation subject's benchmark (implanted validation-share lesions, k-space
    artefacts, the clean scan); rewrites its card."""
    from medsynth.benchmarks.anomaly.build import MANIFEST_NAME, build_benchmark, held_out_inputs
    from medsynth.benchmarks.anomaly.evaluate import score_cases
    from medsynth.models.card import load_card
    from medsynth.runtime.onnx_model import OnnxGenerator
    from medsynth.training.anomaly.builtin import VALIDATION_SUBJECTS, artefact_threshold, finding_threshold
    from medsynth.training.anomaly.pipeline import model_entry

    folder = work / "validation"
    if not (folder / MANIFEST_NAME).is_file():
        build_benchmark(folder, {"validation": held_out_inputs(data, VALIDATION_SUBJECTS)}, data / "lesions_mni",
                        data / "templates" / "avg152T1.nii.gz", log=log)
    model = OnnxGenerator(model_entry(out))
    settings = AnomalySettings.from_card(model.card).with_values(
        **SCORING, artefact_reference=artefact_reference(model, data))
    outcomes = score_cases(folder, model, METHODS, settings, ("validation",), log=log)
    settings = settings.with_values(
        threshold=max(MIN_PROBABILITY_THRESHOLD, finding_threshold(outcomes, "model", settings.min_finding_ml)),
        baseline_threshold=finding_threshold(outcomes, "baseline", settings.min_finding_ml),
        artefact_threshold=artefact_threshold(outcomes))
    raw = dict(load_card(out / "card.json").raw)
    raw["validation"] = {**raw["validation"], "scoring": settings.to_card_block(),
                         "data": ("Thresholds from the validation subject IXI014 (implanted validation-share lesions, "
                                  "k-space artefacts, the clean scan). Figures: python -m "
                                  "medsynth.benchmarks.anomaly.real_scans and .implanted; see the README.")}
    write_card(out, raw, out / WEIGHTS_FILE)
    log(f"calibrated: finding threshold {settings.threshold}, baseline {settings.baseline_threshold}, "
        f"artefact {settings.artefact_threshold}")
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train and export the built-in anomaly segmenter.")
    parser.add_argument("--out", type=Path, required=True, help="model folder to write (card.json + model.onnx)")
    parser.add_argument("--data", type=Path, default=shared_data_dir(), help="the shared/data corpus")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "medsynth-anomaly-work",
                        help="cache of the prepared training brains")
    parser.add_argument("--iterations", type=int, default=SegmenterConfig.iterations)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recalibrate", action="store_true",
                        help="only redo the artefact reference and the thresholds of the model already in --out")
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("the shared data corpus was not found; give --data")
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)  # ITK's multi-threaded registration is not run-to-run stable
    if args.recalibrate:
        calibrate(args.out, args.data, args.work)
        return 0
    build(args.out, args.data, args.work, SegmenterConfig(iterations=args.iterations, seed=args.seed),
          SyntheticConfig(seed=args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
