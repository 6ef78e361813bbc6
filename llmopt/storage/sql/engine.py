"""Storage URLs and SQLAlchemy engines: SQLite file (default), in-memory SQLite, PostgreSQL.

SQLite gets a busy timeout and `BEGIN IMMEDIATE` for writes, so two processes on one file
queue for the write lock instead of failing with "database is locked"; files llmopt creates
are switched to WAL once, at creation.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from llmopt.errors import StorageError

log = logging.getLogger("llmopt.storage")

DEFAULT_STORAGE = "sqlite:///llmopt.db"
MEMORY = "sqlite://"


def normalize_url(url: str | os.PathLike[str] | None) -> str:
    """None -> the default SQLite file; a plain path -> SQLite at that path; ':memory:' -> in-memory."""
    if url is None:
        return os.environ.get("LLMOPT_STORAGE", DEFAULT_STORAGE)
    url = os.fspath(url)
    if url in (":memory:", "memory", MEMORY, "sqlite:///:memory:"):
        return MEMORY
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except Exception as exc:
        raise StorageError(
            f"storage URL {url!r} is not valid: {exc}", "use e.g. sqlite:///study.db or postgresql+psycopg://user@host/db"
        ) from None


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for in-memory and other databases."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str, *, readonly: bool = False) -> Engine:
    """An engine for `url`; `readonly` opens a SQLite file read-only (nothing can change it)."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, readonly)
    if backend == "postgresql":
        try:
            return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)
        except ImportError as exc:
            raise StorageError(f"no PostgreSQL driver: {exc}", "pip install 'llmopt[postgres]'") from None
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:
        raise StorageError(f"cannot open storage {url!r}: {exc}", "use a sqlite:/// or postgresql+psycopg:// URL") from None


def _sqlite_engine(url: str, readonly: bool) -> Engine:
    path = sqlite_path(url)
    if path is None:
        # One shared connection: every thread must see the same in-memory database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif readonly:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, timeout=60.0, check_same_thread=False),
        )
    else:
        engine = create_engine(url, connect_args={"timeout": 60.0, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # Nothing here writes to the file: WAL mode (which persists in the file) is switched on
        # once, when llmopt creates its schema (SQLStorage), never for someone else's database.
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        ro = readonly or conn.get_execution_options().get("llmopt_readonly", False)
        conn.exec_driver_sql("BEGIN" if ro else "BEGIN IMMEDIATE")

    return engine


def enable_wal(engine: Engine, patience: float = 60.0) -> None:
    """Switch a SQLite file llmopt just created to WAL (readers never block the writer; it persists).

    The switch needs the file to itself, and a worker that opens the new file at the same moment
    can make SQLite answer "database is locked" at once instead of waiting, so it is retried;
    if it never succeeds the file stays in rollback mode, which is slower but correct.
    """
    deadline = time.monotonic() + patience
    pause = 0.01
    while True:
        raw = engine.raw_connection()  # outside any transaction: the journal mode cannot change inside one
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise StorageError(f"cannot switch {engine.url} to WAL mode: {exc}", "check the file and its folder are writable") from None
            if time.monotonic() >= deadline:
                log.warning("%s stays in rollback-journal mode: %s", engine.url, exc)
                return
        finally:
            raw.close()
        time.sleep(pause)
        pause = min(0.5, pause * 2)
