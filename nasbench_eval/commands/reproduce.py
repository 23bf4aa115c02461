"""`nasbench-eval reproduce`: rerun a paper's table (training-free NAS Tables I-V, TE-NAS Table 1 and
correlation figures) and print our mean ± std beside the published numbers and the difference; or run a
reproduction that trains supernets ([PUP] Table 2, [LZ] Fig. 4), resumably."""
from __future__ import annotations

from .._validation import MAX_EPOCHS, check_out_dir, int_arg
from ..exceptions import InvalidParameterError
from ..reproduce import REPRODUCTIONS, ReproductionContext, list_experiments, list_tables, run_reproduction
from ._scoring_args import add_executor_arguments, open_executor


def add_arguments(p):
    p.add_argument("name", nargs="?", help="table or experiment to reproduce (see --list)")
    p.add_argument("--list", action="store_true", help="list the reproducible tables and experiments and exit")
    p.add_argument(
        "--quick",
        action="store_true",
        help="small CPU-feasible run (fewer seeds, small N / images / epochs, cheap settings); NOT comparable to the "
             "paper",
    )
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available)")
    p.add_argument("--seeds", type=int_arg(1, 100), default=None,
                   help="seeds per row (default: the paper's, or our stated choice)")
    p.add_argument(
        "--epochs",
        type=int_arg(1, MAX_EPOCHS),
        default=None,
        help="trained experiments only: Stage-1 epochs of every supernet instead of the paper's (the report states it)",
    )
    p.add_argument("--out", default=None, help="output folder (default out/reproduce/NAME, NAME-quick for quick runs)")
    p.add_argument(
        "--store",
        default=None,
        help="tables only: score store SQLite file (default: $NASBENCH_EVAL_CACHE/scores.sqlite)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    add_executor_arguments(p)


def _listing() -> dict:
    def entry(name):
        r = REPRODUCTIONS[name]
        return {"name": r.name, "title": r.title, "paper": r.paper, "source": r.source}
    return {"tables": [{**entry(n), "rows": len(REPRODUCTIONS[n].spec.rows)} for n in list_tables()],
            "experiments": [{**entry(n), "kind": "trains supernets"} for n in list_experiments()]}


def run(args) -> dict:
    if args.list:
        return _listing()
    if args.name is None:
        raise InvalidParameterError(
            f"reproduce(): name=None is missing; expected one of {list(REPRODUCTIONS)} (or --list).")
    name = REPRODUCTIONS.get(args.name).name
    out = check_out_dir(args.out or f"out/reproduce/{name}{'-quick' if args.quick else ''}")  # before any work
    with open_executor(args) as executor:
        ctx = ReproductionContext(out, device=args.device, data_dir=args.data_dir, quick=args.quick, seeds=args.seeds,
                                  epochs=args.epochs, store=args.store, progress=not args.no_progress,
                                  executor=executor)
        return run_reproduction(name, ctx)


def format_text(result: dict) -> str:
    if "tables" in result:
        entries = result["tables"] + result["experiments"]
        width = max(len(t["name"]) for t in entries)
        lines = [f"{t['name']:<{width}}  {t['source']:<16} {t['title']}" for t in result["tables"]]
        lines += ["", "trained (supernets; --quick for a CPU-sized run, --epochs to shorten):"]
        return "\n".join(
            lines + [f"{t['name']:<{width}}  {t['source']:<16} {t['title']}" for t in result["experiments"]]
        )
    store = f"   store: {result['store']}" if "store" in result else ""
    written = f"\nwritten: {', '.join(result['files'].values())}{store}"
    return REPRODUCTIONS[result["reproduction"]].markdown(result) + written
