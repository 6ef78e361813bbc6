"""Schema migrations, applied in order from a stored version up to SCHEMA_VERSION.

Each change adds a function `_to_vN(conn)` here and bumps SCHEMA_VERSION in tables.py.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect, update

from llmopt.errors import SchemaVersionError
from llmopt.storage.sql.tables import SCHEMA_VERSION, cache, calls, meta


def _to_v2(conn: Connection) -> None:
    """Evaluation: per-call rows, the call cache, billed cost and outputs on examples, study status."""
    conn.exec_driver_sql("ALTER TABLE llmopt_studies ADD COLUMN system_attrs_json TEXT NOT NULL DEFAULT '{}'")
    for column, kind in (("billed_cost", "FLOAT"), ("output", "TEXT"), ("n_calls", "INTEGER"), ("cache_hits", "INTEGER")):
        conn.exec_driver_sql(f"ALTER TABLE llmopt_examples ADD COLUMN {column} {kind}")
    calls.create(conn, checkfirst=True)
    cache.create(conn, checkfirst=True)


def _to_v3(conn: Connection) -> None:
    """Every call attempt is a row: its status, error class, attempt number, whether it may be billed.

    A v1 database gets the v3 calls table from _to_v2 (it creates the current table), so only
    missing columns are added. Old rows were final outcomes: an error made them "failed".
    """
    have = {c["name"] for c in inspect(conn).get_columns(calls.name)}
    for column, kind in (("status", "VARCHAR(16) NOT NULL DEFAULT 'ok'"), ("error_class", "VARCHAR(64)"),
                         ("attempt", "INTEGER NOT NULL DEFAULT 1"), ("maybe_billed", "INTEGER NOT NULL DEFAULT 0")):
        if column not in have:
            conn.exec_driver_sql(f"ALTER TABLE {calls.name} ADD COLUMN {column} {kind}")
    conn.execute(update(calls).where(calls.c.error.is_not(None), calls.c.status == "ok").values(status="failed"))


MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _to_v2, 3: _to_v3}


def migrate(conn: Connection, stored: int) -> None:
    """Bring a database at schema `stored` up to SCHEMA_VERSION inside the caller's transaction."""
    for version in range(stored + 1, SCHEMA_VERSION + 1):
        step = MIGRATIONS.get(version)
        if step is None:
            raise SchemaVersionError(f"no migration to schema v{version}", "upgrade llmopt")
        step(conn)
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))
