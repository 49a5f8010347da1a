"""The study definition: cases with their hidden truth, questions, readers, acceptance criteria.

A study file is JSON, or YAML when PyYAML is installed. Example (YAML)::

    study_id: synthct-realism
    title: Can radiologists tell synthetic CT from real CT?
    seed: 20261125                 # per-reader orders derive from it; recorded in the session
    allow_revisit: true            # readers may go back and change answers
    default_window_level: CT_BRAIN # or {window: 100, level: 50}; omitted: the viewer's auto W/L
    cases:
      - {id: p01-real, image: real/p01.nii.gz, truth: real, pair: p01}
      - {id: p01-syn, image: synth/p01.nii.gz, truth: synthetic, generator: mri2ct-v1, pair: p01}
      - {id: p02-dcm, image: real/p02_dicom/, truth: real, window_level: CT_BONE}
    questions:
      - {id: call, type: real_or_synthetic, confidence: true}
      - {id: realism, type: likert, min: 1, max: 5}
      - {id: comments, type: free_text, required: false}
      - {id: artefacts, type: point_marks, required: false}
    readers: [r1, r2, {id: r3, name: Dr Three}]
    acceptance:
      - {type: accuracy_not_above_chance, scope: pooled, alpha: 0.05}
      - {type: threshold, metric: likert_mean_difference, question: realism, min: -0.5}

Relative image paths are resolved against the study file's folder. A folder as ``image`` is a
DICOM series. Every problem in a file is reported at once, each with where it is and what to do.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from medsynth.io.atomic import write_text_atomic
from medsynth.io.images import IMAGE_SUFFIXES, is_image_path
from medsynth.reading.errors import StudyError
from medsynth.reading.questions import (LIKERT, REAL_OR_SYNTHETIC, Question, default_questions,
                                        parse_question)

STUDY_FORMAT = "medsynth-reading-study"
STUDY_FORMAT_VERSION = 1
REAL, SYNTHETIC = "real", "synthetic"
TRUTH_VALUES = (REAL, SYNTHETIC)
#: Generator name given to synthetic cases whose study entry names none.
UNSPECIFIED_GENERATOR = "unspecified"
#: Window/level presets (width, centre) as in Slicer's VolumeDisplayPresets.json.
WINDOW_LEVEL_PRESETS = {"CT_BRAIN": (100.0, 50.0), "CT_BONE": (1000.0, 400.0),
                        "CT_AIR": (1000.0, -426.0), "CT_ABDOMEN": (350.0, 40.0)}

#: Acceptance criterion kinds.
ACCURACY_NOT_ABOVE_CHANCE = "accuracy_not_above_chance"
ACCURACY_BELOW_MARGIN = "accuracy_below_margin"
AUC_BELOW_MARGIN = "auc_below_margin"
THRESHOLD = "threshold"
#: Metrics a ``threshold`` criterion may bound; ``likert_*`` ones need a ``question``.
THRESHOLD_METRICS = ("accuracy", "accuracy_ci_low", "accuracy_ci_high", "accuracy_p_value",
                     "sensitivity", "specificity", "auc", "fleiss_kappa",
                     "likert_mean_real", "likert_mean_synthetic", "likert_mean_difference")
SCOPES = ("pooled", "each_reader")

READER_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TOP_KEYS = ("format", "version", "study_id", "title", "instructions", "seed", "allow_revisit",
             "default_window_level", "cases", "questions", "readers", "acceptance")
_CASE_KEYS = ("id", "image", "truth", "generator", "pair", "window_level")


@dataclass(frozen=True)
class WindowLevel:
    """Display window width and centre (level), in the image's units (HU for CT)."""

    window: float
    level: float


@dataclass(frozen=True)
class CaseSpec:
    """One case as the study administrator sees it: the truth is here, never in reader mode."""

    case_id: str
    image: Path
    truth: str
    generator: str | None = None
    pair: str | None = None
    window_level: WindowLevel | None = None


@dataclass(frozen=True)
class Reader:
    reader_id: str
    name: str | None = None


