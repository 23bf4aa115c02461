"""Score many architectures with many proxies, resumably, through the SQLite score store.

One fixed, seeded batch of real images per (proxy settings) is shared by every architecture
(spec/proxies.md §2.1, common random numbers), drawn from the package's CIFAR-10 probe set by
default (`nasbench_eval.data.proxy_batch`; ``pool="full"`` draws from the user's full split). Each
finished score is committed to the store at once, so Ctrl-C loses nothing and a rerun skips what is done.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd
from tqdm import tqdm

from .._validation import check_int
from ..data import default_pool
from ..device import resolve_device
from ..exceptions import InvalidParameterError
from ..executors.base import Executor
from ..executors.local import LocalExecutor
from ..proxies import get_proxy
from ..proxies.scoring import resolve_settings, rows_needed, settings_key
from .store import ScoreStore, StoredScore, score_key
from .units import ScoreJob, default_group_size, plan_units, run_score_unit, unit_batch

AUGMENTED = frozenset({"ntk_cond", "jacob_cov", "snip", "grasp", "grad_norm", "fisher", "plain"})
"""Proxies whose reference protocol draws crop+flip-augmented images (spec/proxies.md §4); NASWOT does not."""


def resolve_proxies(names: Sequence[str] | str, *, caller: str = "score_space") -> list[str]:
    """Canonical proxy keys for names or aliases (comma-separated string or sequence), deduplicated in order."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names:
        raise InvalidParameterError(f"{caller}(): no proxy given; expected one or more names, e.g. 'naswot,synflow'.")
    keys: list[str] = []
    for name in names:
        entry = get_proxy(name)
        if "population" in entry.tags:
            raise InvalidParameterError(
                f"{caller}(): proxy {name!r} ranks a whole population and has no per-architecture score; "
                f"score its inputs {list(entry.defaults.get('inputs', ()))} instead."
            )
        if entry.name not in keys:
            keys.append(entry.name)
    return keys


def _batch_plan(proxy: str, *, dataset: str, seed: int, profile: str | None, options: dict, pool: str) -> dict | None:
    """What batch `proxy` needs: None for data-free proxies, else pool / rows / augmentation / seed."""
    entry = get_proxy(proxy)
    if "data-free" in entry.tags:
        return None
    settings = resolve_settings(proxy, profile, **options)
    return {
        "dataset": dataset, "split": "train", "pool": pool, "rows": rows_needed(proxy, profile, **options),
        "augment": proxy in AUGMENTED, "seed": seed, "labels": entry.needs_labels,
        "normalization": settings.get("data", "nb201"),
    }


