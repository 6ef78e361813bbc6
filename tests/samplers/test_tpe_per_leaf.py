"""Tests for the per-leaf improvement of continuous leaves: each leaf on its own, given the row's discrete leaves."""

from __future__ import annotations

import numpy as np
import pytest

import llmopt
from llmopt.samplers import TPESampler
from llmopt.samplers.encoding import SpaceEncoding
from llmopt.samplers.tpe import per_leaf as per_leaf_module
from llmopt.samplers.tpe.parzen import ParzenEstimator
from llmopt.samplers.tpe.per_leaf import continuous_leaves, per_leaf
from llmopt.space import ChoiceVar, FloatVar, IntVar, ModuleOption, ModuleVar, Space


def estimators(enc: SpaceEncoding, good: list[list[float]], bad: list[list[float]]) -> tuple[ParzenEstimator, ParzenEstimator]:
    return ParzenEstimator(enc, np.array(good, dtype=float)), ParzenEstimator(enc, np.array(bad, dtype=float))


def ratio(below: ParzenEstimator, above: ParzenEstimator, row: np.ndarray) -> float:
    return float(below.log_pdf(row[None])[0] - above.log_pdf(row[None])[0])


SEPARABLE_GOOD = [[0.5, 0.5, 0.5], [0.53, 0.47, 0.5], [0.47, 0.52, 0.49], [0.51, 0.5, 0.53]]
SEPARABLE_BAD = [[0.1, 0.9, 0.2], [0.9, 0.1, 0.8], [0.2, 0.2, 0.1], [0.8, 0.8, 0.9], [0.5, 0.1, 0.9], [0.9, 0.5, 0.1]]


@pytest.mark.parametrize("seed", range(5))
def test_every_leaf_off_the_good_region_is_brought_back(seed):
    """Good trials are near 0.5 in every leaf: a row right in one leaf and wrong in two comes
    back near 0.5 in all three (a joint candidate would need luck in both wrong leaves at once)."""
    enc = SpaceEncoding(Space({name: FloatVar(0, 1) for name in "abc"}))
    below, above = estimators(enc, SEPARABLE_GOOD, SEPARABLE_BAD)
    row = np.array([0.5, 0.95, 0.05])
    out = per_leaf(enc, below, above, row, np.random.default_rng(seed))
    assert np.abs(out - 0.5).max() < 0.1
    assert ratio(below, above, out) > ratio(below, above, row) + 3


def test_the_row_never_loses_joint_l_over_g():
    """A move is kept only if the whole row's l/g rises, so whatever the row, the result scores
    at least as high (and leaves an already good row alone more often than not)."""
    enc = SpaceEncoding(Space({"c": ChoiceVar(["a", "b"]), "x": FloatVar(0, 1), "y": FloatVar(0, 1, log=False), "k": IntVar(0, 9)}))
    rng = np.random.default_rng(0)
    good = [[rng.integers(2), *rng.uniform(size=2), (rng.integers(10) + 0.5) / 10] for _ in range(6)]
    bad = [[rng.integers(2), *rng.uniform(size=2), (rng.integers(10) + 0.5) / 10] for _ in range(30)]
    below, above = estimators(enc, good, bad)
    for row in below.sample(rng, 50):
        out = per_leaf(enc, below, above, row, rng)
        assert ratio(below, above, out) >= ratio(below, above, row) - 1e-9
        assert np.array_equal(out[[0, 3]], row[[0, 3]])  # discrete leaves are never touched


@pytest.mark.parametrize("seed", range(5))
def test_a_value_is_judged_by_the_trials_that_share_the_rows_option(seed):
    """x is good at 0.2 with option a and at 0.8 with option b, bad the other way round. Most
    good trials have a, so over all trials 0.2 looks best; given b, 0.8 is (without the
    conditioning, a row with b never moves: 0.2 is rejected by the joint l/g)."""
    enc = SpaceEncoding(Space({"c": ChoiceVar(["a", "b"]), "x": FloatVar(0, 1)}))
    good = [[0, 0.2], [0, 0.22], [0, 0.18], [0, 0.21], [1, 0.8], [1, 0.78]]
    bad = [[0, 0.8], [0, 0.78], [1, 0.2], [1, 0.22], [1, 0.18], [0, 0.5], [1, 0.5]]
    below, above = estimators(enc, good, bad)
    rng = np.random.default_rng(seed)
    assert per_leaf(enc, below, above, np.array([1.0, 0.5]), rng)[1] > 0.7
    assert per_leaf(enc, below, above, np.array([0.0, 0.5]), rng)[1] < 0.3


def test_only_active_continuous_leaves_are_picked():
    space = Space({"k": IntVar(1, 5), "m": ModuleVar({"p": None, "q": ModuleOption(params={"y": FloatVar(0, 1)})})})
    enc = SpaceEncoding(space)
    with_q = enc.encode({"k": 2, "m": "q", "m.q.y": 0.3})
    without = enc.encode({"k": 2, "m": "p"})
    assert [enc.leaves[j].path for j in continuous_leaves(enc, with_q)] == ["m.q.y"]
    assert continuous_leaves(enc, without) == []
    below, above = estimators(enc, [with_q.tolist()], [without.tolist(), without.tolist()])
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert np.array_equal(per_leaf(enc, below, above, without, rng), without, equal_nan=True)
    assert rng.bit_generator.state == state  # nothing drawn: a space without continuous leaves is sampled as before


def test_the_sampler_proposes_the_improved_row(monkeypatch):
    """Every model-based proposal on a continuous space goes through per_leaf, and what it
    returns is what the study gets (it is tried before the joint candidates)."""
    space = Space({"x": FloatVar(0, 1), "y": FloatVar(0, 1)})
    improved: list[tuple[float, float]] = []
    real = per_leaf_module.per_leaf

    def spy(*args, **kwargs):
        row = real(*args, **kwargs)
        improved.append((float(row[0]), float(row[1])))
        return row

    monkeypatch.setattr("llmopt.samplers.tpe.sampler.per_leaf", spy)
    study = llmopt.create_study("spy", space, {"f": "minimize"}, storage=":memory:", sampler=TPESampler(n_startup_trials=5), seed=0)
    study.optimize(lambda t: (t.config["x"] - 0.5) ** 2 + (t.config["y"] - 0.5) ** 2, n_trials=15)
    enc = SpaceEncoding(space)
    proposed = [tuple(float(v) for v in enc.encode(t.params)) for t in study.trials[5:]]
    study.close()
    assert len(improved) == 10
    assert proposed == pytest.approx(improved)
