"""The two-stage grid ([PUP] §5, spec §7-§8, §10.2): Stage-1 methods x Stage-2 selectors over seeds.

`run_grid` trains (or reuses) one supernet per (method, seed), runs every applicable selector on
it, and, with ``baselines=True``, trains one ``rsps_biased`` supernet per seed and runs the
selectors on the four baseline supernets R_I / R_U / N_I / N_U built from it (spec §7.1).
`summarize_grid` turns the finished cells into the [PUP]-style table (test error and regret,
mean ± std over seeds), the reliance statistics (§7.3) and the combination-score ranking (§8).

Which selectors apply: ``prune`` needs architecture parameters (methods with alphas; never the
baselines); ``perturb`` needs mixed weights (no bias / split weights).

Layout of the output folder (every file written atomically, so an interrupted grid resumes by
running it again; finished work is skipped)::

    grid.json                                 settings; a rerun with other settings is refused
    runs/<method>_s<seed>/                    Stage-1 run directories (`save_run`)
    stage1/s<seed>__<methods>.json            Stage-1 quality of the seed's runs: Kendall tau, mean sampling mass
    cells/<stage1>__<selector>__s<seed>.json  one selection: arch, test accuracy, regret, trajectory

Work units (`nasbench_eval.executors.outputs`): each training (`TrainUnit`), Stage-1 evaluation
(`Stage1Unit`) and cell (`CellUnit`) runs wherever the executor puts it and reads only saved run
folders; this process alone moves a finished run folder into ``runs/`` and writes the JSON files.

Determinism: everything follows from the seed (`train_stage1`, the selectors, `baseline_run`,
`make_stage2_data`), so two grids with the same settings give the same cells on CPU, whatever
executor and worker count ran them.
"""
from __future__ import annotations

import functools
import json
import math
import os
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .._json import dumps, read_json, write_json
from .._validation import check_int, check_option
from ..data.specs import DATASET_SPECS, get_spec
from ..exceptions import InvalidParameterError
from ..executors.local import LocalExecutor
from ..executors.outputs import FolderUnit, JsonUnit, run_all
from ..metrics import combination_scores, kendall_tau, mean_std, paired_difference
from ..nets.supernet import SUBSPACES
from ..stage2 import BASELINES, SELECTORS, baseline_run, make_stage2_data, run_selector, selection_truth
from ..train.data import load_stage1_data
from ..train.evaluate import evaluate_runs
from ..train.loop import resolve_hparams, space_ground_truth, train_stage1
from ..train.methods import METHODS
from ..train.run import FILES as RUN_FILES
from ..train.run import load_run, save_run

PUP_METHODS = ("darts", "darts_minus", "snas", "gdas", "drnas")
"""[PUP] Table 2 rows (darts, darts-, snas, gdas, dirichlet), in the paper's order."""
PUP_SELECTORS = ("prune", "valid", "synflow", "jacob_cov", "perturb")
"""[PUP] Table 2 columns, in the paper's order."""
BASELINE_METHOD = "rsps_biased"
"""The Stage-1 method whose supernet gives the four baselines (spec §7.1)."""
RELIANCE_PAIRS = {
    "dist": ("R_I", "R_U"),
    "wts": ("R_U", "N_U"),
    "dist_untrained": ("N_I", "N_U"),
    "wts_ideal": ("R_I", "N_I"),
}
"""Reliance statistic -> (minuend, subtrahend) baselines, paired by seed (spec §7.3, `reliance_stats`)."""


