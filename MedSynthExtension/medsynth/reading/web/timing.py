"""How long a web reader looked at a case before answering it (``duration_s`` of the answer).

The browser measures from the moment the image is on screen to the moment the answer is sent,
which excludes network and image-loading time; the server measures from the moment it handed the
case out (the first time since the last answer, so a reload does not restart its clock). A
client's figure is only a claim: it is kept when it is a finite number of seconds between 0 and
the server's own measure (plus ``SLACK_S`` for clock granularity), otherwise the server's measure
is stored. When the server did not hand the case out itself (it was restarted while the case was
on screen), nothing can check the claim and no duration is stored.
"""

from __future__ import annotations

import math
import time

#: Seconds a client's measure may exceed the server's (timer resolution, event-loop delays).
SLACK_S = 1.0


class ShownClock:
    """When this server process showed each (reader, case) that has no answer since."""

    def __init__(self) -> None:
        self._shown: dict[tuple[str, str], float] = {}

    def shown(self, reader_id: str, case_id: str) -> None:
        self._shown.setdefault((reader_id, case_id), time.monotonic())

    def duration(self, reader_id: str, case_id: str, client_s: object) -> float | None:
        """The checked ``duration_s`` of an answer arriving now (see the module docstring)."""
        shown = self._shown.get((reader_id, case_id))
        if shown is None:
            return None
        server_s = time.monotonic() - shown
        plausible = (isinstance(client_s, (int, float)) and not isinstance(client_s, bool)
                     and math.isfinite(client_s) and 0 <= client_s <= server_s + SLACK_S)
        return round(float(client_s) if plausible else server_s, 3)

    def answered(self, reader_id: str, case_id: str) -> None:
        self._shown.pop((reader_id, case_id), None)
