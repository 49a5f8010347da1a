"""What a batch task is: its parameters, its run function and what one case produces.

A *batch task* adapts one of MedSynth's single-image tasks (synthetic CT, anomaly map, future
MRI, or running any installed model) to cohort processing. The batch engine (cases, manifest,
serial/Dask execution) knows nothing about any particular task; everything task-specific is in
one :class:`BatchTask` entry of :data:`medsynth.batch.tasks.BATCH_TASKS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.models.card import ModelCard
from medsynth.models.registry import ModelEntry

ProgressCallback = Callable[[float], None]
CancelCheck = Callable[[], bool]

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}


@dataclass(frozen=True)
class TaskParameter:
    """One per-case parameter: a CSV column (same name, any case) or ``--param name=value``.

    ``kind``: ``number`` (float, within ``range`` when given), ``integer``, ``category`` (one of ``choices``),
    ``flag`` (yes/no), ``path`` (a file; relative paths are taken from the params CSV's folder)
    or ``text``. A required parameter without a value fails that case, not the batch.
    """

    name: str
    kind: str
    help: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    range: tuple[float, float] | None = None

    def parse(self, raw: Any, base_folder: Path | None = None) -> Any:
        """The typed value of ``raw`` (a CSV cell, a command-line string or a Python value)."""
        if self.kind == "number":
            return self._number(raw)
        if self.kind == "integer":
            number = self._number(raw)
            if not number.is_integer():
                raise InputError(f"{self.name} must be a whole number, got {raw!r}.")
            return int(number)
        if self.kind == "flag":
            return self._flag(raw)
        if self.kind == "category":
            value = str(raw).strip()
            matches = [choice for choice in self.choices if choice.lower() == value.lower()]
            if not matches:
                raise InputError(f"'{raw}' is not a valid {self.name}; choose one of {list(self.choices)}.")
            return matches[0]
        if self.kind == "path":
            path = Path(str(raw).strip()).expanduser()
            if not path.is_absolute() and base_folder is not None:
                path = base_folder / path
            if not path.exists():
                raise InputError(f"{self.name}: {path} does not exist.")
            return path.resolve()
        return str(raw).strip()

    def _number(self, raw: Any) -> float:
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise InputError(f"{self.name} must be a number, got {raw!r}.") from None
        if not math.isfinite(number):
            raise InputError(f"{self.name} must be a finite number, got {raw!r}.")
        if self.range is not None and not self.range[0] <= number <= self.range[1]:
            raise InputError(f"{self.name} = {raw} is outside {self.range[0]:g}–{self.range[1]:g}.")
        return number

    def _flag(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise InputError(f"{self.name} must be yes or no, got {raw!r}.")

    def describe(self) -> str:
        """One line for ``--help``: name, kind, whether required, default."""
        kind = f"one of {'/'.join(self.choices)}" if self.choices else self.kind
        default = ("yes" if self.default else "no") if isinstance(self.default, bool) else self.default
        extra = "required" if self.required else (f"default {default}" if default is not None else "optional")
        return f"{self.name} ({kind}, {extra}): {self.help}"


@dataclass
class TaskOutput:
    """What one case produced: images by output suffix (``sct``, ``heatmap``), side files by
    file suffix (``findings.json``, ``volumes.csv``) as bytes, and the outside-the-domain stamp of
    the run (None inside the model's validated domain), which every output file then carries."""

    images: dict[str, sitk.Image]
    side_files: dict[str, bytes] = field(default_factory=dict)
    outside_domain: str | None = None


#: ``run(image, params, model_handle, progress, cancelled) -> TaskOutput``.
RunFunction = Callable[[sitk.Image, Mapping[str, Any], Any, ProgressCallback | None, CancelCheck | None], TaskOutput]
#: ``load(entry, threads) -> model handle`` (loaded once per process, cached by the batch engine).
LoadFunction = Callable[[ModelEntry, int], Any]
#: ``parameters(card) -> parameters`` (they may depend on the model, e.g. its conditioning inputs;
#: with None, those that do not, for help texts).
ParametersFunction = Callable[[ModelCard | None], tuple[TaskParameter, ...]]


@dataclass(frozen=True)
class BatchTask:
    """A task the batch engine can map over cases.

    ``model_task`` is the card task its models must have (None: any model). ``run`` must not
    modify ``image`` and must be deterministic for a given input, parameters and model, so that
    serial and distributed runs write identical files.
    """

    name: str
    description: str
    model_task: str | None
    parameters: ParametersFunction
    run: RunFunction
    load: LoadFunction


def check_parameter_names(parameters: tuple[TaskParameter, ...], given: Mapping[str, Any], task: str) -> None:
    """Refuse batch-wide parameters the task does not take (a typo must not be silently ignored)."""
    known = {parameter.name for parameter in parameters}
    unknown = sorted(set(given) - known)
    if unknown:
        raise InputError(f"Task {task} does not take the parameter(s) {unknown}; it takes "
                         f"{sorted(known) or 'none'} (see 'medsynth batch --help').")


def resolve_parameters(parameters: tuple[TaskParameter, ...], row: Mapping[str, str] | None,
                       common: Mapping[str, Any], row_folder: Path | None = None) -> dict[str, Any]:
    """Typed values of one case's parameters: its CSV ``row`` first, then the batch-wide ``common``
    values, then defaults. Raises :class:`InputError` naming the parameter and where to give it."""
    values: dict[str, Any] = {}
    for parameter in parameters:
        if row is not None and parameter.name in row:
            try:
                values[parameter.name] = parameter.parse(row[parameter.name], row_folder)
            except InputError as exc:
                raise InputError(f"In the parameters CSV: {exc}") from None
        elif parameter.name in common:
            values[parameter.name] = parameter.parse(common[parameter.name])
        elif parameter.required:
            raise InputError(f"Missing required parameter '{parameter.name}' ({parameter.help}): add a "
                             f"'{parameter.name}' column to the parameters CSV or pass --param {parameter.name}=VALUE.")
        elif parameter.default is not None:
            values[parameter.name] = parameter.default
    return values
