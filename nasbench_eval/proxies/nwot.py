"""NASWOT: log-determinant of the binary ReLU-pattern (Hamming) kernel (spec/proxies.md §3.1)."""
from __future__ import annotations

import math
from collections import deque

import torch
from torch import nn

from .._validation import check_option
from ..nets.hooks import forward_hooks
from .base import Scored, register_proxy, relu_modules

REUSE_WINDOW = 4
"""ReLU inputs whose agreement block `hamming_kernel` keeps for reuse: a cell's node tensors (at most 3 feed edges)."""

SITES = ("relu", "relu_named")
"""Where codes are read: ``relu`` every `nn.ReLU` call once (spec); ``relu_named`` every module whose type name
contains "ReLU" (BayesWatch's score_networks.py hook rule: a `ReLUConvBN` container's input is counted again)."""


def code_sites(net: nn.Module, sites: str = "relu") -> list[nn.Module]:
    """The modules whose forward input supplies NASWOT codes (one block per call), per `SITES`."""
    if sites == "relu":
        return relu_modules(net)
    return [m for m in net.modules() if "ReLU" in type(m).__name__]


def codes(pre: torch.Tensor) -> torch.Tensor:
    """The 0/1 codes [pre > 0] as a (B, D) bool matrix, read in the tensor's memory order (no copy).

    The order of the D units within a row does not change any inner product of two rows, so a channels_last
    tensor is read as (B, H, W, C) instead of being copied to (B, C, H, W).
    """
    x = pre.detach()
    if x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        x = x.permute(0, 2, 3, 1)
    return (x > 0).reshape(len(x), -1)


def code_gram(c: torch.Tensor) -> torch.Tensor:
    """C Cᵀ of a bool code matrix C (B, D) as exact integers, float64 (B, B).

    CPU: the codes as int8 (a view of the bools; zero-padded to a multiple of 8 columns), `torch._int_mm` with
    int32 accumulation (exact for D < 2**31; about 2x the float32 GEMM rate here, `roofline_cpu.json`). The right
    operand is the transposed view itself: a contiguous copy of it cost as much as the product.
    Elsewhere: a float32 matmul, exact for D < 2**24 (TF32 is off while scoring).
    """
    if c.device.type == "cpu":
        ci = c.view(torch.int8)
        if ci.shape[1] % 8:      # zero columns leave C Cᵀ unchanged; torch 2.13's CPU _int_mm is wrong for D = 1
            ci = torch.nn.functional.pad(ci, (0, 8 - ci.shape[1] % 8))
        return torch._int_mm(ci, ci.T).double()
    if c.shape[1] >= 2 ** 24:
        raise ValueError(f"a ReLU call with {c.shape[1]} units per sample exceeds float32's exact integer range")
    cf = c.float()
    return (cf @ cf.T).double()


def agreement(pre: torch.Tensor) -> torch.Tensor:
    """One block of K_H: agreements C Cᵀ + (1−C)(1−C)ᵀ of the codes C = [pre > 0] (B, D), with one product.

    With G = C Cᵀ and r_i = G_ii (ones in row i), (1−C)(1−C)ᵀ = D − r_i − r_j + G, so the block is
    2G − r_i − r_j + D. Every term is an exact integer (`code_gram`), so the block is the same integer matrix
    as the two-product form, float64 (B, B).
    """
    c = codes(pre)
    g = code_gram(c)
    r = g.diagonal()
    return 2.0 * g - r[:, None] - r[None, :] + c.shape[1]


def hamming_kernel(net: nn.Module, x: torch.Tensor, *, sites: str = "relu") -> torch.Tensor:
    """K_H = Σ over code sites of C Cᵀ + (1−C)(1−C)ᵀ, with C the [B, D_s] 0/1 pre-activation codes.

    Parameters
    ----------
    net : nn.Module
        Network whose ReLU sites are `nn.ReLU` modules; run as is (mode untouched), under no_grad.
    x : Tensor of shape (B, ...)
        The minibatch.
    sites : {"relu", "relu_named"}
        `SITES`: which module calls give codes.

    Returns
    -------
    K : Tensor of shape (B, B), float64
        K[i, j] = number of ReLU units on which samples i and j agree (N_A on the diagonal).
        Each ReLU *call* is one block, so a tensor feeding k ReLU modules counts k times. Exact integers:
        equal bit for bit to the two-product form (`agreement`). A block is computed once per tensor and added
        again for each further call on that same, unmodified tensor among the last `REUSE_WINDOW` ones (an NB201
        node feeding several conv edges).
    """
    k = torch.zeros(len(x), len(x), dtype=torch.float64, device=x.device)
    recent: deque[tuple[torch.Tensor, int, torch.Tensor]] = deque(maxlen=REUSE_WINDOW)   # (input, version, block)

    def add_codes(module, inputs, output):
        pre = inputs[0]
        block = next((b for t, v, b in recent if t is pre and v == pre._version), None)
        if block is None:
            block = agreement(pre)
            recent.append((pre, pre._version, block))
        k.add_(block)

    with forward_hooks(code_sites(net, sites), add_codes), torch.no_grad():
        net(x)
    return k


def nwot_status(raw: tuple[float, float], **options) -> Scored:
    """The NASWOT score of ``raw = (sign, ln|det|)`` of K_H: ``degenerate`` −inf when sign ≤ 0 or ln|det| = −inf."""
    sign, logdet = raw
    if sign <= 0 or logdet == -math.inf:
        return Scored(-math.inf, "degenerate", f"K_H is singular (det sign {sign:g}): too few distinct ReLU patterns")
    return Scored(logdet)


def _check_nwot(options: dict, rows: int) -> dict:
    """`sites` one of `SITES`."""
    if "sites" in options:
        check_option("sites", options["sites"], SITES, caller="nwot")
    return options


@register_proxy("nwot", aliases=("naswot",), higher_is_better=True, tags={"label-free", "data"},
                batch_size=128, dtype="float32 forward, float64 kernel and slogdet",
                check=_check_nwot, finalize=nwot_status)
def nwot(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None, *, sites: str = "relu") -> tuple[float, float]:
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
    sites : {"relu", "relu_named"}, default="relu"
        ``relu``: each ReLU call once (spec, NASLib). ``relu_named``: BayesWatch's rule (`SITES`), which on
        NB201 counts the codes of every `ReLUConvBN` (conv edges, residual convs) twice; the ``naswot``
        profile sets it. Not an entry default, so the default's settings key (and the score store) is unchanged.

    Returns
    -------
    (sign, logdet) : (float, float)
        `torch.linalg.slogdet` of K_H; the entry's `nwot_status` makes it the score: ``degenerate``
        with value −inf when det sign ≤ 0 or the log is −inf (e.g. no ReLU sees input-dependent
        data, as for the all-``none`` genotype).
    """
    sign, logdet = torch.linalg.slogdet(hamming_kernel(net, x, sites=sites))
    return float(sign), float(logdet)
