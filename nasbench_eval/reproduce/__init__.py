"""Reproduce published NAS-Bench-201 results: the papers' numbers beside ours.

One registry, `REPRODUCTIONS` (`catalog`), holds every reproduction: benchmark-only tables (rows in
`published`, run by `runner` from the benchmark and proxy scores kept in the score store) and
reproductions that train supernets ([PUP] Table 2 in `pup_table2`, [LZ] Fig. 4 in `interchoice`, both
on the two-stage `grid`). `run_reproduction` runs any of them and writes markdown / CSV / JSON (`report`).

>>> from nasbench_eval.reproduce import list_tables
>>> "tenas-table1" in list_tables()
True
"""
from __future__ import annotations

from .base import QUICK_WARNING, Reproduction, ReproductionContext
from .catalog import REPRODUCTIONS, get_table, list_experiments, list_tables, run_reproduction
from .published import Published, RowSpec, TableSpec
from .report import markdown, to_frame, write
from .runner import RunContext, run_table

__all__ = [
    "QUICK_WARNING", "REPRODUCTIONS", "Published", "Reproduction", "ReproductionContext", "RowSpec", "RunContext",
    "TableSpec", "get_table", "list_experiments", "list_tables", "markdown", "run_reproduction", "run_table",
    "to_frame", "write",
]
