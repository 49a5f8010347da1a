"""What the Apply/Cancel button, progress bar and status line show, as a Qt-free state machine.

The widget only copies these fields onto its controls, so the behaviour a user sees (Apply
turns into Cancel, progress in percent, a clear message on failure or cancellation) is
tested with pytest rather than trusted to untestable GUI code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RunState:
    """``idle`` → ``running`` → (``cancelling``) → ``done`` | ``failed`` | ``cancelled`` → ``running`` ..."""

    apply_label: str = "Apply"
    phase: str = "idle"
    progress: float = 0.0
    message: str = ""
    inputs_valid: bool = False
    invalid_reason: str = "Select an input volume."

    @property
    def button_text(self) -> str:
        return {"running": "Cancel", "cancelling": "Cancelling…"}.get(self.phase, self.apply_label)

    @property
    def button_enabled(self) -> bool:
        if self.phase == "running":
            return True
        if self.phase == "cancelling":
            return False
        return self.inputs_valid

    @property
    def busy(self) -> bool:
        return self.phase in ("running", "cancelling")

    @property
    def progress_percent(self) -> int:
        return int(round(100 * self.progress))

    @property
    def status_text(self) -> str:
        if self.phase == "idle" and not self.inputs_valid:
            return self.invalid_reason
        return self.message

    def validate(self, reason: str | None) -> None:
        """``reason`` None: inputs are valid; otherwise the sentence telling the user what is missing."""
        self.inputs_valid = reason is None
        self.invalid_reason = reason or ""

    def start(self) -> None:
        if self.busy:
            raise RuntimeError("A job is already running.")
        self.phase, self.progress, self.message = "running", 0.0, "Running…"

    def update(self, fraction: float) -> None:
        if self.phase == "running":
            self.progress = max(self.progress, min(fraction, 1.0))
            self.message = f"Running… {self.progress_percent} %"

    def request_cancel(self) -> None:
        if self.phase == "running":
            self.phase, self.message = "cancelling", "Cancelling after the current patch…"

    def finish(self, error: BaseException | None = None, cancelled: bool = False, summary: str = "Done.") -> None:
        if cancelled:
            self.phase, self.message = "cancelled", "Cancelled; nothing was added to the scene."
        elif error is not None:
            self.phase, self.message = "failed", f"Failed: {error}"
        else:
            self.phase, self.progress, self.message = "done", 1.0, summary
