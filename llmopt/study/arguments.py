"""Checks of the arguments users pass to create_study / optimize: one clear error before anything is stored.

A bad seed or study name that reaches the database makes the study unusable (a seed of -1
fails every proposal; a 10,000-character name is a database error), so they are refused here.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from llmopt.errors import StudyError

#: Seeds are stored as a signed 64-bit integer and fed to numpy's SeedSequence (non-negative).
MAX_SEED = 2**63 - 1
#: The length of the stored name column.
MAX_NAME_LENGTH = 512


def check_name(name: Any) -> str:
    """A study name: a non-empty string of printable characters, at most MAX_NAME_LENGTH long."""
    if not isinstance(name, str):
        raise StudyError(f"study name must be a string, got {type(name).__name__} {name!r}", "e.g. name='qa-models'")
    if not name.strip():
        raise StudyError(f"study name must not be empty, got {name!r}",
                         "pass a name, or name=None to have one generated")
    if len(name) > MAX_NAME_LENGTH:
        raise StudyError(f"study name is {len(name):,} characters long; at most {MAX_NAME_LENGTH} are stored",
                         "use a shorter name")
    bad = sorted({f"U+{ord(c):04X}" for c in name if not c.isprintable()})
    if bad:
        raise StudyError(f"study name {name[:60]!r} contains control characters {bad}", "use printable characters only")
    return name


def check_seed(seed: Any) -> int | None:
    """None (a random seed is drawn and stored) or an integer in [0, 2**63 - 1]."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise StudyError(f"seed must be an integer, got {type(seed).__name__} {seed!r}", "e.g. seed=0, or seed=None for a random one")
    if not 0 <= int(seed) <= MAX_SEED:
        raise StudyError(f"seed must be in [0, 2**63 - 1], got {seed}", "use a non-negative seed such as 0")
    return int(seed)


def check_n_trials(n_trials: Any) -> int | None:
    """None (no limit) or a whole number >= 0."""
    if n_trials is None:
        return None
    if isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral):
        raise StudyError(f"n_trials must be a whole number, got {type(n_trials).__name__} {n_trials!r}",
                         "e.g. n_trials=20, or None to run until timeout")
    if n_trials < 0:
        raise StudyError(f"n_trials must be >= 0, got {n_trials}", "pass a positive number")
    return int(n_trials)


def check_timeout(timeout: Any) -> float | None:
    """None (no limit) or a number of seconds > 0."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise StudyError(f"timeout must be seconds, got {type(timeout).__name__} {timeout!r}", "e.g. timeout=600")
    if not math.isfinite(timeout) or timeout <= 0:
        raise StudyError(f"timeout must be a finite number of seconds > 0, got {timeout}",
                         "e.g. timeout=600, or None for no time limit")
    return float(timeout)


def check_settings(heartbeat_interval: Any, stale_after: Any, max_attempts: Any) -> None:
    """Heartbeat timing and retry count of a new study."""
    for field, value in (("heartbeat_interval", heartbeat_interval), ("stale_after", stale_after)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise StudyError(f"{field} must be seconds > 0, got {value!r}", f"e.g. {field}=15")
    if stale_after <= heartbeat_interval:
        raise StudyError(
            f"stale_after ({stale_after}s) must exceed heartbeat_interval ({heartbeat_interval}s)",
            "use e.g. stale_after = 4 * heartbeat_interval",
        )
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, numbers.Integral) or max_attempts < 1:
        raise StudyError(f"max_attempts must be a whole number >= 1, got {max_attempts!r}", "e.g. max_attempts=3")


def seed_words(seed: int) -> int:
    """The seed as numpy wants it (non-negative): databases from before the seed check may hold -1."""
    return seed if seed >= 0 else seed & (2**64 - 1)
