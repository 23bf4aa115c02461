"""`nasbench-eval reproduce`: rerun a paper's table (training-free NAS Tables I-V, TE-NAS Table 1 and
correlation figures) and print our mean ± std beside the published numbers and the difference; or run a
reproduction that trains supernets ([PUP] Table 2, [LZ] Fig. 4), resumably."""
from __future__ import annotations

from .._validation import MAX_EPOCHS, check_out_dir, int_arg, kept_on_failure
from ..provenance import provenance
from ..device import resolve_device
from ..benchmarks import create_benchmark
from ..exceptions import InvalidParameterError, UnknownNameError
from ..reproduce import RunContext, list_tables, markdown, run_table, write
from ..reproduce.published import TABLES
from ..reproduce.trained import EXPERIMENTS, ExperimentContext, list_experiments, run_experiment
from ..store import ScoreStore


def add_arguments(p):
    p.add_argument("name", nargs="?", help="table or experiment to reproduce (see --list)")
    p.add_argument("--list", action="store_true", help="list the reproducible tables and experiments and exit")
    p.add_argument("--quick", action="store_true",
                   help="small CPU-feasible run (fewer seeds, small N / images / epochs, cheap settings); NOT comparable to the paper")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available)")
    p.add_argument("--seeds", type=int_arg(1, 100), default=None,
                   help="seeds per row (default: the paper's, or our stated choice)")
    p.add_argument("--epochs", type=int_arg(1, MAX_EPOCHS), default=None,
                   help="trained experiments only: Stage-1 epochs of every supernet instead of the paper's (the report states it)")
    p.add_argument("--out", default=None, help="output folder (default out/reproduce/NAME, NAME-quick for trained quick runs)")
    p.add_argument("--store", default=None, help="tables only: score store SQLite file (default: $NASBENCH_EVAL_CACHE/scores.sqlite)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")


def _listing() -> dict:
    return {"tables": [{"name": t.name, "title": t.title, "paper": t.paper, "source": t.source, "rows": len(t.rows)}
                       for t in TABLES.values()],
            "experiments": [{"name": e.name, "title": e.title, "paper": e.paper, "source": e.source, "kind": "trains supernets"}
                            for e in EXPERIMENTS.values()]}


def _run_experiment(args) -> dict:
    out = check_out_dir(args.out or f"out/reproduce/{args.name}{'-quick' if args.quick else ''}")  # before training
    ctx = ExperimentContext(out, device=args.device, data_dir=args.data_dir, quick=args.quick, seeds=args.seeds,
                            epochs=args.epochs, progress=not args.no_progress)
    return run_experiment(args.name, ctx)


def run(args) -> dict:
    if args.list:
        return _listing()
    names = list_tables() + list_experiments()
    if args.name is None:
        raise InvalidParameterError(f"reproduce(): name=None is missing; expected one of {names} (or --list).")
    if args.name in EXPERIMENTS:
        return _run_experiment(args)
    if args.name not in TABLES:
        raise UnknownNameError(f"reproduce(): name={args.name!r} is not a reproducible table or experiment; expected one of {names}.")
    if args.epochs is not None:
        raise InvalidParameterError(f"reproduce(): --epochs={args.epochs!r} does not apply to table {args.name!r}, which trains nothing; "
                                    f"expected it only with {list_experiments()}.")
    table = TABLES[args.name]
    bench = create_benchmark("nb201", data_dir=args.data_dir)
    out = check_out_dir(args.out or f"out/reproduce/{table.name}")  # before scoring
    with ScoreStore(args.store) as store:
        ctx = RunContext(bench=bench, store=store, device=args.device, data_dir=args.data_dir, quick=args.quick,
                         seeds=args.seeds, progress=not args.no_progress)
        result = run_table(table, ctx)
        result["store"] = str(store.path)
    result["provenance"] = provenance(resolve_device(args.device))
    with kept_on_failure(f"the scores are kept in the score store {result['store']}; rerun with a writable --out "
                         "to write the table without scoring again"):
        result["files"] = write(result, out)
    return result


def format_text(result: dict) -> str:
    if "tables" in result:
        entries = result["tables"] + result["experiments"]
        width = max(len(t["name"]) for t in entries)
        lines = [f"{t['name']:<{width}}  {t['source']:<16} {t['title']}" for t in result["tables"]]
        lines += ["", "trained (supernets; --quick for a CPU-sized run, --epochs to shorten):"]
        return "\n".join(lines + [f"{t['name']:<{width}}  {t['source']:<16} {t['title']}" for t in result["experiments"]])
    files = result["files"]
    if "experiment" in result:
        return EXPERIMENTS[result["experiment"]].markdown(result) + f"\nwritten: {', '.join(files.values())}"
    return markdown(result) + f"\nwritten: {files['markdown']}, {files['csv']}, {files['json']}   store: {result['store']}"
