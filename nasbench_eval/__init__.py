"""nasbench-eval: evaluate NAS methods on NAS-Bench-201 / NATS-Bench.

Importing the package is light (no torch, scipy, matplotlib or pandas): the scoring, metrics and
search parts are imported on first use (``nasbench_eval.proxies`` or ``from nasbench_eval import
score_arch``), and each registry imports the module that fills it when it is first read.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .benchmarks import Benchmark, create_benchmark, list_benchmarks
from ._lazy import lazy_getattr
from .exceptions import (
    ArchNotFoundError,
    CorruptDataError,
    DataNotFoundError,
    InvalidParameterError,
    NasBenchEvalError,
    UnknownNameError,
)
from .space import OPS, Arch, SizeArch, parse_arch

_LAZY = {
    "metrics": ("metrics", None), "nets": ("nets", None), "proxies": ("proxies", None), "search": ("search", None),
    "build_network": ("nets", "build_network"), "compute_proxy": ("proxies", "compute_proxy"),
    "list_proxies": ("proxies", "list_proxies"), "score_arch": ("proxies", "score_arch"),
}
"""Public name -> (submodule, attribute or None for the submodule itself), imported on first access."""

__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "OPS", "Arch", "ArchNotFoundError", "Benchmark", "CorruptDataError", "DataNotFoundError",
    "InvalidParameterError", "NasBenchEvalError", "SizeArch", "UnknownNameError", "__version__",
    "build_network", "compute_proxy", "create_benchmark", "list_benchmarks", "list_proxies", "metrics", "nets",
    "parse_arch", "proxies", "score_arch", "search",
]
