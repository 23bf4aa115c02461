"""NASWOT: log-determinant of the binary ReLU-pattern (Hamming) kernel (spec/proxies.md §3.1)."""
from __future__ import annotations

import math

import torch
from torch import nn

from .base import Scored, register_proxy, relu_modules


def hamming_kernel(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """K_H = Σ over ReLU calls of C Cᵀ + (1−C)(1−C)ᵀ, with C the [B, D_s] 0/1 pre-activation codes.

    Parameters
    ----------
    net : nn.Module
        Network whose ReLU sites are `nn.ReLU` modules; run as is (mode untouched), under no_grad.
    x : Tensor of shape (B, ...)
        The minibatch.

    Returns
    -------
    K : Tensor of shape (B, B), float64
        K[i, j] = number of ReLU units on which samples i and j agree (N_A on the diagonal).
        Each ReLU *call* is one block, so a tensor feeding k ReLU modules counts k times.
    """
    k = torch.zeros(len(x), len(x), dtype=torch.float64, device=x.device)

    def add_codes(module, inputs, output):
        c = (inputs[0].detach() > 0).flatten(1).float()   # float32 matmul is exact: entries < 2**24
        k.add_((c @ c.T).double() + ((1.0 - c) @ (1.0 - c).T).double())

    hooks = [m.register_forward_hook(add_codes) for m in relu_modules(net)]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in hooks:
            h.remove()
    return k


def nwot_status(raw: tuple[float, float], **options) -> Scored:
    """The NASWOT score of ``raw = (sign, ln|det|)`` of K_H: ``degenerate`` −inf when sign ≤ 0 or ln|det| = −inf."""
    sign, logdet = raw
    if sign <= 0 or logdet == -math.inf:
        return Scored(-math.inf, "degenerate", f"K_H is singular (det sign {sign:g}): too few distinct ReLU patterns")
    return Scored(logdet)


@register_proxy("nwot", aliases=("naswot",), higher_is_better=True, tags={"label-free", "data"},
                batch_size=128, dtype="float32 forward, float64 kernel and slogdet", finalize=nwot_status)
def nwot(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[float, float]:
    """NASWOT score: ln|det K_H| of the ReLU-pattern kernel (Mellor et al., ICML'21 v2).

    Definition: c_i ∈ {0,1}^{N_A} concatenates [pre-activation > 0] over every unit of every
    ReLU call for sample i; K_H[i, j] = c_i·c_j + (1−c_i)·(1−c_j); nwot = ln|det K_H| (natural
    log, float64 `slogdet`). Higher is better. Dimensionless (a log of a count^B); bounded above
    by B·ln(N_A) (Hadamard).

    Parameters
    ----------
    net : nn.Module
        The network (train mode: BN uses the batch's statistics).
    x : Tensor of shape (B, 3, H, W)
        Images; spec default B = 128, no augmentation, one batch shared by all archs.
    y : ignored

    Returns
    -------
    (sign, logdet) : (float, float)
        `torch.linalg.slogdet` of K_H; the entry's `nwot_status` makes it the score: ``degenerate``
        with value −inf when det sign ≤ 0 or the log is −inf (e.g. no ReLU sees input-dependent
        data, as for the all-``none`` genotype).
    """
    sign, logdet = torch.linalg.slogdet(hamming_kernel(net, x))
    return float(sign), float(logdet)
