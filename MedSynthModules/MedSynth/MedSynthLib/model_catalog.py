"""What the model panels show: one line per model and its card as HTML (Qt-free presenter)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from medsynth.models import ModelEntry


@dataclass(frozen=True)
class ModelRow:
    label: str
    model_id: str
    entry: ModelEntry | None


def model_rows(entries: list[ModelEntry], problems: list[str] = ()) -> list[ModelRow]:
    """Selectable rows for the installed models, then a non-selectable row per broken model folder."""
    rows = [ModelRow(f"{e.card.name} — {e.card.id} {e.card.version} [{e.source}]", e.card.id, e) for e in entries]
    rows += [ModelRow(f"⚠ skipped: {problem.splitlines()[0]}", "", None) for problem in problems]
    return rows


def card_html(entry: ModelEntry | None) -> str:
    """The card a clinician should read before using a model: use, limits, data, figures, licence."""
    if entry is None:
        return "<p>This model folder could not be loaded; see the message in the list.</p>"
    card = entry.card
    e = html.escape
    metrics = card.raw.get("validation", {}).get("metrics", {})
    metric_rows = "".join(f"<tr><td>{e(str(k))}</td><td>{e(str(v))}</td></tr>" for k, v in metrics.items())
    limitations = "".join(f"<li>{e(item)}</li>" for item in card.limitations)
    conditions = ", ".join(c.name for c in card.conditions) or "none"
    return (
        f"<h3>{e(card.name)}</h3>"
        f"<p><b>{e(card.id)}</b> version {e(card.version)} · task {e(card.task)} · input {e(card.modality)} "
        f"{e(card.contrast)} · conditions: {e(conditions)}</p>"
        f"<p><b>Intended use:</b> {e(card.intended_use)}</p>"
        f"<p><b>Limitations:</b></p><ul>{limitations}</ul>"
        f"<p><b>Training data:</b> {e(str(card.raw.get('training', {}).get('data', 'not stated')))}</p>"
        + (f"<p><b>Validation</b> ({e(str(card.raw['validation'].get('data', '')))}):</p><table>{metric_rows}</table>"
           if metric_rows else "")
        + f"<p><b>Licence:</b> {e(card.license)} · weights sha256 {e(card.weights_sha256[:16])}…</p>"
    )
