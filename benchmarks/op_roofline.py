"""Roofline of every operator a proxy runs: each aten op `score_arch` dispatches, timed, with the multiply-adds it
does (torch's FLOP formulas) and the bytes it reads and writes. An op's floor is the larger of its MACs at this
machine's conv / GEMM rate and its bytes at this machine's memory bandwidth, both measured in the same run.

`roofline.py` bounds a proxy by its multiply-adds alone. This script says where the rest of the time goes:
ops that run far from their own floor (slow kernels), many memory-bound passes whose floors add up (what only
fusing ops would remove), or time outside the kernels (Python, autograd bookkeeping: wall minus kernel time).

    OMP_NUM_THREADS=1 python benchmarks/op_roofline.py --proxies nwot,snip --archs 3   # results/op_roofline_cpu.json
    python benchmarks/op_roofline.py --smoke --out /tmp/o.json                          # tiny networks, seconds
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import flop_registry

sys.path.insert(0, str(Path(__file__).resolve().parent))
from roofline import _timed, make_batch, rates, smoke_overrides  # noqa: E402

from nasbench_eval._json import write_json  # noqa: E402
from nasbench_eval.proxies import rows_needed, score_arch  # noqa: E402
from nasbench_eval.provenance import provenance  # noqa: E402
from nasbench_eval.space import all_archs  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PROXIES = ("nwot", "synflow", "jacob_cov", "snip", "grad_norm", "fisher", "grasp", "ntk_cond")
GEMM_OPS = {"mm", "addmm", "bmm", "baddbmm", "_int_mm", "matmul"}


def _tensors(tree) -> list[torch.Tensor]:
    return [t for t in tree_leaves(tree) if isinstance(t, torch.Tensor)]


def _touched(tensors: list[torch.Tensor]) -> int:
    """Bytes of the distinct tensors (by data pointer and size): what an op reads (or writes) at least once."""
    seen = {(t.data_ptr(), t.numel(), t.dtype): t.numel() * t.element_size() for t in tensors}
    return sum(seen.values())


class OpMeter(TorchDispatchMode):
    """Per aten op name: calls, seconds inside the op, MACs and bytes moved (views move none)."""

    def __init__(self):
        super().__init__()
        self.ops: dict[str, dict] = defaultdict(lambda: {"calls": 0, "seconds": 0.0, "macs": 0, "bytes": 0,
                                                         "dtypes": set()})

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        t0 = time.perf_counter()
        out = func(*args, **kwargs)
        seconds = time.perf_counter() - t0
        name = func.overloadpacket.__name__
        row = self.ops[name]
        row["calls"] += 1
        row["seconds"] += seconds
        if func.is_view:
            return out
        inputs = _tensors((args, kwargs))
        row["bytes"] += _touched(inputs) + _touched(_tensors(out))
        row["dtypes"].update(str(t.dtype).removeprefix("torch.") for t in inputs)
        if func.overloadpacket in flop_registry:
            row["macs"] += flop_registry[func.overloadpacket](*args, **kwargs, out_val=out) // 2
        elif name == "_int_mm":
            (m, k), n = args[0].shape, args[1].shape[1]
            row["macs"] += m * k * n
        return out


def bandwidth(smoke: bool) -> dict:
    """Bytes/s of ``torch.add(a, b, out=o)`` (3 streams), best of 5, for a cache-resident and a DRAM-sized tensor."""
    out = {}
    for label, mib in (("cache", 8), ("dram", 32 if smoke else 256)):
        a, b, o = (torch.randn(mib * 2 ** 18) for _ in range(3))
        torch.add(a, b, out=o)
        best = min(_timed(lambda: torch.add(a, b, out=o)) for _ in range(5))
        out[f"{label}_bytes_per_s"] = 3 * a.numel() * 4 / best
    return out


def floor_seconds(name: str, row: dict, machine: dict) -> tuple[float, float]:
    """(compute floor, memory floor) of one op's totals: MACs at the conv or GEMM rate of its dtype, bytes at the
    cache-resident bandwidth (the higher one, so the floor is a lower bound)."""
    dtype = "float64" if "float64" in row["dtypes"] else ("int8" if name == "_int_mm" else "float32")
    kind = "gemm_macs_per_s" if name in GEMM_OPS else "conv_macs_per_s"
    rate = machine[dtype].get(kind, machine[dtype]["gemm_macs_per_s"])
    return row["macs"] / rate, row["bytes"] / machine["bandwidth"]["cache_bytes_per_s"]


def measure(proxy: str, archs: list[str], xy, over: dict, machine: dict, top: int) -> dict:
    """Wall seconds per arch (no meter), then every op's totals under the meter, per arch, with floors."""
    score_arch(archs[0], proxy, xy, device="cpu", **over)                      # warm-up
    wall = [_timed(lambda: score_arch(a, proxy, xy, device="cpu", **over)) for a in archs]
    meter = OpMeter()
    with meter:
        for a in archs:
            score_arch(a, proxy, xy, device="cpu", **over)
    n = len(archs)
    ops = []
    for name, row in meter.ops.items():
        compute, memory = floor_seconds(name, row, machine)
        ops.append({"op": name, "calls": row["calls"] / n, "seconds": row["seconds"] / n, "macs": row["macs"] / n,
                    "bytes": row["bytes"] / n, "compute_floor_s": compute / n, "memory_floor_s": memory / n,
                    "floor_s": max(compute, memory) / n, "bound": "compute" if compute >= memory else "memory"})
    ops.sort(key=lambda r: r["seconds"], reverse=True)
    kernel_s = sum(r["seconds"] for r in ops)
    floor_s = sum(r["floor_s"] for r in ops)
    return {"proxy": proxy, "archs": n, "overrides": over,
            "median_wall_s": statistics.median(wall), "kernel_s": kernel_s, "floor_s": floor_s,
            "compute_floor_s": sum(r["compute_floor_s"] for r in ops),
            "memory_floor_s": sum(r["memory_floor_s"] for r in ops),
            "wall_over_floor": statistics.median(wall) / floor_s, "kernels_over_floor": kernel_s / floor_s,
            "outside_kernels_share": 1 - kernel_s / statistics.median(wall) if kernel_s < statistics.median(wall)
            else 0.0,
            "ops": [r | {"share_of_kernel_s": r["seconds"] / kernel_s, "over_floor": r["seconds"] / r["floor_s"]
                         if r["floor_s"] > 0 else None} for r in ops[:top]]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--proxies", default=",".join(PROXIES))
    ap.add_argument("--archs", type=int, default=3, help="seeded random NB201 archs per proxy (ntk_cond: 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layout", choices=("channels_last", "contiguous"), default="channels_last")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--smoke", action="store_true", help="tiny networks (C=4, N=1), small batches, 1 arch")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    machine = rates(args.smoke) | {"bandwidth": bandwidth(args.smoke)}
    archs = [str(a) for a in random.Random(args.seed).sample(list(all_archs()), 1 if args.smoke else args.archs)]
    xy, data = make_batch(max(rows_needed(p) for p in args.proxies.split(",")), 32, args.seed, args.layout)
    rows = []
    for proxy in args.proxies.split(","):
        over = smoke_overrides(proxy) if args.smoke else {}
        if proxy == "ntk_cond":
            over |= {"repeats": 1}
        rows.append(measure(proxy, archs[:1] if proxy == "ntk_cond" else archs, xy, over, machine, args.top))
        r = rows[-1]
        print(f"{proxy:<10} wall {r['median_wall_s']:.3f} s  kernels {r['kernel_s']:.3f} s  floor {r['floor_s']:.3f} s "
              f"(compute {r['compute_floor_s']:.3f}, memory {r['memory_floor_s']:.3f})", file=sys.stderr)
    record = {"benchmark": "op_roofline", **provenance("cpu"), "threads": torch.get_num_threads(), "data": data,
              "layout": args.layout, "seed": args.seed, "machine_rates": machine, "proxies": rows,
              "note": "per arch; ntk_cond one repeat of one arch. An op's floor is max(MACs / rate, bytes / cache "
                      "bandwidth), summed over its calls; kernel_s is the time inside aten ops under the meter, "
                      "median_wall_s is score_arch without it (network build included)"}
    path = Path(args.out) if args.out else RESULTS / "op_roofline_cpu.json"
    write_json(path, record)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
