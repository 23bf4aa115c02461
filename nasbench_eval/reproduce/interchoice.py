"""[LZ] Fig. 4: SPOS baseline vs bias weights (D = 1, 2, 3) vs split weights on the three NB201 subspaces.

For every subspace (full, no_none, only_conv) and variant, 3 SPOS supernets (seeds 0-2, [LZ]
Table 5 settings) are trained; `evaluate_runs` predicts the accuracy of the same 1,000 sampled
architectures (all 64 in only_conv) with each, and the improvement curves (spec §3) are averaged
over seeds. Fig. 4 is a plot without numbers; what [LZ] does print for NB201 is Table 1 (training
time and its increase over the baseline, GPU memory), which we set beside our measured times, and
the subspace means of §3.1.1 / Fig. 3, checked against the benchmark.

Every training and every subspace's evaluation is a work unit of the context's executor
(`nasbench_eval.executors.outputs`); this process alone moves finished runs into place and writes the
evaluation files, so a rerun resumes with what is missing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter
from tqdm import tqdm

from ..benchmarks import create_benchmark
from ..executors.local import LocalExecutor
from ..executors.outputs import JsonUnit, run_all
from ..metrics import aggregate_improvement, benchmark_codes, improvement_curve, self_consistency
from ..nets.supernet import SUBSPACES
from ..train import evaluate_runs, train_stage1
from ..train.methods import SPOS_DEFAULTS
from .base import Reproduction, ReproductionContext, head_lines, header, md_table, reduction_note, stat, tail_lines
from .grid import RunUnit, cached_benchmark, cached_halves, check_settings, run_summary
from .published import Published

LZ = "Laube & Zell, Inter-choice dependent super-network weights"
# "the three super-networks in every experiment are always trained with seeds {0, 1, 2}" (App. B)
PAPER_SEEDS = (0, 1, 2)
PAPER_EPOCHS = SPOS_DEFAULTS["epochs"]   # 250 (Table 5)
SPACES = ("full", "no_none", "only_conv")
SPACE_LABELS = MappingProxyType({"full": "full", "no_none": "no Zero", "only_conv": "only Conv"})
VARIANTS = MappingProxyType({       # key -> ([LZ] Table 1 row, SPOS options; split epochs of 250)
    "baseline": ("baseline", {}),
    "bias_D1": ("bias D=1", {"bias_depth": 1}),
    "bias_D2": ("bias D=2", {"bias_depth": 2}),
    "bias_D3": ("bias D=3", {"bias_depth": 3}),
    "split_125": ("split at 125", {"split_epoch": 125}),
    "split_175": ("split at 175", {"split_epoch": 175}),
    "split_200": ("split at 200", {"split_epoch": 200}),
})
QUICK_VARIANTS = ("baseline", "bias_D1", "split_125")
FULL_EVAL = {"sample": 1000, "bn_batches": 20, "batch_size": 256, "n_eval": 5000}
QUICK_EVAL = {"sample": 12, "bn_batches": 1, "batch_size": 16, "n_eval": 16}
QUICK_DATA = {"n_train": 64, "n_valid": 32}
QUICK_HPARAMS = {"epochs": 2, "batch_size": 32, "cells_per_stage": 1, "C": 4}
K_MIN = 10                         # curves shown down to 10 remaining architectures (§3.4, App. E)

# [LZ] Table 1 (NAS-Bench 201 columns): row -> per space (seconds, increase over baseline in %, GPU memory in %)
_TABLE1 = {
    "baseline": ((1549, None, 15.8), (1881, None, 16.0), (2490, None, 16.6)),
    "bias_D1": ((1923, 24, 17.4), (2228, 18, 17.4), (2941, 18, 17.7)),
    "bias_D2": ((1930, 25, 17.4), (2361, 26, 17.4), (3156, 27, 17.7)),
    "bias_D3": ((2047, 32, 17.7), (2593, 38, 17.5), (3346, 34, 17.8)),
    "split_125": ((1878, 21, 15.9), (2073, 10, 16.0), (2550, 3, 16.7)),
    "split_175": ((1750, 13, 15.9), (2024, 8, 16.0), (2513, 1, 16.7)),
    "split_200": ((1764, 14, 15.9), (1989, 6, 16.1), (2520, 1, 16.7)),
}


def _published(variant: str, space: str) -> dict[str, Published | None]:
    secs, pct, mem = _TABLE1[variant][SPACES.index(space)]
    where = f"[LZ] Table 1, row {VARIANTS[variant][0]!r}, column {SPACE_LABELS[space]!r}"
    return {"train_seconds": Published(secs, None, f"{where} / time (s, one 1080 Ti, mean of 3 runs)"),
            "overhead_pct": None if pct is None else Published(pct, None, f"{where} / increase over the baseline"),
            "gpu_memory_pct": Published(mem, None, f"{where} / GPU memory (% of 11 GB)")}


CHECKS = (  # (name, space, published, source, note)
    ("mean test accuracy of the only-conv space", "only_conv", 93.2,
     "[LZ] §3.4 text on Fig. 3 ('our average model accuracy corresponds to the leftmost value ... 93.2%')", ""),
    ("mean test accuracy of the only-conv space", "only_conv", 92.2, "[LZ] §3.1.1 ('92.2% to 87.9%')",
     "does not match the benchmark (spec §11.4): unreliable"),
    ("mean test accuracy of the full space", "full", 87.9, "[LZ] §3.1.1 ('92.2% to 87.9%')",
     "does not match the benchmark (spec §11.4): unreliable"),
)
NOTES = (
    "Curves: mean benchmark test accuracy (CIFAR-10, 200 epochs) of the architectures the supernets rank best, as the "
    "predicted-worst are discarded one by one (spec §3), mean ± std (ddof=0) over the seeds' supernets, shown down to "
    "10 kept; each space uses one seeded sample of 1,000 architectures (all 64 in only_conv) shared by every variant.",
    "Predictions: BatchNorm statistics adapted with 20 train-half batches per architecture, not reset ([LZ] App. B), "
    "then top-1 on 5,000 valid-half images.",
    "Training: SPOS with [LZ] Table 5 (SGD 0.025 cosine to 1e-5, momentum 0.9, weight decay 3e-4 not on BatchNorm, "
    "batch 256, 250 epochs, pixel shift 4 + flips, 2 cells per stage, C=16). Difference: [LZ] trains on 45,000 "
    "CIFAR-10 images and withholds 5,000; we use NB201's 25,000 / 25,000 halves (nasbench_eval.train.data), so 250 "
    "epochs are about 55% of [LZ]'s optimisation steps.",
    "Split variants split at 125 / 175 / 200 of 250 epochs; with --epochs E the split epochs scale to round(s * E / "
    "250), kept inside 1..E-1.",
    "Published numbers: Fig. 4 has none (plot only). Table 1's training times are from one 1080 Ti; compare the "
    "relative increase over the baseline, not the seconds. Table 2 (self-consistency) is on SubImageNet; our NB201 "
    "self-consistency (mean pairwise Kendall tau of the seeds' predictions) has no published counterpart.",
)


def _split_epoch(split: int, epochs: int) -> int:
    """`split` of 250 epochs moved proportionally into a run of `epochs` epochs (within 1..epochs-1 when possible)."""
    if epochs == PAPER_EPOCHS:
        return split
    return max(min(round(split * epochs / PAPER_EPOCHS), epochs - 1), 0 if epochs == 1 else 1)


def _hparams(variant: str, ctx: ReproductionContext) -> dict:
    base = {**QUICK_HPARAMS} if ctx.quick else {}
    if ctx.epochs is not None:
        base["epochs"] = ctx.epochs
    opts = dict(VARIANTS[variant][1])
    if "split_epoch" in opts:
        opts["split_epoch"] = _split_epoch(opts["split_epoch"], base.get("epochs", PAPER_EPOCHS))
    return {**base, **opts}


@dataclass(frozen=True)
class _Job:
    """What every unit shares: device, data folder, and whether the data and evaluation are the quick ones."""

    device: str | None
    data_dir: str | None
    quick: bool

    def data(self) -> tuple:
        sizes = QUICK_DATA if self.quick else {"n_train": None, "n_valid": None}
        return cached_halves("cifar10", sizes["n_train"], sizes["n_valid"], self.device, self.data_dir)


@dataclass(frozen=True)
class _TrainUnit(RunUnit):
    """One SPOS supernet of `space` with `hparams` (a variant's) and `seed`, saved into ``<target>.partial``."""

    job: _Job
    space: str
    hparams: dict
    seed: int
    target: str

    def train(self):
        return train_stage1("spos", seed=self.seed, space=self.space, device=self.job.device, hparams=self.hparams,
                            data=self.job.data())


@dataclass(frozen=True)
class _EvalUnit(JsonUnit):
    """Predictions of every run of `space` (``runs``: (variant, run folders) pairs) on one shared sample,
    summarised per variant."""

    job: _Job
    space: str
    runs: tuple
    target: str

    def compute(self) -> dict:
        e, job = QUICK_EVAL if self.job.quick else FULL_EVAL, self.job
        flat = [d for _, dirs in self.runs for d in dirs]
        ev = evaluate_runs(flat, sample=e["sample"], seed=0, bn_batches=e["bn_batches"], batch_size=e["batch_size"],
                           n_eval=e["n_eval"], k_min=K_MIN, device=job.device, data_dir=job.data_dir,
                           bench=cached_benchmark(job.data_dir), data=job.data())
        out, i = {}, 0
        for v, dirs in self.runs:
            out[v] = _variant_summary(ev, list(range(i, i + len(dirs))))
            i += len(dirs)
        return {"space": self.space, "n_archs": int(len(ev.indices)), "set_mean": float(ev.y_true.mean()),
                "best": float(ev.y_true.max()), "variants": out}


def _units(ctx: ReproductionContext, variants, seeds) -> tuple[list[_TrainUnit], list[_EvalUnit]]:
    """Every training (per space, variant, seed) and one evaluation per space, in ``ctx.work``."""
    job = _Job(None if ctx.device is None else str(ctx.device), None if ctx.data_dir is None else str(ctx.data_dir),
               ctx.quick)
    dirs = {(s, v): [str(ctx.work / "runs" / s / f"{v}_s{seed}") for seed in seeds] for s in SPACES for v in variants}
    trains = [_TrainUnit(job, s, _hparams(v, ctx), seed, d)
              for (s, v), ds in dirs.items() for seed, d in zip(seeds, ds)]
    tag = "+".join(variants) + "__s" + "-".join(str(s) for s in seeds)
    evals = [_EvalUnit(job, s, tuple((v, tuple(dirs[s, v])) for v in variants),
                       str(ctx.work / "eval" / f"{s}__{tag}.json")) for s in SPACES]
    return trains, evals


def _variant_summary(ev, rows: list[int]) -> dict:
    """Seed-averaged improvement curve, per-run scalars and self-consistency of the runs at `rows` of `ev`."""
    keep = ("seed", "kendall_tau", "spearman_rho", "pearson_r", "mean_acc_at_k_min", "improvement_at_k_min")
    curves = [improvement_curve(ev.y_true, ev.predictions[r], k_min=min(K_MIN, len(ev.y_true))) for r in rows]
    sc = self_consistency([ev.predictions[r] for r in rows]) if len(rows) >= 2 else None
    return {
        "curve": aggregate_improvement(curves)._asdict(),
        "per_run": [{k: ev.runs[r][k] for k in keep} for r in rows],
        "self_consistency": None
        if sc is None
        else {"kendall_tau": sc.kendall_tau, "spearman_rho": sc.spearman_rho, "pearson_r": sc.pearson_r},
    }


def _num(v) -> float:
    return math.nan if v is None else float(v)


def _row(space: str, variant: str, n_archs: int, ev: dict, runs: list[dict], base_secs: float) -> dict:
    secs = stat([r["train_seconds"] for r in runs], 1)
    pub = _published(variant, space)
    ours_pct = 100.0 * (secs["mean"] / base_secs - 1.0) if variant != "baseline" else None
    sc = ev["self_consistency"]
    return {
        "space": space, "variant": variant, "label": VARIANTS[variant][0], "n_runs": len(runs), "n_archs": n_archs,
        "mean_acc_at_k_min": stat([_num(r["mean_acc_at_k_min"]) for r in ev["per_run"]]),
        "improvement_at_k_min": stat([_num(r["improvement_at_k_min"]) for r in ev["per_run"]], 3),
        "kendall_tau": stat([_num(r["kendall_tau"]) for r in ev["per_run"]], 3),
        "self_consistency_kendall_tau": None if sc is None else sc["kendall_tau"],
        "train_seconds": secs, "overhead_pct": ours_pct,
        "published": {k: None if p is None else {"value": p.mean, "source": p.source} for k, p in pub.items()},
    }


def _checks(bench) -> list[dict]:
    codes = benchmark_codes(bench)
    acc = np.asarray(bench.accuracies("cifar10", "test_acc", 200))
    out = []
    for name, space, value, source, note in CHECKS:
        ours = float(acc[np.isin(codes, SUBSPACES[space]).all(axis=1)].mean())
        out.append(
            {
                "check": name,
                "space": space,
                "published": value,
                "ours": ours,
                "diff": ours - value,
                "source": source,
                "note": note,
            }
        )
    return out


def run(ctx: ReproductionContext) -> dict:
    """Train (or reuse) every supernet, evaluate each subspace, plot Fig. 4 and tabulate the numbers."""
    variants = QUICK_VARIANTS if ctx.quick else tuple(VARIANTS)
    seeds = ctx.seed_list(PAPER_SEEDS, quick=2)
    check_settings(ctx.work, {"hparams": {v: _hparams(v, ctx) for v in VARIANTS},
                              "eval": QUICK_EVAL if ctx.quick else FULL_EVAL,
                              "data": QUICK_DATA if ctx.quick else None}, caller="reproduce")
    trains, evals = _units(ctx, variants, seeds)
    runner = ctx.executor if ctx.executor is not None else LocalExecutor(workers=1)
    with tqdm(total=len(trains) + len(evals), disable=not ctx.progress, desc="interchoice", unit="unit",
              dynamic_ncols=True) as bar:
        run_all(runner, trains, advance=bar.update)
        found, _ = run_all(runner, evals, advance=bar.update)
    rows, curves = [], {}
    for space, ev in zip(SPACES, found):
        secs = {v: [run_summary(Path(d)) for d in dirs] for v, dirs in next(u for u in evals if u.space == space).runs}
        base = float(np.mean([r["train_seconds"] for r in secs[variants[0]]]))
        for v in variants:
            curves.setdefault(space, {})[v] = {**ev["variants"][v]["curve"], "set_mean": ev["set_mean"],
                                               "best": ev["best"]}
            rows.append(_row(space, v, ev["n_archs"], ev["variants"][v], secs[v], base))
    figure = plot_curves(curves, ctx.out / "interchoice-curves.png", title=_title(ctx))
    return {**header(REPRODUCTION, ctx, reduction=reduction_note(ctx, {"SPOS supernets": PAPER_EPOCHS}), notes=NOTES),
            "settings": {"variants": list(variants), "seeds": list(seeds), "spaces": list(SPACES), "k_min": K_MIN,
                         "hparams": {v: _hparams(v, ctx) for v in variants},
                         "eval": QUICK_EVAL if ctx.quick else FULL_EVAL,
                         "data": QUICK_DATA if ctx.quick else "NB201 halves (25,000 / 25,000)"},
            "rows": rows, "checks": _checks(create_benchmark("nb201", data_dir=ctx.data_dir)), "curves": curves,
            "figures": {"curves": str(figure)}}


def _title(ctx: ReproductionContext) -> str:
    tag = " (QUICK: not comparable)" if ctx.quick else (f" ({ctx.epochs} epochs, reduced)" if ctx.epochs else "")
    return f"[LZ] Fig. 4 on CIFAR-10: SPOS supernets with inter-choice dependent weights{tag}"


def plot_curves(curves: dict, path, *, title: str | None = None):
    """Fig. 4's layout: rows bias / split variants (baseline in both), columns subspaces; mean ± std accuracy of the
    kept archs."""
    fig = Figure(figsize=(13, 7), layout="constrained")
    axes = fig.subplots(2, len(curves), squeeze=False)
    for col, (space, by_variant) in enumerate(curves.items()):
        for row, family in enumerate(("bias", "split")):
            ax = axes[row][col]
            for v, c in by_variant.items():
                if v != "baseline" and not v.startswith(family):
                    continue
                k, m, s = (np.asarray(c[key], dtype=float) for key in ("k", "mean_acc", "std_acc"))
                line, = ax.plot(k, m, label=VARIANTS[v][0], color="red" if v == "baseline" else None)
                ax.fill_between(k, m - s, m + s, alpha=0.15, color=line.get_color())
            first = next(iter(by_variant.values()))
            lo, hi = first["set_mean"], first["best"]
            if hi > lo:
                ax.secondary_yaxis(
                    "right",
                    functions=(
                        lambda y, lo=lo, hi=hi: (y - lo) / (hi - lo),
                        lambda i, lo=lo, hi=hi: lo + i * (hi - lo),
                    ),
                ).set_ylabel("improvement")
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.invert_xaxis()
            ax.set_title(f"{SPACE_LABELS[space]}: {family} weights")
            ax.set_xlabel("architectures kept (predicted best)")
            ax.set_ylabel("mean test accuracy of kept (%)")
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110)
    return path


