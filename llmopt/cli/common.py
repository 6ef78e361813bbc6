"""What every command shares: the storage options, read-only opening, the per-trial log, value formatting."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from llmopt.redaction import redact

STORAGE_HELP = "storage URL or SQLite path (default: sqlite:///llmopt.db, or $LLMOPT_STORAGE)"


def add_common(parser: argparse.ArgumentParser) -> None:
    """`--storage` and `--debug` after the command name too (`llmopt report X --storage f.db`)."""
    parser.add_argument("--storage", default=argparse.SUPPRESS, help=STORAGE_HELP)
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback of an error")


def reading(args: argparse.Namespace) -> Any:
    """The storage opened read-only: reading commands never change a file."""
    from llmopt.storage import get_storage

    return get_storage(args.storage, readonly=True)


def paths(study: Any) -> list[str]:
    """The space's variable paths, in the space's order (column order of every table)."""
    return [leaf.path for leaf in study.space.leaves]


def shown(value: object) -> str:
    return "-" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


def file_safe(name: str) -> str:
    """A study name as a file name: letters, digits, '-', '_' and '.' kept, the rest '_'."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "study"


@contextmanager
def trial_log(enabled: bool) -> Iterator[None]:
    """Per-trial log lines on stderr while one command runs (removed after: main() may run again in-process)."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(_redacting)
    logger = logging.getLogger("llmopt")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _redacting(record: logging.LogRecord) -> bool:
    """Log lines pass through redact(): no key reaches the terminal or a captured log."""
    record.msg, record.args = redact(record.getMessage()), None
    return True