@dataclass(frozen=True)
class GridSpec:
    """What a grid runs. Only ``methods``, ``selectors`` and ``seeds`` may change between runs into one folder.

    Attributes
    ----------
    methods : tuple of str
        Stage-1 methods (keys of `METHODS`).
    selectors : tuple of str
        Stage-2 selectors (keys of `SELECTORS`).
    seeds : tuple of int
        One Stage-1 run and one selection per (method, selector) for each ([PUP]: 10, 11, 12).
    dataset, space : str
        Stage-1 images and NB201 subspace.
    hparams : mapping
        Stage-1 overrides for every method (None values ignored).
    method_hparams : mapping of str to mapping
        Further overrides per method, applied after `hparams` (e.g. ``{"rsps_biased": {"epochs": 250}}``).
    baselines : bool
        Also train ``rsps_biased`` and run the selectors on R_I / R_U / N_I / N_U.
    n_train, n_valid : int or None
        Seeded subsets of the halves (quick runs); None = all images.
    n_samples, bn_batches, batch_size, n_eval, proxy_batch, finetune_epochs
        Stage-2 settings (`select_sampled`, `make_stage2_data`, `select_perturb`).
    stage1_sample : int or None
        Architectures per Stage-1 quality evaluation (`evaluate_runs`); None = the whole subspace.
    round_to : int or None
        Round accuracies to this many decimals before errors and regrets ([PUP]: 2).
    """

    methods: tuple = PUP_METHODS
    selectors: tuple = PUP_SELECTORS
    seeds: tuple = (10, 11, 12)
    dataset: str = "cifar10"
    space: str = "full"
    hparams: Mapping = field(default_factory=dict)
    method_hparams: Mapping = field(default_factory=dict)
    baselines: bool = True
    n_train: int | None = None
    n_valid: int | None = None
    n_samples: int = 100
    bn_batches: int = 20
    batch_size: int = 256
    n_eval: int = 5000
    proxy_batch: int = 64
    finetune_epochs: int = 0
    stage1_sample: int | None = 1000
    round_to: int | None = None

    def __post_init__(self):
        caller = "GridSpec"
        for name, options in (("methods", METHODS), ("selectors", SELECTORS)):
            values = tuple(getattr(self, name))
            if not values or len(set(values)) != len(values):
                raise InvalidParameterError(f"{caller}(): {name}={values!r} is empty or repeats a name; "
                                            f"expected distinct names from {list(options)}.")
            for v in values:
                check_option(name, v, options, caller=caller)
            object.__setattr__(self, name, values)
        seeds = tuple(check_int("seeds", s, caller=caller, minimum=0) for s in self.seeds)
        if not seeds or len(set(seeds)) != len(seeds):
            raise InvalidParameterError(
                f"{caller}(): seeds={seeds!r} is empty or repeats a seed; expected distinct seeds >= 0."
            )
        object.__setattr__(self, "seeds", seeds)
        check_option("dataset", self.dataset, DATASET_SPECS, caller=caller)
        check_option("space", self.space, SUBSPACES, caller=caller)
        for name in ("n_samples", "batch_size", "n_eval", "proxy_batch"):
            check_int(name, getattr(self, name), caller=caller, minimum=1)
        check_int("bn_batches", self.bn_batches, caller=caller, minimum=0)
        check_int("finetune_epochs", self.finetune_epochs, caller=caller, minimum=0)
        for name, minimum in (("n_train", 1), ("n_valid", 1), ("stage1_sample", 2), ("round_to", 0)):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), caller=caller, minimum=minimum)
        for m in (*self.methods, *((BASELINE_METHOD,) if self.baselines else ())):
            resolve_hparams(m, self.hparams_of(m))   # unknown or bad Stage-1 overrides fail here, not hours later

    def hparams_of(self, method: str) -> dict:
        """Stage-1 overrides for `method`: `hparams` updated with its `method_hparams` entry."""
        return {**self.hparams, **self.method_hparams.get(method, {})}

    def settings(self) -> dict:
        """Everything but the work list: what must match for results in one folder to belong together."""
        out = asdict(self)
        for key in ("methods", "selectors", "seeds"):
            out.pop(key)
        return json.loads(dumps(out))


@dataclass
class GridResult:
    """A finished (or resumed) grid.

    Attributes
    ----------
    out_dir : Path
    spec : GridSpec
    cells : list of dict
        One per (stage1, selector, seed): ``stage1`` (method or baseline name), ``method``,
        ``selector``, ``seed``, ``index``, ``arch``, ``test_acc`` (per dataset), ``regret``,
        ``seconds``, ``trajectory``.
    stage1 : dict
        ``"<method>_s<seed>"`` -> Stage-1 quality (``kendall_tau``, ``mean_mass``, ...).
    runs : dict
        ``"<method>_s<seed>"`` -> training summary (epochs, seconds, final loss / accuracy).
    computed : dict
        Units of work done by this call (``train``, ``stage1``, ``cells``); all 0 when nothing was left.
    """

    out_dir: Path
    spec: GridSpec
    cells: list
    stage1: dict
    runs: dict
    computed: dict


