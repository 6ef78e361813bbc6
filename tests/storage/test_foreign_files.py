"""Files llmopt did not write are refused untouched; reading commands never change a file; bad values say so."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

import llmopt
from llmopt import FloatVar, RandomSampler, Space
from llmopt.cli import main
from llmopt.errors import SchemaVersionError, StorageError
from llmopt.storage import SQLStorage

SPACE = Space({"x": FloatVar(0, 1)})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def journal_mode(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    path = tmp_path / "app.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('ada')")
    conn.commit()
    conn.close()
    return path


def test_another_applications_sqlite_file_is_refused_untouched(foreign: Path) -> None:
    before = digest(foreign)
    with pytest.raises(StorageError, match="another application's SQLite database") as info:
        llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=str(foreign))
    assert "customers" in info.value.message and info.value.hint
    assert digest(foreign) == before and journal_mode(foreign) == "delete"
    assert not Path(f"{foreign}-wal").exists()


@pytest.mark.parametrize("command", [["studies"], ["trials", "s"], ["report", "s"]])
def test_reading_commands_leave_a_foreign_file_as_it_was(foreign: Path, command: list[str],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(foreign)
    assert main(["--storage", str(foreign), *command]) == 1
    err = capsys.readouterr().err
    assert err.startswith("llmopt: error:") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert digest(foreign) == before and journal_mode(foreign) == "delete"


def test_reading_commands_do_not_modify_an_llmopt_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "study.db"
    study = llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=str(path), seed=0, sampler=RandomSampler())
    study.optimize(lambda t: t.config["x"], n_trials=3)
    study.close()
    assert journal_mode(path) == "wal"  # set once, when llmopt created the file
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = digest(path)
    for command in (["studies"], ["trials", "s"], ["report", "s"]):
        assert main(["--storage", str(path), *command]) == 0
    capsys.readouterr()
    assert digest(path) == before


def _set_version(path: Path, value: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE llmopt_meta SET value = ? WHERE key = 'schema_version'", (value,))
    conn.commit()
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()


def test_a_newer_schema_is_really_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=str(path), seed=0).close()
    _set_version(path, "999")
    before = digest(path)
    with pytest.raises(SchemaVersionError, match="newer llmopt"):
        llmopt.load_study("s", storage=str(path))
    with pytest.raises(SchemaVersionError, match="newer llmopt"):
        llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=str(path), load_if_exists=True)
    assert digest(path) == before and journal_mode(path) == "delete"


def test_a_garbage_schema_version_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "garbage.db"
    llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=str(path), seed=0).close()
    _set_version(path, "two-ish")
    with pytest.raises(SchemaVersionError, match="unreadable schema version 'two-ish'"):
        SQLStorage(str(path))
    assert main(["--storage", str(path), "studies"]) == 1
    err = capsys.readouterr().err
    assert "unreadable schema version" in err and "Traceback" not in err


def test_a_file_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.db"
    path.write_text("just some text, not SQLite\n" * 100)
    before = digest(path)
    assert main(["--storage", str(path), "studies"]) == 1
    err = capsys.readouterr().err
    assert "is not a SQLite database" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(StorageError, match="not a SQLite database"):
        llmopt.create_study("s", SPACE, {"y": "minimize"}, storage=str(path))
    assert digest(path) == before


@pytest.mark.postgres
def test_postgres_refusing_a_value_says_so_not_unreachable(postgres_url: str) -> None:
    storage = SQLStorage(postgres_url)
    study = llmopt.create_study("pg-values", SPACE, {"y": "minimize"}, storage=storage, seed=0, sampler=RandomSampler())
    trial = study.ask()
    with pytest.raises(StorageError) as info:
        trial.record_example("e" * 10_000, {"score": 1.0})  # the example id column holds 512 characters
    assert "refused a value" in info.value.message and "reachable" not in str(info.value)
    with pytest.raises(StorageError) as info:
        trial.record_example("nul\x00byte", {"score": 1.0})
    assert "refused a value" in info.value.message and "reachable" not in str(info.value)
    study.tell(trial, 0.5)
    llmopt.delete_study("pg-values", storage=storage)


def test_wal_switch_waits_for_a_worker_holding_the_new_file(tmp_path: Path) -> None:
    """Another worker may hold the just-created file when the creator switches it to WAL: it waits, then switches."""
    import threading

    from llmopt.storage.sql.engine import enable_wal, make_engine

    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")  # what a worker's first write looks like to the creator
    engine = make_engine(f"sqlite:///{path}")
    threading.Timer(0.5, holder.execute, ("COMMIT",)).start()
    enable_wal(engine)
    holder.close()
    engine.dispose()
    assert journal_mode(path) == "wal"
