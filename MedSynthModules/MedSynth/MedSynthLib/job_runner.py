"""Qt glue between a :class:`BackgroundJob`, a :class:`RunState` and a module panel's controls.

Only this file (and the module widgets) import ``qt``: a ``QTimer`` polls the job every 100 ms,
so MRML is only ever touched on the GUI thread, in the job's ``finish``.
"""

from __future__ import annotations

from typing import Callable

import qt

import slicer
from MedSynthLib.background import BackgroundJob
from MedSynthLib.run_state import RunState

POLL_INTERVAL_MS = 100


class JobRunner:
    """Starts a job, shows progress, turns Apply into Cancel, reports the outcome."""

    def __init__(self, apply_button, progress_bar, status_label, state: RunState | None = None):
        self.apply_button, self.progress_bar, self.status_label = apply_button, progress_bar, status_label
        self.state = state or RunState(apply_label=apply_button.text)
        self.job: BackgroundJob | None = None
        self._on_finished: Callable[[object], None] | None = None
        self.timer = qt.QTimer()
        self.timer.setInterval(POLL_INTERVAL_MS)
        self.timer.connect("timeout()", self._poll)
        self.refresh()

    def start(self, job: BackgroundJob, on_finished: Callable[[object], None] | None = None) -> None:
        self.state.start()
        self.job, self._on_finished = job.start(), on_finished
        self.timer.start()
        self.refresh()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.state.request_cancel()
            self.refresh()

    def refresh(self) -> None:
        self.apply_button.text = self.state.button_text
        self.apply_button.enabled = self.state.button_enabled
        self.progress_bar.visible = self.state.busy
        self.progress_bar.value = self.state.progress_percent
        self.status_label.text = self.state.status_text

    def _poll(self) -> None:
        job = self.job
        if job is None:
            return
        self.state.update(job.progress)
        if job.done:
            self.timer.stop()
            self.job = None
            try:
                value = job.finish()
            except Exception as exc:  # shown to the user, not swallowed
                self.state.finish(error=exc, cancelled=job.was_cancelled)
                if not job.was_cancelled:
                    slicer.util.errorDisplay(str(exc), windowTitle="MedSynth")
            else:
                self.state.finish()
                if self._on_finished is not None:
                    self._on_finished(value)
        self.refresh()
