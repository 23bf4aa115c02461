"""One contract test per registered scalar metric, driven by its tags (style §7, sklearn's test_common).

* every metric: invariant to a joint permutation of (y_true, y_score) on distinct values;
* "symmetric": f(a, b) == f(b, a);
* "rank-invariant": unchanged by a strictly increasing transform of y_score (and of y_true when also symmetric);
* higher_is_better: a perfect predictor scores at least as well as a reversed one, strictly on distinct values.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nasbench_eval.metrics  # noqa: F401  (registration)
from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.registry import METRICS

NAMES = [n for n in METRICS.names() if METRICS.get(n).fn.__module__.startswith("nasbench_eval.metrics")]
DISTINCT = st.lists(st.integers(-10**6, 10**6), min_size=30, max_size=60, unique=True)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-9)


def _pair(values, seed):
    rng = np.random.default_rng(seed)
    y_true = np.array(values, dtype=float) / 1000
    y_score = rng.permutation(y_true) + rng.normal(0, 1e-3, y_true.size)    # distinct, partly informative
    return y_true, y_score


def test_every_expected_metric_is_registered():
    assert {"kendall_tau", "spearman_rho", "pearson_r", "normalized_improvement", "top_k_mean_acc",
            "mean_recall", "selection_regret"} <= set(NAMES)
    assert METRICS.resolve("kt") == "kendall_tau" and METRICS.resolve("regret") == "selection_regret"
    assert not METRICS.get("selection_regret").higher_is_better


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15)
@given(values=DISTINCT, seed=st.integers(0, 1000))
def test_joint_permutation_invariance(name, values, seed):
    fn = METRICS.get(name).fn
    y_true, y_score = _pair(values, seed)
    perm = np.random.default_rng(seed + 1).permutation(y_true.size)
    assert _same(fn(y_true[perm], y_score[perm]), fn(y_true, y_score))


@pytest.mark.parametrize("name", METRICS.names(tags={"symmetric"}))
@settings(max_examples=15)
@given(values=DISTINCT, seed=st.integers(0, 1000))
def test_symmetric(name, values, seed):
    fn = METRICS.get(name).fn
    y_true, y_score = _pair(values, seed)
    assert _same(fn(y_true, y_score), fn(y_score, y_true))


@pytest.mark.parametrize("name", METRICS.names(tags={"rank-invariant"}))
@settings(max_examples=15)
@given(values=DISTINCT, seed=st.integers(0, 1000))
def test_rank_invariant(name, values, seed):
    entry = METRICS.get(name)
    y_true, y_score = _pair(values, seed)
    base = entry.fn(y_true, y_score)
    assert _same(entry.fn(y_true, y_score ** 3 + 5), base)
    assert _same(entry.fn(y_true, np.exp(y_score / 1000)), base)
    if "symmetric" in entry.tags:
        assert _same(entry.fn(y_true ** 3, y_score), base)


def test_pearson_is_not_rank_invariant_which_is_why_it_lacks_the_tag():
    x = np.arange(1.0, 11.0)
    fn = METRICS.get("pearson_r").fn
    assert abs(fn(x, x ** 3) - fn(x, x)) > 1e-3
    assert "rank-invariant" not in METRICS.get("pearson_r").tags


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10)
@given(values=DISTINCT)
def test_orientation_perfect_beats_reversed(name, values):
    entry = METRICS.get(name)
    y = np.array(values, dtype=float)
    good, bad = entry.orient(entry.fn(y, y)), entry.orient(entry.fn(y, -y))
    assert good > bad


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_lengths(name):
    with pytest.raises(InvalidParameterError, match="length"):
        METRICS.get(name).fn(np.arange(40.0), np.arange(39.0))
