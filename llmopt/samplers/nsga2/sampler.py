"""NSGA2Sampler: an elitist genetic algorithm for several objectives on mixed, conditional spaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from llmopt.samplers.base import Sampler
from llmopt.samplers.fresh import draw_fresh
from llmopt.samplers.history import HistoryReader
from llmopt.samplers.settings import StoredSettings, check
from llmopt.samplers.nsga2.operators import make_child
from llmopt.samplers.nsga2.selection import generation_of, parents, tournament
from llmopt.space import Space
from llmopt.trial import Objective, TrialRecord

CHILD_TRIES = 32


class NSGA2Sampler(StoredSettings, Sampler):
    """NSGA-II: generation 0 is random; each later trial is a child of two tournament winners.

    Generations come from the trials' stored sample indices (see `nsga2.selection`), so resumed
    studies and many workers on one database need no shared memory. Children that break a
    constraint or repeat a proposed configuration are redrawn (random as a last resort).
    `mutation_prob=None` means one leaf in `len(space.leaves)` mutates.

    >>> import llmopt
    >>> from llmopt import FloatVar, Space
    >>> space = Space({"x": FloatVar(0, 1), "y": FloatVar(0, 1)})
    >>> study = llmopt.create_study("nsga2-doc", space, {"a": "minimize", "b": "minimize"},
    ...                             storage=":memory:", sampler=NSGA2Sampler(population_size=8), seed=0)
    >>> study.optimize(lambda t: (t.config["x"], 1 - t.config["x"] + t.config["y"]), n_trials=24)
    >>> len(study.pareto_front()) > 1
    True
    """

    name: ClassVar[str] = "nsga2"
    settings: ClassVar[tuple[str, ...]] = ("population_size", "crossover_prob", "mutation_prob", "eta_crossover", "eta_mutation")

    def __init__(
        self,
        population_size: int = 16,
        crossover_prob: float = 0.9,
        mutation_prob: float | None = None,
        eta_crossover: float = 15.0,
        eta_mutation: float = 20.0,
    ) -> None:
        check(population_size >= 2, "population_size >= 2", population_size=population_size)
        check(0 <= crossover_prob <= 1, "0 <= crossover_prob <= 1", crossover_prob=crossover_prob)
        check(mutation_prob is None or 0 <= mutation_prob <= 1, "mutation_prob is None or in [0, 1]", mutation_prob=mutation_prob)
        check(eta_crossover > 0 and eta_mutation > 0, "eta_crossover > 0 and eta_mutation > 0", eta_crossover=eta_crossover, eta_mutation=eta_mutation)
        self.population_size = population_size
        self.crossover_prob = crossover_prob
        self.mutation_prob = mutation_prob
        self.eta_crossover = eta_crossover
        self.eta_mutation = eta_mutation
        self._reader = HistoryReader()

    def sample(
        self,
        space: Space,
        history: Sequence[TrialRecord],
        objectives: Sequence[Objective],
        rng: np.random.Generator,
        *,
        index: int = 0,
    ) -> dict[str, Any]:
        obs = self._reader.read(space, history, objectives)
        generation = generation_of(index, self.population_size)
        population = parents(obs, generation, self.population_size) if generation else np.zeros(0, dtype=int)
        if len(population) < 2:
            return draw_fresh(space, rng, obs.taken)
        enc = self._reader.encoding(space)
        mutation = self.mutation_prob if self.mutation_prob is not None else 1.0 / enc.n
        for attempt in range(CHILD_TRIES):
            first = population[tournament(rng, len(population))]
            second = population[tournament(rng, len(population))]
            row = make_child(
                enc, obs.codes[first], obs.codes[second], rng,
                crossover_prob=self.crossover_prob,
                # repeats of a proposed point get mutated harder on each retry
                mutation_prob=min(1.0, mutation * (1 + attempt)),
                eta_crossover=self.eta_crossover,
                eta_mutation=self.eta_mutation,
            )
            params = enc.decode(row)
            if space.is_feasible(params) and space.config(params).fingerprint not in obs.taken:
                return params
        return draw_fresh(space, rng, obs.taken)
