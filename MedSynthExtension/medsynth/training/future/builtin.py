"""Build the built-in model ``future-t1-brain`` end to end, reproducibly (seeded)::

    python -m medsynth.training.future.builtin --out MedSynthExtension/medsynth/models/builtin/future-t1-brain

1. simulate longitudinal data from the 8 training IXI subjects of ``shared/data/subjects_t1``
   (their real DLMUSE parcellations, literature rates; :mod:`.simulate`) and write it as a BIDS
   data set (``--work``, default a temporary folder);
2. read it back with the longitudinal BIDS reader (:mod:`.bids`) — the same path real data takes —
   and turn each pair into training targets (:mod:`.dataset`);
3. train the regions and rates (:mod:`.train`), refit the rate head through the trained regions
   (:mod:`.refit`), export to ONNX and check torch/onnxruntime parity (:mod:`.export`);
4. evaluate on the 2 held-out subjects through the run-time task (:mod:`.evaluate`) and write the
   card with those numbers (:mod:`.card`).

Train on your own longitudinal BIDS data instead with ``--bids ROOT --pipeline NAME`` (see
:mod:`.bids` for the layout); the held-out evaluation then still uses the IXI subjects.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from medsynth.errors import InputError
from medsynth.io import read_image
from medsynth.models.registry import ModelEntry
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.sample_data import shared_data_dir
from medsynth.training.cards import write_card
from medsynth.training.future.bids import BidsWriter, read_longitudinal
from medsynth.training.future.card import build_card
from medsynth.training.future.dataset import build_examples, load_anatomy
from medsynth.training.future.evaluate import (HELD_OUT, card_metrics, evaluate_subject, ixi_subjects, region_dice,
                                               table_markdown)
from medsynth.training.future.export import conditional_parity, export_model
from medsynth.training.future.literature import DIAGNOSES
from medsynth.training.future.model import NetConfig, parameter_count
from medsynth.training.future.simulate import ProgressionSimulator
from medsynth.training.future.spec import FutureSpec
from medsynth.training.future.refit import refit_targets
from medsynth.training.future.train import TrainConfig, fit_rate_head, train

MODEL_ID = "future-t1-brain"
VERSION = "1.0.0"
PIPELINE = "medsynth-simulation"
COMMAND = "python -m medsynth.training.future.builtin --out MedSynthExtension/medsynth/models/builtin/future-t1-brain"
#: Simulated visits: baseline ages drawn from this range, intervals (years) from the next.
SIMULATED_AGES = (55.0, 88.0)
SIMULATED_YEARS = (1.0, 6.0)
#: Held-out evaluation setting (literature rates describe ~72-year-olds over 1-3 year follow-ups).
EVALUATION_AGE, EVALUATION_YEARS = 72.0, 2.0
#: Largest accepted |torch − onnxruntime| over all outputs: probabilities (0–1) and the change
#: source (%, up to about ±60 over 10 years), so 0.01 means at most 0.01 % of volume change.
PARITY_TOLERANCE = 1e-2


def simulate_bids(root: Path, subjects, visits_per_subject: int, seed: int, log=print) -> None:
    """Write ``visits_per_subject`` virtual subjects per IXI subject (diagnoses cycling CN, MCI, AD),
    each a baseline and one simulated follow-up, as BIDS under ``root``."""
    rng = np.random.default_rng(seed)
    writer = BidsWriter(root, PIPELINE, "MedSynth simulated progression from IXI anatomy")
    for subject in subjects:
        started = time.perf_counter()
        t1, labels = read_image(subject.t1), read_image(subject.labels)
        simulator = ProgressionSimulator(t1, labels)
        baseline_mm3 = simulator.label_volumes_mm3()
        for number in range(visits_per_subject):
            diagnosis = DIAGNOSES[number % len(DIAGNOSES)]
            age = float(np.round(rng.uniform(*SIMULATED_AGES), 1))
            years = float(np.round(rng.uniform(*SIMULATED_YEARS), 1))
            follow_up = simulator.follow_up(diagnosis, age, years)
            code = subject.id.replace("-", "")
            writer.add_subject(f"{code}v{number + 1:02d}", subject.sex, f"simulated from {subject.id}", [
                ("01", age, diagnosis, t1, labels, baseline_mm3),
                ("02", age + years, diagnosis, follow_up.image, follow_up.labels, follow_up.follow_up_label_mm3)])
        log(f"  simulated {visits_per_subject} virtual subjects from {subject.id} in {time.perf_counter() - started:.0f} s")


def build(out: Path, work: Path | None, bids: Path | None, pipeline: str, visits_per_subject: int,
          config: TrainConfig, net: NetConfig, log=print) -> dict:
    """Run the whole pipeline; returns the card as written."""
    started = time.perf_counter()
    data = shared_data_dir()
    if data is None:
        raise InputError("The IXI subjects (shared/data/subjects_t1) are needed; set MEDSYNTH_SHARED_DATA.")
    subjects = ixi_subjects(data / "subjects_t1")
    training = [s for s in subjects if s.id not in HELD_OUT]
    held_out = [s for s in subjects if s.id in HELD_OUT]
    spec = FutureSpec()
    with tempfile.TemporaryDirectory(prefix="medsynth-future-") as scratch:
        if bids is None:
            bids = Path(work or scratch) / "bids"
            log(f"1/4 simulating progression into {bids}")
            simulate_bids(bids, training, visits_per_subject, config.seed, log)
            pipeline = PIPELINE
        log("2/4 reading the longitudinal BIDS data set")
        pairs = read_longitudinal(bids, pipeline)
        anatomies, examples = build_examples(pairs, spec, log)
        log(f"3/4 training on {len(examples)} pairs from {len(anatomies)} anatomies")
        model, report = train(anatomies, examples, spec, net, config, log)
        log("    stage 2: refitting the rate head through the trained regions")
        head_rmse = fit_rate_head(model, refit_targets(model, anatomies, examples, spec, log), config, log=log)
        if work is not None:
            _save_checkpoint(model, Path(work) / "checkpoint.pt")
    out.mkdir(parents=True, exist_ok=True)
    weights = export_model(model, spec, out / "model.onnx")
    probe = load_anatomy(read_image(held_out[0].t1), read_image(held_out[0].labels), spec)
    parity = conditional_parity(model, weights, probe.image[None], spec.condition_vector(72.0, "F", "AD", 5.0), spec,
                                f"held-out {held_out[0].id}, AD, 5 years")
    if not parity.within(PARITY_TOLERANCE):
        raise RuntimeError(f"torch vs onnxruntime differ by {parity.max_abs_diff:g} (> {PARITY_TOLERANCE:g})")
    training_block = {
        "data": (f"SIMULATED progression: {len(training)} IXI subjects ({', '.join(s.id for s in training)}), each "
                 f"deformed {visits_per_subject} times (CN/MCI/AD, ages {SIMULATED_AGES[0]:g}-{SIMULATED_AGES[1]:g}, "
                 f"{SIMULATED_YEARS[0]:g}-{SIMULATED_YEARS[1]:g} years) with literature regional atrophy rates, written "
                 "and read back as longitudinal BIDS. No real follow-up scan was used."),
        "command": COMMAND,
        "notes": (f"{report.iterations} iterations in {report.seconds:.0f} s on CPU"
                  f"{' (stopped by the time limit)' if report.stopped_by_time_limit else ''}; "
                  f"{parameter_count(model)} parameters; final segmentation loss {report.final_segmentation_loss:.3f}, "
                  f"source RMSE {report.final_source_rmse:.3f} %/yr; stage 2 (rate head refitted through the network's "
                  f"regions against the real parcellations) source RMSE {head_rmse:.3f} %/yr; "
                  f"config {json.dumps(config.to_dict())}"),
    }
    validation = {"data": (f"held-out IXI subjects {', '.join(HELD_OUT)}; conditions: age {EVALUATION_AGE:g}, "
                           f"{EVALUATION_YEARS:g} years, each diagnosis; regional change measured on the model's output "
                           "with the subjects' real DLMUSE labels; images compared with the simulated follow-up (copying "
                           "the input is the no-change baseline)"),
                  "metrics": {}, "parity_max_abs_diff": parity.max_abs_diff}
    write_card(out, build_card(MODEL_ID, VERSION, spec, net, training_block, validation), weights)
    card = evaluate_model_folder(out, log)
    log(f"wrote {out} ({weights.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.0f} s")
    return card


def evaluate_model_folder(out: Path, log=print) -> dict:
    """Evaluate the model in ``out`` on the held-out subjects through the run-time task and write
    the numbers into its card's ``validation.metrics`` (also after a change of the runtime)."""
    data = shared_data_dir()
    if data is None:
        raise InputError("The IXI subjects (shared/data/subjects_t1) are needed; set MEDSYNTH_SHARED_DATA.")
    log("4/4 evaluating on the held-out subjects")
    entry = _entry(out)
    generator = OnnxGenerator(entry)
    subjects = [subject for subject in ixi_subjects(data / "subjects_t1") if subject.id in HELD_OUT]
    cases = [case for subject in subjects
             for case in evaluate_subject(generator, subject, DIAGNOSES, EVALUATION_YEARS, EVALUATION_AGE)]
    dice = [region_dice(generator, subject) for subject in subjects]
    log(table_markdown(cases))
    log("region Dice (model regions vs DLMUSE): " + "; ".join(
        f"{s.id}: " + ", ".join(f"{k} {v:.2f}" for k, v in d.items()) for s, d in zip(subjects, dice)))
    card = {key: value for key, value in entry.card.raw.items() if key != "weights"}
    text = build_card(MODEL_ID, VERSION, FutureSpec(), NetConfig(), card["training"], card["validation"])
    card.update({key: text[key] for key in ("name", "intended_use", "limitations", "license", "references")})
    card["validation"] = dict(card["validation"], metrics=card_metrics(cases, dice))
    return dict(write_card(out, card, entry.weights_path).raw)


