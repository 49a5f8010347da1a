"""SimpleITK's process-wide thread count, set for one block of work and restored after it."""

from __future__ import annotations

import contextlib
from typing import Iterator

import SimpleITK as sitk


@contextlib.contextmanager
def itk_threads(threads: int) -> Iterator[None]:
    """SimpleITK's default thread count set to ``threads`` inside the block, restored after it.

    The setting is process-wide: in Slicer's console, other ITK work during the block gets it too.
    One thread makes ITK's registration reproducible (multi-threaded sums differ run to run).
    """
    previous = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(threads)
    try:
        yield
    finally:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(previous)
