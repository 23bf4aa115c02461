"""Reproduce published NAS-Bench-201 tables: the papers' numbers beside ours, computed from the benchmark
and from proxy scores kept in the score store.

>>> from nasbench_eval.reproduce import list_tables
>>> "tenas-table1" in list_tables()
True

The published numbers are data (`published`); `runner` computes ours; `report` writes markdown/CSV/JSON.
"""
from __future__ import annotations

from .published import TABLES, Published, RowSpec, TableSpec, get_table, list_tables
from .report import markdown, to_frame, write
from .runner import QUICK_WARNING, RunContext, run_table

__all__ = [
    "QUICK_WARNING", "TABLES", "Published", "RowSpec", "RunContext", "TableSpec", "get_table", "list_tables",
    "markdown", "run_table", "to_frame", "write",
]
