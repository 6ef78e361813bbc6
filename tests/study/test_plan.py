"""The cost preview (llmopt.plan): projections against real studies on a stub server, the plan's own spend, errors.

Configurations have known costs: the stub counts words as tokens, each prompt is `pad` words
plus the question, each answer one word, and the two models' prices differ tenfold.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, Forbid, IntVar, Price, RandomSampler, Space, acomplete
from llmopt.errors import StudyError
from llmopt.evaluation.stub_server import StubLLMServer
from llmopt.study.plan import Plan, corner_of, plan
from tests.evaluation.conftest import echo_last_word

N = 20
PRICES = {"openai/small": Price(prompt=1e-6, completion=2e-6), "openai/large": Price(prompt=1e-5, completion=2e-5)}
SPACE = Space({"model": ChoiceVar(["openai/small", "openai/large"]), "pad": IntVar(0, 9)})


def question(i: int) -> str:
    return "w " * (i % 4) + f"say {i}"


DATA = Dataset([{"id": f"q{i}", "question": question(i), "answer": str(i)} for i in range(N)])


def example_cost(params: dict, example_id: str) -> float:
    """What the stub meters for one example: prompt words (pad + question) and a one-word answer."""
    price = PRICES[params["model"]]
    words = params["pad"] + len(DATA[example_id].question.split())
    return words * price.prompt + 1 * price.completion


@pytest.fixture
def server() -> Iterator[StubLLMServer]:
    with StubLLMServer(answer=echo_last_word) as stub:
        yield stub


def evaluation(server: StubLLMServer, **options) -> Evaluation:
    async def pipeline(config, example):
        prompt = " ".join(["pad"] * config["pad"] + [example.question])
        return (await acomplete(config["model"], [{"role": "user", "content": prompt}], api_base=server.api_base, api_key="k")).text

    options = {"objectives": ["accuracy", "cost"], "max_concurrent_examples": 4, **options}
    return Evaluation(DATA, pipeline, prices=PRICES, **options)


def study_spend(ev: Evaluation, n_trials: int, seed: int = 0, sampler=None) -> tuple[float, int, float]:
    """Dollars, requests and wall seconds (first start to last finish) of a real study."""
    with llmopt.create_study("real", SPACE, ev.objectives, storage=":memory:", seed=seed, sampler=sampler) as study:
        study.optimize(ev, n_trials=n_trials)
        trials = study.trials
        calls = sum(1 for t in trials for c in study.storage.get_calls(t.trial_id) if not c.cache_hit)
        wall = (max(t.finished_at for t in trials) - min(t.started_at for t in trials)).total_seconds()
        return study.storage.study_spent(study._record.study_id), calls, wall


def test_projection_holds_a_real_study_without_pruning(server: StubLLMServer) -> None:
    ev = evaluation(server, pruner=None)
    preview = plan(ev, SPACE, 12, seed=0)
    spent, calls, _ = study_spend(ev, 12)
    assert isinstance(preview, Plan) and preview.trials == 12 and preview.examples_per_trial == N
    assert preview.dollars.low <= spent <= preview.dollars.high, (preview.dollars, spent)
    assert preview.dollars.low < preview.dollars.mid < preview.dollars.high
    # one call per example, every configuration alike: the call count has no spread at all
    assert preview.calls.low == preview.calls.mid == preview.calls.high == calls == 12 * N
    # pruner=None: no pruning discount
    assert preview.pruning_share.mid == preview.pruning_share.low == preview.pruning_share.high == 1.0
    assert preview.pruned_dollars == preview.dollars and preview.pruned_calls == preview.calls
    assert "pruner=None" in preview.pruning_basis and "pruner=None" in preview.summary()


def test_the_plan_reports_what_it_spent_and_meters_it_exactly(server: StubLLMServer) -> None:
    ev = evaluation(server, pruner=None)
    preview = plan(ev, SPACE, 12, seed=3, examples=5, configs=4)
    first = DATA.order(3)[:5]
    assert len(preview.measured) == 5 and sum(m.corner for m in preview.measured) == 1  # 4 sampled + the corner
    for m in preview.measured:
        assert m.examples == 5 and m.calls_per_example == 1.0
        assert m.dollars_per_example == pytest.approx(sum(example_cost(m.params, i) for i in first) / 5, rel=1e-9)
    # 25 calls measured + 1 warm-up call (one example of a random configuration, paid once, counted in the spend)
    assert preview.plan_calls == 26 and len(server.requests) == 26
    warm_up = preview.plan_dollars - sum(m.dollars_per_example * 5 for m in preview.measured)
    assert any(warm_up == pytest.approx(example_cost({"model": model, "pad": pad}, first[0]), rel=1e-9)
               for model in PRICES for pad in range(10))
    assert [m.dollars_per_example for m in preview.measured] == sorted((m.dollars_per_example for m in preview.measured), reverse=True)
    text = preview.summary()
    assert "The plan itself spent $" in text and "26 call(s)" in text and "How the ranges are made" in text
    assert "pad=9" in text  # the corner: the most expensive model with every numeric setting at its top


def test_the_sampled_configurations_are_the_studys_first_proposals(server: StubLLMServer) -> None:
    ev = evaluation(server, pruner=None)
    preview = plan(ev, SPACE, 4, seed=5, corner=False)
    with llmopt.create_study("same", SPACE, ev.objectives, storage=":memory:", seed=5) as study:
        study.optimize(ev, n_trials=4)
        proposed = sorted((t.params for t in study.trials), key=str)
    assert sorted((m.params for m in preview.measured), key=str) == proposed
    assert preview.corner is None and "corner=False" in preview.corner_note


def test_default_pruner_discount_comes_from_the_measured_figures(server: StubLLMServer) -> None:
    data = Dataset([{"id": f"q{i}", "question": question(i), "answer": str(i)} for i in range(60)])
    ev = evaluation(server)
    ev.dataset = data
    preview = plan(ev, Space({"model": ChoiceVar(["openai/small", "openai/large"]), "pad": IntVar(0, 99)}), 40, seed=0)
    share = preview.pruning_share
    # 2 objectives x 40 trials x 50 examples: 76.5 / 87.3 / 90.5 %, savings cut for the 4 examples in flight
    assert share.low == pytest.approx(1 - (1 - 0.765) * 46 / 50) and share.mid == pytest.approx(1 - (1 - 0.873) * 46 / 50)
    assert preview.pruned_dollars.mid < preview.dollars.mid and preview.pruned_calls.high <= preview.calls.high
    assert "ParetoPruner" in preview.pruning_basis and "docs/benchmarks.md" in preview.pruning_basis
    assert preview.max_dollars == preview.dollars.high  # the guard never counts on the discount


def test_a_real_study_with_pruning_stays_under_the_upper_end(server: StubLLMServer) -> None:
    ev = evaluation(server)
    preview = plan(ev, SPACE, 12, seed=1)
    spent, calls, _ = study_spend(ev, 12, seed=1)
    assert spent <= preview.max_dollars and calls <= preview.calls.high


def test_wall_time_follows_latency_and_concurrency() -> None:
    with StubLLMServer(answer=echo_last_word, delay=0.05) as slow:
        ev = evaluation(slow, pruner=None)
        preview = plan(ev, SPACE, 6, seed=0, sampler=RandomSampler())
        _, _, wall = study_spend(ev, 6, sampler=RandomSampler())
    assert preview.in_flight == 4  # max_concurrent_examples x concurrent_trials
    ideal = 6 * N * 0.05 / 4
    assert preview.seconds.mid >= ideal * 0.9 and preview.seconds.low <= wall * 1.5 and wall <= preview.seconds.high * 1.5, (preview.seconds, wall)


def test_a_study_budget_caps_the_projection(server: StubLLMServer) -> None:
    ev = evaluation(server, pruner=None, budget=0.001)
    preview = plan(ev, SPACE, 12, seed=0)
    largest = max(example_cost({"model": "openai/large", "pad": 9}, i) for i in DATA.ids)
    assert preview.dollars.high <= 0.001 + 4 * largest + 1e-12
    assert any("study budget" in note for note in preview.notes)
    assert preview.calls.high < 12 * N  # it stops early, so fewer calls too


def test_a_finite_space_projects_no_more_trials_than_it_has(server: StubLLMServer) -> None:
    ev = evaluation(server, pruner=None)
    preview = plan(ev, SPACE, 100, seed=0, corner=False)
    assert preview.n_trials == 100 and preview.trials == 20
    assert any("20 configuration(s) left" in note for note in preview.notes)


def test_an_existing_study_lends_its_seed_and_is_not_changed(server: StubLLMServer, tmp_path: Path) -> None:
    ev = evaluation(server, pruner=None)
    path = str(tmp_path / "s.db")
    with llmopt.create_study("kept", SPACE, ev.objectives, storage=path, seed=7) as study:
        study.optimize(ev, n_trials=3)
    with llmopt.load_study("kept", storage=path) as study:
        before = [(t.number, t.state, t.values) for t in study.trials]
        spent = study.storage.study_spent(study._record.study_id)
        preview = plan(ev, None, 5, study=study)
        assert preview.seed == 7 and preview.trials == 5
        assert [(t.number, t.state, t.values) for t in study.trials] == before
        assert study.storage.study_spent(study._record.study_id) == spent


def test_evaluation_plan_forwards_to_the_study_layer(server: StubLLMServer) -> None:
    preview = evaluation(server, pruner=None).plan(SPACE, 3, seed=0, configs=2, examples=2, corner=False)
    assert isinstance(preview, Plan) and preview.plan_calls == 5 and preview.trials == 3


def test_corner_pushes_numbers_up_within_the_constraints() -> None:
    space = Space({"model": ChoiceVar(["a", "b"]), "pad": IntVar(0, 9), "k": ChoiceVar([8, 32, 16])},
                  constraints=[Forbid({"model": "b", "pad": [8, 9]})])
    assert corner_of(space, {"model": "a", "pad": 2, "k": 8}) == {"model": "a", "pad": 9, "k": 32}
    assert corner_of(space, {"model": "b", "pad": 2, "k": 16}) == {"model": "b", "pad": 7, "k": 32}


@pytest.mark.parametrize("options, message", [
    ({"n_trials": 0}, "n_trials must be a whole number >= 1"),
    ({"n_trials": 2.5}, "n_trials must be a whole number >= 1"),
    ({"examples": N + 1}, f"more than the evaluation set's {N} examples"),
    ({"examples": 0}, "examples must be a whole number >= 1"),
    ({"examples": 1}, "examples=1 leaves the spread"),
    ({"configs": 1}, "configs must be a whole number >= 2"),
    ({"seed": -1}, "seed must be in [0, 2**63 - 1]"),
])
def test_bad_input_is_a_one_line_error(options: dict, message: str, server: StubLLMServer) -> None:
    ev = evaluation(server)
    args = {"n_trials": 5, **options}
    with pytest.raises(StudyError) as caught:
        plan(ev, SPACE, args.pop("n_trials"), **args)
    assert message in str(caught.value) and "\n" not in str(caught.value) and caught.value.hint
    assert not server.requests  # refused before any call


def test_a_pipeline_that_always_fails_is_an_error_not_a_projection() -> None:
    with StubLLMServer(answer=echo_last_word, fail_always=400) as broken:
        ev = evaluation(broken, fail_fast_after=2)
        with pytest.raises(llmopt.LLMOptError, match="configurations the plan ran FAILED") as caught:
            plan(ev, SPACE, 5, seed=0, examples=3, corner=False)
    assert "\n" not in str(caught.value) and "fix the pipeline" in str(caught.value)
