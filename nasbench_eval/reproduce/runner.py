"""Run a reproduction table: score architectures (resumably), search, and set our numbers beside the papers'.

Proxy scores come from `score_space` with a `ScoreStore`, so the expensive part is cached and an
interrupted run resumes. Random search scores only the architectures its seeds draw (the union over
seeds, in one pass) and then searches a `table_objective` over them; REA scores lazily, as it visits
architectures. Scores use one fixed scoring seed (0) for every search seed, so a score is a property
of the architecture and repeated visits are free.

A row whose proxy needs images that are missing (CIFAR-100 / ImageNet16-120 are not in the offline
mirror) is reported as skipped, with where the images were looked for; the other rows still run.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int
from ..exceptions import DataNotFoundError
from ..metrics import format_mean_std, kendall_tau
from ..proxies import get_proxy
from ..proxies.rank_combination import tenas_rank
from ..scoring.score_space import score_space
from ..search import random_search, regularized_evolution, table_objective
from ..registry import Registry
from .base import QUICK_WARNING, stat
from .published import RowSpec, TableSpec

QUICK_SEEDS = 2
"""Seeds per row in a ``--quick`` run."""
QUICK_PROXY_OPTIONS = {
    "nwot": {"batch_size": 16},
    "jacob_cov": {"batch_size": 16},
    "ntk_cond": {"batch_size": 8, "repeats": 1, "network": "narrow"},
    "lr_count": {"batch_size": 100, "repeats": 1},
}
"""Cheaper proxy settings for ``--quick`` (smaller batches, one repeat): not the papers' settings."""
QUICK_PRUNE = {"ntk_options": {"batch_size": 8, "repeats": 1}, "lr_options": {"batch_size": 100, "repeats": 1}}
"""Cheaper TE-NAS pruning settings for ``--quick``."""
SCORE_SEED = 0
"""Seed of the weights and image batch behind every proxy score used by the searches."""
DECIMALS = {"accuracy": 2, "score": 2, "elapsed_s": 3, "kendall_tau": 3}


@dataclass
class RunContext:
    """Everything rows of one table share: the benchmark, the store, options, and scores computed so far."""

    bench: object
    store: object = None
    device: object = None
    data_dir: object = None
    quick: bool = False
    seeds: int | None = None
    progress: bool = False
    executor: object = None
    scores: dict = field(default_factory=dict)

    def n_seeds(self, row: RowSpec) -> int:
        """Seeds for `row`: --seeds if given, else 2 in quick runs, else the row's default."""
        if self.seeds is not None:
            return self.seeds
        return min(QUICK_SEEDS, row.seeds) if self.quick else row.seeds

    def params(self, row: RowSpec) -> dict:
        """The row's searcher settings (quick ones in a quick run)."""
        return dict(row.quick_params if self.quick else row.params)

    def scores_for(self, proxy: str, dataset: str, seed: int = SCORE_SEED) -> LazyScores:
        """The (cached) lazily filled score column of `proxy` on `dataset` images."""
        key = (proxy, dataset, seed)
        if key not in self.scores:
            self.scores[key] = LazyScores(self, proxy, dataset, seed)
        return self.scores[key]


class LazyScores:
    """A proxy's raw scores over the whole space, computed (or read from the store) on first use.

    Calling it is an objective: oriented scores (higher is better) of the requested indices.
    """

    def __init__(self, ctx: RunContext, proxy: str, dataset: str, seed: int):
        self.ctx, self.proxy, self.dataset, self.seed = ctx, proxy, dataset, seed
        self.entry = get_proxy(proxy)
        self.values = np.full(len(ctx.bench), np.nan)
        self.done = np.zeros(len(ctx.bench), dtype=bool)
        self.name = f"{proxy}@{dataset}"

    def ensure(self, indices) -> np.ndarray:
        """Raw scores of `indices`, scoring those not seen yet in one `score_space` pass."""
        idx = np.asarray(indices, dtype=np.int64)
        todo = np.unique(idx[~self.done[idx]])
        if todo.size:
            options = QUICK_PROXY_OPTIONS.get(self.proxy) if self.ctx.quick else None
            frame = score_space([self.ctx.bench.arch_str(int(i)) for i in todo], self.proxy, dataset=self.dataset,
                                seed=self.seed, device=self.ctx.device, options=options, data_dir=self.ctx.data_dir,
                                store=self.ctx.store, progress=self.ctx.progress,
                                executor=self.ctx.executor)
            self.values[todo] = frame[self.proxy].to_numpy(dtype=np.float64)
            self.done[todo] = True
        return self.values[idx]

    def oriented(self) -> np.ndarray:
        """All values in the higher-is-better view (NaN where not scored)."""
        return self.values if self.entry.higher_is_better else -self.values

    def __call__(self, indices) -> np.ndarray:
        raw = self.ensure(indices)
        return raw if self.entry.higher_is_better else -raw


