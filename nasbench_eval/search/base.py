"""What every searcher shares: the objective protocol, the Budget, the result types and summaries.

Searchers work on benchmark *indices*. An objective scores a batch of them::

    objective(indices: int64[n]) -> float64[n]      # higher is better; NaN counts as the worst

`ground_truth_objective` reads a benchmark column, `table_objective` wraps any precomputed
score column (e.g. a proxy over all 15,625 archs). Ground truth for *reporting* is looked up
only after the search ends, so it never steers the search.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from .._validation import check_1d, check_int
from ..exceptions import InvalidParameterError
from ..metrics.aggregate import format_mean_std

DEFAULT_REPORT: tuple[str, str, int] = ("cifar10", "test_acc", 200)
"""(dataset, metric, epochs) reported for the picked architecture unless told otherwise."""


# ---- objectives ---------------------------------------------------------------------------------
@runtime_checkable
class Objective(Protocol):
    """Any callable mapping int64[n] benchmark indices to float64[n] scores (higher is better)."""

    def __call__(self, indices: np.ndarray) -> np.ndarray: ...


class TableObjective:
    """A precomputed column over all archs, looked up by benchmark index.

    Parameters
    ----------
    values : ndarray of shape (n_archs,)
        Scores in benchmark order, already oriented so that higher is better.
    name : str
        Shown in ``repr`` and stored in search results.
    """

    def __init__(self, values: np.ndarray, name: str = "table"):
        self.values = np.array(values, dtype=np.float64)
        self.values.flags.writeable = False
        self.name = name

    def __len__(self) -> int:
        return len(self.values)

    def __call__(self, indices) -> np.ndarray:
        idx = np.asarray(indices)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self.values)):
            raise InvalidParameterError(
                f"{self.name}: indices span {int(idx.min())}..{int(idx.max())}; "
                f"expected benchmark indices 0..{len(self.values) - 1}."
            )
        return self.values[idx]

    def __repr__(self) -> str:
        return f"<TableObjective {self.name}: {len(self)} archs>"


def ground_truth_objective(
    bench, dataset: str = "cifar10-valid", metric: str = "valid_acc", epochs: int = 12
) -> TableObjective:
    """The benchmark's own accuracy column as an objective (NB201's usual search signal).

    Parameters
    ----------
    bench : Benchmark
    dataset, metric, epochs
        The column, default ``cifar10-valid`` ``valid_acc`` after 12 epochs (what NB201 searchers
        see; the 200-epoch test accuracy is for reporting).

    Returns
    -------
    objective : TableObjective
        Maps benchmark indices to accuracies (percent).

    Examples
    --------
    >>> from nasbench_eval import create_benchmark          # doctest: +SKIP
    >>> f = ground_truth_objective(create_benchmark("nb201"), "cifar10", "test_acc", 200)  # doctest: +SKIP
    >>> f(np.array([6111]))                                 # doctest: +SKIP
    array([94.373333])
    """
    key = bench.check_key(dataset, metric, epochs, caller="ground_truth_objective")
    return TableObjective(bench.accuracies(*key), name=f"{key[0]}/{key[1]}@{key[2]}")


def table_objective(values_by_index, higher_is_better: bool = True, *, name: str = "table") -> TableObjective:
    """Precomputed scores over all archs (benchmark order) as an objective.

    Parameters
    ----------
    values_by_index : array-like of shape (n_archs,) or pandas.Series
        One score per architecture; a Series must be indexed by benchmark index 0..n-1 (any order).
    higher_is_better : bool, default=True
        False negates the scores (e.g. a loss), so the search always maximises.
    name : str, default="table"

    Returns
    -------
    objective : TableObjective

    Examples
    --------
    >>> f = table_objective([3.0, 1.0, 2.0], higher_is_better=False)
    >>> f(np.array([0, 1]))
    array([-3., -1.])
    """
    caller = "table_objective"
    if not isinstance(higher_is_better, (bool, np.bool_)):
        raise InvalidParameterError(
            f"{caller}(): higher_is_better={higher_is_better!r} is not a bool; expected True or False."
        )
    if isinstance(values_by_index, pd.Series):
        values_by_index = _series_in_index_order(values_by_index, caller=caller)
    values = check_1d("values_by_index", values_by_index, caller=caller)
    if len(values) == 0:
        raise InvalidParameterError(f"{caller}(): values_by_index is empty; expected one score per architecture.")
    return TableObjective(values if higher_is_better else -values, name=name)


def _series_in_index_order(series: pd.Series, *, caller: str) -> np.ndarray:
    ordered = series.sort_index()
    if not np.array_equal(ordered.index.to_numpy(), np.arange(len(ordered))):
        raise InvalidParameterError(
            f"{caller}(): values_by_index is a Series whose index is not 0..{len(series) - 1}; "
            "expected one row per benchmark index."
        )
    return ordered.to_numpy()


def evaluate(objective, indices: np.ndarray, *, caller: str, name: str = "objective") -> np.ndarray:
    """Call `objective` on `indices` and check that it returned one float per index."""
    raw = objective(indices)
    try:
        scores = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(
            f"{caller}(): {name} returned {type(raw).__name__} that is not numeric; expected a float array."
        ) from err
    if scores.shape != indices.shape:
        raise InvalidParameterError(
            f"{caller}(): {name} returned shape {scores.shape} for {len(indices)} indices; "
            f"expected shape {indices.shape} (one value per index)."
        )
    return scores


# ---- budget -------------------------------------------------------------------------------------
@dataclass
class Budget:
    """What a search may spend; the caller owns it and may share it across calls.

    Searchers call ``budget.charge(queries=n, seconds=t)`` after each objective call and stop
    once `is_exhausted`, never starting an evaluation they cannot afford (`remaining_queries`).
    Offline benchmarks have no training times, so budgets usually count queries.

    Parameters
    ----------
    max_queries : int or None
        Objective evaluations allowed (None: unlimited).
    max_seconds : float or None
        Wall time of objective calls allowed (None: unlimited); checked between calls.

    Examples
    --------
    >>> b = Budget(max_queries=10)
    >>> b.charge(queries=4); b.remaining_queries
    6
    """

    max_queries: int | None = None
    max_seconds: float | None = None
    queries: int = 0
    seconds: float = 0.0

    def __post_init__(self):
        if self.max_queries is not None:
            self.max_queries = check_int("max_queries", self.max_queries, caller="Budget", minimum=0)
        if self.max_seconds is not None and (
            isinstance(self.max_seconds, bool)
            or not isinstance(self.max_seconds, (int, float))
            or not self.max_seconds >= 0
        ):
            raise InvalidParameterError(
                f"Budget(): max_seconds={self.max_seconds!r} is invalid; expected a number >= 0 or None."
            )

    def charge(self, *, queries: int = 0, seconds: float = 0.0) -> None:
        """Record spending."""
        self.queries += int(queries)
        self.seconds += float(seconds)

    @property
    def remaining_queries(self) -> int | None:
        """Queries left (None: unlimited)."""
        return None if self.max_queries is None else max(self.max_queries - self.queries, 0)

    @property
    def is_exhausted(self) -> bool:
        """True once either limit is reached."""
        out_of_queries = self.max_queries is not None and self.queries >= self.max_queries
        out_of_time = self.max_seconds is not None and self.seconds >= self.max_seconds
        return out_of_queries or out_of_time

    def affordable(self, n: int) -> int:
        """How many of `n` further queries may start now (0 when exhausted)."""
        if self.is_exhausted:
            return 0
        left = self.remaining_queries
        return n if left is None else min(n, left)


def check_budget(budget, *, caller: str) -> Budget:
    """`budget` itself, or a fresh unlimited Budget for None."""
    if budget is None:
        return Budget()
    if not isinstance(budget, Budget):
        raise InvalidParameterError(
            f"{caller}(): budget={budget!r} is not a Budget; expected Budget(max_queries=...) or None."
        )
    if budget.affordable(1) == 0:
        raise InvalidParameterError(
            f"{caller}(): budget={budget!r} is already exhausted; expected a budget with room for 1 query."
        )
    return budget


class Clock:
    """Times objective calls and charges them to a Budget."""

    def __init__(self, budget: Budget):
        self.budget, self.start = budget, time.perf_counter()

    def evaluate(self, objective, indices: np.ndarray, *, caller: str) -> np.ndarray:
        """Checked scores of `indices`; charges one query per index and the call's seconds."""
        t0 = time.perf_counter()
        scores = evaluate(objective, indices, caller=caller)
        self.budget.charge(queries=len(indices), seconds=time.perf_counter() - t0)
        return scores

    def elapsed(self) -> float:
        """Seconds since the clock was made (the search's wall time)."""
        return time.perf_counter() - self.start


