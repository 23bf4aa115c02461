"""Algorithm 2 (the SpiderNet algorithm) and the random ablations of Table 1: one resumable driver.

Each cycle ``c`` of `run_spidernet` (paper §3.8, §4.2):

1. reset the weights (a model freshly built from the cell graphs);
2. inter-cycle pruning, by the strategy (`config.STRATEGIES`): train ``epochs_per_cycle`` epochs with
   the gates learning and logged per batch, then deadhead; or delete random ops; or nothing;
3. up to ``mutations_per_cycle`` triangular mutations, each chosen by Algorithm 1
   (`growth.select_mutation`) or uniformly at random, each within the memory budget s_max; the first
   attempt that yields nothing ends the cycle's mutations.

Then the final training (Alg. 2 line 4): fresh weights, ``final_epochs`` epochs (with the gates
learning and deadheading after every epoch, or after deleting random ops, or with gates fixed on),
and top-1 accuracy on the CIFAR-10 test set.

Randomness comes from `phase_seed(seed, phase, *indices)`, never from a running generator, so a
phase replays identically whatever ran before it. That is why resuming is exact.

Files in ``out_dir``::

    checkpoints/cycle_NNN.pt  after cycle NNN: identity, graphs, weights, the cycle's pruner log
                              (before deadheading), the log rows of cycles 0..NNN, RNG state
    checkpoints/final.pt      after every final-training epoch: the same plus optimizer and pruner log
    log.json                  identity and log rows so far (rewritten after every cycle and epoch)
    result.json               the summary (`SpiderNetResult.summary`)
    architecture.json         the final cell graphs; cell_<j>.png a drawing of cell j

Resume is automatic: if ``out_dir`` holds checkpoints of a run with the same identity (config,
ablation, seed, deletion plan, data sizes), the run continues after the newest one (the last
finished cycle, or the last finished epoch of the final training); another identity is an error,
so a finished run never gets mixed with a new one; use a new ``out_dir`` instead.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .._json import dumps, read_json, write_json
from .._validation import check_int
from ..device import derive_seed, resolve_device, scoring_numerics, seeded
from ..exceptions import CorruptDataError, DataNotFoundError, InvalidParameterError
from ..proxies.linear_regions import random_patches
from ..provenance import provenance
from ..train.data import DeviceSplit
from .config import SpiderNetConfig, Strategy, get_strategy
from .draw import draw_cell
from .graph import CellGraph
from .growth import deadhead, mutation_bytes, random_edge, select_mutation
from .model import OpKey, SpiderNet, param_bytes
from .pruners import PrunerLog
from .training import (cosine_factor, drop_deleted_params, evaluate, load_spidernet_data, make_optimizer,
                       measured_mutation_bytes, set_lr_factor, set_pruners_trainable, train_epoch)

PHASES = ("cycle_init", "cycle_epoch", "mutation", "cycle_delete", "final_init", "final_epoch", "final_delete")
"""Phases that draw random numbers; each gets its own seed stream."""

NUM_CLASSES = 10
"""CIFAR-10."""


def phase_seed(seed: int, phase: str, *indices: int) -> int:
    """Seed of one phase of a run (e.g. ``phase_seed(0, "cycle_epoch", cycle, epoch)``), in [0, 2^32)."""
    return derive_seed(seed, PHASES.index(phase), *indices, bits=32)


# ---------------------------------------------------------------- deletion plan (random ablations)
@dataclass(frozen=True)
class DeletionPlan:
    """How many ops the random ablations delete (paper §4.3): as many as a SpiderNet run deadheaded.

    Attributes
    ----------
    per_cycle : tuple of int
        Ops deadheaded in each cycle of the reference run.
    final : int
        Ops deadheaded during its final training.
    """

    per_cycle: tuple[int, ...]
    final: int

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike) -> "DeletionPlan":
        """The plan of a finished SpiderNet run (its ``result.json``).

        Raises
        ------
        DataNotFoundError
            If ``run_dir/result.json`` is missing.
        InvalidParameterError
            If that run is not a SpiderNet (non-ablation) run.
        """
        path = Path(run_dir) / "result.json"
        if not path.is_file():
            raise DataNotFoundError(f"DeletionPlan.from_run(): {str(path)!r} not found; "
                                    "expected the --out folder of a finished SpiderNet run.")
        summary = read_json(path, expected="the result.json of a finished SpiderNet run")
        if summary.get("ablation") != "spidernet":
            raise InvalidParameterError(
                f"DeletionPlan.from_run(): run_dir={str(run_dir)!r} holds ablation={summary.get('ablation')!r}; "
                "expected a run with ablation='spidernet'."
            )
        try:
            return cls(tuple(len(row["deadheaded"]) for row in summary["cycles"]),
                       sum(len(row.get("deadheaded", [])) for row in summary["final"]["epochs"]))
        except (KeyError, TypeError, AttributeError) as err:
            raise CorruptDataError(f"DeletionPlan.from_run(): {str(path)!r} lacks {err} in its cycles / final epochs; "
                                   "expected the result.json of a finished SpiderNet run.") from None


def _resolve_plan(strategy: Strategy, reference, cfg: SpiderNetConfig, ablation: str) -> DeletionPlan | None:
    caller = "run_spidernet"
    if not strategy.needs_reference:
        return None
    if reference is None:
        raise InvalidParameterError(
            f"{caller}(): ablation={ablation!r} deletes as many random ops as a SpiderNet run deadheaded; "
            "pass reference=<that run's out_dir> (CLI: --reference DIR)."
        )
    plan = reference if isinstance(reference, DeletionPlan) else DeletionPlan.from_run(reference)
    if len(plan.per_cycle) < cfg.cycles:
        raise InvalidParameterError(
            f"{caller}(): the reference run has {len(plan.per_cycle)} cycles but cycles={cfg.cycles}; "
            "expected a reference with at least as many cycles."
        )
    return plan


def delete_random_ops(model: SpiderNet, n: int, *, rng: np.random.Generator) -> list[OpKey]:
    """Delete min(n, number of ops) uniformly random ops of `model` in place; returns their keys."""
    keys = model.op_keys()
    picked = [keys[i] for i in sorted(rng.choice(len(keys), size=min(n, len(keys)), replace=False))]
    for key in picked:
        model.delete_op(key)
    return picked


# ---------------------------------------------------------------- the run
@dataclass
class SpiderNetResult:
    """A finished run.

    Attributes
    ----------
    model : SpiderNet
        The final trained model (eval mode, on the run's device).
    summary : dict
        What ``result.json`` holds: config, ablation, per-cycle and final-training logs, test accuracy
        (percent), parameter count, memory, seconds, architecture, provenance.
    """

    model: SpiderNet
    summary: dict


@dataclass
class _Run:
    cfg: SpiderNetConfig
    ablation: str
    strategy: Strategy
    plan: DeletionPlan | None
    seed: int
    dev: torch.device
    train: DeviceSplit
    test: DeviceSplit
    out: Path
    progress: bool

    # ---------------------------------------------------------------- pieces
    def identity(self) -> dict:
        plan = (
            None
            if self.plan is None
            else {"per_cycle": list(self.plan.per_cycle[: self.cfg.cycles]), "final": self.plan.final}
        )
        return json.loads(
            dumps(
                {
                    "config": self.cfg.to_dict(),
                    "ablation": self.ablation,
                    "seed": self.seed,
                    "plan": plan,
                    "n_train": len(self.train),
                    "n_test": len(self.test),
                }
            )
        )

    def build(self, graphs: list[CellGraph], seed: int) -> SpiderNet:
        """Fresh weights for `graphs` (Alg. 2 "reset model parameters"), drawn on the CPU, then moved."""
        cfg = self.cfg
        return SpiderNet(cfg.C, cfg.reductions, NUM_CLASSES, dropout=cfg.dropout, graphs=graphs,
                         pruner_init=cfg.pruner_init, seed=seed).to(self.dev)

    def optimizer(self, model: SpiderNet, *, gates: bool) -> torch.optim.SGD:
        set_pruners_trainable(model, gates)
        cfg = self.cfg
        return make_optimizer(
            model, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, pruner_lr=cfg.pruner_lr
        )

    def epoch(self, model: SpiderNet, opt, log: PrunerLog | None, seed: int) -> dict:
        cfg = self.cfg
        clamp = cfg.pruner_clamp * cfg.pruner_init if (log is not None and cfg.pruner_clamp is not None) else None
        with seeded(seed, self.dev):                          # dropout draws from the global RNG
            row = train_epoch(model, opt, self.train, batch_size=cfg.batch_size,
                              generator=torch.Generator(device=self.dev).manual_seed(seed),
                              cutout_size=cfg.cutout, cutout_prob=cfg.cutout_prob, log=log, clamp=clamp)
        return {"lr": opt.param_groups[0]["lr"], **row}

    def size_fn(self):
        """s(M) + 2·s(e): measured training footprint on CUDA, parameter + buffer bytes on CPU."""
        if self.dev.type != "cuda":
            return mutation_bytes
        batch = self.train.batch(torch.arange(min(self.cfg.batch_size, len(self.train)), device=self.dev))
        return lambda model, edge: measured_mutation_bytes(model, edge, batch)

    def proxy_inputs(self, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Algorithm 1's inputs: augmented training images (NTK) and 1x3x3 patches of them (LRC)."""
        g = torch.Generator(device=self.dev).manual_seed(seed)
        x, _ = self.train.batch(torch.randperm(len(self.train), generator=g, device=self.dev)[:self.cfg.ntk_images], g)
        return x, random_patches(x, self.cfg.lrc_patches, generator=torch.Generator().manual_seed(seed))

    # ---------------------------------------------------------------- Algorithm 2, lines 1-3
    def cycle(self, c: int, graphs: list[CellGraph]) -> tuple[SpiderNet, dict, dict | None]:
        """One cycle; returns the grown model, its log row, and the pruner history before deadheading."""
        start = time.perf_counter()
        model = self.build(graphs, phase_seed(self.seed, "cycle_init", c))
        row = {"cycle": c, "ops_before": _n_ops(model), "epochs": [], "deadheaded": [], "deleted": []}
        history = None
        if self.strategy.inter_cycle == "deadhead":
            opt, log = self.optimizer(model, gates=True), PrunerLog()
            E = self.cfg.epochs_per_cycle
            for e in range(E):
                set_lr_factor(opt, cosine_factor(e, E))
                row["epochs"].append(self.epoch(model, opt, log, phase_seed(self.seed, "cycle_epoch", c, e)))
            history = log.state()
            row["deadheaded"] = deadhead(
                model, log, window=self.cfg.deadhead_window, threshold=self.cfg.deadhead_threshold
            )
        elif self.strategy.inter_cycle == "random":
            rng = np.random.default_rng(phase_seed(self.seed, "cycle_delete", c))
            row["deleted"] = delete_random_ops(model, self.plan.per_cycle[c], rng=rng)
        row["ops_pruned"] = _n_ops(model)
        row["mutations"] = self.mutate(model, c)
        row["accepted"] = sum(m["edge"] is not None for m in row["mutations"])
        row["rejected"] = len(row["mutations"]) - row["accepted"]
        row["ops_after"] = _n_ops(model)
        row["seconds"] = time.perf_counter() - start
        return model, row, history

    def mutate(self, model: SpiderNet, c: int) -> list[dict]:
        """Alg. 2 line 3: up to K mutations; stops at the first attempt that yields no edge."""
        rows, size_fn = [], self.size_fn()
        for k in range(self.cfg.mutations_per_cycle):
            seed = phase_seed(self.seed, "mutation", c, k)
            entry = self.choose(model, seed, size_fn)
            rows.append({"attempt": k, **entry})
            if entry["edge"] is None:
                break
            model.mutate(tuple(entry["edge"]), seed=seed)
        return rows

    def choose(self, model: SpiderNet, seed: int, size_fn) -> dict:
        cfg = self.cfg
        if self.strategy.mutation == "random":
            edge = random_edge(model, rng=np.random.default_rng(seed))
            need = float(size_fn(model, edge))
            fits = need < cfg.max_bytes
            return {
                "edge": list(edge) if fits else None,
                "reason": "ok" if fits else f"needs {need:.0f} bytes, not < s_max",
                "bytes_needed": need,
                "candidates": [],
            }
        x_ntk, x_lrc = self.proxy_inputs(seed)
        with scoring_numerics():
            sel = select_mutation(model, x_ntk, x_lrc, n_good=cfg.n_good, max_bytes=cfg.max_bytes, seed=seed,
                                  ntk_width=cfg.slim_width, lrc_width=cfg.slim_width, ntk_batches=cfg.ntk_batches,
                                  lrc_batches=cfg.lrc_batches, size_fn=size_fn)
        cands = [
            {
                "edge": list(x.edge),
                "ntk_on": float(x.ntk_on),
                "ntk_off": float(x.ntk_off),
                "lrc_on": float(x.lrc_on),
                "lrc_off": float(x.lrc_off),
                "good": bool(x.good),
            }
            for x in sel.candidates
        ]
        chosen = next((x for x in cands if sel.edge is not None and tuple(x["edge"]) == tuple(sel.edge)), None)
        return {
            "edge": None if sel.edge is None else list(sel.edge),
            "reason": sel.reason,
            "chosen": chosen,
            "candidates": cands,
        }

    # ---------------------------------------------------------------- Algorithm 2, line 4
    def final_start(self, graphs: list[CellGraph], state: dict | None) -> tuple[SpiderNet, dict]:
        """The model and the progress of the final training: fresh (random deletions done), or from `state`."""
        if state is not None:
            model = self.build([CellGraph.from_dict(g) for g in state["graphs"]], 0)
            model.load_state_dict(state["state_dict"])
            keep = ("epochs", "deleted", "peak_bytes", "optimizer")
            return model, {**{k: state[k] for k in keep}, "log": PrunerLog.from_state(state["pruner_log"])}
        model = self.build(graphs, phase_seed(self.seed, "final_init"))
        deleted = []
        if self.strategy.intra_train == "random":
            rng = np.random.default_rng(phase_seed(self.seed, "final_delete"))
            deleted = delete_random_ops(model, self.plan.final, rng=rng)
        return model, {"epochs": [], "deleted": deleted, "peak_bytes": 0, "optimizer": None,
                       "log": PrunerLog(keep_epochs=self.cfg.deadhead_window)}

    def final(self, graphs: list[CellGraph], cycles: list[dict], state: dict | None) -> tuple[SpiderNet, dict]:
        """Alg. 2 line 4: final training (resumed from `state` if given), checkpointed per epoch; then the test
        accuracy."""
        cfg, gates = self.cfg, self.strategy.intra_train == "pruners"
        model, prog = self.final_start(graphs, state)
        opt, log, rows = self.optimizer(model, gates=gates), prog["log"], prog["epochs"]
        if prog["optimizer"] is not None:
            opt.load_state_dict(prog["optimizer"])
        if self.dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.dev)
        bar = tqdm(
            total=cfg.final_epochs, initial=len(rows), desc="final training", disable=not self.progress, leave=False
        )
        for e in range(len(rows), cfg.final_epochs):
            set_lr_factor(opt, cosine_factor(e, cfg.final_epochs))
            row = {
                "epoch": e,
                **self.epoch(model, opt, log if gates else None, phase_seed(self.seed, "final_epoch", e)),
            }
            if gates and log.epochs_ended >= cfg.deadhead_window:
                row["deadheaded"] = deadhead(model, log, window=cfg.deadhead_window, threshold=cfg.deadhead_threshold)
                drop_deleted_params(opt, model)
            rows.append(row)
            prog["peak_bytes"] = max(prog["peak_bytes"], self.cuda_peak())
            self.save(
                "final",
                {
                    "phase": "final",
                    "cycles": cycles,
                    "graphs": _graph_dicts(model),
                    "state_dict": _cpu_state(model),
                    "optimizer": opt.state_dict(),
                    "pruner_log": log.state(),
                    "epochs": rows,
                    "deleted": prog["deleted"],
                    "peak_bytes": prog["peak_bytes"],
                    "rng": {"seed": self.seed, "next_epoch": e + 1},
                },
            )
            self.write_log(cycles, rows)
            bar.update()
            bar.set_postfix(loss=f"{row['loss']:.3f}", ops=_n_ops(model))
        bar.close()
        start = time.perf_counter()
        acc = evaluate(model, self.test, batch_size=cfg.eval_batch_size)
        return model.eval(), {
            "epochs": rows,
            "deleted": prog["deleted"],
            "test_acc": acc,
            "peak_bytes": max(prog["peak_bytes"], self.cuda_peak()),
            "eval_seconds": time.perf_counter() - start,
        }

    def cuda_peak(self) -> int:
        """torch.cuda.max_memory_allocated on a CUDA run, else 0."""
        return int(torch.cuda.max_memory_allocated(self.dev)) if self.dev.type == "cuda" else 0

    # ---------------------------------------------------------------- files
    def save(self, name: str, payload: dict) -> None:
        folder = self.out / "checkpoints"
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{name}.pt.tmp"
        torch.save({"identity": self.identity(), **payload}, tmp)
        os.replace(tmp, folder / f"{name}.pt")

    def latest(self) -> dict | None:
        """The newest checkpoint of this run (None: start afresh); another run's is an error."""
        folder = self.out / "checkpoints"
        paths = sorted(folder.glob("cycle_*.pt")) if folder.is_dir() else []
        if (folder / "final.pt").is_file():
            paths.append(folder / "final.pt")
        if not paths:
            return None
        try:
            with warnings.catch_warnings():  # torch warns about foreign pickle protocols on stderr
                warnings.simplefilter("ignore")
                state = torch.load(paths[-1], map_location="cpu", weights_only=True)  # weights_only: runs no code
            identity = state["identity"]
        except Exception as err:  # noqa: BLE001 -- torch raises RuntimeError, UnpicklingError, EOFError ...
            reason = " ".join(str(err).split())[:160]
            raise CorruptDataError(f"run_spidernet(): checkpoint {str(paths[-1])!r} is damaged or not a SpiderNet "
                                   f"checkpoint ({type(err).__name__}: {reason}); delete it to resume from the one "
                                   "before, or pass a new --out.") from None
        if identity != self.identity():
            diff = sorted(k for k in state["identity"] if state["identity"][k] != self.identity().get(k))
            raise InvalidParameterError(
                f"run_spidernet(): out_dir={str(self.out)!r} holds checkpoints of a run with other {diff}; "
                "expected the same settings (to resume) or a new out_dir."
            )
        return state

    def write_log(self, cycles: list[dict], final_epochs: list[dict] | None = None) -> None:
        record = {**self.identity(), "cycles": cycles, "final_epochs": final_epochs or []}
        write_json(self.out / "log.json", record, indent=1)


