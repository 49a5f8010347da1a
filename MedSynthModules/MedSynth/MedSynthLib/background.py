"""Long work off the GUI thread, without Qt.

A :class:`BackgroundJob` runs a pure-engine function (SimpleITK in, results out, no MRML) in a
worker thread; onnxruntime releases the GIL, so the GUI stays responsive. The widget polls
:attr:`progress` / :attr:`done` from a ``QTimer`` and, once done, calls :meth:`finish` on the
main thread, which is where the job's ``on_done`` callback touches MRML. Scripts call
:meth:`wait_for_completion`, which joins the worker and finishes on the calling thread.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Generic, TypeVar

from medsynth.errors import Cancelled

Result = TypeVar("Result")
Work = Callable[[Callable[[float], None], Callable[[], bool]], Result]


class BackgroundJob(Generic[Result]):
    """``work(progress, cancelled) -> result`` in a thread; ``on_done(result)`` on the main thread."""

    def __init__(self, work: Work, on_done: Callable[[Result], Any]):
        self._work = work
        self._on_done = on_done
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="MedSynthJob", daemon=True)
        self.progress = 0.0
        self._result: Any = None
        self._error: BaseException | None = None
        self._finished_value: Any = None
        self._finished = False

    def start(self) -> "BackgroundJob[Result]":
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the work to stop; it stops at its next check (between patches)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        """The worker has ended (with a result, an error, or a cancellation)."""
        return self._thread.ident is not None and not self._thread.is_alive()

    def finish(self) -> Any:
        """On the main thread: re-raise the worker's error, or hand its result to ``on_done`` (once)."""
        if not self.done:
            raise RuntimeError("finish() called before the job ended")
        if not self._finished:
            self._finished = True
            if self._error is not None:
                raise self._error
            self._finished_value = self._on_done(self._result)
        return self._finished_value

    def wait_for_completion(self, timeout: float | None = None) -> Any:
        """Block until the worker ends, then :meth:`finish` on this thread (for scripts and tests)."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("The MedSynth job is still running.")
        return self.finish()

    def _set_progress(self, fraction: float) -> None:
        self.progress = max(self.progress, min(float(fraction), 1.0))

    def _run(self) -> None:
        try:
            self._result = self._work(self._set_progress, self._cancel.is_set)
        except BaseException as exc:  # handed to the main thread by finish()
            self._error = exc

    @property
    def was_cancelled(self) -> bool:
        return isinstance(self._error, Cancelled)