# ---- statistics ----------------------------------------------------------------------------------
def _stat(values, quantity: str) -> dict:
    """`base.stat` with the quantity's decimals."""
    return stat(values, DECIMALS.get(quantity, 2))


def published_dict(row: RowSpec, quantity: str) -> dict | None:
    """The published number of `quantity` as a dict with text, or None if the paper has none."""
    pub = row.published.get(quantity)
    if pub is None:
        return None
    d = DECIMALS.get(quantity, 2)
    if pub.mean is None:
        text = "— (no number)"
    elif pub.std is None:
        text = f"{pub.mean:.{d}f}"
    else:
        text = format_mean_std((pub.mean, pub.std), decimals=d)
    return {"mean": pub.mean, "std": pub.std, "text": text, "source": pub.source}


def _diff(ours: dict | None, pub: dict | None) -> float | None:
    if not ours or not pub or pub["mean"] is None or not math.isfinite(ours["mean"]):
        return None
    return ours["mean"] - pub["mean"]


# ---- row kinds -----------------------------------------------------------------------------------
def _report(row: RowSpec) -> tuple[str, str, int]:
    return (row.dataset, row.metric, row.epochs)


def _picks(results, scores: LazyScores | None) -> list[dict]:
    return [{"seed": r.seed, "index": r.index, "arch": r.arch, "accuracy": r.accuracy,
             "score": float(scores.values[r.index]) if scores is not None else None} for r in results]


def _search_summary(results, scores: LazyScores) -> dict:
    picks = _picks(results, scores)
    return {"ours": {"accuracy": _stat([p["accuracy"] for p in picks], "accuracy"),
                     "score": _stat([p["score"] for p in picks], "score")},
            "picks": picks}


def run_random_search(row: RowSpec, ctx: RunContext) -> dict:
    """Random search guided by `row.proxy`: draw per seed, score the union once, search the table."""
    n, seeds = ctx.params(row)["n_samples"], range(ctx.n_seeds(row))
    zero = lambda idx: np.zeros(len(idx))  # noqa: E731 - records the draws without scoring anything
    draws = [random_search(zero, ctx.bench, n_samples=n, seed=s, report=_report(row)).trajectory.index for s in seeds]
    scores = ctx.scores_for(row.proxy, row.dataset)
    scores.ensure(np.concatenate(draws))
    objective = table_objective(scores.oriented(), name=scores.name)
    results = [random_search(objective, ctx.bench, n_samples=n, seed=s, report=_report(row)) for s in seeds]
    out = _search_summary(results, scores)
    sampled = np.concatenate(draws)
    truth = ctx.bench.accuracies(*_report(row))
    raw = scores.values[sampled]
    out["sampled"] = {"accuracy": _stat(truth[sampled], "accuracy"), "score": _stat(raw[np.isfinite(raw)], "score")}
    out["sampled"]["score"]["n_nonfinite_dropped"] = int((~np.isfinite(raw)).sum())
    return out


def run_evolution(row: RowSpec, ctx: RunContext) -> dict:
    """Regularized evolution guided by `row.proxy`; architectures are scored as REA visits them."""
    scores = ctx.scores_for(row.proxy, row.dataset)
    results = [regularized_evolution(scores, ctx.bench, seed=s, report=_report(row), **ctx.params(row))
               for s in range(ctx.n_seeds(row))]
    out = _search_summary(results, scores)
    out["evaluations"] = int(sum(r.n_evaluations for r in results))
    return out


def run_optimal(row: RowSpec, ctx: RunContext) -> dict:
    """The best ground truth of the space (exact; no seeds)."""
    index, value = ctx.bench.best(*_report(row))
    return {
        "ours": {"accuracy": _stat([value], "accuracy")},
        "picks": [{"seed": None, "index": index, "arch": ctx.bench.arch_str(index), "accuracy": value, "score": None}],
    }


def run_tenas_prune(row: RowSpec, ctx: RunContext) -> dict:
    """TE-NAS pruning search on the row's dataset, one run per seed."""
    from ..search.pruning import tenas_prune

    extra = QUICK_PRUNE if ctx.quick else {}
    results = [tenas_prune(dataset=row.dataset, seed=s, device=ctx.device, data_dir=ctx.data_dir, report=_report(row),
                           bench=ctx.bench, **extra) for s in range(ctx.n_seeds(row))]
    return {"ours": {"accuracy": _stat([r.accuracy for r in results], "accuracy")}, "picks": _picks(results, None)}