def _save_checkpoint(model, path: Path) -> None:
    """The trained weights (torch state dict), kept in the work folder for inspection or re-export."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)


def _entry(folder: Path) -> ModelEntry:
    from medsynth.models.card import load_card

    return ModelEntry(load_card(folder / "card.json"), folder, "built-in")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=COMMAND)
    parser.add_argument("--out", type=Path, required=True, help="model folder to write (card.json + model.onnx)")
    parser.add_argument("--work", type=Path, help="keep the simulated BIDS data set here (default: temporary)")
    parser.add_argument("--bids", type=Path, help="train on this longitudinal BIDS data set instead of simulating")
    parser.add_argument("--pipeline", default=PIPELINE, help="derivatives/<PIPELINE> holding dseg/morph files (with --bids)")
    parser.add_argument("--visits-per-subject", type=int, default=6, help="simulated virtual subjects per IXI subject")
    parser.add_argument("--iterations", type=int, default=TrainConfig.iterations)
    parser.add_argument("--time-limit", type=float, default=TrainConfig.time_limit_s, help="seconds of training at most")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--evaluate-only", action="store_true",
                        help="only re-run the held-out evaluation of the model in --out and update its card")
    args = parser.parse_args(argv)
    if args.evaluate_only:
        evaluate_model_folder(args.out)
        return
    config = TrainConfig(iterations=args.iterations, time_limit_s=args.time_limit, seed=args.seed)
    build(args.out, args.work, args.bids, args.pipeline, args.visits_per_subject, config, NetConfig())


if __name__ == "__main__":
    main()
