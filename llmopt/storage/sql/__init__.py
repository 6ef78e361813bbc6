"""SQLAlchemy storage: the only place llmopt imports SQLAlchemy."""

from llmopt.storage.sql.storage import SQLStorage

__all__ = ["SQLStorage"]
