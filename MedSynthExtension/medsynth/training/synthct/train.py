"""Training loop for MR→CT generators: masked L1 on HU, validation split, checkpoint and resume.

The loop is deliberately plain (no framework): patches (or 2.5D slabs) are drawn from
:class:`TrainingVolume` s with a seeded numpy generator whose state is saved in every
checkpoint together with the model, the optimiser, the learning-rate schedule position and
torch's RNG, so a resumed run continues exactly where it stopped. Validation runs the model over
whole validation volumes with the runtime's own sliding window (same patch, overlap and
Gaussian blending as inference) and reports MAE in HU inside the mask; the checkpoint with the
lowest validation MAE is kept as ``best.pt``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from medsynth.runtime.sliding_window import sliding_window_predict
from medsynth.training.synthct.model import ModelConfig, build_model, parameter_count
from medsynth.training.synthct.spec import HU_RANGE, HU_SCALE, SynthCTSpec
from medsynth.training.synthct.volumes import TrainingVolume, sample_patch

Log = Callable[[str], None]
CHECKPOINT_NAME = "last.pt"
BEST_NAME = "best.pt"


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. ``outside_weight`` weights voxels outside the mask in the loss (a
    little, so that blending at the mask edge stays sane); inside voxels weigh 1."""

    iterations: int = 6000
    batch_size: int = 16
    learning_rate: float = 2e-3
    warmup_iterations: int = 200
    final_lr_fraction: float = 0.02
    weight_decay: float = 1e-5
    validate_every: int = 1000
    checkpoint_every: int = 250
    log_every: int = 100
    seed: int = 0
    threads: int = 2
    outside_weight: float = 0.02
    gamma_log_std: float = 0.1
    flip_left_right: bool = True


@dataclass
class TrainingOutcome:
    """The trained model (best validation checkpoint when there was validation, else last)."""

    model: Any
    model_config: ModelConfig
    iterations: int
    seconds: float
    best_validation_mae_hu: float | None
    history: list[dict] = field(default_factory=list)


def learning_rate_at(iteration: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to ``final_lr_fraction`` of the peak."""
    if iteration < config.warmup_iterations:
        return config.learning_rate * (iteration + 1) / config.warmup_iterations
    progress = (iteration - config.warmup_iterations) / max(config.iterations - config.warmup_iterations, 1)
    cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return config.learning_rate * (config.final_lr_fraction + (1 - config.final_lr_fraction) * cosine)


def draw_batch(volumes: Sequence[TrainingVolume], patch: Sequence[int], size: int, rng: np.random.Generator,
               config: TrainConfig, pad_input: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs, targets in HU / HU_SCALE, loss weights), each (size, 1, *patch), float32."""
    inputs, targets, weights = [], [], []
    for _ in range(size):
        volume = volumes[int(rng.integers(len(volumes)))]
        mr, ct, mask = sample_patch(volume, patch, rng, pad_input)
        if config.flip_left_right and rng.random() < 0.5:
            mr, ct, mask = mr[..., ::-1], ct[..., ::-1], mask[..., ::-1]
        if config.gamma_log_std > 0:
            mr = np.power(np.clip(mr, 0, None), np.exp(rng.normal(0, config.gamma_log_std)))
        inputs.append(mr)
        targets.append(np.clip(ct, *HU_RANGE) / HU_SCALE)
        weights.append(np.where(mask, 1.0, config.outside_weight))
    stack = lambda items: np.ascontiguousarray(np.stack(items)[:, None], dtype=np.float32)  # noqa: E731
    return stack(inputs), stack(targets), stack(weights)


def predict_volume(model, network_input: np.ndarray, patch: Sequence[int], overlap: float,
                   batch_size: int = 4) -> np.ndarray:
    """HU prediction of a torch model over a (z, y, x) normalised volume, runtime-style windows."""
    import torch

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(np.ascontiguousarray(batch))).numpy()

    was_training = model.training
    model.eval()
    try:
        raw = sliding_window_predict(predict, network_input[None].astype(np.float32), patch, overlap=overlap,
                                     batch_size=batch_size)
    finally:
        model.train(was_training)
    return np.clip(raw[0] * HU_SCALE, *HU_RANGE)


def validation_mae(model, volumes: Sequence[TrainingVolume], spec: SynthCTSpec, patch: Sequence[int]) -> float:
    """Mean over volumes of the MAE (HU) inside each volume's mask."""
    errors = []
    for volume in volumes:
        predicted = predict_volume(model, volume.mr.astype(np.float32), patch, spec.overlap)
        errors.append(float(np.abs(predicted - volume.ct.astype(np.float32))[volume.mask].mean()))
    return float(np.mean(errors))


