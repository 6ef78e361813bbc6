"""Samplers: propose configurations from the space and the stored history (no I/O)."""

from __future__ import annotations

from typing import Any

from llmopt.errors import StudyError
from llmopt.samplers.auto import AutoSampler
from llmopt.samplers.base import Sampler
from llmopt.samplers.gp import GPSampler
from llmopt.samplers.grid import GridSampler
from llmopt.samplers.nsga2 import NSGA2Sampler
from llmopt.samplers.random import RandomSampler
from llmopt.samplers.tpe import TPESampler

SAMPLERS: dict[str, type[Sampler]] = {
    "random": RandomSampler,
    "grid": GridSampler,
    "tpe": TPESampler,
    "nsga2": NSGA2Sampler,
    "gp": GPSampler,
    "auto": AutoSampler,
}


def default_sampler() -> Sampler:
    """The sampler a study uses when none is given: the winner of benchmarks/bench_samplers.py
    (docs/benchmarks-samplers.md), with its default settings: GP for the first 200 proposals, TPE after."""
    return AutoSampler()


def sampler_from_dict(data: dict[str, Any]) -> Sampler:
    """Rebuild a stored sampler by its name and settings."""
    settings = dict(data)
    kind = settings.pop("type", None)
    if kind not in SAMPLERS:
        raise StudyError(
            f"the study was stored with sampler {kind!r}, which this llmopt does not know",
            "pass sampler=... to load_study",
        )
    return SAMPLERS[kind](**settings)


__all__ = [
    "AutoSampler",
    "GPSampler",
    "GridSampler",
    "NSGA2Sampler",
    "RandomSampler",
    "SAMPLERS",
    "Sampler",
    "TPESampler",
    "default_sampler",
    "sampler_from_dict",
]
