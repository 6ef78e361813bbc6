"""Tests for the joint Parzen estimator and the encoding it works on: normalised, sampled as scored, linked."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from llmopt.samplers.draw import draw_config
from llmopt.samplers.encoding import SpaceEncoding
from llmopt.samplers.grid import GridSampler
from llmopt.samplers.tpe import parzen
from llmopt.samplers.tpe.parzen import ParzenEstimator
from llmopt.space import ChoiceVar, FloatVar, IntVar, ModuleOption, ModuleVar, Space


def discrete_space() -> Space:
    return Space(
        {
            "n": IntVar(1, 12, log=True),
            "t": FloatVar(0.0, 1.0, step=0.25),
            "k": IntVar(0, 10, step=2),
            "m": ModuleVar({"p": None, "q": ModuleOption(params={"h": IntVar(1, 5), "z": ChoiceVar([1, "x", None])})}),
        }
    )


def fitted(space: Space, n: int = 30, seed: int = 0) -> tuple[SpaceEncoding, ParzenEstimator]:
    enc = SpaceEncoding(space)
    rng = np.random.default_rng(seed)
    return enc, ParzenEstimator(enc, np.array([enc.encode(draw_config(space, rng)) for _ in range(n)]))


def test_encoding_round_trips_every_grid_point():
    space = discrete_space()
    enc = SpaceEncoding(space)
    for point in GridSampler().points(space):
        row = enc.encode(point)
        assert enc.decode(row) == point
        for j, code in enumerate(enc.leaves):
            if code.kind == "binned" and not np.isnan(row[j]):
                assert enc.canonical(j, row[j : j + 1])[0] == pytest.approx(row[j])


@pytest.mark.parametrize("table", [True, False], ids=["tables", "direct"])
def test_probabilities_of_every_configuration_sum_to_one(table, monkeypatch):
    """Inactive sub-variables are not part of a configuration's density, so the conditional
    space's probabilities still add up to one; with and without the precomputed tables."""
    if not table:
        monkeypatch.setattr(parzen, "MAX_TABLE", 0)
    space = discrete_space()
    enc, pe = fitted(space)
    rows = np.array([enc.encode(p) for p in GridSampler().points(space)])
    assert np.exp(pe.log_pdf(rows)).sum() == pytest.approx(1.0)


def test_continuous_density_integrates_to_one():
    space = Space({"x": FloatVar(0.0, 1.0), "lr": FloatVar(1e-4, 1.0, log=True)})
    enc, pe = fitted(space, n=5)
    grid = (np.arange(400) + 0.5) / 400
    xs, ys = np.meshgrid(grid, grid)
    rows = np.column_stack((xs.ravel(), ys.ravel()))
    assert np.exp(pe.log_pdf(rows)).mean() == pytest.approx(1.0, abs=1e-3)


def test_samples_follow_the_density():
    space = discrete_space()
    enc, pe = fitted(space, n=20, seed=1)
    draws = pe.sample(np.random.default_rng(2), 100_000)
    counts = Counter(map(lambda r: np.nan_to_num(r, nan=-1).round(9).tobytes(), draws))
    points = GridSampler().points(space)
    rows = np.array([enc.encode(p) for p in points])
    expected = np.exp(pe.log_pdf(rows))
    seen = np.array([counts.get(np.nan_to_num(r, nan=-1).round(9).tobytes(), 0) for r in rows]) / 100_000
    assert seen.sum() == pytest.approx(1.0)  # every draw is a valid configuration
    assert np.abs(seen - expected).max() < 5 * np.sqrt(expected.max() / 100_000)


def test_kernels_keep_an_option_and_its_sub_values_together():
    """Kernels at (a, level 2) and (b, level 7): (a, 2) and (b, 7) are likely, (a, 7) and (b, 2) are not."""
    space = Space({"s": ModuleVar({"a": ModuleOption(params={"level": IntVar(0, 9)}), "b": ModuleOption(params={"level": IntVar(0, 9)})})})
    enc = SpaceEncoding(space)
    obs = np.array([enc.encode({"s": "a", "s.a.level": 2}), enc.encode({"s": "b", "s.b.level": 7})] * 5)
    pe = ParzenEstimator(enc, obs)
    score = {
        (o, v): float(pe.log_pdf(enc.encode({"s": o, f"s.{o}.level": v})[None, :])[0]) for o in "ab" for v in (2, 7)
    }
    assert score[("a", 2)] > score[("a", 7)] + 2
    assert score[("b", 7)] > score[("b", 2)] + 2


def test_leaf_draws_follow_the_conditional_density():
    """sample_leaf with the kernels' weights times their density at a row's option draws the
    leaf from its density given that option, which differs from its density over all trials."""
    space = Space({"c": ChoiceVar(["a", "b"]), "x": FloatVar(0.0, 1.0)})
    enc, pe = fitted(space, n=8, seed=3)
    given = pe.log_w + pe.leaf_log_kernels(0, np.array([1.0]))[0]
    draws = pe.sample_leaf(1, given, np.random.default_rng(4), 100_000)
    edges = np.linspace(0.0, 1.0, 11)
    seen = np.histogram(draws, edges)[0] / 100_000
    grid = (np.arange(10_000) + 0.5) / 10_000
    density = np.exp(parzen.logsumexp_rows(pe.leaf_log_kernels(1, grid) + given) - parzen.logsumexp_rows(given[None, :]))
    expected = density.reshape(10, -1).mean(axis=1) / 10
    assert expected.sum() == pytest.approx(1.0, abs=1e-3)
    assert np.abs(seen - expected).max() < 5 * np.sqrt(expected.max() / 100_000)
    marginal = np.exp(parzen.logsumexp_rows(pe.leaf_log_kernels(1, grid) + pe.log_w)).reshape(10, -1).mean(axis=1) / 10
    assert np.abs(marginal - expected).max() > 10 * np.sqrt(expected.max() / 100_000)
