"""Scoring with glibc's default thresholds against `keep_freed_memory`: fresh processes, alternating, each scoring
the same seeded archs with `score_arch` on one torch thread; seconds per proxy and minor page faults per process.

    python benchmarks/allocator.py --rounds 3 --archs 6        # writes results/allocator_cpu.json
    python benchmarks/allocator.py --smoke --out /tmp/a.json     # tiny networks, 1 round
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from nasbench_eval._json import write_json
from nasbench_eval.provenance import provenance

RESULTS = Path(__file__).resolve().parent / "results"
CHILD = """
import json, random, resource, sys, time, torch
torch.set_num_threads(1)
mode, proxies, n, smoke = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4] == "1"
from nasbench_eval.allocator import keep_freed_memory
applied = keep_freed_memory() if mode == "tuned" else False
from nasbench_eval.data import proxy_batch
from nasbench_eval.proxies import score_arch
from nasbench_eval.space import all_archs
xy = proxy_batch("cifar10", 128, seed=0, device="cpu")
archs = [str(a) for a in random.Random(0).sample(list(all_archs()), n)]
opts = {"C": 4, "N": 1, "batch_size": 8} if smoke else {}
seconds = {}
for proxy in proxies:
    score_arch(archs[0], proxy, xy, device="cpu", **opts)
    t0 = time.perf_counter()
    for a in archs:
        score_arch(a, proxy, xy, device="cpu", **opts)
    seconds[proxy] = (time.perf_counter() - t0) / n
print(json.dumps({"mode": mode, "applied": applied, "seconds_per_arch": seconds,
                  "minor_faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt}))
"""


def run_child(mode: str, proxies: str, archs: int, smoke: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | {"OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, mode, proxies, str(archs), "1" if smoke else "0"],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--proxies", default="nwot,jacob_cov,snip")
    ap.add_argument("--archs", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=str(RESULTS / "allocator_cpu.json"))
    args = ap.parse_args(argv)
    runs = []
    for _ in range(1 if args.smoke else args.rounds):
        for mode in ("default", "tuned"):
            runs.append(run_child(mode, args.proxies, 2 if args.smoke else args.archs, args.smoke))
            print(runs[-1], file=sys.stderr)
    summary = {}
    for proxy in args.proxies.split(","):
        med = {m: statistics.median(r["seconds_per_arch"][proxy] for r in runs if r["mode"] == m)
               for m in ("default", "tuned")}
        summary[proxy] = med | {"speedup": med["default"] / med["tuned"]}
    record = {"benchmark": "allocator", **provenance("cpu"), "threads": 1, "archs": args.archs,
              "summary": summary, "runs": runs,
              "note": "median over rounds of seconds per arch (score_arch, network build included); fresh process "
                      "per run, default and tuned alternating; minor_faults of the whole process"}
    write_json(Path(args.out), record)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
