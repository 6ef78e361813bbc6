"""A one-line live progress display on a terminal; silent when the stream is not a terminal.

Our own line rather than tqdm or rich: it is one rewritten line with five numbers, and its
rate limit is what matters when a terminal is recorded (`script`, tmux logs, CI consoles
that claim to be terminals): every rewrite is kept there, so at most one per second is
written, however fast trials and examples finish.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

MIN_INTERVAL = 1.0  # seconds between two rewrites of the line


def duration(seconds: float) -> str:
    """`42s`, `3m05s`, `2h07m`."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressLine:
    """Rewrites one line: trials done, examples scored, dollars spent, front size, elapsed time
    and, when the number of trials is known, the time left at the pace so far.

    `enabled=None` means "only when the stream is a terminal", so logs and CI output stay
    clean. `clock` is for tests.
    """

    def __init__(self, total: int | None, stream: TextIO | None = None, enabled: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = total
        self.trials = 0
        self.examples = 0
        self.dollars = 0.0
        self.front = 0
        self._clock = clock
        self._start = clock()
        self._last: float | None = None
        self._width = 0
        self._pending = False

    def update(self, *, trials: int = 0, examples: int = 0, dollars: float = 0.0, front: int | None = None, force: bool = False) -> None:
        """Count what finished; rewrite the line if a second has passed since the last rewrite
        (`force` only skips the wait for the first rewrite)."""
        self.trials += trials
        self.examples += examples
        self.dollars += dollars
        if front is not None:
            self.front = front
        if not self.enabled:
            return
        now = self._clock()
        if self._last is not None and now - self._last < MIN_INTERVAL:
            self._pending = True
            return
        if self._last is None and not force and now - self._start < MIN_INTERVAL:
            self._pending = True
            return
        self._write(now)

    def text(self, now: float | None = None) -> str:
        elapsed = (self._clock() if now is None else now) - self._start
        total = f"/{self.total}" if self.total is not None else ""
        scored = f" | examples {self.examples:,} | ${self.dollars:.4f} | front {self.front}" if self.examples or self.dollars or self.front else ""
        line = f"trials {self.trials}{total}{scored} | {duration(elapsed)} elapsed"
        if self.total is not None and 0 < self.trials < self.total:
            line += f", ~{duration(elapsed / self.trials * (self.total - self.trials))} left"
        return line

    def _write(self, now: float) -> None:
        self._last = now
        self._pending = False
        text = self.text(now)
        self.stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def close(self) -> None:
        """The final numbers, then a newline (the line stays on screen)."""
        if self.enabled and (self._width or self._pending or self.trials):
            self._write(self._clock())
            self.stream.write("\n")
            self.stream.flush()
