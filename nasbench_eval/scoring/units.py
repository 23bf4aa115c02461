"""Work units of `score_space`: what one worker scores, and the function that scores it.

A unit is one proxy and a few architectures, plus the small, picklable `ScoreJob` that says how to score
them. The worker rebuilds the seeded image batch from the job's plan (cheaper than pickling the tensor,
and identical: `proxy_batch` is deterministic by seed) and caches it per process. A unit runs either
through the batched engine as one group (`grouped`) or through `score_arch` one architecture at a time.
"""
from __future__ import annotations

import functools
import json
import math
import time
from dataclasses import dataclass

import torch

from ..data import get_spec, proxy_batch
from ..device import resolve_device
from ..proxies import score_arch
from ..proxies.base import ScoreRecord


@dataclass(frozen=True)
class ScoreJob:
    """The settings every unit of one `score_space` call shares.

    `options` maps proxy -> its extra settings; `plans` maps proxy -> its batch plan (None: data-free,
    see `score_space._batch_plan`); `device` is a torch device string.
    """

    dataset: str
    seed: int
    device: str
    profile: str | None
    data_dir: str | None
    options: dict
    plans: dict


@dataclass(frozen=True)
class ScoreUnit:
    """`archs` (official strings) scored with `proxy`; `grouped`: one batched-engine group, else one by one."""

    job: ScoreJob
    proxy: str
    archs: tuple
    grouped: bool


def plan_units(job: ScoreJob, todo, grouped_pairs, *, group_size) -> list[ScoreUnit]:
    """Units for the (arch, proxy) pairs `todo`: engine groups of `group_size(proxy, n)` for `grouped_pairs`,
    one architecture per unit for the rest. The split depends only on the pairs and the group size."""
    units, by_proxy = [], {}
    for arch, proxy in todo:
        if (arch, proxy) in grouped_pairs:
            by_proxy.setdefault(proxy, []).append(arch)
        else:
            units.append(ScoreUnit(job, proxy, (arch,), False))
    grouped = []
    for proxy, archs in by_proxy.items():
        size = group_size(proxy, len(archs))
        grouped += [ScoreUnit(job, proxy, tuple(archs[i:i + size]), True) for i in range(0, len(archs), size)]
    return grouped + units


def unit_batch(job: ScoreJob, proxy: str) -> tuple:
    """The seeded (images, labels) batch `proxy` reads, built once per process and plan."""
    plan = job.plans[proxy]
    return _batch(job.dataset, json.dumps(plan, sort_keys=True), job.data_dir, job.device)


@functools.lru_cache(maxsize=8)
def _batch(dataset: str, plan_json: str, data_dir: str | None, device: str) -> tuple:
    plan = json.loads(plan_json)
    if plan is None:  # data-free proxies read only x.shape
        res = get_spec(dataset).resolution
        return torch.zeros(1, 3, res, res), None
    return proxy_batch(dataset, plan["rows"], seed=plan["seed"], data_dir=data_dir, augment=plan["augment"],
                       device=resolve_device(device), pool=plan["pool"])


def run_score_unit(unit: ScoreUnit) -> list[tuple[str, ScoreRecord, float]]:
    """Score `unit`: one ``(arch, record, seconds)`` per architecture, in unit order (seconds: wall time,
    a group's shared evenly)."""
    job, proxy = unit.job, unit.proxy
    batch, dev = unit_batch(job, proxy), resolve_device(job.device)
    kwargs = dict(dataset=job.dataset, seed=job.seed, device=dev, profile=job.profile, **job.options[proxy])
    if unit.grouped:
        from ..engine import iter_score_groups

        groups = iter_score_groups(unit.archs, proxy, batch, group_size=len(unit.archs), caller="score_space",
                                   **kwargs)
        return [(arch, rec, seconds / len(group)) for group, recs, seconds in groups for arch, rec in zip(group, recs)]
    out = []
    for arch in unit.archs:
        start = time.perf_counter()
        rec = score_arch(arch, proxy, batch, **kwargs)
        out.append((arch, rec, time.perf_counter() - start))
    return out


def default_group_size(proxy: str, n: int, *, job: ScoreJob, workers: int) -> int:
    """The engine's first group size for `proxy` (`engine.sizing.auto_group_size`); on CUDA at most
    ceil(n / workers), so every GPU gets work (CPU groups are fixed, keeping the split worker-independent)."""
    from ..engine.sizing import auto_group_size
    from ..proxies.scoring import resolve_settings

    dev = resolve_device(job.device)
    settings = resolve_settings(proxy, job.profile, caller="score_space", **job.options[proxy])
    size = auto_group_size(proxy, settings, dev, resolution=get_spec(job.dataset).resolution)
    return min(size, math.ceil(n / workers)) if dev.type == "cuda" else size
