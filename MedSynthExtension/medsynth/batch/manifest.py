"""The results CSV of a batch: one row per case, what a re-run needs to skip finished work.

Each row holds the case's status (``done``, ``skipped``, ``failed`` or ``pending``), its outputs,
its error, and a *fingerprint*: a hash of everything that decides the outputs (task, model id,
version and weights sha256, the case's parameters, the input's files, the output format). A
re-run skips a case only when its fingerprint is unchanged, it finished before, and every output
it listed still exists. The file is rewritten atomically after every case, so a crash or a
killed job loses at most the cases that were running.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from medsynth.batch.cases import input_signature
from medsynth.errors import InputError
from medsynth.io import write_text_atomic
from medsynth.models.registry import ModelEntry

RESULTS_FILE_NAME = "results.csv"
DONE, SKIPPED, FAILED, PENDING = "done", "skipped", "failed", "pending"
#: Statuses whose outputs a later run may reuse.
FINISHED = (DONE, SKIPPED)
#: Separator of output file names in the ``outputs`` column.
OUTPUT_SEPARATOR = ";"


@dataclass(frozen=True)
class CaseResult:
    """One case's row of the results CSV. ``outputs`` are file names inside the output folder.

    ``worker`` (``host:pid``) and ``threads`` (onnxruntime threads) say where and how it ran.
    ``model_loaded`` (not written to the CSV) is true when this case loaded the model into its
    process, i.e. it was the first case of its worker.
    """

    case_id: str
    status: str
    input: str
    fingerprint: str
    model_id: str = ""
    model_version: str = ""
    model_sha256: str = ""
    parameters: str = "{}"
    outputs: tuple[str, ...] = ()
    error: str = ""
    seconds: float = 0.0
    worker: str = ""
    threads: int = 0
    finished_utc: str = ""
    model_loaded: bool = False

    def to_row(self) -> dict[str, str]:
        row = {name: getattr(self, name) for name in COLUMNS}
        row["outputs"] = OUTPUT_SEPARATOR.join(self.outputs)
        row["seconds"] = f"{self.seconds:.3f}"
        return {key: str(value) for key, value in row.items()}

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> "CaseResult":
        values: dict[str, Any] = {name: row.get(name) or "" for name in COLUMNS}
        values["outputs"] = tuple(name for name in values["outputs"].split(OUTPUT_SEPARATOR) if name)
        values["seconds"] = _number(values["seconds"], float)
        values["threads"] = _number(values["threads"], int)
        return cls(**values)


#: Column order of the results CSV.
COLUMNS = ("case_id", "status", "input", "outputs", "error", "seconds", "model_id", "model_version",
           "model_sha256", "parameters", "fingerprint", "worker", "threads", "finished_utc")


def _number(text: str, kind: type) -> Any:
    try:
        return kind(text or 0)
    except ValueError:
        return kind(0)


def parameters_json(parameters: Mapping[str, Any]) -> str:
    """Parameters as canonical JSON (sorted keys, paths as strings): stable across runs and machines."""
    return json.dumps({key: _plain(value) for key, value in parameters.items()}, sort_keys=True)


def fingerprint(task: str, entry: ModelEntry, parameters: Mapping[str, Any], input_path: Path,
                output_format: str) -> str:
    """Hash of everything that decides a case's outputs (see module docstring)."""
    signature = {
        "task": task,
        "model": [entry.card.id, entry.card.version, entry.card.weights_sha256],
        "parameters": parameters_json(parameters),
        "parameter_files": {key: input_signature(value) for key, value in sorted(parameters.items())
                            if isinstance(value, Path)},
        "input": input_signature(input_path),
        "format": output_format,
    }
    return hashlib.sha256(json.dumps(signature, sort_keys=True).encode()).hexdigest()[:32]


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, os.PathLike) else value


class ResultsTable:
    """The results CSV of one output folder, kept in memory and written after every change."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.rows: dict[str, CaseResult] = _read(self.path) if self.path.exists() else {}

    def reusable(self, case_id: str, case_fingerprint: str, output_dir: Path) -> CaseResult | None:
        """The earlier result of ``case_id`` if it can stand for this run (see module docstring)."""
        previous = self.rows.get(case_id)
        if previous is None or previous.status not in FINISHED or previous.fingerprint != case_fingerprint:
            return None
        if not previous.outputs or not all((output_dir / name).is_file() for name in previous.outputs):
            return None
        return previous

    def record(self, results: Iterable[CaseResult]) -> None:
        """Set the rows of ``results`` (other cases' rows are kept) and rewrite the file atomically."""
        for result in results:
            self.rows[result.case_id] = result
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(result.to_row() for result in self.rows.values())
        write_text_atomic(self.path, buffer.getvalue())


def _read(path: Path) -> dict[str, CaseResult]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not {"case_id", "status", "fingerprint"} <= set(reader.fieldnames or ()):
                raise InputError(f"{path} exists but is not a MedSynth batch results file. Choose another output "
                                 "folder, or move that file away.")
            results = [CaseResult.from_row(row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"Cannot read the results file {path} ({exc}); move it away to start afresh.") from None
    return {result.case_id: result for result in results}


def as_skipped(previous: CaseResult) -> CaseResult:
    """The row of a case reused from an earlier run."""
    return dataclasses.replace(previous, status=SKIPPED, model_loaded=False)