def correlation_population(row: RowSpec, ctx: RunContext) -> np.ndarray:
    """All archs, or (quick / ``n_archs`` set) a seeded random subset, sorted."""
    n = ctx.params(row).get("n_archs")
    if n is None:
        return np.arange(len(ctx.bench))
    rng = np.random.default_rng(SCORE_SEED)
    return np.sort(rng.choice(len(ctx.bench), size=n, replace=False))


def _correlated_scores(row: RowSpec, ctx: RunContext, pop: np.ndarray, seed: int) -> np.ndarray:
    if row.proxy == "tenas_rank":
        kappa = ctx.scores_for("ntk_cond", row.dataset, seed).ensure(pop)
        regions = ctx.scores_for("lr_count", row.dataset, seed).ensure(pop)
        return tenas_rank(kappa, regions)
    return ctx.scores_for(row.proxy, row.dataset, seed).ensure(pop)


def run_correlation(row: RowSpec, ctx: RunContext) -> dict:
    """Kendall tau-b of the raw scores vs the ground truth, one value per scoring seed (NaN scores omitted)."""
    pop = correlation_population(row, ctx)
    truth = ctx.bench.accuracies(*_report(row))[pop]
    taus = [kendall_tau(truth, _correlated_scores(row, ctx, pop, s)) for s in range(ctx.n_seeds(row))]
    return {"ours": {"kendall_tau": _stat(taus, "kendall_tau")}, "n_archs": int(len(pop)), "per_seed": taus}


RUNNERS = Registry("row kind", "row kinds")
"""RowSpec.kind -> ``f(row, RunContext) -> {"ours": {quantity: stat}, ...}`` (``published_only`` rows run nothing)."""
for _kind, _run in (("random_search", run_random_search), ("regularized_evolution", run_evolution),
                    ("optimal", run_optimal), ("tenas_prune", run_tenas_prune), ("correlation", run_correlation)):
    RUNNERS.add(_kind, _run)


# ---- rows and tables -----------------------------------------------------------------------------
def _skip_reason(err: DataNotFoundError, dataset: str) -> str:
    looked = re.search(r"looked (?:in|for): (.*?)(?:\. |$)", str(err))
    where = looked.group(1) if looked else str(err)
    return f"no images for {dataset} (looked in {where})"


def _base_row(row: RowSpec, table: TableSpec, ctx: RunContext) -> dict:
    ran = row.kind in RUNNERS and row.kind != "optimal"
    return {
        "key": row.key,
        "method": row.method,
        "kind": row.kind,
        "target": row.target,
        "proxy": row.proxy,
        "params": ctx.params(row) if ran else {},
        "n_seeds": ctx.n_seeds(row) if ran else (1 if row.kind == "optimal" else 0),
        "status": "ok",
        "reason": row.note or None,
        "published": {q: published_dict(row, q) for q in table.quantities},
        "ours": {q: None for q in table.quantities},
        "diff": {q: None for q in table.quantities},
    }


def run_row(row: RowSpec, table: TableSpec, ctx: RunContext) -> dict:
    """One row: run it (or say why not) and compare with the published numbers."""
    out = _base_row(row, table, ctx)
    if row.kind == "published_only":
        out.update(status="not reproduced", n_seeds=0)
        return out
    t0 = time.perf_counter()
    try:
        result = RUNNERS[row.kind](row, ctx)
    except DataNotFoundError as err:
        out.update(status="skipped", reason=_skip_reason(err, row.dataset))
        return out
    out.update({k: v for k, v in result.items() if k != "ours"})
    out["ours"].update(result["ours"])
    out["diff"] = {q: _diff(out["ours"][q], out["published"][q]) for q in table.quantities}
    out["seconds"] = time.perf_counter() - t0
    return out


def run_table(table: TableSpec, ctx: RunContext) -> dict:
    """Every row of `table`; rows share scores (and the store) through `ctx`.

    Returns
    -------
    result : dict
        ``table``, ``title``, ``paper``, ``source``, ``quick``, ``quantities``, ``notes`` and ``rows``
        (one dict per row: ``status`` is "ok", "skipped" or "not reproduced";
        ``published``/``ours``/``diff`` per quantity; searches add ``picks`` per seed, random search
        ``sampled``, correlations ``n_archs`` and ``per_seed``).
    """
    if ctx.seeds is not None:
        ctx.seeds = check_int("--seeds", ctx.seeds, caller="reproduce", minimum=1)
    rows = [run_row(row, table, ctx) for row in table.rows]
    return {
        "table": table.name, "title": table.title, "paper": table.paper, "source": table.source,
        "quick": ctx.quick, "warning": QUICK_WARNING if ctx.quick else None, "quantities": list(table.quantities),
        "notes": list(table.notes), "rows": rows,
    }