def _n_ops(model: SpiderNet) -> int:
    """Ops over all cells."""
    return sum(g.n_ops() for g in model.graphs)


def _graph_dicts(model: SpiderNet) -> list[dict]:
    return [g.to_dict() for g in model.graphs]


def _cpu_state(model: SpiderNet) -> dict:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def run_spidernet(
    out_dir: str | os.PathLike,
    *,
    config: SpiderNetConfig | None = None,
    ablation: str = "spidernet",
    reference: str | os.PathLike | DeletionPlan | None = None,
    seed: int = 0,
    device=None,
    data: tuple[DeviceSplit, DeviceSplit] | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    data_dir=None,
    progress: bool = False,
    final_dir: str | os.PathLike | None = None,
) -> SpiderNetResult:
    """Grow, train and test a SpiderNet on CIFAR-10 (Algorithm 2), or one of its Table 1 ablations.

    Parameters
    ----------
    out_dir : path-like
        Run folder (see the module docstring); an existing run with the same settings is resumed.
    config : SpiderNetConfig, optional
        Default: the paper's settings (15 cycles, 600 final epochs, C=64: days on one GPU).
    ablation : {"spidernet", "random1", "random2", "random3", "random4"}, default="spidernet"
        Growth strategy (`STRATEGIES`, paper Table 1).
    reference : path-like or DeletionPlan, optional
        For random1 / random4 (random deletions): the out_dir of a finished SpiderNet run, whose
        per-cycle and final deadhead counts the random deletions copy (paper §4.3).
    seed : int, default=0
        Fixes every random draw (`phase_seed`); on CPU two runs are bit-identical.
    device : str or torch.device, optional
        Default: CUDA if available, else CPU.
    data : (DeviceSplit, DeviceSplit), optional
        Preloaded (train, test) splits on `device`; default `load_spidernet_data(n_train, n_test)`.
    n_train, n_test : int, optional
        Seeded subsets of CIFAR-10's training / test images (quick runs).
    data_dir : path-like, optional
    progress : bool, default=False
        tqdm bars on stderr.
    final_dir : path-like, optional
        Where the caller moves `out_dir` once the run is finished (the summary's file paths name it);
        ``result.json`` is then left for the caller to write there (`runs.SpiderNetUnit`).

    Returns
    -------
    SpiderNetResult

    Raises
    ------
    InvalidParameterError
        Unknown ablation, missing or short reference, too few training images for Algorithm 1's
        NTK batch, or an out_dir holding another run's checkpoints.
    """
    caller = "run_spidernet"
    cfg = SpiderNetConfig() if config is None else config
    if not isinstance(cfg, SpiderNetConfig):
        raise InvalidParameterError(f"{caller}(): config={type(cfg).__name__} is not a SpiderNetConfig; "
                                    "expected SpiderNetConfig(...) or None.")
    strategy = get_strategy(ablation, caller=caller)
    plan = _resolve_plan(strategy, reference, cfg, ablation)
    seed = check_int("seed", seed, caller=caller, minimum=0)
    dev = resolve_device(device)
    train, test = (
        data if data is not None else load_spidernet_data(n_train=n_train, n_test=n_test, device=dev, data_dir=data_dir)
    )
    if strategy.mutation == "ntk_lrc" and cfg.mutations_per_cycle and cfg.cycles and cfg.ntk_images > len(train):
        raise InvalidParameterError(
            f"{caller}(): config.ntk_images={cfg.ntk_images} exceeds the {len(train)} training images; "
            "expected ntk_images <= the number of training images."
        )
    run = _Run(cfg, ablation, strategy, plan, seed, dev, train, test, Path(out_dir), progress)
    state = run.latest()
    cycles = [] if state is None else state["cycles"]
    graphs = ([CellGraph.initial(j + 1) for j in range(cfg.reductions + 1)] if state is None
              else [CellGraph.from_dict(g) for g in state["graphs"]])
    if state is None or state["phase"] == "cycle":
        graphs, cycles = _cycles(run, graphs, cycles)
        state = None
    model, final = run.final(graphs, cycles, state)
    summary = _finish(run, model, cycles, final, Path(out_dir if final_dir is None else final_dir))
    if final_dir is None:
        write_json(run.out / "result.json", summary, indent=1)
    return SpiderNetResult(model, summary)


