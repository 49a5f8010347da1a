"""From saved answers and the truth key to the numbers a reader study reports.

Conventions (see METRICS.md, "Reading sessions"):
- synthetic is the positive class: sensitivity = synthetic images called synthetic,
  specificity = real images called real;
- accuracy has a Wilson 95 % interval and an exact two-sided binomial test against 50 %;
- ROC AUC uses the confidence as a signed score: "synthetic" with confidence c -> +c,
  "real" with confidence c -> -c (no confidence asked: +-1);
- Fleiss' kappa is over the real/synthetic calls of the cases every reader has called;
- Likert agreement is reported both as ICC(2,1) (cases rated by every reader) and as
  Krippendorff's alpha, ordinal (all ratings, missing allowed);
- the reader-averaged AUC of those signed scores, over the cases every reader called, has an
  Obuchowski–Rockette interval with readers and cases random (obuchowski_rockette.py).
Pooled numbers treat every reading as independent; readings of one case by several readers are
correlated, so pooled p-values are optimistic. The report says so.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from medsynth.reading import database as db
from medsynth.reading.acceptance import CriterionResult, evaluate_criteria, verdict_of
from medsynth.reading.errors import SessionError
from medsynth.reading.key import TruthKey, default_key_path, read_key
from medsynth.reading.obuchowski_rockette import DEFAULT_AUC_MARGIN, ReaderAucAnalysis, obuchowski_rockette
from medsynth.reading.questions import LIKERT, REAL_OR_SYNTHETIC, Question, question_from_dict
from medsynth.reading.statistics import (Proportion, binomial_test, fleiss_kappa, icc_2_1,
                                         krippendorff_alpha, likert_summary, proportion, roc_auc, roc_curve)
from medsynth.reading.study import AUC_BELOW_MARGIN, REAL, SYNTHETIC, Study


@dataclass(frozen=True)
class Reading:
    """One reader's current answer to one case, joined with the truth."""

    reader_id: str
    case_id: str
    truth: str
    generator: str | None = None
    call: str | None = None
    confidence: int | None = None
    ratings: Mapping[str, int] = field(default_factory=dict)
    duration_s: float | None = None
    source_case_id: str = ""
    pair: str | None = None

    @property
    def score(self) -> float | None:
        """Signed suspicion of being synthetic: +confidence for "synthetic", -confidence for "real"."""
        if self.call is None:
            return None
        magnitude = self.confidence if self.confidence is not None else 1
        return float(magnitude if self.call == SYNTHETIC else -magnitude)

    @property
    def correct(self) -> bool | None:
        return None if self.call is None else self.call == self.truth


@dataclass(frozen=True)
class Detection:
    """How well readings tell synthetic from real (synthetic = positive)."""

    accuracy: Proportion
    p_value: float | None
    sensitivity: Proportion
    specificity: Proportion
    auc: float | None
    roc: list[tuple[float, float]]


@dataclass(frozen=True)
class ReaderSummary:
    reader_id: str
    answered: int
    total: int
    detection: Detection | None
    median_duration_s: float | None


@dataclass(frozen=True)
class LikertResult:
    question_id: str
    text: str
    scale_min: int
    scale_max: int
    by_truth: dict[str, dict]
    by_generator: dict[str, dict]
    by_reader: dict[str, dict[str, float | None]]
    mean_difference: float | None
    icc_2_1: float | None
    icc_n_cases: int
    krippendorff_alpha_ordinal: float | None
    alpha_n_units: int


@dataclass(frozen=True)
class GeneratorResult:
    generator: str
    n_cases: int
    detected: Proportion
    auc_vs_real: float | None
    likert_means: dict[str, float | None]


@dataclass(frozen=True)
class Agreement:
    fleiss_kappa: float | None
    n_cases: int
    n_readers: int