# ----------------------------------------------------------------------------------------- resumable files
def check_settings(out_dir: str | os.PathLike, settings: dict, *, caller: str) -> Path:
    """Create `out_dir` with ``grid.json`` = `settings`, or check that an existing one holds the same settings.

    Raises
    ------
    InvalidParameterError
        If `out_dir` already holds results of other settings (mixing them would be silently wrong).
    """
    out = Path(out_dir)
    path = out / "grid.json"
    if path.is_file():
        old = read_json(path, expected="the grid settings this folder was started with")
        if old != settings:
            diff = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
            raise InvalidParameterError(
                f"{caller}(): out_dir={str(out)!r} holds results with other settings ({', '.join(diff)}); "
                "expected the same settings to resume, or another output folder."
            )
        return out
    out.mkdir(parents=True, exist_ok=True)
    write_json(path, settings, indent=1)
    return out


def has_run(run_dir: Path) -> bool:
    """Whether `run_dir` holds a complete saved run."""
    return all((run_dir / f).is_file() for f in RUN_FILES)


class RunUnit(FolderUnit):
    """A unit whose output is one saved Stage-1 run: done once `target` holds a complete run; `train` (in the
    worker) returns the trained result, which `compute` saves into ``<target>.partial``."""

    def done(self) -> bool:
        return has_run(Path(self.target))

    def train(self):
        """The `train_stage1` result to save."""
        raise NotImplementedError

    def compute(self) -> None:
        shutil.rmtree(self.partial, ignore_errors=True)
        save_run(self.train(), self.partial)


def run_summary(run_dir: Path) -> dict:
    """Epochs, total training seconds and final loss / accuracy of a saved run (from its curves)."""
    curves = read_json(run_dir / "curves.json", expected="the curves of a Stage-1 run")
    return {"epochs": len(curves["epoch"]), "train_seconds": float(sum(curves["seconds"])),
            "final_train_loss": curves["train_loss"][-1], "final_train_acc": curves["train_acc"][-1]}


# ----------------------------------------------------------------------------------------- work units
@dataclass(frozen=True)
class GridJob:
    """What every work unit of one grid shares: the spec, the device and data folder, and the halves and
    benchmark the caller preloaded (None: each process loads its own once, from `data_dir`)."""

    spec: GridSpec
    device: str | None
    data_dir: str | None
    data: tuple | None
    bench: object | None

    def halves(self) -> tuple:
        s = self.spec
        return self.data or cached_halves(s.dataset, s.n_train, s.n_valid, self.device, self.data_dir)

    def benchmark(self):
        return self.bench if self.bench is not None else cached_benchmark(self.data_dir)

    def truth(self) -> tuple:
        """(codes, accuracies) of the subspace (`space_ground_truth`)."""
        return space_ground_truth(self.spec.space, self.spec.dataset, bench=self.benchmark())[1:]


@functools.lru_cache(maxsize=2)
def cached_halves(dataset: str, n_train, n_valid, device, data_dir):
    """`load_stage1_data`, once per process and arguments (work units share it)."""
    return load_stage1_data(dataset, n_train=n_train, n_valid=n_valid, device=device, data_dir=data_dir)


@functools.lru_cache(maxsize=2)
def cached_benchmark(data_dir):
    """``create_benchmark("nb201", data_dir=data_dir)``, once per process."""
    from ..benchmarks import create_benchmark

    return create_benchmark("nb201", data_dir=data_dir)


@dataclass(frozen=True)
class TrainUnit(RunUnit):
    """One Stage-1 training: train `method` with `seed`, save the run into ``<target>.partial``."""

    job: GridJob
    method: str
    seed: int
    target: str

    def train(self):
        s, job = self.job.spec, self.job
        return train_stage1(self.method, seed=self.seed, dataset=s.dataset, space=s.space, device=job.device,
                            hparams=s.hparams_of(self.method), data=job.halves(), ground_truth=job.truth())


