"""What a database error means for the user: an unreachable server, a value it refused, or a file that is not a database.

"Check the database is reachable" is only the right advice for connection failures; a value
the server rejects (too long, a NUL byte, an integer out of range) must say so instead.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DataError, DatabaseError, DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError, StatementError

from llmopt.errors import StorageError
from llmopt.redaction import redact


def storage_error(exc: Exception, where: str) -> StorageError:
    """One StorageError naming the real cause of `exc` (with secrets in its text redacted)."""
    orig = getattr(exc, "orig", None)
    detail = redact(" ".join(str(orig if orig is not None else exc).split()))[:500]
    kind = type(orig).__name__ if orig is not None else type(exc).__name__
    lowered = detail.lower()
    if "file is not a database" in lowered or "not a database" in lowered:
        return StorageError(f"{where} is not a SQLite database ({detail})", "pass --storage with an llmopt database or a new file name")
    if "readonly database" in lowered or "read-only" in lowered:
        return StorageError(f"{where} cannot be written: {detail}", "check the file's permissions, or use another --storage")
    if isinstance(exc, DataError) or _is_value_error(exc, orig):
        return StorageError(f"the database {where} refused a value: {kind}: {detail}",
                            "check the value named above (length, characters, range); nothing was stored")
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, sqlite3.OperationalError)) and not _is_sqlite_lock(lowered):
        return StorageError(f"database error on {where}: {kind}: {detail}",
                            "check the database is reachable; nothing committed was lost")
    if _is_sqlite_lock(lowered):
        return StorageError(f"database {where} stayed locked by another process: {detail}",
                            "another process holds a long write; retry, or use PostgreSQL for many workers")
    if isinstance(exc, (DatabaseError, sqlite3.DatabaseError)):
        return StorageError(f"the database {where} rejected a statement: {kind}: {detail}",
                            "report this with the message; nothing committed was lost")
    return StorageError(f"database error on {where}: {kind}: {detail}", "nothing committed was lost")


def _is_value_error(exc: Exception, orig: object) -> bool:
    """Driver-side refusals of a value (psycopg raises ValueError/OverflowError before sending)."""
    if isinstance(orig, (ValueError, OverflowError)):
        return True
    return isinstance(exc, StatementError) and not isinstance(exc, DatabaseError) and orig is not None


def _is_sqlite_lock(lowered: str) -> bool:
    return "database is locked" in lowered or "database table is locked" in lowered
