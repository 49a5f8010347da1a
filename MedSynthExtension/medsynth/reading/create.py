"""A study from a folder of real images and one or more folders of synthetic images.

Every image file (NIfTI / NRRD / MHA) and every sub-folder (a DICOM series) of a folder becomes a
case. Case ids are ``real-<name>`` and ``<generator>-<name>``; they stay on the administrator's
side (readers see opaque ids). With ``pair_by_name`` a synthetic image whose name equals a real
image's name, or starts with it followed by ``_``, ``-`` or ``.``, is paired with it, so the two
are never shown one after the other.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping, Sequence

from medsynth.io.images import IMAGE_SUFFIXES
from medsynth.reading.errors import StudyError
from medsynth.reading.questions import Question, default_questions
from medsynth.reading.study import (ACCURACY_BELOW_MARGIN, REAL, SYNTHETIC, CaseSpec, Criterion,
                                    Reader, Study, WindowLevel, parse_study, study_to_dict)


def image_entries(folder: str | os.PathLike) -> list[Path]:
    """Image files and DICOM sub-folders directly in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StudyError(f"Folder not found: {folder}. Give a folder of image files or DICOM series folders.")
    entries = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_file() and path.name.lower().endswith(IMAGE_SUFFIXES):
            entries.append(path)
        elif path.is_dir() and any(p.is_file() for p in path.iterdir()):
            entries.append(path)
    if not entries:
        raise StudyError(f"No images in {folder}: expected NIfTI/NRRD/MHA files ({', '.join(IMAGE_SUFFIXES)}) "
                         "or DICOM series folders.")
    return entries


def image_stem(path: Path) -> str:
    """The name without an image suffix (``a.nii.gz`` -> ``a``)."""
    name = path.name
    for suffix in IMAGE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def study_from_folders(real_dir: str | os.PathLike, synthetic_dirs: Mapping[str, str | os.PathLike], *,
                       study_id: str = "reader-study", title: str = "", readers: Sequence[str] = (),
                       seed: int | None = None, window_level: WindowLevel | None = None,
                       allow_revisit: bool = False, pair_by_name: bool = False,
                       questions: Sequence[Question] | None = None,
                       acceptance: Sequence[Criterion] | None = None) -> Study:
    """Build (and validate) a study; ``synthetic_dirs`` maps generator name -> folder.

    Defaults: the usual questions (real/synthetic + confidence, realism 1–5, comments, artefact
    marks), acceptance "upper 95 % bound of pooled accuracy below 60 %" (cases and readers random),
    and a random
    seed that is recorded in the study.
    """
    if not synthetic_dirs:
        raise StudyError("Give at least one folder of synthetic images.")
    real = image_entries(real_dir)
    real_by_stem = {image_stem(p): p for p in real}
    pairs: dict[str, str] = {}  # real stem -> pair name
    cases: list[CaseSpec] = [CaseSpec(f"real-{image_stem(p)}", p.resolve(), REAL) for p in real]
    for generator, folder in synthetic_dirs.items():
        for path in image_entries(folder):
            stem = image_stem(path)
            pair = None
            if pair_by_name:
                match = _matching_real(stem, real_by_stem)
                if match:
                    pair = pairs.setdefault(match, f"pair-{match}")
            cases.append(CaseSpec(f"{generator}-{stem}", path.resolve(), SYNTHETIC, generator, pair))
    paired_reals = set(pairs)
    cases = [CaseSpec(c.case_id, c.image, c.truth, c.generator,
                      f"pair-{image_stem(c.image)}" if c.truth == REAL and image_stem(c.image) in paired_reals else c.pair,
                      c.window_level) for c in cases]
    study = Study(study_id=study_id, title=title, cases=tuple(cases),
                  questions=tuple(questions or default_questions()),
                  readers=tuple(Reader(r) for r in readers),
                  acceptance=tuple(acceptance if acceptance is not None
                                   else (Criterion(ACCURACY_BELOW_MARGIN, "pooled"),)),
                  seed=seed if seed is not None else secrets.randbelow(2**62), allow_revisit=allow_revisit,
                  default_window_level=window_level)
    # One validation path for every study: round-trip through the file form.
    return parse_study(study_to_dict(study), source=f"study from {real_dir}")


def _matching_real(stem: str, real_by_stem: Mapping[str, Path]) -> str | None:
    if stem in real_by_stem:
        return stem
    candidates = [r for r in real_by_stem if len(stem) > len(r) and stem.startswith(r) and stem[len(r)] in "_-."]
    return max(candidates, key=len) if candidates else None
