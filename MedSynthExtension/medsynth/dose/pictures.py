"""Pictures of one dose evaluation: the dose overlay strip and the DVH plot, as PNG.

The strip is one axial slice through the target's centre, four panels side by side: the CT dose on
the CT, the sCT dose on the sCT (both on one colour scale, 0 … max CT dose, shown above 10 % of it),
|sCT - CT| dose (0 … 10 % of the prescription) and the gamma map (0 … 2; Γ > 1 fails). The DVH plot
draws the cumulative dose-volume histograms of the target and the body, CT solid, sCT dashed.
Pictures of a synthetic CT say so in their title: they are never mistaken for a real plan.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.dose.evaluate import DoseEvaluation
from medsynth.io.atomic import atomic_path
from medsynth.render import overlay_picture, write_png

#: Soft-tissue window (HU) for the CT background of the dose pictures.
CT_WINDOW_HU = (-200.0, 300.0)
#: The |dose difference| panel's scale, % of the prescription.
DIFFERENCE_RANGE_PERCENT = 10.0
#: Panels smaller than this (pixels high) are enlarged by a whole factor (coarse dose grids stay legible).
MIN_PANEL_PIXELS = 160


def target_fraction(target: sitk.Image) -> float:
    """Where the target's centre lies along the display's superior axis (0 … 1), for the axial slice."""
    lps = sitk.DICOMOrient(target, "LPS")
    z = np.flatnonzero(sitk.GetArrayViewFromImage(lps).any(axis=(1, 2)))
    return (float(z.mean()) + 0.5) / lps.GetSize()[2] if z.size else 0.5


def dose_strip(ct: sitk.Image, sct: sitk.Image, result: DoseEvaluation, prescription_gy: float) -> np.ndarray:
    """The four-panel RGB strip (see module docstring)."""
    fraction = target_fraction(result.target)
    top = float(sitk.GetArrayViewFromImage(result.ct_dose).max())
    dose_view = dict(view="axial", fraction=fraction, heat_range=(0.0, top), threshold=0.1 * top, window=CT_WINDOW_HU)
    difference = sitk.Abs(result.sct_dose - result.ct_dose)
    panels = [
        overlay_picture(ct, result.ct_dose, **dose_view),
        overlay_picture(sct, result.sct_dose, **dose_view),
        overlay_picture(ct, difference, view="axial", fraction=fraction, opacity=0.8, window=CT_WINDOW_HU,
                        heat_range=(0.0, DIFFERENCE_RANGE_PERCENT / 100.0 * prescription_gy), threshold=1e-4),
        overlay_picture(ct, result.gamma, view="axial", fraction=fraction, heat_range=(0.0, 2.0), threshold=1e-6,
                        opacity=0.8, window=CT_WINDOW_HU),
    ]
    return side_by_side(panels)


def side_by_side(panels: list[np.ndarray]) -> np.ndarray:
    """RGB panels of one height in a row with white gaps, enlarged by a whole factor when small."""
    factor = max(1, -(-MIN_PANEL_PIXELS // panels[0].shape[0]))
    panels = [panel.repeat(factor, axis=0).repeat(factor, axis=1) for panel in panels]
    gap = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
    return np.concatenate([part for panel in panels for part in (panel, gap)][:-1], axis=1)


def write_dose_pictures(ct: sitk.Image, sct: sitk.Image, result: DoseEvaluation, prescription_gy: float,
                        folder: str | os.PathLike, title: str) -> list[Path]:
    """``dose.png`` (the strip) and ``dvh.png`` in ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    strip = write_png(dose_strip(ct, sct, result, prescription_gy), folder / "dose.png")
    return [strip, write_dvh_plot(result, prescription_gy, folder / "dvh.png", title)]


def cumulative_dvh(dose: np.ndarray, structure: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Percentage of the structure's volume receiving at least each dose of ``bins``."""
    values = np.asarray(dose)[np.asarray(structure) > 0]
    return 100.0 * (values[None, :] >= bins[:, None]).mean(axis=1)


def write_dvh_plot(result: DoseEvaluation, prescription_gy: float, path: Path, title: str) -> Path:
    """The DVH plot (matplotlib, which the dose extra brings with pyRadPlan), written atomically."""
    import matplotlib  # noqa: PLC0415 - only the dose environment has it

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    ct_dose, sct_dose = (sitk.GetArrayViewFromImage(d) for d in (result.ct_dose, result.sct_dose))
    structures = {"target": sitk.GetArrayViewFromImage(result.target), "body": sitk.GetArrayViewFromImage(result.body)}
    bins = np.linspace(0.0, 1.15 * max(float(ct_dose.max()), float(sct_dose.max())), 200)
    figure, axes = plt.subplots(figsize=(5.0, 3.6), dpi=100)
    for (name, mask), colour in zip(structures.items(), ("tab:red", "tab:blue")):
        axes.plot(100 * bins / prescription_gy, cumulative_dvh(ct_dose, mask, bins), color=colour, label=f"{name}, CT")
        axes.plot(100 * bins / prescription_gy, cumulative_dvh(sct_dose, mask, bins), color=colour, linestyle="--",
                  label=f"{name}, synthetic CT")
    axes.set_xlabel("dose (% of prescription)")
    axes.set_ylabel("volume (%)")
    axes.set_ylim(0, 102)
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        figure.savefig(tmp, format="png")
    plt.close(figure)
    return Path(path)