@dataclass(frozen=True)
class Stage1Unit(JsonUnit):
    """Stage-1 quality of one seed's runs (``runs``: (method, run folder) pairs), from one `evaluate_runs` call
    (one shared sample); keyed by run folder name."""

    job: GridJob
    seed: int
    runs: tuple
    target: str

    def compute(self) -> dict:
        s, job = self.job.spec, self.job
        ev = evaluate_runs([d for _, d in self.runs], sample=s.stage1_sample, seed=0, bn_batches=s.bn_batches,
                           batch_size=s.batch_size, n_eval=s.n_eval, device=job.device, data_dir=job.data_dir,
                           bench=job.benchmark(), data=job.halves())
        keep = ("kendall_tau", "spearman_rho", "pearson_r", "improvement_at_k_min", "mean_mass", "mean_mass_baseline")
        n = int(len(ev.indices))
        return {Path(d).name: {"method": m, "seed": self.seed, "n_archs": n, **{k: r[k] for k in keep}}
                for (m, d), r in zip(self.runs, ev.runs)}


@dataclass(frozen=True)
class CellUnit(JsonUnit):
    """One Stage-2 selection: `selector` on the run in `run_dir` (or on its `stage1` baseline when that names one
    of `BASELINES`), with `seed`."""

    job: GridJob
    stage1: str
    selector: str
    seed: int
    run_dir: str
    target: str

    def compute(self) -> dict:
        s, job, seed = self.job.spec, self.job, self.seed
        r = load_run(self.run_dir, device=job.device)
        if self.stage1 in BASELINES:
            r = baseline_run(self.stage1, r, seed=seed)
        data = make_stage2_data(*job.halves(), seed=seed, batch_size=s.batch_size, n_eval=s.n_eval,
                                bn_batches=s.bn_batches, proxy_batch=s.proxy_batch)
        truth = job.truth()
        res = run_selector(self.selector, r, seed=seed, n_samples=s.n_samples, data=data, ground_truth=truth,
                           finetune_epochs=s.finetune_epochs)
        facts = selection_truth(res.arch, bench=job.benchmark(), space_truth=truth, round_to=s.round_to)
        return {"stage1": self.stage1, "method": r.config["method"], "selector": self.selector, "seed": seed,
                **facts, "seconds": res.seconds, "trajectory": res.trajectory}


# ----------------------------------------------------------------------------------------- the grid
def applicable_selectors(
    method: str, selectors, *, hparams: Mapping | None = None, is_baseline: bool = False
) -> list[str]:
    """The selectors of `selectors` that can run on a `method` supernet trained with `hparams` overrides.

    ``prune`` needs architecture parameters (never on a baseline); ``perturb`` needs mixed
    weights (no ``bias_depth`` / ``split_epoch``).
    """
    hp = hparams or {}
    has_alphas = METHODS[method].has_alphas and not is_baseline
    is_mixable = not hp.get("bias_depth") and hp.get("split_epoch") is None
    return [s for s in selectors if (s != "prune" or has_alphas) and (s != "perturb" or is_mixable)]


def _units(job: GridJob, out: Path) -> tuple[list[TrainUnit], list[Stage1Unit], list[CellUnit]]:
    """Every unit of the grid: the trainings, then per seed its Stage-1 evaluation and its cells (methods, then the
    baselines), in the order of `GridResult.cells`."""
    s = job.spec
    base = (BASELINE_METHOD,) if s.baselines else ()
    trains = [TrainUnit(job, m, seed, str(out / "runs" / f"{m}_s{seed}"))
              for seed in s.seeds for m in (*s.methods, *base)]
    stage1, cells = [], []
    for seed in s.seeds:
        runs = tuple((m, str(out / "runs" / f"{m}_s{seed}")) for m in s.methods)
        stage1.append(Stage1Unit(job, seed, runs, str(out / "stage1" / f"s{seed}__{'+'.join(s.methods)}.json")))
        pairs = [(m, m, sel) for m in s.methods for sel in _selectors(s, m)]
        pairs += [(b, BASELINE_METHOD, sel) for b in BASELINES if s.baselines
                  for sel in _selectors(s, BASELINE_METHOD, is_baseline=True)]
        cells += [CellUnit(job, name, sel, seed, str(out / "runs" / f"{m}_s{seed}"),
                           str(out / "cells" / f"{name}__{sel}__s{seed}.json")) for name, m, sel in pairs]
    return trains, stage1, cells


