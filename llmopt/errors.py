"""Exceptions raised by llmopt, each carrying what went wrong and how to fix it.

Hierarchy::

    LLMOptError (ValueError)
    ├── SpaceError              a search-space definition or configuration is invalid
    │   └── InfeasibleSpaceError the constraints leave no configuration to sample
    ├── StudyError              misuse of a study (unknown objective, bad return value...)
    │   ├── StudyNotFoundError
    │   ├── DuplicateStudyError
    │   └── SpaceExhaustedError  a grid or de-duplicating sampler has nothing left
    ├── StorageError            the database failed or holds something unreadable
    │   └── SchemaVersionError  the database was written by a newer llmopt
    ├── EvaluationError         an evaluation set, pipeline, metric, measure, price, limit or budget is unusable
    │   ├── DatasetError        duplicate ids, missing fields, unreadable JSONL
    │   ├── MissingPriceError   a model has no price (not in litellm's map, none given)
    │   └── LLMCallError        (llmopt.evaluation.calls) a call failed for good, after its retries
    └── ArrayError              Pareto tools given points or a reference they cannot use (shape, NaN)

`LLMOptError` subclasses ValueError so code written against plain ValueError keeps working.
Every error carries a `hint` (the fix); the CLI prints "message (fix: hint)" on one line.

Not errors, and deliberately outside the hierarchy: `llmopt.evaluation.budget.CallsStopped`
and its `BudgetExhausted`, raised inside a pipeline's call to stop it starting new calls (a
budget is reached, Ctrl-C). A pipeline that catches ValueError to parse an answer must not
swallow them.
"""

from __future__ import annotations


class LLMOptError(ValueError):
    """Base error: `message` says what held and what was given, `hint` how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} (fix: {hint})")


class SpaceError(LLMOptError):
    """A variable, constraint or configuration does not fit the search space."""


class InfeasibleSpaceError(SpaceError):
    """The constraints exclude every configuration, so sampling would never end."""


class StudyError(LLMOptError):
    """A study was used in a way it cannot honour."""


class StudyNotFoundError(StudyError):
    """No study of that name exists in the storage."""


class DuplicateStudyError(StudyError):
    """A study of that name already exists and `load_if_exists` was not set."""


class SpaceExhaustedError(StudyError):
    """Every point of a finite space (a grid) has already been claimed."""


class StorageError(LLMOptError):
    """The storage backend failed; nothing committed before the failure is lost."""


class SchemaVersionError(StorageError):
    """The database schema is newer than this llmopt understands."""


class EvaluationError(LLMOptError):
    """An evaluation could not be set up or run as asked."""


class DatasetError(EvaluationError):
    """An evaluation set is malformed: the message names the line and field."""


class MissingPriceError(EvaluationError):
    """A model is in neither litellm's bundled price map nor the user's prices."""


class ArrayError(LLMOptError):
    """Pareto tools were given arrays they cannot use (wrong shape, NaN, a bad reference point)."""