def train(train_volumes: Sequence[TrainingVolume], validation_volumes: Sequence[TrainingVolume], spec: SynthCTSpec,
          model_config: ModelConfig, config: TrainConfig, out_dir: str | Path, resume: bool = True,
          log: Log = print, initial_weights: dict | None = None) -> TrainingOutcome:
    """Train (or resume training) and return the best model; checkpoints go to ``out_dir``.

    ``initial_weights`` (a state dict) starts from a trained model instead of a random one
    (fine-tuning, with a fresh optimiser); a checkpoint in ``out_dir`` still takes precedence.
    """
    import torch

    if not train_volumes:
        raise ValueError("no training volumes")
    torch.set_num_threads(config.threads)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    model = build_model(model_config)
    if initial_weights is not None:
        model.load_state_dict(initial_weights)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    rng = np.random.default_rng(config.seed)
    state = {"iteration": 0, "best": None, "history": [], "seconds": 0.0}
    checkpoint_path = out_dir / CHECKPOINT_NAME
    if resume and checkpoint_path.is_file():
        state = _load_checkpoint(checkpoint_path, model, optimizer, rng, model_config)
        log(f"resumed from {checkpoint_path} at iteration {state['iteration']}")
    log(f"model {model_config.architecture} {list(model_config.channels)} patch {list(model_config.patch_size)}: "
        f"{parameter_count(model):,} parameters; {len(train_volumes)} training / {len(validation_volumes)} validation volumes")
    started = time.perf_counter() - state["seconds"]
    running = []
    model.train()
    while state["iteration"] < config.iterations:
        iteration = state["iteration"]
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(iteration, config)
        inputs, targets, weights = draw_batch(train_volumes, model_config.patch_size, config.batch_size, rng, config)
        prediction = model(torch.from_numpy(inputs))
        weight = torch.from_numpy(weights)
        loss = (weight * (prediction - torch.from_numpy(targets)).abs()).sum() / weight.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        running.append(float(loss.detach()) * HU_SCALE)
        state["iteration"] = iteration = iteration + 1
        if iteration % config.log_every == 0 or iteration == config.iterations:
            elapsed = time.perf_counter() - started
            log(f"iteration {iteration}/{config.iterations}: weighted L1 {np.mean(running):.1f} HU, "
                f"lr {learning_rate_at(iteration - 1, config):.2e}, {elapsed / 60:.1f} min")
            state["history"].append({"iteration": iteration, "train_l1_hu": float(np.mean(running)), "minutes": elapsed / 60})
            running = []
        if validation_volumes and (iteration % config.validate_every == 0 or iteration == config.iterations):
            mae = validation_mae(model, validation_volumes, spec, model_config.patch_size)
            state["history"].append({"iteration": iteration, "validation_mae_hu": mae})
            log(f"iteration {iteration}: validation MAE {mae:.1f} HU inside the mask")
            if state["best"] is None or mae < state["best"]:
                state["best"] = mae
                torch.save({"model": model.state_dict(), "iteration": iteration, "validation_mae_hu": mae,
                            "model_config": model_config.to_dict()}, out_dir / BEST_NAME)
        if iteration % config.checkpoint_every == 0 or iteration == config.iterations:
            state["seconds"] = time.perf_counter() - started
            _save_checkpoint(checkpoint_path, model, optimizer, rng, model_config, config, state)
    seconds = time.perf_counter() - started
    if validation_volumes and (out_dir / BEST_NAME).is_file():
        model.load_state_dict(torch.load(out_dir / BEST_NAME, weights_only=False)["model"])
    model.eval()
    (out_dir / "history.json").write_text(json.dumps(state["history"], indent=1))
    return TrainingOutcome(model, model_config, state["iteration"], seconds, state["best"], state["history"])


def blend_weights(start: dict, tuned: dict, tuned_fraction: float) -> dict:
    """Weight-space ensemble of a model and its fine-tuned version (Wortsman et al., "Robust
    fine-tuning of zero-shot models", CVPR 2022): every floating-point tensor (weights and
    normalisation statistics) is ``(1 − f)·start + f·tuned``; counters come from ``tuned``.
    Fine-tuning on a narrow distribution then moves the model only part of the way, keeping
    much of what it knew before."""
    if not 0.0 <= tuned_fraction <= 1.0:
        raise ValueError(f"tuned_fraction must be within 0…1, got {tuned_fraction}")
    if start.keys() != tuned.keys():
        raise ValueError("the two state dicts belong to different networks")
    return {name: (start[name] * (1 - tuned_fraction) + value * tuned_fraction).to(value.dtype)
            if value.is_floating_point() else value for name, value in tuned.items()}


def _save_checkpoint(path: Path, model, optimizer, rng: np.random.Generator, model_config: ModelConfig,
                     config: TrainConfig, state: dict) -> None:
    """Write atomically (temporary file + rename), so an interrupted save never corrupts ``last.pt``."""
    import torch

    payload = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": rng.bit_generator.state,
               "torch_rng": torch.get_rng_state(), "model_config": model_config.to_dict(),
               "train_config": asdict(config), **state}
    temporary = path.with_suffix(".tmp")
    torch.save(payload, temporary)
    temporary.replace(path)


def _load_checkpoint(path: Path, model, optimizer, rng: np.random.Generator, model_config: ModelConfig) -> dict:
    import torch

    payload = torch.load(path, weights_only=False)
    saved = ModelConfig.from_dict(payload["model_config"])
    if saved != model_config:
        raise ValueError(f"checkpoint {path} was made for {saved}, not {model_config}; use another output folder")
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    rng.bit_generator.state = payload["rng"]
    torch.set_rng_state(payload["torch_rng"])
    return {key: payload[key] for key in ("iteration", "best", "history", "seconds")}
