"""`nasbench-eval spidernet --cycles C ... --out DIR`: grow, train and test a SpiderNet on CIFAR-10 (Algorithm 2).

One ablation and seed: DIR is the run folder. Several (``--ablation spidernet random2 --seed 0 1``): one
run folder ``DIR/<ablation>_s<seed>`` each, run in parallel by the executor (``--workers``, ``--executor
ray``); random1 / random4 without --reference copy the deadhead counts of the spidernet run of their seed.
Reruns with the same settings and --out skip finished runs and resume the others after their last
finished cycle or final-training epoch.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from .._validation import (
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_IMAGES,
    MAX_LR,
    SEED_MAX,
    check_out_dir,
    float_arg,
    int_arg,
)
from ..exceptions import InvalidParameterError
from ..spidernet.config import STRATEGIES, SpiderNetConfig
from ..spidernet.runs import SpiderNetUnit, run_spidernets
from ._scoring_args import add_executor_arguments, open_executor

_CONFIG_FLAGS = {  # CLI dest -> SpiderNetConfig field
    "cycles": "cycles",
    "mutations_per_cycle": "mutations_per_cycle",
    "epochs_per_cycle": "epochs_per_cycle",
    "final_epochs": "final_epochs",
    "init_channels": "C",
    "reductions": "reductions",
    "vram_gb": "vram_gb",
    "batch_size": "batch_size",
    "lr": "lr",
    "n_good": "n_good",
    "ntk_images": "ntk_images",
    "lrc_patches": "lrc_patches",
}


def add_arguments(p):
    d = SpiderNetConfig()
    p.add_argument("--out", required=True, help="run folder (checkpoints, log, result, architecture, cell drawings)")
    p.add_argument("--cycles", type=int_arg(0, 1000), help=f"mutation cycles (default {d.cycles}, paper §4.2)")
    p.add_argument("--mutations-per-cycle", type=int_arg(0, 100_000),
                   help=f"mutation attempts per cycle (default {d.mutations_per_cycle})")
    p.add_argument("--epochs-per-cycle", type=int_arg(0, MAX_EPOCHS),
                   help=f"training epochs per cycle (default {d.epochs_per_cycle})")
    p.add_argument("--final-epochs", type=int_arg(0, MAX_EPOCHS),
                   help=f"final training epochs (default {d.final_epochs}, paper §4.1)")
    p.add_argument("--init-channels", type=int_arg(1, 1024),
                   help=f"channels of the stem and the normal cell (default {d.C})")
    p.add_argument("--reductions", type=int_arg(0, 5), help=f"reduction cells (default {d.reductions})")
    p.add_argument("--vram-gb", type=float_arg(0, 1e6, exclusive_minimum=True),
                   help=f"memory budget s_max in GiB (default {d.vram_gb:g})")
    p.add_argument("--batch-size", type=int_arg(1, MAX_BATCH), help=f"training batch size (default {d.batch_size})")
    p.add_argument("--lr", type=float_arg(0, MAX_LR, exclusive_minimum=True),
                   help=f"peak learning rate, cosine-annealed to 0 in every phase (default {d.lr:g})")
    p.add_argument("--n-good", type=int_arg(1, 100_000),
                   help=f"Algorithm 1 stops sampling after this many good mutations (default {d.n_good})")
    p.add_argument("--ntk-images", type=int_arg(2, MAX_IMAGES),
                   help=f"Algorithm 1's NTK images (default {d.ntk_images}, 3 batches)")
    p.add_argument("--lrc-patches", type=int_arg(1, 10_000_000),
                   help=f"Algorithm 1's LRC patches (default {d.lrc_patches}, 3 batches)")
    p.add_argument("--ablation", nargs="+", default=["spidernet"], choices=list(STRATEGIES),
                   help="spidernet, or random1..random4 of paper Table 1; several run in parallel (default spidernet)")
    p.add_argument("--reference", help="random1 / random4: --out folder of a finished spidernet run (its deadhead "
                                       "counts; default with several runs: the spidernet run of the same seed)")
    p.add_argument("--train-images", type=int_arg(1, MAX_IMAGES),
                   help="use a seeded subset of this many CIFAR-10 training images (quick runs)")
    p.add_argument("--test-images", type=int_arg(1, MAX_IMAGES),
                   help="use a seeded subset of this many CIFAR-10 test images (quick runs)")
    p.add_argument("--seed", type=int_arg(0, SEED_MAX), nargs="+", default=[0],
                   help="seed of weights, batches, mutations, deletions; several run in parallel (default 0)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA if available)")
    p.add_argument("--quiet", action="store_true", help="no progress bars on stderr")
    add_executor_arguments(p)


def _config(args) -> SpiderNetConfig:
    """Paper defaults, overridden by every flag that was given (None = not given)."""
    given = {field: getattr(args, dest) for dest, field in _CONFIG_FLAGS.items() if getattr(args, dest) is not None}
    ntk = {"ntk_batches": min(3, given["ntk_images"])} if "ntk_images" in given else {}
    lrc = {"lrc_batches": min(3, given["lrc_patches"])} if "lrc_patches" in given else {}
    return dataclasses.replace(SpiderNetConfig(), **given, **ntk, **lrc)


KEEP = ("ablation", "seed", "config", "n_train", "n_test", "device", "test_acc", "n_params", "memory", "seconds",
        "mutations", "cycles", "architecture", "files", "provenance")
"""Summary fields the command returns per run."""


def _distinct(flag: str, values: list) -> list:
    if len(set(values)) != len(values):
        raise InvalidParameterError(f"{flag} {' '.join(map(str, values))} repeats a value; expected distinct values.")
    return values


def _units(args, config: SpiderNetConfig, out: Path) -> list[SpiderNetUnit]:
    """One unit per (ablation, seed): `out` itself for a single run, else ``out/<ablation>_s<seed>``."""
    ablations, seeds = _distinct("--ablation", args.ablation), _distinct("--seed", args.seed)
    single = len(ablations) == len(seeds) == 1
    folder = {(a, s): os.path.abspath(out if single else out / f"{a}_s{s}") for a in ablations for s in seeds}
    reference = {(a, s): None if not STRATEGIES[a].needs_reference else args.reference or folder.get(("spidernet", s))
                 for a, s in folder}
    return [SpiderNetUnit(folder[a, s], config, a, reference=reference[a, s], seed=s,
                          device=args.device, n_train=args.train_images, n_test=args.test_images,
                          data_dir=args.data_dir, progress=not args.quiet)
            for s in seeds for a in ablations]


def run(args) -> dict:
    config = _config(args)  # a bad combination of settings fails before anything is created
    out = check_out_dir(args.out)  # before training: a bad --out never costs the training
    units = _units(args, config, out)
    with open_executor(args) as executor:
        bars = executor.workers == 1  # bars of parallel runs would overwrite each other
        summaries = run_spidernets([dataclasses.replace(u, progress=u.progress and bars) for u in units],
                                   executor=executor)
    rows = [{k: s[k] for k in KEEP} for s in summaries]
    return rows[0] if len(rows) == 1 else {"runs": rows}


def format_text(r: dict) -> str:
    if "runs" in r:
        return "\n\n".join(format_text(row) for row in r["runs"])
    cfg, sec, mem = r["config"], r["seconds"], r["memory"]
    cells = ", ".join(f"cell {c['cell']}: {c['n_nodes']} nodes / {c['n_edges']} edges / {c['n_ops']} ops"
                      for c in r["architecture"]["cells"])
    lines = [f"{r['ablation']} seed {r['seed']} on {r['device']}: C={cfg['C']}, {cfg['reductions']} reductions, "
             f"{cfg['cycles']} cycles x {cfg['mutations_per_cycle']} mutations, {cfg['final_epochs']} final epochs, "
             f"{r['n_train']} train / {r['n_test']} test images"]
    for row in r["cycles"]:
        pruned = len(row["deadheaded"]) + len(row["deleted"])
        lines.append(f"  cycle {row['cycle']}: {row['ops_before']} ops, {pruned} pruned, "
                     f"{row['accepted']} mutations accepted / {row['rejected']} rejected -> {row['ops_after']} ops "
                     f"({row['seconds']:.1f} s)")
    lines += [
        f"architecture: {cells}",
        f"test accuracy {r['test_acc']:.2f}%, {r['n_params'] / 1e6:.3f} M params, memory {mem['bytes'] / 2**30:.3f} "
        f"GiB ({mem['kind']})",
        f"wall time: search {sec['search']:.1f} s, final training {sec['final_training']:.1f} s, total "
        f"{sec['total']:.1f} s",
        f"run folder: {Path(r['files']['result']).parent}",
    ]
    return "\n".join(lines)
