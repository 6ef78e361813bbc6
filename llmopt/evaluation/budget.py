"""Dollar budgets: a study total and a per-trial cap, checked before every new call.

Calls already in flight finish (that is the only overshoot); no new call starts once a
budget is reached.
"""

from __future__ import annotations

import threading

from llmopt.errors import StudyError


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
    """The study's dollar budget, shared by all trials of one worker; `spent` starts from storage."""

    def __init__(self, limit: float | None, spent: float = 0.0) -> None:
        if limit is not None and (not isinstance(limit, (int, float)) or limit < 0):
            raise StudyError(f"budget must be a number of dollars >= 0, got {limit!r}", "e.g. budget=5.0")
        self.limit = limit
        self.spent = spent
        self._lock = threading.Lock()

    def spend(self, dollars: float) -> None:
        with self._lock:
            self.spent += dollars

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.spent >= self.limit

    def check(self) -> None:
        if self.exhausted:
            raise BudgetExhausted("study", self.spent, float(self.limit or 0.0))
