"""Search algorithms over a generic objective on the tss space (random search, regularized evolution).

Importing this package registers ``random_search``, ``regularized_evolution`` and ``tenas_pruning`` in SEARCHERS.

>>> from nasbench_eval import create_benchmark                          # doctest: +SKIP
>>> bench = create_benchmark("nb201")                                  # doctest: +SKIP
>>> runs = [regularized_evolution(ground_truth_objective(bench), bench, seed=s) for s in range(10)]  # doctest: +SKIP
>>> summarize(runs)["accuracy_text"]                                   # doctest: +SKIP
"""
from __future__ import annotations

from ..registry import SEARCHERS
from .base import (
    DEFAULT_REPORT, Budget, Objective, SearchResult, TableObjective, Trajectory,
    ground_truth_objective, summarize, table_objective,
)
from .evolution import AgingPopulation, Member, mutate_index, regularized_evolution
from .pruning import Candidate, PruneRound, PruningResult, tenas_prune
from .random_search import random_search


def list_searchers(pattern: str = "*") -> list[str]:
    """Registered searcher names matching a glob."""
    return SEARCHERS.names(pattern)


__all__ = [
    "DEFAULT_REPORT", "AgingPopulation", "Budget", "Candidate", "Member", "Objective", "PruneRound", "PruningResult",
    "SearchResult", "TableObjective", "Trajectory", "ground_truth_objective", "list_searchers", "mutate_index",
    "random_search",
    "regularized_evolution", "summarize", "table_objective", "tenas_prune",
]