@dataclass(frozen=True)
class StudyAnalysis:
    """Everything ``medsynth reading analyze`` reports."""

    study_id: str
    title: str
    n_cases: int
    n_real: int
    n_synthetic: int
    readers: list[ReaderSummary]
    pooled: Detection | None
    #: Reader-averaged AUC with its OR interval; ``None`` without two real and two synthetic cases
    #: called by every reader.
    reader_auc: ReaderAucAnalysis | None
    agreement: Agreement
    likert: list[LikertResult]
    generators: list[GeneratorResult]
    criteria: list[CriterionResult]
    verdict: str
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))


def detection(readings: Iterable[Reading]) -> Detection | None:
    """Accuracy (Wilson CI, binomial p), sensitivity, specificity and ROC of readings with a call."""
    called = [r for r in readings if r.call is not None]
    if not called:
        return None
    correct = sum(bool(r.correct) for r in called)
    synthetic = [r for r in called if r.truth == SYNTHETIC]
    real = [r for r in called if r.truth == REAL]
    labels = [r.truth == SYNTHETIC for r in called]
    scores = [r.score for r in called]
    return Detection(
        accuracy=proportion(correct, len(called)),
        p_value=binomial_test(correct, len(called), 0.5),
        sensitivity=proportion(sum(r.call == SYNTHETIC for r in synthetic), len(synthetic)),
        specificity=proportion(sum(r.call == REAL for r in real), len(real)),
        auc=roc_auc(labels, scores),
        roc=roc_curve(labels, scores))


def fleiss_agreement(readings: Sequence[Reading]) -> Agreement:
    """Fleiss' kappa of the calls on the cases that every reader (with any call) has called."""
    calls: dict[str, dict[str, str]] = {}
    for r in readings:
        if r.call is not None:
            calls.setdefault(r.reader_id, {})[r.case_id] = r.call
    if len(calls) < 2:
        return Agreement(None, 0, len(calls))
    common = sorted(set.intersection(*(set(c) for c in calls.values())))
    if not common:
        return Agreement(None, 0, len(calls))
    table = [[sum(calls[reader][case] == category for reader in calls) for category in (REAL, SYNTHETIC)]
             for case in common]
    return Agreement(fleiss_kappa(table), len(common), len(calls))


def likert_result(question: Question, readings: Sequence[Reading]) -> LikertResult:
    """Summaries of one Likert question by truth, generator and reader, with agreement."""
    qid = question.question_id
    rated = [r for r in readings if qid in r.ratings]

    def summary(subset: Iterable[Reading]) -> dict:
        return likert_summary([r.ratings[qid] for r in subset], question.scale_min, question.scale_max)

    by_truth = {truth: summary(r for r in rated if r.truth == truth) for truth in (REAL, SYNTHETIC)}
    generators = sorted({r.generator for r in rated if r.truth == SYNTHETIC and r.generator})
    by_generator = {g: summary(r for r in rated if r.generator == g) for g in generators}
    reader_ids = sorted({r.reader_id for r in rated})
    by_reader = {reader: {truth: summary(r for r in rated if r.reader_id == reader and r.truth == truth)["mean"]
                          for truth in (REAL, SYNTHETIC)} for reader in reader_ids}
    means = [by_truth[t]["mean"] for t in (SYNTHETIC, REAL)]
    difference = None if None in means else means[0] - means[1]

    grid: dict[str, dict[str, int]] = {}
    for r in rated:
        grid.setdefault(r.case_id, {})[r.reader_id] = r.ratings[qid]
    complete = [case for case in sorted(grid) if len(grid[case]) == len(reader_ids)]
    icc = icc_2_1([[grid[c][reader] for reader in reader_ids] for c in complete]) if len(reader_ids) >= 2 else None
    units = sorted(grid)
    alpha = None
    if len(reader_ids) >= 2:
        alpha = krippendorff_alpha([[grid[c].get(reader) for c in units] for reader in reader_ids], "ordinal")
    pairable = sum(len(grid[c]) >= 2 for c in units)
    return LikertResult(qid, question.text, question.scale_min, question.scale_max, by_truth, by_generator,
                        by_reader, difference, icc, len(complete) if len(reader_ids) >= 2 else 0, alpha, pairable)


