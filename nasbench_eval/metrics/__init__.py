"""Evaluation metrics: compare a supernet, a proxy or a selector with the benchmark's ground truth.

Every definition follows ``spec/metrics.md``. Data come first and positional (``y_true`` =
ground-truth accuracy in percent, ``y_score`` = prediction, higher is better), options are
keyword-only. Importing this package registers the scalar metrics in
``nasbench_eval.registry.METRICS``; their tags state the properties the common tests check:

* ``"symmetric"`` -- ``f(a, b) == f(b, a)``;
* ``"rank-invariant"`` -- unchanged by a strictly increasing transform of ``y_score`` (and, when
  also symmetric, of ``y_true``);
* ``"permutation-invariant"`` -- unchanged by a joint permutation of the inputs (distinct values).
"""
from __future__ import annotations

from .aggregate import MeanStd, format_mean_std, mean_std
from .combination import CombinationScores, combination_scores, competition_rank
from .consistency import SelfConsistency, self_consistency
from .correlation import BootstrapCI, bootstrap_ci, correlation, kendall_tau, pearson_r, spearman_rho
from .improvement import (
    AggregateImprovement,
    ImprovementCurve,
    TopKCorrelation,
    aggregate_improvement,
    improvement_curve,
    normalized_improvement,
    top_k_correlation_curve,
    top_k_mean_acc,
)
from .levels import Levels, level_positions, threshold_levels
from .recall import RecallCurve, mean_recall, top_arch_recall_curve
from .sampling import (
    MassCurve,
    arch_probs,
    benchmark_codes,
    biased_sampler_probs,
    edge_probs,
    log_arch_probs,
    mass_curve,
    sample_biased,
    sampling_mass_curve,
)
from .selection import has_selection, regret, select_argmax, selected_accuracy, selection_regret
from .stage2 import paired_difference, reliance_stats

__all__ = [
    "AggregateImprovement", "BootstrapCI", "CombinationScores", "ImprovementCurve", "Levels", "MassCurve", "MeanStd",
    "RecallCurve", "SelfConsistency", "TopKCorrelation", "aggregate_improvement", "arch_probs", "benchmark_codes",
    "biased_sampler_probs", "bootstrap_ci", "combination_scores", "competition_rank", "correlation", "edge_probs",
    "format_mean_std", "has_selection", "improvement_curve", "kendall_tau", "level_positions", "log_arch_probs",
    "mass_curve", "mean_recall", "mean_std", "normalized_improvement", "paired_difference", "pearson_r", "regret",
    "reliance_stats", "sample_biased", "sampling_mass_curve", "select_argmax", "selected_accuracy",
    "selection_regret", "self_consistency", "spearman_rho", "threshold_levels", "top_arch_recall_curve",
    "top_k_correlation_curve", "top_k_mean_acc",
]
