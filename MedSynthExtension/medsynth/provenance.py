"""Provenance records: which model, with which parameters, made a synthetic image, and when."""

from __future__ import annotations

import datetime as _dt
import json
import platform
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from medsynth import __version__

#: Prefix of every node attribute / metadata key MedSynth writes.
ATTRIBUTE_PREFIX = "MedSynth."


@dataclass(frozen=True)
class Provenance:
    """Enough to reproduce or audit a result. ``synthetic`` is always true for generated images."""

    model_id: str
    model_version: str
    model_sha256: str
    task: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    input_description: str = ""
    engine_version: str = __version__
    created_utc: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    runtime: str = field(default_factory=lambda: f"python {platform.python_version()}")
    synthetic: bool = True
    #: None inside the model's validated domain, else the stamp "outside the validated domain: …"
    #: (:class:`medsynth.domain.DomainCheck`), carried onto every output of the run.
    outside_domain: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)

    def as_attributes(self) -> dict[str, str]:
        """Flat ``MedSynth.*`` string attributes for MRML nodes and image metadata."""
        values = {
            "Synthetic": "YES" if self.synthetic else "NO",
            "ModelId": self.model_id,
            "ModelVersion": self.model_version,
            "ModelSHA256": self.model_sha256,
            "Task": self.task,
            "Parameters": json.dumps(dict(self.parameters), sort_keys=True, default=str, ensure_ascii=False),
            "Input": self.input_description,
            "EngineVersion": self.engine_version,
            "Created": self.created_utc,
        }
        if self.outside_domain:
            values["OutsideDomain"] = self.outside_domain
        return {ATTRIBUTE_PREFIX + key: value for key, value in values.items()}