@dataclass(frozen=True)
class Criterion:
    """One acceptance criterion.

    ``accuracy_not_above_chance`` fails when the accuracy is above 50 % and the exact two-sided
    binomial test against 50 % gives p < ``alpha`` (i.e. readers detect synthetic images better
    than chance). It passes studies too small to show anything, so it is kept for comparison only.
    ``accuracy_below_margin`` needs evidence: it passes only when the one-sided upper ``confidence``
    bound of accuracy, cases and readers random (:mod:`medsynth.reading.margin`), is below
    ``margin`` (default 0.60). ``auc_below_margin`` is the same claim for the ROC AUC of the
    confidence ratings: the upper bound of the reader-averaged AUC, Obuchowski–Rockette with cases
    and readers random (:mod:`medsynth.reading.obuchowski_rockette`), below ``margin``. ``threshold`` bounds ``metric`` with ``minimum`` and/or ``maximum``.
    ``scope`` "each_reader" requires it of every reader, "pooled" of all readings together.
    """

    kind: str
    scope: str = "pooled"
    alpha: float = 0.05
    metric: str | None = None
    margin: float = 0.60
    confidence: float = 0.95
    question: str | None = None
    minimum: float | None = None
    maximum: float | None = None

    def describe(self) -> str:
        """A sentence a report can print."""
        who = "Pooled" if self.scope == "pooled" else "Every reader's"
        if self.kind == ACCURACY_NOT_ABOVE_CHANCE:
            return (f"{who} accuracy not significantly above 50 % "
                    f"(exact two-sided binomial test, alpha = {self.alpha:g})")
        if self.kind == ACCURACY_BELOW_MARGIN:
            return (f"{who} accuracy below {self.margin:g}: upper {self.confidence:.0%} bound, "
                    "cases and readers as random effects")
        if self.kind == AUC_BELOW_MARGIN:
            return (f"{who} ROC AUC of the confidence ratings below {self.margin:g}: upper {self.confidence:.0%} "
                    "bound, Obuchowski–Rockette, cases and readers random")
        metric = self.metric + (f" [{self.question}]" if self.question else "")
        bounds = []
        if self.minimum is not None:
            bounds.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            bounds.append(f"<= {self.maximum:g}")
        return f"{who} {metric} {' and '.join(bounds)}"

    def to_dict(self) -> dict[str, Any]:
        if self.kind == ACCURACY_NOT_ABOVE_CHANCE:
            return {"type": self.kind, "scope": self.scope, "alpha": self.alpha}
        if self.kind in (ACCURACY_BELOW_MARGIN, AUC_BELOW_MARGIN):
            return {"type": self.kind, "scope": self.scope, "margin": self.margin, "confidence": self.confidence}
        data: dict[str, Any] = {"type": self.kind, "scope": self.scope, "metric": self.metric}
        if self.question:
            data["question"] = self.question
        if self.minimum is not None:
            data["min"] = self.minimum
        if self.maximum is not None:
            data["max"] = self.maximum
        return data


@dataclass(frozen=True)
class Study:
    """A validated study definition."""

    study_id: str
    cases: tuple[CaseSpec, ...]
    questions: tuple[Question, ...]
    readers: tuple[Reader, ...] = ()
    acceptance: tuple[Criterion, ...] = ()
    title: str = ""
    instructions: str = ""
    #: Master seed of the per-reader orders; ``None``: one is drawn when the session is built.
    seed: int | None = None
    allow_revisit: bool = False
    default_window_level: WindowLevel | None = None
    #: The file it was read from, for messages only.
    source: str = field(default="", compare=False)

    @property
    def choice_question(self) -> Question | None:
        """The ``real_or_synthetic`` question, if the study has one."""
        return next((q for q in self.questions if q.kind == REAL_OR_SYNTHETIC), None)

    def window_level_of(self, case: CaseSpec) -> WindowLevel | None:
        return case.window_level or self.default_window_level


