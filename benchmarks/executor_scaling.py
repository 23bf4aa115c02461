"""Executor scaling: 1 vs 2 workers scoring 64 archs with nwot and synflow, for the local process pool and
for Ray, plus each executor's per-task overhead and start-up cost.

Every configuration scores the same archs from scratch (no store) at one torch thread per worker; the
scores must be bit-identical across all of them (recorded as ``identical``). Per-task overhead is the wall
time per unit of 400 units that do nothing (``abs(i)``), workers already started; start-up is the time to
a first finished unit (local: forkserver importing torch, then 2 workers; ray: `ray.init` of a local
instance, then its workers). Target (issue 17):
process pool, 2 workers >= 1.7x one worker. On a shared machine each timed run first waits (``--wait-quiet``)
until no other non-niced process is busy, and records how many cores other processes took while it ran
(``other_cores_during``): a run beside a busy neighbour is not a scaling figure.

    python benchmarks/executor_scaling.py [--archs 64] [--executors local,ray]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from _quiet import ForeignMeter, wait_quiet

from nasbench_eval._json import write_json
from nasbench_eval.benchmarks import create_benchmark
from nasbench_eval.executors import make_executor
from nasbench_eval.executors.base import available_cores
from nasbench_eval.provenance import provenance
from nasbench_eval.scoring.score_space import score_space

RESULTS = Path(__file__).resolve().parent / "results"
PROXIES = ["nwot", "synflow"]
TARGET = 1.7
NOOP_TASKS = 400


def _time_scoring(executor, archs) -> tuple[float, object, ForeignMeter]:
    with ForeignMeter() as other:
        t0 = time.perf_counter()
        frame = score_space(archs, PROXIES, device="cpu", progress=False, executor=executor)
        seconds = time.perf_counter() - t0
    return seconds, frame.drop(columns=[c for c in frame.columns if c.endswith("_seconds")]), other


def _overhead(executor) -> float:
    """Seconds per do-nothing unit (workers already started)."""
    t0 = time.perf_counter()
    list(executor.run(abs, list(range(NOOP_TASKS))))
    return (time.perf_counter() - t0) / NOOP_TASKS


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--archs", type=int, default=64)
    p.add_argument("--executors", default="local,ray")
    p.add_argument("--out", default=str(RESULTS / "executor_scaling_cpu.json"))
    p.add_argument("--wait-quiet", type=float, default=600.0,
                   help="before each timed run, wait up to this many seconds for other processes to leave the CPU")
    args = p.parse_args(argv)
    bench = create_benchmark("nb201")
    archs = [bench.arch_str(i) for i in range(0, len(bench), len(bench) // args.archs)][: args.archs]
    runs, frames, startup = [], [], {}
    for name in args.executors.split(","):
        t0 = time.perf_counter()
        with make_executor(name, workers=2, threads=1) as probe:  # Ray: starts the local instance once
            list(probe.run(abs, [0] * 4))  # local: starts the forkserver and 2 workers
            startup[name] = round(time.perf_counter() - t0, 3)
            overhead = _overhead(probe)
            for workers in (1, 2):
                ex = make_executor(name, workers=workers, threads=1)
                busy_before = wait_quiet(args.wait_quiet)
                seconds, frame, other = _time_scoring(ex, archs)
                frames.append(frame)
                runs.append({"executor": name, "workers": workers, "threads": 1, "wall_seconds": round(seconds, 2),
                             "seconds_per_arch": round(seconds / len(archs), 4),
                             "per_task_overhead_ms": round(overhead * 1e3, 3), "load_average_1min": os.getloadavg()[0],
                             "other_processes_before": busy_before, "other_cores_during": other.cores,
                             "other_processes_during": other.who})
                print(runs[-1], flush=True)
    speedup = {name: round(next(r["wall_seconds"] for r in runs if r["executor"] == name and r["workers"] == 1)
                           / next(r["wall_seconds"] for r in runs if r["executor"] == name and r["workers"] == 2), 3)
               for name in startup}
    identical = all(f.equals(frames[0]) for f in frames[1:])
    record = {"benchmark": "executor_scaling", **provenance("cpu"), "available_cores": available_cores(),
              "archs": len(archs), "proxies": PROXIES, "startup_seconds": startup,
              "speedup_2_vs_1_workers": speedup, "target_local_speedup": TARGET,
              "local_target_met": speedup.get("local", 0) >= TARGET, "identical": identical, "runs": runs}
    write_json(Path(args.out), record)
    print({"speedup": speedup, "identical": identical, "startup_seconds": startup})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
