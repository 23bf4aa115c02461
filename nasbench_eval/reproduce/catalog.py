"""The one registry of reproductions: benchmark-only tables and reproductions that train supernets.

`REPRODUCTIONS` maps a name to a `Reproduction` (tag ``table`` or ``trained``); `run_reproduction`
runs any of them in a `ReproductionContext`, adds provenance and writes ``<name>.md``, ``<name>.csv`` and
``<name>.json`` through the one writer (`report.write`). Trained reproductions keep their expensive
work (Stage-1 run directories, cached evaluations and selections) in ``<out>/work``; tables keep proxy
scores in the score store. Both resume by running the same command again.

>>> list_experiments()
['pup-table2', 'interchoice-curves']
>>> "tenas-table1" in list_tables()
True
"""
from __future__ import annotations

from pathlib import Path

from .._validation import kept_on_failure
from ..benchmarks import create_benchmark
from ..device import resolve_device
from ..exceptions import InvalidParameterError
from ..provenance import provenance
from ..registry import Registry
from ..scoring.store import ScoreStore
from . import interchoice, pup_table2
from .base import Reproduction, ReproductionContext
from .published import TABLE_SPECS, TableSpec
from .report import markdown, to_frame, write
from .runner import RunContext, run_table


def table_reproduction(table: TableSpec) -> Reproduction:
    """`table` as a `Reproduction`: benchmark nb201, proxy scores in the score store ``ctx.store``."""

    def run(ctx: ReproductionContext) -> dict:
        if ctx.epochs is not None:
            raise InvalidParameterError(f"reproduce(): --epochs={ctx.epochs!r} does not apply to table {table.name!r}, "
                                        f"which trains nothing; expected it only with {list_experiments()}.")
        bench = create_benchmark("nb201", data_dir=ctx.data_dir)
        with ScoreStore(ctx.store) as store:
            result = run_table(table, RunContext(bench=bench, store=store, device=ctx.device, data_dir=ctx.data_dir,
                                                 quick=ctx.quick, seeds=ctx.seeds, progress=ctx.progress,
                                                 executor=ctx.executor))
            result["store"] = str(store.path)
        return result

    return Reproduction(table.name, table.title, table.paper, table.source, run, markdown, to_frame, spec=table)


REPRODUCTIONS = Registry("reproduction", "reproductions")
"""Name -> Reproduction: the tables (tag ``table``), then the trained reproductions (tag ``trained``)."""
for _table in TABLE_SPECS:
    REPRODUCTIONS.add(_table.name, table_reproduction(_table), tags=frozenset({"table"}), description=_table.title)
for _rep in (pup_table2.REPRODUCTION, interchoice.REPRODUCTION):
    REPRODUCTIONS.add(_rep.name, _rep, tags=frozenset({"trained"}), description=_rep.title)


def list_tables() -> list[str]:
    """Names of the benchmark-only tables, in listing order."""
    return REPRODUCTIONS.names(tags={"table"})


def list_experiments() -> list[str]:
    """Names of the reproductions that train supernets, in listing order."""
    return REPRODUCTIONS.names(tags={"trained"})


def get_table(name: str) -> TableSpec:
    """The rows and published numbers of table `name` (UnknownNameError with suggestions otherwise)."""
    spec = REPRODUCTIONS[name].spec
    if spec is None:
        raise InvalidParameterError(
            f"get_table(): name={name!r} is a trained reproduction; expected one of {list_tables()}.")
    return spec


def run_reproduction(name: str, ctx: ReproductionContext) -> dict:
    """Run (or resume) reproduction `name` in `ctx`, add provenance, write its files to ``ctx.out``.

    Returns
    -------
    dict
        The reproduction's result plus ``reproduction`` (its name), ``provenance`` and ``files``.
    """
    rep = REPRODUCTIONS[name]
    result = rep.run(ctx)
    result["reproduction"] = rep.name
    result["provenance"] = provenance(resolve_device(ctx.device))
    kept = (f"the scores are kept in the score store {result['store']}" if "store" in result
            else f"the finished runs are kept in {Path(ctx.out) / 'work'}")
    with kept_on_failure(f"{kept}; rerun with a writable --out to write the report without recomputing"):
        write(rep, result, ctx.out)
    return result


__all__ = ["REPRODUCTIONS", "get_table", "list_experiments", "list_tables", "run_reproduction", "table_reproduction"]
