"""Shared fixtures: storage URLs for every backend (SQLite file, in-memory, a real PostgreSQL)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

POSTGRES_ADMIN_URL = os.environ.get("LLMOPT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def new_postgres_database(prefix: str) -> Iterator[str]:
    """A database of its own on the real PostgreSQL server, dropped afterwards."""
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the real PostgreSQL server for this test session, dropped afterwards.

    Set LLMOPT_SKIP_POSTGRES=1 to skip these tests on a machine without the server; CI never does.
    """
    if os.environ.get("LLMOPT_SKIP_POSTGRES") == "1":
        pytest.skip("LLMOPT_SKIP_POSTGRES=1")
    with new_postgres_database("llmopt_test") as url:
        yield url


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "postgres"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage backend, so one contract suite runs on each."""
    if request.param == "sqlite-file":
        return f"sqlite:///{tmp_path / 'study.db'}"
    if request.param == "sqlite-memory":
        return ":memory:"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def unique_name() -> str:
    """Study names never collide inside the shared PostgreSQL database of a session."""
    return f"study-{secrets.token_hex(4)}"
