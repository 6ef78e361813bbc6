"""Indifference margins: differences too small to matter to a user do not make one trial "better".

Two identical configurations measure p95 latencies a few milliseconds apart, and with enough
examples a confidence bound separates them; pruning one for that is correct statistics and a
useless decision. A margin says how much better a witness must be, relative to its own value,
before it counts as strictly better on an objective. The defaults:

- latency (the built-in `latency_*` measures): 10%. Latency drifts with the provider's load
  over a study, so trials measured at different times differ by several percent for no reason
  the configuration controls (measured: 2-10% between identical configurations on a loaded
  machine), and the bounds, which assume exchangeable examples, cannot see drift.
- other objectives with no upper limit (cost, tokens): 2%.
- objectives with a finite range (accuracy-like metrics, where every point counts): none.

A margin only makes pruning rarer (a witness must still be at least as good everywhere), so
the pruner's error guarantee is unchanged.

>>> import numpy as np
>>> from llmopt.pruning.base import ObjectiveSeries
>>> latency = ObjectiveSeries("latency_p95", "minimize", np.array([0.5]), "quantile", q=0.95, bounded=(0.0, np.inf))
>>> cost = ObjectiveSeries("cost", "minimize", np.array([0.001]), bounded=(0.0, np.inf))
>>> accuracy = ObjectiveSeries("accuracy", "maximize", np.array([1.0]), bounded=(0.0, 1.0))
>>> round(margin(latency, None, witness=0.52), 6), round(margin(cost, None, witness=0.001), 9), margin(accuracy, None, witness=0.8)
(0.052, 2e-05, 0.0)
>>> round(margin(accuracy, {"accuracy": 0.01}, witness=0.8), 6)
0.008
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from llmopt.errors import StudyError
from llmopt.pruning.base import ObjectiveSeries

#: Default relative margins: latency measures (by name), other objectives without a finite range.
LATENCY_DEFAULT, UNBOUNDED_DEFAULT = 0.10, 0.02

Indifference = float | Mapping[str, float] | None


def _check_one(owner: str, where: str, value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise StudyError(f"{owner}: {where} must be a relative margin in [0, 1), got {value!r}",
                         "e.g. 0.02: a witness must be more than 2% better to count as better")
    return float(value)


def check_indifference(owner: str, setting: Indifference) -> Indifference:
    """Validate None, one margin for every objective, or a mapping of objective name to margin."""
    if setting is None:
        return None
    if isinstance(setting, Mapping):
        return {str(name): _check_one(owner, f"indifference[{name!r}]", value) for name, value in setting.items()}
    return _check_one(owner, "indifference", setting)


def margin(series: ObjectiveSeries, setting: Indifference, witness: float) -> float:
    """How much better (in the objective's units) than `series` a witness at `witness` must be to count."""
    if isinstance(setting, Mapping) and series.name in setting:
        relative = setting[series.name]
    elif setting is not None and not isinstance(setting, Mapping):
        relative = setting
    elif series.name.startswith("latency"):
        relative = LATENCY_DEFAULT
    else:
        finite = series.bounded is not None and all(math.isfinite(b) for b in series.bounded)
        relative = 0.0 if finite else UNBOUNDED_DEFAULT
    return relative * abs(witness)
