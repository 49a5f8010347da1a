"""Blinding tested the way an adversary would attack it: a classifier on file-level features.

Real scans are written the way scanners write them (int16, integer values, gzip); synthetic ones
the way generators do (float32, fractional values, header text, another compression level). The
*content* of both comes from one random process, so every difference an adversary can find is in
the representation, which is exactly what blinding must remove. Content differences (a generator
that blurs) are the readers' job to spot and are not what this test is about.

Criterion: a random forest on the features of the blinded files, 5-fold cross-validated, has
accuracy <= 0.6 and its 95 % Wilson interval contains 0.5; the same classifier on the source files
(positive control) has accuracy >= 0.9.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score

from medsynth.reading import build_session, read_key, study_from_folders
from medsynth.reading.statistics import wilson_interval

#: Enough files that chance accuracy (sd ~ 0.035 at n = 200) stays well below the 0.6 line: a smaller study
#: would make the test flaky rather than strict.
N_PER_CLASS = 100
SHAPE = (8, 14, 14)


def _scan_like(rng: np.random.Generator) -> np.ndarray:
    """A smooth random volume in MR-like units (0..~1000)."""
    noise = sitk.GetImageFromArray(rng.normal(0, 1, SHAPE).astype(np.float32))
    smooth = sitk.GetArrayFromImage(sitk.SmoothingRecursiveGaussian(noise, 1.5)).astype(np.float64)
    smooth = (smooth - smooth.min()) / (np.ptp(smooth) or 1.0)
    return smooth * rng.uniform(600, 1200) + rng.uniform(0, 50)


def _write(array: np.ndarray, path: Path, pixel, notes: str | None, compress_level: int | None) -> None:
    image = sitk.GetImageFromArray(array.astype(pixel))
    image.SetSpacing((1.0, 1.0, 2.0))
    if notes:
        image.SetMetaData("ITK_FileNotes", notes)
    raw = path.with_suffix("")  # .nii
    sitk.WriteImage(image, str(raw), False)
    if compress_level is None:
        raw.rename(path.with_name(raw.name))
        return
    with gzip.open(path, "wb", compresslevel=compress_level) as out:
        out.write(raw.read_bytes())
    raw.unlink()


@pytest.fixture(scope="module")
def adversary_folders(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("adversary")
    real, synth = root / "real", root / "synthetic"
    real.mkdir()
    synth.mkdir()
    rng = np.random.default_rng(2026)
    for index in range(N_PER_CLASS):
        _write(np.rint(_scan_like(rng)), real / f"s{index:02d}.nii.gz", np.int16, None, 6)
        _write(_scan_like(rng), synth / f"s{index:02d}.nii.gz", np.float32, "generator v2 output", 1)
    return real, synth


def file_features(path: Path) -> list[float]:
    """What an adversary reads off a file without looking at the picture."""
    data = path.read_bytes()
    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    image = sitk.ReadImage(str(path))
    values = sitk.GetArrayFromImage(image).astype(np.float64).ravel()
    header = np.frombuffer(raw[:352], dtype=np.uint8).astype(float)
    return [float(image.GetPixelID()), float(np.mean(values == np.rint(values))), float(np.unique(values).size),
            float(len(data)), float(len(zlib.compress(raw, 6))), float(values.min()), float(values.max()),
            *header]


def _cv_accuracy(features: list[list[float]], labels: list[int]) -> float:
    classifier = RandomForestClassifier(n_estimators=200, random_state=0)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    return float(np.mean(cross_val_score(classifier, np.array(features), np.array(labels), cv=folds)))


def test_file_level_classifier_is_at_chance_on_blinded_files(adversary_folders, tmp_path):
    real, synth = adversary_folders
    study = study_from_folders(real, {"gen": synth}, study_id="adversary", readers=["r1"], seed=5)
    built = build_session(study, tmp_path / "session")
    key = read_key(built.key_path)
    images = built.session_dir / "images"

    source_x, blinded_x, labels = [], [], []
    # in source order: the opaque ids are random, and the folds must not depend on them
    for opaque, entry in sorted(key.entries.items(), key=lambda item: str(item[1].source_image)):
        labels.append(int(entry.truth == "synthetic"))
        source_x.append(file_features(Path(entry.source_image)))
        blinded_x.append(file_features(images / f"{opaque}.nii"))
    n = len(labels)
    assert n == 2 * N_PER_CLASS and sum(labels) == N_PER_CLASS

    source_accuracy = _cv_accuracy(source_x, labels)
    assert source_accuracy >= 0.9, f"positive control: the source files should be told apart ({source_accuracy:.2f})"

    accuracy = _cv_accuracy(blinded_x, labels)
    low, high = wilson_interval(round(accuracy * n), n)
    print(f"adversary accuracy: source files {source_accuracy:.3f}, blinded files {accuracy:.3f} "
          f"(95% CI {low:.3f}-{high:.3f}, n={n})")
    assert accuracy <= 0.6 and low <= 0.5 <= high, f"blinded files told apart: accuracy {accuracy:.3f}"