def generator_results(readings: Sequence[Reading], likert_questions: Sequence[Question]) -> list[GeneratorResult]:
    """Per generator: how often its images were called synthetic, AUC against all real images,
    and mean Likert ratings."""
    real_called = [r for r in readings if r.truth == REAL and r.call is not None]
    results = []
    for generator in sorted({r.generator for r in readings if r.truth == SYNTHETIC and r.generator}):
        mine = [r for r in readings if r.truth == SYNTHETIC and r.generator == generator]
        called = [r for r in mine if r.call is not None]
        both = called + real_called
        auc = roc_auc([r.truth == SYNTHETIC for r in both], [r.score for r in both]) if called else None
        means = {}
        for question in likert_questions:
            values = [r.ratings[question.question_id] for r in mine if question.question_id in r.ratings]
            means[question.question_id] = float(np.mean(values)) if values else None
        results.append(GeneratorResult(generator, len({r.case_id for r in mine}),
                                       proportion(sum(r.call == SYNTHETIC for r in called), len(called)),
                                       auc, means))
    return results


def correct_tables(readings: Sequence[Reading]) -> dict[str, np.ndarray]:
    """0/1 tables of correct calls: "pooled" (readers × cases every reader called) and one row per reader."""
    from medsynth.reading.margin import complete_table

    calls: dict[str, dict[str, bool]] = {}
    for r in readings:
        if r.call is not None:
            calls.setdefault(r.reader_id, {})[r.case_id] = bool(r.correct)
    tables = {"pooled": complete_table(calls)[2]}
    tables.update({reader: complete_table({reader: mine})[2] for reader, mine in calls.items()})
    return tables


@dataclass(frozen=True)
class ScoreTable:
    """Signed confidence scores of the cases every listed reader has called (readers × cases)."""

    readers: list[str]
    cases: list[str]
    is_synthetic: list[bool]
    scores: list[list[float]]

    def analyse(self, confidence: float = 0.95, margin: float = DEFAULT_AUC_MARGIN) -> ReaderAucAnalysis | None:
        """The OR analysis, or ``None`` with fewer than two real or two synthetic cases."""
        n_synthetic = sum(self.is_synthetic)
        if min(n_synthetic, len(self.is_synthetic) - n_synthetic) < 2:
            return None
        return obuchowski_rockette(self.is_synthetic, self.scores, self.readers, confidence, margin)


def score_tables(readings: Sequence[Reading]) -> dict[str, ScoreTable]:
    """"pooled" (every reader with a call, on the cases all of them called) and one per reader."""
    scores: dict[str, dict[str, float]] = {}
    truth = {r.case_id: r.truth == SYNTHETIC for r in readings}
    for r in readings:
        if r.score is not None:
            scores.setdefault(r.reader_id, {})[r.case_id] = r.score

    def table(readers: list[str]) -> ScoreTable:
        cases = sorted(set.intersection(*(set(scores[reader]) for reader in readers))) if readers else []
        return ScoreTable(readers, cases, [truth[c] for c in cases],
                          [[scores[reader][c] for c in cases] for reader in readers])

    tables = {"pooled": table(sorted(scores))}
    tables.update({reader: table([reader]) for reader in sorted(scores)})
    return tables


