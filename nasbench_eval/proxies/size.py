"""Model size baselines: parameter count and FLOPs with the NB201 API conventions (spec §1.2).

Thin wrappers over `nasbench_eval.nets.count_params` / `count_flops`, so the proxy values and the
network package's cost tables can never disagree.
"""
from __future__ import annotations

import torch
from torch import nn

from ..nets.cost import count_flops, count_params
from .base import register_proxy

_SIZE = dict(higher_is_better=True, tags={"label-free", "data-free", "size"}, batch_size=1, repeats=1,
             dtype="exact integer count")


@register_proxy("params", **_SIZE)
def params(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None) -> float:
    """Parameter count in millions: all `nn.Parameter` elements (conv kernels, BN γ/β, linear W and b).

    Independent of x and of the init; ops on dead paths count. Higher is better (a strong
    baseline, spec §3.5).
    """
    return count_params(net) / 1e6


@register_proxy("flops", **_SIZE)
def flops(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None) -> float:
    """Per-image MFLOPs: Conv2d and Linear multiply-accumulates (+ biases) in millions, at x's resolution.

    BN, ReLU, pooling and additions are not counted (NB201 API convention). Higher is better.

    Parameters
    ----------
    x : Tensor of shape (B, C, H, W)
        Only ``x.shape[1:]`` is used.
    """
    return count_flops(net, (1, *x.shape[1:])) / 1e6
