"""Reproduce published NAS-Bench-201 tables: the papers' numbers beside ours, computed from the benchmark
and from proxy scores kept in the score store.

>>> from nasbench_eval.reproduce import list_tables
>>> "tenas-table1" in list_tables()
True

The published numbers are data (`published`); `runner` computes ours; `report` writes markdown/CSV/JSON.
Reproductions that train supernets ([PUP] Table 2, [LZ] Fig. 4) are a second kind, in `trained`.
"""
from __future__ import annotations

from .published import TABLES, Published, RowSpec, TableSpec, get_table, list_tables
from .report import markdown, to_frame, write
from .runner import QUICK_WARNING, RunContext, run_table
from .trained import EXPERIMENTS, ExperimentContext, get_experiment, list_experiments, run_experiment

__all__ = [
    "EXPERIMENTS", "QUICK_WARNING", "TABLES", "ExperimentContext", "Published", "RowSpec", "RunContext", "TableSpec",
    "get_experiment", "get_table", "list_experiments", "list_tables", "markdown", "run_experiment", "run_table", "to_frame",
    "write",
]
