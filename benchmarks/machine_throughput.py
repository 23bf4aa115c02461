"""Whole-machine throughput: seconds per arch when ours and the reference code each score the same archs with
every core of this machine, each the way it runs.

`roofline.py` compares kernels at one torch thread each. A user scoring a sample has the whole machine, and
the two run it differently:

- ``ours``: `score_space`, the CLI's path (local executor, one worker per available core at one torch thread,
  the engine choosing grouped or one at a time); worker start-up, batch loading and network builds included.
  ``ours_scoring_seconds_per_arch`` is the workers' own scoring time per arch divided by the cores: what
  remains once a long run has amortized the pool's start-up and each worker's batch loading.
- ``reference_as_shipped``: the reference loop in this process at torch's default thread count (every
  core), as its own scripts run it.
- ``reference_sharded``: the same loop split by hand over one process per core at one thread each, the most
  a user could get from the reference code here (its workers' start-up is not charged).

Both reference rows build each arch's networks (`roofline.protocol_calls`) in the timed loop, as their scripts
do, and get the NCHW batch their loaders stack. Same seeded archs for all three; they alternate per round
(reversed every other round) and the medians over rounds are reported. Each proxy first waits for other
processes to leave the CPU and records what they took while it ran.

    python benchmarks/machine_throughput.py --archs 16 --ntk-archs 4 --grasp-archs 8 --rounds 3
    python benchmarks/machine_throughput.py --smoke --no-reference --out /tmp/m.json    # seconds, tiny nets
"""
from __future__ import annotations

import argparse
import multiprocessing
import pathlib
import random
import statistics
import time

import torch
from _quiet import ForeignMeter, wait_quiet

import roofline
from nasbench_eval._json import write_json
from nasbench_eval.executors import make_executor
from nasbench_eval.executors.base import available_cores, torch_threads
from nasbench_eval.provenance import provenance
from nasbench_eval.scoring.score_space import score_space
from nasbench_eval.space import all_archs

RESULTS = pathlib.Path(__file__).resolve().parent / "results"

_worker: dict = {}
"""A sharded-reference worker's references and batch, set once by `_init_reference_worker`."""


def _init_reference_worker(ref_root: str, seed: int) -> None:
    torch.set_num_threads(1)
    _worker["refs"] = roofline.References(pathlib.Path(ref_root))
    xy, _ = roofline.make_batch(3000, 32, seed, "contiguous")
    _worker["xy"] = xy


def _reference_unit(job: tuple) -> None:
    proxy, arch, seed, over = job
    _worker["refs"](proxy, roofline.protocol_calls(arch, proxy, _worker["xy"], "cifar10", seed, over))


def run_ours(proxy: str, archs: list[str], seed: int, over: dict, cores: int) -> float:
    """Score `archs` as the CLI does; returns the workers' own scoring seconds, summed over the archs."""
    executor = make_executor("local", workers=cores, threads=1)
    frame = score_space(archs, [proxy], device="cpu", seed=seed, options=over or None, progress=False,
                        executor=executor)
    return float(frame[f"{proxy}_seconds"].sum())


def run_shipped(proxy: str, archs: list[str], seed: int, over: dict, refs, xy, cores: int) -> None:
    with torch_threads(cores):
        for arch in archs:
            refs(proxy, roofline.protocol_calls(arch, proxy, xy, "cifar10", seed, over))


def run_sharded(proxy: str, archs: list[str], seed: int, over: dict, pool) -> None:
    pool.map(_reference_unit, [(proxy, arch, seed, over) for arch in archs], chunksize=1)


def measure(proxy: str, archs: list[str], args, refs, xy, pool, cores: int) -> dict:
    over = roofline.smoke_overrides(proxy) if args.smoke else {}
    runners = {"ours": lambda: run_ours(proxy, archs, args.seed, over, cores)}
    if refs is not None:
        runners["reference_as_shipped"] = lambda: run_shipped(proxy, archs, args.seed, over, refs, xy, cores)
        runners["reference_sharded"] = lambda: run_sharded(proxy, archs, args.seed, over, pool)
    busy_before = wait_quiet(args.wait_quiet)
    per_arch, ours_compute = {side: [] for side in runners}, []
    with ForeignMeter() as other:
        for r in range(args.rounds):
            for side in (list(runners) if r % 2 == 0 else list(runners)[::-1]):
                t0 = time.perf_counter()
                compute = runners[side]()
                per_arch[side].append((time.perf_counter() - t0) / len(archs))
                if side == "ours":
                    ours_compute.append(compute / cores / len(archs))
    row = {"proxy": proxy, "archs": len(archs), "overrides": over, "seconds_per_arch": per_arch,
           "median_seconds_per_arch": {side: statistics.median(s) for side, s in per_arch.items()},
           "ours_scoring_seconds_per_arch": statistics.median(ours_compute),
           "other_processes_before": busy_before, "other_cores_during": other.cores,
           "other_processes_during": other.who}
    if refs is not None:
        med = row["median_seconds_per_arch"]
        row["speedup_vs_reference_as_shipped"] = med["reference_as_shipped"] / med["ours"]
        row["speedup_vs_reference_sharded"] = med["reference_sharded"] / med["ours"]
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=16, help="seeded random NB201 archs per proxy")
    ap.add_argument("--ntk-archs", type=int, default=4, help="fewer archs for ntk_cond")
    ap.add_argument("--grasp-archs", type=int, default=8, help="fewer archs for grasp")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--proxies", default=",".join(roofline.PROXIES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ref-root", default="/tmp/ref", help="scratch folder holding the reference checkouts")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--wait-quiet", type=float, default=120.0,
                    help="before each proxy, wait up to this many seconds for other processes to leave the CPU")
    ap.add_argument("--smoke", action="store_true", help="tiny networks (C=4, N=1), 2 archs, 1 round")
    ap.add_argument("--out", default=str(RESULTS / "machine_throughput_cpu.json"))
    args = ap.parse_args(argv)
    if args.smoke:
        args.archs = args.ntk_archs = args.grasp_archs = 2
        args.rounds, args.wait_quiet = 1, 0.0
    cores = available_cores()
    sample = [str(a) for a in random.Random(args.seed).sample(list(all_archs()), args.archs)]
    counts = {"ntk_cond": args.ntk_archs, "grasp": args.grasp_archs}
    refs = pool = xy = None
    if not args.no_reference:
        refs = roofline.References(pathlib.Path(args.ref_root))
        xy = roofline.make_batch(3000, 32, args.seed, "contiguous")[0]
        pool = multiprocessing.get_context("spawn").Pool(cores, _init_reference_worker, (args.ref_root, args.seed))
        pool.map(abs, range(cores))                    # workers up and references loaded before any timing
    with make_executor("local", workers=cores, threads=1) as warm:   # the forkserver's imports, not charged
        list(warm.run(abs, [0] * cores))
    rows = []
    try:
        for proxy in args.proxies.split(","):
            archs = sample[:counts.get(proxy, args.archs)]
            rows.append(measure(proxy, archs, args, refs, xy, pool, cores))
            print({k: v for k, v in rows[-1].items() if k.startswith(("proxy", "median", "speedup"))}, flush=True)
    finally:
        if pool is not None:
            pool.terminate()
    record = {"benchmark": "machine_throughput", **provenance("cpu"), "available_cores": cores,
              "threads": {"ours": "1 per worker", "reference_as_shipped": cores, "reference_sharded": "1 per worker"},
              "seed": args.seed, "rounds": args.rounds, "proxies": rows,
              "note": " ".join(" ".join(__doc__.split("\n\n")[1:4]).split())}
    write_json(pathlib.Path(args.out), record)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
