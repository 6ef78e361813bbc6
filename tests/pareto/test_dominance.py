"""Tests for Pareto dominance, non-dominated filtering/sorting and sign conversion."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmopt.pareto import dominates, non_dominated_mask, non_dominated_sort, to_minimization

# ---------------------------------------------------------------- brute-force references


def brute_dominates(a: np.ndarray, b: np.ndarray) -> bool:
    no_worse = all(x <= y for x, y in zip(a, b))
    better = any(x < y for x, y in zip(a, b))
    return no_worse and better


def brute_mask(points: np.ndarray) -> np.ndarray:
    n = len(points)
    return np.array(
        [not any(brute_dominates(points[j], points[i]) for j in range(n)) for i in range(n)],
        dtype=bool,
    )


def brute_ranks(points: np.ndarray) -> np.ndarray:
    """Textbook NSGA-II fast non-dominated sort (domination counts and dominated sets)."""
    n = len(points)
    dominated_sets: list[list[int]] = [[] for _ in range(n)]
    counts = [0] * n
    for i in range(n):
        for j in range(n):
            if brute_dominates(points[i], points[j]):
                dominated_sets[i].append(j)
            elif brute_dominates(points[j], points[i]):
                counts[i] += 1
    ranks = np.full(n, -1)
    current = [i for i in range(n) if counts[i] == 0]
    rank = 0
    while current:
        nxt = []
        for i in current:
            ranks[i] = rank
            for j in dominated_sets[i]:
                counts[j] -= 1
                if counts[j] == 0:
                    nxt.append(j)
        current = nxt
        rank += 1
    return ranks


def blockwise_mask(points: np.ndarray, block: int = 256) -> np.ndarray:
    """O(n^2) vectorised reference for larger inputs."""
    mask = np.ones(len(points), dtype=bool)
    for start in range(0, len(points), block):
        chunk = points[start : start + block]
        le = np.all(points[:, None, :] <= chunk[None, :, :], axis=2)
        lt = np.any(points[:, None, :] < chunk[None, :, :], axis=2)
        mask[start : start + block] = ~np.any(le & lt, axis=0)
    return mask


def sphere_front(n: int, m: int, seed: int = 0) -> np.ndarray:
    """Points on the positive unit sphere: all mutually non-dominated (worst case for filters)."""
    x = np.abs(np.random.default_rng(seed).normal(size=(n, m))) + 1e-9
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def int_points(max_n: int = 30, max_m: int = 4, hi: int = 5) -> st.SearchStrategy[np.ndarray]:
    """Small integer coordinates so ties and duplicates are common."""
    shapes = st.tuples(st.integers(0, max_n), st.integers(1, max_m))
    return shapes.flatmap(
        lambda shape: arrays(np.float64, shape, elements=st.integers(0, hi).map(float))
    )


float_points = st.tuples(st.integers(0, 25), st.integers(1, 5)).flatmap(
    lambda shape: arrays(
        np.float64,
        shape,
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32),
    )
)

# ---------------------------------------------------------------- dominates


def test_dominates_basic() -> None:
    assert dominates([1, 2], [2, 2])
    assert dominates([1, 1], [2, 2])
    assert not dominates([2, 2], [1, 2])
    assert not dominates([1, 2], [1, 2])  # equal points do not dominate each other
    assert not dominates([1, 3], [2, 2])  # incomparable
    assert not dominates([2, 2], [1, 3])
    assert dominates([0.0], [1.0])
    assert not dominates([-0.0], [0.0])


def test_dominates_returns_builtin_bool() -> None:
    assert type(dominates([1, 2], [2, 2])) is bool


@pytest.mark.parametrize(("a", "b"), [([1, 2], [1, 2, 3]), ([[1, 2]], [[1, 2]])])
def test_dominates_rejects_bad_shapes(a: list, b: list) -> None:
    with pytest.raises(ValueError):
        dominates(a, b)


def test_dominates_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        dominates([np.nan, 1], [2, 2])


@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=3, max_size=3))
def test_dominates_matches_definition_and_is_a_strict_order(triple: list) -> None:
    a, b, c = (np.array(p, dtype=float) for p in triple)
    assert dominates(a, b) == brute_dominates(a, b)
    assert not (dominates(a, b) and dominates(b, a))
    if dominates(a, b) and dominates(b, c):
        assert dominates(a, c)


# ---------------------------------------------------------------- non_dominated_mask


def test_mask_empty() -> None:
    for empty in ([], np.empty((0, 3))):
        mask = non_dominated_mask(empty)
        assert mask.shape == (0,)
        assert mask.dtype == bool


def test_mask_single_point() -> None:
    np.testing.assert_array_equal(non_dominated_mask([[3.0, 4.0, 5.0]]), [True])


def test_mask_known_2d() -> None:
    pts = [[1, 5], [2, 3], [3, 4], [4, 1], [2, 3], [5, 5], [1, 6]]
    np.testing.assert_array_equal(
        non_dominated_mask(pts), [True, True, False, True, True, False, False]
    )


def test_mask_keeps_all_duplicates_of_front_points() -> None:
    pts = np.array([[1.0, 2.0, 3.0]] * 4 + [[2.0, 3.0, 4.0]] * 2 + [[3.0, 1.0, 1.0]])
    np.testing.assert_array_equal(non_dominated_mask(pts), [True] * 4 + [False] * 2 + [True])


def test_mask_one_objective_keeps_every_minimum() -> None:
    np.testing.assert_array_equal(non_dominated_mask([[3], [1], [2], [1]]), [0, 1, 0, 1])


def test_mask_treats_negative_zero_as_zero() -> None:
    pts = np.array([[0.0, 1.0, 1.0], [-0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(non_dominated_mask(pts), [True, True, True])


def test_mask_handles_infinities() -> None:
    pts = [[np.inf, 0.0], [0.0, np.inf], [1.0, 1.0], [-np.inf, 5.0], [np.inf, 1.0]]
    np.testing.assert_array_equal(non_dominated_mask(pts), [True, False, True, True, False])


@pytest.mark.parametrize("bad", [[1.0, 2.0], np.zeros((2, 2, 2))])
def test_mask_rejects_non_matrix(bad: object) -> None:
    with pytest.raises(ValueError, match="2-D"):
        non_dominated_mask(bad)


def test_mask_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        non_dominated_mask([[1.0, np.nan], [0.0, 0.0]])


def test_mask_does_not_modify_input() -> None:
    pts = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 3.0]])
    before = pts.copy()
    non_dominated_mask(pts)
    np.testing.assert_array_equal(pts, before)


@settings(max_examples=200, deadline=None)
@given(int_points())
def test_mask_matches_brute_force_on_ties(points: np.ndarray) -> None:
    np.testing.assert_array_equal(non_dominated_mask(points), brute_mask(points))


@settings(max_examples=100, deadline=None)
@given(float_points)
def test_mask_matches_brute_force_on_floats(points: np.ndarray) -> None:
    np.testing.assert_array_equal(non_dominated_mask(points), brute_mask(points))


@pytest.mark.parametrize("m", [2, 3, 4, 6])
def test_mask_matches_blockwise_reference_at_scale(m: int) -> None:
    rng = np.random.default_rng(m)
    pts = np.vstack(
        [
            rng.integers(0, 12, size=(1200, m)).astype(float),  # many ties and duplicates
            sphere_front(300, m, seed=m),
            rng.random((500, m)),
        ]
    )
    rng.shuffle(pts)
    np.testing.assert_array_equal(non_dominated_mask(pts), blockwise_mask(pts))


def test_mask_whole_front_is_kept() -> None:
    pts = sphere_front(2000, 3)
    assert non_dominated_mask(pts).all()


# ---------------------------------------------------------------- non_dominated_sort


def test_sort_empty_and_single() -> None:
    assert non_dominated_sort(np.empty((0, 2))).shape == (0,)
    np.testing.assert_array_equal(non_dominated_sort([[1.0, 2.0]]), [0])


def test_sort_known_2d() -> None:
    pts = [[1, 1], [2, 2], [3, 3], [1, 3], [3, 1], [2, 2], [0, 5]]
    np.testing.assert_array_equal(non_dominated_sort(pts), [0, 1, 2, 1, 1, 1, 0])


def test_sort_one_objective_is_dense_rank() -> None:
    np.testing.assert_array_equal(non_dominated_sort([[5], [1], [3], [1], [5]]), [2, 0, 1, 0, 2])


def test_sort_chain() -> None:
    pts = np.repeat(np.arange(50.0)[::-1, None], 3, axis=1)
    np.testing.assert_array_equal(non_dominated_sort(pts), np.arange(50)[::-1])


def test_sort_returns_integers() -> None:
    assert np.issubdtype(non_dominated_sort([[1, 2], [2, 1]]).dtype, np.integer)


@settings(max_examples=200, deadline=None)
@given(int_points())
def test_sort_matches_textbook_nsga2(points: np.ndarray) -> None:
    np.testing.assert_array_equal(non_dominated_sort(points), brute_ranks(points))


@settings(max_examples=100, deadline=None)
@given(int_points(max_n=40))
def test_sort_rank_structure(points: np.ndarray) -> None:
    ranks = non_dominated_sort(points)
    np.testing.assert_array_equal(ranks == 0, non_dominated_mask(points))
    for i, rank in enumerate(ranks):
        same = points[ranks == rank]
        assert not any(brute_dominates(q, points[i]) for q in same)
        if rank > 0:
            assert any(brute_dominates(q, points[i]) for q in points[ranks == rank - 1])


def test_sort_matches_reference_at_scale() -> None:
    pts = np.random.default_rng(3).integers(0, 20, size=(400, 3)).astype(float)
    np.testing.assert_array_equal(non_dominated_sort(pts), brute_ranks(pts))


# ---------------------------------------------------------------- to_minimization


def test_to_minimization_negates_maximized_columns() -> None:
    values = np.array([[0.9, 1.5, 200], [0.7, 0.5, 100]])
    out = to_minimization(values, [True, False, False])
    np.testing.assert_array_equal(out, [[-0.9, 1.5, 200], [-0.7, 0.5, 100]])


def test_to_minimization_returns_new_float_array() -> None:
    values = np.array([[1, 2], [3, 4]])
    out = to_minimization(values, (False, True))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[1.0, -2.0], [3.0, -4.0]])
    np.testing.assert_array_equal(values, [[1, 2], [3, 4]])
    unchanged = to_minimization(out, [False, False])
    assert unchanged is not out
    unchanged[0, 0] = 99.0
    assert out[0, 0] == 1.0


def test_to_minimization_single_vector_and_empty() -> None:
    np.testing.assert_array_equal(to_minimization([1.0, 2.0], [True, False]), [-1.0, 2.0])
    assert to_minimization(np.empty((0, 2)), [True, True]).shape == (0, 2)


def test_to_minimization_rejects_length_mismatch() -> None:
    with pytest.raises(ValueError, match="3 objectives but maximize has 2"):
        to_minimization(np.zeros((4, 3)), [True, False])


def test_to_minimization_preserves_dominance_order() -> None:
    # Maximise accuracy, minimise cost: higher accuracy at equal cost must dominate.
    values = np.array([[0.9, 1.0], [0.8, 1.0]])
    mins = to_minimization(values, [True, False])
    assert dominates(mins[0], mins[1])
