"""Search algorithms: objectives, Budget, random search, regularized evolution, summaries (spec §10)."""
from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nasbench_eval import InvalidParameterError, create_benchmark
from nasbench_eval.metrics import format_mean_std
from nasbench_eval.registry import SEARCHERS
from nasbench_eval.search import (
    AgingPopulation, Budget, Member, SearchResult, Trajectory, ground_truth_objective,
    list_searchers, mutate_index, random_search, regularized_evolution, summarize, table_objective,
)

N_ARCHS = 15625


@pytest.fixture(scope="module")
def bench():
    return create_benchmark("nb201")


@pytest.fixture(scope="module")
def valid12(bench):
    return ground_truth_objective(bench)  # cifar10-valid valid_acc@12


def one_hot(index: int, n: int = N_ARCHS) -> np.ndarray:
    values = np.zeros(n)
    values[index] = 1.0
    return values


def fake_result(accuracy: float, space_best: float = 100.0) -> SearchResult:
    empty = np.zeros(0)
    traj = Trajectory(*(empty,) * 7)
    return SearchResult("random_search", 0, 0, "", 0.0, accuracy, space_best, 0.1, traj)


# ---- objectives ---------------------------------------------------------------------------------------
def test_ground_truth_objective_reads_the_requested_column(bench):
    f = ground_truth_objective(bench, "cifar10", "test_acc", 200)
    np.testing.assert_array_equal(f(np.array([6111, 9930])), [94.373333, 94.363333])


def test_table_objective_negates_lower_is_better():
    f = table_objective([3.0, 1.0, 2.0], higher_is_better=False)
    np.testing.assert_array_equal(f(np.array([2, 0, 1])), [-2.0, -3.0, -1.0])


def test_table_objective_reorders_a_series_by_index():
    f = table_objective(pd.Series([10.0, 30.0, 20.0], index=[1, 0, 2]))
    np.testing.assert_array_equal(f(np.array([0, 1, 2])), [30.0, 10.0, 20.0])


def test_table_objective_rejects_out_of_range_indices():
    with pytest.raises(InvalidParameterError, match="indices"):
        table_objective([1.0, 2.0])(np.array([2]))


# ---- budget -------------------------------------------------------------------------------------------
def test_budget_counts_queries_and_seconds():
    b = Budget(max_queries=10, max_seconds=5.0)
    b.charge(queries=7, seconds=1.0)
    assert (b.remaining_queries, b.affordable(5), b.is_exhausted) == (3, 3, False)
    b.charge(seconds=4.0)
    assert b.is_exhausted and b.affordable(1) == 0


# ---- random search --------------------------------------------------------------------------------------
def test_random_search_same_seed_same_run_other_seed_other_draws(bench, valid12):
    a, b = (random_search(valid12, bench, n_samples=100, seed=3) for _ in range(2))
    c = random_search(valid12, bench, n_samples=100, seed=4)
    np.testing.assert_array_equal(a.trajectory.index, b.trajectory.index)
    assert (a.index, a.accuracy) == (b.index, b.accuracy)
    assert not np.array_equal(a.trajectory.index, c.trajectory.index)


def test_random_search_never_repeats_and_stays_within_budget(bench, valid12):
    budget = Budget(max_queries=137)
    r = random_search(valid12, bench, n_samples=1000, seed=0, budget=budget, batch_size=50)
    assert r.n_evaluations == 137 == budget.queries  # ground-truth lookups are not charged
    assert len(np.unique(r.trajectory.index)) == 137
    full = random_search(valid12, bench, n_samples=N_ARCHS, seed=1)
    assert sorted(full.trajectory.index) == list(range(N_ARCHS))


def test_random_search_stops_on_a_time_budget(bench):
    def slow(indices):
        time.sleep(0.002)
        return np.zeros(len(indices))

    budget = Budget(max_seconds=0.02)
    r = random_search(slow, bench, n_samples=1000, seed=0, budget=budget, batch_size=1)
    assert 1 <= r.n_evaluations <= 11 and budget.is_exhausted


def test_random_search_picks_the_best_by_objective_and_reports_its_truth(bench, valid12):
    r = random_search(valid12, bench, n_samples=1000, seed=5)
    t = r.trajectory
    assert r.index == t.index[np.argmax(t.score)] and r.score == t.score.max()
    assert r.accuracy == bench.query(r.index, "cifar10", "test_acc", 200)
    np.testing.assert_array_equal(t.report, bench.accuracies("cifar10", "test_acc", 200)[t.index])
    assert np.all(np.diff(t.best_score) >= 0) and t.incumbent_report[-1] == r.accuracy
    assert r.space_best == 94.373333 and r.wall_time > 0


