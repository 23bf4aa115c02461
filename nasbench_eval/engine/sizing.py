"""Group sizes for every batched path: from free GPU memory, halved on out-of-memory; fixed on CPU.

`fit_group_size` is the one sizer: the batched proxy engine (`auto_group_size`, per-arch bytes from
`bytes_per_arch`) and Stage-1 supernet evaluation (`nasbench_eval.train.batched_eval`) each give it
their own per-arch estimate and CPU size. The per-arch memory figures are estimates of activation +
gradient storage for the spec's default settings (spec §6.3 memory guide: a six-conv NB201 arch's
NTK rows ≈ 190 MB at B=32); they only seed the first group size, and `iter_groups` halves the size
whenever CUDA runs out of memory.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch

CPU_GROUP_SIZE = 8
"""Group size on the CPU: large enough to amortize Python overhead, small enough for 2 cores."""
MAX_GROUP_SIZE = 512
MEMORY_FRACTION = 0.5
"""Share of the currently free GPU memory the first group may plan to use."""


def bytes_per_arch(name: str, settings: dict, resolution: int) -> int:
    """Rough peak bytes one arch adds to a group for proxy `name` under `settings`.

    Parameters
    ----------
    name : str
        Canonical proxy key (``nwot``, ``synflow``, ``synflow_log``, ``ntk_cond``, ``lr_count``).
    settings : dict
        Resolved settings (`nasbench_eval.proxies.resolve_settings`).
    resolution : int
        Input height = width (32 or 16).

    Returns
    -------
    int
        Bytes; the unit is one stage-1 activation map of one sample, C·H·W float32 values, times
        the stored tensors per cell (≈25 with a graph, ≈12 without) and the 1.75 stage factor.
    """
    c, n = settings.get("C") or (1 if settings["network"] == "thin" else 16), settings.get("N") or 5
    if settings["network"] == "narrow":
        c, n = settings.get("C") or 3, settings.get("N") or 1
    unit = c * resolution * resolution * 4
    b = settings["batch_size"] * settings.get("n_batches", 1)
    params = 1_600_000 * (c / 16) ** 2 * (n / 5)
    if name == "nwot":
        return int(16 * b * unit * 1.75)
    if name in ("synflow", "synflow_log"):
        return int(2 * (25 * n * 1.75 * unit) + 3 * 8 * params)
    if name == "ntk_cond":
        return int(25 * n * 1.75 * b * unit + 2 * b * 4 * params)
    return int(settings["batch_size"] * 9 * 4 * 40)   # lr_count: thin 1×3×3 nets


def fit_group_size(bytes_per_item: int, device, *, cpu_size: int, max_group: int) -> int:
    """The first group size: `cpu_size` on the CPU; on CUDA, how many items of `bytes_per_item` fit
    `MEMORY_FRACTION` of the currently free memory.

    Returns
    -------
    int
        In ``[1, max_group]``.
    """
    if torch.device(device).type != "cuda":
        return max(1, min(cpu_size, max_group))
    free, _ = torch.cuda.mem_get_info(device)
    return max(1, min(max_group, int(MEMORY_FRACTION * free // max(1, bytes_per_item))))


def auto_group_size(name: str, settings: dict, device: torch.device, *, resolution: int = 32,
                    max_group: int = MAX_GROUP_SIZE) -> int:
    """The engine's first group size for proxy `name`: `fit_group_size` of `bytes_per_arch`, `CPU_GROUP_SIZE` on CPU."""
    per_arch = bytes_per_arch(name, settings, resolution)
    return fit_group_size(per_arch, device, cpu_size=CPU_GROUP_SIZE, max_group=max_group)


def iter_groups(items: Sequence, fn: Callable[[Sequence], list], group_size: int) -> Iterator[tuple[Sequence, list]]:
    """Apply `fn` to consecutive groups of `items`, halving the group size on CUDA out-of-memory.

    Parameters
    ----------
    items : sequence
    fn : callable
        ``fn(group) -> list`` (one result per item).
    group_size : int
        The first size tried (≥ 1).

    Yields
    ------
    (group, results)
        Every item exactly once, in order. A group of 1 that still runs out of memory re-raises.
    """
    start, size = 0, max(1, int(group_size))
    while start < len(items):
        group = items[start:start + size]
        try:
            results = fn(group)
        except torch.cuda.OutOfMemoryError:
            if size == 1:
                raise
            size = max(1, size // 2)
            torch.cuda.empty_cache()
            continue
        yield group, results
        start += len(group)
