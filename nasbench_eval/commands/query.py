"""`nasbench-eval query ARCH_OR_INDEX`: ground-truth accuracy and index of one architecture."""
from __future__ import annotations

from ..benchmarks import DATASETS, METRICS, create_benchmark


def add_arguments(p):
    p.add_argument("arch", help="benchmark index (e.g. 6111) or official string ('|nor_conv_3x3~0|+...' or '8:16:24:32:64')")
    p.add_argument("--dataset", default="cifar10", choices=DATASETS)
    p.add_argument("--metric", default="test_acc", choices=METRICS)
    p.add_argument("--epochs", type=int, default=200, help="training schedule (NATS hp): 12 or 200 for tss, 1, 12 or 90 for sss (default 200)")
    p.add_argument("--space", default="tss", choices=("tss", "sss"))
    p.add_argument("--nats-path", help="official NATS-Bench benchmark file/folder (default: the offline table)")


def run(args) -> dict:
    bench = create_benchmark("nb201" if args.space == "tss" else "nats_sss", path=args.nats_path, data_dir=args.data_dir)
    index = bench.index_of(args.arch)
    value = bench.query(index, dataset=args.dataset, metric=args.metric, epochs=args.epochs)
    return {
        "index": index, "arch": bench.arch_str(index), "space": args.space, "dataset": args.dataset,
        "metric": args.metric, "epochs": args.epochs, "value": value,
    }


def format_text(r: dict) -> str:
    return (
        f"index {r['index']}  {r['arch']}\n"
        f"{r['dataset']} {r['metric']} (epochs={r['epochs']}): {r['value']:.2f}"
    )
