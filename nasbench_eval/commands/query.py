"""`nasbench-eval query ARCH_OR_INDEX`: ground-truth accuracy and index of one architecture."""
from __future__ import annotations

import math
from pathlib import Path

from .._validation import MAX_EPOCHS, int_arg
from ..benchmarks import DATASETS, METRICS, create_benchmark
from ..exceptions import DataNotFoundError, InvalidParameterError


def add_arguments(p):
    p.add_argument(
        "arch", help="benchmark index (e.g. 6111) or official string ('|nor_conv_3x3~0|+...' or '8:16:24:32:64')"
    )
    p.add_argument("--dataset", default="cifar10", choices=DATASETS)
    p.add_argument("--metric", default="test_acc", choices=METRICS)
    p.add_argument("--epochs", type=int_arg(1, MAX_EPOCHS), default=200,
                   help="training schedule (NATS hp): 12 or 200 for tss, 1, 12 or 90 for sss (default 200)")
    p.add_argument("--space", default="tss", choices=("tss", "sss"))
    official = p.add_mutually_exclusive_group()
    official.add_argument(
        "--nats-path",
        nargs="?",
        const="",
        metavar="PATH",
        help="read the official NATS-Bench archive (folder, its parent, or full .pickle.pbz2; one record "
        "per query); without PATH: $TORCH_HOME, else ~/.torch (default: the package's table)",
    )
    official.add_argument(
        "--nb201-path",
        metavar="FILE",
        help="read an official NAS-Bench-201 .pth file (e.g. NAS-Bench-201-v1_1-096897.pth; loaded whole)",
    )


def official_path(args):
    """The official file to read: --nb201-path, --nats-path (a .pth there is refused), "" for the default places,
    or None (the table)."""
    if args.nb201_path is not None:
        if Path(args.nb201_path).is_dir() or Path(args.nb201_path).suffix != ".pth":
            raise InvalidParameterError(
                f"--nb201-path {args.nb201_path!r} is not a NAS-Bench-201 .pth file; "
                "for a NATS-Bench archive use --nats-path.")
        return args.nb201_path
    if args.nats_path is not None and Path(args.nats_path).suffix == ".pth":
        raise InvalidParameterError(
            f"--nats-path {args.nats_path!r} is a NAS-Bench-201 .pth file, not a NATS-Bench archive; "
            "read it with --nb201-path.")
    return args.nats_path


def run(args) -> dict:
    bench = create_benchmark(
        "nb201" if args.space == "tss" else "nats_sss", path=official_path(args), data_dir=args.data_dir
    )
    index = bench.index_of(args.arch)
    value = bench.query(index, dataset=args.dataset, metric=args.metric, epochs=args.epochs)
    if math.isnan(value):
        raise DataNotFoundError(f"{bench.name} holds no {args.dataset} {args.metric} at {args.epochs} epochs for "
                                f"index {index} (an empty cell); expected a measured value, try another --metric "
                                "or --epochs.")
    return {
        "index": index, "arch": bench.arch_str(index), "space": args.space, "dataset": args.dataset,
        "metric": args.metric, "epochs": args.epochs, "value": value,
    }


def format_text(r: dict) -> str:
    return (
        f"index {r['index']}  {r['arch']}\n"
        f"{r['dataset']} {r['metric']} (epochs={r['epochs']}): {r['value']:.2f}"
    )