def load_study(path: str | os.PathLike, *, check_images: bool = True) -> Study:
    """Read and validate a study file (``.json``, ``.yaml`` / ``.yml``).

    Raises :class:`StudyError` listing every problem found, each saying where and what to do.
    ``check_images=False`` skips the existence check (analysis of a session whose source images
    have since moved).
    """
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"Study file not found: {path}. Check the path.")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        data = _parse_yaml(text, path)
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StudyError(f"Study file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                             f"column {exc.colno}. Fix the syntax (a JSON validator shows where).") from None
    else:
        raise StudyError(f"Study file {path}: use a .json, .yaml or .yml file name.")
    return parse_study(data, base_dir=path.parent, source=str(path), check_images=check_images)


def parse_study(data: Any, base_dir: str | os.PathLike = ".", source: str = "study",
                check_images: bool = True) -> Study:
    """Validate a study given as plain data (as loaded from JSON/YAML); see :func:`load_study`."""
    problems: list[str] = []
    base_dir = Path(base_dir)
    if not isinstance(data, Mapping):
        raise StudyError(f"{source}: the top level must be a mapping with 'study_id', 'cases' and "
                         "'questions'.")
    _unknown_keys(data, _TOP_KEYS, "the top level", problems)
    if data.get("format", STUDY_FORMAT) != STUDY_FORMAT:
        problems.append(f"'format' is {data.get('format')!r}; a study file says '{STUDY_FORMAT}' or omits it.")
    if data.get("version", STUDY_FORMAT_VERSION) != STUDY_FORMAT_VERSION:
        problems.append(f"'version' {data.get('version')!r} is not supported; this MedSynth reads version "
                        f"{STUDY_FORMAT_VERSION}.")
    study_id = data.get("study_id")
    if not isinstance(study_id, str) or not study_id.strip():
        problems.append("'study_id' is missing; give the study a short name, e.g. study_id: synthct-realism.")
        study_id = ""
    title = _text(data, "title", problems)
    instructions = _text(data, "instructions", problems)
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63):
        problems.append(f"'seed' must be a whole number from 0 to 2**63-1; got {seed!r}.")
        seed = None
    allow_revisit = data.get("allow_revisit", False)
    if not isinstance(allow_revisit, bool):
        problems.append("'allow_revisit' must be true or false.")
    default_wl = _parse_window_level(data.get("default_window_level"), "'default_window_level'", problems)

    questions = _parse_questions(data.get("questions"), problems)
    cases = _parse_cases(data.get("cases"), base_dir, check_images, problems)
    readers = _parse_readers(data.get("readers", []), problems)
    acceptance = _parse_acceptance(data.get("acceptance", []), questions, problems)

    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise StudyError(f"Study {source} has {len(problems)} problem(s):\n{listing}")
    return Study(study_id=study_id.strip(), cases=tuple(cases), questions=tuple(questions),
                 readers=tuple(readers), acceptance=tuple(acceptance), title=title,
                 instructions=instructions, seed=seed, allow_revisit=allow_revisit,
                 default_window_level=default_wl, source=source)


def study_to_dict(study: Study, relative_to: str | os.PathLike | None = None) -> dict[str, Any]:
    """The study as plain data; image paths relative to ``relative_to`` when they lie below it."""
    def image_text(path: Path) -> str:
        if relative_to is not None:
            try:
                return Path(os.path.relpath(path, relative_to)).as_posix()
            except ValueError:  # another drive on Windows
                pass
        return str(path)

    cases = []
    for case in study.cases:
        entry: dict[str, Any] = {"id": case.case_id, "image": image_text(case.image), "truth": case.truth}
        if case.generator:
            entry["generator"] = case.generator
        if case.pair:
            entry["pair"] = case.pair
        if case.window_level:
            entry["window_level"] = {"window": case.window_level.window, "level": case.window_level.level}
        cases.append(entry)
    data: dict[str, Any] = {"format": STUDY_FORMAT, "version": STUDY_FORMAT_VERSION,
                            "study_id": study.study_id, "title": study.title,
                            "instructions": study.instructions, "seed": study.seed,
                            "allow_revisit": study.allow_revisit}
    if study.seed is None:
        del data["seed"]
    if study.default_window_level:
        data["default_window_level"] = {"window": study.default_window_level.window,
                                        "level": study.default_window_level.level}
    data.update(cases=cases, questions=[q.to_dict() for q in study.questions],
                readers=[{"id": r.reader_id, **({"name": r.name} if r.name else {})} for r in study.readers],
                acceptance=[c.to_dict() for c in study.acceptance])
    return data