def score_space(
    archs: Sequence[str],
    proxies: Sequence[str] | str,
    *,
    space: str = "tss",
    dataset: str = "cifar10",
    seed: int = 0,
    device=None,
    profile: str | None = None,
    options: dict | None = None,
    data_dir: str | os.PathLike | None = None,
    store: ScoreStore | None = None,
    progress: bool = True,
    batched: bool = True,
    pool: str | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Score every architecture in `archs` with every proxy.

    Parameters
    ----------
    archs : sequence of str
        Official architecture strings (tss ``|op~0|+...`` or sss ``"8:16:24:32:64"``).
    proxies : str or sequence of str
        Proxy keys or aliases (``"naswot,synflow"`` works).
    space, dataset, seed, device, profile
        As in `nasbench_eval.proxies.score_arch`; `seed` fixes both the weights and the batch.
    options : dict, optional
        Extra settings passed to every proxy that accepts them (e.g. ``{"batch_size": 64}``).
    store : ScoreStore, optional
        Where finished scores are kept; without one nothing is persisted.
    progress : bool
        Show a progress bar with ETA on stderr.
    batched : bool, default=True
        Score the proxies the batched engine supports (`nasbench_eval.engine.ENGINE_PROXIES`, tss
        genotypes; where `engine.prefers_grouped`) a group of architectures at a time; same records up to
        floating-point association (spec §6.5). Each group's scores are committed when the group finishes.
    pool : {"probe", "full"}, optional
        Where the image batches come from (see `nasbench_eval.data.proxy_batch`); default: the
        probe set for CIFAR-10, the full training split for the other datasets.
    executor : nasbench_eval.executors.Executor, optional
        Runs the work units (`scoring.units`: one engine group, or one architecture); default: this
        process, one by one (``LocalExecutor(workers=1)``). Results stream back and only this process
        writes `store`. For one `seed`, scores are bit-identical for every executor and worker count at
        the same torch thread count.

    Returns
    -------
    pandas.DataFrame
        One row per architecture, in input order: ``arch``, ``dead_cell``, then per proxy the value
        (NaN/±inf kept), ``<proxy>_status`` and ``<proxy>_seconds``.
    """
    keys = resolve_proxies(proxies)
    seed = check_int("seed", seed, caller="score_space", minimum=0)
    dev = resolve_device(device)
    options = {k: v for k, v in (options or {}).items() if v is not None}
    pool = default_pool(dataset) if pool is None else pool
    per_proxy = {p: {k: v for k, v in options.items() if k in get_proxy(p).defaults} for p in keys}
    contexts = {
        p: {"settings": settings_key(p, profile, **per_proxy[p]), "seed": seed, "device": dev.type,
            "batch": _batch_plan(p, dataset=dataset, seed=seed, profile=profile, options=per_proxy[p], pool=pool)}
        for p in keys
    }
    done = _lookup(store, archs, keys, space, dataset, contexts)
    todo = [
        (a, p)
        for p in keys
        for a in archs
        if score_key(space=space, arch=a, dataset=dataset, proxy=p, context=contexts[p]) not in done
    ]
    job = ScoreJob(dataset, seed, str(dev), profile, None if data_dir is None else str(data_dir), per_proxy,
                   {p: contexts[p]["batch"] for p in keys})
    for proxy in dict.fromkeys(p for _, p in todo):  # missing or damaged images fail now, before any scoring
        unit_batch(job, proxy)
    grouped = _engine_pairs(todo, dev) if batched and space == "tss" else set()
    bar = tqdm(total=len(archs) * len(keys), initial=len(archs) * len(keys) - len(todo), disable=not progress,
               desc="scoring", unit="score", mininterval=1.0, dynamic_ncols=True)

    def keep(arch, proxy, rec, seconds):
        stored = StoredScore(arch, proxy, float(rec.value), rec.status, rec.reason or None, tuple(rec.repeats),
                             bool(rec.dead_cell), seconds)
        key = score_key(space=space, arch=arch, dataset=dataset, proxy=proxy, context=contexts[proxy])
        done[key] = stored
        if store is not None:
            store.put(key, space=space, arch=arch, dataset=dataset, proxy=proxy, context=contexts[proxy], score=stored)
        bar.update(1)

    runner = executor if executor is not None else LocalExecutor(workers=1)
    units = plan_units(job, todo, grouped, group_size=partial(default_group_size, job=job, workers=runner.workers))
    try:
        for i, results in runner.run(run_score_unit, units):  # only this process writes the store
            for arch, rec, seconds in results:
                keep(arch, units[i].proxy, rec, seconds)
    finally:
        bar.close()
    return _frame(archs, keys, space, dataset, contexts, done)


def _lookup(store, archs, keys, space, dataset, contexts) -> dict[str, StoredScore]:
    if store is None:
        return {}
    wanted = [
        score_key(space=space, arch=a, dataset=dataset, proxy=p, context=contexts[p]) for p in keys for a in archs
    ]
    return store.get_many(wanted)


def _frame(archs, keys, space, dataset, contexts, done) -> pd.DataFrame:
    frame = pd.DataFrame({"arch": list(archs)})
    dead = np.zeros(len(archs), dtype=bool)
    for p in keys:
        rows = [done[score_key(space=space, arch=a, dataset=dataset, proxy=p, context=contexts[p])] for a in archs]
        frame[p] = [r.value for r in rows]
        frame[f"{p}_status"] = [r.status for r in rows]
        frame[f"{p}_seconds"] = [math.nan if r.seconds is None else r.seconds for r in rows]
        dead |= np.array([bool(r.dead_cell) for r in rows])
    frame.insert(1, "dead_cell", dead)
    return frame


# ---- which pairs go to the batched engine (nasbench_eval.engine) ---------------------------------
def _engine_pairs(todo, device) -> set:
    """The (arch, proxy) pairs of `todo` the batched engine scores on `device` (`engine.prefers_grouped`)."""
    from ..engine import prefers_grouped, supports

    return {(a, p) for a, p in todo if supports(p, a) and prefers_grouped(p, device.type)}
