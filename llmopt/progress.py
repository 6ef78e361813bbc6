"""A one-line live progress display on a terminal; silent when the stream is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    """Rewrites one line: trials done, examples scored, dollars spent, front size.

    Updates are throttled (10 per second) so metering stays cheap; `enabled=None` means
    "only when the stream is a terminal", so logs and CI output stay clean.
    """

    def __init__(self, total: int | None, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = total
        self.trials = 0
        self.examples = 0
        self.dollars = 0.0
        self.front = 0
        self._last = 0.0
        self._width = 0

    def update(self, *, trials: int = 0, examples: int = 0, dollars: float = 0.0, front: int | None = None, force: bool = False) -> None:
        self.trials += trials
        self.examples += examples
        self.dollars += dollars
        if front is not None:
            self.front = front
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < 0.1):
            return
        self._last = now
        total = f"/{self.total}" if self.total is not None else ""
        text = f"trials {self.trials}{total} | examples {self.examples} | ${self.dollars:.4f} | front {self.front}"
        self.stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._width:
            self.update(force=True)
            self.stream.write("\n")
            self.stream.flush()
