"""Number of linear regions hit by a sample (TE-NAS), spec/proxies.md §3.4."""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_int
from ..nets.hooks import forward_hooks
from .base import Scored, register_proxy, relu_modules


def activation_patterns(net: nn.Module, x: torch.Tensor, *, n_batches: int = 1, only_4d: bool = True) -> torch.Tensor:
    """Binary matrix A [n, D]: sign pattern (output > 0) of every unit of every ReLU call, per input.

    Parameters
    ----------
    net : nn.Module
        Run under no_grad in its current mode (train mode: BN statistics per chunk).
    x : Tensor of shape (n, ...)
        Split into `n_batches` consecutive chunks, each one forward (TE-NAS: 3 × 1,000).
    only_4d : bool, default=True
        Keep only ReLU calls whose input is 4-D, as TE-NAS's hooks do.

    Returns
    -------
    A : bool Tensor of shape (n, D)
        D = total number of ReLU units (a tensor feeding k ReLU modules counts k times).
    """
    blocks: list[list[torch.Tensor]] = []
    current: list[torch.Tensor] = []

    def record(module, inputs, output):
        if not only_4d or inputs[0].ndim == 4:
            current.append((output.detach() > 0).flatten(1))

    with forward_hooks(relu_modules(net), record), torch.no_grad():
        for chunk in torch.tensor_split(x, n_batches):
            current = []
            net(chunk)
            blocks.append(current)
    rows = [torch.cat(b, dim=1) if b else torch.zeros(len(c), 0, dtype=torch.bool, device=x.device)
            for b, c in zip(blocks, torch.tensor_split(x, n_batches))]
    return torch.cat(rows, dim=0)


def count_unique_rows(a: torch.Tensor) -> int:
    """Exact number of distinct rows of a bool matrix [n, D] (bits packed into int64 words).

    >>> count_unique_rows(torch.tensor([[1, 0], [1, 0], [0, 1]], dtype=torch.bool))
    2
    """
    n, d = a.shape
    if n == 0:
        return 0
    if d == 0:
        return 1
    words = -(-d // 62)                                   # 62 bits per word keeps values non-negative
    padded = torch.zeros(n, words * 62, dtype=torch.int64, device=a.device)
    padded[:, :d] = a.to(torch.int64)
    weights = (2 ** torch.arange(62, dtype=torch.int64, device=a.device))
    packed = (padded.view(n, words, 62) * weights).sum(dim=2)
    return int(torch.unique(packed, dim=0).shape[0])


def _check_lr(options: dict, rows: int) -> dict:
    """`n_batches` in [1, rows]."""
    out = dict(options)
    if "n_batches" in out:
        out["n_batches"] = check_int("n_batches", out["n_batches"], caller="lr_count", minimum=1, maximum=rows)
    return out


def lr_status(raw: tuple[int, int], **options) -> Scored:
    """The score of ``raw = (regions, inputs)``: ``degenerate`` (value 1) when more than one input share one pattern."""
    regions, inputs = raw
    if regions == 1 and inputs > 1:
        return Scored(1.0, "degenerate", f"all {inputs} inputs share one activation pattern")
    return Scored(float(regions))


@register_proxy("lr_count", aliases=("lr",), higher_is_better=True, tags={"label-free", "data"},
                batch_size=1000, n_batches=3, init="kaiming_normal_fan_in", repeats=3, network="thin",
                inputs="patches", patch_size=3, dtype="float32 forward, exact unique count",
                check=_check_lr, finalize=lr_status)
def lr_count(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None, *, n_batches: int = 1) -> tuple[int, int]:
    """Number of distinct ReLU activation patterns over the inputs = linear regions hit (TE-NAS).

    Definition: for each input, the sign pattern (output > 0) of every unit of every 4-D ReLU
    call; the score is the number of distinct patterns among the n inputs (an integer-valued
    float, 1 ≤ R ≤ n). Higher is better. TE-NAS counts it on a *thin* network (C=1, one cell, no
    stem) fed 1×3×3 single-channel patches, 3 × 1,000 per repeat (`score_arch` builds both);
    on a full network with real images it saturates at n.

    Parameters
    ----------
    net : nn.Module
    x : Tensor of shape (n, C, H, W)
        The inputs; split into `n_batches` consecutive chunks, one train-mode forward each.
    n_batches : int, default=1

    Returns
    -------
    (regions, n) : (int, int)
        Distinct patterns and inputs; the entry's `lr_status` makes it the score, ``degenerate``
        (value 1) when n > 1 inputs all share one pattern: no executed ReLU sees input-dependent
        data (e.g. the all-``none`` genotype, spec §1.4).
    """
    return count_unique_rows(activation_patterns(net, x, n_batches=n_batches)), len(x)


def random_patches(x: torch.Tensor, n: int, *, patch_size: int = 3, generator: torch.Generator) -> torch.Tensor:
    """TE-NAS LR inputs: n random `patch_size`² crops of one random channel of random images of x.

    Parameters
    ----------
    x : Tensor of shape (B, C, H, W)
        Normalized images (CPU or GPU); image, crop position and channel are drawn per patch,
        uniformly, from `generator` (a CPU generator).
    n : int
        Number of patches.

    Returns
    -------
    patches : Tensor of shape (n, 1, patch_size, patch_size), on x's device.
    """
    b, c, h, w = x.shape
    img = torch.randint(0, b, (n,), generator=generator)
    ch = torch.randint(0, c, (n,), generator=generator)
    top = torch.randint(0, h - patch_size + 1, (n,), generator=generator)
    left = torch.randint(0, w - patch_size + 1, (n,), generator=generator)
    rows = torch.arange(patch_size)
    ii = (top[:, None] + rows[None, :])[:, :, None].expand(n, patch_size, patch_size)
    jj = (left[:, None] + rows[None, :])[:, None, :].expand(n, patch_size, patch_size)
    idx = [t.to(x.device) for t in (img[:, None, None].expand_as(ii), ch[:, None, None].expand_as(ii), ii, jj)]
    return x[idx[0], idx[1], idx[2], idx[3]].unsqueeze(1)