def _cycles(run: _Run, graphs: list[CellGraph], cycles: list[dict]) -> tuple[list[CellGraph], list[dict]]:
    bar = tqdm(total=run.cfg.cycles, initial=len(cycles), desc="cycles", disable=not run.progress, leave=False)
    for c in range(len(cycles), run.cfg.cycles):
        model, row, history = run.cycle(c, graphs)
        cycles = [*cycles, row]
        graphs = copy.deepcopy(model.graphs)
        run.save(
            f"cycle_{c:03d}",
            {
                "phase": "cycle",
                "cycles": cycles,
                "graphs": _graph_dicts(model),
                "state_dict": _cpu_state(model),
                "pruner_history": history,
                "rng": {"seed": run.seed, "next_cycle": c + 1},
            },
        )
        run.write_log(cycles)
        bar.update()
        bar.set_postfix(ops=row["ops_after"], mutations=row["accepted"])
    bar.close()
    return graphs, cycles


def _finish(run: _Run, model: SpiderNet, cycles: list[dict], final: dict, named: Path) -> dict:
    """Write architecture.json and the cell drawings; return the summary (its file paths in folder `named`)."""
    out = run.out
    out.mkdir(parents=True, exist_ok=True)
    arch = {"C": run.cfg.C, "reductions": run.cfg.reductions,
            "cells": [{"cell": j, "channels": model.channels(j), "n_nodes": len(g.nodes), "n_edges": len(g.edges),
                       "n_ops": g.n_ops(), "graph": g.to_dict()} for j, g in enumerate(model.graphs)]}
    write_json(out / "architecture.json", arch, indent=1)
    for j, g in enumerate(model.graphs):
        kind = "normal" if j == 0 else "reduction"
        draw_cell(g, out / f"cell_{j}.png", title=f"cell {j} ({kind}, {model.channels(j)} channels): {g.n_ops()} ops")
    drawings = [str(named / f"cell_{j}.png") for j in range(len(model.graphs))]
    search = sum(r["seconds"] for r in cycles)
    train_s = sum(r["seconds"] for r in final["epochs"])
    total = search + train_s + final["eval_seconds"]
    on_cuda = run.dev.type == "cuda"
    kind = "cuda_max_memory_allocated" if on_cuda else "param_and_buffer_bytes"
    summary = {
        **run.identity(),
        "strategy": dataclasses.asdict(run.strategy),
        "device": str(run.dev),
        "test_acc": final["test_acc"],
        "n_params": model.n_params(),
        "memory": {
            "bytes": final["peak_bytes"] if on_cuda else param_bytes(model),
            "kind": kind,
            "note": (
                "peak allocated during the final training and test, resident CIFAR-10 tensors included "
                "(resumed runs: the maximum over the processes)"
                if on_cuda
                else "CPU run: parameter + buffer bytes of the final model, not a peak"
            ),
        },
        "seconds": {"search": search, "final_training": train_s, "test": final["eval_seconds"], "total": total},
        "mutations": {
            "attempted": sum(len(r["mutations"]) for r in cycles),
            "accepted": sum(r["accepted"] for r in cycles),
        },
        "cycles": cycles,
        "final": {k: final[k] for k in ("epochs", "deleted")},
        "architecture": arch,
        "files": {
            "result": str(named / "result.json"),
            "architecture": str(named / "architecture.json"),
            "cells": drawings,
            "log": str(named / "log.json"),
            "checkpoints": str(named / "checkpoints"),
        },
        "provenance": provenance(run.dev),
    }
    return summary


__all__ = ["DeletionPlan", "PHASES", "SpiderNetResult", "delete_random_ops", "phase_seed", "run_spidernet"]
