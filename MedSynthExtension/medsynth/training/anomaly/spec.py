"""Settings shared by data preparation, training, export and the card of an anomaly model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from medsynth.models.card import Normalization


def default_normalization() -> Normalization:
    """Brain intensities (the only non-zero voxels of the masked input) from their 1st–99th
    percentile to [0, 1]: robust to MR units and to a few bright vessels."""
    return Normalization(scheme="percentile", lower_percentile=1.0, upper_percentile=99.0,
                         target_range=(0.0, 1.0), mask="nonzero")


@dataclass(frozen=True)
class TrainingConfig:
    """Network, corruption, augmentation and optimisation settings (quoted in the card).

    Corruption (what the network learns to undo): Gaussian noise drawn on a coarse grid
    (``noise_cell_voxels`` voxels per cell, i.e. 16 mm blobs at 2 mm) and upsampled, of standard
    deviation ``noise_sd`` in normalised intensity, added inside the brain — the coarse-noise
    denoising autoencoder of Kascenas et al. (MIDL 2022), which outperformed VAEs and
    diffusion-free reconstruction baselines on brain MRI.

    With probability ``blob_probability`` a patch also has random smooth blobs of its tissue
    replaced by tissue of a random intensity (a generic "foreign tissue" corruption in the spirit of
    self-supervised anomaly training; the shapes are random fields, not lesion masks).

    Augmentation: random affine (rotations ± ``rotate_deg``, scaling ± ``scale``, translations
    ± ``translate_mm``: residual misregistration), gamma ``exp(N(0, gamma_log_sd))``, a smooth
    multiplicative bias field of amplitude ``bias_amplitude``, Gaussian noise up to ``noise_max``,
    and with probability ``strip_probability`` a tighter brain mask (brain-extracted inputs).
    """

    channels: tuple[int, ...] = (16, 32, 64, 128)
    patch_size: tuple[int, int, int] = (64, 64, 64)
    batch_size: int = 2
    iterations: int = 700
    learning_rate: float = 2e-3
    final_lr_fraction: float = 0.05
    #: Stop after this many iterations of the ``iterations``-long schedule (None: run it all). The
    #: built-in model stops at 354 of 700, where the 13.5-minute budget it was first trained under
    #: ended; a fixed count (not a clock), with SimpleITK registration on one thread, makes its
    #: command repeatable (prepared scans cached by an earlier run are float16, see data.save_prepared).
    stop_after: int | None = 354
    noise_sd: float = 0.2
    noise_cell_voxels: int = 8
    blob_probability: float = 0.5
    rotate_deg: float = 8.0
    scale: float = 0.08
    translate_mm: float = 6.0
    gamma_log_sd: float = 0.15
    bias_amplitude: float = 0.15
    noise_max: float = 0.03
    strip_probability: float = 0.3
    seed: int = 0
    threads: int = 2
    normalization: Normalization = field(default_factory=default_normalization)

    def to_dict(self) -> dict:
        values = asdict(self)
        values["normalization"] = {k: (list(v) if isinstance(v, tuple) else v)
                                   for k, v in values["normalization"].items()}
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}
