"""Random search: score N distinct random architectures and keep the best (NASWOT's search)."""
from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..registry import SEARCHERS
from .base import (
    DEFAULT_REPORT,
    Budget,
    Clock,
    SearchResult,
    check_budget,
    check_objective,
    check_report,
    check_rng,
    describe_report,
    finish,
)


@SEARCHERS.register("random_search")
def random_search(
    objective,
    bench,
    *,
    n_samples: int,
    seed: int | np.random.Generator,
    budget: Budget | None = None,
    report=DEFAULT_REPORT,
    batch_size: int | None = None,
) -> SearchResult:
    """Score `n_samples` distinct random architectures and pick the best.

    Parameters
    ----------
    objective : callable
        ``objective(int64[n]) -> float64[n]`` over benchmark indices; higher is better, NaN is the worst.
    bench : Benchmark
        The space searched (all ``len(bench)`` indices are candidates).
    n_samples : int
        Architectures drawn without replacement, 1 <= n_samples <= len(bench) (papers: 10, 100, 1000).
    seed : int or numpy.random.Generator
        The draw; the same int gives the same result.
    budget : Budget or None
        Stops early, between batches, once exhausted; never queries more than it allows.
    report : (dataset, metric, epochs) or callable, default=("cifar10", "test_acc", 200)
        Ground truth looked up after the search for the picked arch, the trajectory and regret.
    batch_size : int or None
        Indices per objective call (None: all at once); use 1 with a time budget.

    Returns
    -------
    result : SearchResult
        The arch with the highest objective value (ties: the earliest draw), its ground truth,
        the wall time and the per-draw trajectory.

    Raises
    ------
    InvalidParameterError
        If n_samples is not in 1..len(bench), the objective returns the wrong shape, or the budget is spent.
    """
    caller = "random_search"
    check_objective(objective, caller=caller)
    n_samples = check_int("n_samples", n_samples, caller=caller, minimum=1, maximum=len(bench))
    batch_size = n_samples if batch_size is None else check_int("batch_size", batch_size, caller=caller, minimum=1)
    rng, seed_value = check_rng(seed, caller=caller)
    budget = check_budget(budget, caller=caller)
    report_fn = check_report(report, bench, caller=caller)
    clock = Clock(budget)
    draws = rng.choice(len(bench), size=n_samples, replace=False).astype(np.int64)
    index, score = _score_in_batches(objective, draws, batch_size, clock)
    return finish(
        caller, bench, seed=seed_value, index=index, score=score, parent=np.full(len(index), -1),
        report=report_fn, wall_time=clock.elapsed(),
        config={"n_samples": n_samples, "batch_size": batch_size, "report": describe_report(report)},
    )


def _score_in_batches(objective, draws: np.ndarray, batch_size: int, clock: Clock) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate `draws` in order, batch by batch, while the budget allows."""
    done, scores = 0, []
    while done < len(draws):
        n = clock.budget.affordable(min(batch_size, len(draws) - done))
        if n == 0:
            break
        scores.append(clock.evaluate(objective, draws[done:done + n], caller="random_search"))
        done += n
    return draws[:done], np.concatenate(scores)

