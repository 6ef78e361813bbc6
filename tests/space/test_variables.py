"""Tests for the typed variables of a search space: construction, snap, grid, contains, bad definitions."""

from __future__ import annotations

import collections
import json
import math

import pytest
import numpy as np

from llmopt.errors import LLMOptError, SpaceError
from llmopt.space import ChoiceVar, CompositeVar, Forbid, FloatVar, IntVar, ModuleOption, ModuleVar

# ---------------------------------------------------------------- construction


def test_floatvar_positional_and_keyword_are_equal():
    a = FloatVar(0.1, 2.0, log=True)
    b = FloatVar(low=0.1, high=2.0, log=True)
    assert a == b
    assert (a.low, a.high, a.log, a.step, a.kind) == (0.1, 2.0, True, None, "float")


def test_floatvar_int_bounds_become_floats_and_zero_low_is_kept():
    var = FloatVar(0, 1, step=0.25)
    assert var.low == 0.0 and isinstance(var.low, float)
    assert var.high == 1.0 and isinstance(var.high, float)
    assert var.step == 0.25


def test_floatvar_missing_bound_is_a_space_error_naming_the_key():
    with pytest.raises(SpaceError) as info:
        FloatVar(0)
    assert "high" in info.value.message
    assert info.value.hint


def test_intvar_positional_and_keyword():
    a = IntVar(1, 9, step=2)
    b = IntVar(low=1, high=9, step=2)
    assert a == b
    assert (a.low, a.high, a.step, a.stride, a.kind) == (1, 9, 2, 2, "int")
    assert IntVar(0, 5).stride == 1


def test_choicevar_positional_and_keyword_keep_types():
    a = ChoiceVar([1, True, 1.0, "1", None])
    b = ChoiceVar(options=[1, True, 1.0, "1", None])
    assert a == b
    assert [type(o) for o in a.options] == [int, bool, float, str, type(None)]
    assert ChoiceVar(("x", "y")).options == ["x", "y"]  # any iterable becomes a list


def test_variables_are_frozen():
    var = FloatVar(0, 1)
    with pytest.raises(ValueError, match="frozen"):
        var.low = 0.5  # type: ignore[misc]
    assert var.low == 0.0


def test_moduleoption_positional_and_keyword():
    params = {"hops": IntVar(1, 3)}
    a = ModuleOption(json.dumps, params)
    b = ModuleOption(impl=json.dumps, params=params)
    assert a == b
    assert a.resolve() is json.dumps
    assert ModuleOption().impl is None and ModuleOption().params == {}
    assert ModuleOption().resolve() is None


def test_moduleoption_import_path_is_resolved():
    option = ModuleOption("collections:OrderedDict")
    assert option.impl == "collections:OrderedDict"
    assert option.resolve() is collections.OrderedDict
    assert ModuleOption("os.path:join").resolve().__name__ == "join"  # dotted module


def test_moduleoption_unresolvable_path_fails_on_resolve_with_space_error():
    option = ModuleOption("no_such_module_llmopt_test:Thing")
    with pytest.raises(SpaceError, match="no_such_module_llmopt_test"):
        option.resolve()
    with pytest.raises(SpaceError, match="has no attribute"):
        ModuleOption("json:no_such_attr").resolve()


def test_modulevar_shorthand_wraps_bare_impls():
    var = ModuleVar({"predict": None, "dumps": json.dumps, "path": "json:loads"})
    assert list(var.options) == ["predict", "dumps", "path"]
    assert all(isinstance(o, ModuleOption) for o in var.options.values())
    assert var.options["predict"].impl is None
    assert var.options["dumps"].resolve() is json.dumps
    assert var.options["path"].resolve() is json.loads


def test_modulevar_positional_keyword_and_dict_options():
    a = ModuleVar({"cot": ModuleOption(params={"hops": IntVar(1, 3)})})
    b = ModuleVar(options={"cot": {"params": {"hops": {"kind": "int", "low": 1, "high": 3}}}})
    assert a == b
    assert a.grid() == ["cot"]


def test_compositevar_positional_and_keyword():
    variables = {"k": IntVar(1, 10), "kind": ChoiceVar(["bm25", "dense"])}
    constraints = [Forbid({"kind": "dense", "k": 1})]
    a = CompositeVar(variables, constraints)
    b = CompositeVar(variables=variables, constraints=constraints)
    assert a == b
    assert list(a.variables) == ["k", "kind"]
    assert a.constraints[0].when == {"kind": "dense", "k": 1}
    assert CompositeVar({"x": FloatVar(0, 1)}).constraints == []


