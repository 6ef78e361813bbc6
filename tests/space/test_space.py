"""Tests for Space: flattening, activation, validation, constraints, JSON round trip, fingerprint."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import llmopt
from llmopt.errors import SpaceError
from llmopt.space import (
    ChoiceVar,
    CompositeVar,
    Config,
    FloatVar,
    Forbid,
    Implies,
    IntVar,
    ModuleOption,
    ModuleVar,
    Predicate,
    Space,
)

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- module-level predicates (importable)

SEEN_VIEWS: list[dict] = []


def k_within_budget(cfg) -> bool:
    SEEN_VIEWS.append(dict(cfg))
    return cfg["k"] <= cfg["budget"]


def small_sum(cfg) -> bool:
    return cfg["a"] + cfg["b"] <= 4


def explodes(cfg) -> bool:
    raise RuntimeError("kaboom")


# ---------------------------------------------------------------- fixtures


def qa_space() -> Space:
    """A space with a module nested in a module, a composite holding a module, and constraints at every level."""
    return Space(
        {
            "temperature": FloatVar(0.0, 1.0, step=0.25),
            "model": ChoiceVar(["small", "large"]),
            "strategy": ModuleVar(
                {
                    "predict": None,
                    "cot": ModuleOption(
                        params={
                            "hops": IntVar(1, 3),
                            "inner": ModuleVar({"plain": None, "tool": ModuleOption(params={"n": IntVar(0, 4, step=2)})}),
                        }
                    ),
                }
            ),
            "retriever": CompositeVar(
                {
                    "k": IntVar(1, 10),
                    "kind": ModuleVar({"bm25": None, "dense": ModuleOption(params={"dim": ChoiceVar([64, 128])})}),
                },
                constraints=[Forbid({"kind": "dense", "k": [1, 2]})],
            ),
        },
        [
            Forbid({"model": "small", "strategy.cot.inner": "tool"}),
            Implies({"strategy": "cot"}, {"strategy.cot.hops": [2, 3]}),
        ],
    )


def full_values(**overrides):
    values = {
        "temperature": 0.5,
        "model": "large",
        "strategy": "cot",
        "strategy.cot.hops": 2,
        "strategy.cot.inner": "tool",
        "strategy.cot.inner.tool.n": 2,
        "retriever.k": 5,
        "retriever.kind": "dense",
        "retriever.kind.dense.dim": 64,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not ...}


# ---------------------------------------------------------------- flattening and activation


def test_leaves_are_flattened_to_dotted_paths_in_definition_order():
    space = qa_space()
    assert [leaf.path for leaf in space.leaves] == [
        "temperature",
        "model",
        "strategy",
        "strategy.cot.hops",
        "strategy.cot.inner",
        "strategy.cot.inner.tool.n",
        "retriever.k",
        "retriever.kind",
        "retriever.kind.dense.dim",
    ]
    assert set(space.by_path) == {leaf.path for leaf in space.leaves}
    assert isinstance(space.by_path["strategy.cot.inner.tool.n"].var, IntVar)
    assert "retriever" not in space.by_path  # a composite is not a leaf


def test_activation_conditions_chain_through_nested_modules():
    space = qa_space()
    act = {leaf.path: leaf.activation for leaf in space.leaves}
    assert act["temperature"] == ()
    assert act["retriever.k"] == ()
    assert act["strategy.cot.hops"] == (("strategy", "cot"),)
    assert act["strategy.cot.inner.tool.n"] == (("strategy", "cot"), ("strategy.cot.inner", "tool"))
    assert act["retriever.kind.dense.dim"] == (("retriever.kind", "dense"),)


def test_active_leaves_follow_module_choices():
    space = qa_space()
    predict = {"temperature": 0.0, "model": "small", "strategy": "predict", "retriever.k": 3, "retriever.kind": "bm25"}
    assert [l.path for l in space.active_leaves(predict)] == ["temperature", "model", "strategy", "retriever.k", "retriever.kind"]
    cot_plain = {**predict, "strategy": "cot", "strategy.cot.inner": "plain"}
    assert [l.path for l in space.active_leaves(cot_plain)] == [
        "temperature", "model", "strategy", "strategy.cot.hops", "strategy.cot.inner", "retriever.k", "retriever.kind",
    ]
    assert "strategy.cot.inner.tool.n" in [l.path for l in space.active_leaves(full_values())]


def test_module_inside_composite_inside_module_option():
    space = Space(
        {
            "pipe": ModuleVar(
                {
                    "a": None,
                    "b": ModuleOption(
                        params={"g": CompositeVar({"m": ModuleVar({"x": None, "y": ModuleOption(params={"z": IntVar(0, 2)})})})}
                    ),
                }
            )
        }
    )
    assert [l.path for l in space.leaves] == ["pipe", "pipe.b.g.m", "pipe.b.g.m.y.z"]
    assert space.by_path["pipe.b.g.m.y.z"].activation == (("pipe", "b"), ("pipe.b.g.m", "y"))
    cfg = space.validate({"pipe": "b", "pipe.b.g.m": "y", "pipe.b.g.m.y.z": 1})
    assert cfg.nested() == {"pipe": {"option": "b", "params": {"g": {"m": {"option": "y", "params": {"z": 1}}}}}}


def test_space_accepts_raw_dict_definitions():
    space = Space({"t": {"kind": "float", "low": 0, "high": 1}, "m": {"kind": "choice", "options": ["a"]}})
    assert space.by_path["t"].var == FloatVar(0, 1)
    assert space.by_path["m"].var == ChoiceVar(["a"])


def test_space_rejects_non_variables():
    with pytest.raises(SpaceError, match="variables.a"):
        Space({"a": 3})
    with pytest.raises(SpaceError, match="not a valid name"):
        Space({"a.b": IntVar(0, 1)})


# ---------------------------------------------------------------- validate


def test_validate_returns_config_for_a_valid_configuration():
    space = qa_space()
    cfg = space.validate(full_values())
    assert isinstance(cfg, Config)
    assert cfg.to_dict() == full_values()
    cfg2 = space.validate({"temperature": 1.0, "model": "small", "strategy": "predict", "retriever.k": 1, "retriever.kind": "bm25"})
    assert cfg2["strategy"] == "predict"


@pytest.mark.parametrize(
    ("values", "needles"),
    [
        pytest.param(full_values(temperature=...), ["missing 'temperature'"], id="missing-top"),
        pytest.param(full_values(**{"strategy.cot.hops": ...}), ["missing 'strategy.cot.hops'"], id="missing-sub"),
        pytest.param(full_values(**{"retriever.kind.dense.dim": ...}), ["missing 'retriever.kind.dense.dim'"], id="missing-in-composite"),
        pytest.param(full_values(strategy="predict"), ["'strategy.cot.hops' is not an active variable"], id="inactive-present"),
        pytest.param(
            full_values(**{"strategy.cot.inner": "plain"}), ["'strategy.cot.inner.tool.n' is not an active"], id="inactive-nested"
        ),
        pytest.param(full_values(bogus=1), ["'bogus' is not an active variable"], id="unknown-key"),
        pytest.param(full_values(temperature=0.3), ["temperature=0.3 is outside its domain"], id="off-step"),
        pytest.param(full_values(temperature=1.5), ["temperature=1.5 is outside its domain"], id="out-of-range"),
        pytest.param(full_values(model="medium"), ["model='medium' is outside its domain"], id="bad-choice"),
        pytest.param(full_values(**{"retriever.kind.dense.dim": 64.0}), ["retriever.kind.dense.dim=64.0"], id="float-for-int-choice"),
        pytest.param(full_values(**{"strategy.cot.hops": 2.0}), ["strategy.cot.hops=2.0"], id="float-for-int"),
        pytest.param(full_values(**{"strategy.cot.hops": True}), ["strategy.cot.hops=True"], id="bool-for-int"),
        pytest.param(full_values(strategy="react"), ["strategy='react' is outside its domain"], id="unknown-module-option"),
    ],
)
def test_validate_rejects_structurally_invalid_configurations(values, needles):
    with pytest.raises(SpaceError) as info:
        qa_space().validate(values)
    assert info.value.message.startswith("invalid configuration")
    assert info.value.hint
    for needle in needles:
        assert needle in info.value.message


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        pytest.param(full_values(model="small"), "forbid model='small' and strategy.cot.inner='tool'", id="forbid-top"),
        pytest.param(full_values(**{"strategy.cot.hops": 1}), "strategy='cot' implies strategy.cot.hops in [2, 3]", id="implies"),
        pytest.param(full_values(**{"retriever.k": 2}), "forbid kind='dense' and k in [1, 2] (in retriever)", id="forbid-composite"),
    ],
)
def test_validate_rejects_broken_constraints_naming_them(values, needle):
    with pytest.raises(SpaceError) as info:
        qa_space().validate(values)
    assert "breaks constraints" in info.value.message
    assert needle in info.value.message
    assert info.value.hint


def test_constraints_on_inactive_variables_do_not_apply():
    space = qa_space()
    # model=small with inner=plain is fine; retriever.k=1 with bm25 is fine
    values = full_values(model="small", **{"strategy.cot.inner": "plain", "strategy.cot.inner.tool.n": ...})
    values.update({"retriever.k": 1, "retriever.kind": "bm25"})
    del values["retriever.kind.dense.dim"]
    assert space.violations(values) == []
    space.validate(values)


# ---------------------------------------------------------------- constraint semantics


def test_forbid_matches_only_when_all_paths_hold():
    space = Space({"a": ChoiceVar(["x", "y"]), "b": ChoiceVar([1, 2, 3])}, [Forbid({"a": "x", "b": [1, 2]})])
    assert not space.is_feasible({"a": "x", "b": 1})
    assert not space.is_feasible({"a": "x", "b": 2})
    assert space.is_feasible({"a": "x", "b": 3})
    assert space.is_feasible({"a": "y", "b": 1})
    assert space.violations({"a": "x", "b": 2}) == ["forbid a='x' and b in [1, 2]"]


def test_forbid_on_inactive_path_never_matches():
    space = Space(
        {"s": ModuleVar({"p": None, "c": ModuleOption(params={"h": IntVar(1, 3)})}), "m": ChoiceVar(["a", "b"])},
        [Forbid({"s.c.h": 3, "m": "a"})],
    )
    assert space.is_feasible({"s": "p", "m": "a"})
    assert not space.is_feasible({"s": "c", "s.c.h": 3, "m": "a"})


def test_implies_semantics():
    space = Space(
        {"s": ModuleVar({"p": None, "c": ModuleOption(params={"h": IntVar(1, 3)})}), "m": ChoiceVar(["a", "b"])},
        [Implies({"m": "a"}, {"s": "c", "s.c.h": 3})],
    )
    assert space.is_feasible({"m": "b", "s": "p"})  # when does not hold
    assert space.is_feasible({"m": "a", "s": "c", "s.c.h": 3})  # then holds
    assert not space.is_feasible({"m": "a", "s": "c", "s.c.h": 2})  # then partly holds
    assert not space.is_feasible({"m": "a", "s": "p"})  # then's path inactive: does not hold
    assert space.violations({"m": "a", "s": "p"}) == ["m='a' implies s='c' and s.c.h=3"]


def test_constraint_values_keep_bool_apart_from_int():
    space = Space({"flag": ChoiceVar([True, 1, 0, False])}, [Forbid({"flag": True})])
    assert not space.is_feasible({"flag": True})
    assert space.is_feasible({"flag": 1})
    space = Space({"flag": ChoiceVar([True, 1, 0, False])}, [Forbid({"flag": 1})])
    assert space.is_feasible({"flag": True})
    assert not space.is_feasible({"flag": 1})


def test_constraints_scoped_inside_composite_use_relative_paths():
    comp = CompositeVar(
        {"k": IntVar(1, 8), "budget": IntVar(1, 8), "mode": ChoiceVar(["fast", "slow"])},
        constraints=[Forbid({"mode": "fast", "k": 8}), Predicate("k-in-budget", k_within_budget)],
    )
    space = Space({"retriever": comp, "k": ChoiceVar(["top-level"])})
    assert [c.prefix for c in space.constraints] == ["retriever.", "retriever."]
    SEEN_VIEWS.clear()
    ok = {"k": "top-level", "retriever.k": 3, "retriever.budget": 5, "retriever.mode": "slow"}
    space.validate(ok)
    assert SEEN_VIEWS[-1] == {"k": 3, "budget": 5, "mode": "slow"}  # relative view, outer 'k' not leaked
    with pytest.raises(SpaceError, match=r"predicate 'k-in-budget' \(in retriever\)"):
        space.validate({**ok, "retriever.k": 6})
    with pytest.raises(SpaceError, match=r"forbid mode='fast' and k=8 \(in retriever\)"):
        space.validate({**ok, "retriever.k": 8, "retriever.budget": 8, "retriever.mode": "fast"})


def test_constraints_scoped_inside_module_option_params():
    space = Space(
        {
            "s": ModuleVar(
                {
                    "p": None,
                    "c": ModuleOption(
                        params={
                            "g": CompositeVar(
                                {"a": IntVar(0, 3), "b": IntVar(0, 3)},
                                constraints=[Forbid({"a": 0, "b": 0}), Predicate("small-sum", small_sum)],
                            )
                        }
                    ),
                }
            )
        }
    )
    (forbid, pred) = space.constraints
    assert forbid.prefix == "s.c.g." and forbid.activation == (("s", "c"),)
    assert space.validate({"s": "p"}).to_dict() == {"s": "p"}  # inactive: the predicate is not even called
    space.validate({"s": "c", "s.c.g.a": 1, "s.c.g.b": 3})
    with pytest.raises(SpaceError, match=r"forbid a=0 and b=0 \(in s.c.g\)"):
        space.validate({"s": "c", "s.c.g.a": 0, "s.c.g.b": 0})
    with pytest.raises(SpaceError, match=r"predicate 'small-sum' \(in s.c.g\)"):
        space.validate({"s": "c", "s.c.g.a": 2, "s.c.g.b": 3})


def test_predicate_sees_only_active_values():
    SEEN_VIEWS.clear()
    space = Space(
        {
            "k": IntVar(1, 5),
            "budget": IntVar(1, 5),
            "s": ModuleVar({"p": None, "c": ModuleOption(params={"h": IntVar(1, 2)})}),
        },
        [Predicate("k-in-budget", k_within_budget)],
    )
    space.validate({"k": 1, "budget": 2, "s": "p"})
    assert SEEN_VIEWS[-1] == {"k": 1, "budget": 2, "s": "p"}


def test_predicate_that_raises_is_a_space_error_naming_it():
    space = Space({"a": IntVar(0, 3)}, [Predicate("explodes-always", explodes)])
    with pytest.raises(SpaceError) as info:
        space.validate({"a": 1})
    assert "'explodes-always'" in info.value.message
    assert "RuntimeError" in info.value.message and "kaboom" in info.value.message
    assert info.value.hint
    assert isinstance(info.value.__cause__, RuntimeError)
    with pytest.raises(SpaceError, match="explodes-always"):
        space.is_feasible({"a": 1})


def test_predicate_given_by_import_path():
    space = Space({"a": IntVar(0, 3)}, [Predicate("nonempty", "operator:truth"), Predicate("never", "operator:not_")])
    assert space.violations({"a": 1}) == ["predicate 'never'"]


def test_predicate_fn_must_be_callable_or_path():
    with pytest.raises(SpaceError, match="fn must be callable"):
        Predicate("p", 42)


def test_predicate_with_unimportable_path_fails_when_checked():
    space = Space({"a": IntVar(0, 3)}, [Predicate("lost", "no_such_module_llmopt:fn")])
    with pytest.raises(SpaceError, match="no_such_module_llmopt"):
        space.validate({"a": 1})


def test_empty_conditions_are_refused():
    with pytest.raises(SpaceError, match="Forbid needs at least one path"):
        Forbid({})
    with pytest.raises(SpaceError, match="Implies needs non-empty"):
        Implies({"a": 1}, {})
    with pytest.raises(SpaceError, match="Implies needs non-empty"):
        Implies({}, {"a": 1})


# ---------------------------------------------------------------- constraint paths checked at construction


@pytest.mark.parametrize(
    ("variables", "constraint", "needles"),
    [
        pytest.param({"a": IntVar(0, 3)}, Forbid({"b": 1}), ["'b'", "not a variable"], id="unknown-path"),
        pytest.param({"a": IntVar(0, 3)}, Forbid({"a": 5}), ["5", "not a possible value of 'a'"], id="int-out-of-range"),
        pytest.param({"a": IntVar(0, 4, step=2)}, Forbid({"a": 1}), ["1", "'a'"], id="int-off-step"),
        pytest.param({"a": ChoiceVar(["x"])}, Forbid({"a": ["x", "z"]}), ["'z'", "'a'"], id="choice-one-of-list"),
        pytest.param({"a": ChoiceVar([1, 2])}, Forbid({"a": True}), ["True", "'a'"], id="bool-for-int-choice"),
        pytest.param({"a": ChoiceVar([1, 2])}, Forbid({"a": 1.0}), ["1.0", "'a'"], id="float-for-int-choice"),
        pytest.param({"m": ModuleVar({"p": None})}, Forbid({"m": "q"}), ["'q'", "'m'"], id="module-option"),
        pytest.param(
            {"m": ModuleVar({"p": None, "c": ModuleOption(params={"h": IntVar(1, 2)})})},
            Implies({"m": "c"}, {"m.c.hops": 1}),
            ["'m.c.hops'", "not a variable"],
            id="implies-then-typo",
        ),
        pytest.param(
            {"m": ModuleVar({"p": None, "c": ModuleOption(params={"h": IntVar(1, 2)})})},
            Implies({"m": "cot"}, {"m.c.h": 1}),
            ["'cot'", "'m'"],
            id="implies-when-value",
        ),
        pytest.param({"r": CompositeVar({"k": IntVar(1, 3)})}, Forbid({"r": 1}), ["'r'", "not a variable"], id="composite-itself"),
    ],
)
def test_constraint_with_unknown_path_or_impossible_value_is_refused(variables, constraint, needles):
    with pytest.raises(SpaceError) as info:
        Space(variables, [constraint])
    for needle in needles:
        assert needle in info.value.message
    assert info.value.hint


def test_unknown_path_hint_lists_known_paths():
    with pytest.raises(SpaceError) as info:
        Space({"alpha": IntVar(0, 3), "beta": IntVar(0, 3)}, [Forbid({"alpah": 1})])
    assert "alpha" in info.value.hint and "beta" in info.value.hint


def test_composite_constraint_cannot_see_outside_its_composite():
    with pytest.raises(SpaceError) as info:
        Space({"top": IntVar(0, 3), "r": CompositeVar({"k": IntVar(1, 3)}, constraints=[Forbid({"top": 1})])})
    assert "'top'" in info.value.message and "(in r)" in info.value.message
    assert "k" in info.value.hint
    with pytest.raises(SpaceError, match="'r.k'"):  # a full path is not relative
        Space({"r": CompositeVar({"k": IntVar(1, 3)}, constraints=[Forbid({"r.k": 1})])})


def test_constraint_inside_module_params_with_impossible_value():
    with pytest.raises(SpaceError, match="not a possible value of 'a'"):
        Space(
            {
                "s": ModuleVar(
                    {"c": ModuleOption(params={"g": CompositeVar({"a": IntVar(0, 3)}, constraints=[Forbid({"a": 9})])})}
                )
            }
        )


def test_space_from_composite_keeps_extra_constraints():
    space = Space(CompositeVar({"a": IntVar(0, 3)}), constraints=[Forbid({"a": 0})])
    assert not space.is_feasible({"a": 0})


# ---------------------------------------------------------------- JSON round trip


def plain_space() -> Space:
    """qa_space without implementations (all of it serialises)."""
    return qa_space()


def test_json_round_trip_equals_and_keeps_order():
    space = plain_space()
    back = Space.from_json(space.to_json())
    assert back == space
    assert back.to_json() == space.to_json()
    assert back.fingerprint == space.fingerprint
    assert [l.path for l in back.leaves] == [l.path for l in space.leaves]
    assert [c.describe() for c in back.constraints] == [c.describe() for c in space.constraints]


def test_json_round_trip_keeps_choice_value_types():
    space = Space({"c": ChoiceVar([1, True, 1.0, "1", None, 0.5, False, 0])})
    back = Space.from_json(space.to_json())
    assert back == space
    opts = back.by_path["c"].var.options
    assert [type(o) for o in opts] == [int, bool, float, str, type(None), float, bool, int]


def test_variable_order_is_kept_and_part_of_the_fingerprint():
    a = Space({"x": IntVar(0, 1), "y": IntVar(0, 1)})
    b = Space({"y": IntVar(0, 1), "x": IntVar(0, 1)})
    assert a.fingerprint != b.fingerprint  # the order fixes the sampling order
    assert [l.path for l in Space.from_json(b.to_json()).leaves] == ["y", "x"]
    assert [l.path for l in Space.from_json(a.to_json()).leaves] == ["x", "y"]


def test_space_equality_agrees_with_hash_and_fingerprint():
    a = Space({"x": IntVar(0, 1), "y": IntVar(0, 1)})
    b = Space({"y": IntVar(0, 1), "x": IntVar(0, 1)})
    assert (a == b) == (hash(a) == hash(b)) == (a.fingerprint == b.fingerprint)


def test_to_json_is_compact_and_strict():
    text = plain_space().to_json()
    assert ", " not in text and ": " not in text
    data = json.loads(text)
    assert set(data) == {"variables", "constraints"}
    assert list(data["variables"]) == ["temperature", "model", "strategy", "retriever"]


def test_equal_spaces_built_separately_are_equal_and_hash_equal():
    assert plain_space() == plain_space()
    assert hash(plain_space()) == hash(plain_space())
    assert plain_space().fingerprint == plain_space().fingerprint
    assert len(plain_space().fingerprint) == 16
    other = Space({"temperature": FloatVar(0.0, 1.0, step=0.5)})
    assert other != plain_space() and other.fingerprint != plain_space().fingerprint


def test_from_dict_equals_from_json():
    space = plain_space()
    assert Space.from_dict(json.loads(space.to_json())) == space
    assert Space.from_dict(space.to_dict()) == space


def test_predicate_by_path_round_trips():
    space = Space({"a": IntVar(0, 3)}, [Predicate("nonempty", "operator:truth")])
    back = Space.from_json(space.to_json())
    assert back == space
    assert '"fn":"operator:truth"' in space.to_json()
    assert back.violations({"a": 1}) == []


def test_predicate_function_is_stored_by_import_path():
    space = Space({"a": IntVar(0, 3)}, [Predicate("dumps-is-truthy", json.dumps)])
    assert '"fn":"json:dumps"' in space.to_json()
    back = Space.from_json(space.to_json())
    assert back.violations({"a": 1}) == []


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        pytest.param(
            '{"variables":{"a":{"kind":"float","low":0,"high":1},"a":{"kind":"int","low":0,"high":1}}}',
            ["duplicate", "'a'"],
            id="duplicate-top",
        ),
        pytest.param(
            '{"variables":{"r":{"kind":"composite","variables":{"k":{"kind":"int","low":0,"high":1},'
            '"k":{"kind":"int","low":0,"high":2}}}}}',
            ["duplicate", "'k'"],
            id="duplicate-in-composite",
        ),
        pytest.param(
            '{"variables":{"m":{"kind":"module","options":{"p":{"impl":null,"params":{}},"p":{"impl":null,"params":{}}}}}}',
            ["duplicate", "'p'"],
            id="duplicate-module-option",
        ),
        pytest.param('{"variables":{"a":{"kind":"banana"}}}', ["variables.a", "banana"], id="unknown-kind"),
        pytest.param(
            '{"variables":{"a":{"kind":"float","low":0,"high":1}},"constraints":[{"kind":"require","when":{"a":0}}]}',
            ["constraints", "require"],
            id="unknown-constraint-kind",
        ),
        pytest.param('{"variables":{"a":{"low":0,"high":1}}}', ["variables.a", "kind"], id="missing-kind"),
        pytest.param('{"variables":{"a":{"kind":"float","low":0,"high":1,"lg":true}}}', ["unknown key", "lg"], id="unknown-var-key"),
        pytest.param(
            '{"variables":{"a":{"kind":"float","low":0,"high":1}},"extra":1}', ["unknown key", "extra"], id="unknown-top-key"
        ),
        pytest.param(
            '{"variables":{"m":{"kind":"module","options":{"p":{"impl":null,"params":{},"x":1}}}}}',
            ["unknown key", "x"],
            id="unknown-option-key",
        ),
        pytest.param(
            '{"variables":{"a":{"kind":"float","low":0,"high":1}},"constraints":[{"kind":"forbid","when":{"a":0},"then":{"a":1}}]}',
            ["unknown key", "then"],
            id="unknown-constraint-key",
        ),
        pytest.param('{"variables":{"a":{"kind":"float","low":2,"high":1}}}', ["low=2.0", "high=1.0"], id="bad-range"),
        pytest.param('{"variables":{"a":{"kind":"int","low":0,"high":3}},"constraints":[{"kind":"forbid","when":{"b":0}}]}',
                     ["'b'", "not a variable"], id="bad-constraint-path"),
        pytest.param("{not json", ["not valid JSON"], id="not-json"),
        pytest.param('{"variables":{}}', ["at least one variable"], id="no-variables"),
    ],
)
def test_bad_space_json_is_a_space_error(text, needles):
    with pytest.raises(SpaceError) as info:
        Space.from_json(text)
    for needle in needles:
        assert needle in info.value.message, info.value.message


# ---------------------------------------------------------------- implementations by import path


def test_module_impl_object_is_stored_by_import_path_and_resolved_back():
    space = Space({"m": ModuleVar({"dumps": json.dumps, "od": ModuleOption(collections.OrderedDict, {"k": IntVar(1, 2)})})})
    text = space.to_json()
    assert '"impl":"json:dumps"' in text
    assert '"impl":"collections:OrderedDict"' in text
    back = Space.from_json(text)
    assert back.by_path["m"].var.options["dumps"].resolve() is json.dumps
    assert back.by_path["m"].var.options["od"].resolve() is collections.OrderedDict
    cfg = back.validate({"m": "od", "m.od.k": 2})
    assert cfg.module("m").build() == collections.OrderedDict(k=2)


def test_module_impl_round_trip_equality():
    space = Space({"m": ModuleVar({"dumps": json.dumps, "od": collections.OrderedDict})})
    back = Space.from_json(space.to_json())
    assert back.to_json() == space.to_json()
    assert back == space
    assert back.fingerprint == space.fingerprint


def test_module_impl_given_as_path_is_kept_in_json():
    space = Space({"m": ModuleVar({"dumps": "json:dumps"})})
    assert '"impl":"json:dumps"' in space.to_json()
    back = Space.from_json(space.to_json())
    assert back.by_path["m"].var.options["dumps"].resolve() is json.dumps


def test_reopening_study_with_module_impl_sees_same_space(tmp_path):
    space = Space({"m": ModuleVar({"dumps": json.dumps, "plain": None})})
    url = f"sqlite:///{tmp_path / 'impl.db'}"
    study = llmopt.create_study("impl", space, {"y": "minimize"}, storage=url, seed=1)
    study.close()
    again = llmopt.create_study("impl", space, {"y": "minimize"}, storage=url, seed=1, load_if_exists=True)
    again.close()


def _local_function():
    def inner(cfg):
        return True

    return inner


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: Space({"a": IntVar(0, 1)}, [Predicate("lam", lambda cfg: True)]), id="predicate-lambda"),
        pytest.param(lambda: Space({"a": IntVar(0, 1)}, [Predicate("local", _local_function())]), id="predicate-local"),
        pytest.param(lambda: Space({"m": ModuleVar({"x": lambda: 1})}), id="impl-lambda"),
        pytest.param(lambda: Space({"m": ModuleVar({"x": _local_function()})}), id="impl-local"),
    ],
)
def test_to_json_refuses_unimportable_objects_with_space_error(make):
    space = make()
    with pytest.raises(SpaceError) as info:
        space.to_json()
    assert "cannot be stored by import path" in info.value.message
    assert "(fix:" not in info.value.message
    assert info.value.hint and "module level" in info.value.hint


def test_to_json_refuses_unimportable_objects():
    """Whatever the exception type, serialising a lambda must fail, never write a broken path."""
    space = Space({"a": IntVar(0, 1)}, [Predicate("lam", lambda cfg: True)])
    with pytest.raises(ValueError, match="cannot be stored by import path"):
        space.to_json()
    space = Space({"m": ModuleVar({"x": lambda: 1})})
    with pytest.raises(ValueError, match="cannot be stored by import path"):
        space.to_json()


# ---------------------------------------------------------------- fingerprint across processes

_SUBPROCESS_SPACE = """
from llmopt.space import *
space = Space(
    {
        "temperature": FloatVar(0.0, 1.0, step=0.25),
        "lr": FloatVar(1e-4, 1e-1, log=True),
        "model": ChoiceVar(["small", "large", None, 1, True, 2.5]),
        "strategy": ModuleVar({"predict": None, "cot": ModuleOption("json:dumps", {"hops": IntVar(1, 3)})}),
        "retriever": CompositeVar({"k": IntVar(1, 10), "kind": ChoiceVar(["bm25", "dense"])},
                                  constraints=[Forbid({"kind": "dense", "k": [1, 2]})]),
    },
    [Implies({"strategy": "cot"}, {"strategy.cot.hops": [2, 3]}), Predicate("nonempty", "operator:truth")],
)
print(space.fingerprint)
print(space.to_json())
"""


def _run_in_subprocess(code: str, hashseed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hashseed, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(REPO), timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()


def test_space_fingerprint_is_stable_across_processes():
    namespace: dict = {}
    exec(_SUBPROCESS_SPACE.replace("print(", "_ = ("), namespace)
    space = namespace["space"]
    results = {tuple(_run_in_subprocess(_SUBPROCESS_SPACE, seed)) for seed in ("0", "1", "12345")}
    assert results == {(space.fingerprint, space.to_json())}
    assert Space.from_json(space.to_json()).fingerprint == space.fingerprint


def test_fingerprint_with_set_condition_is_stable_across_processes():
    code = (
        "from llmopt.space import *\n"
        "print(Space({'m': ChoiceVar(list('abcdefgh')), 'n': IntVar(0, 3)},"
        " [Forbid({'m': set('abcdefg'), 'n': 0})]).fingerprint)\n"
    )
    prints = {_run_in_subprocess(code, seed)[0] for seed in ("0", "1", "2", "3")}
    assert len(prints) == 1, prints
