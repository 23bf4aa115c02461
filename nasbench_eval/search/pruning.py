"""TE-NAS pruning-by-importance search (Chen et al., ICLR'21, Algorithm 1; spec/proxies.md §1.5, §3.6, §7).

Start from the supernet that holds every candidate op on every edge (a mixed edge outputs the mean
of its ops). Each round, for every op o still on an edge with more than one op, measure how the NTK
condition number κ and the linear-region count R change when o alone is removed::

    Δκ_o = (κ(N) − κ(N∖o)) / κ(N)        higher: removing o helps trainability -> prune first
    ΔR_o = (R(N) − R(N∖o)) / R(N)        lower: removing o costs few regions   -> prune first

Rank all candidates of the round: s_κ = position when sorted by Δκ descending, s_R = position when
sorted by ΔR ascending, importance s = s_κ + s_R; on every edge remove the op with the smallest s.
Repeat until one op per edge is left (NB201: 4 rounds from 5 ops, 3 rounds from TE-NAS code's 4).

Networks (spec §1.5): κ on the narrow supernet (C=3, N=1) fed a batch of augmented training images,
R on the thin supernet (one cell of width 1, no stem) fed 1×3×3 single-channel patches. Within a
repeat, N and every N∖o share one set of weights (the sub-supernet loads the supernet's weights);
weights are drawn per (round, repeat) (``repeat_init="new"``, the paper's "re-drawn each repeat") or
once per round (``"same"``, what the released TE-NAS code effectively did, spec §7.1). The images and
patches of a repeat are the same in every round (common random numbers).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._validation import check_int, check_option
from ..exceptions import InvalidParameterError
from ..nets.cell import CellSpec
from ..data.specs import DATASET_SPECS
from ..nets.network import build_network, build_thin_network
from ..device import resolve_device
from ..proxies.base import evaluate, fn_options, get_proxy
from ..proxies.rank_combination import TIES, ranks
from ..proxies.scoring import NETWORKS, RepeatPlan, resolve_settings
from ..registry import SEARCHERS
from ..space import EDGES, OPS, Arch
from .base import DEFAULT_REPORT, SearchResult, check_report, describe_report, finish

TENAS_DECIMALS = 3
"""TE-NAS code rounds each per-repeat relative delta to 3 decimals (``--precision 3``) before ranking."""

START_OPS = {"tenas_code": tuple(op for op in OPS if op != "none")}
"""Ops on every edge at the start, per profile; other profiles start from all of OPS (the paper's N_0).
The released TE-NAS code masks ``none`` before the first round (spec §3.6)."""


# ---- results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """One op considered for removal in one round.

    Attributes
    ----------
    edge : int
        Edge index 0..5 (EDGES order).
    op : str
    kappa, regions : tuple of float
        κ(N∖o) per NTK repeat (dimensionless, ≥ 1) and R(N∖o) per LR repeat (regions).
    delta_kappa, delta_regions : float
        Mean over repeats of the relative changes (κ(N) − κ(N∖o))/κ(N) and (R(N) − R(N∖o))/R(N).
    rank_kappa, rank_regions : float
        0-based position by Δκ descending and by ΔR ascending, among all candidates of the round.
    importance : float
        ``rank_kappa + rank_regions``; the smallest on an edge is pruned.
    is_pruned : bool
    """

    edge: int
    op: str
    kappa: tuple[float, ...]
    regions: tuple[float, ...]
    delta_kappa: float
    delta_regions: float
    rank_kappa: float
    rank_regions: float
    importance: float
    is_pruned: bool


@dataclass(frozen=True)
class PruneRound:
    """One round of pruning; the last round of a result holds the final single-path network.

    Attributes
    ----------
    round : int
        0-based.
    ops : tuple of 6 tuples of str
        The ops on each edge before this round's pruning.
    kappa, regions : tuple of float
        κ and R of that supernet, per repeat (Fig. 5 of the paper plots their trajectory).
    candidates : tuple of Candidate
        Empty for the final network.
    pruned : tuple of 6 (str or None)
        The op removed from each edge (None where the edge already had one op).
    seconds : float
        Wall time of the round.
    """

    round: int
    ops: CellSpec
    kappa: tuple[float, ...]
    regions: tuple[float, ...]
    candidates: tuple[Candidate, ...]
    pruned: tuple[str | None, ...]
    seconds: float


@dataclass(frozen=True)
class PruningResult(SearchResult):
    """A `SearchResult` with the per-round log of a pruning search.

    The trajectory has one step, the final architecture; its ``score`` is NaN (pruning optimises
    no scalar objective). `rounds` has one entry per pruning round plus one for the final network.
    """

    rounds: tuple[PruneRound, ...] = ()

    def rounds_frame(self) -> pd.DataFrame:
        """One row per (round, candidate): round, edge, op, mean κ/R of N∖o, deltas, ranks, is_pruned."""
        rows = [
            {"round": r.round, "edge": c.edge, "op": c.op, "kappa": float(np.mean(c.kappa)),
             "regions": float(np.mean(c.regions)), "delta_kappa": c.delta_kappa, "delta_regions": c.delta_regions,
             "rank_kappa": c.rank_kappa, "rank_regions": c.rank_regions, "importance": c.importance,
             "is_pruned": c.is_pruned}
            for r in self.rounds for c in r.candidates
        ]
        return pd.DataFrame(rows)


# ---- supernets with shared weights -----------------------------------------------------------------
def remove_op(spec: CellSpec, edge: int, op: str) -> CellSpec:
    """`spec` with `op` taken off `edge` (the edge must keep at least one op).

    >>> remove_op((("none", "skip_connect"),) * 6, 0, "none")[:2]
    (('skip_connect',), ('none', 'skip_connect'))
    """
    return tuple(tuple(o for o in ops if o != op) if e == edge else ops for e, ops in enumerate(spec))


def subnet_with_weights(big: nn.Module, build: Callable[[CellSpec], nn.Module], spec: CellSpec) -> nn.Module:
    """``build(spec)`` carrying `big`'s weights: the sub-supernet N∖o that shares N's parameters.

    Parameter and buffer names depend only on (edge, op), so every tensor of a sub-supernet exists
    in the supernet and is copied from it; mixed edges of the result average their remaining ops.

    Parameters
    ----------
    big : nn.Module
        The supernet (any weights).
    build : callable
        ``build(spec) -> nn.Module`` with the same macro structure as `big` (C, N, K, thin or not).
    spec : CellSpec
        Op sets per edge, each a subset of `big`'s.

    Returns
    -------
    net : nn.Module

    Raises
    ------
    InvalidParameterError
        If `spec` has an op that `big` lacks (a tensor of the sub-supernet has no source).
    """
    net = build(spec)
    missing = net.load_state_dict(big.state_dict(), strict=False).missing_keys
    if missing:
        raise InvalidParameterError(
            f"subnet_with_weights(): spec holds {len(missing)} tensors the supernet lacks (first {missing[0]!r}); "
            "expected op sets that are subsets of the supernet's."
        )
    return net


@dataclass
class _Shared:
    """The supernet of one repeat, how to build its sub-supernets, and the inputs they are scored on."""

    big: nn.Module
    build: Callable[[CellSpec], nn.Module]
    x: torch.Tensor
    name: str                       # "ntk_cond" (κ) or "lr_count" (R)
    options: dict
    device: torch.device
    spec: CellSpec                  # the supernet's own op sets


def score_supernet(shared: _Shared, spec: CellSpec) -> float:
    """The proxy value (κ, +inf when degenerate; or R) of supernet `spec` under the repeat's weights and inputs.

    The supernet itself is scored on a copy (it stays shared); a sub-supernet N∖o is a throwaway
    network carrying its weights, scored in place.
    """
    own = spec == shared.spec
    net = shared.big if own else subnet_with_weights(shared.big, shared.build, spec)
    return evaluate(shared.name, net, (shared.x, None), device=shared.device, caller="tenas_prune", inplace=not own,
                    **shared.options).value


# ---- the measures of one round ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Measure:
    """Everything needed to score supernets with one measure (κ or R) under one protocol."""

    plan: RepeatPlan                # the proxy's settings, weight seeds (keyed per round) and inputs
    builder: Callable               # builder(spec, seed) -> nn.Module with weights from `seed`
    x: torch.Tensor                 # the images the plan takes each repeat's rows or patches from
    stream: int                     # seed stream of the weights

    def per_repeat(self, spec: CellSpec, specs: Sequence[CellSpec], *, round_: int,
                   device) -> tuple[np.ndarray, np.ndarray]:
        """Values of `spec` [R] and of each of `specs` [n, R] over the repeats, weights shared per repeat."""
        s, entry = self.plan.settings, self.plan.entry
        plan = replace(self.plan, weight_key=lambda wr: (self.stream, round_, wr))
        fn_opts = {k: s[k] for k in fn_options(entry) if k in s}
        base, cands = [], []
        for r in range(s["repeats"]):
            big = self.builder(spec, plan.weight_seed(r))
            x, _ = plan.inputs(self.x, None, r)
            shared = _Shared(big, lambda sp: self.builder(sp, 0), x, entry.name, fn_opts, device, spec)
            base.append(score_supernet(shared, spec))
            cands.append([score_supernet(shared, sp) for sp in specs])
        return np.array(base), np.array(cands, dtype=np.float64).reshape(s["repeats"], len(specs)).T


def relative_delta(base: np.ndarray, pruned: np.ndarray) -> np.ndarray:
    """(base − pruned) / base elementwise, with the limits for infinite κ.

    A finite base with an infinite pruned value gives −inf (removing the op made the NTK singular:
    never prune it first); an infinite base with a finite pruned value gives +inf; both infinite
    give 0 (no observable change).

    >>> relative_delta(np.array([2.0, 2.0, np.inf, np.inf]), np.array([1.0, np.inf, 3.0, np.inf])).tolist()
    [0.5, -inf, inf, 0.0]
    """
    base, pruned = np.broadcast_arrays(np.asarray(base, np.float64), np.asarray(pruned, np.float64))
    out = np.zeros(base.shape)
    fb, fp = np.isfinite(base), np.isfinite(pruned)
    both = fb & fp
    with np.errstate(divide="ignore", invalid="ignore"):
        out[both] = (base[both] - pruned[both]) / base[both]
    out[fb & ~fp] = -np.inf
    out[~fb & fp] = np.inf
    return out


def _mean_delta(base: np.ndarray, cand: np.ndarray, ties: str) -> np.ndarray:
    """Mean over repeats of the per-repeat relative deltas [n]; TE-NAS ties round each to 3 decimals."""
    d = relative_delta(base[None, :], cand)
    if ties == "tenas_ties":
        d = np.where(np.isfinite(d), np.round(d, TENAS_DECIMALS), d)
    with np.errstate(invalid="ignore"):
        mean = d.mean(axis=1)
    return np.where(np.isnan(mean), 0.0, mean)  # +inf and -inf across repeats cancel out


def importance(delta_kappa, delta_regions, *, ties: str = "tenas_ties") -> tuple[np.ndarray, np.ndarray]:
    """TE-NAS ranks of a round's candidates (Algorithm 1, lines 6-7).

    Parameters
    ----------
    delta_kappa, delta_regions : array-like of shape (n,)
        Relative changes Δκ and ΔR of the n candidates of a round.
    ties : {"average", "tenas_ties"}, default="tenas_ties"
        "average": equal values share the mean position; "tenas_ties": values equal at 3 significant
        figures share a dense rank (TE-NAS code, as in `tenas_rank`).

    Returns
    -------
    rank_kappa, rank_regions : ndarray of shape (n,), float64
        0-based positions by Δκ descending and ΔR ascending; their sum is the importance
        (the smallest on an edge is pruned).

    Examples
    --------
    >>> rk, rr = importance([0.5, -0.1, 0.2], [0.3, 0.0, 0.1], ties="average")
    >>> rk.tolist(), rr.tolist()
    ([0.0, 2.0, 1.0], [2.0, 0.0, 1.0])
    """
    check_option("ties", ties, TIES, caller="importance")
    dk = np.asarray(delta_kappa, np.float64)
    dr = np.asarray(delta_regions, np.float64)
    return ranks(-dk, ties), ranks(dr, ties)


def _choose(cands: Sequence[tuple[int, str]], rank_kappa: np.ndarray, rank_regions: np.ndarray) -> dict[int, int]:
    """Edge -> position in `cands` of the op to prune: smallest importance, then smallest s_κ, then OPS order."""
    best: dict[int, int] = {}
    for i, (edge, op) in enumerate(cands):
        key = (rank_kappa[i] + rank_regions[i], rank_kappa[i], OPS.index(op))
        j = best.get(edge)
        if j is None or key < (rank_kappa[j] + rank_regions[j], rank_kappa[j], OPS.index(cands[j][1])):
            best[edge] = i
    return best


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _prune_round(t: int, ops: CellSpec, measures: tuple[_Measure, _Measure], *, seed: int, device,
                 ties: str) -> PruneRound:
    start = time.perf_counter()
    cands = [(e, op) for e, edge_ops in enumerate(ops) if len(edge_ops) > 1 for op in edge_ops]
    specs = [remove_op(ops, e, op) for e, op in cands]
    (kb, kc), (rb, rc) = (m.per_repeat(ops, specs, round_=t, device=device) for m in measures)
    if not cands:
        return PruneRound(t, ops, _floats(kb), _floats(rb), (), (None,) * len(ops), time.perf_counter() - start)
    dk, dr = _mean_delta(kb, kc, ties), _mean_delta(rb, rc, ties)
    rk, rr = importance(dk, dr, ties=ties)
    chosen = _choose(cands, rk, rr)
    pruned_at = set(chosen.values())
    records = tuple(
        Candidate(e, op, _floats(kc[i]), _floats(rc[i]), float(dk[i]), float(dr[i]), float(rk[i]), float(rr[i]),
                  float(rk[i] + rr[i]), i in pruned_at)
        for i, (e, op) in enumerate(cands)
    )
    pruned = tuple(cands[chosen[e]][1] if e in chosen else None for e in range(len(ops)))
    return PruneRound(t, ops, _floats(kb), _floats(rb), records, pruned, time.perf_counter() - start)


def _prune(first: tuple[str, ...], measures: tuple[_Measure, _Measure], *, seed: int, device,
           ties: str) -> tuple[PruneRound, ...]:
    """Rounds from the supernet with `first` on every edge until one op per edge is left, plus its final record."""
    ops: CellSpec = (first,) * len(EDGES)
    rounds = []
    while True:
        rnd = _prune_round(len(rounds), ops, measures, seed=seed, device=device, ties=ties)
        rounds.append(rnd)
        if not rnd.candidates:
            return tuple(rounds)
        ops = tuple(tuple(o for o in edge_ops if o != p) for edge_ops, p in zip(ops, rnd.pruned))


# ---- validation and inputs -----------------------------------------------------------------------------
def _check_start_ops(start_ops, profile, *, caller: str) -> tuple[str, ...]:
    if start_ops is None:
        return START_OPS.get(profile, OPS)
    names = [start_ops] if isinstance(start_ops, str) else list(start_ops) if isinstance(start_ops, Sequence) else None
    if not names or any(n not in OPS for n in names) or len(set(names)) != len(names):
        raise InvalidParameterError(
            f"{caller}(): start_ops={start_ops!r} is invalid; expected a non-empty sequence of distinct op names from "
            f"{list(OPS)}."
        )
    return tuple(op for op in OPS if op in names)


def _check_options_dict(name: str, value, *, caller: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParameterError(
            f"{caller}(): {name}={value!r} is not a dict; expected proxy settings such as {{'batch_size': 8}} or None."
        )
    return dict(value)


def _settings(profile, ntk_options: dict, lr_options: dict, *, caller: str) -> tuple[dict, dict]:
    ntk = resolve_settings("ntk_cond", profile, caller=caller, **{"network": "narrow", **ntk_options})
    lr = resolve_settings("lr_count", profile, caller=caller, **lr_options)
    if ntk["network"] == "thin":
        raise InvalidParameterError(
            f"{caller}(): ntk_options network='thin' cannot take images; expected 'narrow' (TE-NAS) or 'full'."
        )
    if lr["network"] != "thin":
        raise InvalidParameterError(
            f"{caller}(): lr_options network={lr['network']!r} is not supported; "
            "expected 'thin' (TE-NAS counts regions on the thin supernet)."
        )
    return ntk, lr


def _check_images(batch, dataset: str, rows: int, *, caller: str) -> torch.Tensor:
    x = batch[0] if isinstance(batch, (tuple, list)) and len(batch) == 2 else batch
    res = DATASET_SPECS[dataset].resolution
    if (
        not isinstance(x, torch.Tensor)
        or x.ndim != 4
        or tuple(x.shape[1:]) != (3, res, res)
        or not x.is_floating_point()
    ):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise InvalidParameterError(
            f"{caller}(): batch x={shape!r} is not an image batch; "
            f"expected float [B, 3, {res}, {res}] for dataset={dataset!r}, or (x, y)."
        )
    if len(x) < rows:
        raise InvalidParameterError(
            f"{caller}(): batch has {len(x)} rows but the NTK reads {rows} (batch_size x n_batches x repeats); supply "
            "more rows."
        )
    return x.detach().cpu()


def _load_images(dataset, batch, ntk: dict, lr: dict, *, seed: int, data_dir,
                 caller: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(NTK images [rows, 3, H, W], LR patch source images): the caller's batch, or seeded training images."""
    rows = RepeatPlan(get_proxy("ntk_cond"), ntk, seed).rows
    if batch is not None:
        x = _check_images(batch, dataset, rows, caller=caller)
        return x, x
    from ..data import proxy_batch

    x_ntk, _ = proxy_batch(dataset, rows, seed=seed, data_dir=data_dir, augment=True, device="cpu")
    x_lr, _ = proxy_batch(dataset, lr["batch_size"] * lr["n_batches"], seed=seed, data_dir=data_dir, device="cpu")
    return x_ntk, x_lr


def _measures(ntk: dict, lr: dict, x_ntk: torch.Tensor, x_lr: torch.Tensor, *, num_classes: int,
              seed: int) -> tuple[_Measure, _Measure]:
    c0, n0 = NETWORKS[ntk["network"]]
    c, n = ntk["C"] or c0, ntk["N"] or n0
    k_ntk, k_lr = ntk["num_classes"] or num_classes, lr["num_classes"] or num_classes

    def ntk_net(spec, s):
        return build_network(spec, C=c, N=n, num_classes=k_ntk, init=ntk["init"], seed=s)

    def lr_net(spec, s):
        return build_thin_network(spec, C=1, num_classes=k_lr, init=lr["init"], seed=s)

    ntk_plan = RepeatPlan(get_proxy("ntk_cond"), ntk, seed)
    lr_plan = RepeatPlan(get_proxy("lr_count"), lr, seed, input_key=lambda dr: (2, dr))   # patches: stream 2
    return _Measure(ntk_plan, ntk_net, x_ntk, 0), _Measure(lr_plan, lr_net, x_lr, 1)


# ---- the searcher -----------------------------------------------------------------------------------------
@SEARCHERS.register("tenas_pruning")
def tenas_prune(
    *,
    dataset: str = "cifar10",
    seed: int = 0,
    device=None,
    profile: str | None = "tenas_paper",
    data_dir=None,
    batch=None,
    report=DEFAULT_REPORT,
    bench=None,
    start_ops: Sequence[str] | None = None,
    ties: str = "tenas_ties",
    ntk_options: dict | None = None,
    lr_options: dict | None = None,
) -> PruningResult:
    """TE-NAS: prune the NB201 supernet by the importance of each op for κ and R (Algorithm 1).

    Parameters
    ----------
    dataset : {"cifar10", "cifar10-valid", "cifar100", "ImageNet16-120"}, default="cifar10"
        Images scored (training split) and the classifier width K; TE-NAS searches per dataset.
    seed : int, default=0
        Fixes the images, the patches and every weight draw; the same seed gives the same result.
    device : str or torch.device, optional
        Where κ and R are computed (weights are drawn on the CPU); default CUDA if available.
    profile : str or None, default="tenas_paper"
        Settings of ``ntk_cond`` and ``lr_count`` (`nasbench_eval.proxies.PROFILES`): "tenas_paper"
        (NTK batch 32, Kaiming init re-drawn every repeat, 3 repeats; LR 3 × 1,000 patches) or
        "tenas_code" (NTK batch 72, torch-default init drawn once per round, ``none`` masked from the
        start, κ NaN -> 1e5). The NTK network is always the narrow supernet unless `ntk_options` says otherwise.
    data_dir : path-like, optional
        Where the images (and, with ``bench=None``, the benchmark table) are.
    batch : Tensor or (x, y), optional
        Images to use instead of loading them: float [B, 3, H, W], normalized; NTK repeat r reads rows
        ``[r·b, (r+1)·b)`` (b = NTK batch size) and the LR patches are cut from all B rows.
        Default: ``proxy_batch`` of the training split, augmented for the NTK, plain for the patches.
    report : (dataset, metric, epochs) or callable, default=("cifar10", "test_acc", 200)
        Ground truth looked up for the final architecture after the search.
    bench : Benchmark, optional
        Default ``create_benchmark("nb201", data_dir=data_dir)``.
    start_ops : sequence of str, optional
        Ops on every edge of the initial supernet; default all 5 ops (paper), or all but ``none``
        under ``profile="tenas_code"`` (the released code).
    ties : {"tenas_ties", "average"}, default="tenas_ties"
        "tenas_ties": per-repeat deltas rounded to 3 decimals, equal values at 3 significant figures
        share a dense rank (TE-NAS code); "average": unrounded deltas, average ranks.
    ntk_options, lr_options : dict, optional
        Overrides of the ``ntk_cond`` / ``lr_count`` settings (``batch_size``, ``n_batches``,
        ``repeats``, ``repeat_init``, ``repeat_data``, ``init``, ``C``, ``N``, ``network`` ...).

    Returns
    -------
    result : PruningResult
        ``arch``/``index`` of the single-path network left, its ``accuracy`` under `report`,
        ``wall_time`` (seconds of pruning, excluding data loading and ground-truth lookups),
        ``rounds`` (per round: ops kept, κ and R of the supernet and of every candidate, the ops
        pruned) and ``config``. ``score`` is NaN (no scalar objective).

    Raises
    ------
    InvalidParameterError
        For an unknown dataset, profile, setting or tie rule, bad start ops, a malformed batch or a bad seed.

    Examples
    --------
    >>> r = tenas_prune(dataset="cifar10", seed=0)                        # doctest: +SKIP
    >>> r.arch, r.accuracy, [x.pruned for x in r.rounds]                   # doctest: +SKIP
    """
    caller = "tenas_prune"
    check_option("dataset", dataset, list(DATASET_SPECS), caller=caller)
    seed = check_int("seed", seed, caller=caller, minimum=0)
    check_option("ties", ties, TIES, caller=caller)
    first = _check_start_ops(start_ops, profile, caller=caller)
    ntk, lr = _settings(profile, _check_options_dict("ntk_options", ntk_options, caller=caller),
                        _check_options_dict("lr_options", lr_options, caller=caller), caller=caller)
    dev = resolve_device(device)
    if bench is None:
        from ..benchmarks import create_benchmark

        bench = create_benchmark("nb201", data_dir=data_dir)
    report_fn = check_report(report, bench, caller=caller)
    x_ntk, x_lr = _load_images(dataset, batch, ntk, lr, seed=seed, data_dir=data_dir, caller=caller)
    measures = _measures(ntk, lr, x_ntk, x_lr, num_classes=DATASET_SPECS[dataset].num_classes, seed=seed)

    start = time.perf_counter()
    rounds = _prune(first, measures, seed=seed, device=dev, ties=ties)
    wall = time.perf_counter() - start

    final = Arch(tuple(edge_ops[0] for edge_ops in rounds[-1].ops))
    config = {"dataset": dataset, "profile": profile, "start_ops": list(first), "ties": ties, "ntk": ntk, "lr": lr,
              "n_rounds": len(rounds) - 1, "batch": "caller" if batch is not None else "proxy_batch",
              "report": describe_report(report)}
    res = finish("tenas_pruning", bench, seed=seed, index=[bench.index_of(final)], score=[math.nan], parent=[-1],
                 report=report_fn, wall_time=wall, config=config)
    return PruningResult(**{f.name: getattr(res, f.name) for f in fields(res)}, rounds=rounds)
