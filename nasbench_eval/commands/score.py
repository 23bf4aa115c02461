"""`nasbench-eval score`: score architectures into the score store and export a table."""
from __future__ import annotations

import numpy as np

from .._validation import check_out_file, kept_on_failure
from ..benchmarks import create_benchmark
from ..scoring.score_space import resolve_proxies, score_space
from ._scoring_args import (add_scoring_arguments, batch_pool, open_executor, open_store, proxy_options,
                            select_indices)


def add_arguments(p):
    p.add_argument(
        "--metrics",
        "--metric",
        dest="metric",
        required=True,
        help="comma-separated proxies or aliases, e.g. naswot,synflow,ntk,lr",
    )
    add_scoring_arguments(p, default_sample=None)
    p.add_argument("--out", default="out/scores.csv", help="table to write (default out/scores.csv)")


def run(args) -> dict:
    proxies = resolve_proxies(args.metric, caller="score")
    bench = create_benchmark("nb201", data_dir=args.data_dir)
    indices = select_indices(args, bench, default_sample=None)
    out = check_out_file(args.out)  # before scoring: a bad --out never costs the scoring
    with open_store(args) as store, open_executor(args) as executor:
        frame = score_space([bench.arch_str(i) for i in indices], proxies, space=args.space, dataset=args.dataset,
                            seed=args.seed, device=args.device, profile=args.profile, options=proxy_options(args),
                            data_dir=args.data_dir, store=store, progress=not args.no_progress, pool=batch_pool(args),
                            executor=executor)
        store_path, ran_on = str(store.path), executor.describe()
    frame.insert(0, "index", indices)
    with kept_on_failure(f"the scores are kept in the score store {store_path}; rerun with a writable --out "
                         "to export them without scoring again"):
        frame.to_csv(out, index=False)
    per_proxy = {}
    for p in proxies:
        v = frame[p].to_numpy(dtype=np.float64)
        per_proxy[p] = {
            "n_ok": int((frame[f"{p}_status"] == "ok").sum()),
            "n_failed": int((frame[f"{p}_status"] != "ok").sum()),
            "seconds": float(np.nansum(frame[f"{p}_seconds"])),
            "median": float(np.nanmedian(v[np.isfinite(v)])) if np.isfinite(v).any() else None,
        }
    return {
        "n_archs": len(indices),
        "dataset": args.dataset,
        "seed": args.seed,
        "proxies": per_proxy,
        "table": str(out),
        "store": store_path,
        "executor": ran_on,
    }


def format_text(r: dict) -> str:
    lines = [f"{r['n_archs']} architectures scored on {r['dataset']} (seed {r['seed']})"]
    for p, s in r["proxies"].items():
        lines.append(f"  {p:<12} ok {s['n_ok']:>6}  failed {s['n_failed']:>5}  compute {s['seconds']:.1f} s")
    lines.append(f"table: {r['table']}   store: {r['store']}")
    return "\n".join(lines)
