"""SQL storage specifics: URLs, schema version, refusing to create databases, explicit inf/NaN."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import llmopt
from llmopt.trial import CallRecord
from llmopt.storage.sql.tables import SCHEMA_VERSION
from llmopt import FloatVar, Space
from llmopt.errors import SchemaVersionError, StorageError
from llmopt.storage import get_storage
from llmopt.storage.sql import codec
from llmopt.storage.sql.engine import normalize_url


@pytest.mark.parametrize(
    "given, expected",
    [
        (None, "sqlite:///llmopt.db"),
        ("study.db", "sqlite:///study.db"),
        (":memory:", "sqlite://"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_normalize_url(given: str | None, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMOPT_STORAGE", raising=False)
    assert normalize_url(given) == expected


def test_env_var_sets_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LLMOPT_STORAGE", f"sqlite:///{tmp_path / 'env.db'}")
    assert normalize_url(None).endswith("env.db")


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    study = llmopt.create_study("s", Space({"x": FloatVar(0, 1)}), {"v": "maximize"}, storage=url, seed=0)
    study.optimize(lambda t: t.config["x"], n_trials=3)
    study.close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE llmopt_meta SET value = '99' WHERE key = 'schema_version'"))
    with pytest.raises(SchemaVersionError, match="newer llmopt.*v99"):
        get_storage(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM llmopt_trials")).scalar() == 3
        conn.execute(text(f"UPDATE llmopt_meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema_version'"))
    assert len(llmopt.load_study("s", storage=url).trials) == 3


def test_v1_database_is_migrated_keeping_its_trials(tmp_path: Path) -> None:
    """A database written by schema v1 (no calls/cache tables, fewer columns) opens, migrates and keeps everything."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    study = llmopt.create_study("s", Space({"x": FloatVar(0, 1)}), {"v": "maximize"}, storage=url, seed=0)
    study.optimize(lambda t: t.config["x"], n_trials=3)
    study.close()
    engine = create_engine(url)
    with engine.begin() as conn:  # turn it back into the v1 schema
        conn.execute(text("DROP TABLE llmopt_calls"))
        conn.execute(text("DROP TABLE llmopt_cache"))
        conn.execute(text("ALTER TABLE llmopt_studies DROP COLUMN system_attrs_json"))
        for column in ("billed_cost", "output", "n_calls", "cache_hits"):
            conn.execute(text(f"ALTER TABLE llmopt_examples DROP COLUMN {column}"))
        conn.execute(text("UPDATE llmopt_meta SET value = '1' WHERE key = 'schema_version'"))
    engine.dispose()
    study = llmopt.load_study("s", storage=url)
    assert len(study.trials) == 3
    assert study.storage.study_spent(study._record.study_id) == 0.0
    with create_engine(url).begin() as conn:
        assert conn.execute(text("SELECT value FROM llmopt_meta")).scalar() == str(SCHEMA_VERSION)
    # v1 -> v2 creates the calls table as defined now (with the v3 attempt columns): v3 adds nothing twice
    trial_id = study.trials[0].trial_id
    study.storage.add_calls(trial_id, [CallRecord("m", status="failed", error_class="ConnectionRefused")])
    assert study.storage.get_calls(trial_id)[0].error_class == "ConnectionRefused"


def test_read_only_open_never_creates(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no llmopt database"):
        get_storage(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()
    empty = tmp_path / "empty.db"
    create_engine(f"sqlite:///{empty}").connect().close()
    with pytest.raises(StorageError, match="holds no llmopt studies"):
        get_storage(empty, create=False)


def test_bad_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="not valid"):
        get_storage("nonsense://::")


@pytest.mark.postgres
def test_unreachable_postgres_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="database error"):
        get_storage("postgresql+psycopg://postgres@127.0.0.1:1/test")


def test_codec_keeps_non_finite_floats() -> None:
    text_ = codec.dumps({"a": math.inf, "b": [-math.inf, math.nan], "c": 1.5})
    back = codec.loads(text_)
    assert back["a"] == math.inf and back["b"][0] == -math.inf and math.isnan(back["b"][1]) and back["c"] == 1.5
