"""Schema migrations, applied in order from a stored version up to SCHEMA_VERSION.

Each change adds a function `_to_vN(conn)` here and bumps SCHEMA_VERSION in tables.py.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, update

from llmopt.errors import SchemaVersionError
from llmopt.storage.sql.tables import SCHEMA_VERSION, cache, calls, meta


def _to_v2(conn: Connection) -> None:
    """Evaluation: per-call rows, the call cache, billed cost and outputs on examples, study status."""
    conn.exec_driver_sql("ALTER TABLE llmopt_studies ADD COLUMN system_attrs_json TEXT NOT NULL DEFAULT '{}'")
    for column, kind in (("billed_cost", "FLOAT"), ("output", "TEXT"), ("n_calls", "INTEGER"), ("cache_hits", "INTEGER")):
        conn.exec_driver_sql(f"ALTER TABLE llmopt_examples ADD COLUMN {column} {kind}")
    calls.create(conn, checkfirst=True)
    cache.create(conn, checkfirst=True)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _to_v2}


def migrate(conn: Connection, stored: int) -> None:
    """Bring a database at schema `stored` up to SCHEMA_VERSION inside the caller's transaction."""
    for version in range(stored + 1, SCHEMA_VERSION + 1):
        step = MIGRATIONS.get(version)
        if step is None:
            raise SchemaVersionError(f"no migration to schema v{version}", "upgrade llmopt")
        step(conn)
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))
