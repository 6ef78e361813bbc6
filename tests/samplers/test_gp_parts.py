"""Tests for the GP sampler's parts: kernel distances and gradients, the model, candidates, hypervolume gain."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmopt.samplers.encoding import SpaceEncoding
from llmopt.samplers.gp import kernel
from llmopt.samplers.gp.candidates import neighbours, uniform_rows
from llmopt.samplers.gp.model import GaussianProcess, _neg_log_posterior
from llmopt.samplers.gp.sampler import RATE_CLIP, _objective_scale, _warp
from llmopt.samplers.gp.thompson import hv_improvement, joint_draw
from llmopt.space import ChoiceVar, FloatVar, IntVar, ModuleOption, ModuleVar, Space


def module_space() -> Space:
    return Space(
        {
            "model": ChoiceVar(["s", "m", "l"]),
            "t": FloatVar(0.0, 1.0, step=0.1),
            "x": FloatVar(1e-3, 1.0, log=True),
            "strategy": ModuleVar(
                {
                    "direct": None,
                    "cot": ModuleOption(params={"hops": IntVar(1, 6)}),
                    "tree": ModuleOption(params={"search": ModuleVar({"bfs": ModuleOption(params={"width": IntVar(1, 4)}), "dfs": None})}),
                }
            ),
        }
    )


def test_distances_compare_sub_leaves_only_between_trials_that_picked_the_option():
    enc = SpaceEncoding(module_space())
    a = enc.encode({"model": "s", "t": 0.2, "x": 0.1, "strategy": "cot", "strategy.cot.hops": 2})
    b = enc.encode({"model": "m", "t": 0.2, "x": 0.1, "strategy": "cot", "strategy.cot.hops": 5})
    c = enc.encode({"model": "s", "t": 0.7, "x": 0.1, "strategy": "direct"})
    d = kernel.leaf_distances(enc, np.array([a, b, c]), np.array([a, b, c]))
    col = {code.path: j for j, code in enumerate(enc.leaves)}
    assert d[col["model"]][0, 1] == 1.0 and d[col["model"]][0, 2] == 0.0  # choices: same or not
    assert d[col["t"]][0, 2] == pytest.approx((5 / 11) ** 2)  # numbers: squared gap of their codes (11 grid bins)
    assert 0 < d[col["strategy.cot.hops"]][0, 1] < 1  # both picked cot: compared
    assert d[col["strategy.cot.hops"]][0, 2] == 1.0  # only one has the leaf: as far as can be
    assert d[col["strategy.tree.search"]][0, 2] == 0.0  # neither has it: no difference
    assert np.allclose(d, d.transpose(0, 2, 1)) and np.all(d[:, range(3), range(3)] == 0)


def test_cross_gives_the_same_matrix_as_gram_and_it_is_positive_definite():
    enc = SpaceEncoding(module_space())
    rows = uniform_rows(enc, np.random.default_rng(0), 40)
    theta = np.random.default_rng(1).normal(0, 1, kernel.n_params(enc.n))
    gram = kernel.gram(theta, kernel.leaf_distances(enc, rows, rows))[0]
    assert np.allclose(kernel.cross(enc, [theta], rows, rows)[0], gram)
    assert np.allclose(np.diag(gram), kernel.prior_variance(theta, enc.n))
    assert np.linalg.eigvalsh(gram).min() > -1e-9


def test_posterior_gradient_matches_finite_differences():
    enc = SpaceEncoding(module_space())
    rng = np.random.default_rng(2)
    rows = uniform_rows(enc, rng, 25)
    d = kernel.leaf_distances(enc, rows, rows)
    y = rng.normal(size=25)
    params = np.append(rng.normal(0, 0.5, kernel.n_params(enc.n)), math.log(0.05))
    value, grad = _neg_log_posterior(params, d, y)
    for i in range(len(params)):
        step = np.zeros_like(params)
        step[i] = 1e-6
        numeric = (_neg_log_posterior(params + step, d, y)[0] - _neg_log_posterior(params - step, d, y)[0]) / 2e-6
        assert grad[i] == pytest.approx(numeric, rel=1e-4, abs=1e-5), i


def test_model_interpolates_learns_relevance_and_is_unsure_far_from_data():
    space = Space({"x": FloatVar(0.0, 1.0), "junk": FloatVar(0.0, 1.0)})
    enc = SpaceEncoding(space)
    rng = np.random.default_rng(3)
    rows = rng.uniform(0.0, 0.5, size=(30, 2))
    y = np.sin(6 * rows[:, 0])
    y = (y - y.mean()) / y.std()
    gp = GaussianProcess(kernel.leaf_distances(enc, rows, rows), y)
    w = np.exp(gp.theta[:2])
    assert w[0] > 3 * w[1]  # x matters, junk does not
    near, far = np.array([[0.25, 0.3]]), np.array([[0.95, 0.3]])
    for point, sd_bound in ((near, 0.2), (far, None)):
        k = kernel.cross(enc, [gp.theta], point, rows)[0]
        kk = kernel.cross(enc, [gp.theta], point, point)[0]
        sd = math.sqrt(gp.covariance(k, kk)[0, 0])
        if sd_bound:
            target = (math.sin(1.5) - np.sin(6 * rows[:, 0]).mean()) / np.sin(6 * rows[:, 0]).std()
            assert abs(gp.mean(k)[0] - target) < 0.2 and sd < sd_bound
        else:
            assert sd > 0.3


def test_neighbours_change_one_leaf_and_switch_sub_leaves_with_their_option():
    space = module_space()
    enc = SpaceEncoding(space)
    rng = np.random.default_rng(4)
    row = enc.encode({"model": "s", "t": 0.2, "x": 0.1, "strategy": "tree", "strategy.tree.search": "bfs", "strategy.tree.search.bfs.width": 2})
    moves = neighbours(enc, row, rng)
    top = [j for j, code in enumerate(enc.leaves) if not code.activation]
    assert len(moves) == 2 + 10 + 4 + 2 + 1 + 3  # model, t grid, x nudges, strategy options, search, width
    for move in moves:
        params = enc.decode(move)
        space.validate(params)
        changed = [j for j in top if move[j] != row[j]]
        assert len(changed) <= 1
        assert np.allclose(enc.encode(params), move, equal_nan=True)  # nothing left active under an old option
    to_cot = [m for m in moves if enc.decode(m)["strategy"] == "cot"]
    assert len(to_cot) == 1 and "strategy.cot.hops" in enc.decode(to_cot[0])


def test_uniform_rows_cover_every_option_and_keep_activation():
    space = module_space()
    enc = SpaceEncoding(space)
    rows = uniform_rows(enc, np.random.default_rng(5), 300)
    picked = {enc.decode(r)["strategy"] for r in rows}
    assert picked == {"direct", "cot", "tree"}
    for r in rows[:50]:
        space.validate(enc.decode(r))


def test_hv_improvement_is_zero_behind_the_front_and_grows_with_what_a_point_adds():
    front = np.array([[0.0, 1.0], [1.0, 0.0]])
    points = np.array([[0.9, 0.9], [0.5, 0.5], [0.2, 0.2], [2.0, 2.0]])
    gain = hv_improvement(front, points, np.random.default_rng(6), 4096)
    assert gain[3] == 0.0 and gain[1] > 0.0 and gain[2] > gain[1] > gain[0]
    assert hv_improvement(np.array([[3.0], [1.0]]), np.array([[0.5], [2.0]]), np.random.default_rng(0), 64).tolist() == [0.5, 0.0]


def test_joint_draw_follows_the_covariance_and_survives_a_singular_one():
    rng = np.random.default_rng(7)
    cov = np.array([[1.0, 0.99], [0.99, 1.0]])
    draws = np.array([joint_draw(np.zeros(2), cov, rng) for _ in range(2000)])
    assert np.corrcoef(draws.T)[0, 1] > 0.95
    singular = np.ones((3, 3)) * -1e-3 + np.diag([1e-3, 0, 0])  # not PSD: eigenvalues clipped
    assert np.isfinite(joint_draw(np.zeros(3), singular, rng)).all()


def test_pair_terms_have_their_own_length_scales():
    """A leaf's main effect can be smooth while its interactions are sharp (temperature for most
    strategies against self-consistency near 0.7): moving only the pair scales changes the kernel."""
    enc = SpaceEncoding(module_space())
    rows = uniform_rows(enc, np.random.default_rng(6), 12)
    d = kernel.leaf_distances(enc, rows, rows)
    theta = np.zeros(kernel.n_params(enc.n))
    assert kernel.n_params(enc.n) == 2 * enc.n + 2 and kernel.n_scales(enc.n) == 2 * enc.n
    sharper = theta.copy()
    sharper[enc.n : 2 * enc.n] = 3.0  # pair scales only
    a, b = kernel.gram(theta, d)[0], kernel.gram(sharper, d)[0]
    assert not np.allclose(a, b) and np.allclose(np.diag(a), np.diag(b))


def test_rates_are_modelled_on_the_logit_scale_and_other_values_are_not():
    accuracy = -np.array([0.0, 0.25, 0.5, 0.9, 1.0])  # maximised: stored negated
    logit = _objective_scale(accuracy, maximised=True)
    assert logit[2] == pytest.approx(0.0) and logit[1] == pytest.approx(-math.log(0.25 / 0.75))
    assert np.all(np.diff(logit) < 0) and np.all(np.isfinite(logit))  # order kept, 0 and 1 clipped
    assert logit[0] == pytest.approx(-math.log(RATE_CLIP / (1 - RATE_CLIP)))
    score = -np.array([0.5, 2.0, 7.5])  # not a rate: left to the Box-Cox rule
    assert np.allclose(_objective_scale(score, maximised=True), _warp(score))
    assert np.allclose(_objective_scale(accuracy, maximised=False), _warp(accuracy))  # a minimised one is no rate
