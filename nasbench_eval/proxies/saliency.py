"""Gradient-saliency proxies from zero-cost-nas: snip, grasp, fisher, grad_norm, plain (spec §3.5).

All use one labelled batch, loss L = mean cross-entropy of the logits, the network in train mode,
and "layers" = every Conv2d and Linear (stem, cell convs, residual convs, shortcut 1×1,
classifier); only their ``.weight`` enters the sums. Values are sums of per-weight saliencies
(dimensionless). Higher is better for all of them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..nets.hooks import forward_hooks
from .base import logits_of, register_proxy, weight_layers

_COMMON = dict(higher_is_better=True, needs_labels=True, tags={"data", "labels"}, batch_size=64, dtype="float32")
_FIRST_ORDER = dict(_COMMON, tags=_COMMON["tags"] | {"logits-only"})
"""One backward: the ops that never reach the logits are skipped, bit for bit the same scores. Not grasp: in its
double backward the skipped ops' nodes change the order in which autograd adds the Hessian-vector terms."""


def _loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits_of(net(x)), y)


def _weight_grads(net: nn.Module, x: torch.Tensor, y: torch.Tensor, *, create_graph: bool = False):
    weights = [m.weight for m in weight_layers(net)]
    grads = torch.autograd.grad(_loss(net, x, y), weights, allow_unused=True, create_graph=create_graph)
    grads = [torch.zeros_like(w) if g is None else g for w, g in zip(weights, grads)]
    return weights, grads


def _sum(tensors) -> float:
    return float(sum(t.double().sum() for t in tensors))


@register_proxy("snip", **_FIRST_ORDER)
def snip(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """SNIP: Σ_layers Σ |W ⊙ ∂L/∂W| (connection sensitivity at init).

    Parameters
    ----------
    x : Tensor of shape (B, 3, H, W); y : int64 Tensor of shape (B,)
        Spec default B = 64 training images with labels.
    """
    weights, grads = _weight_grads(net, x, y)
    return _sum((w.detach() * g).abs() for w, g in zip(weights, grads))


@register_proxy("grad_norm", **_FIRST_ORDER)
def grad_norm(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Σ_layers ‖∂L/∂W‖₂: per-layer Frobenius norms, summed (not one global norm)."""
    _, grads = _weight_grads(net, x, y)
    return _sum(g.double().norm() for g in grads)


@register_proxy("plain", **_FIRST_ORDER)
def plain(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Σ_layers Σ W ⊙ ∂L/∂W (no absolute value; NASLib / zero-cost-nas "plain").

    Equal, per arch on the same weights and batch, to both references (tests/test_proxies_reference_agreement.py).
    In train mode a conv that feeds a BN is scale invariant, L(αW) = L(W), so its term Σ W ⊙ ∂L/∂W = dL/dα is
    0 (up to BN's eps). On NB201 only the classifier and the two residual shortcut 1×1 convs contribute: the
    value is a small signed number set mostly by the init and the batch, not by the cell, so two runs with
    different weights or batches rank archs almost independently (README, "Proxies and the implementations
    they reproduce").
    """
    weights, grads = _weight_grads(net, x, y)
    return _sum(w.detach() * g for w, g in zip(weights, grads))


@register_proxy("grasp", **_COMMON)
def grasp(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """GraSP: Σ_layers Σ −W ⊙ (H g), with g = ∂L/∂W (detached) and Hg = ∂(Σ g·∂L/∂W)/∂W.

    One forward: ∂L/∂W is built with ``create_graph``; its detached value is g, and z = Σ_layers ⟨g, ∂L/∂W⟩ is
    differentiated again. The references (T = 1, one iteration) run the same batch forward twice, once for g
    and once for the graph; in train mode both give the same g bit for bit (BN normalizes with the batch's
    statistics, not the running ones the first pass updates; the forward draws no random numbers, as in every
    network this package builds), so the second forward is left out. The sign is
    flipped as in the reference so that higher is better.

    For a conv that feeds a train-mode BN, differentiating the scale invariance Σ W ⊙ ∂L/∂W = 0 gives
    (H W)_layer = −g_layer, so that layer's term is exactly ‖g_layer‖²; the classifier and the shortcut
    1×1 convs add signed terms that depend on the init and the batch, which is why ranks from different
    weights or batches agree only moderately (README). Per arch on the same weights and batch it equals
    the zero-cost-nas and NASLib implementations.
    """
    weights, grads = _weight_grads(net, x, y, create_graph=True)
    z = sum((g.detach() * g).sum() for g in grads)
    hg = torch.autograd.grad(z, weights, allow_unused=True) if z.requires_grad else [None] * len(weights)
    return _sum(-w.detach() * (torch.zeros_like(w) if h is None else h) for w, h in zip(weights, hg))


@register_proxy("fisher", **_FIRST_ORDER)
def fisher(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fisher: Σ_layers Σ_k F_k·(fan-in of channel k), F_k = ½·mean_n (Σ_{h,w} a·∂L/∂a)².

    Only ∂L/∂a is computed (a backward with no weight gradients); the reference's full backward gives the same
    ∂L/∂a bit for bit.

    a = output of each Conv2d/Linear (before BN) for output channel k; the reference broadcasts
    F_k to the Cin·kh·kw weights of channel k (Linear: in_features) and sums, which is the
    product written here.
    """
    captured: list[tuple[nn.Module, torch.Tensor]] = []

    def keep(module, inputs, output):
        if output.requires_grad:
            captured.append((module, output))

    with forward_hooks(weight_layers(net), keep):
        loss = _loss(net, x, y)
    # Gradients of the layer outputs only: no weight gradient is computed (2 F instead of 3 F of a full backward).
    grads = torch.autograd.grad(loss, [a for _, a in captured], allow_unused=True) if captured else []
    total = 0.0
    for (module, a), grad in zip(captured, grads):
        if grad is None:
            continue
        prod = (a.detach() * grad).double()
        per_sample = prod.sum(dim=(2, 3)) if prod.ndim == 4 else prod          # [B, Cout]
        f_k = 0.5 * per_sample.pow(2).mean(dim=0)
        fan = module.weight[0].numel()                                         # Cin·kh·kw (groups-aware)
        total += float(f_k.sum()) * fan
    return total
