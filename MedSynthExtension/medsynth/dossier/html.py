"""The dossier as one self-contained HTML page (pictures embedded), written atomically.

Order: the verdict, the acceptance criteria with a pass/fail line each (judged on the worst case),
the per-case figures labelled by how the model saw each data source, the distributions over cases,
every case's pictures, then the model card (domain of validity, training and validation as stated). The page says on top that the
images are synthetic.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Sequence

from medsynth.dossier.criteria import Verdict
from medsynth.dossier.synthct import CaseReport
from medsynth.models.card import ModelCard

_STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;font-size:13px}
th{background:#eee}.pass{color:#060;font-weight:bold}.FAIL{color:#b00;font-weight:bold}
.synthetic{background:#b00;color:#fff;padding:6px 10px;font-weight:bold}img{max-width:100%;margin:4px 0}
pre{background:#f6f6f6;padding:8px;white-space:pre-wrap;font-size:12px}"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _embedded(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render(card: ModelCard, verdicts: Sequence[Verdict], cases: Sequence[CaseReport], settings: dict,
           distribution_png: Path | None) -> str:
    """The HTML text of the dossier."""
    failed = sum(v.status == "FAIL" for v in verdicts)
    unmeasured = sum(v.status == "not measured" for v in verdicts)
    overall = "FAIL" if failed else "pass" if not unmeasured else "incomplete"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Validation dossier: {_e(card.id)}</title>",
             f"<style>{_STYLE}</style></head><body>",
             "<p class='synthetic'>SYNTHETIC CT — research evaluation, not for clinical use</p>",
             f"<h1>Validation dossier: {_e(card.name)} ({_e(card.id)} {_e(card.version)})</h1>",
             f"<p>Overall: <span class='{'FAIL' if failed else 'pass'}'>{overall}</span> — {len(verdicts) - failed - unmeasured} "
             f"of {len(verdicts)} criteria pass, {failed} fail, {unmeasured} not measured; {len(cases)} case(s).</p>",
             "<h2>Acceptance criteria (declared before the run; judged on the worst case)</h2>",
             "<table><tr><th>figure</th><th>criterion</th><th>worst case</th><th>value</th><th>verdict</th><th>why</th></tr>"]
    for v in verdicts:
        sign = "≥" if v.bound == "min" else "≤"
        parts.append(f"<tr><td>{_e(v.figure)}</td><td>{sign} {v.threshold:g}</td><td>{_e(v.worst_case or '—')}</td>"
                     f"<td>{_number(v.worst)}</td><td class='{_e(v.status)}'>{_e(v.status)}</td><td>{_e(v.why)}</td></tr>")
    parts.append("</table>")
    parts.append(f"<p>Settings: {_e(json.dumps(settings))}</p>")
    parts.append(_case_table(cases))
    if distribution_png is not None:
        parts += ["<h2>Distributions over the cases</h2>", f"<img src='{_embedded(distribution_png)}' alt='distributions'>"]
    for case in cases:
        parts.append(f"<h2>Case {_e(case.case)}</h2><p>Data source: {_e(case.source)}. Domain: {_e(case.domain)}.</p>")
        parts += [f"<p>{_e(note)}</p>" for note in case.notes]
        for caption, path in case.pictures:
            parts.append(f"<figure><img src='{_embedded(path)}' alt='{_e(caption)}'><figcaption>{_e(caption)}</figcaption></figure>")
    parts += ["<h2>Model card</h2>", f"<p>{_e(card.raw.get('description', ''))}</p>",
              "<h3>Domain of validity</h3>", f"<pre>{_e(json.dumps(card.raw.get('domain', 'not stated')))}</pre>",
              "<details><summary>Training data (as the card states it)</summary>",
              f"<pre>{_e(card.raw.get('training', {}).get('data', 'not stated'))}</pre></details>",
              "<details><summary>Validation (as the card states it)</summary>",
              f"<pre>{_e(json.dumps(card.raw.get('validation', 'not stated'), indent=1))}</pre></details>",
              "</body></html>"]
    return "\n".join(parts)


def _case_table(cases: Sequence[CaseReport]) -> str:
    """Figures as rows, cases as columns (a cohort is a few cases and many figures)."""
    keys = sorted({key for case in cases for key in case.figures})
    head = "".join(f"<th>{_e(case.case)}</th>" for case in cases)
    rows = ["<h2>Figures per case</h2><table>", f"<tr><th>figure</th>{head}</tr>",
            "<tr><td>data source</td>" + "".join(f"<td>{_e(case.source.split(':')[0])}</td>" for case in cases) + "</tr>",
            "<tr><td>domain</td>" + "".join(f"<td>{_e(case.domain)}</td>" for case in cases) + "</tr>"]
    rows += [f"<tr><td>{_e(k)}</td>" + "".join(f"<td>{_number(case.figures.get(k))}</td>" for case in cases) + "</tr>"
             for k in keys]
    rows.append("</table>")
    return "\n".join(rows)
