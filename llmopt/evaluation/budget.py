"""Dollar budgets: a study total and a per-trial cap, checked before every new call.

Calls already in flight finish (that is the only overshoot); no new call starts once a
budget is reached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from llmopt.errors import EvaluationError


class CallsStopped(Exception):
    """Raised inside a pipeline's call when no new call may start: the example is dropped unstored.

    Not an LLMOptError: pipelines that catch broad exceptions should not swallow it, but if one
    does, the next call raises it again.
    """

    def __init__(self, scope: str, message: str) -> None:
        self.scope = scope  # "study", "per-trial" (budgets) or "interrupt" (Ctrl-C)
        super().__init__(message)


class BudgetExhausted(CallsStopped):
    """A dollar budget is reached: the trial stops, nothing is lost."""

    def __init__(self, scope: str, spent: float, limit: float) -> None:
        self.spent, self.limit = spent, limit
        super().__init__(scope, f"{scope} budget reached: spent ${spent:.6f} of ${limit:.6f}")


class StudyBudget:
    """The study's dollar budget, shared by all trials of one worker; `spent` starts from storage.

    `spent` = the study's stored spend (as last read, plus this worker's writes since) + this
    worker's spend not yet written. Other workers' spend is seen at each `refresh`; this
    worker's own spend is counted once, never dropped by a refresh (writes and the refresh's
    read exclude each other, so the read holds every committed write and no half-done one).
    """

    def __init__(self, limit: float | None, spent: float = 0.0) -> None:
        if limit is not None and (not isinstance(limit, (int, float)) or limit < 0):
            raise EvaluationError(f"budget must be a number of dollars >= 0, got {limit!r}", "e.g. budget=5.0")
        self.limit = limit
        self._stored = spent
        self._unstored = 0.0
        self._lock = threading.Lock()
        self._turns = threading.Condition()  # writers share it; a refresh's read has it alone
        self._writers = 0
        self._reading = False

    @property
    def spent(self) -> float:
        with self._lock:
            return self._stored + self._unstored

    def spend(self, dollars: float) -> None:
        """A call was (or may have been) paid: counted at once, before its example is written."""
        with self._lock:
            self._unstored += dollars

    @contextmanager
    def writing(self, dollars: float) -> Iterator[None]:
        """Around storing calls worth `dollars` that `spend` counted (blocking: in a thread)."""
        with self._turns:
            while self._reading:
                self._turns.wait()
            self._writers += 1
        committed = False
        try:
            yield
            committed = True
        finally:
            with self._turns:
                self._writers -= 1
                if committed:
                    with self._lock:
                        self._unstored -= dollars
                        self._stored += dollars
                self._turns.notify_all()

    def refresh(self, read_stored: Callable[[], float]) -> None:
        """Re-read the study's stored spend, other workers' calls included (blocking: in a thread)."""
        with self._turns:
            while self._reading:
                self._turns.wait()
            self._reading = True
            while self._writers:
                self._turns.wait()
        try:
            total = read_stored()
            with self._lock:
                self._stored = total
        finally:
            with self._turns:
                self._reading = False
                self._turns.notify_all()

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.spent >= self.limit

    def check(self) -> None:
        if self.exhausted:
            raise BudgetExhausted("study", self.spent, float(self.limit or 0.0))