# ---- seeds and reporting --------------------------------------------------------------------------
def check_rng(seed, *, caller: str) -> tuple[np.random.Generator, int | None]:
    """(Generator, the int seed or None) from an int >= 0 or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed, None
    seed = check_int("seed", seed, caller=caller, minimum=0)
    return np.random.default_rng(seed), seed


def check_report(report, bench, *, caller: str) -> Callable[[np.ndarray], np.ndarray]:
    """A vectorised ground-truth lookup from a (dataset, metric, epochs) tuple or a callable."""
    if callable(report):
        return report
    if isinstance(report, (tuple, list)) and len(report) == 3:
        values = bench.accuracies(*bench.check_key(*report, caller=caller))
        return TableObjective(values, name=f"{report[0]}/{report[1]}@{report[2]}")
    raise InvalidParameterError(
        f"{caller}(): report={report!r} is invalid; expected (dataset, metric, epochs) or a callable of indices."
    )


def check_objective(objective, *, caller: str) -> None:
    """Raise unless `objective` is callable."""
    if not callable(objective):
        raise InvalidParameterError(
            f"{caller}(): objective={objective!r} is not callable; expected objective(indices) -> scores, "
            "e.g. ground_truth_objective(bench) or table_objective(values)."
        )


def describe_report(report) -> tuple | str:
    """A JSON-friendly record of `report` for a result's config."""
    if isinstance(report, (tuple, list)):
        return tuple(report)
    return getattr(report, "name", None) or getattr(report, "__name__", None) or type(report).__name__


