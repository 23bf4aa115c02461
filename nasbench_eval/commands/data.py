"""`nasbench-eval data add|import|info`: register datasets you have, convert official benchmark files,
show what is found.

    nasbench-eval data add cifar100 ~/datasets/cifar-100-python [--copy] [--force]
    nasbench-eval data import --nats ~/.torch/NATS-sss-v1_0-50262-simple --space sss [--out DIR] [--force]
    nasbench-eval data import --nb201 ~/NAS-Bench-201-v1_1-096897.pth [--out DIR] [--force]
    nasbench-eval data info [--data-dir DIR] [--json]

`add` checks that PATH holds the dataset in an official format (it reads the test part), then records
it in the per-user data folder (a link to PATH, or a copy with --copy), where every command finds it.
`import` writes ``DIR/nats/{space}_accuracy.csv`` (DIR: --out, else --data-dir, else
$NASBENCH_EVAL_DATA, else ./data), which ``create_benchmark("nats_sss" | "nats_tss", data_dir=DIR)``
then loads without the official files.
"""
from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from .._validation import check_out_dir
from ..exceptions import InvalidParameterError
from ..paths import candidate_data_dirs, user_data_dir

ADD_TARGET = {"cifar10": "cifar10/cifar-10-batches-py", "cifar100": "cifar100/cifar-100-python",
              "ImageNet16-120": "ImageNet16"}
"""Dataset name -> where `add` records it inside the per-user data folder (where `locate` looks)."""


def add_arguments(p):
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="check a dataset you have and register it in the per-user data folder")
    add.add_argument("dataset", choices=tuple(ADD_TARGET), help="which dataset PATH holds")
    add.add_argument("path", metavar="PATH", help="the official folder (cifar-10-batches-py, cifar-100-python, NB201's "
                                                   "ImageNet16) or its parent")
    add.add_argument("--copy", action="store_true", help="copy the files instead of linking to PATH")
    add.add_argument("--force", action="store_true", help="replace a dataset registered before")
    imp = actions.add_parser(
        "import", help="official NATS-Bench / NAS-Bench-201 files -> DIR/nats/{space}_accuracy.csv"
    )
    src = imp.add_mutually_exclusive_group(required=True)
    src.add_argument("--nats", metavar="PATH",
                     help="the extracted *-simple / *-full folder, its parent, or a full .pickle.pbz2 file; always an "
                          "explicit path. Its pickles are read through nasbench_eval.safe_pickle, which admits only "
                          "plain data and numpy arrays, so a hostile file runs no code")
    src.add_argument("--nb201", metavar="FILE", help="a NAS-Bench-201 .pth file (e.g. NAS-Bench-201-v1_1-096897.pth; "
                                                      "read with torch.load(weights_only=True))")
    imp.add_argument("--space", choices=("tss", "sss"), default=None, help="space of --nats (required with --nats)")
    imp.add_argument(
        "--out", metavar="DIR", help="data folder to write into (default: --data-dir, $NASBENCH_EVAL_DATA, else ./data)"
    )
    imp.add_argument("--force", action="store_true", help="replace an existing table")
    info = actions.add_parser("info", help="which datasets and benchmark tables are found, and where")
    for sub in (
        add,
        imp,
        info,
    ):  # so the common options also work after the action; SUPPRESS keeps values given before it
        sub.add_argument("--data-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def run(args) -> dict:
    if args.action == "add":
        return _add(args)
    if args.action == "import":
        return _import(args)
    from ..data import describe_data

    return {"action": "info", **describe_data(args.data_dir)}


def _add(args) -> dict:
    """Validate PATH (locate + read the test part), then link or copy it into the per-user data folder."""
    from ..data import get_spec, locate
    from ..data.sources import read_part

    source = get_spec(args.dataset).source
    found = locate(source, root=args.path)                     # DataNotFoundError: one line naming what was looked for
    if found.kind.endswith("jpeg"):
        raise InvalidParameterError(
            f"data add: {found.path} is the JPEG npz; pass the official python folder, or use --data-dir."
        )
    images, labels = read_part(found, "test")                  # CorruptDataError on a damaged or foreign file
    folder = found.path.parent
    target = user_data_dir() / ADD_TARGET[args.dataset]
    if target.exists() or target.is_symlink():
        if not args.force:
            raise InvalidParameterError(f"data add: {target} already exists; pass --force to replace it.")
        shutil.rmtree(target) if target.is_dir() and not target.is_symlink() else target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if args.copy:
        shutil.copytree(folder, target)
    else:
        target.symlink_to(folder.resolve(), target_is_directory=True)
    return {"action": "add", "dataset": args.dataset, "format": found.kind, "source": str(folder),
            "registered": str(target), "copied": bool(args.copy), "test_images": int(len(labels)),
            "resolution": int(images.shape[1])}


def _import(args) -> dict:
    from ..benchmarks.nats_api import import_official
    from ..benchmarks.table import TableBenchmark

    if args.nats is not None and args.space is None:
        raise InvalidParameterError("data import --nats needs --space tss or --space sss.")
    if args.nats is not None and Path(args.nats).suffix == ".pth":
        raise InvalidParameterError(
            f"data import: --nats {args.nats!r} is a NAS-Bench-201 .pth file, not a NATS-Bench archive; use --nb201."
        )
    if args.nb201 is not None and (Path(args.nb201).suffix != ".pth" or args.space == "sss"):
        raise InvalidParameterError(
            f"data import: --nb201 {args.nb201!r} must be a NAS-Bench-201 .pth file (topology space only)."
        )
    space = args.space or "tss"
    out_dir = check_out_dir(args.out if args.out is not None else candidate_data_dirs(args.data_dir)[0][1])
    start = time.perf_counter()
    table, bench = import_official(args.nats or args.nb201, space, out_dir, overwrite=args.force)
    check = TableBenchmark(table, space, expected_rows=len(bench))  # the written file must load as a table
    return {
        "action": "import", "space": space, "source": str(bench.path), "table": str(table),
        "rows": len(check), "columns": [f"{d}_{m}_{e}ep" for d, m, e in check.keys()],
        "has_isomorph": check.isomorph_keys() is not None, "seconds": round(time.perf_counter() - start, 3),
    }


def format_text(r: dict) -> str:
    if r["action"] == "add":
        how = "copied to" if r["copied"] else "linked from"
        return (f"registered {r['dataset']} ({r['format']}, {r['test_images']} test images checked): {r['registered']} "
                f"{how} {r['source']}")
    if r["action"] == "import":
        return (
            f"wrote {r['table']}: {r['rows']} {r['space']} architectures, {len(r['columns'])} accuracy columns"
            f"{' + isomorph' if r['has_isomorph'] else ''} ({r['seconds']:.1f} s)\nfrom {r['source']}"
        )
    lines = ["data places searched:"]
    lines += [f"  {p['origin']:<16} {p['path']}{'' if p['exists'] else '  (missing)'}" for p in r["places"]]
    lines.append("datasets:")
    for name, d in r["datasets"].items():
        lines.append(f"  {name:<16} {d['format'] + '  ' + d['path'] if d['found'] else 'not found'}")
    lines.append("benchmark tables:")
    for name, t in r["tables"].items():
        lines.append(f"  {name:<16} {t['path'] if t['found'] else 'not found'}")
    probe = r["probe_set"]
    lines.append(f"CIFAR-10 probe set: {probe['path']} ({probe['images']} images; the default proxy batches)")
    lines.append(f"cache: {r['cache_dir']}")
    return "\n".join(lines)
