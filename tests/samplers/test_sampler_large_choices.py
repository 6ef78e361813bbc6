"""Model-based samplers on a choice of 100,000 options: memory and time linear in the options' count.

Before: TPE built an options x (options + 1) kernel table (MemoryError at 100,000 options, 3.2 GB
at 20,000) and the GP scored every other option of the front's choice in one joint draw (an
n x n covariance: killed for lack of memory at 20,000 options, MemoryError at 100,000).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

import llmopt
from llmopt.samplers import AutoSampler, GPSampler, TPESampler
from llmopt.samplers.draw import draw_value
from llmopt.samplers.encoding import SpaceEncoding
from llmopt.samplers.gp.candidates import MAX_CHOICE_MOVES, choice_moves, neighbours
from llmopt.samplers.tpe.parzen import MAX_TABLE, ParzenEstimator
from llmopt.space import ChoiceVar, FloatVar, Space
from llmopt.trial import TrialState

OPTIONS = 100_000
PEAK_BYTES = 512 * 2**20  # measured: 15 MB (TPE), 36 MB (default), 112 MB (GP, two objectives)


def big_space(k: int = OPTIONS) -> Space:
    return Space({"item": ChoiceVar([f"o{i}" for i in range(k)]), "x": FloatVar(0, 1)})


def one(trial) -> float:
    return (trial.config["x"] - 0.3) ** 2 + int(trial.config["item"][1:]) % 97 / 97


def two(trial) -> tuple[float, float]:
    item = int(trial.config["item"][1:])
    return item % 97 / 97 + trial.config["x"], (item % 89) / 89 + 1 - trial.config["x"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sampler", "objectives", "fn"),
    [
        (AutoSampler(), {"y": "minimize"}, one),
        (TPESampler(n_startup_trials=5), {"y": "minimize"}, one),
        (GPSampler(), {"a": "minimize", "b": "minimize"}, two),  # a front of several rows, each moving its choice
    ],
    ids=["default", "tpe", "gp-two-objectives"],
)
def test_thirty_trials_on_a_hundred_thousand_options(sampler, objectives, fn) -> None:
    space = big_space()
    study = llmopt.create_study("big", space, objectives, storage=":memory:", sampler=sampler, seed=0)
    tracemalloc.start()
    try:
        study.optimize(fn, n_trials=30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    trials = study.trials
    study.close()
    assert len(trials) == 30 and all(t.state == TrialState.COMPLETE for t in trials)
    assert len({(t.params["item"], t.params["x"]) for t in trials}) == 30
    assert peak < PEAK_BYTES, f"peak {peak / 2**20:.0f} MB of allocations in 30 trials"


def test_large_choice_kernels_equal_the_dense_table() -> None:
    """A choice past MAX_TABLE gets the same numbers as the table it no longer builds."""
    k = 4 * MAX_TABLE
    enc = SpaceEncoding(Space({"c": ChoiceVar(list(range(k))), "x": FloatVar(0, 1)}))
    obs = np.array([[3.0, 0.1], [3.0, 0.4], [900.0, 0.7], [np.nan, 0.2]])
    pe = ParzenEstimator(enc, obs, category_smoothing=4.0)
    assert 0 not in pe._tables
    values = np.arange(k, dtype=float)
    dense = pe._category_table(0, np.isnan(pe.obs[:, 0]))
    assert np.array_equal(pe.leaf_log_kernels(0, values), dense)
    drawn = pe.sample(np.random.default_rng(0), 500)[:, 0]
    assert ((drawn >= 0) & (drawn < k) & (drawn == np.floor(drawn))).all()


def test_small_choices_move_to_every_option_without_drawing() -> None:
    rng = np.random.default_rng(1)
    state = rng.bit_generator.state
    moves = choice_moves(MAX_CHOICE_MOVES, 5, np.array([1.0, 2.0]), rng)
    assert moves == [o for o in range(MAX_CHOICE_MOVES) if o != 5]
    assert rng.bit_generator.state == state  # small spaces propose what they did before


def test_large_choices_move_to_the_seen_options_and_a_sample() -> None:
    rng = np.random.default_rng(2)
    seen = np.array([7.0, 7.0, 123.0, np.nan, 99_999.0, 40.0])
    moves = choice_moves(OPTIONS, 40, seen, rng)
    assert {7, 123, 99_999} <= set(moves) and 40 not in moves
    assert len(moves) == len(set(moves)) <= 2 * MAX_CHOICE_MOVES and len(moves) > MAX_CHOICE_MOVES
    assert moves == sorted(moves) and 0 <= min(moves) and max(moves) < OPTIONS
    many = choice_moves(OPTIONS, 0, np.arange(1.0, 1001.0), rng)  # more seen options than the cap
    assert len(many) <= 2 * MAX_CHOICE_MOVES and 0 not in many


def test_neighbours_of_a_large_choice_stay_few() -> None:
    enc = SpaceEncoding(big_space())
    row = np.array([10.0, 0.5])
    moves = neighbours(enc, row, np.random.default_rng(3), np.array([[10.0, 0.5], [77.0, 0.2]]))
    switched = moves[moves[:, 0] != 10.0]
    assert 77.0 in switched[:, 0] and len(switched) <= 2 * MAX_CHOICE_MOVES
    assert (switched[:, 1] == 0.5).all()  # a choice move keeps the other leaves


def test_decode_and_draw_do_not_copy_the_options() -> None:
    """Both copied the whole list each call: about 0.15 ms per call at 100,000 options."""
    space = big_space()
    enc = SpaceEncoding(space)
    var = space.by_path["item"].var
    rng = np.random.default_rng(4)
    start = time.perf_counter()
    for i in range(20_000):
        assert enc.decode(np.array([float(i), 0.5]))["item"] == f"o{i}"
        draw_value(var, rng)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.5, f"20,000 decodes and draws took {elapsed:.2f}s"  # before: about 6 s; after: about 0.1 s
