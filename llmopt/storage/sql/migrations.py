"""Schema migrations, applied in order from a stored version up to SCHEMA_VERSION.

Version 1 is the first schema: there is nothing to migrate yet. Each future change adds a
function `_to_vN(conn)` here and bumps SCHEMA_VERSION in tables.py.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, update

from llmopt.errors import SchemaVersionError
from llmopt.storage.sql.tables import SCHEMA_VERSION, meta

MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def migrate(conn: Connection, stored: int) -> None:
    """Bring a database at schema `stored` up to SCHEMA_VERSION inside the caller's transaction."""
    for version in range(stored + 1, SCHEMA_VERSION + 1):
        step = MIGRATIONS.get(version)
        if step is None:
            raise SchemaVersionError(f"no migration to schema v{version}", "upgrade llmopt")
        step(conn)
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))
