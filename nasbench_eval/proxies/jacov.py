"""Jacobian covariance (NASWOT v1; zero-cost-nas `jacob_cov`, NASLib `jacov`), spec/proxies.md §3.5."""
from __future__ import annotations

import torch
from torch import nn

from .base import Scored, logits_of, register_proxy

EPS = 1e-5


def input_jacobian(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """G [B, C·H·W]: row i = ∂(Σ_{j,c} f_c(x_j))/∂x_i, from one train-mode forward (BN couples rows)."""
    x = x.detach().clone().requires_grad_(True)
    out = logits_of(net(x)).sum()
    (g,) = torch.autograd.grad(out, x, allow_unused=True)
    return torch.zeros_like(x).flatten(1) if g is None else g.flatten(1)


def jacob_cov_from_jacobian(g: torch.Tensor) -> Scored:
    """−Σ_k [ln(λ_k + 1e-5) + 1/(λ_k + 1e-5)] over the eigenvalues λ of the row correlation matrix.

    The correlation matrix is computed in float64 and diagonalized with `eigvalsh`. A row with
    zero variance (e.g. all-zero gradients of a dead cell) makes it undefined → NaN, ``nan``.
    """
    g = g.double()
    centred = g - g.mean(dim=1, keepdim=True)
    norms = centred.norm(dim=1)
    if not torch.isfinite(g).all():
        return Scored(float("nan"), "nan", "the input gradients are not finite")
    if (norms == 0).any():
        return Scored(float("nan"), "nan", f"{int((norms == 0).sum())} input-gradient rows have zero variance")
    corr = (centred / norms[:, None]) @ (centred / norms[:, None]).T
    lam = torch.linalg.eigvalsh(corr) + EPS
    if (lam <= 0).any():
        return Scored(float("nan"), "nan", "an eigenvalue of the correlation matrix is below -1e-5")
    return Scored(float(-(torch.log(lam) + 1.0 / lam).sum()))


@register_proxy("jacob_cov", aliases=("jacov",), higher_is_better=True, tags={"label-free", "data", "logits-only"},
                batch_size=64, dtype="float32 forward, float64 correlation and eigvalsh")
def jacob_cov(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None) -> Scored:
    """Jacobian covariance score: −Σ_k [ln(λ_k + ε) + 1/(λ_k + ε)], ε = 1e-5.

    λ = eigenvalues of the B × B correlation matrix (`corrcoef`) of the per-sample input
    gradients g_i = ∂(Σ_{j,c} f_c(x_j))/∂x_i. Higher is better; dimensionless; maximal (= −B·
    (ln(1+ε) + 1/(1+ε)) ≈ −B) when the gradients are uncorrelated.

    Per arch on the same weights and batch it equals zero-cost-nas `jacob_cov` and NASLib `jacov` (they
    diagonalize with the general `np.linalg.eig`; the correlation matrix is symmetric, so `eigvalsh` gives
    the same spectrum). The score depends on the batch: a fresh batch per arch (both references) rather
    than one shared batch (our default) moves ranks slightly (README).

    Parameters
    ----------
    x : Tensor of shape (B, 3, H, W)
        Spec default B = 64 training images; labels are not used.
    """
    return jacob_cov_from_jacobian(input_jacobian(net, x))
