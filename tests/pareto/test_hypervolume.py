"""Tests for exact hypervolume and exclusive hypervolume contributions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmopt.pareto import hypervolume, hypervolume_contributions

# ---------------------------------------------------------------- brute-force references


def inclusion_exclusion(points: np.ndarray, reference: np.ndarray) -> float:
    """Exact union volume of the boxes [p, ref] by inclusion-exclusion (small n only)."""
    points = np.asarray(points, dtype=float)
    reference = np.asarray(reference, dtype=float)
    total = 0.0
    for size in range(1, len(points) + 1):
        sign = 1.0 if size % 2 else -1.0
        for subset in itertools.combinations(range(len(points)), size):
            corner = points[list(subset)].max(axis=0)
            total += sign * float(np.prod(np.clip(reference - corner, 0.0, None)))
    return total


def grid_count(points: np.ndarray, reference: np.ndarray) -> float:
    """Count unit cells covered by some box [p, ref]; exact for integer coordinates."""
    points = np.asarray(points, dtype=float)
    reference = np.asarray(reference, dtype=float)
    if len(points) == 0:
        return 0.0
    low = np.minimum(points.min(axis=0), reference)
    axes = [np.arange(lo, hi) for lo, hi in zip(low, reference)]
    cells = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(reference))
    covered = np.all(points[None, :, :] <= cells[:, None, :], axis=2).any(axis=1)
    return float(covered.sum())


def leave_one_out(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    full = hypervolume(points, reference)
    return np.array(
        [full - hypervolume(np.delete(points, i, axis=0), reference) for i in range(len(points))]
    )


def sphere_front(n: int, m: int, seed: int = 0) -> np.ndarray:
    x = np.abs(np.random.default_rng(seed).normal(size=(n, m))) + 1e-9
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def point_sets(max_n: int, max_m: int = 4, hi: int = 6) -> st.SearchStrategy[np.ndarray]:
    """Integer coordinates in [0, hi]; the tests use reference hi - 1 .. hi + 1 so some fall out."""
    shapes = st.tuples(st.integers(0, max_n), st.integers(1, max_m))
    return shapes.flatmap(
        lambda shape: arrays(np.float64, shape, elements=st.integers(0, hi).map(float))
    )


def float_sets(max_n: int) -> st.SearchStrategy[np.ndarray]:
    shapes = st.tuples(st.integers(0, max_n), st.integers(1, 4))
    return shapes.flatmap(
        lambda shape: arrays(
            np.float64, shape, elements=st.floats(0, 1, allow_nan=False, width=32)
        )
    )


def ref_for(points: np.ndarray, value: float = 6.0) -> np.ndarray:
    return np.full(points.shape[1], value)


close = dict(rel=1e-9, abs=1e-9)

# ---------------------------------------------------------------- known values and edges


def test_empty_inputs() -> None:
    assert hypervolume([], [1.0, 1.0]) == 0.0
    assert hypervolume(np.empty((0, 3)), [1.0, 1.0, 1.0]) == 0.0
    assert hypervolume_contributions(np.empty((0, 2)), [1.0, 1.0]).shape == (0,)


def test_returns_builtin_float() -> None:
    for m in (1, 2, 3, 4):
        assert type(hypervolume(np.zeros((2, m)), np.ones(m))) is float


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5])
def test_single_point_is_its_box(m: int) -> None:
    point = np.arange(1.0, m + 1.0)
    reference = point + np.arange(1.0, m + 1.0) * 0.5
    assert hypervolume([point], reference) == pytest.approx(np.prod(reference - point))


def test_one_objective() -> None:
    assert hypervolume([[3.0], [1.0], [2.0], [7.0]], [5.0]) == 4.0
    np.testing.assert_allclose(
        hypervolume_contributions([[3.0], [1.0], [2.0], [7.0]], [5.0]), [0, 1, 0, 0]
    )


def test_known_2d() -> None:
    pts = [[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]
    assert hypervolume(pts, [4.0, 4.0]) == 6.0
    np.testing.assert_allclose(hypervolume_contributions(pts, [4.0, 4.0]), [1.0, 1.0, 1.0])


def test_known_3d() -> None:
    pts = np.eye(3)
    # Three 1x2x2 boxes, pairwise overlaps 1x1x2, triple overlap 1x1x1.
    assert hypervolume(pts, [2.0, 2.0, 2.0]) == 7.0
    np.testing.assert_allclose(hypervolume_contributions(pts, [2.0, 2.0, 2.0]), [1.0, 1.0, 1.0])


def test_known_4d() -> None:
    pts = np.eye(4)
    expected = inclusion_exclusion(pts, np.full(4, 2.0))
    assert expected == 4 * 8 - 6 * 4 + 4 * 2 - 1
    assert hypervolume(pts, np.full(4, 2.0)) == expected


def test_points_outside_or_on_reference_are_dropped() -> None:
    reference = [4.0, 4.0]
    base = [[1.0, 1.0]]
    extra = [[5.0, 0.0], [0.0, 4.0], [4.0, 4.0], [np.inf, 0.0]]
    assert hypervolume(base + extra, reference) == 9.0
    np.testing.assert_array_equal(
        hypervolume_contributions(base + extra, reference), [9.0, 0, 0, 0, 0]
    )
    assert hypervolume(extra, reference) == 0.0


def test_negative_infinity_gives_unbounded_volume() -> None:
    assert hypervolume([[-np.inf, 1.0], [1.0, 1.0]], [2.0, 2.0]) == math.inf
    with pytest.raises(ValueError, match="-inf"):
        hypervolume_contributions([[-np.inf, 1.0]], [2.0, 2.0])


def test_reference_length_mismatch_is_named() -> None:
    with pytest.raises(ValueError, match="reference has 2 objectives but points have 3"):
        hypervolume(np.zeros((4, 3)), [1.0, 1.0])
    with pytest.raises(ValueError, match="reference has 4 objectives but points have 3"):
        hypervolume_contributions(np.zeros((4, 3)), [1.0, 1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("points", "reference", "message"),
    [
        ([[1.0, np.nan]], [2.0, 2.0], "NaN"),
        ([[1.0, 1.0]], [2.0, np.nan], "finite"),
        ([[1.0, 1.0]], [2.0, np.inf], "finite"),
        ([[1.0, 1.0]], [], "non-empty"),
        ([[1.0, 1.0]], [[2.0, 2.0]], "1-D"),
        ([1.0, 1.0], [2.0, 2.0], "2-D"),
    ],
)
def test_invalid_inputs(points: object, reference: object, message: str) -> None:
    for fn in (hypervolume, hypervolume_contributions):
        with pytest.raises(ValueError, match=message):
            fn(points, reference)


def test_does_not_modify_inputs() -> None:
    pts = sphere_front(20, 3)
    reference = np.ones(3) * 1.1
    before = pts.copy(), reference.copy()
    hypervolume(pts, reference)
    hypervolume_contributions(pts, reference)
    np.testing.assert_array_equal(pts, before[0])
    np.testing.assert_array_equal(reference, before[1])


def test_contributions_dominated_point_inside_box_shrinks_dominator_share() -> None:
    # Removing (1, 1) still leaves (2, 2), so its exclusive share is 4 - 1.
    pts = [[1.0, 1.0], [2.0, 2.0]]
    np.testing.assert_allclose(hypervolume_contributions(pts, [3.0, 3.0]), [3.0, 0.0])


def test_contributions_of_duplicates_are_zero() -> None:
    pts = [[1.0, 2.0, 1.0], [1.0, 2.0, 1.0], [2.0, 1.0, 2.0]]
    contributions = hypervolume_contributions(pts, [3.0, 3.0, 3.0])
    assert contributions[0] == contributions[1] == 0.0
    assert contributions[2] > 0.0


# ---------------------------------------------------------------- exact brute-force agreement


@settings(max_examples=250, deadline=None)
@given(point_sets(max_n=8), st.sampled_from([5.0, 6.0, 7.0]))
def test_matches_inclusion_exclusion(points: np.ndarray, ref_value: float) -> None:
    reference = ref_for(points, ref_value)
    assert hypervolume(points, reference) == pytest.approx(
        inclusion_exclusion(points, reference), **close
    )


@settings(max_examples=100, deadline=None)
@given(float_sets(max_n=7))
def test_matches_inclusion_exclusion_on_floats(points: np.ndarray) -> None:
    reference = ref_for(points, 0.9)
    assert hypervolume(points, reference) == pytest.approx(
        inclusion_exclusion(points, reference), **close
    )


@settings(max_examples=150, deadline=None)
@given(point_sets(max_n=30), st.sampled_from([6.0, 7.0]))
def test_matches_grid_count(points: np.ndarray, ref_value: float) -> None:
    reference = ref_for(points, ref_value)
    assert hypervolume(points, reference) == grid_count(points, reference)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_matches_grid_count_on_larger_sets(m: int) -> None:
    rng = np.random.default_rng(m)
    pts = rng.integers(0, 10, size=(150, m)).astype(float)
    reference = np.full(m, 10.0)
    assert hypervolume(pts, reference) == grid_count(pts, reference)


def test_five_objectives() -> None:
    rng = np.random.default_rng(5)
    pts = rng.integers(0, 4, size=(8, 5)).astype(float)
    reference = np.full(5, 4.0)
    assert hypervolume(pts, reference) == pytest.approx(inclusion_exclusion(pts, reference))
    assert hypervolume(pts, reference) == grid_count(pts, reference)


# ---------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(point_sets(max_n=15), st.data())
def test_adding_a_point_never_decreases(points: np.ndarray, data: st.DataObject) -> None:
    m = points.shape[1]
    extra = np.array(data.draw(st.lists(st.integers(0, 7), min_size=m, max_size=m)), dtype=float)
    reference = ref_for(points)
    before = hypervolume(points, reference)
    after = hypervolume(np.vstack([points, extra]), reference)
    assert after >= before - 1e-12


@settings(max_examples=150, deadline=None)
@given(float_sets(max_n=15), st.randoms(use_true_random=False))
def test_order_and_duplicate_invariance(points: np.ndarray, random: object) -> None:
    reference = ref_for(points, 0.9)
    base = hypervolume(points, reference)
    order = list(range(len(points)))
    random.shuffle(order)  # type: ignore[attr-defined]
    assert hypervolume(points[order], reference) == pytest.approx(base, **close)
    doubled = np.vstack([points, points[order[: len(order) // 2 + 1]]]) if len(points) else points
    assert hypervolume(doubled, reference) == pytest.approx(base, **close)


@settings(max_examples=150, deadline=None)
@given(point_sets(max_n=15).filter(len), st.data())
def test_dominated_point_adds_nothing(points: np.ndarray, data: st.DataObject) -> None:
    m = points.shape[1]
    anchor = points[data.draw(st.integers(0, len(points) - 1))]
    shift = np.array(data.draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)), dtype=float)
    reference = ref_for(points)
    assert hypervolume(np.vstack([points, anchor + shift]), reference) == pytest.approx(
        hypervolume(points, reference), **close
    )


@settings(max_examples=150, deadline=None)
@given(point_sets(max_n=10))
def test_contributions_equal_leave_one_out(points: np.ndarray) -> None:
    reference = ref_for(points)
    np.testing.assert_allclose(
        hypervolume_contributions(points, reference),
        leave_one_out(points, reference),
        rtol=1e-9,
        atol=1e-9,
    )


@settings(max_examples=150, deadline=None)
@given(float_sets(max_n=20))
def test_contributions_nonnegative_zero_when_dominated(points: np.ndarray) -> None:
    reference = ref_for(points, 0.9)
    contributions = hypervolume_contributions(points, reference)
    assert contributions.shape == (len(points),)
    assert np.all(contributions >= 0.0)
    for i, p in enumerate(points):
        others = np.delete(points, i, axis=0)
        weakly_covered = np.all(others <= p, axis=1).any() if len(others) else False
        if weakly_covered or not np.all(p < reference):
            assert contributions[i] == 0.0
    assert contributions.sum() <= hypervolume(points, reference) + 1e-9


def test_contributions_match_leave_one_out_on_a_3d_front() -> None:
    pts = sphere_front(40, 3, seed=4)
    reference = np.full(3, 1.1)
    np.testing.assert_allclose(
        hypervolume_contributions(pts, reference), leave_one_out(pts, reference), atol=1e-12
    )
