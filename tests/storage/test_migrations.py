"""Schema v2 -> v3 (one call row per attempt): an existing v2 database opens, migrates and keeps its rows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import llmopt
from llmopt import FloatVar, Space
from llmopt.storage import get_storage
from llmopt.storage.sql.tables import SCHEMA_VERSION
from llmopt.trial import CallRecord, ExampleResult
from tests.conftest import new_postgres_database

V3_CALL_COLUMNS = ("status", "error_class", "attempt", "maybe_billed")


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A database of its own: the test rewinds the schema, which must not touch the session's shared one."""
    if os.environ.get("LLMOPT_SKIP_POSTGRES") == "1":
        pytest.skip("LLMOPT_SKIP_POSTGRES=1")
    with new_postgres_database("llmopt_migrate") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'v2.db'}"
    return request.getfixturevalue("fresh_postgres")


def make_v2_database(url: str) -> None:
    """A study with two stored calls (one answered, one final failure), then the schema rewound to v2."""
    study = llmopt.create_study("old", Space({"x": FloatVar(0, 1)}), {"accuracy": "maximize"}, storage=url, seed=0)
    trial = study.ask()
    calls = (CallRecord("m", 3, 1, 0.002, 0.002, 0.1, example_id="e1"),
             CallRecord("m", 0, 0, 0.0, 0.0, 0.3, error="call to m failed after 5 attempt(s): RateLimitError: slow down",
                        example_id="e2"))
    study.storage.add_example_result(trial.trial_id, ExampleResult("e1", {"score": 1.0}, cost=0.002, billed_cost=0.002,
                                                                   calls=calls))
    study.tell(trial, {"accuracy": 1.0})
    study.close()
    engine = create_engine(url)
    with engine.begin() as conn:
        for column in V3_CALL_COLUMNS:
            conn.execute(text(f"ALTER TABLE llmopt_calls DROP COLUMN {column}"))
        conn.execute(text("UPDATE llmopt_meta SET value = '2' WHERE key = 'schema_version'"))
    engine.dispose()


def test_a_v2_database_migrates_to_v3_and_reads_its_old_call_rows(url: str) -> None:
    make_v2_database(url)
    storage = get_storage(url)
    study_id = storage.get_study("old").study_id
    (trial,) = storage.get_trials(study_id)
    answered, failed = storage.get_calls(trial.trial_id)
    assert (answered.status, answered.attempt, answered.maybe_billed, answered.error_class) == ("ok", 1, False, None)
    assert answered.prompt_tokens == 3 and answered.billed_cost == 0.002
    assert (failed.status, failed.attempt, failed.maybe_billed) == ("failed", 1, False)  # an old error row was final
    assert failed.error.startswith("call to m failed after 5 attempt(s)")
    assert storage.study_spent(study_id) == pytest.approx(0.002)
    storage.add_calls(trial.trial_id, [CallRecord("m", 4, 16, 0.0, 0.01, 0.5, error="Timeout", status="retried",
                                                  error_class="Timeout", attempt=1, maybe_billed=True)])
    assert storage.get_calls(trial.trial_id)[-1].maybe_billed and storage.study_spent(study_id) == pytest.approx(0.012)
    storage.close()
    with create_engine(url).begin() as conn:
        assert conn.execute(text("SELECT value FROM llmopt_meta WHERE key = 'schema_version'")).scalar() == str(SCHEMA_VERSION)
