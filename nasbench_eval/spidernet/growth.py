"""SpiderNet growth: NTK-LRC mutation selection (Algorithm 1), deadheading, random-mutation ablation.

Algorithm 1 (paper §3.7; spec/proxies.md §3.6 "SpiderNet version"): on a slim copy S of the model,
for edges drawn in random order, mutate a copy S' (`SpiderNet.mutate`), re-draw its weights, copy it
to S'_on and S'_off, disconnect the two new edges of S'_off (outputs × 0, so S'_off computes what S
computes with the same modules and weights), and score both. A candidate is *good* iff
NTK_on ≤ NTK_off and LRC_on ≥ LRC_off (paper: non-strict; the reference code wants LRC strictly
up). Sampling stops at `n_good` good candidates; the pick maximizes the joint rank of the relative
deltas (Δκ descending + ΔR ascending, `tenas_rank`), and is returned only if the memory check
s(M) + 2·s(e*) < s_max passes. By default s(·) is parameter+buffer bytes (`mutation_bytes`); the
cycle driver measures the training footprint on CUDA instead (`size_fn`).

NTK and LRC use two slim copies: the NTK one takes images (3 channels), the LRC one single-channel
3×3 patches (spec §3.4), so its stem has ``in_channels=1``.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .._validation import check_int
from ..proxies.linear_regions import activation_patterns, count_unique_rows
from ..proxies.ntk import condition_number, ntk_gram
from ..proxies.rank_combination import tenas_rank
from .model import EdgeId, MixedEdge, SpiderNet, param_bytes
from .ops import OPS
from .pruners import PrunerLog, deadhead_keys


@dataclass(frozen=True)
class Candidate:
    """Scores of one trial mutation: S'_on vs S'_off (identical modules and weights)."""

    edge: EdgeId
    ntk_on: float
    ntk_off: float
    lrc_on: float
    lrc_off: float

    @property
    def good(self) -> bool:
        """Not detrimental: NTK did not increase and LRC did not decrease (Alg. 1, line 8)."""
        return self.ntk_on <= self.ntk_off and self.lrc_on >= self.lrc_off

    @property
    def d_ntk(self) -> float:
        """Relative NTK change (on − off)/off; NaN if undefined."""
        return _rel(self.ntk_on, self.ntk_off)

    @property
    def d_lrc(self) -> float:
        """Relative LRC change (on − off)/off; NaN if undefined."""
        return _rel(self.lrc_on, self.lrc_off)


def _rel(on: float, off: float) -> float:
    with np.errstate(all="ignore"):
        d = (np.float64(on) - off) / off
    return float(d) if math.isfinite(d) else math.nan


@dataclass(frozen=True)
class Selection:
    """Result of Algorithm 1: the chosen edge (or None), why, and every candidate scored."""

    edge: EdgeId | None
    reason: str
    candidates: tuple[Candidate, ...]


def ntk_score(net: SpiderNet, x: torch.Tensor, *, n_batches: int = 1) -> float:
    """NTK condition number κ of `net` on x (spec §3.3; +inf when degenerate)."""
    return condition_number(ntk_gram(net, x, n_batches=n_batches)).value


def lrc_score(net: SpiderNet, x: torch.Tensor, *, n_batches: int = 1) -> float:
    """Number of distinct ReLU activation patterns of `net` on x (spec §3.4)."""
    return float(count_unique_rows(activation_patterns(net, x, n_batches=n_batches)))


def paired_scores(slim: SpiderNet, edge: EdgeId, x: torch.Tensor, score: Callable[[SpiderNet, torch.Tensor], float],
                  *, init: str, seed: int) -> tuple[float, float]:
    """(score(S'_on), score(S'_off)) for the mutation of `edge` in a copy of `slim` (Alg. 1, lines 3-7).

    Weights of S' are re-drawn with `init` from ``torch.Generator().manual_seed(seed)``; S'_off is a
    deep copy of S'_on with the two new edges multiplied by 0. Both run in train mode.
    """
    on = copy.deepcopy(slim)
    new = on.mutate(edge, seed=seed)
    on.reset_parameters(init, generator=torch.Generator().manual_seed(seed))
    off = copy.deepcopy(on)
    for e in new:
        off.set_edge_scale(e, 0.0)
    on.train()
    off.train()
    return score(on, x), score(off, x)


def edge_bytes(model: SpiderNet, edge: EdgeId) -> int:
    """s(e): bytes of one new all-op edge in `edge`'s cell at the model's width."""
    return param_bytes(MixedEdge(OPS, model.channels(edge[0])))


def mutation_bytes(model: SpiderNet, edge: EdgeId) -> int:
    """s(M) + 2·s(e) of Alg. 1, line 11, with s(·) = parameter + buffer bytes (the default `size_fn`)."""
    return param_bytes(model) + 2 * edge_bytes(model, edge)


def select_mutation(model: SpiderNet, x_ntk: torch.Tensor, x_lrc: torch.Tensor, *, n_good: int = 3,
                    max_bytes: float | None = None, seed: int = 0, ntk_width: int = 1, lrc_width: int = 1,
                    ntk_batches: int = 1, lrc_batches: int = 1,
                    size_fn: Callable[[SpiderNet, EdgeId], float] = mutation_bytes) -> Selection:
    """Algorithm 1: NTK-LRC mutation selection.

    Parameters
    ----------
    model : SpiderNet
        Not modified.
    x_ntk : Tensor of shape (B, in_channels, H, W)
        NTK inputs (SpiderNet code: 3 × 64 images, ``ntk_batches=3``).
    x_lrc : Tensor of shape (n, 1, 3, 3)
        LRC inputs (spec §3.4 patches, e.g. `random_patches`).
    n_good : int, default=3
        Stop sampling after this many good candidates.
    max_bytes : float, optional
        s_max; None skips the memory check.
    seed : int, default=0
        Edge order (``numpy.random.default_rng(seed)``) and the weights of every trial model.
    ntk_width, lrc_width : int, default=1
        Channels per op of the two slim copies (paper: 1; SpiderNet code: NTK 3, LRC 1).
    ntk_batches, lrc_batches : int, default=1
        Separate forwards the inputs are split into.
    size_fn : callable(model, edge) -> float, default=`mutation_bytes`
        s(M) + 2·s(e): bytes the model needs once `edge` is mutated (the cycle driver passes a
        measured training footprint on CUDA).

    Returns
    -------
    Selection
        ``edge`` is None when no candidate is good or the best one does not fit in `max_bytes`.
    """
    n_good = check_int("n_good", n_good, caller="select_mutation", minimum=1)
    seed = check_int("seed", seed, caller="select_mutation", minimum=0)
    s_ntk = model.slim(ntk_width, in_channels=x_ntk.shape[1], seed=seed).to(x_ntk.device)
    s_lrc = model.slim(lrc_width, in_channels=x_lrc.shape[1], seed=seed).to(x_lrc.device)
    edges = model.edge_ids()
    found: list[Candidate] = []
    for i in np.random.default_rng(seed).permutation(len(edges)):
        edge = edges[i]
        k_on, k_off = paired_scores(s_ntk, edge, x_ntk, lambda n, x: ntk_score(n, x, n_batches=ntk_batches),
                                    init="kaiming_normal_fan_out", seed=seed)
        r_on, r_off = paired_scores(s_lrc, edge, x_lrc, lambda n, x: lrc_score(n, x, n_batches=lrc_batches),
                                    init="kaiming_normal_fan_in", seed=seed)
        found.append(Candidate(edge, k_on, k_off, r_on, r_off))
        if sum(c.good for c in found) >= n_good:
            break
    return _pick(model, tuple(found), max_bytes, size_fn)


def _pick(model: SpiderNet, found: tuple[Candidate, ...], max_bytes: float | None,
          size_fn: Callable[[SpiderNet, EdgeId], float] = mutation_bytes) -> Selection:
    """Alg. 1 lines 10-11: best joint rank among good candidates, then the memory check."""
    good = [c for c in found if c.good]
    if not good:
        return Selection(None, "no good mutation among the sampled edges", found)
    rank = tenas_rank([c.d_ntk for c in good], [c.d_lrc for c in good])
    best = good[int(np.argmax(rank))]                     # ties: first sampled
    if max_bytes is not None:
        need = size_fn(model, best.edge)
        if not need < max_bytes:
            return Selection(None, f"best mutation needs {need:.0f} bytes, not < max_bytes={max_bytes:g}", found)
    return Selection(best.edge, "ok", found)


def deadhead(model: SpiderNet, log: PrunerLog, *, window: int = 4, threshold: float = 0.75) -> list:
    """Delete, in place, every op whose pruner was off in > `threshold` of the last `window` epochs' batches.

    Returns the deleted op keys; their histories are dropped from `log`.
    """
    live = set(model.op_keys())
    keys = [k for k in deadhead_keys(log.history, window=window, threshold=threshold) if k in live]
    for key in keys:
        model.delete_op(key)
        log.forget(key)
    return keys


def random_edge(model: SpiderNet, *, rng: np.random.Generator) -> EdgeId:
    """A uniformly random edge (the ablations' "random mutation", paper §4.3, Table 1)."""
    edges = model.edge_ids()
    return edges[int(rng.integers(len(edges)))]
