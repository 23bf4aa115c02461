"""Stage-1 evaluation: supernet-predicted accuracy of architectures and its agreement with ground truth.

Prediction of one architecture ([LZ] App. B, SPOS): fix the path, run `bn_batches` forward passes
of training images in train mode without gradients (BatchNorm running statistics adapt with
momentum 0.1; they are *not* reset first, which [LZ] found better), then measure top-1 accuracy in
eval mode on a fixed subset of the valid half. The supernet's BatchNorm state is restored after
every architecture, so a prediction does not depend on which architectures were evaluated before.

By default many architectures share one forward pass (`nasbench_eval.train.batched_eval`: shared
weights, per-architecture BatchNorm statistics; on the CPU identical to one at a time), and
`evaluate_runs` keeps every prediction in ``RUN_DIR/predictions.sqlite``
(`nasbench_eval.train.prediction_store`), so a rerun with the same settings only computes what is
missing and an interrupted evaluation resumes.

Metrics per run (spec): Kendall tau-b / Spearman / Pearson (§2), improvement curve (§3),
top-architecture recall (§4), sampling-probability mass of the learned distribution over the whole
subspace (§5; RSPS/SPOS: uniform; ``rsps_biased``: the biased sampler of §6); across runs: mean ± std
and self-consistency (§9).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .._validation import check_int
from ..exceptions import InvalidParameterError
from ..metrics import (
    arch_probs, biased_sampler_probs, improvement_curve, kendall_tau, mass_curve, mean_std, pearson_r, self_consistency,
    spearman_rho, top_arch_recall_curve,
)
from ..nets.supernet import Supernet
from .batched_eval import iter_group_predictions
from .data import DeviceSplit, evaluation_batches, load_stage1_data
from .loop import space_ground_truth
from .prediction_store import STORE_NAME, PredictionStore, predict_cached
from .run import LoadedRun, load_run


def _bn_modules(net: torch.nn.Module) -> list[torch.nn.modules.batchnorm._BatchNorm]:
    return [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def recalibrate_bn(supernet: Supernet, arch, batches: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Adapt BatchNorm running statistics to one path: forward `batches` in train mode, no gradients.

    Only running means / variances / batch counts change; parameters and the module's
    train / eval mode are left as they were.
    """
    was_training = supernet.training
    supernet.train()
    try:
        with torch.no_grad():
            for x, _ in batches:
                supernet(x, arch)
    finally:
        supernet.train(was_training)


def predict_accuracies(supernet: Supernet, archs: Sequence, valid_batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
                       *, bn_batches: Sequence[tuple[torch.Tensor, torch.Tensor]] | None = None, batched: bool = True,
                       group_size: int | None = None) -> np.ndarray:
    """Supernet-predicted accuracy (percent) of each architecture.

    Parameters
    ----------
    supernet : Supernet
        Left unchanged (BatchNorm statistics are restored / never touched).
    archs : sequence of Arch, str or 6-tuples of OPS indices
    valid_batches : sequence of (x, y)
        Evaluation images, (b, 3, H, W) float and (b,) labels, on the supernet's device; used in
        channels_last memory format (what `DeviceSplit` gives; 2.3x faster than NCHW on the CPU).
    bn_batches : sequence of (x, y), optional
        Images for `recalibrate_bn` (the same ones for every arch); None skips recalibration.
    batched : bool, default=True
        Evaluate groups of architectures in one pass (`batched_eval.iter_group_predictions`); False
        runs the reference loop, one architecture and one `recalibrate_bn` at a time. On the CPU
        both give identical numbers.
    group_size : int, optional
        Architectures per pass when batched (default: `batched_eval.auto_group_size`).

    Returns
    -------
    acc : float64[len(archs)]
    """
    valid_batches, bn_batches = _channels_last(valid_batches), _channels_last(bn_batches or [])
    if batched:
        parts = [
            acc
            for _, acc in iter_group_predictions(
                supernet, archs, valid_batches, bn_batches=bn_batches, group_size=group_size
            )
        ]
        return np.concatenate(parts) if parts else np.empty(0)
    return _predict_one_at_a_time(supernet, archs, valid_batches, bn_batches)


def _channels_last(batches):
    return [(x.contiguous(memory_format=torch.channels_last), y) for x, y in batches]


def _predict_one_at_a_time(supernet: Supernet, archs: Sequence, valid_batches, bn_batches) -> np.ndarray:
    bns = _bn_modules(supernet)
    saved = [{k: v.clone() for k, v in m.state_dict().items()} for m in bns]
    n_total = sum(len(y) for _, y in valid_batches)
    out = np.empty(len(archs))
    was_training = supernet.training
    try:
        for i, arch in enumerate(archs):
            if bn_batches:
                recalibrate_bn(supernet, arch, bn_batches)
            supernet.eval()
            with torch.no_grad():
                correct = sum((supernet(x, arch).argmax(1) == y).sum() for x, y in valid_batches)
            out[i] = 100.0 * int(correct) / n_total
            for m, state in zip(bns, saved):
                m.load_state_dict(state)
    finally:
        supernet.train(was_training)
    return out


