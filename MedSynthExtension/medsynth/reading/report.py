"""The reader-study report (HTML with inline SVG charts, or Markdown with SVG files beside it)
and the short text summary the command line prints.

The content is assembled once as a list of blocks (heading, paragraph, table, figure) and then
rendered to either format, so the two reports always say the same thing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Sequence

from medsynth.io.atomic import write_text_atomic
from medsynth.reading.analysis import Detection, StudyAnalysis
from medsynth.reading.errors import SessionError
from medsynth.reading.obuchowski_rockette import ReaderAucAnalysis
from medsynth.reading.svg import accuracy_chart, likert_chart, roc_chart

REPORT_FORMATS = ("html", "md")


@dataclass(frozen=True)
class _Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class _Paragraph:
    text: str


@dataclass(frozen=True)
class _Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class _Figure:
    name: str  # file-name part for Markdown
    caption: str
    svg: str


def write_report(analysis: StudyAnalysis, destination: str | os.PathLike) -> list[Path]:
    """Write the report (``.html`` or ``.md``) atomically; returns every file written
    (for Markdown, the charts as ``<report>_<chart>.svg`` beside it)."""
    destination = Path(destination)
    fmt = destination.suffix.lower().lstrip(".")
    fmt = "md" if fmt == "markdown" else fmt
    if fmt not in REPORT_FORMATS:
        raise SessionError(f"Cannot write a report to {destination}: use a .html or .md file name.")
    blocks = report_blocks(analysis)
    if fmt == "html":
        return [write_text_atomic(destination, render_html(blocks, analysis))]
    written = []
    stem = destination.name[: -len(destination.suffix)]
    figure_files = {}
    for block in blocks:
        if isinstance(block, _Figure):
            path = destination.with_name(f"{stem}_{block.name}.svg")
            written.append(write_text_atomic(path, block.svg + "\n"))
            figure_files[block.name] = path.name
    written.insert(0, write_text_atomic(destination, render_markdown(blocks, figure_files)))
    return written


def format_summary(analysis: StudyAnalysis) -> str:
    """A few lines for the terminal: pooled detection, agreement, verdict."""
    lines = [f"Study {analysis.study_id}: {analysis.n_cases} cases ({analysis.n_real} real, "
             f"{analysis.n_synthetic} synthetic), {len(analysis.readers)} reader(s)"]
    for reader in analysis.readers:
        lines.append(f"  {reader.reader_id}: {reader.answered}/{reader.total} answered" +
                     (f", {_detection_line(reader.detection)}" if reader.detection else ""))
    if analysis.pooled:
        lines.append(f"  pooled: {_detection_line(analysis.pooled)}")
    if analysis.reader_auc:
        lines.append(f"  Obuchowski–Rockette: {analysis.reader_auc.statement}")
    if analysis.agreement.fleiss_kappa is not None:
        lines.append(f"  Fleiss' kappa {analysis.agreement.fleiss_kappa:.3f} "
                     f"({analysis.agreement.n_readers} readers, {analysis.agreement.n_cases} cases)")
    for lk in analysis.likert:
        real, synth = lk.by_truth["real"]["mean"], lk.by_truth["synthetic"]["mean"]
        lines.append(f"  {lk.question_id}: mean real {_num(real, 2)}, synthetic {_num(synth, 2)}; "
                     f"ICC(2,1) {_num(lk.icc_2_1, 3)}, Krippendorff alpha (ordinal) {_num(lk.krippendorff_alpha_ordinal, 3)}")
    for criterion in analysis.criteria:
        lines.append(f"  [{_outcome(criterion.passed)}] {criterion.description}: {criterion.detail}")
    lines.append(f"Verdict: {analysis.verdict}")
    return "\n".join(lines)


def report_blocks(analysis: StudyAnalysis) -> list:
    """The report's content, format-neutral."""
    blocks: list = [_Heading(f"Reader study report: {analysis.title or analysis.study_id}", 1),
                    _Paragraph(f"Study id {analysis.study_id}. Generated "
                               f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. "
                               f"Verdict: {analysis.verdict}.")]
    blocks += [_Heading("Cases and readers"),
               _Paragraph(f"{analysis.n_cases} cases: {analysis.n_real} real, {analysis.n_synthetic} synthetic."),
               _Table(["Reader", "Answered", "Median time per case (s)"],
                      [[r.reader_id, f"{r.answered}/{r.total}", _num(r.median_duration_s, 1)]
                       for r in analysis.readers])]
    blocks.append(_Heading("Acceptance criteria"))
    if analysis.criteria:
        blocks.append(_Table(["Criterion", "Result", "Detail"],
                             [[c.description, _outcome(c.passed), c.detail] for c in analysis.criteria]))
    else:
        blocks.append(_Paragraph("The study defines no acceptance criteria."))

    if analysis.pooled:
        blocks.append(_Heading("Detecting synthetic images"))
        named = [(r.reader_id, r.detection) for r in analysis.readers if r.detection] + [("pooled", analysis.pooled)]
        blocks.append(_Table(
            ["Reader", "Accuracy", "95 % CI (Wilson)", "p (exact binomial vs 50 %)", "Sensitivity", "Specificity",
             "ROC AUC"],
            [[name, f"{_pct(d.accuracy.value)} ({d.accuracy.successes}/{d.accuracy.n})",
              f"{_pct(d.accuracy.ci_low)} – {_pct(d.accuracy.ci_high)}", _num(d.p_value, 4),
              f"{_pct(d.sensitivity.value)} ({d.sensitivity.successes}/{d.sensitivity.n})",
              f"{_pct(d.specificity.value)} ({d.specificity.successes}/{d.specificity.n})", _num(d.auc, 3)]
             for name, d in named]))
        ag = analysis.agreement
        blocks.append(_Paragraph(
            f"Agreement of the real/synthetic calls, Fleiss' kappa: {_num(ag.fleiss_kappa, 3)} "
            f"({ag.n_readers} readers, {ag.n_cases} cases called by all)." if ag.n_readers >= 2 else
            "Fleiss' kappa needs at least two readers."))
        blocks += _reader_auc_blocks(analysis.reader_auc)
        blocks.append(_Figure("accuracy", "Accuracy per reader and pooled; dashed line: chance (50 %).",
                              accuracy_chart([n for n, _ in named], [d.accuracy.value for _, d in named],
                                             [d.accuracy.ci_low for _, d in named],
                                             [d.accuracy.ci_high for _, d in named])))
        blocks.append(_Figure("roc", "ROC curves from the signed confidence scores.",
                              roc_chart({f"{n} (AUC {_num(d.auc, 2)})": d.roc for n, d in named})))

    if analysis.generators:
        blocks.append(_Heading("Per generator"))
        likert_ids = [lk.question_id for lk in analysis.likert]
        blocks.append(_Table(
            ["Generator", "Cases", "Called synthetic (95 % CI)", "ROC AUC vs real"] + [f"Mean {q}" for q in likert_ids],
            [[g.generator, str(g.n_cases),
              f"{_pct(g.detected.value)} ({g.detected.successes}/{g.detected.n}; "
              f"{_pct(g.detected.ci_low)} – {_pct(g.detected.ci_high)})", _num(g.auc_vs_real, 3)]
             + [_num(g.likert_means.get(q), 2) for q in likert_ids] for g in analysis.generators]))

    for lk in analysis.likert:
        blocks.append(_Heading(f"Likert: {lk.question_id}"))
        blocks.append(_Paragraph(f"{lk.text} (scale {lk.scale_min}–{lk.scale_max})."))
        groups = [("real", lk.by_truth["real"]), ("synthetic", lk.by_truth["synthetic"])] + \
                 [(f"synthetic: {g}", s) for g, s in lk.by_generator.items()]
        levels = list(range(lk.scale_min, lk.scale_max + 1))
        blocks.append(_Table(["Group", "n", "Mean", "SD", "Median"] + [str(v) for v in levels],
                             [[name, str(s["n"]), _num(s["mean"], 2), _num(s["sd"], 2), _num(s["median"], 1)]
                              + [str(s["counts"][v]) for v in levels] for name, s in groups]))
        blocks.append(_Paragraph(
            f"Mean synthetic minus mean real: {_num(lk.mean_difference, 2)}. Inter-reader agreement: "
            f"ICC(2,1) (two-way random, absolute agreement, single rater) = {_num(lk.icc_2_1, 3)} over "
            f"{lk.icc_n_cases} cases rated by every reader; Krippendorff's alpha (ordinal) = "
            f"{_num(lk.krippendorff_alpha_ordinal, 3)} over {lk.alpha_n_units} cases with two or more ratings."))
        blocks.append(_Figure(f"likert_{lk.question_id}", f"Distribution of {lk.question_id} ratings.",
                              likert_chart(levels, {"real": [lk.by_truth["real"]["counts"][v] for v in levels],
                                                    "synthetic": [lk.by_truth["synthetic"]["counts"][v] for v in levels]},
                                           f"{lk.question_id}: share of ratings")))

    blocks.append(_Heading("Methods"))
    blocks.append(_Paragraph(
        "Synthetic is the positive class. Accuracy: share of correct real/synthetic calls, with a Wilson 95 % "
        "interval and an exact two-sided binomial test against 50 %. Sensitivity: synthetic images called "
        "synthetic; specificity: real images called real. ROC AUC from the confidence as a signed score "
        "(synthetic with confidence c = +c, real = -c). Reader-averaged AUC over the cases every reader "
        "called, with the Obuchowski–Rockette interval (readers and cases random; jackknife covariances; "
        "Hillis 2007 degrees of freedom). Fleiss' kappa over the cases every reader called. "
        "Readers saw opaque case ids and blinded images in their own seeded random order."))
    if analysis.notes:
        blocks.append(_Heading("Notes"))
        blocks += [_Paragraph(note) for note in analysis.notes]
    return blocks