def analyze_readings(readings: Sequence[Reading], study: Study,
                     reader_totals: Mapping[str, int] | None = None) -> StudyAnalysis:
    """All statistics of a study from its readings (pure: no files). ``reader_totals`` gives
    each reader's number of cases (default: every study case) to report completeness."""
    reader_totals = dict(reader_totals or {})
    reader_ids = sorted(set(reader_totals) | {r.reader_id for r in readings})
    has_choice = study.choice_question is not None
    likert_questions = [q for q in study.questions if q.kind == LIKERT]
    summaries = []
    notes = []
    for reader in reader_ids:
        mine = [r for r in readings if r.reader_id == reader]
        total = reader_totals.get(reader, len(study.cases))
        durations = [r.duration_s for r in mine if r.duration_s is not None]
        summaries.append(ReaderSummary(reader, len(mine), total, detection(mine) if has_choice else None,
                                       float(np.median(durations)) if durations else None))
        if len(mine) < total:
            notes.append(f"Reader {reader} has answered {len(mine)} of {total} cases; results use what is answered.")
    pooled = detection(readings) if has_choice else None
    agreement = fleiss_agreement(readings) if has_choice else Agreement(None, 0, 0)
    likert = [likert_result(q, readings) for q in likert_questions]
    generators = generator_results(readings, likert_questions)
    if len({r.reader_id for r in readings}) > 1:
        notes.append("Pooled tests treat every reading as independent; readings of one case by several readers "
                     "are correlated, so pooled p-values and intervals are optimistic.")
    scored = score_tables(readings) if has_choice else {}
    auc_criterion = next((c for c in study.acceptance if c.kind == AUC_BELOW_MARGIN), None)
    reader_auc = scored["pooled"].analyse(*((auc_criterion.confidence, auc_criterion.margin)
                                            if auc_criterion else ())) if scored else None
    criteria = evaluate_criteria(study.acceptance, pooled, {s.reader_id: s.detection for s in summaries},
                                 agreement.fleiss_kappa, {lr.question_id: lr for lr in likert},
                                 correct_tables(readings), scored)
    return StudyAnalysis(
        study_id=study.study_id, title=study.title, n_cases=len(study.cases),
        n_real=sum(c.truth == REAL for c in study.cases), n_synthetic=sum(c.truth == SYNTHETIC for c in study.cases),
        readers=summaries, pooled=pooled, reader_auc=reader_auc, agreement=agreement, likert=likert, generators=generators,
        criteria=criteria, verdict=verdict_of(criteria), notes=notes)


def readings_from_records(records: Iterable[db.AnswerRecord], key: TruthKey,
                          questions: Sequence[Question]) -> list[Reading]:
    """Join stored answers with the truth key."""
    choice = next((q.question_id for q in questions if q.kind == REAL_OR_SYNTHETIC), None)
    likert_ids = [q.question_id for q in questions if q.kind == LIKERT]
    readings = []
    for record in records:
        entry = key.entries.get(record.case_id)
        if entry is None:
            raise SessionError(f"Answer to case {record.case_id} has no entry in the truth key; is it the key "
                               "of this session?")
        call = record.answers.get(choice) if choice else None
        readings.append(Reading(
            reader_id=record.reader_id, case_id=record.case_id, truth=entry.truth, generator=entry.generator,
            call=call["choice"] if call else None, confidence=call.get("confidence") if call else None,
            ratings={q: record.answers[q] for q in likert_ids if q in record.answers},
            duration_s=record.duration_s, source_case_id=entry.source_case_id, pair=entry.pair))
    return readings


def analyze_session(session: str | os.PathLike, key_path: str | os.PathLike | None = None) -> StudyAnalysis:
    """Analyse a session folder with its truth key (default: beside the folder)."""
    database = db.resolve_database(session)
    conn = db.connect(database)
    try:
        meta = db.read_meta(conn)
        records = db.read_answers(conn)
        readers = db.read_readers(conn)
    finally:
        conn.close()
    key = read_key(key_path or default_key_path(database.parent), meta["session_uid"])
    questions = [question_from_dict(q) for q in json.loads(meta["questions"])]
    readings = readings_from_records(records, key, questions)
    return analyze_readings(readings, key.study, {r.reader_id: len(r.case_order) for r in readers})
