"""Tests for Config: canonical JSON, fingerprint, nested(), module() and ChosenModule.build."""

from __future__ import annotations

import collections
import hashlib
import json
import math

import pytest

from llmopt.errors import SpaceError
from llmopt.space import (
    ChoiceVar,
    ChosenModule,
    CompositeVar,
    Config,
    FloatVar,
    IntVar,
    ModuleOption,
    ModuleVar,
    Space,
)


def pipeline_space() -> Space:
    return Space(
        {
            "temperature": FloatVar(0.0, 1.0, step=0.5),
            "strategy": ModuleVar(
                {
                    "predict": None,
                    "cot": ModuleOption(
                        collections.OrderedDict,
                        {"hops": IntVar(1, 3), "inner": ModuleVar({"plain": None, "tool": ModuleOption(dict, {"n": IntVar(0, 2)})})},
                    ),
                }
            ),
            "retriever": CompositeVar(
                {
                    "k": IntVar(1, 10),
                    "kind": ModuleVar({"bm25": "collections:Counter", "dense": ModuleOption(dict, {"dim": ChoiceVar([64, 128])})}),
                }
            ),
        }
    )


VALUES = {
    "temperature": 0.5,
    "strategy": "cot",
    "strategy.cot.hops": 2,
    "strategy.cot.inner": "tool",
    "strategy.cot.inner.tool.n": 1,
    "retriever.k": 5,
    "retriever.kind": "dense",
    "retriever.kind.dense.dim": 128,
}


# ---------------------------------------------------------------- mapping behaviour


def test_config_is_a_read_only_mapping():
    cfg = Config({"b": 1, "a": "x"})
    assert cfg["a"] == "x" and len(cfg) == 2
    assert list(cfg) == ["b", "a"]  # keeps insertion order
    assert dict(cfg) == {"b": 1, "a": "x"}
    assert cfg.to_dict() == {"b": 1, "a": "x"}
    assert "a" in cfg and "c" not in cfg
    assert cfg.get("c") is None
    with pytest.raises(TypeError):
        cfg["a"] = 2  # type: ignore[index]


def test_config_copies_its_input():
    raw = {"a": 1}
    cfg = Config(raw)
    raw["a"] = 2
    assert cfg["a"] == 1
    out = cfg.to_dict()
    out["a"] = 3
    assert cfg["a"] == 1


def test_missing_key_error_lists_active_keys():
    cfg = Config({"b": 1, "a": 2})
    with pytest.raises(KeyError) as info:
        cfg["strategy.cot.hops"]
    text = str(info.value)
    assert "'strategy.cot.hops' is not active" in text and "['a', 'b']" in text


# ---------------------------------------------------------------- canonical JSON and fingerprint


def test_canonical_json_is_sorted_and_compact():
    cfg = Config({"temperature": 0.5, "model": "a", "retriever.k": 3, "flag": None, "b": True})
    text = cfg.canonical_json()
    assert text == '{"b":true,"flag":null,"model":"a","retriever.k":3,"temperature":0.5}'
    assert json.loads(text) == cfg.to_dict()


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        Config({"x": math.nan}).canonical_json()


def test_fingerprint_is_sha256_prefix_of_canonical_json():
    cfg = Config({"temperature": 0.5, "model": "a"})
    expected = hashlib.sha256(b'{"model":"a","temperature":0.5}').hexdigest()[:16]
    assert cfg.fingerprint == expected
    assert len(cfg.fingerprint) == 16 and int(cfg.fingerprint, 16) >= 0


def test_fingerprint_equal_for_equal_configs_regardless_of_order():
    a = Config({"x": 1, "y": "z", "w": 0.25})
    b = Config({"w": 0.25, "y": "z", "x": 1})
    assert a == b
    assert a.canonical_json() == b.canonical_json()
    assert a.fingerprint == b.fingerprint
    assert hash(a) == hash(b)
    assert len({a, b}) == 1


@pytest.mark.parametrize(
    "other",
    [
        {"x": 2, "y": "z"},
        {"x": 1, "y": "Z"},
        {"x": 1},
        {"x": 1, "y": "z", "extra": None},
        {"x": "1", "y": "z"},
    ],
)
def test_fingerprint_differs_for_different_configs(other):
    base = Config({"x": 1, "y": "z"})
    assert Config(other) != base
    assert Config(other).fingerprint != base.fingerprint


def test_fingerprint_of_space_validated_config_is_stable():
    space = pipeline_space()
    assert space.validate(VALUES).fingerprint == space.validate(dict(reversed(VALUES.items()))).fingerprint
    assert space.validate(VALUES).fingerprint == Config(VALUES).fingerprint


def test_config_equals_plain_mapping():
    assert Config({"a": 1}) == {"a": 1}
    assert Config({"a": 1}) != {"a": 2}
    assert Config({"a": 1}) != [("a", 1)]