def _selectors(spec: GridSpec, method: str, *, is_baseline: bool = False) -> list[str]:
    return applicable_selectors(method, spec.selectors, hparams=spec.hparams_of(method), is_baseline=is_baseline)


def run_grid(spec: GridSpec, out_dir: str | os.PathLike, *, device=None, data_dir=None, bench=None, data=None,
             progress: bool = True, executor=None) -> GridResult:
    """Run (or resume) a grid: every training, Stage-1 evaluation and cell is a work unit of `executor`, put on
    disk by this process as soon as it finishes (so an interrupted grid resumes by running it again).

    Parameters
    ----------
    spec : GridSpec
    out_dir : path-like
        Folder of the runs, Stage-1 evaluations and cells (module docstring).
    device : str or torch.device, optional
    data_dir : path-like, optional
    bench : Benchmark, optional
        Preloaded ground truth (default: ``createcached_benchmark("nb201")``, once per process).
    data : (DeviceSplit, DeviceSplit), optional
        Preloaded train / valid halves (tests); default loaded once per process from `spec`.
    progress : bool, default=True
        A tqdm bar on stderr over all units (trainings, Stage-1 evaluations, cells).
    executor : nasbench_eval.executors.Executor, optional
        Runs the missing units, the trainings first, then the Stage-1 evaluations and cells together, in
        parallel where it has workers. Default: one after another in this process. Every executor and
        worker count gives the same files at one torch thread count.

    Returns
    -------
    GridResult
    """
    out = check_settings(out_dir, spec.settings(), caller="run_grid")
    job = GridJob(spec, None if device is None else str(device), None if data_dir is None else str(data_dir), data,
                  bench)
    trains, stage1_units, cell_units = _units(job, out)
    runner = executor if executor is not None else LocalExecutor(workers=1)
    with tqdm(total=len(trains) + len(stage1_units) + len(cell_units), disable=not progress, desc="grid", unit="unit",
              dynamic_ncols=True) as bar:
        _, trained = run_all(runner, trains, advance=bar.update)
        found, evaluated = run_all(runner, [*stage1_units, *cell_units], advance=bar.update)
    n = len(stage1_units)
    stage1 = {key: q for quality in found[:n] for key, q in quality.items()}
    runs = {Path(u.target).name: run_summary(Path(u.target)) for u in trains}
    computed = {"train": len(trained), "stage1": sum(i < n for i in evaluated), "cells": sum(i >= n for i in evaluated)}
    return GridResult(out, spec, found[n:], stage1, runs, computed)


# ----------------------------------------------------------------------------------------- summaries
def _stat(values) -> dict:
    """Per-seed values with their mean and std (ddof=0; NaN propagates)."""
    v = np.asarray(values, dtype=np.float64)
    ms = mean_std(v)
    return {"mean": ms.mean, "std": ms.std, "n": ms.n, "values": v.tolist()}


def _accuracy(cell: dict, dataset: str, round_to: int | None) -> float:
    acc = _num(cell["test_acc"][get_spec(dataset).full])
    return acc if round_to is None else round(acc, round_to)


def _num(value) -> float:
    """JSON null (a NaN written out) back to NaN."""
    return math.nan if value is None else float(value)


def _by_seed(cells: list, stage1: str, selector: str) -> dict[int, dict]:
    return {c["seed"]: c for c in cells if c["stage1"] == stage1 and c["selector"] == selector}


def _table(cells: list, spec: GridSpec) -> list[dict]:
    rows = []
    stage1s = [*spec.methods, *(BASELINES if spec.baselines else ())]
    for u in stage1s:
        for a in spec.selectors:
            found = _by_seed(cells, u, a)
            if not found:
                continue
            seeds = sorted(found)
            acc = [_accuracy(found[s], spec.dataset, spec.round_to) for s in seeds]
            reg = [_num(found[s]["regret"]) for s in seeds]
            rows.append({"stage1": u, "selector": a, "seeds": seeds, "archs": [found[s]["arch"] for s in seeds],
                         "test_acc": _stat(acc), "test_error": _stat([100.0 - x for x in acc]), "regret": _stat(reg)})
    return rows


