"""Make a synthetic-CT validation dossier: every case of a cohort, the criteria, one HTML page and its JSON.

Beside ``report.html`` the run leaves ``report.json`` (criteria verdicts and per-case figures, for
machines) and ``<report>_files/`` (the pictures, also embedded in the page).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

from medsynth.cli.evaluate_cmd import _json_safe  # the one inf/nan -> null rule of the JSON outputs
from medsynth.dossier.criteria import judge, load_criteria
from medsynth.dossier.html import render
from medsynth.dossier.synthct import CaseReport, evaluate_case, find_dossier_cases
from medsynth.errors import InputError
from medsynth.io import write_text_atomic
from medsynth.io.atomic import atomic_path
from medsynth.models.registry import ModelRegistry

#: Figures drawn in the distribution plot, when measured.
DISTRIBUTION_FIGURES = ("image_mae_hu", "bone_dice", "photon_gamma_pass_percent", "photon_dose_mae_percent",
                        "proton_gamma_pass_percent", "proton_dose_mae_percent", "proton_range_shift_mm")


def make_dossier(model_id: str, cohort: Path, out: Path, criteria_path: Path | None = None,
                 modalities: Sequence[str] = ("photon", "proton"), grid_mm: float | None = None,
                 progress: Callable[[float], None] | None = None) -> dict:
    """Write the dossier to ``out`` (HTML) and return its JSON content."""
    if out.suffix.lower() != ".html":
        raise InputError(f"The dossier is an HTML page; give --out ending in .html, not {out.name}.")
    from medsynth.dose.engine import import_engine  # noqa: PLC0415 - fail before minutes of work, not after

    import_engine()
    entry = ModelRegistry.default().find(model_id)
    if entry.card.task != "synth-ct":
        raise InputError(f"The dossier covers synthetic-CT models for now; {model_id} is a '{entry.card.task}' model.")
    criteria = load_criteria(criteria_path)
    folders = find_dossier_cases(cohort)
    files = out.with_name(out.stem + "_files")
    report = progress or (lambda fraction: None)
    cases: list[CaseReport] = []
    for index, folder in enumerate(folders):
        def step(fraction: float, index: int = index) -> None:
            report((index + fraction) / len(folders))

        cases.append(evaluate_case(folder, entry, modalities, grid_mm, files, step))
    verdicts = judge(criteria, [(c.case, c.figures) for c in cases])
    settings = {"modalities": list(modalities), "dose_grid_mm": grid_mm or "from the CT", "criteria":
                str(criteria_path) if criteria_path else "built-in defaults (medsynth.dossier.criteria)"}
    distribution = _distribution_plot(cases, files / "distributions.png")
    write_text_atomic(out, render(entry.card, verdicts, cases, settings, distribution))
    content = {"model": entry.card.id, "version": entry.card.version, "settings": settings,
               "criteria": [{"figure": v.figure, v.bound: v.threshold, "worst": v.worst, "worst_case": v.worst_case,
                             "status": v.status} for v in verdicts],
               "cases": [{"case": c.case, "source": c.source, "domain": c.domain, **c.figures} for c in cases]}
    write_text_atomic(out.with_suffix(".json"), json.dumps(_json_safe(content), indent=1))
    return content


def _distribution_plot(cases: Sequence[CaseReport], path: Path) -> Path | None:
    """One panel per measured figure, one dot per case (matplotlib, from the dose extra)."""
    figures = [f for f in DISTRIBUTION_FIGURES if any(c.figures.get(f) is not None for c in cases)]
    if not figures:
        return None
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    figure, axes = plt.subplots(1, len(figures), figsize=(2.0 * len(figures), 2.8), dpi=100, squeeze=False)
    for ax, name in zip(axes[0], figures):
        values = [c.figures[name] for c in cases if c.figures.get(name) is not None]
        ax.plot([0.0] * len(values), values, "o", alpha=0.7)
        ax.set_xticks([])
        ax.set_title(name.replace("_", " "), fontsize=7)
        ax.tick_params(labelsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".png") as tmp:
        figure.savefig(tmp, format="png")
    plt.close(figure)
    return path