def test_ties_go_to_the_earliest_draw_and_nan_is_the_worst(bench):
    r = random_search(table_objective(np.ones(N_ARCHS)), bench, n_samples=50, seed=0)
    assert r.index == r.trajectory.index[0]
    scores = np.full(N_ARCHS, np.nan)
    scores[::2] = -5.0
    r = random_search(table_objective(scores), bench, n_samples=50, seed=0)
    assert r.score == -5.0 and r.index % 2 == 0


def test_report_never_steers_the_search(bench, valid12):
    a = random_search(valid12, bench, n_samples=100, seed=2)
    b = random_search(valid12, bench, n_samples=100, seed=2, report=("cifar100", "test_acc", 200))
    assert a.index == b.index and b.accuracy == bench.query(a.index, "cifar100", "test_acc", 200)


def test_report_may_be_a_callable(bench, valid12):
    r = random_search(valid12, bench, n_samples=10, seed=0, report=lambda idx: idx.astype(float))
    assert r.accuracy == r.index and r.space_best == N_ARCHS - 1


# ---- regularized evolution -------------------------------------------------------------------------------
def test_rea_same_seed_same_run(bench, valid12):
    a, b = (regularized_evolution(valid12, bench, seed=7, n_evaluations=200) for _ in range(2))
    np.testing.assert_array_equal(a.trajectory.index, b.trajectory.index)
    np.testing.assert_array_equal(a.trajectory.parent, b.trajectory.parent)


def test_rea_beats_random_search_at_equal_evaluations(bench, valid12):
    rea = [regularized_evolution(valid12, bench, seed=s, n_evaluations=100, population_size=20, tournament_size=5)
           for s in range(10)]
    rs = [random_search(valid12, bench, n_samples=100, seed=s) for s in range(10)]
    assert all(r.n_evaluations == 100 for r in rea + rs)
    assert np.mean([r.score for r in rea]) > np.mean([r.score for r in rs]) + 0.3
    assert summarize(rea)["accuracy_mean"] > summarize(rs)["accuracy_mean"]


def test_rea_parents_come_from_the_last_p_evaluations(bench, valid12):
    # aging: at step t the population is exactly steps t-P .. t-1, so every parent lies there
    p = 16
    r = regularized_evolution(valid12, bench, seed=0, n_evaluations=400, population_size=p, tournament_size=8)
    parent, steps = r.trajectory.parent, np.arange(400)
    assert np.all(parent[:p] == -1)
    assert np.all((parent[p:] >= steps[p:] - p) & (parent[p:] < steps[p:]))


def test_rea_children_differ_from_their_parent_in_one_edge(bench, valid12):
    r = regularized_evolution(valid12, bench, seed=1, n_evaluations=120, population_size=20, tournament_size=5)
    t = r.trajectory
    for step in range(20, 120):
        a, b = bench.arch(int(t.index[step])).code, bench.arch(int(t.index[t.parent[step]])).code
        assert sum(x != y for x, y in zip(a, b)) == 1


def test_rea_stays_within_its_budget(bench, valid12):
    budget = Budget(max_queries=150)
    r = regularized_evolution(valid12, bench, seed=0, budget=budget)
    assert r.n_evaluations == 150 == budget.queries
    assert r.config == {"n_evaluations": 1000, "population_size": 64, "tournament_size": 20,
                        "report": ("cifar10", "test_acc", 200)}


def test_rea_defaults_find_the_objective_optimum(bench, valid12):
    r = regularized_evolution(valid12, bench, seed=0)
    assert r.n_evaluations == 1000 and r.score == 84.892  # max of cifar10-valid valid_acc@12


@given(st.lists(st.floats(allow_nan=True), min_size=1, max_size=40), st.integers(1, 8))
def test_aging_population_keeps_the_newest_capacity_members(scores, capacity):
    pop = AgingPopulation(capacity)
    for step, s in enumerate(scores):
        removed = pop.add(Member(step, step, s))
        assert len(pop) <= capacity
        assert (removed is None) == (step < capacity)
        if removed is not None:
            assert removed.step == step - capacity
    assert [m.step for m in pop] == list(range(max(0, len(scores) - capacity), len(scores)))


def test_tournament_prefers_the_best_then_the_oldest_and_nan_last():
    pop = AgingPopulation(4)
    for m in [Member(0, 10, math.nan), Member(1, 11, 2.0), Member(2, 12, 5.0), Member(3, 13, 5.0)]:
        pop.add(m)
    assert pop.tournament(np.random.default_rng(0), 4).step == 2
    only_nan = AgingPopulation(2)
    for m in [Member(0, 1, math.nan), Member(1, 2, math.nan)]:
        only_nan.add(m)
    assert only_nan.tournament(np.random.default_rng(0), 2).step == 0