def _reliance(cells: list, spec: GridSpec) -> dict:
    out = {}
    for a in spec.selectors:
        acc = {b: _by_seed(cells, b, a) for b in BASELINES}
        seeds = sorted(set.intersection(*(set(v) for v in acc.values())))
        if not seeds:
            continue
        col = {b: [_accuracy(acc[b][s], spec.dataset, spec.round_to) for s in seeds] for b in BASELINES}
        diffs = {k: _stat(paired_difference(col[x], col[y])[0]) for k, (x, y) in RELIANCE_PAIRS.items()}
        out[a] = {"seeds": seeds, **{b: _stat(v) for b, v in col.items()}, **diffs}
    return out


def _stage1_means(stage1: dict, spec: GridSpec) -> dict:
    """Per method with evaluations: mean ± std over seeds of Kendall tau and mean sampling mass."""
    out = {}
    for m in spec.methods:
        qs = [q for q in stage1.values() if q["method"] == m]
        if qs:
            out[m] = {k: _stat([_num(q[k]) for q in qs]) for k in ("kendall_tau", "mean_mass")}
    return out


def _combination(table: list, stage1: dict, reliance: dict, spec: GridSpec) -> dict | None:
    if not stage1 or not reliance:
        return None
    dist_q = {m: v["mean_mass"]["mean"] for m, v in stage1.items()}
    wts_q = {m: v["kendall_tau"]["mean"] for m, v in stage1.items()}
    dist_r = {a: reliance[a]["dist"]["mean"] if a in reliance else math.nan for a in spec.selectors}
    wts_r = {a: reliance[a]["wts"]["mean"] if a in reliance else math.nan for a in spec.selectors}
    scores = combination_scores(dist_q, wts_q, dist_r, wts_r)
    observed = {(r["stage1"], r["selector"]): r["test_acc"]["mean"] for r in table}
    order = [{"stage1": u, "selector": a, "score": sc, "observed_test_acc": observed.get((u, a), math.nan)}
             for u, a, sc in scores.order]
    ok = [o for o in order if math.isfinite(o["score"]) and math.isfinite(o["observed_test_acc"])]
    tau = kendall_tau([o["observed_test_acc"] for o in ok], [-o["score"] for o in ok]) if len(ok) >= 2 else math.nan
    return {
        "dist_quality": dist_q,
        "wts_quality": wts_q,
        "dist_reliance": dist_r,
        "wts_reliance": wts_r,
        "order": order,
        "kendall_tau_score_vs_observed": tau,
    }


def summarize_grid(result: GridResult) -> dict:
    """The grid as tables (spec §10.2, §7.3, §8).

    Returns
    -------
    dict
        ``table``: one row per (stage1, selector) with ``test_error`` / ``test_acc`` / ``regret``
        mean ± std over seeds (ddof=0) and the selected archs; ``reliance``: per selector the
        baseline results and ``dist`` (R_I - R_U), ``wts`` (R_U - N_U), ``dist_untrained``,
        ``wts_ideal``; ``stage1``: per method the mean ± std over seeds of Kendall tau and mean
        sampling mass; ``combination``: the §8 scores (lower = better) with the observed mean test
        accuracy of each pair and the Kendall tau between -score and that accuracy (None without
        baselines). Accuracies are rounded to ``spec.round_to`` decimals first when set.
    """
    spec = result.spec
    table = _table(result.cells, spec)
    reliance = _reliance(result.cells, spec) if spec.baselines else {}
    stage1 = _stage1_means(result.stage1, spec)
    return {
        "table": table,
        "reliance": reliance,
        "stage1": stage1,
        "combination": _combination(table, stage1, reliance, spec),
    }


__all__ = [
    "BASELINE_METHOD",
    "PUP_METHODS",
    "PUP_SELECTORS",
    "RELIANCE_PAIRS",
    "GridResult",
    "GridSpec",
    "applicable_selectors",
    "cached_benchmark",
    "cached_halves",
    "check_settings",
    "has_run",
    "run_grid",
    "run_summary",
    "summarize_grid",
]
