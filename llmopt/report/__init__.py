"""Reports of stored studies: text tables (table, markdown, JSON, CSV) and the self-contained HTML report."""

from .table import FORMATS, render, sort_rows, split_constant, trial_rows

__all__ = ["FORMATS", "render", "sort_rows", "split_constant", "trial_rows"]