def test_names_may_use_letters_digits_underscore_dash():
    var = CompositeVar({"_a": IntVar(0, 1), "b-2": IntVar(0, 1), "C3": IntVar(0, 1)})
    assert list(var.variables) == ["_a", "b-2", "C3"]


# ---------------------------------------------------------------- snap


def test_floatvar_snap_without_step_only_clamps():
    var = FloatVar(0.0, 1.0)
    assert var.snap(0.123456789) == 0.123456789
    assert var.snap(-3) == 0.0
    assert var.snap(7) == 1.0
    assert isinstance(var.snap(1), float)


def test_floatvar_snap_rounds_to_step_without_float_noise():
    var = FloatVar(0.0, 1.0, step=0.1)
    assert var.snap(0.3000000001) == 0.3
    assert var.snap(0.1 + 0.2) == 0.3  # not 0.30000000000000004
    assert var.snap(0.34) == 0.3
    assert var.snap(0.36) == 0.4
    assert var.snap(2.0) == 1.0
    assert var.snap(-1.0) == 0.0


def test_floatvar_snap_with_offset_low():
    var = FloatVar(0.5, 2.0, step=0.5)
    assert var.snap(0.74) == 0.5
    assert var.snap(0.76) == 1.0
    assert var.snap(1.9) == 2.0


def test_intvar_snap():
    var = IntVar(0, 9, step=3)
    assert var.snap(8) == 9
    assert var.snap(4.4) == 3
    assert var.snap(100) == 9
    assert var.snap(-5) == 0
    assert isinstance(var.snap(4.4), int)
    assert IntVar(2, 10, step=2).snap(5.2) == 6
    assert IntVar(1, 5).snap(2.7) == 3


# ---------------------------------------------------------------- grid


def test_floatvar_grid():
    assert FloatVar(0.0, 1.0, step=0.1).grid() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert FloatVar(-1, 1, step=0.5).grid() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert FloatVar(2, 2, step=0.5).grid() == [2.0]


def test_floatvar_without_step_has_no_grid():
    with pytest.raises(SpaceError) as info:
        FloatVar(0, 1).grid()
    assert "no step" in info.value.message
    assert "float_points" in info.value.hint


def test_int_choice_module_grids():
    assert IntVar(1, 5).grid() == [1, 2, 3, 4, 5]
    assert IntVar(0, 10, step=5).grid() == [0, 5, 10]
    assert ChoiceVar(["b", "a", None]).grid() == ["b", "a", None]
    assert ModuleVar({"z": None, "a": None}).grid() == ["z", "a"]


def test_grid_returns_a_copy():
    var = ChoiceVar(["a", "b"])
    var.grid().append("c")
    assert var.options == ["a", "b"]


# ---------------------------------------------------------------- contains


def test_floatvar_contains():
    var = FloatVar(0.0, 1.0, step=0.25)
    assert var.contains(0.5)
    assert var.contains(1)  # an int is a number in range
    assert var.contains(0.1 + 0.15)  # float noise within tolerance
    assert not var.contains(0.3)
    assert not var.contains(1.25)
    assert not var.contains(-0.25)
    assert not var.contains(True)
    assert not var.contains("0.5")
    assert not var.contains(None)
    free = FloatVar(0.0, 1.0)
    assert free.contains(0.3) and free.contains(0) and not free.contains(1.0000001)


def test_intvar_contains():
    var = IntVar(0, 10, step=2)
    assert var.contains(4)
    assert not var.contains(3)
    assert not var.contains(4.0)  # a float is not an int
    assert not var.contains(True)
    assert not var.contains(12)
    assert not var.contains(-2)
    assert not var.contains("4")


def test_choicevar_contains_keeps_bool_int_float_str_apart():
    ints = ChoiceVar([1, 0])
    assert ints.contains(1) and ints.contains(0)
    assert not ints.contains(True)
    assert not ints.contains(False)
    assert not ints.contains(1.0)
    assert not ints.contains("1")

    bools = ChoiceVar([True])
    assert bools.contains(True)
    assert not bools.contains(1)
    assert not bools.contains(1.0)

    floats = ChoiceVar([1.0, 0.5])
    assert floats.contains(1.0) and floats.contains(0.5)
    assert not floats.contains(1)
    assert not floats.contains(True)

    mixed = ChoiceVar(["a", None])
    assert mixed.contains(None) and mixed.contains("a")
    assert not mixed.contains("b")
    assert not mixed.contains(0)


