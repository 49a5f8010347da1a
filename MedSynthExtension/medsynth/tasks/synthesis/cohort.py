"""``medsynth synthesize cohort``: N labelled cases with chosen factors, resumable, optionally on Dask.

Layout of the output folder::

    images/caseNNNNN.nii.gz   synthetic slice (× brain median; NIfTI description "SYNTHETIC ...")
    labels/caseNNNNN.nii.gz   lesion label map (1 = lesion)
    rows/caseNNNNN.json       the case's manifest row (written last: its presence means the case is done)
    manifest.csv              one row per case: image, label, every factor value, what was measured
    provenance.json           model, request, engine; synthetic = true

A re-run with the same request skips the cases whose row, image and label exist and whose
fingerprint (request + model weights + case number) matches; the manifest is rebuilt from the rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from medsynth.errors import InputError
from medsynth.io import read_image, write_image, write_text_atomic
from medsynth.models.registry import ModelEntry, ModelRegistry
from medsynth.provenance import ATTRIBUTE_PREFIX, Provenance
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.tasks.synthesis.anatomy import AnatomySource, find_anatomy, load_healthy
from medsynth.tasks.synthesis.appearance import LearnedAppearance, ProceduralAppearance
from medsynth.tasks.synthesis.compose import synthesize_case
from medsynth.tasks.synthesis.factors import factor_space, parse_factor_options, sample_factors
from medsynth.tasks.synthesis.grid import slice_image
from medsynth.tasks.synthesis.shapes import load_shapes

TASK = "synthesis"
APPEARANCES = ("learned", "procedural")
MANIFEST_NAME = "manifest.csv"
PROVENANCE_NAME = "provenance.json"
SYNTHETIC_NOTE = "SYNTHETIC image (MedSynth synthesis)"


@dataclass(frozen=True)
class CohortRequest:
    """What to make. ``model`` is a synthesis model id (None: the installed default); it is
    needed for the learned appearance and supplies the factor ranges it was trained for."""

    out: Path
    n: int
    anatomy_images: Path
    anatomy_labels: Path
    lesions: Path
    factors: tuple[str, ...] = ()
    seed: int = 0
    model: str | None = None
    appearance: str = "learned"


@dataclass(frozen=True)
class CaseJob:
    """One case to make, self-contained so that a Dask worker can run it."""

    index: int
    out: Path
    values: dict
    source: AnatomySource
    lesions: Path
    appearance: str
    seed: int
    fingerprint: str
    entry: ModelEntry | None = field(default=None, compare=False)
    provenance: dict = field(default_factory=dict, compare=False)

    @property
    def case_id(self) -> str:
        return f"case{self.index:05d}"


def plan_cohort(request: CohortRequest, registry: ModelRegistry | None = None) -> tuple[list[CaseJob], Provenance]:
    """The jobs of a cohort and its provenance (nothing is written)."""
    if request.n < 1:
        raise InputError(f"--n must be at least 1, got {request.n}.")
    if request.appearance not in APPEARANCES:
        raise InputError(f"appearance must be one of {APPEARANCES}, got {request.appearance!r}.")
    entry = (registry or ModelRegistry.default()).find(request.model, task=TASK) \
        if request.appearance == "learned" or request.model else None
    if entry is not None and entry.card.task != TASK:
        raise InputError(f"Model {entry.card.id} is a '{entry.card.task}' model, not a synthesis model.")
    sources = {source.name: source for source in find_anatomy(request.anatomy_images, request.anatomy_labels)}
    space = parse_factor_options(request.factors, factor_space(sorted(sources), **model_limits(entry)))
    type_contrast = type_contrast_of(entry)
    provenance = Provenance(
        model_id=entry.card.id if entry else "procedural-implant", model_version=entry.card.version if entry else "",
        model_sha256=entry.card.weights_sha256 if entry else "", task=TASK,
        parameters={"n": request.n, "seed": request.seed, "factors": list(request.factors),
                    "appearance": request.appearance, "anatomy": str(request.anatomy_images),
                    "lesions": str(request.lesions)},
        input_description=f"healthy anatomy {request.anatomy_images}; lesion shapes {request.lesions}")
    decisive = {k: v for k, v in provenance.parameters.items() if k != "n"}  # case i does not depend on n
    base = json.dumps({**decisive, "sha": provenance.model_sha256}, sort_keys=True)
    jobs = []
    for index in range(request.n):
        values = sample_factors(space, request.seed, index, **({"type_contrast": type_contrast} if type_contrast else {}))
        fingerprint = hashlib.sha256(f"{base}|{index}".encode()).hexdigest()[:16]
        jobs.append(CaseJob(index, Path(request.out), values, sources[values["anatomy"]], Path(request.lesions),
                            request.appearance, request.seed, fingerprint, entry, provenance.to_dict()))
    return jobs, provenance


def model_limits(entry: ModelEntry | None) -> dict:
    """The factor limits a model supports (its conditioning ranges and card "factors" block)."""
    if entry is None:
        return {}
    contrast = next(c.range for c in entry.card.conditions if c.name == "lesion_contrast")
    return {"contrast_limits": tuple(contrast),
            "max_volume_ml": float(entry.card.raw.get("factors", {}).get("max_lesion_volume_ml", 60.0))}


def type_contrast_of(entry: ModelEntry | None) -> dict | None:
    """The lesion_contrast range typical of each lesion type, from the model's card (None: defaults)."""
    ranges = entry.card.raw.get("factors", {}).get("lesion_contrast_by_type", {}) if entry else {}
    return {name: tuple(values) for name, values in ranges.items()} or None