def _pub_text(row: dict, key: str, fmt: str) -> str:
    p = row["published"][key]
    return "—" if p is None else format(p["value"], fmt)


def markdown(result: dict) -> str:
    """Per subspace and variant: M(10), I(10), Kendall tau, self-consistency, training time vs [LZ] Table 1; the
    checks."""
    s = result["settings"]
    lines = head_lines(result) + [
        f"Settings: seeds {s['seeds']}; Stage-1 overrides of [LZ] Table 5 per variant {s['hparams']}; "
        f"evaluation {s['eval']}; images {s['data']}.",
        "",
    ]
    rows = []
    for r in result["rows"]:
        sc = r["self_consistency_kendall_tau"]
        ours_pct = "—" if r["overhead_pct"] is None else f"{r['overhead_pct']:+.0f}%"
        pub_pct = "—" if r["published"]["overhead_pct"] is None else f"{r['published']['overhead_pct']['value']:+.0f}%"
        rows.append(
            [
                SPACE_LABELS[r["space"]],
                r["label"],
                str(r["n_runs"]),
                str(r["n_archs"]),
                r["mean_acc_at_k_min"]["text"],
                r["improvement_at_k_min"]["text"],
                r["kendall_tau"]["text"],
                "—" if sc is None else f"{sc:.3f}",
                r["train_seconds"]["text"],
                _pub_text(r, "train_seconds", ".0f"),
                ours_pct,
                pub_pct,
                _pub_text(r, "gpu_memory_pct", ".1f"),
            ]
        )
    lines += md_table(["space", "variant", "runs", "archs", f"M({K_MIN}) ours", f"I({K_MIN}) ours", "Kendall tau ours",
                       "self-consistency tau ours", "train s ours", "train s published", "time increase ours",
                       "time increase published", "GPU mem % published"], rows)
    lines += ["", "Checks against the benchmark:", ""]
    lines += md_table(["check", "published", "benchmark", "Δ", "note"],
                      [[c["check"], f"{c['published']:.1f}", f"{c['ours']:.4f}", f"{c['diff']:+.2f}", c["note"] or "—"]
                       for c in result["checks"]])
    lines += ["", f"Figure: {result['figures']['curves']}"]
    sources = [p["source"] for r in result["rows"] for p in r["published"].values() if p] + [
        c["source"] for c in result["checks"]
    ]
    return "\n".join(lines + tail_lines(result, sources)) + "\n"