@pytest.mark.parametrize("other", [True, 1.0])
def test_config_equality_agrees_with_fingerprint(other):
    a, b = Config({"c": 1}), Config({"c": other})
    assert (a == b) == (a.fingerprint == b.fingerprint)
    if a == b:
        assert hash(a) == hash(b)


# ---------------------------------------------------------------- nested()


def test_nested_flat_top_level():
    assert Config({"a": 1, "b": "x"}).nested() == {"a": 1, "b": "x"}


def test_nested_composites_and_module_form():
    nested = pipeline_space().validate(VALUES).nested()
    assert nested == {
        "temperature": 0.5,
        "strategy": {
            "option": "cot",
            "params": {"hops": 2, "inner": {"option": "tool", "params": {"n": 1}}},
        },
        "retriever": {"k": 5, "kind": {"option": "dense", "params": {"dim": 128}}},
    }
    assert list(nested) == ["temperature", "strategy", "retriever"]  # the space's order


def test_nested_module_without_sub_values_is_its_option_name():
    cfg = pipeline_space().validate(
        {"temperature": 0.0, "strategy": "predict", "retriever.k": 1, "retriever.kind": "bm25"}
    )
    assert cfg.nested() == {"temperature": 0.0, "strategy": "predict", "retriever": {"k": 1, "kind": "bm25"}}


def test_nested_module_option_with_only_inactive_sub_module():
    cfg = pipeline_space().validate(
        {
            "temperature": 1.0,
            "strategy": "cot",
            "strategy.cot.hops": 3,
            "strategy.cot.inner": "plain",
            "retriever.k": 2,
            "retriever.kind": "bm25",
        }
    )
    assert cfg.nested()["strategy"] == {"option": "cot", "params": {"hops": 3, "inner": "plain"}}


# ---------------------------------------------------------------- module()


def test_module_returns_option_impl_and_nested_params():
    cfg = pipeline_space().validate(VALUES)
    chosen = cfg.module("strategy")
    assert isinstance(chosen, ChosenModule)
    assert chosen.name == "cot"
    assert chosen.impl is collections.OrderedDict
    assert chosen.params == {"hops": 2, "inner": {"option": "tool", "params": {"n": 1}}}


def test_module_nested_in_module_and_in_composite():
    cfg = pipeline_space().validate(VALUES)
    inner = cfg.module("strategy.cot.inner")
    assert (inner.name, inner.impl, inner.params) == ("tool", dict, {"n": 1})
    kind = cfg.module("retriever.kind")
    assert (kind.name, kind.impl, kind.params) == ("dense", dict, {"dim": 128})


def test_module_resolves_import_path_impl():
    cfg = pipeline_space().validate({"temperature": 0.0, "strategy": "predict", "retriever.k": 1, "retriever.kind": "bm25"})
    kind = cfg.module("retriever.kind")
    assert kind.impl is collections.Counter
    assert kind.params == {}
    none = cfg.module("strategy")
    assert (none.name, none.impl, none.params) == ("predict", None, {})


def test_module_errors():
    space = pipeline_space()
    cfg = space.validate(VALUES)
    with pytest.raises(SpaceError, match="'temperature' is not a ModuleVar"):
        cfg.module("temperature")
    with pytest.raises(SpaceError, match="'nope' is not a ModuleVar"):
        cfg.module("nope")
    with pytest.raises(SpaceError, match="no space attached"):
        Config(VALUES).module("strategy")
    predict = space.validate({"temperature": 0.0, "strategy": "predict", "retriever.k": 1, "retriever.kind": "bm25"})
    with pytest.raises(KeyError, match="strategy.cot.inner"):
        predict.module("strategy.cot.inner")  # not active


def test_space_config_attaches_space_without_checking():
    space = pipeline_space()
    cfg = space.config({"strategy": "predict"})
    assert cfg.module("strategy").name == "predict"


# ---------------------------------------------------------------- ChosenModule.build


def test_build_calls_impl_with_params_and_overrides():
    cfg = pipeline_space().validate(VALUES)
    built = cfg.module("retriever.kind").build()
    assert built == {"dim": 128}
    assert cfg.module("retriever.kind").build(dim=256, extra="x") == {"dim": 256, "extra": "x"}
    od = cfg.module("strategy").build()
    assert isinstance(od, collections.OrderedDict)
    assert list(od.items()) == [("hops", 2), ("inner", {"option": "tool", "params": {"n": 1}})]


def test_build_without_callable_impl_is_a_space_error():
    with pytest.raises(SpaceError) as info:
        ChosenModule("predict", None, {}).build()
    assert "'predict'" in info.value.message and info.value.hint


def test_build_after_json_round_trip_resolves_impl():
    space = Space.from_json(pipeline_space().to_json())
    cfg = space.validate(VALUES)
    assert cfg.module("retriever.kind").build() == {"dim": 128}