@given(st.integers(0, N_ARCHS - 1), st.integers(0, 2**32 - 1))
def test_mutate_index_stays_in_the_space_and_changes_one_edge(bench, index, seed):
    child = mutate_index(bench, index, np.random.default_rng(seed))
    assert 0 <= child < N_ARCHS
    a, b = bench.arch(index).code, bench.arch(child).code
    assert sum(x != y for x, y in zip(a, b)) == 1


# ---- summaries: spec §10.3 worked examples -----------------------------------------------------------------
def test_e1_regret_of_index_9930_on_cifar10(bench):
    r = random_search(table_objective(one_hot(9930)), bench, n_samples=N_ARCHS, seed=0)
    assert r.index == 9930 and r.regret == pytest.approx(0.01, abs=1e-9)
    s = summarize([r], round_to=2)
    assert (s["regret_mean"], s["error_mean"], s["error_text"]) == (0.01, 5.64, "5.64 ± 0.00")
    assert summarize([r])["error_mean"] == pytest.approx(5.636667, abs=1e-9)


def test_e4_regret_of_the_all_skip_cell(bench):
    r = random_search(table_objective(one_hot(1835)), bench, n_samples=N_ARCHS, seed=0)
    assert r.arch == "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
    assert r.regret == pytest.approx(40.076666, abs=1e-9)
    assert summarize([r])["error_mean"] == pytest.approx(45.703333, abs=1e-9)


def test_e2_e3_mean_std_over_seeds_uses_ddof_0():
    assert summarize([fake_result(94.36)] * 3, round_to=2)["error_text"] == "5.64 ± 0.00"
    s = summarize([fake_result(a) for a in (94.0, 93.0, 90.5)])
    assert s["n_seeds"] == 3 and s["error_mean"] == pytest.approx(7.5)
    assert s["error_std"] == pytest.approx(1.4719601444) and s["error_text"] == "7.50 ± 1.47"
    assert s["regret_text"] == "7.50 ± 1.47" and s["accuracy_text"] == "92.50 ± 1.47"
    assert format_mean_std((7.5, 1.4719601444), decimals=3) == "7.500 ± 1.472"


# ---- registry ----------------------------------------------------------------------------------------------
def test_both_searchers_are_registered():
    assert {"random_search", "regularized_evolution"} <= set(list_searchers())
    assert SEARCHERS.get("random_search").fn is random_search
    assert SEARCHERS.get("regularized_evolution").fn is regularized_evolution


# ---- bad input ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_samples", [0, -1, N_ARCHS + 1, 2.5, True, "10"])
def test_random_search_rejects_bad_n_samples(bench, valid12, n_samples):
    with pytest.raises(InvalidParameterError, match=r"random_search\(\): n_samples="):
        random_search(valid12, bench, n_samples=n_samples, seed=0)


@pytest.mark.parametrize("searcher", [random_search, regularized_evolution])
@pytest.mark.parametrize("objective", [lambda idx: np.zeros(len(idx) + 1), lambda idx: np.zeros((len(idx), 2)),
                                       lambda idx: 1.0])
def test_wrong_objective_shape_is_rejected(bench, searcher, objective):
    kwargs = {"n_samples": 10} if searcher is random_search else {"n_evaluations": 10, "population_size": 5,
                                                                   "tournament_size": 2}
    with pytest.raises(InvalidParameterError, match="objective returned shape"):
        searcher(objective, bench, seed=0, **kwargs)


@pytest.mark.parametrize("kwargs, param", [
    ({"n_evaluations": 0}, "n_evaluations"),
    ({"population_size": 0}, "population_size"),
    ({"n_evaluations": 10, "population_size": 11}, "population_size"),
    ({"population_size": 5, "tournament_size": 6}, "tournament_size"),
    ({"seed": -1}, "seed"),
    ({"budget": Budget(max_queries=0)}, "budget"),
    ({"budget": 100}, "budget"),
    ({"report": "cifar10"}, "report"),
    ({"report": ("cifar10-valid", "test_acc", 200)}, "cifar10-valid"),
])
def test_rea_rejects_bad_settings(bench, valid12, kwargs, param):
    kwargs = {"seed": 0, **kwargs}
    with pytest.raises(InvalidParameterError, match=param):
        regularized_evolution(valid12, bench, **kwargs)


def test_other_bad_input_names_the_parameter(bench):
    with pytest.raises(InvalidParameterError, match="objective="):
        random_search("nwot", bench, n_samples=10, seed=0)
    with pytest.raises(InvalidParameterError, match="values_by_index"):
        table_objective(np.zeros((3, 2)))
    with pytest.raises(InvalidParameterError, match="higher_is_better"):
        table_objective([1.0], higher_is_better="no")
    with pytest.raises(InvalidParameterError, match="results"):
        summarize([])
    with pytest.raises(InvalidParameterError, match="max_queries"):
        Budget(max_queries=-1)
