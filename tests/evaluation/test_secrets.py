"""No secret reaches the database: an example's error keeps type, message and frame locations, never source lines."""

from __future__ import annotations

import importlib.util
import logging
import textwrap
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Evaluation, Space
from llmopt.evaluation.stub_server import StubLLMServer
from llmopt.redaction import MARK
from tests.evaluation.conftest import STUB_PRICE, echo_last_word

PIPELINE = textwrap.dedent(
    """
    import llmopt

    API_BASE = None

    def pipeline(config, example):
        reply = llmopt.complete("openai/stub", example["question"], api_base=API_BASE, api_key="{key}"); raise RuntimeError("no good: " + reply.text)
    """
)


def load_pipeline(path: Path, api_base: str):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.API_BASE = api_base
    return module.pipeline


def test_a_key_in_the_pipelines_source_never_reaches_the_database(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = "sk-" + "proj-" + "Q7w" * 12  # planted at runtime: the repository holds no key-shaped text
    source = tmp_path / "planted_pipeline.py"
    source.write_text(PIPELINE.format(key=key))
    line = next(i for i, text in enumerate(source.read_text().splitlines(), 1) if key in text)
    db = tmp_path / "secrets.db"
    # q1's call is refused by the server (400): an LLMCallError raised on the line holding the key;
    # the others get an answer, then raise RuntimeError on that same line.
    with StubLLMServer(answer=echo_last_word, fail={1: 400}) as server, caplog.at_level(logging.DEBUG):
        data = [{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(4)]
        ev = Evaluation(data, load_pipeline(source, server.api_base), prices=STUB_PRICE, max_concurrent_examples=1,
                        fail_fast_after=0, max_error_rate=1.0)
        study = llmopt.create_study("secrets", Space({"x": ChoiceVar([1])}), ev.objectives, storage=str(db), seed=0)
        study.optimize(ev, n_trials=1)
        assert len(server.requests) == 4
    (trial,) = study.trials
    examples = study.storage.get_example_results(trial.trial_id)
    assert len(examples) == 4 and all(e.error for e in examples)
    for example in examples:
        assert f"{source.name}:{line} in pipeline" in example.error  # where it failed, without the line's text
        assert "api_key=" not in example.error
    assert {e.error.splitlines()[0].split(":")[0] for e in examples} == {"RuntimeError", "LLMCallError"}
    raw = b"".join(p.read_bytes() for p in sorted(tmp_path.glob("secrets.db*")))  # the file and its -wal
    assert key.encode() not in raw and b"Q7wQ7wQ7w" not in raw
    assert f"{source.name}:{line}".encode() in raw
    assert key not in caplog.text
    study.close()
    raw = b"".join(p.read_bytes() for p in sorted(tmp_path.glob("secrets.db*")))
    assert key.encode() not in raw


def test_storage_redacts_error_text_it_is_given(tmp_path: Path) -> None:
    """Defence in depth: an error string that still holds a key (from any caller) is stored redacted."""
    from llmopt.trial import CallRecord, ExampleResult

    key = "gsk" + "_" + "Z9y8" * 8
    study = llmopt.create_study("d", Space({"x": ChoiceVar([1])}), {"accuracy": "maximize"}, storage=str(tmp_path / "d.db"), seed=0)
    trial = study.ask()
    call = CallRecord("m", error=f"401: bad key {key}", status="failed", error_class="AuthenticationError")
    study.storage.add_example_result(trial.trial_id, ExampleResult("e1", {"score": 0.0}, error=f'api_key="{key}" rejected',
                                                                   calls=(call,)))
    study.storage.add_calls(trial.trial_id, [CallRecord("m", error=f"Authorization: Bearer {key}", status="failed")])
    (example,) = study.storage.get_example_results(trial.trial_id)
    assert example.error == f'api_key="{MARK}" rejected'
    errors = [c.error for c in study.storage.get_calls(trial.trial_id)]
    assert errors == [f"401: bad key {MARK}", f"Authorization: Bearer {MARK}"]
    study.tell(trial, {"accuracy": 0.0})
    study.close()
    assert not any(key.encode() in p.read_bytes() for p in tmp_path.glob("d.db*"))