def test_choicevar_allows_values_equal_across_types():
    var = ChoiceVar([1, True, 1.0, "1"])
    assert len(var.options) == 4
    assert all(var.contains(v) for v in [1, True, 1.0, "1"])
    assert not var.contains(False)


def test_modulevar_contains_only_option_names():
    var = ModuleVar({"predict": None, "cot": json.dumps})
    assert var.contains("predict") and var.contains("cot")
    assert not var.contains("react")
    assert not var.contains(json.dumps)
    assert not var.contains(None)


# ---------------------------------------------------------------- bad definitions


def _space_error(fn) -> SpaceError:
    with pytest.raises(SpaceError) as info:
        fn()
    err = info.value
    assert isinstance(err, LLMOptError) and isinstance(err, ValueError)
    assert err.message, "a SpaceError must say what is wrong"
    assert err.hint, f"a SpaceError must say how to fix it: {err.message!r}"
    assert err.hint in str(err) and err.message in str(err)
    return err


BAD_DEFINITIONS = [
    pytest.param(lambda: FloatVar(1.0, 0.0), ["low=1.0", "high=0.0"], id="float-low-above-high"),
    pytest.param(lambda: IntVar(5, 3), ["low=5", "high=3"], id="int-low-above-high"),
    pytest.param(lambda: FloatVar(0.0, 1.0, log=True), ["log", "low=0.0"], id="float-log-low-zero"),
    pytest.param(lambda: FloatVar(-1.0, 1.0, log=True), ["log", "low=-1.0"], id="float-log-low-negative"),
    pytest.param(lambda: IntVar(0, 10, log=True), ["log", "low=0"], id="int-log-low-zero"),
    pytest.param(lambda: FloatVar(0.0, 1.0, step=0.3), ["step=0.3", "does not divide"], id="float-step-not-dividing"),
    pytest.param(lambda: FloatVar(0.0, 1.0, step=2.0), ["step=2.0", "does not divide"], id="float-step-too-large"),
    pytest.param(lambda: IntVar(0, 10, step=3), ["step=3", "does not divide"], id="int-step-not-dividing"),
    pytest.param(lambda: FloatVar(0.0, 1.0, step=0.0), ["step", "> 0"], id="float-step-zero"),
    pytest.param(lambda: FloatVar(0.0, 1.0, step=-0.5), ["step=-0.5"], id="float-step-negative"),
    pytest.param(lambda: IntVar(0, 10, step=0), ["step", "> 0"], id="int-step-zero"),
    pytest.param(lambda: IntVar(0, 10, step=-2), ["step=-2"], id="int-step-negative"),
    pytest.param(lambda: FloatVar(0.1, 1.0, step=0.1, log=True), ["step", "log"], id="float-step-with-log"),
    pytest.param(lambda: IntVar(1, 9, step=2, log=True), ["step", "log"], id="int-step-with-log"),
    pytest.param(lambda: ChoiceVar([]), ["at least one option"], id="choice-empty"),
    pytest.param(lambda: ChoiceVar(["a", "b", "a"]), ["'a'", "twice"], id="choice-duplicate-str"),
    pytest.param(lambda: ChoiceVar([1, 2, 1]), ["1", "twice"], id="choice-duplicate-int"),
    pytest.param(lambda: ChoiceVar([None, None]), ["None", "twice"], id="choice-duplicate-none"),
    pytest.param(lambda: ChoiceVar([0.5, math.nan]), ["nan", "finite"], id="choice-nan"),
    pytest.param(lambda: ModuleVar({}), ["at least one option"], id="module-empty"),
    pytest.param(lambda: CompositeVar({}), ["at least one variable"], id="composite-empty"),
    pytest.param(lambda: FloatVar(0, 1, lg=True), ["unknown key", "lg"], id="float-unknown-key"),
    pytest.param(lambda: IntVar(0, 1, setp=1), ["unknown key", "setp"], id="int-unknown-key"),
    pytest.param(lambda: ChoiceVar(["a"], choices=["b"]), ["unknown key", "choices"], id="choice-unknown-key"),
    pytest.param(lambda: ModuleOption(impl=None, parms={}), ["unknown key", "parms"], id="option-unknown-key"),
    pytest.param(lambda: CompositeVar({"a": IntVar(0, 1)}, contraints=[]), ["unknown key", "contraints"], id="composite-unknown-key"),
    pytest.param(lambda: CompositeVar({"a.b": IntVar(0, 1)}), ["'a.b'", "not a valid name"], id="composite-dotted-name"),
    pytest.param(lambda: CompositeVar({"a b": IntVar(0, 1)}), ["'a b'", "not a valid name"], id="composite-spaced-name"),
    pytest.param(lambda: CompositeVar({"1a": IntVar(0, 1)}), ["'1a'", "not a valid name"], id="composite-digit-first"),
    pytest.param(lambda: CompositeVar({"": IntVar(0, 1)}), ["''", "not a valid name"], id="composite-empty-name"),
    pytest.param(lambda: ModuleVar({"c.o.t": None}), ["'c.o.t'", "not a valid name"], id="module-dotted-option"),
    pytest.param(
        lambda: ModuleOption(params={"hops.max": IntVar(1, 3)}), ["'hops.max'", "not a valid name"], id="option-dotted-param"
    ),
    pytest.param(
        lambda: ModuleVar({"cot": ModuleOption(params={"a.b": IntVar(1, 3)})}), ["'a.b'", "not a valid name"],
        id="nested-dotted-param",
    ),
    pytest.param(lambda: FloatVar(0.0, math.inf), ["finite", "inf"], id="float-inf-high"),
    pytest.param(lambda: FloatVar(-math.inf, 0.0), ["finite", "-inf"], id="float-inf-low"),
    pytest.param(lambda: FloatVar(math.nan, 1.0), ["finite", "nan"], id="float-nan-low"),
    pytest.param(lambda: ModuleOption(impl="json.dumps"), ["'json.dumps'", "not an import path"], id="impl-dotted-not-path"),
    pytest.param(lambda: ModuleOption(impl="dumps"), ["'dumps'", "not an import path"], id="impl-bare-name"),
    pytest.param(lambda: ModuleVar({"d": "json.dumps"}), ["'json.dumps'", "not an import path"], id="impl-shorthand-not-path"),
]