# ---- results --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trajectory:
    """Per-evaluation log of a search, in evaluation order (all arrays have length n_evaluations).

    Attributes
    ----------
    index : int64 array
        Benchmark index evaluated at each step (REA may evaluate an arch more than once).
    score : float64 array
        Objective value (NaN kept as returned).
    best_score : float64 array
        Running best objective value (NaN treated as the worst).
    incumbent : int64 array
        Benchmark index of the running best (ties: the earliest step).
    report : float64 array
        Ground truth of `index` (for analysis only; the search never saw it).
    incumbent_report : float64 array
        Ground truth of `incumbent`: what the search would return if stopped at that step.
    parent : int64 array
        Step whose architecture was mutated into this one, or -1 for a random sample.
    """

    index: np.ndarray
    score: np.ndarray
    best_score: np.ndarray
    incumbent: np.ndarray
    report: np.ndarray
    incumbent_report: np.ndarray
    parent: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def to_frame(self) -> pd.DataFrame:
        """One row per step, one column per attribute."""
        return pd.DataFrame({k: getattr(self, k) for k in self.__dataclass_fields__}).rename_axis("step")


def build_trajectory(index: np.ndarray, score: np.ndarray, parent: np.ndarray, truth: np.ndarray) -> Trajectory:
    """Running best of a finished search; `truth` is the ground truth of each evaluated index."""
    oriented = np.where(np.isnan(score), -np.inf, score)
    best_pos = _running_argmax(oriented)
    return Trajectory(
        index=index, score=score, best_score=score[best_pos], incumbent=index[best_pos],
        report=truth, incumbent_report=truth[best_pos], parent=parent,
    )


def _running_argmax(values: np.ndarray) -> np.ndarray:
    """Position of the first maximum of values[:t+1], for every t."""
    best = np.maximum.accumulate(values)
    is_new = np.r_[True, values[1:] > best[:-1]] if len(values) else np.zeros(0, bool)
    return np.maximum.accumulate(np.where(is_new, np.arange(len(values)), 0))


