"""Sampling mass (spec §5) and the biased sampler (spec §6): worked examples S1-S3, B1-B4, golden §11.3."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.metrics import (
    arch_probs,
    benchmark_codes,
    biased_sampler_probs,
    edge_probs,
    mass_curve,
    sample_biased,
    sampling_mass_curve,
)
from nasbench_eval.space import Arch
from nasbench_eval.space.nb201 import codes_array

S1_P = [[0.75, 0.25], [0.5, 0.5]]
S1_CODES = np.array([(0, 0), (0, 1), (1, 0), (1, 1)])


def test_s1_toy_space():
    np.testing.assert_allclose(arch_probs(S1_P, S1_CODES), [0.375, 0.375, 0.125, 0.125], atol=1e-12)
    c = sampling_mass_curve([95, 90, 98, 80], S1_P, S1_CODES, n_groups=4)
    np.testing.assert_allclose(c.threshold, [5, 10, 20], atol=1e-12)
    np.testing.assert_allclose(c.mass, [0.125, 0.5, 0.875], atol=1e-12)
    np.testing.assert_allclose(c.baseline, [0.25, 0.5, 0.75], atol=1e-12)


def test_s2_uniform_logits_give_the_baseline(gt_bench, c10):
    codes = benchmark_codes(gt_bench)
    pi = arch_probs(edge_probs(np.zeros((6, 5))), codes)
    np.testing.assert_allclose(pi, 5.0 ** -6, rtol=1e-12)
    c = mass_curve(c10, pi)
    np.testing.assert_allclose(c.mass, c.baseline, atol=1e-12)


def test_s3_peaked_rows(gt_bench):
    codes = benchmark_codes(gt_bench)
    logits = np.zeros((6, 5))
    logits[:, 3] = math.log(4)
    p = edge_probs(logits)
    np.testing.assert_allclose(p[0], [1 / 8, 1 / 8, 1 / 8, 1 / 2, 1 / 8], atol=1e-12)
    pi = arch_probs(p, codes)
    assert tuple(codes[0]) == (4, 2, 1, 2, 1, 1)
    assert pi[1462] == pytest.approx(0.015625, abs=1e-12)
    assert pi[0] == pytest.approx(3.814697265625e-06, abs=1e-15)
    assert abs(pi.sum() - 1) < 1e-9


def test_benchmark_codes_match_the_strings(gt_bench):
    codes = benchmark_codes(gt_bench)
    assert codes.shape == (15625, 6) and codes.dtype == np.int8
    assert tuple(codes[1]) == (3, 3, 4, 1, 3, 1) and tuple(codes[1651]) == (0,) * 6
    assert str(Arch.from_code(codes[6111])) == gt_bench.arch_str(6111)
    assert len({c.tobytes() for c in codes}) == 15625


@given(arrays(np.float64, (6, 5), elements=st.floats(-30, 30)))
def test_arch_probs_sum_to_one_over_all_archs(logits):
    pi = arch_probs(edge_probs(logits), codes_array())
    assert abs(pi.sum() - 1) < 1e-9 and np.all(pi >= 0)


@given(arrays(np.float64, (6, 5), elements=st.floats(0.01, 50)))
def test_dirichlet_mean_rows_and_sum(beta):
    p = edge_probs(beta, kind="dirichlet")
    np.testing.assert_allclose(p, beta / beta.sum(axis=1, keepdims=True))
    assert abs(arch_probs(p, codes_array()).sum() - 1) < 1e-9


def test_peaked_distribution_underflows_harmlessly():
    logits = np.full((6, 5), -1000.0)
    logits[:, 2] = 0.0
    pi = arch_probs(edge_probs(logits), codes_array())
    assert pi.max() == pytest.approx(1.0) and abs(pi.sum() - 1) < 1e-9


def test_zero_probabilities_allowed():
    p = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(arch_probs(p, S1_CODES), [0, 1, 0, 0])


@pytest.mark.parametrize("bad, kind, match", [
    ([[0.5, 0.6], [0.5, 0.5]], "probs", "sum to"),
    ([[-0.5, 1.5], [0.5, 0.5]], "probs", "negative"),
    ([[math.nan, 0.0], [0.0, 0.0]], "softmax", "NaN"),
    ([1.0, 2.0], "softmax", "shape"),
    ([[1.0, 0.0], [1.0, 1.0]], "dirichlet", "concentrations"),
    ([[1.0, 0.0]], "beta", "kind"),
])
def test_edge_probs_rejects_bad_matrices(bad, kind, match):
    with pytest.raises(InvalidParameterError, match=match):
        edge_probs(bad, kind=kind)


def test_bad_codes_and_probabilities():
    with pytest.raises(InvalidParameterError, match="codes"):
        arch_probs(S1_P, np.array([[0, 2]]))
    with pytest.raises(InvalidParameterError, match="codes"):
        arch_probs(S1_P, np.array([[0, 1, 0]]))
    with pytest.raises(InvalidParameterError, match="sum to"):
        arch_probs([[0.7, 0.7], [0.5, 0.5]], S1_CODES)
    with pytest.raises(InvalidParameterError, match="arch_prob"):
        mass_curve([1, 2, 3, 4], [0.5, -0.1, 0.3, 0.3], n_groups=2)


# ---- §6 biased sampler -------------------------------------------------------------------------------
@pytest.mark.parametrize("ties", ["average", "stable"])
def test_b1_no_ties(ties):
    np.testing.assert_allclose(biased_sampler_probs([90, 70, 80, 60], ties=ties), [1 / 2, 1 / 6, 1 / 3, 0], atol=1e-12)


def test_b2_ties():
    np.testing.assert_allclose(biased_sampler_probs([90, 80, 80, 60]), [0.5, 0.25, 0.25, 0], atol=1e-12)
    np.testing.assert_allclose(
        biased_sampler_probs([90, 80, 80, 60], ties="stable"), [1 / 2, 1 / 6, 1 / 3, 0], atol=1e-12
    )


def test_b4_needs_two_architectures():
    with pytest.raises(InvalidParameterError, match="N >= 2"):
        biased_sampler_probs([90.0])


@given(st.integers(2, 3000))
def test_top_k_mass_formula_without_ties(n):
    p = biased_sampler_probs(np.arange(n, dtype=float))
    k = max(1, n // 4)
    assert p[-k:].sum() == pytest.approx(k * (2 * n - k - 1) / (n * (n - 1)), abs=1e-12)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


BIASED_C10 = [0.078157, 0.152662, 0.225269, 0.294086, 0.359703, 0.420952, 0.480875, 0.536133, 0.589759, 0.639785,
              0.685627, 0.729416, 0.769555, 0.806078, 0.840015, 0.870230, 0.897532, 0.921577, 0.942381, 0.959959,
              0.974409, 0.985607, 0.993594, 0.998402]


@pytest.mark.parametrize("ties", ["average", "stable"])
def test_b3_biased_mass_curve_golden(c10, ties):
    p = biased_sampler_probs(c10, ties=ties)
    assert p.max() == pytest.approx(2 / 15625, abs=1e-12) if ties == "stable" else p.max() <= 2 / 15625
    np.testing.assert_allclose(mass_curve(c10, p).mass, BIASED_C10, atol=1e-6)


def test_sample_biased_is_seeded_and_prefers_good_archs(c10):
    a = sample_biased(c10, 100, seed=10)
    assert np.array_equal(a, sample_biased(c10, 100, seed=10)) and not np.array_equal(
        a, sample_biased(c10, 100, seed=11)
    )
    assert a.shape == (100,)
    w = np.empty(c10.size)
    w[np.argsort(c10, kind="stable")] = np.arange(c10.size)        # linear in rank, worst weight 0
    expected = float(w @ c10 / w.sum())                              # 91.257; the uniform mean is 87.06
    draws = c10[sample_biased(c10, 4000, seed=0)]
    assert abs(draws.mean() - expected) < 4 * draws.std() / math.sqrt(draws.size)