@pytest.mark.parametrize(("make", "needles"), BAD_DEFINITIONS)
def test_bad_definition_raises_space_error_with_message_and_hint(make, needles):
    err = _space_error(make)
    for needle in needles:
        assert needle in err.message, f"{needle!r} not in {err.message!r}"


def test_nested_bad_definition_names_where_it_is():
    err = _space_error(lambda: CompositeVar({"retriever": {"kind": "float", "low": 0, "high": 1, "lg": True}}))
    assert "retriever" in err.message and "lg" in err.message


def test_step_error_hint_proposes_a_dividing_high():
    err = _space_error(lambda: FloatVar(0.0, 1.0, step=0.3))
    assert "high=0.9" in err.hint
    err = _space_error(lambda: IntVar(0, 10, step=3))
    assert "high=9" in err.hint


def test_intvar_non_finite_bound_has_hint():
    err = _space_error(lambda: IntVar(0, math.inf))
    assert "finite" in err.message


@pytest.mark.parametrize("impl", ["json:", ":dumps", ":"])
def test_moduleoption_rejects_import_path_with_empty_part(impl):
    _space_error(lambda: ModuleOption(impl=impl))


# ---------------------------------------------------------------- snap stays in the domain


def test_grid_points_are_all_contained_for_nice_bounds():
    for var in [FloatVar(0, 1, step=0.1), FloatVar(-2.5, 2.5, step=0.5), FloatVar(0.1, 0.7, step=0.2)]:
        grid = var.grid()
        assert all(var.contains(v) for v in grid), grid
        assert grid[0] == var.low and grid[-1] == var.high
        assert len(set(grid)) == len(grid)


def test_snap_of_low_stays_in_domain_for_low_with_many_digits():
    var = FloatVar(1 / 3, 4 / 3, step=1 / 3)
    assert var.snap(var.low) >= var.low
    assert all(var.contains(v) for v in var.grid())


def test_every_grid_point_is_in_the_domain_for_arbitrary_bounds():
    # e.g. FloatVar(10.940298669115123, 11.940298669115123, step=1.0).grid()[0] == 10.9402986691 < low
    rng = np.random.default_rng(0)
    outside = []
    for _ in range(200):
        low, step, n = float(rng.uniform(-1000, 1000)), float(rng.uniform(0.001, 10)), int(rng.integers(1, 20))
        try:
            var = FloatVar(low, low + n * step, step=step)
        except SpaceError:
            continue
        outside += [(var, v) for v in var.grid() if not var.contains(v)]
    assert outside == []
