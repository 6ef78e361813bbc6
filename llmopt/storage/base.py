"""The storage interface: studies, trials and per-example results as frozen records.

Every method is one transaction: it either commits whole or raises StorageError having
changed nothing, so a failure never loses what was stored before.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from llmopt.trial import CallRecord, ExampleResult, Objective, TrialRecord, TrialState


@dataclass(frozen=True)
class StudySettings:
    """Liveness settings shared by every worker of a study (stored, so all agree)."""

    heartbeat_interval: float = 15.0
    stale_after: float = 60.0
    max_attempts: int = 3
    allow_repeats: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"heartbeat_interval": self.heartbeat_interval, "stale_after": self.stale_after,
                "max_attempts": self.max_attempts, "allow_repeats": self.allow_repeats}


@dataclass(frozen=True)
class StudyRecord:
    """A stored study's definition: what another process needs to reopen it."""

    study_id: int
    name: str
    space_json: str
    objectives: tuple[Objective, ...]
    sampler: dict[str, Any]
    seed: int
    settings: StudySettings
    created_at: datetime | None = None
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudySummary:
    """One line of `llmopt studies`."""

    name: str
    objectives: tuple[Objective, ...]
    counts: dict[str, int]
    created_at: datetime | None


@dataclass(frozen=True)
class TrialSpend:
    """What one trial's calls cost, summed over every attempt: the report's spend curves read
    one of these per trial instead of every call."""

    billed_cost: float = 0.0
    cost: float = 0.0
    attempts: int = 0
    cache_hits: int = 0


class Storage(ABC):
    """Where studies live; SQLStorage is the implementation (SQLite file, in-memory, PostgreSQL)."""

    url: str

    @abstractmethod
    def create_study(
        self,
        name: str,
        space_json: str,
        objectives: tuple[Objective, ...],
        sampler: dict[str, Any],
        seed: int,
        settings: StudySettings,
        system_attrs: Mapping[str, Any] | None = None,
    ) -> StudyRecord:
        """Insert a study in one atomic step (with its first system attributes); DuplicateStudyError if the name is taken."""

    @abstractmethod
    def set_study_sampler(self, study_id: int, sampler: dict[str, Any]) -> None:
        """Replace the stored sampler settings (a deliberate switch: `Study.set_sampler`)."""

    @abstractmethod
    def get_study(self, name: str) -> StudyRecord:
        """StudyNotFoundError if absent."""

    @abstractmethod
    def list_studies(self) -> list[StudySummary]: ...

    @abstractmethod
    def delete_study(self, name: str) -> None: ...

    @abstractmethod
    def start_trial(self, study_id: int, now: float) -> tuple[TrialRecord, bool]:
        """Re-queue stale RUNNING trials, then claim the oldest WAITING trial or open a new one.

        Returns the RUNNING record and whether it needs a configuration: a new trial, or a
        queued one whose worker died before storing its configuration (then it keeps its
        sample index and has no params: the caller samples and calls `set_trial_params`).
        A stale trial without a configuration is always re-queued, never FAILED.
        """

    @abstractmethod
    def requeue_stale_trials(self, study_id: int, now: float) -> None:
        """Put RUNNING trials whose worker stopped heartbeating back in the queue (what `start_trial` does first)."""

    @abstractmethod
    def discard_trial(self, trial_id: int) -> None:
        """Delete a RUNNING trial that has no configuration (nothing could be proposed for it)."""

    @abstractmethod
    def set_trial_params(self, trial_id: int, params: Mapping[str, Any], fingerprint: str, claim: bool) -> bool:
        """Store the configuration; with `claim`, False if another trial already holds that fingerprint."""

    @abstractmethod
    def finish_trial(
        self,
        trial_id: int,
        state: TrialState,
        values: Mapping[str, float] | None,
        error: str | None,
        now: float,
        system_attrs: Mapping[str, Any] | None = None,
    ) -> TrialRecord:
        """Move a RUNNING trial to COMPLETE, PRUNED or FAILED, merging `system_attrs` into the stored ones."""

    @abstractmethod
    def requeue_trial(self, trial_id: int, reason: str) -> None:
        """Put a RUNNING trial back to WAITING (its worker stops) so the next `start_trial` resumes it."""

    @abstractmethod
    def reopen_trial(self, trial_id: int, system_attrs: Mapping[str, Any]) -> TrialRecord:
        """Put a PRUNED trial back in the queue (WAITING, values cleared) to finish its examples."""

    @abstractmethod
    def heartbeat(self, trial_ids: Iterable[int], now: float) -> None: ...

    @abstractmethod
    def enqueue_trial(self, study_id: int, params: Mapping[str, Any], fingerprint: str, claim: bool, now: float) -> int:
        """Add a WAITING trial with a given configuration; returns its number."""

    @abstractmethod
    def get_trials(
        self, study_id: int, states: Iterable[TrialState] | None = None, min_number: int = 0
    ) -> list[TrialRecord]:
        """Trials ordered by number, optionally only some states and numbers >= min_number."""

    @abstractmethod
    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None: ...

    @abstractmethod
    def add_example_result(self, trial_id: int, result: ExampleResult, cache_entries: Mapping[str, str] | None = None) -> None:
        """Store one scored example with its calls and new cache entries in one transaction,
        so a crash loses at most the examples in flight."""

    @abstractmethod
    def get_example_results(self, trial_id: int) -> list[ExampleResult]: ...

    @abstractmethod
    def get_examples_of_trials(self, trial_ids: Iterable[int]) -> dict[int, list[ExampleResult]]:
        """Per-example results of several trials at once (pruners compare trials on shared examples)."""

    @abstractmethod
    def get_calls(self, trial_id: int) -> list[CallRecord]: ...

    @abstractmethod
    def add_calls(self, trial_id: int, calls: Iterable[CallRecord]) -> None:
        """Store calls made outside any example (e.g. a failed example's calls), so spend is never lost."""

    # Streaming readers (exports): pages by primary key, one short read transaction per page and
    # none held between pages, so memory stays flat and writers are never blocked for long.
    # Rows stored while a reader runs may or may not be included (no snapshot spans the pages).
    @abstractmethod
    def iter_trials(self, study_id: int, batch: int = 500) -> Iterator[TrialRecord]:
        """Every trial of the study ordered by number, read `batch` at a time."""

    @abstractmethod
    def iter_examples(self, study_id: int, batch: int = 1000) -> Iterator[tuple[int, ExampleResult]]:
        """(trial number, example) for every stored example of the study, in the order stored, `batch` per read."""

    @abstractmethod
    def iter_calls(self, study_id: int, batch: int = 1000) -> Iterator[tuple[int, CallRecord]]:
        """(trial number, call) for every stored call attempt of the study, in the order stored, `batch` per read."""

    @abstractmethod
    def study_spent(self, study_id: int) -> float:
        """Dollars actually paid by the study so far (sum of billed costs of its calls)."""

    @abstractmethod
    def spend_by_trial(self, study_id: int) -> dict[int, TrialSpend]:
        """Per trial id with calls: dollars billed and at list price, attempts sent, cache hits (one grouped read)."""

    @abstractmethod
    def cache_get(self, study_id: int, key: str) -> str | None: ...

    @abstractmethod
    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        """Study-level state shared by workers: status, budget, the price map's revision."""

    @abstractmethod
    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None: ...

    def close(self) -> None:
        """Release connections."""
