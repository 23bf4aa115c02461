"""Regularized evolution (REA, Real et al. 2019): tournament selection, one-edge mutation, aging.

How the training-free NAS paper's settings map onto the parameters here. It says "the maximum
population size is set to 1000, the pool size is set to 64 and the tournament size is set to 20":

* "maximum population size" 1000 -> `n_evaluations`: every architecture ever evaluated (Real et
  al.'s *history*, initial population included), i.e. the search's total objective queries;
* "pool size" 64 -> `population_size` (P): the aging queue the tournaments sample from;
* "tournament size" 20 -> `tournament_size` (S): members drawn per cycle; the best is the parent.

So a run makes P = 64 random evaluations, then 1000 - 64 = 936 cycles of one mutated child each.
"""
from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np

from .._validation import check_int
from ..exceptions import InvalidParameterError
from ..registry import SEARCHERS
from ..space import mutate
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

N_EVALUATIONS, POPULATION_SIZE, TOURNAMENT_SIZE = 1000, 64, 20
"""Defaults from the training-free NAS paper (see the module docstring for the mapping)."""


class Member(NamedTuple):
    """One population member: the step at which it was evaluated, its benchmark index and score."""

    step: int
    index: int
    score: float


class AgingPopulation:
    """A first-in-first-out population of at most `capacity` members: adding to a full one removes the oldest.

    Examples
    --------
    >>> pop = AgingPopulation(2)
    >>> pop.add(Member(0, 7, 1.0)), pop.add(Member(1, 8, 3.0)), pop.add(Member(2, 9, 2.0))
    (None, None, Member(step=0, index=7, score=1.0))
    >>> [m.step for m in pop]
    [1, 2]
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._members: deque[Member] = deque()

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self):
        return iter(self._members)

    def add(self, member: Member) -> Member | None:
        """Append `member`; return the member aged out, if any."""
        self._members.append(member)
        return self._members.popleft() if len(self._members) > self.capacity else None

    def tournament(self, rng: np.random.Generator, size: int) -> Member:
        """The best of `size` distinct members drawn uniformly (NaN is the worst; ties: the oldest)."""
        picks = np.sort(rng.choice(len(self._members), size=min(size, len(self._members)), replace=False))
        scores = np.array([self._members[p].score for p in picks])
        best = int(np.argmax(np.where(np.isnan(scores), -np.inf, scores)))
        return self._members[int(picks[best])]


def mutate_index(bench, index: int, rng: np.random.Generator) -> int:
    """Benchmark index of `bench.arch(index)` with one edge set to another op (`space.mutate`)."""
    return bench.index_of(mutate(bench.arch(index), rng))


@SEARCHERS.register("regularized_evolution", aliases=("rea",))
def regularized_evolution(
    objective,
    bench,
    *,
    seed: int | np.random.Generator,
    n_evaluations: int = N_EVALUATIONS,
    population_size: int = POPULATION_SIZE,
    tournament_size: int = TOURNAMENT_SIZE,
    budget: Budget | None = None,
    report=DEFAULT_REPORT,
) -> SearchResult:
    """Regularized (aging) evolution over the tss space, maximising `objective`.

    Starts from `population_size` distinct random architectures. Each cycle draws
    `tournament_size` distinct members, mutates one edge of the best one, evaluates the child,
    appends it and removes the oldest member. Stops after `n_evaluations` evaluations in all
    (the initial ones included) or when `budget` is spent. The pick is the best architecture
    ever evaluated (ties: the earliest); children may repeat earlier architectures.

    Parameters
    ----------
    objective : callable
        ``objective(int64[n]) -> float64[n]`` over benchmark indices; higher is better, NaN is the worst.
    bench : Benchmark
        A tss benchmark (mutation changes one edge's op).
    seed : int or numpy.random.Generator
    n_evaluations : int, default=1000
        Total objective evaluations (the paper's "maximum population size").
    population_size : int, default=64
        P, the aging population (the paper's "pool size"); 1 <= P <= n_evaluations.
    tournament_size : int, default=20
        S, members per tournament; 1 <= S <= P.
    budget : Budget or None
        Checked before every evaluation; the search never queries more than it allows.
    report : (dataset, metric, epochs) or callable, default=("cifar10", "test_acc", 200)
        Ground truth looked up after the search.

    Returns
    -------
    result : SearchResult
        ``trajectory.parent`` holds, for each child, the step of its parent (-1: random initial member).
    """
    caller = "regularized_evolution"
    check_objective(objective, caller=caller)
    if getattr(bench, "space", "tss") != "tss":
        raise InvalidParameterError(
            f"{caller}(): bench={bench!r} is not a tss benchmark; expected create_benchmark('nb201')."
        )
    n_evaluations = check_int("n_evaluations", n_evaluations, caller=caller, minimum=1)
    population_size = check_int(
        "population_size", population_size, caller=caller, minimum=1, maximum=min(n_evaluations, len(bench))
    )
    tournament_size = check_int("tournament_size", tournament_size, caller=caller, minimum=1, maximum=population_size)
    rng, seed_value = check_rng(seed, caller=caller)
    clock = Clock(check_budget(budget, caller=caller))
    report_fn = check_report(report, bench, caller=caller)
    log = _evolve(objective, bench, rng, clock, n_evaluations, population_size, tournament_size)
    return finish(
        caller, bench, seed=seed_value, index=log[0], score=log[1], parent=log[2], report=report_fn,
        wall_time=clock.elapsed(),
        config={"n_evaluations": n_evaluations, "population_size": population_size,
                "tournament_size": tournament_size, "report": describe_report(report)},
    )


def _evolve(objective, bench, rng, clock: Clock, n_evaluations: int, population_size: int, tournament_size: int):
    """The REA loop; returns (indices, scores, parent steps), one entry per evaluation."""
    population = AgingPopulation(population_size)
    initial = rng.choice(len(bench), size=population_size, replace=False)[: clock.budget.affordable(population_size)]
    scores = clock.evaluate(objective, initial.astype(np.int64), caller="regularized_evolution")
    index, score, parent = [int(i) for i in initial], [float(s) for s in scores], [-1] * len(initial)
    for step, (i, s) in enumerate(zip(index, score)):
        population.add(Member(step, i, s))
    while len(index) < n_evaluations and clock.budget.affordable(1):
        mother = population.tournament(rng, tournament_size)
        child = mutate_index(bench, mother.index, rng)
        s = float(clock.evaluate(objective, np.array([child], dtype=np.int64), caller="regularized_evolution")[0])
        population.add(Member(len(index), child, s))
        index.append(child)
        score.append(s)
        parent.append(mother.step)
    return index, score, parent
