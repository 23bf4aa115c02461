"""Ground-truth benchmarks behind one interface (see base.Benchmark).

>>> bench = create_benchmark("nb201")            # doctest: +SKIP
>>> bench.query(6111, dataset="cifar10")          # doctest: +SKIP
94.373333
"""
from __future__ import annotations

import os

from ..registry import BENCHMARKS
from .base import DATASETS, EPOCHS, METRICS, ArchInfo, Benchmark, column_name
from .table import TableBenchmark, find_table

register_benchmark = BENCHMARKS.register


def _open(space: str, path, data_dir) -> Benchmark:
    if path is not None:
        from .nats_api import OfficialBenchmark  # lazy: nats_bench is only needed with official files

        return OfficialBenchmark(path or None, space)   # "" probes the official default places
    return TableBenchmark(find_table(space, data_dir), space)


@register_benchmark("nb201")
def nb201(path: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None) -> Benchmark:
    """NAS-Bench-201 topology space: the offline table, or the official NATS-Bench tss archive or NB201 .pth at `path`
    ("" probes $TORCH_HOME, else ~/.torch)."""
    return _open("tss", path, data_dir)


@register_benchmark("nats_tss")
def nats_tss(path: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None) -> Benchmark:
    """NATS-Bench topology space (same archs and order as nb201)."""
    return _open("tss", path, data_dir)


@register_benchmark("nats_sss")
def nats_sss(path: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None) -> Benchmark:
    """NATS-Bench size space: the official file at `path`, or the table `data import` wrote."""
    return _open("sss", path, data_dir)


def create_benchmark(name: str = "nb201", **kwargs) -> Benchmark:
    """Open a benchmark by registry name; kwargs whose value is None are dropped (defaults win)."""
    return BENCHMARKS.get(name).fn(**{k: v for k, v in kwargs.items() if v is not None})


def list_benchmarks(pattern: str = "*") -> list[str]:
    """Registered benchmark names matching a glob."""
    return BENCHMARKS.names(pattern)


__all__ = [
    "DATASETS", "EPOCHS", "METRICS", "ArchInfo", "Benchmark", "TableBenchmark",
    "column_name", "create_benchmark", "find_table", "list_benchmarks", "register_benchmark",
]
