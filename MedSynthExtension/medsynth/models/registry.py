"""Find installed models: built-in, the user's folder, and folders named by an environment variable.

A model is a folder holding ``card.json`` and the ONNX file the card names. Precedence, first
match wins: ``$MEDSYNTH_MODELS_PATH`` folders (in the order listed), the user folder
(``$MEDSYNTH_HOME/models``, default ``~/.medsynth/models``), then the models shipped with the
package. A folder with a broken card is reported in :attr:`ModelRegistry.problems` instead of
hiding every other model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, replace as with_fields
from pathlib import Path, PurePosixPath
from typing import Iterable, Sequence

from medsynth.errors import ModelError
from medsynth.models.card import CARD_FILE_NAME, ModelCard, load_card
from medsynth.models.integrity import verify_sha256

MODELS_PATH_ENV = "MEDSYNTH_MODELS_PATH"
HOME_ENV = "MEDSYNTH_HOME"
BUILTIN_MODELS_DIR = Path(__file__).with_name("builtin")


def user_models_dir() -> Path:
    """The folder ``medsynth models import`` installs into."""
    home = os.environ.get(HOME_ENV) or Path.home() / ".medsynth"
    return Path(home) / "models"


@dataclass(frozen=True)
class ModelEntry:
    """An installed model: its card, its folder, and where it was found."""

    card: ModelCard
    folder: Path
    source: str
    #: Sources of other copies with the same id that this one hides (it comes first in precedence).
    shadows: tuple[str, ...] = ()
    #: Zip members left out at import (anything but the card and its weights), reported to the user.
    ignored_members: tuple[str, ...] = ()

    @property
    def weights_path(self) -> Path:
        return self.folder / self.card.weights_file

    def verify(self) -> None:
        """Check the weights against the card's sha256 (raises :class:`ModelError`)."""
        verify_sha256(self.weights_path, self.card.weights_sha256)


class ModelRegistry:
    """The models visible from a list of ``(source label, folder)`` pairs, in precedence order."""

    def __init__(self, search_folders: Sequence[tuple[str, Path]]):
        self.search_folders = [(label, Path(folder)) for label, folder in search_folders]
        self.problems: list[str] = []

    @classmethod
    def default(cls) -> "ModelRegistry":
        """Environment-variable folders, then the user folder, then the built-in models."""
        env_folders = [("env", Path(p)) for p in os.environ.get(MODELS_PATH_ENV, "").split(os.pathsep) if p]
        return cls(env_folders + [("user", user_models_dir()), ("built-in", BUILTIN_MODELS_DIR)])

    def entries(self, task: str | None = None) -> list[ModelEntry]:
        """Every visible model (one per id, the first found wins), optionally of one task."""
        self.problems = []
        seen: dict[str, ModelEntry] = {}
        for label, root in self.search_folders:
            for folder in _model_folders(root):
                try:
                    card = load_card(folder / CARD_FILE_NAME)
                except ModelError as exc:
                    self.problems.append(str(exc))
                    continue
                if card.id in seen:
                    first = seen[card.id]
                    seen[card.id] = with_fields(first, shadows=first.shadows + (f"{label} ({folder})",))
                else:
                    seen[card.id] = ModelEntry(card, folder, label)
        found = sorted(seen.values(), key=lambda entry: entry.card.id)
        return [entry for entry in found if task is None or entry.card.task == task]

    def find(self, model_id: str | None = None, task: str | None = None) -> ModelEntry:
        """The model ``model_id``; or, with only ``task``, the single/first model for that task."""
        candidates = self.entries(task)
        if model_id is None:
            if not candidates:
                raise ModelError(f"No model for task '{task}' is installed. Import one with 'medsynth models import'.")
            return candidates[0]
        for entry in candidates:
            if entry.card.id == model_id:
                return entry
        known = ", ".join(entry.card.id for entry in candidates) or "none"
        raise ModelError(f"No model '{model_id}'{f' for task {task}' if task else ''} is installed (available: {known}).")

    def import_zip(self, zip_path: str | os.PathLike, replace: bool = False,
                   destination_root: Path | None = None) -> ModelEntry:
        """Install a model from a zip holding ``card.json`` and its ONNX file into the user folder.

        The card is validated and the weights' sha256 checked before anything is installed; the
        model folder appears atomically. An installed model of the same id, wherever it is (a built-in
        one included, which the user copy would otherwise shadow silently), is kept unless
        ``replace`` is true. The ONNX file is loaded once to prove it runs.
        """
        zip_path = Path(zip_path)
        destination_root = Path(destination_root or user_models_dir())
        destination_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=destination_root, prefix=".import-") as staging:
            staging_dir = Path(staging) / "model"
            card, ignored = _extract_model(zip_path, staging_dir)
            target = destination_root / card.id
            installed = {entry.card.id: entry for entry in self.entries()}
            if card.id in installed and not replace:
                other = installed[card.id]
                raise ModelError(f"A model with id '{card.id}' is already installed ({other.source}, {other.folder}). "
                                 "Use --replace to install this one in its place"
                                 + (" (it will then take precedence over the built-in one)." if other.source == "built-in"
                                    else "."))
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging_dir, target)
        return ModelEntry(load_card(target / CARD_FILE_NAME), target, "user", ignored_members=ignored)


def _model_folders(root: Path) -> Iterable[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and (p / CARD_FILE_NAME).is_file())


def _extract_model(zip_path: Path, staging_dir: Path) -> tuple[ModelCard, tuple[str, ...]]:
    """Extract only the card and the weights it names (never arbitrary paths), verify and load them.

    Returns the card and the names of the members left out, so that a zip carrying ``../`` paths or
    extra files is reported rather than silently trimmed.
    """
    if not zip_path.is_file():
        raise ModelError(f"Model archive not found: {zip_path}.")
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise ModelError(f"{zip_path} is not a zip archive. A model archive holds card.json and the .onnx file.") from None
    with archive:
        members = {PurePosixPath(name): name for name in archive.namelist() if not name.endswith("/")}
        cards = [path for path in members if path.name == CARD_FILE_NAME]
        if len(cards) != 1:
            raise ModelError(f"{zip_path} must hold exactly one {CARD_FILE_NAME}, found {len(cards)}.")
        staging_dir.mkdir(parents=True)
        (staging_dir / CARD_FILE_NAME).write_bytes(archive.read(members[cards[0]]))
        card = load_card(staging_dir / CARD_FILE_NAME)
        weights = cards[0].parent / card.weights_file
        if weights not in members:
            raise ModelError(f"{zip_path} has no {weights} although its card names it.")
        with archive.open(members[weights]) as source, open(staging_dir / card.weights_file, "wb") as target:
            shutil.copyfileobj(source, target)
        ignored = tuple(sorted(name for path, name in members.items() if path not in (cards[0], weights)))
    verify_sha256(staging_dir / card.weights_file, card.weights_sha256)
    _check_loads(zip_path, staging_dir / card.weights_file)
    return card, ignored


def _check_loads(zip_path: Path, weights: Path) -> None:
    """Open the ONNX file in onnxruntime once: a corrupt model whose sha256 matches its card fails here, not mid-run."""
    if weights.suffix.lower() != ".onnx":
        return
    import onnxruntime

    try:
        onnxruntime.InferenceSession(str(weights), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for every kind of bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{zip_path}: the model {weights.name} does not load in onnxruntime ({first[:200]}).") from None