def frame(result: dict) -> pd.DataFrame:
    """One line per (subspace, variant): our curve end points, correlation and times beside [LZ] Table 1."""
    out = []
    for r in result["rows"]:
        pub = {k: None if p is None else p["value"] for k, p in r["published"].items()}
        out.append(
            {
                "experiment": result["experiment"],
                "quick": result["quick"],
                "epochs_override": result["epochs_override"],
                "space": r["space"],
                "variant": r["variant"],
                "n_runs": r["n_runs"],
                "n_archs": r["n_archs"],
                "ours_mean_acc_at_k_min": r["mean_acc_at_k_min"]["mean"],
                "ours_mean_acc_at_k_min_std": r["mean_acc_at_k_min"]["std"],
                "ours_improvement_at_k_min": r["improvement_at_k_min"]["mean"],
                "ours_improvement_at_k_min_std": r["improvement_at_k_min"]["std"],
                "ours_kendall_tau": r["kendall_tau"]["mean"],
                "ours_kendall_tau_std": r["kendall_tau"]["std"],
                "ours_self_consistency_kendall_tau": r["self_consistency_kendall_tau"],
                "ours_train_seconds": r["train_seconds"]["mean"],
                "ours_overhead_pct": r["overhead_pct"],
                "published_train_seconds": pub["train_seconds"],
                "published_overhead_pct": pub["overhead_pct"],
                "published_gpu_memory_pct": pub["gpu_memory_pct"],
            }
        )
    return pd.DataFrame(out)


REPRODUCTION = Reproduction("interchoice-curves",
                            "SPOS improvement curves with bias / split weights on three NB201 subspaces",
                            LZ, "Fig. 4, Table 1", run, markdown, frame)
