"""Score a group of architectures in one pass with the same records as `score_arch` (spec §6).

`score_group` follows `nasbench_eval.proxies.score_arch` step by step through the same protocol
objects -- settings resolution, the `RepeatPlan` (each arch's single-arch network is built from the
plan's weight seed on the CPU and copied into a `GroupedNetwork`; same rows, patches and all-ones
inputs), each proxy entry's option check and ``finalize`` status rule, and `score_record` -- but
its kernels compute the raw quantity (kernel, NTK, synflow sum, region count) of the whole group in
one forward (and, for the NTK, one backward per sample). Only the floating-point association of
convolutions and sums differs.

Supported (`ENGINE_PROXIES`): ``nwot``, ``synflow``, ``synflow_log``, ``ntk_cond``, ``lr_count`` on
NB201 topology-space genotypes with any network variant (full, narrow, thin) and any of their
options. Size-space (sss) archs and other proxies are not supported (`supports` says so); score
them with `score_arch`.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import torch

from .._validation import check_int
from ..device import resolve_device, scoring_numerics, seeded
from ..exceptions import InvalidParameterError
from ..data.specs import DATASET_SPECS
from ..proxies.base import ScoreRecord, Scored, finalize, fn_options, get_proxy
from ..proxies.ntk import ntk_weights
from ..proxies.nwot import nwot
from ..proxies.scoring import (RepeatPlan, build_for_proxy, check_image_batch, parse_arch, resolve_settings,
                               score_record)
from ..proxies.synflow import synflow_weights
from ..registry import Registry
from ..space import Arch
from .grouped import GroupedNetwork
from .sizing import auto_group_size, iter_groups


# ---- per-proxy group kernels -------------------------------------------------------------------
def hamming_kernels(gnet: GroupedNetwork, x: torch.Tensor) -> torch.Tensor:
    """Per-arch NASWOT kernels K_a = Σ over arch a's ReLU calls of C Cᵀ + (1−C)(1−C)ᵀ.

    Parameters
    ----------
    gnet : GroupedNetwork
        A archs; run under no_grad, train-mode BN.
    x : Tensor of shape (B, 3, H, W)
        The shared batch.

    Returns
    -------
    K : Tensor of shape (A, B, B), float64
        Entry [a, i, j] = number of arch a's ReLU units on which samples i and j agree; only ReLU
        calls arch a executes contribute (spec §6.1.3).
    """
    b = len(x)
    k = torch.zeros(gnet.num_archs, b, b, dtype=torch.float64, device=x.device)

    def add_codes(pre: torch.Tensor, idx: torch.Tensor) -> None:
        c = (pre > 0).reshape(b, len(idx), -1).transpose(0, 1).float()       # (S, B, D) codes
        d = c.shape[2]
        r = c.sum(dim=2)                                                   # (S, B) ones per sample
        agree = 2.0 * torch.bmm(c, c.transpose(1, 2)) - r[:, :, None] - r[:, None, :] + d   # exact integers in fp32
        k.index_add_(0, idx, agree.double())

    with torch.no_grad():
        gnet(x, add_codes)
    return k


def _nwot_kernel(nets: list, x: torch.Tensor, opts: dict) -> list[tuple[float, float]]:
    if opts.get("sites", "relu") != "relu":      # NASWOT's container rule: one arch at a time (nwot's own hooks)
        return [nwot(net.to(x.device).train(), x, **opts) for net in nets]
    gnet = GroupedNetwork(nets).to(x.device)
    sign, logdet = torch.linalg.slogdet(hamming_kernels(gnet, x))
    return list(zip(sign.tolist(), logdet.tolist()))


def synflow_values(gnet: GroupedNetwork, input_shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """Per-arch synflow Σ|W ⊙ ∂R_a/∂W| over arch a's conv and linear weights (mutates `gnet`: |θ|, dtype).

    Returns
    -------
    values : Tensor of shape (A,), float64
    """
    gnet.to(dtype)
    with torch.no_grad():
        for p in gnet.parameters():
            p.abs_()
    device = gnet.classifier_weight.device
    ones = torch.ones((1, *input_shape), dtype=dtype, device=device)
    r = gnet(ones).sum()           # Σ_a R_a: arch a's weights only reach R_a
    slices = gnet.weight_slices(synflow_weights)
    grads = torch.autograd.grad(r, [w for w, _ in slices], allow_unused=True)
    total = torch.zeros(gnet.num_archs, dtype=torch.float64, device=device)
    for (w, idx), g in zip(slices, grads):
        if g is not None:
            total.index_add_(0, idx, (w.detach() * g).abs().flatten(1).sum(dim=1).double())
    return total


def _synflow_kernel(nets: list, x: torch.Tensor, opts: dict) -> list[float]:
    gnet = GroupedNetwork(nets, bn=opts.get("bn", "remove")).to(x.device)
    return synflow_values(gnet, tuple(x.shape[1:]), getattr(torch, opts.get("dtype", "float64"))).tolist()


def ntk_grams(gnet: GroupedNetwork, x: torch.Tensor, *, n_batches: int = 1) -> torch.Tensor:
    """Per-arch NTK Θ_a = J_a J_aᵀ, rows from one full-chunk forward and one backward per sample.

    One backward of Σ_a Σ_c f^a_c(X)_i fills row i of every arch's J in its own parameter slices
    (TE-NAS's per-sample loop, BN coupling included; spec §6.3).

    Parameters
    ----------
    gnet : GroupedNetwork
    x : Tensor of shape (B, 3, H, W)
        Split into `n_batches` consecutive chunks, one forward each.

    Returns
    -------
    theta : Tensor of shape (A, B, B), float64
    """
    slices = gnet.weight_slices(ntk_weights)
    params = [w for w, _ in slices]
    rows: list[tuple[torch.Tensor, ...]] = []
    for chunk in torch.tensor_split(x, n_batches):
        out = gnet(chunk).sum(dim=2)                                   # (A, b) summed logits
        for i in range(len(chunk)):
            rows.append(torch.autograd.grad(out[:, i].sum(), params, retain_graph=i + 1 < len(chunk),
                                               allow_unused=True, materialize_grads=True))
    theta = torch.zeros(gnet.num_archs, len(rows), len(rows), dtype=torch.float64, device=x.device)
    for t, (w, idx) in enumerate(slices):
        jt = torch.stack([r[t] for r in rows], dim=1).flatten(2).double()   # (S, B, n_t)
        theta.index_add_(0, idx, torch.bmm(jt, jt.transpose(1, 2)))
    return theta


def _ntk_kernel(nets: list, x: torch.Tensor, opts: dict) -> list[torch.Tensor]:
    return list(ntk_grams(GroupedNetwork(nets).to(x.device), x, n_batches=opts.get("n_batches", 1)))


def activation_patterns_grouped(gnet: GroupedNetwork, x: torch.Tensor, *, n_batches: int = 1) -> torch.Tensor:
    """Per-arch ReLU sign patterns; columns of ReLU calls an arch lacks are zero for all its rows.

    Returns
    -------
    bits : bool Tensor of shape (A, n, D)
        D = units over every ReLU call of the group; constant zero columns do not change how many
        distinct rows an arch has.
    """
    a = gnet.num_archs
    rows = []
    for chunk in torch.tensor_split(x, n_batches):
        blocks: list[torch.Tensor] = []

        def record(pre: torch.Tensor, idx: torch.Tensor) -> None:
            if pre.ndim != 4:   # TE-NAS keeps 4-D ReLU inputs only
                return
            bits = (pre > 0).reshape(len(pre), len(idx), -1)
            full = torch.zeros(len(pre), a, bits.shape[2], dtype=torch.bool, device=pre.device)
            blocks.append(full.index_copy_(1, idx, bits))

        with torch.no_grad():
            gnet(chunk, record)
        rows.append(torch.cat(blocks, dim=2))
    return torch.cat(rows, dim=0).transpose(0, 1)


def count_unique_rows_grouped(bits: torch.Tensor) -> torch.Tensor:
    """Number of distinct rows of each arch's bit matrix (exact; one `torch.unique` for the group).

    Parameters
    ----------
    bits : bool Tensor of shape (A, n, D)

    Returns
    -------
    counts : int64 Tensor of shape (A,)
    """
    a, n, d = bits.shape
    words = max(1, -(-d // 62))
    padded = torch.zeros(a, n, words * 62, dtype=torch.int64, device=bits.device)
    padded[:, :, :d] = bits.to(torch.int64)
    weights = 2 ** torch.arange(62, dtype=torch.int64, device=bits.device)
    packed = (padded.view(a, n, words, 62) * weights).sum(dim=3)          # (A, n, words)
    arch_id = torch.arange(a, device=bits.device).view(a, 1, 1).expand(a, n, 1)
    unique = torch.unique(torch.cat([arch_id, packed], dim=2).view(a * n, words + 1), dim=0)
    return torch.bincount(unique[:, 0], minlength=a)


def _lr_kernel(nets: list, x: torch.Tensor, opts: dict) -> list[tuple[int, int]]:
    gnet = GroupedNetwork(nets).to(x.device)
    counts = count_unique_rows_grouped(activation_patterns_grouped(gnet, x, n_batches=opts.get("n_batches", 1)))
    return [(regions, len(x)) for regions in counts.tolist()]


KERNELS = Registry("engine kernel", "engine kernels")
"""Proxy key -> group kernel ``kernel(nets, x, options) -> raws``: per arch, what the proxy function returns for
it alone (the proxy's own `finalize` turns it into a score)."""
for _name, _kernel in (("nwot", _nwot_kernel), ("synflow", _synflow_kernel), ("synflow_log", _synflow_kernel),
                       ("ntk_cond", _ntk_kernel), ("lr_count", _lr_kernel)):
    KERNELS.add(_name, _kernel)
ENGINE_PROXIES = tuple(KERNELS)
"""The proxies the engine scores group-wise (every other proxy is scored one arch at a time)."""


# ---- public API --------------------------------------------------------------------------------
def supports(name: str, arch=None) -> bool:
    """True if the engine scores proxy `name` (key or alias) group-wise for `arch` (tss genotypes only).

    >>> supports("naswot"), supports("snip"), supports("synflow", "8:16:24:32:64")
    (True, False, False)
    """
    if get_proxy(name).name not in ENGINE_PROXIES:
        return False
    if arch is None:
        return True
    try:
        return isinstance(parse_arch(arch, caller="supports"), Arch)
    except InvalidParameterError:
        return False


def _prepare(archs, name, batch, dataset, seed, profile, options, caller):
    """Validate like `score_arch`; return (entry, settings, parsed archs, K, x, y, rows needed)."""
    entry = get_proxy(name)
    if entry.name not in ENGINE_PROXIES:
        raise InvalidParameterError(
            f"{caller}(): name={name!r} is not batched; expected one of {list(ENGINE_PROXIES)} (use score_arch)."
        )
    s = resolve_settings(name, profile, caller=caller, **options)
    if isinstance(archs, (str, Arch)) or len(archs) == 0:
        raise InvalidParameterError(
            f"{caller}(): archs={archs!r} is not a non-empty sequence; expected a list of architectures."
        )
    parsed = [parse_arch(a, caller=caller) for a in archs]
    bad = [str(a) for a in parsed if not isinstance(a, Arch)]
    if bad:
        raise InvalidParameterError(
            f"{caller}(): arch {bad[0]!r} is not a tss genotype; expected '|op~0|+...' strings "
            "(score sss archs with score_arch)."
        )
    num_classes, x, y, need = check_image_batch(
        entry, batch, dataset=dataset, settings=s, profile=profile, options=options, caller=caller
    )
    return entry, s, parsed, num_classes, x, y, need


def score_group(archs: Sequence, name: str, batch, *, dataset: str = "cifar10", seed: int = 0, device=None,
                profile: str | None = None, **options) -> list[ScoreRecord]:
    """Score several tss architectures at once; record a equals ``score_arch(archs[a], name, batch, ...)``.

    Parameters
    ----------
    archs : sequence of Arch or str
        NB201 genotypes (duplicates allowed). All are scored in one group: choose the group size
        with `nasbench_eval.engine.sizing` (or use `score_many`).
    name, batch, dataset, seed, device, profile, **options
        As in `nasbench_eval.proxies.score_arch`; `name` must be in `ENGINE_PROXIES`.

    Returns
    -------
    list of ScoreRecord
        One per arch, in input order, equal in every field to the one-at-a-time record up to
        floating-point association (spec §6.5 tolerances; LR counts and statuses exactly).

    Raises
    ------
    InvalidParameterError
        Everything `score_arch` rejects, an unsupported proxy, or a size-space arch.
    """
    caller = "score_group"
    entry, s, parsed, num_classes, x, y, need = _prepare(archs, name, batch, dataset, seed, profile, options, caller)
    seed = check_int("seed", seed, caller=caller, minimum=0)
    dev = resolve_device(device)
    plan = RepeatPlan(entry, s, seed)
    parts: list[list[Scored]] = [[] for _ in parsed]
    for r in range(s["repeats"]):
        wseed = plan.weight_seed(r)
        nets = [build_for_proxy(a, s, num_classes=num_classes, seed=wseed) for a in parsed]
        xb, _ = plan.inputs(x[:need], None, r)
        opts = entry.check({k: s[k] for k in fn_options(entry) if k in s}, len(xb))
        with scoring_numerics(), seeded(wseed, dev):
            raws = KERNELS[entry.name](nets, xb.to(dev), opts)
        for a, raw in enumerate(raws):
            parts[a].append(finalize(entry, raw, opts))
    return [score_record(entry, s, a, p, seed=seed, dataset=dataset, profile=profile) for a, p in zip(parsed, parts)]


def iter_score_groups(archs: Sequence, name: str, batch, *, dataset: str = "cifar10", seed: int = 0, device=None,
                      profile: str | None = None, group_size: int | None = None, caller: str = "score_many",
                      **options) -> Iterator[tuple[Sequence, list[ScoreRecord], float]]:
    """`score_group` over consecutive groups of `archs`, one finished group at a time (to store or report it).

    Parameters
    ----------
    group_size : int, optional
        Archs in the first group; None picks it from free GPU memory (`sizing.auto_group_size`; CPU:
        `sizing.CPU_GROUP_SIZE`). On CUDA out-of-memory the size is halved and the group redone.
    archs, name, batch, dataset, seed, device, profile, **options
        As in `score_group`.

    Yields
    ------
    (group, records, seconds)
        The next slice of `archs`, its records (input order) and the wall time of its pass.
    """
    dev = resolve_device(device)
    if group_size is None:
        settings = resolve_settings(name, profile, caller=caller, **options)
        resolution = DATASET_SPECS[dataset].resolution if dataset in DATASET_SPECS else 32
        group_size = auto_group_size(get_proxy(name).name, settings, dev, resolution=resolution)
    group_size = check_int("group_size", group_size, caller=caller, minimum=1)

    def run(group):
        start = time.perf_counter()
        recs = score_group(group, name, batch, dataset=dataset, seed=seed, device=dev, profile=profile, **options)
        return recs, time.perf_counter() - start

    for group, (recs, seconds) in iter_groups(list(archs), run, group_size):
        yield group, recs, seconds


def score_many(archs: Sequence, name: str, batch, *, dataset: str = "cifar10", seed: int = 0, device=None,
               profile: str | None = None, group_size: int | None = None, **options) -> list[ScoreRecord]:
    """`score_group` over consecutive groups (`iter_score_groups`: sized by `sizing.auto_group_size`, halved on OOM).

    Parameters
    ----------
    group_size : int, optional
        Archs per group; None picks it from free GPU memory (CPU: `sizing.CPU_GROUP_SIZE`).
    archs, name, batch, dataset, seed, device, profile, **options
        As in `score_group`.

    Returns
    -------
    list of ScoreRecord
        One per arch, in input order; independent of the group size.
    """
    groups = iter_score_groups(archs, name, batch, dataset=dataset, seed=seed, device=device, profile=profile,
                               group_size=group_size, **options)
    return [rec for _, recs, _ in groups for rec in recs]
