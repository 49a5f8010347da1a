"""Progress bars for long command-line work (tqdm on stderr, silent when not a terminal) and run notices."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

from tqdm import tqdm

from medsynth.provenance import Provenance


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Callable[[float], None]]:
    """Yield a ``progress(fraction)`` callback that drives a 0–100 % bar."""
    with tqdm(total=100, desc=description, unit="%", file=sys.stderr, disable=None,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}") as bar:
        def update(fraction: float) -> None:
            bar.n = round(100 * min(max(fraction, 0.0), 1.0), 1)
            bar.refresh()
        yield update


def warn_outside(provenance: Provenance) -> None:
    """Say on stderr, before anything is written, that an opted-in run is outside the validated domain."""
    if provenance.outside_domain:
        print(f"medsynth: warning: {provenance.outside_domain}; outputs are stamped so.", file=sys.stderr)
