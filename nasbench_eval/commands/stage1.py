"""`nasbench-eval stage1 --method darts --epochs E --seed S --out DIR`: train an NB201 supernet with a Stage-1 method.

After every epoch the state is saved to ``DIR/checkpoint.pt``; rerunning the same command after Ctrl-C, a crash or
``kill -9`` resumes after the last finished epoch and gives the same run as an uninterrupted one.
"""
from __future__ import annotations

import sys
import time
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
from ..exceptions import NasBenchEvalError
from ..data.specs import DATASET_SPECS
from ..nets.supernet import SUBSPACES
from ..paths import cache_dir
from ..train import METHODS, save_run, train_stage1
from ..train.loop import resolve_hparams

CHECKPOINT = "checkpoint.pt"
"""State after the last finished epoch, in the run folder: a rerun of the same command resumes from it."""


def add_arguments(p):
    p.add_argument("--method", required=True, choices=sorted(METHODS), help="Stage-1 method")
    p.add_argument("--out", required=True, help="run directory to write (weights, distributions, curves, config)")
    p.add_argument("--seed", type=int_arg(0, SEED_MAX), default=0,
                   help="seed of weights, batches, paths and noise (default 0)")
    p.add_argument("--epochs", type=int_arg(1, MAX_EPOCHS), help="training epochs (default: the method's paper value)")
    p.add_argument("--batch-size", type=int_arg(1, MAX_BATCH), help="batch size (default: the method's paper value)")
    p.add_argument("--lr", type=float_arg(0, MAX_LR, exclusive_minimum=True),
                   help="initial learning rate of the shared weights")
    p.add_argument("--cells-per-stage", type=int_arg(1, 20),
                   help="cells per stage N (5 as the benchmark, 2 as Laube & Zell)")
    p.add_argument("--channels", type=int_arg(1, 1024), dest="C", help="channels C of the first stage (default 16)")
    p.add_argument(
        "--space", default="full", choices=list(SUBSPACES), help="subspace: full, no_none, only_conv (default full)"
    )
    p.add_argument("--dataset", default="cifar10", choices=list(DATASET_SPECS),
                   help="training images to split (default cifar10)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA if available)")
    p.add_argument("--train-images", type=int_arg(1, MAX_IMAGES),
                   help="use only this many images of the train half (quick runs)")
    p.add_argument("--valid-images", type=int_arg(1, MAX_IMAGES),
                   help="use only this many images of the valid half (quick runs)")
    p.add_argument("--bias-depth", type=int_arg(1, 3),
                   help="spos: bias weights over the current and D previous choices (1..3)")
    p.add_argument("--split-epoch", type=int_arg(0, MAX_EPOCHS),
                   help="spos: split the weights by the previous choice at this epoch")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")


def run(args) -> dict:
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "cells_per_stage": args.cells_per_stage,
        "C": args.C,
        "bias_depth": args.bias_depth,
        "split_epoch": args.split_epoch,
    }
    resolve_hparams(args.method, overrides)  # bad settings fail before the run folder is created
    out_dir = check_out_dir(args.out)  # before training: a bad --out never costs the training

    def progress(epoch, row):
        if not args.quiet:
            print(f"epoch {epoch}: loss {row['train_loss']:.4f} acc {row['train_acc']:.2f}% lr {row['lr']:.5f} "
                  f"{row['seconds']:.1f}s", file=sys.stderr)

    result = train_stage1(args.method, seed=args.seed, dataset=args.dataset, space=args.space, device=args.device,
                          hparams=overrides, n_train=args.train_images, n_valid=args.valid_images,
                          data_dir=args.data_dir, progress=progress, checkpoint=out_dir / CHECKPOINT)
    out = _save(result, out_dir)
    c = result.curves
    return {"out": str(out), "config": result.config, "final_train_loss": c["train_loss"][-1],
            "final_train_acc": c["train_acc"][-1], "seconds_per_epoch": c["seconds"],
            "edge_probs": result.method.edge_probs().tolist()}


def _save(result, out_dir: Path) -> Path:
    """save_run into `out_dir`; if that fails, into a rescue folder in the cache, and say where."""
    try:
        return save_run(result, out_dir)
    except OSError as err:
        rescue = cache_dir() / "rescued" / f"{result.config['method']}_s{result.config['seed']}_{int(time.time())}"
        try:
            save_run(result, rescue)
        except OSError:
            raise NasBenchEvalError(f"writing the run to {str(out_dir)!r} failed ({err.strerror}), and so did the "
                                    f"rescue copy to {str(rescue)!r}; the trained supernet is lost.") from err
        raise NasBenchEvalError(f"writing the run to {str(out_dir)!r} failed ({err.strerror}); the trained run is "
                                f"kept in {str(rescue)!r} (a complete run folder: move it where you want).") from err


def format_text(r: dict) -> str:
    cfg = r["config"]
    hp = cfg["hparams"]
    secs = r["seconds_per_epoch"]
    return "\n".join(
        [
            f"{cfg['method']} seed {cfg['seed']} on {cfg['dataset']} ({cfg['space']} space, N={hp['cells_per_stage']}, "
            f"C={hp['C']}, "
            f"{cfg['n_train']} train / {cfg['n_valid']} valid images, {cfg['device']})",
            f"{hp['epochs']} epochs, {sum(secs) / len(secs):.2f} s/epoch; final train loss "
            f"{r['final_train_loss']:.4f}, "
            f"acc {r['final_train_acc']:.2f}%",
            f"run directory: {r['out']}",
        ]
    )
