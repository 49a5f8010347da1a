"""Atomic writes: a file either appears whole under its final name or not at all.

Writers produce a temporary file in the destination folder (same file system) and rename it
into place with ``os.replace``, so a crash or a cancelled job never leaves a half-written output
that a later run or a planning system could mistake for a result.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(destination: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``destination``; move it into place if the block succeeds.

    ``suffix`` defaults to the destination's full suffix (``.nii.gz``), because writers such as
    SimpleITK choose the file format from the name.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if suffix is None:
        suffix = "".join(destination.suffixes) or ".tmp"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=suffix, dir=destination.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; results must follow the umask like any file
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, destination)
    finally:
        if tmp.exists():
            tmp.unlink()


def current_umask() -> int:
    """The process umask, read without changing it where /proc allows (os.umask can only set it)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(destination: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``destination`` atomically and return the destination path."""
    with atomic_path(destination) as tmp:
        tmp.write_bytes(data)
    return Path(destination)


def write_text_atomic(destination: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``destination`` atomically and return the destination path."""
    return write_bytes_atomic(destination, text.encode("utf-8"))
