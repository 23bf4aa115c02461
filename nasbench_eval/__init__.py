"""nasbench-eval: evaluate NAS methods on NAS-Bench-201 / NATS-Bench.

Importing the package registers every built-in benchmark, proxy and metric.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .benchmarks import Benchmark, create_benchmark, list_benchmarks
from .exceptions import (
    ArchNotFoundError,
    CorruptDataError,
    DataNotFoundError,
    InvalidParameterError,
    NasBenchEvalError,
    UnknownNameError,
)
from .space import OPS, Arch, SizeArch, parse_arch
from . import metrics, nets, proxies, search  # noqa: E402  (import registers every metric, proxy and searcher)
from .nets import build_network
from .proxies import compute_proxy, list_proxies, score_arch

__all__ = [
    "OPS", "Arch", "ArchNotFoundError", "Benchmark", "CorruptDataError", "DataNotFoundError",
    "InvalidParameterError", "NasBenchEvalError", "SizeArch", "UnknownNameError", "__version__",
    "build_network", "compute_proxy", "create_benchmark", "list_benchmarks", "list_proxies", "metrics", "nets",
    "parse_arch", "proxies", "score_arch", "search",
]
