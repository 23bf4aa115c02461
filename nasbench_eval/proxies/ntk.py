"""Condition number of the empirical neural tangent kernel (TE-NAS), spec/proxies.md §3.3."""
from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import check_int
from ..exceptions import InvalidParameterError
from .base import Scored, logits_of, register_proxy


def ntk_weights(net: nn.Module) -> list[torch.nn.Parameter]:
    """P = every trainable parameter whose name contains "weight" (conv kernels, BN γ, classifier W)."""
    return [p for name, p in net.named_parameters() if "weight" in name and p.requires_grad]


def ntk_gram(net: nn.Module, x: torch.Tensor, *, n_batches: int = 1) -> torch.Tensor:
    """Θ = J Jᵀ in float64, J[i] = ∂(Σ_c f_c(X)_i)/∂θ_P, one forward per chunk + one backward per sample.

    Parameters
    ----------
    net : nn.Module
        In train mode BN couples the samples of a chunk; that coupling is part of the definition,
        so each row comes from the full-chunk forward (never from a single-sample forward).
    x : Tensor of shape (B, ...)
        Split into `n_batches` consecutive chunks, each a separate forward (SpiderNet: 3 × 64).
    n_batches : int, default=1

    Returns
    -------
    theta : Tensor of shape (B, B), float64
        Accumulated per parameter tensor (Θ += J_t J_tᵀ), J built in the network's dtype. A tensor the
        logits do not reach (J_t = 0, e.g. an op `skip_unused_ops` skipped) adds exact zeros and is left out.
    """
    params = ntk_weights(net)
    rows: list[list[torch.Tensor | None]] = []   # rows[i][t] = gradient of sample i w.r.t. tensor t
    for chunk in torch.tensor_split(x, n_batches):
        out = logits_of(net(chunk)).sum(dim=1)   # [b]: summed logits per sample
        for i in range(len(chunk)):
            grads = torch.autograd.grad(out[i], params, retain_graph=i + 1 < len(chunk), allow_unused=True)
            rows.append([None if g is None else g.flatten() for g in grads])
    theta = torch.zeros(len(rows), len(rows), dtype=torch.float64, device=x.device)
    for t in range(len(params)):
        if rows[0][t] is None:                   # not reached by the logits (the same in every row): J_t = 0
            continue
        jt = torch.stack([r[t] for r in rows]).double()
        theta += jt @ jt.T
    return theta


def condition_number(theta: torch.Tensor) -> Scored:
    """κ = λ_max/λ_min of a symmetric PSD matrix via float64 `eigvalsh`, with the spec's guards.

    λ_max ≤ 0 or non-finite (e.g. the zero NTK of a dead cell) → +inf, ``degenerate``;
    λ_min ≤ 0 (numerically singular) → +inf, ``inf``. A negative κ is never returned.
    """
    theta = theta.double()
    if not torch.isfinite(theta).all():
        return Scored(math.inf, "degenerate", "the NTK has non-finite entries")
    eig = torch.linalg.eigvalsh(theta)
    lo, hi = float(eig[0]), float(eig[-1])
    if not hi > 0:
        return Scored(math.inf, "degenerate", f"λ_max = {hi:g} <= 0: the NTK is zero (no gradient reaches the weights)")
    if not lo > 0:
        return Scored(math.inf, "inf", f"λ_min = {lo:g} <= 0: the NTK is numerically singular")
    return Scored(hi / lo)


def _check_ntk(options: dict, rows: int) -> dict:
    """`n_batches` in [1, rows]; `tenas_nan` a number or None."""
    out = dict(options)
    if "n_batches" in out:
        out["n_batches"] = check_int("n_batches", out["n_batches"], caller="ntk_cond", minimum=1, maximum=rows)
    tenas_nan = out.get("tenas_nan")
    if tenas_nan is not None and not isinstance(tenas_nan, (int, float)):
        raise InvalidParameterError(
            f"ntk_cond(): tenas_nan={tenas_nan!r} is not a number; expected a float (TE-NAS: 1e5) or None."
        )
    return out


def ntk_status(theta: torch.Tensor, *, tenas_nan: float | None = None, **options) -> Scored:
    """κ of the NTK `theta` (`condition_number`); a ``degenerate`` κ becomes `tenas_nan` when that is set."""
    out = condition_number(theta)
    if tenas_nan is not None and out.status == "degenerate":
        return Scored(float(tenas_nan), "degenerate", f"{out.reason}; mapped to tenas_nan={tenas_nan:g}")
    return out


@register_proxy("ntk_cond", aliases=("ntk",), higher_is_better=False, tags={"label-free", "data", "logits-only"},
                batch_size=32, n_batches=1, init="kaiming_normal_fan_out", repeats=3, tenas_nan=None,
                dtype="float32 Jacobian, float64 NTK and eigvalsh", check=_check_ntk, finalize=ntk_status)
def ntk_cond(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None, *, n_batches: int = 1,
             tenas_nan: float | None = None) -> torch.Tensor:
    """Condition number κ = λ_max(Θ)/λ_min(Θ) of the summed-logit empirical NTK (TE-NAS).

    Θ = J Jᵀ (B × B), J[i, :] = ∂(Σ_c f_c(X)_i)/∂θ over every parameter named "weight" (conv
    kernels, BN γ, classifier weight; no biases, no BN β), from one train-mode forward of the
    batch and one backward per sample (`ntk_gram`). Lower is better (`higher_is_better=False`);
    dimensionless, ≥ 1.

    Parameters
    ----------
    net : nn.Module
    x : Tensor of shape (B, 3, H, W)
        Spec default B = 32 augmented training images per repeat.
    n_batches : int, default=1
        Rows from that many separate forwards of consecutive chunks of x (SpiderNet: 3).
    tenas_nan : float, optional
        If set, a degenerate κ (zero or non-finite NTK, where TE-NAS's float32 solver gives NaN)
        is replaced by this value (TE-NAS code: 1e5); the status stays ``degenerate``.

    Returns
    -------
    theta : Tensor of shape (B, B), float64
        The NTK (`ntk_gram`); the entry's `ntk_status` makes it κ, +inf with ``degenerate`` or
        ``inf`` under the guards of `condition_number` (or `tenas_nan`).
    """
    return ntk_gram(net, x, n_batches=n_batches)