def _reader_auc_blocks(result: ReaderAucAnalysis | None) -> list:
    """The reader-averaged AUC section, or a line saying why there is none."""
    blocks: list = [_Heading("Reader-averaged AUC (Obuchowski–Rockette)")]
    if result is None:
        return blocks + [_Paragraph("Not computed: it needs at least two real and two synthetic cases called "
                                    "by every reader.")]
    blocks.append(_Paragraph(result.statement[0].upper() + result.statement[1:]))
    blocks.append(_Table(["Reader", "AUC"], [[r, _num(a, 3)] for r, a in zip(result.readers, result.reader_aucs)]
                         + [["average", _num(result.auc, 3)]]))
    blocks.append(_Paragraph(
        f"MS(R) {_num(result.ms_reader, 5)}, Cov2 {_num(result.cov2, 5)}, Var(Error) {_num(result.var_error, 5)}, "
        f"standard error {_num(result.standard_error, 4)}, "
        + (f"df {result.df:.1f}" if result.df is not None else "normal quantile")
        + (" (the reader variance estimate was negative: the fixed-reader standard error is used)."
           if result.reader_floor else ".")))
    return blocks


def render_markdown(blocks: Sequence, figure_files: dict[str, str]) -> str:
    out = []
    for block in blocks:
        if isinstance(block, _Heading):
            out.append("#" * block.level + " " + block.text)
        elif isinstance(block, _Paragraph):
            out.append(block.text)
        elif isinstance(block, _Table):
            out.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
            out.append("|" + "---|" * len(block.header))
            out.extend("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows)
        elif isinstance(block, _Figure):
            out.append(f"![{block.caption}]({figure_files[block.name]})")
        out.append("")
    return "\n".join(out)


def render_html(blocks: Sequence, analysis: StudyAnalysis) -> str:
    body = []
    for block in blocks:
        if isinstance(block, _Heading):
            body.append(f"<h{block.level}>{escape(block.text)}</h{block.level}>")
        elif isinstance(block, _Paragraph):
            body.append(f"<p>{escape(block.text)}</p>")
        elif isinstance(block, _Table):
            head = "".join(f"<th>{escape(h)}</th>" for h in block.header)
            rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in block.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(block, _Figure):
            body.append(f"<figure>{block.svg}<figcaption>{escape(block.caption)}</figcaption></figure>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em}"
             "th{background:#f3f3f3}figure{display:inline-block;margin:1em}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Reader study {escape(analysis.study_id)}</title><style>{style}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _detection_line(d: Detection) -> str:
    return (f"accuracy {_pct(d.accuracy.value)} ({d.accuracy.successes}/{d.accuracy.n}, 95 % CI "
            f"{_pct(d.accuracy.ci_low)}–{_pct(d.accuracy.ci_high)}, p = {_num(d.p_value, 4)}), "
            f"sensitivity {_pct(d.sensitivity.value)}, specificity {_pct(d.specificity.value)}, AUC {_num(d.auc, 3)}")


def _outcome(passed: bool | None) -> str:
    return "not evaluable" if passed is None else ("pass" if passed else "FAIL")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
