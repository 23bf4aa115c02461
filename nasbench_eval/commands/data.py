"""`nasbench-eval data import|info`: convert official NATS-Bench files to the offline table; show what data is found.

    nasbench-eval data import --nats ~/.torch/NATS-sss-v1_0-50262-simple --space sss [--out DIR] [--force]
    nasbench-eval data info [--data-dir DIR] [--json]

`import` writes ``DIR/nats/{space}_accuracy.csv`` (DIR: --out, else --data-dir, else
$NASBENCH_EVAL_DATA, else ./data), which ``create_benchmark("nats_sss" | "nats_tss", data_dir=DIR)``
then loads without the official files.
"""
from __future__ import annotations

import argparse
import time

from ..benchmarks.nats_api import import_official
from ..benchmarks.table import TableBenchmark
from ..data import describe_data
from ..paths import candidate_data_dirs


def add_arguments(p):
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="official NATS-Bench files -> DIR/nats/{space}_accuracy.csv")
    imp.add_argument("--nats", required=True, metavar="PATH", help="the extracted *-simple folder, its parent, or a full .pickle.pbz2 file")
    imp.add_argument("--space", required=True, choices=("tss", "sss"))
    imp.add_argument("--out", metavar="DIR", help="data folder to write into (default: --data-dir, $NASBENCH_EVAL_DATA, else ./data)")
    imp.add_argument("--force", action="store_true", help="replace an existing table")
    info = actions.add_parser("info", help="which datasets and benchmark tables are found, and where")
    for sub in (imp, info):  # so the common options also work after the action; SUPPRESS keeps values given before it
        sub.add_argument("--data-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def run(args) -> dict:
    if args.action == "import":
        return _import(args)
    return {"action": "info", **describe_data(args.data_dir)}


def _import(args) -> dict:
    out_dir = args.out if args.out is not None else candidate_data_dirs(args.data_dir)[0][1]
    start = time.perf_counter()
    table, bench = import_official(args.nats, args.space, out_dir, overwrite=args.force)
    check = TableBenchmark(table, args.space, expected_rows=len(bench))  # the written file must load as a table
    return {
        "action": "import", "space": args.space, "source": str(bench.path), "table": str(table),
        "rows": len(check), "columns": [f"{d}_{m}_{e}ep" for d, m, e in check.keys()],
        "has_isomorph": check.isomorph_keys() is not None, "seconds": round(time.perf_counter() - start, 3),
    }


def format_text(r: dict) -> str:
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
    lines.append(f"cache: {r['cache_dir']}")
    return "\n".join(lines)