@dataclass(frozen=True)
class SearchResult:
    """The outcome of one search run (one seed).

    Attributes
    ----------
    searcher : str
        Registry key of the algorithm.
    seed : int or None
        None when a Generator was passed.
    index : int
        Benchmark index of the picked architecture (best objective value; ties: earliest step).
    arch : str
        Its official string.
    score : float
        Its objective value.
    accuracy : float
        Its ground truth under `report` (percent).
    space_best : float
        The best ground truth over the whole space searched (for regret).
    wall_time : float
        Seconds spent searching (objective calls included; ground-truth lookups excluded).
    trajectory : Trajectory
    config : dict
        The settings used (n_samples, population_size, ...).
    """

    searcher: str
    seed: int | None
    index: int
    arch: str
    score: float
    accuracy: float
    space_best: float
    wall_time: float
    trajectory: Trajectory
    config: dict = field(default_factory=dict)

    @property
    def regret(self) -> float:
        """``space_best - accuracy`` in accuracy points (spec §10.1)."""
        return self.space_best - self.accuracy

    @property
    def n_evaluations(self) -> int:
        """Objective evaluations made."""
        return len(self.trajectory)


def finish(searcher: str, bench, *, seed, index, score, parent, report, wall_time, config) -> SearchResult:
    """Assemble the SearchResult of a finished search (ground truth looked up here, after the search)."""
    index = np.asarray(index, np.int64)
    truth = evaluate(report, index, caller=searcher, name="report")
    space_best = float(np.nanmax(evaluate(report, np.arange(len(bench)), caller=searcher, name="report")))
    traj = build_trajectory(index, np.asarray(score, np.float64), np.asarray(parent, np.int64), truth)
    pick = int(traj.incumbent[-1])
    return SearchResult(
        searcher=searcher, seed=seed, index=pick, arch=bench.arch_str(pick), score=float(traj.best_score[-1]),
        accuracy=float(traj.incumbent_report[-1]), space_best=space_best, wall_time=wall_time,
        trajectory=traj, config=config,
    )


# ---- summaries over seeds ---------------------------------------------------------------------------
def summarize(results: Sequence[SearchResult], *, round_to: int | None = None) -> dict:
    """Mean ± std (``ddof=0``) over seeds of the picked accuracy, test error and regret (spec §10.2).

    Parameters
    ----------
    results : sequence of SearchResult
        One per seed, same searcher, objective and report.
    round_to : int or None
        Round accuracies before computing error and regret (2 reproduces [PUP]'s tables).

    Returns
    -------
    summary : dict
        ``n_seeds``, ``{accuracy,error,regret,wall_time}_{mean,std}``, and ``accuracy_text``,
        ``error_text``, ``regret_text`` formatted as ``"mean ± std"`` with 2 decimals.
    """
    results = _check_results(results)
    acc = np.array([r.accuracy for r in results])
    best = np.array([r.space_best for r in results])
    if round_to is not None:
        round_to = check_int("round_to", round_to, caller="summarize", minimum=0)
        acc, best = np.round(acc, round_to), np.round(best, round_to)
    error, regret = 100.0 - acc, best - acc
    if round_to is not None:  # differences of rounded numbers are exact at that precision
        error, regret = np.round(error, round_to), np.round(regret, round_to)
    columns = {"accuracy": acc, "error": error, "regret": regret, "wall_time": np.array([r.wall_time for r in results])}
    out: dict = {"n_seeds": len(results)}
    for name, values in columns.items():
        out[f"{name}_mean"], out[f"{name}_std"] = float(np.mean(values)), float(np.std(values, ddof=0))
    for name in ("accuracy", "error", "regret"):
        out[f"{name}_text"] = format_mean_std((out[f"{name}_mean"], out[f"{name}_std"]))
    return out


def _check_results(results) -> list[SearchResult]:
    results = list(results) if not isinstance(results, SearchResult) else [results]
    if not results:
        raise InvalidParameterError("summarize(): results=[] is empty; expected one SearchResult per seed.")
    bad = [type(r).__name__ for r in results if not isinstance(r, SearchResult)]
    if bad:
        raise InvalidParameterError(f"summarize(): results holds {bad[0]} items; expected SearchResult objects.")
    return results
