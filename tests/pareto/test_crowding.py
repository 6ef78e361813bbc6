"""Tests for NSGA-II crowding distance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmopt.pareto import crowding_distance


def brute_crowding(points: np.ndarray) -> np.ndarray:
    """Direct transcription of the NSGA-II definition (stable sort per objective)."""
    n, m = points.shape
    if n <= 2:
        return np.full(n, np.inf)
    distance = [0.0] * n
    for j in range(m):
        column = [float(v) for v in points[:, j]]
        low, high = min(column), max(column)
        if high == low:
            continue
        order = sorted(range(n), key=lambda i: column[i])
        distance[order[0]] = distance[order[-1]] = float("inf")
        for k in range(1, n - 1):
            distance[order[k]] += (column[order[k + 1]] - column[order[k - 1]]) / (high - low)
    return np.array(distance)


point_sets = st.tuples(st.integers(0, 25), st.integers(1, 4)).flatmap(
    lambda shape: arrays(
        np.float64, shape, elements=st.floats(-1e3, 1e3, allow_nan=False, width=32)
    )
)


def test_empty() -> None:
    assert crowding_distance(np.empty((0, 2))).shape == (0,)
    assert crowding_distance([]).shape == (0,)


@pytest.mark.parametrize("n", [1, 2])
def test_tiny_sets_are_all_boundary(n: int) -> None:
    np.testing.assert_array_equal(crowding_distance(np.zeros((n, 3))), np.full(n, np.inf))


def test_known_2d_front() -> None:
    pts = [[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]]
    expected = [np.inf, (3 - 0) / 4 + (4 - 1) / 4, (4 - 1) / 4 + (2 - 0) / 4, np.inf]
    np.testing.assert_allclose(crowding_distance(pts), expected)


def test_boundaries_are_infinite_interior_finite() -> None:
    pts = np.column_stack([np.linspace(0, 1, 10), np.linspace(1, 0, 10)])
    distance = crowding_distance(pts)
    assert np.isinf(distance[[0, -1]]).all()
    assert np.isfinite(distance[1:-1]).all()
    np.testing.assert_allclose(distance[1:-1], 2 * (2 / 9))


def test_zero_range_objective_contributes_nothing() -> None:
    pts = np.array([[0.0, 5.0], [1.0, 5.0], [3.0, 5.0], [4.0, 5.0]])
    np.testing.assert_allclose(crowding_distance(pts), [np.inf, 3 / 4, 3 / 4, np.inf])


def test_identical_points_have_zero_distance() -> None:
    np.testing.assert_array_equal(crowding_distance(np.ones((5, 3))), np.zeros(5))


def test_one_objective() -> None:
    np.testing.assert_allclose(
        crowding_distance([[0.0], [3.0], [1.0], [4.0]]), [np.inf, 0.75, 0.75, np.inf]
    )


@pytest.mark.parametrize(
    "bad", [[[1.0, np.nan], [0, 0], [1, 1]], [[1.0, np.inf], [0, 0], [1, 1]]]
)
def test_rejects_non_finite(bad: list) -> None:
    with pytest.raises(ValueError):
        crowding_distance(bad)


def test_rejects_non_matrix() -> None:
    with pytest.raises(ValueError, match="2-D"):
        crowding_distance([1.0, 2.0, 3.0])


@settings(max_examples=200, deadline=None)
@given(point_sets)
def test_matches_definition(points: np.ndarray) -> None:
    np.testing.assert_allclose(crowding_distance(points), brute_crowding(points), rtol=1e-12)


int_point_sets = st.tuples(st.integers(1, 20), st.integers(1, 4)).flatmap(
    lambda shape: arrays(np.float64, shape, elements=st.integers(-100, 100).map(float))
)


@settings(max_examples=100, deadline=None)
@given(int_point_sets, st.sampled_from([0.25, 0.5, 2.0, 8.0]), st.integers(-50, 50))
def test_nonnegative_and_invariant_to_affine_rescaling(
    points: np.ndarray, scale: float, shift: int
) -> None:
    # Each objective is normalised by its range, so a positive affine map changes nothing.
    # Integer points, power-of-two scales and integer shifts keep the arithmetic exact.
    distance = crowding_distance(points)
    assert distance.shape == (len(points),)
    assert np.all(distance >= 0)
    np.testing.assert_array_equal(crowding_distance(points * scale + shift), distance)