def is_done(job: CaseJob) -> bool:
    row_path = job.out / "rows" / f"{job.case_id}.json"
    if not row_path.is_file():
        return False
    row = json.loads(row_path.read_text(encoding="utf-8"))
    return row.get("fingerprint") == job.fingerprint and all((job.out / row[k]).is_file() for k in ("image", "label"))


@lru_cache(maxsize=2)
def _painter(appearance: str, entry: ModelEntry | None):
    if appearance == "procedural":
        return ProceduralAppearance()
    return LearnedAppearance(OnnxGenerator(entry, threads=1))


def make_case(job: CaseJob) -> dict:
    """Make, write and return the manifest row of one case (runs in any process)."""
    case = synthesize_case(load_healthy(job.source), load_shapes(job.lesions), _painter(job.appearance, job.entry),
                           job.values, job.seed, job.index)
    attributes = Provenance(**{**job.provenance, "parameters": {**job.provenance["parameters"], "case": job.case_id,
                                                                  "factors": job.values}}).as_attributes()
    attributes.pop(ATTRIBUTE_PREFIX + "Created")
    written = {}
    for kind, array, dtype in (("image", case.image, np.float32), ("label", case.label, np.uint8)):
        image = slice_image(array, case.origin_mm, dtype)
        for key, value in attributes.items():
            image.SetMetaData(key, value)
        image.SetMetaData("ITK_FileNotes", f"{SYNTHETIC_NOTE} {job.case_id}")
        relative = f"{kind}s/{job.case_id}.nii.gz"
        write_image(image, job.out / relative)
        written[kind] = relative
    row = {"case": job.case_id, **written, **job.values, **case.measured, "appearance": job.appearance,
           "synthetic": "yes", "fingerprint": job.fingerprint}
    write_text_atomic(job.out / "rows" / f"{job.case_id}.json", json.dumps(row, default=str) + "\n")
    return row


def write_cohort(request: CohortRequest, workers: int | None = None, scheduler: str | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 registry: ModelRegistry | None = None) -> Path:
    """Make every case not already done, then write ``manifest.csv`` and ``provenance.json``."""
    jobs, provenance = plan_cohort(request, registry)
    load_shapes(Path(request.lesions))  # fail early on a bad shape folder
    todo = [job for job in jobs if not is_done(job)]
    if workers or scheduler:
        from medsynth.batch.dask_run import dask_client

        with dask_client(workers, scheduler) as client:
            client.gather(client.map(make_case, todo, pure=False))
    else:
        for count, job in enumerate(todo, start=1):
            make_case(job)
            if progress:
                progress(count, len(todo))
    rows = [json.loads((request.out / "rows" / f"{job.case_id}.json").read_text(encoding="utf-8")) for job in jobs]
    write_text_atomic(Path(request.out) / MANIFEST_NAME, manifest_text(rows))
    write_text_atomic(Path(request.out) / PROVENANCE_NAME, provenance.to_json() + "\n")
    return Path(request.out) / MANIFEST_NAME


def manifest_text(rows: Sequence[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[k for k in rows[0] if k != "fingerprint"], extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_manifest(folder: Path) -> list[dict]:
    """The rows of a cohort's manifest (strings, as written)."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise InputError(f"{folder} has no {MANIFEST_NAME}; make a cohort with 'medsynth synthesize cohort'.")
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_case_arrays(folder: Path, row: dict) -> tuple[np.ndarray, np.ndarray]:
    """(image, label) 2D arrays of one manifest row."""
    import SimpleITK as sitk

    return (sitk.GetArrayFromImage(read_image(Path(folder) / row["image"]))[0],
            sitk.GetArrayFromImage(read_image(Path(folder) / row["label"]))[0])