@dataclass
class Stage1Evaluation:
    """Stage-1 metrics of one or more runs on one architecture set.

    Attributes
    ----------
    indices : int64[n]
        Benchmark indices of the evaluated architectures.
    y_true : float64[n]
        Their 200-epoch test accuracy.
    predictions : float64[R, n]
        Supernet-predicted accuracy per run.
    runs : list of dict
        Per run: path, method, seed, kendall_tau, spearman_rho, pearson_r, improvement (curve arrays),
        recall (curve arrays, when n >= n_groups), mass (curve over the whole subspace),
        predictions_cached (how many predictions the run's store already held; None without cache).
    summary : dict
        Mean ± std over runs of the scalars, and self-consistency (R >= 2).
    curves : dict
        The ImprovementCurve / RecallCurve / MassCurve objects by run label, for plotting.
    """

    indices: np.ndarray
    y_true: np.ndarray
    predictions: np.ndarray
    runs: list
    summary: dict
    curves: dict


def _distribution_mass(run: LoadedRun, codes: np.ndarray, acc: np.ndarray, n_groups: int):
    if run.config.get("distribution_kind") == "biased":
        pi = biased_sampler_probs(acc)
    else:
        pi = arch_probs(run.edge_probs, codes)
    return mass_curve(acc, pi, n_groups=n_groups)


def _check_same(runs: list[LoadedRun], key: str) -> str:
    values = {r.config[key] for r in runs}
    if len(values) > 1:
        raise InvalidParameterError(
            f"evaluate_runs(): runs differ in {key} ({sorted(values)}); expected runs of one {key}."
        )
    return values.pop()


def evaluate_runs(
    run_dirs: Sequence[str | os.PathLike],
    *,
    sample: int | None = 1000,
    seed: int = 0,
    bn_batches: int = 20,
    batch_size: int = 256,
    n_eval: int = 5000,
    k_min: int = 10,
    n_groups: int = 25,
    device=None,
    data_dir=None,
    bench=None,
    data: tuple[DeviceSplit, DeviceSplit] | None = None,
    group_size: int | None = None,
    cache: bool = True,
    progress: bool = False,
) -> Stage1Evaluation:
    """Predict accuracies with every run's supernet and compare them with ground truth (module docstring).

    Parameters
    ----------
    run_dirs : sequence of path-like
        Run directories of one subspace and dataset (e.g. the same method over seeds).
    sample : int or None, default=1000
        Evaluate a seeded random sample of this many architectures of the subspace ([LZ]: 1,000);
        None evaluates all; more than the subspace holds is an error.
    seed : int, default=0
        Picks the sample, the BN batches and the evaluation subset.
    bn_batches : int, default=20
        Recalibration passes per architecture ([LZ]: 20); 0 disables.
    batch_size : int, default=256
    n_eval : int, default=5000
        Valid-half images used for the prediction (fixed subset, the same for every arch).
    k_min, n_groups : int
        Improvement-curve end point (spec §3) and threshold levels (spec §4, §5).
    device, data_dir, bench, data
        Device; data folder; a preloaded benchmark; preloaded (train, valid) halves.
    group_size : int, optional
        Architectures per forward pass (default: `batched_eval.auto_group_size`).
    cache : bool, default=True
        Read and write ``RUN_DIR/predictions.sqlite`` (`prediction_store`); each run's entry in
        ``runs`` then says how many predictions came from it (``predictions_cached``).
    progress : bool, default=False
        A progress bar per run on stderr.

    Returns
    -------
    Stage1Evaluation
    """
    caller = "evaluate_runs"
    if not run_dirs:
        raise InvalidParameterError(f"{caller}(): run_dirs is empty; expected at least one run directory.")
    rng = np.random.default_rng(check_int("seed", seed, caller=caller, minimum=0))
    sample = None if sample is None else check_int("sample", sample, caller=caller, minimum=2)
    bn_batches = check_int("bn_batches", bn_batches, caller=caller, minimum=0)
    batch_size = check_int("batch_size", batch_size, caller=caller, minimum=1)
    n_eval = check_int("n_eval", n_eval, caller=caller, minimum=1)
    group_size = None if group_size is None else check_int("group_size", group_size, caller=caller, minimum=1)
    runs = [load_run(d, device=device) for d in run_dirs]
    space, dataset = _check_same(runs, "space"), _check_same(runs, "dataset")
    if cache:  # a damaged or read-only store fails now, before the images are loaded
        for r in runs:
            PredictionStore(r.path / STORE_NAME).close()
    index, codes, acc = space_ground_truth(space, dataset, bench=bench, data_dir=data_dir)
    if sample is not None and sample > len(index):
        raise InvalidParameterError(f"{caller}(): sample={sample} exceeds the {len(index)} architectures of the runs' "
                                    f"subspace {space!r}; expected 2..{len(index)}, or None (0 on the CLI) for all.")
    pick = (
        np.arange(len(index))
        if sample is None or sample >= len(index)
        else np.sort(rng.choice(len(index), sample, replace=False))
    )
    dev = next(runs[0].supernet.parameters()).device
    train, valid = data if data is not None else load_stage1_data(dataset, device=dev, data_dir=data_dir)
    batches = evaluation_batches(train, valid, seed=seed, batch_size=batch_size, n_eval=n_eval, bn_batches=bn_batches)
    n_eval, valid_batches = batches.n_eval, _channels_last(batches.valid)
    bn = _channels_last(batches.bn) if batches.bn else None
    archs = [tuple(int(c) for c in row) for row in codes[pick]]
    settings = {
        "dataset": dataset,
        "space": space,
        "bn_batches": bn_batches,
        "batch_size": batch_size,
        "n_eval": n_eval,
        "seed": seed,
    }
    preds, cached = [], []
    for r in runs:
        with PredictionStore(r.path / STORE_NAME) if cache else contextlib.nullcontext() as store:
            p = predict_cached(r.supernet, archs, valid_batches, bn_batches=bn, store=store, settings=settings,
                               group_size=group_size, progress=progress, desc=r.path.name)
        preds.append(p.acc)
        cached.append(p.n_cached if cache else None)
    ev = _metrics(runs, index[pick], acc[pick], np.stack(preds), codes, acc, k_min=k_min, n_groups=n_groups)
    for run, n in zip(ev.runs, cached):
        run["predictions_cached"] = n
    return ev


