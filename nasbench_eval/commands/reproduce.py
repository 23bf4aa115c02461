"""`nasbench-eval reproduce`: rerun a paper's table (training-free NAS Tables I-V, TE-NAS Table 1 and
correlation figures) and print our mean ± std beside the published numbers and the difference."""
from __future__ import annotations

from ..provenance import provenance
from ..device import resolve_device
from ..benchmarks import create_benchmark
from ..exceptions import InvalidParameterError
from ..reproduce import RunContext, get_table, list_tables, markdown, run_table, write
from ..reproduce.published import TABLES
from ..store import ScoreStore

HELP = "reproduce a published table (list them with --list) and compare our numbers with the paper's"


def add_arguments(p):
    p.add_argument("name", nargs="?", help="table to reproduce (see --list)")
    p.add_argument("--list", action="store_true", help="list the reproducible tables and exit")
    p.add_argument("--quick", action="store_true",
                   help="small CPU-feasible run (2 seeds, small N, cheap proxy settings); NOT comparable to the paper")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N for proxy scores (default: cuda if available)")
    p.add_argument("--seeds", type=int, default=None, help="seeds per row (default: the paper's, or our stated choice)")
    p.add_argument("--out", default=None, help="output folder (default out/reproduce/NAME)")
    p.add_argument("--store", default=None, help="score store SQLite file (default: $NASBENCH_EVAL_CACHE/scores.sqlite)")
    p.add_argument("--no-progress", action="store_true", help="no scoring progress bars on stderr")


def _listing() -> dict:
    return {"tables": [{"name": t.name, "title": t.title, "paper": t.paper, "source": t.source, "rows": len(t.rows)}
                       for t in TABLES.values()]}


def run(args) -> dict:
    if args.list:
        return _listing()
    if args.name is None:
        raise InvalidParameterError(f"reproduce(): name=None is missing; expected one of {list_tables()} (or --list).")
    table = get_table(args.name)
    bench = create_benchmark("nb201", data_dir=args.data_dir)
    with ScoreStore(args.store) as store:
        ctx = RunContext(bench=bench, store=store, device=args.device, data_dir=args.data_dir, quick=args.quick,
                         seeds=args.seeds, progress=not args.no_progress)
        result = run_table(table, ctx)
        result["store"] = str(store.path)
    result["provenance"] = provenance(resolve_device(args.device))
    result["files"] = write(result, args.out or f"out/reproduce/{table.name}")
    return result


def format_text(result: dict) -> str:
    if "tables" in result:
        width = max(len(t["name"]) for t in result["tables"])
        return "\n".join(f"{t['name']:<{width}}  {t['source']:<16} {t['title']}" for t in result["tables"])
    files = result["files"]
    return markdown(result) + f"\nwritten: {files['markdown']}, {files['csv']}, {files['json']}   store: {result['store']}"
