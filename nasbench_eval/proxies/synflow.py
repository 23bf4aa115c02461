"""Synaptic flow (Tanaka et al.; as a proxy by Abdelfattah et al.), spec/proxies.md §3.2."""
from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import check_option
from ..nets.network import ResidualBlock
from .base import Scored, logits_of, register_proxy, weight_layers

BN_MODES = ("remove", "keep", "keep_reduction")
"""synflow's BN handling: remove all BN (DEFAULT, NASLib), keep all BN in train mode (OPTION
``synflow_bn``), keep only the BNs of the residual reduction blocks (OPTION ``zc_reduction_bn``,
what zero-cost-nas effectively does)."""
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def _is_reduction_block(module: nn.Module) -> bool:
    """True for an NB201 residual reduction block (ours, or a foreign one named like xautodl's)."""
    return isinstance(module, ResidualBlock) or "resnetbasicblock" in type(module).__name__.lower()


def _strip_bn(net: nn.Module, keep_under_reduction: bool) -> None:
    """Replace BatchNorm modules by Identity in place (optionally keeping those in reduction blocks)."""
    def visit(module: nn.Module, inside_reduction: bool) -> None:
        for child_name, child in list(module.named_children()):
            inside = inside_reduction or _is_reduction_block(child)
            if isinstance(child, nn.modules.batchnorm._BatchNorm) and not (keep_under_reduction and inside):
                setattr(module, child_name, nn.Identity())
            else:
                visit(child, inside)
    visit(net, False)


def synflow_weights(net: nn.Module) -> list[nn.Parameter]:
    """The weights synflow sums over: every Conv2d and Linear weight (spec §3.2; no biases, no BN)."""
    return [m.weight for m in weight_layers(net)]


def synflow_value(net: nn.Module, input_shape: tuple[int, ...], *, bn: str = "remove", dtype: str = "float64") -> float:
    """Σ over Conv/Linear weights of |W ⊙ ∂R/∂W|, with |params|, R = Σ logits(ones) (mutates `net`)."""
    if bn != "keep":
        _strip_bn(net, keep_under_reduction=(bn == "keep_reduction"))
    net.to(DTYPES[dtype])
    with torch.no_grad():
        for tensor in [*net.parameters(), *net.buffers()]:
            if tensor.is_floating_point():
                tensor.abs_()
    net.zero_grad(set_to_none=True)
    ones = torch.ones((1, *input_shape), dtype=DTYPES[dtype], device=next(net.parameters()).device)
    r = logits_of(net(ones)).sum()
    weights = synflow_weights(net)
    grads = torch.autograd.grad(r, weights, allow_unused=True)
    total = torch.zeros((), dtype=torch.float64, device=ones.device)
    for w, g in zip(weights, grads):
        if g is not None:
            total = total + (w.detach() * g).abs().sum().double()
    return float(total)


def synflow_status(value: float, **options) -> Scored:
    """Synflow's status rule: NaN and ±inf are overflows; 0 means no signal reaches the logits (dead cell)."""
    if math.isnan(value):
        return Scored(value, "nan", "synflow overflowed to NaN (0·inf); use dtype='float64'")
    if math.isinf(value):
        return Scored(value, "inf", "synflow overflowed even in the chosen dtype")
    if value == 0.0:
        return Scored(0.0, "degenerate", "no signal reaches the logits (dead cell: no none-free path)")
    return Scored(value)


def _checker(caller: str):
    """The option check of synflow / synflow_log (`bn`, `dtype`), naming `caller` in its errors."""
    def check(options: dict, rows: int) -> dict:
        check_option("bn", options.get("bn", "remove"), BN_MODES, caller=caller)
        check_option("dtype", options.get("dtype", "float64"), list(DTYPES), caller=caller)
        return options
    return check


@register_proxy("synflow", higher_is_better=True, tags={"label-free", "data-free"},
                batch_size=1, bn="remove", dtype="float64", check=_checker("synflow"), finalize=synflow_status)
def synflow(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None, *, bn: str = "remove",
            dtype: str = "float64") -> float:
    """Synflow: Σ_{conv, linear weights} Σ |W ⊙ ∂R/∂W| with R = Σ_c f_c(1) on |θ| (spec §3.2).

    Every parameter and buffer is replaced by its absolute value, BN is removed (`bn`), the
    network is converted to `dtype` and fed a single all-ones input of shape [1, C, H, W] taken
    from ``x.shape[1:]`` (the values of x are never read). Biases and BN parameters shape the
    forward pass but do not enter the sum. Higher is better; data-independent; units of
    "weight × gradient" (dimensionless, typically 1e15-1e50 on NB201).

    Parameters
    ----------
    net : nn.Module
        A copy it may modify (compute_proxy passes a deep copy).
    x : Tensor of shape (B, C, H, W)
        Only its shape is used.
    bn : {"remove", "keep", "keep_reduction"}, default="remove"
        See `BN_MODES`.
    dtype : {"float64", "float32"}, default="float64"
        float32 overflows (R = inf, synflow = NaN) on large NB201 nets; float64 is mandatory.

    Returns
    -------
    float
        The raw sum; the entry's `synflow_status` marks it ``degenerate`` when 0 (no signal reaches
        the logits: dead cell) and ``nan``/``inf`` on overflow.
    """
    return synflow_value(net, tuple(x.shape[1:]), bn=bn, dtype=dtype)


def signed_log(value: float) -> float:
    """NASLib's log form: ln(v) for v > 0, −ln(−v) for v < 0, 0 stays 0; NaN/inf pass through.

    >>> signed_log(math.e), signed_log(0.0)
    (1.0, 0.0)
    """
    if value > 0:
        return math.log(value)
    if value < 0:
        return -math.log(-value)
    return value


def synflow_log_status(value: float, **options) -> Scored:
    """`synflow_status` of the raw sum, its value mapped by `signed_log`."""
    raw = synflow_status(value)
    return Scored(signed_log(raw.value), raw.status, raw.reason)


@register_proxy("synflow_log", higher_is_better=True, tags={"label-free", "data-free"},
                batch_size=1, bn="remove", dtype="float64", check=_checker("synflow_log"), finalize=synflow_log_status)
def synflow_log(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None, *, bn: str = "remove",
                dtype: str = "float64") -> float:
    """ln(synflow) with NASLib's sign rule (`signed_log`); 0 (dead cell) stays 0. Higher is better.

    Returns the raw synflow sum; the entry's `synflow_log_status` applies the status and the log.
    """
    return synflow_value(net, tuple(x.shape[1:]), bn=bn, dtype=dtype)