def save_study(study: Study, path: str | os.PathLike) -> Path:
    """Write ``study`` as a JSON study file (atomically), image paths relative to its folder."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise StudyError(f"Cannot write study file {path}: MedSynth writes study files as .json.")
    data = study_to_dict(study, relative_to=path.parent.resolve())
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def blinding_warnings(study: Study) -> list[str]:
    """Things in the study design that could hint at the truth; not errors, the administrator decides.

    Today: window/level settings that differ between real and synthetic cases.
    """
    warnings = []
    real_wl = {study.window_level_of(c) for c in study.cases if c.truth == REAL}
    synth_wl = {study.window_level_of(c) for c in study.cases if c.truth == SYNTHETIC}
    if real_wl and synth_wl and not real_wl & synth_wl:
        warnings.append("Real and synthetic cases never share a window/level setting, so the display "
                        "could reveal the truth; use the same presets for both.")
    return warnings


def _parse_yaml(text: str, path: Path) -> Any:
    try:
        import yaml
    except ImportError:
        raise StudyError(f"Study file {path} is YAML, but PyYAML is not installed. Install it "
                         "(pip install pyyaml) or write the study as JSON.") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise StudyError(f"Study file {path} is not valid YAML: {problem}{where}. Fix the syntax.") from None


def _parse_questions(raw: Any, problems: list[str]) -> list[Question]:
    if raw is None:
        return list(default_questions())
    if not isinstance(raw, list) or not raw:
        problems.append("'questions' must be a non-empty list (or omitted for the default set).")
        return []
    questions = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        question = parse_question(entry, f"questions[{index}]", problems)
        if question is None:
            continue
        if question.question_id in seen:
            problems.append(f"questions[{index}]: duplicate question id '{question.question_id}' (also "
                            f"questions[{seen[question.question_id]}]); give each question its own id.")
            continue
        seen[question.question_id] = index
        questions.append(question)
    if sum(q.kind == REAL_OR_SYNTHETIC for q in questions) > 1:
        problems.append("More than one real_or_synthetic question; a study asks the forced choice once per case.")
    return questions


def _parse_cases(raw: Any, base_dir: Path, check_images: bool, problems: list[str]) -> list[CaseSpec]:
    if not isinstance(raw, list) or not raw:
        problems.append("'cases' must be a non-empty list of {id, image, truth} entries.")
        return []
    cases: list[CaseSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        where = f"cases[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a mapping with 'id', 'image' and 'truth'.")
            continue
        before = len(problems)
        _unknown_keys(entry, _CASE_KEYS, where, problems)
        case_id = entry.get("id")
        if isinstance(case_id, (int, float)) and not isinstance(case_id, bool):
            case_id = str(case_id)
        if not isinstance(case_id, str) or not case_id.strip():
            problems.append(f"{where}: 'id' is missing; give each case a unique id.")
            continue
        case_id = case_id.strip()
        where = f"{where} (id '{case_id}')"
        if case_id in seen:
            problems.append(f"{where}: duplicate case id '{case_id}' (also cases[{seen[case_id]}]); "
                            "give each case its own id.")
        else:
            seen[case_id] = index
        image = _parse_image(entry.get("image"), base_dir, check_images, where, problems)
        truth = entry.get("truth")
        if not isinstance(truth, str) or truth.strip().lower() not in TRUTH_VALUES:
            problems.append(f"{where}: 'truth' must be 'real' or 'synthetic'; got {truth!r}.")
            truth = REAL
        truth = truth.strip().lower()
        generator = entry.get("generator")
        if generator is not None and (not isinstance(generator, str) or not generator.strip()):
            problems.append(f"{where}: 'generator' must be the name of the model that made the image.")
            generator = None
        if truth == REAL and generator:
            problems.append(f"{where}: a real case has no generator; remove 'generator' or set truth: synthetic.")
        if truth == SYNTHETIC and not generator:
            generator = UNSPECIFIED_GENERATOR
        pair = entry.get("pair")
        if isinstance(pair, (int, float)) and not isinstance(pair, bool):
            pair = str(pair)
        if pair is not None and (not isinstance(pair, str) or not pair.strip()):
            problems.append(f"{where}: 'pair' must be a name shared by a real case and its synthetic version(s).")
            pair = None
        window_level = _parse_window_level(entry.get("window_level"), f"{where}: 'window_level'", problems)
        if len(problems) == before and image is not None:
            cases.append(CaseSpec(case_id, image, truth, generator.strip() if generator else None,
                                  pair.strip() if pair else None, window_level))
    pairs: dict[str, list[CaseSpec]] = {}
    for case in cases:
        if case.pair:
            pairs.setdefault(case.pair, []).append(case)
    for name, members in pairs.items():
        truths = {c.truth for c in members}
        if truths != {REAL, SYNTHETIC}:
            problems.append(f"pair '{name}' ({', '.join(c.case_id for c in members)}) must hold a real case "
                            "and at least one synthetic case; fix the 'pair' or 'truth' entries.")
        elif sum(c.truth == REAL for c in members) > 1:
            problems.append(f"pair '{name}' holds more than one real case; a pair is one real case and its "
                            "synthetic version(s).")
    return cases


def _parse_image(raw: Any, base_dir: Path, check: bool, where: str, problems: list[str]) -> Path | None:
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{where}: 'image' is missing; give the path of an image file or DICOM folder.")
        return None
    path = Path(raw.strip()).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    path = Path(os.path.abspath(path))
    if not check:
        return path
    if not path.exists():
        problems.append(f"{where}: image not found: {path} (relative paths are read from the study "
                        f"file's folder {Path(os.path.abspath(base_dir))}). Fix the path or remove the case.")
        return None
    if path.is_file() and not is_image_path(path):
        problems.append(f"{where}: {path.name} is not an image file MedSynth reads ({', '.join(IMAGE_SUFFIXES)}); "
                        "give a NIfTI/NRRD/MHA file or a DICOM series folder.")
        return None
    if path.is_dir() and not any(p.is_file() for p in path.iterdir()):
        problems.append(f"{where}: folder {path} is empty; a folder case must hold one DICOM series.")
        return None
    return path


def _parse_window_level(raw: Any, where: str, problems: list[str]) -> WindowLevel | None:
    if raw is None or (isinstance(raw, str) and raw.strip().lower() == "auto"):
        return None
    if isinstance(raw, str):
        preset = WINDOW_LEVEL_PRESETS.get(raw.strip().upper().replace("-", "_"))
        if preset is None:
            problems.append(f"{where}: unknown preset {raw!r}; use one of {', '.join(WINDOW_LEVEL_PRESETS)}, "
                            "'auto', or {window: W, level: L}.")
            return None
        return WindowLevel(*preset)
    if isinstance(raw, Mapping) and set(raw) == {"window", "level"}:
        window, level = raw["window"], raw["level"]
        if (all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (window, level))
                and window > 0):
            return WindowLevel(float(window), float(level))
    problems.append(f"{where} must be a preset name, 'auto', or {{window: W, level: L}} with W > 0; got {raw!r}.")
    return None


def _parse_readers(raw: Any, problems: list[str]) -> list[Reader]:
    if not isinstance(raw, list):
        problems.append("'readers' must be a list of reader ids (or {id, name} entries).")
        return []
    readers: list[Reader] = []
    for index, entry in enumerate(raw):
        name = None
        if isinstance(entry, Mapping):
            _unknown_keys(entry, ("id", "name"), f"readers[{index}]", problems)
            reader_id, name = entry.get("id"), entry.get("name")
        else:
            reader_id = entry
        if not isinstance(reader_id, str) or not READER_ID_PATTERN.match(reader_id):
            problems.append(f"readers[{index}]: reader id {reader_id!r} must be 1-64 letters, digits, '.', '_' "
                            "or '-', starting with a letter or digit.")
            continue
        if any(r.reader_id == reader_id for r in readers):
            problems.append(f"readers[{index}]: duplicate reader id '{reader_id}'.")
            continue
        readers.append(Reader(reader_id, str(name) if name else None))
    return readers


def _parse_acceptance(raw: Any, questions: Sequence[Question], problems: list[str]) -> list[Criterion]:
    if not isinstance(raw, list):
        problems.append("'acceptance' must be a list of criteria.")
        return []
    likert_ids = {q.question_id for q in questions if q.kind == LIKERT}
    criteria = []
    for index, entry in enumerate(raw):
        where = f"acceptance[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a mapping with a 'type'.")
            continue
        before = len(problems)
        kind = entry.get("type")
        scope = entry.get("scope", "pooled")
        if scope not in SCOPES:
            problems.append(f"{where}: 'scope' must be one of {', '.join(SCOPES)}; got {scope!r}.")
        if kind == ACCURACY_NOT_ABOVE_CHANCE:
            _unknown_keys(entry, ("type", "scope", "alpha"), where, problems)
            alpha = entry.get("alpha", 0.05)
            if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
                problems.append(f"{where}: 'alpha' must be a number between 0 and 1 (e.g. 0.05).")
            if len(problems) == before:
                criteria.append(Criterion(kind, scope, alpha=float(alpha)))
        elif kind in (ACCURACY_BELOW_MARGIN, AUC_BELOW_MARGIN):
            _unknown_keys(entry, ("type", "scope", "margin", "confidence"), where, problems)
            margin, confidence = entry.get("margin", 0.60), entry.get("confidence", 0.95)
            for name, value in (("margin", margin), ("confidence", confidence)):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.5 < value < 1:
                    problems.append(f"{where}: '{name}' must be a number between 0.5 and 1 (e.g. 0.6 / 0.95).")
            if len(problems) == before:
                criteria.append(Criterion(kind, scope, margin=float(margin), confidence=float(confidence)))
        elif kind == THRESHOLD:
            _unknown_keys(entry, ("type", "scope", "metric", "question", "min", "max"), where, problems)
            metric = entry.get("metric")
            if metric not in THRESHOLD_METRICS:
                problems.append(f"{where}: unknown metric {metric!r}; use one of {', '.join(THRESHOLD_METRICS)}.")
            question = entry.get("question")
            if isinstance(metric, str) and metric.startswith("likert_"):
                if question not in likert_ids:
                    problems.append(f"{where}: metric {metric} needs 'question' naming a likert question "
                                    f"({', '.join(sorted(likert_ids)) or 'the study has none'}).")
            elif question is not None:
                problems.append(f"{where}: 'question' applies only to likert_* metrics.")
            if metric == "fleiss_kappa" and scope != "pooled":
                problems.append(f"{where}: fleiss_kappa is an agreement across readers; use scope: pooled.")
            bounds = {k: entry.get(k) for k in ("min", "max") if entry.get(k) is not None}
            if not bounds or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in bounds.values()):
                problems.append(f"{where}: give a numeric 'min' and/or 'max'.")
            if len(problems) == before:
                criteria.append(Criterion(kind, scope, metric=metric, question=question,
                                          minimum=_float_or_none(bounds.get("min")),
                                          maximum=_float_or_none(bounds.get("max"))))
        else:
            problems.append(f"{where}: unknown criterion type {kind!r}; use {ACCURACY_BELOW_MARGIN}, "
                            f"{AUC_BELOW_MARGIN}, {ACCURACY_NOT_ABOVE_CHANCE} or {THRESHOLD}.")
    return criteria


def _unknown_keys(data: Mapping, allowed: Sequence[str], where: str, problems: list[str]) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"
            problems.append(f"{where}: unknown key '{key}'{hint}.")


def _text(data: Mapping, key: str, problems: list[str]) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        problems.append(f"'{key}' must be text.")
        return ""
    return value.strip()


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
