"""Shared fixtures: storage URLs for every backend (SQLite file, in-memory, a real PostgreSQL)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_ADMIN_URL = os.environ.get("LLMOPT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the real PostgreSQL server for this test session, dropped afterwards.

    Set LLMOPT_SKIP_POSTGRES=1 to skip these tests on a machine without the server; CI never does.
    """
    if os.environ.get("LLMOPT_SKIP_POSTGRES") == "1":
        pytest.skip("LLMOPT_SKIP_POSTGRES=1")
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"llmopt_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


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
