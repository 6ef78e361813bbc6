"""Storage of studies, trials and per-example results (SQLAlchemy is imported only when used)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from llmopt.storage.base import Storage, StudyRecord, StudySettings, StudySummary, TrialSpend

if TYPE_CHECKING:
    from llmopt.storage.sql import SQLStorage


def get_storage(
    storage: Storage | str | os.PathLike[str] | None = None, *, create: bool = True, readonly: bool = False
) -> Storage:
    """A Storage from a URL or path (None: the default SQLite file `llmopt.db`), or pass one through.

    `create=False` refuses to create a database; `readonly=True` refuses to change one.
    """
    if isinstance(storage, Storage):
        return storage
    from llmopt.storage.sql import SQLStorage

    return SQLStorage(storage, create=create, readonly=readonly)


__all__ = ["SQLStorage", "Storage", "StudyRecord", "StudySettings", "StudySummary", "TrialSpend", "get_storage"]


def __getattr__(name: str) -> object:
    if name == "SQLStorage":
        from llmopt.storage.sql import SQLStorage

        return SQLStorage
    raise AttributeError(name)
