"""Throughput of the batched engine vs the one-at-a-time path, same code, same device, same run.

For each core proxy (spec defaults: nwot B=128, synflow, ntk_cond B=32 × 3 repeats, lr_count
3 × 1,000 patches × 3 repeats) it scores the same seeded sample of NB201 archs with
`nasbench_eval.engine.score_many` and with `score_arch` in a loop, checks that the values agree
(spec §6.5), and profiles one group (top operators by self time). Writes
``benchmarks/results/proxy_throughput_<device>.json``.

    python benchmarks/proxy_throughput.py --device cpu --archs 20 --ntk-archs 4
    python benchmarks/proxy_throughput.py --device cuda --archs 1000 --seq-archs 50   # on a GPU machine
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import pathlib
import random
import sys
import time

import torch

from nasbench_eval._json import write_json
from nasbench_eval.engine import score_many
from nasbench_eval.engine.sizing import auto_group_size
from nasbench_eval.data.specs import DATASET_SPECS
from nasbench_eval.proxies import resolve_settings, rows_needed, score_arch
from nasbench_eval.space import NUM_ARCHS, all_archs

CORE = ("nwot", "synflow", "ntk_cond", "lr_count")
RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def make_batch(proxy: str, dataset: str, device: torch.device, seed: int) -> tuple[tuple, str]:
    """The real proxy batch if the data mirror is found, else seeded N(0,1) images (same shape)."""
    rows = rows_needed(proxy)
    res = DATASET_SPECS[dataset].resolution
    try:
        from nasbench_eval.data import proxy_batch
        x, _ = proxy_batch(dataset, rows, seed=seed, augment=proxy == "ntk_cond", device=device)
        return (x, None), "real images (proxy_batch)"
    except Exception as err:  # noqa: BLE001 - benchmark falls back to synthetic data and records why
        x = torch.randn(rows, 3, res, res, generator=torch.Generator().manual_seed(seed)).to(device)
        return (x, None), f"N(0,1) images ({type(err).__name__})"


def tiny_options(proxy: str) -> dict:
    """Smoke-scale options: C=4, N=1 for full networks, 8 rows for image proxies (synflow reads one row)."""
    full = {"C": 4, "N": 1} if resolve_settings(proxy)["network"] == "full" else {}
    return full | ({"batch_size": 8} if proxy not in ("synflow", "synflow_log") else {})


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def profile_group(archs, proxy, batch, device, group_size, over, top=8) -> list[dict]:
    """Top operators by self time while scoring one group."""
    acts = [torch.profiler.ProfilerActivity.CPU] + (
        [torch.profiler.ProfilerActivity.CUDA] if device.type == "cuda" else []
    )
    with torch.profiler.profile(activities=acts) as prof:
        score_many(archs[:group_size], proxy, batch, device=device, group_size=group_size, **over)
        sync(device)
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    events = sorted(prof.key_averages(), key=lambda e: getattr(e, key, 0), reverse=True)[:top]
    return [{"op": e.key, "self_ms": round(getattr(e, key, 0) / 1e3, 2), "calls": e.count} for e in events]


def measure(proxy, archs, batch, device, group_size, rel, seq_archs=None, over=None) -> dict:
    """Grouped on all `archs` and one at a time on the first `seq_archs` of them (default all), alternating
    group by group (a load change hits both); speedup = per-arch seconds one at a time / grouped."""
    over = over or {}
    seq_archs = len(archs) if seq_archs is None else seq_archs
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    got, want, t_batched, t_seq = [], [], 0.0, 0.0
    for start in range(0, len(archs), group_size):
        group = archs[start:start + group_size]
        sync(device)
        t0 = time.perf_counter()
        got += score_many(group, proxy, batch, device=device, group_size=group_size, **over)
        sync(device)
        t_batched += time.perf_counter() - t0
        t0 = time.perf_counter()
        want += [score_arch(a, proxy, batch, device=device, **over) for a in group[:max(0, seq_archs - start)]]
        sync(device)
        t_seq += time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    worst = max((0.0 if g.value == w.value or (math.isnan(g.value) and math.isnan(w.value))
                 else abs(g.value - w.value) / abs(w.value)) for g, w in zip(got, want))
    return {
        "proxy": proxy, "archs": len(archs), "group_size": group_size,
        "seq_archs": len(want),
        "archs_per_s_batched": len(archs) / t_batched, "archs_per_s_sequential": len(want) / t_seq,
        "speedup": (t_seq / len(want)) / (t_batched / len(archs)),
        "seconds_batched": t_batched, "seconds_sequential": t_seq,
        "peak_memory_bytes_batched": peak, "max_rel_diff_vs_sequential": worst,
        "statuses_equal": all(g.status == w.status for g, w in zip(got, want)), "tolerance": rel,
        "interleaved": "per group: grouped, then the same archs one at a time",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--archs", type=int, default=20, help="seeded random NB201 archs per proxy")
    ap.add_argument("--ntk-archs", type=int, default=None, help="fewer archs for ntk_cond (slow on CPU)")
    ap.add_argument("--seq-archs", type=int, default=None, help="archs scored one at a time (default: all)")
    ap.add_argument("--tiny", action="store_true", help="smoke scale: C=4, N=1, batch 8 (numbers mean nothing)")
    ap.add_argument("--group-size", type=int, default=None, help="default: engine.sizing.auto_group_size")
    ap.add_argument("--proxies", default=",".join(CORE))
    ap.add_argument("--dataset", default="cifar10")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    sample = [str(a) for a in random.Random(args.seed).sample(list(all_archs()), args.archs)]
    tol = {"nwot": 1e-6, "synflow": 1e-5, "ntk_cond": 1e-5, "lr_count": 0.0}
    rows, per_arch_s = [], {}
    for proxy in args.proxies.split(","):
        archs = sample[: args.ntk_archs] if proxy == "ntk_cond" and args.ntk_archs else sample
        over = tiny_options(proxy) if args.tiny else {}
        group = args.group_size or auto_group_size(proxy, resolve_settings(proxy, **over), device)
        batch, data = make_batch(proxy, args.dataset, device, args.seed)
        score_many(archs[:1], proxy, batch, device=device, group_size=1, **over)   # warm-up
        row = measure(proxy, archs, batch, device, min(group, len(archs)), tol.get(proxy, 1e-5), args.seq_archs,
                      over) | {"options": over}
        row["data"] = data
        if not args.no_profile:
            row["profile_one_group_top_ops"] = profile_group(archs, proxy, batch, device, min(group, len(archs)), over)
        rows.append(row)
        per_arch_s[proxy] = 1.0 / row["archs_per_s_batched"]
        print(json.dumps({k: v for k, v in row.items() if k != "profile_one_group_top_ops"}), file=sys.stderr)
        path = write(args, argv, device, rows, per_arch_s)   # after every proxy: a killed run keeps what it measured
    print(path)
    return 0


def write(args, argv, device, rows, per_arch_s) -> pathlib.Path:
    core_done = [p for p in CORE if p in per_arch_s]
    out = {
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"cpu ({torch.get_num_threads()} threads)",
        "loadavg": os.getloadavg(),
        "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "python "
        + " ".join([pathlib.Path(sys.argv[0]).as_posix(), *(argv if argv is not None else sys.argv[1:])]),
        "seed": args.seed,
        "dataset": args.dataset,
        "proxies": rows,
        "full_space_seconds": sum(per_arch_s[p] for p in core_done) * NUM_ARCHS,
        "full_space_note": (
            f"extrapolation: batched seconds per arch measured on {args.archs} archs "
            f"({args.ntk_archs or args.archs} for ntk_cond), times {NUM_ARCHS} archs, summed over {core_done}"
            + ("" if len(core_done) == len(CORE) else f"; missing {sorted(set(CORE) - set(core_done))}")
        ),
    }
    path = pathlib.Path(args.out) if args.out else RESULTS / f"proxy_throughput_{device.type}.json"
    write_json(path, out)   # strict JSON: a non-finite number (e.g. a NaN-vs-number mismatch) is written as null
    return path


if __name__ == "__main__":
    raise SystemExit(main())
