"""SHA-256 checks that keep a tampered or truncated weights file from ever running."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from medsynth.errors import ModelError


def sha256_of(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks (weights can be hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: str | os.PathLike, expected: str) -> None:
    """Raise :class:`ModelError` naming ``path`` when it is missing or its hash is not ``expected``."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Model weights file is missing: {path}. Reinstall or re-import the model.")
    actual = sha256_of(path)
    if actual != expected:
        raise ModelError(
            f"Model weights file {path} does not match its card (sha256 {actual[:12]}… instead of "
            f"{expected[:12]}…): it was modified or corrupted. Refusing to run it; reinstall the model."
        )