def _metrics(runs, indices, y_true, preds, codes, acc_space, *, k_min: int, n_groups: int) -> Stage1Evaluation:
    n = len(y_true)
    groups = min(n_groups, n)
    per_run, curves = [], {"improvement": {}, "recall": {}, "mass": {}}
    for r, p in zip(runs, preds):
        label = f"{r.config['method']} s{r.config['seed']} ({r.path.name})"
        imp = improvement_curve(y_true, p, k_min=min(k_min, n))
        rec = top_arch_recall_curve(y_true, p, n_groups=groups) if groups >= 2 else None
        mass = _distribution_mass(r, codes, acc_space, n_groups)
        curves["improvement"][label], curves["mass"][label] = imp, mass
        if rec is not None:
            curves["recall"][label] = rec
        per_run.append(
            {
                "path": str(r.path),
                "method": r.config["method"],
                "seed": r.config["seed"],
                "kendall_tau": kendall_tau(y_true, p),
                "spearman_rho": spearman_rho(y_true, p),
                "pearson_r": pearson_r(y_true, p),
                "mean_acc_at_k_min": float(imp.mean_acc[-1]),
                "improvement_at_k_min": float(imp.improvement[-1]),
                "improvement": {"k": imp.k, "mean_acc": imp.mean_acc, "improvement": imp.improvement},
                "recall": None
                if rec is None
                else {"threshold": rec.threshold, "recall": rec.recall, "baseline": rec.baseline},
                "mass": {"threshold": mass.threshold, "mass": mass.mass, "baseline": mass.baseline},
                "mean_mass": float(mass.mass.mean()),
                "mean_mass_baseline": float(mass.baseline.mean()),
            }
        )
    summary = {key: tuple(mean_std([run[key] for run in per_run])) for key in
               ("kendall_tau", "spearman_rho", "pearson_r", "improvement_at_k_min", "mean_mass")}
    if len(runs) >= 2:
        sc = self_consistency(list(preds))
        summary["self_consistency"] = {
            "kendall_tau": sc.kendall_tau,
            "spearman_rho": sc.spearman_rho,
            "pearson_r": sc.pearson_r,
        }
    return Stage1Evaluation(np.asarray(indices), np.asarray(y_true), preds, per_run, summary, curves)


def write_evaluation(ev: Stage1Evaluation, out_dir: str | os.PathLike, *, title: str | None = None) -> dict[str, Path]:
    """Write ``predictions.csv`` (index, y_true, one column per run) and the improvement / recall / mass plots."""
    from ..metrics.plots import plot_improvement, plot_mass, plot_recall
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cols = ["index", "y_true"] + [f"pred_{i}" for i in range(len(ev.runs))]
    table = np.column_stack([ev.indices, ev.y_true, ev.predictions.T])
    np.savetxt(out / "predictions.csv", table, delimiter=",", header=",".join(cols), comments="", fmt="%.6g")
    paths = {"predictions": out / "predictions.csv",
             "improvement": plot_improvement(ev.curves["improvement"], out / "improvement.png", title=title),
             "mass": plot_mass(ev.curves["mass"], out / "mass.png", title=title)}
    if ev.curves["recall"]:
        paths["recall"] = plot_recall(ev.curves["recall"], out / "recall.png", title=title)
    return paths
