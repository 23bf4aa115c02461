"""The cells' 3×3 average pool: PyTorch's avg_pool2d against the depthwise box sum (`nasbench_eval.nets.box_pool`),
forward and forward + backward, on the shapes NB201 networks pool, at one torch thread.

Each row also checks that the two agree bit for bit (values, strides, gradient), times the dispatcher's self-check
(paid once per shape and process; with gradients, and forward only as under ``no_grad``), and gives the memory
floor: one read of x and one write of y (forward), plus one read of the cotangent and one write of the gradient
(backward), at the rate of an out-of-place ReLU on the same tensor, measured in the same run. glibc keeps freed
memory, as in every scoring process (`nasbench_eval.allocator`): otherwise each new 4-8 MiB tensor page-faults its
memory in again, and the times of both pools vary from run to run.

Then, per proxy, `score_arch` on the same seeded archs with the box pool and with the native one, interleaved arch
by arch in one process: the seconds per arch each way, and whether every score is bit for bit the same.

    python benchmarks/box_pool.py                 # results/box_pool_cpu.json
"""
from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import time
from pathlib import Path

import torch

import roofline
from nasbench_eval._json import write_json
from nasbench_eval.allocator import keep_freed_memory
from nasbench_eval.nets import box_pool as pool_impl
from nasbench_eval.nets.box_pool import _box_matches_native, _BoxMean, _same, native_avg_pool3x3
from nasbench_eval.proxies import score_arch
from nasbench_eval.proxies.scoring import rows_needed
from nasbench_eval.provenance import provenance
from nasbench_eval.space import all_archs

RESULTS = Path(__file__).resolve().parent / "results"
SHAPES = [(64, 16, 32, 32), (64, 32, 16, 16), (64, 64, 8, 8), (128, 16, 32, 32), (128, 32, 16, 16), (128, 64, 8, 8)]
"""(B, C, H, W) of the three stages at the saliency proxies' batch (64) and NASWOT's (128)."""
PROXIES = ("nwot", "synflow", "lr_count", "jacob_cov", "snip", "grad_norm", "fisher", "grasp", "ntk_cond")


def _median_seconds(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _forward_backward(pool, x, g):
    x = x.detach().requires_grad_(True)
    y = pool(x)
    return y.detach(), torch.autograd.grad(y, x, g)[0]


def measure(shape: tuple, layout: torch.memory_format, reps: int) -> dict:
    """Seconds of each pool's forward and forward + backward on one shape, their bit-identity and the floors."""
    gen = torch.Generator().manual_seed(0)
    x, g = (torch.randn(shape, generator=gen).contiguous(memory_format=layout) for _ in range(2))
    pools = {"native": native_avg_pool3x3, "box": _BoxMean.apply}
    row = {"shape": list(shape), "layout": "channels_last" if layout == torch.channels_last else "nchw"}
    with torch.no_grad():
        relu_s = _median_seconds(lambda: torch.relu(x), reps)      # one read + one write of x: the copy rate
    row["floor_forward_s"], row["floor_forward_backward_s"] = relu_s, 2 * relu_s
    for name, pool in pools.items():
        with torch.no_grad():
            row[f"{name}_forward_s"] = _median_seconds(lambda: pool(x), reps)
        row[f"{name}_forward_backward_s"] = _median_seconds(lambda: _forward_backward(pool, x, g), reps)
    for with_grad, field in ((True, "self_check_s"), (False, "self_check_forward_only_s")):
        t0 = time.perf_counter()
        _box_matches_native(shape, layout, with_grad)
        row[field] = time.perf_counter() - t0                       # paid once per shape and process
    native, box = _forward_backward(pools["native"], x, g), _forward_backward(pools["box"], x, g)
    row["bit_identical"] = all(_same(a, b) for a, b in zip(native, box))
    row["speedup_forward"] = row["native_forward_s"] / row["box_forward_s"]
    row["speedup_forward_backward"] = row["native_forward_backward_s"] / row["box_forward_backward_s"]
    return row


@contextlib.contextmanager
def native_pool():
    """Every `AvgPool3x3` runs PyTorch's own pool inside the block."""
    saved = pool_impl.avg_pool3x3
    pool_impl.avg_pool3x3 = native_avg_pool3x3
    try:
        yield
    finally:
        pool_impl.avg_pool3x3 = saved


def proxy_ab(proxy: str, archs: list[str], smoke: bool, reps: int) -> dict:
    """`score_arch` seconds per arch (median of `reps`) with the box pool and the native one, alternating first."""
    over = roofline.smoke_overrides(proxy) if smoke else {}
    xy, _ = roofline.make_batch(rows_needed(proxy, **over), 32, 0, "channels_last")   # the CLI's batch
    seconds = {"box": [], "native": []}
    same = True
    for i, arch in enumerate(archs):
        values = {}
        for side in (("box", "native") if i % 2 == 0 else ("native", "box")):
            with native_pool() if side == "native" else contextlib.nullcontext():
                times = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    record = score_arch(arch, proxy, xy, seed=0, device="cpu", **over)
                    times.append(time.perf_counter() - t0)
            seconds[side].append(statistics.median(times))
            values[side] = record.repeats
        same = same and values["box"] == values["native"]
    row = {"proxy": proxy, "archs": len(archs), "pools_per_cell": [a.count("avg_pool_3x3") for a in archs],
           "seconds_box": seconds["box"], "seconds_native": seconds["native"], "scores_bit_identical": same,
           "median_seconds_box": statistics.median(seconds["box"]),
           "median_seconds_native": statistics.median(seconds["native"])}
    row["speedup"] = row["median_seconds_native"] / row["median_seconds_box"]
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--archs", type=int, default=8, help="seeded archs per proxy (ntk_cond and grasp: a quarter)")
    ap.add_argument("--proxies", default=",".join(PROXIES))
    ap.add_argument("--smoke", action="store_true", help="two small shapes, 3 repetitions, tiny networks (CI)")
    ap.add_argument("--out", default=str(RESULTS / "box_pool_cpu.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    kept = keep_freed_memory()
    shapes, reps = ([(2, 4, 8, 8), (2, 8, 4, 4)], 3) if args.smoke else (SHAPES, args.reps)
    rows = []
    for shape in shapes:
        for layout in (torch.channels_last, torch.contiguous_format):
            rows.append(measure(shape, layout, reps))
            print({k: (round(v, 6) if isinstance(v, float) else v) for k, v in rows[-1].items()}, file=sys.stderr)
    archs = [str(a) for a in random.Random(0).sample(list(all_archs()), args.archs)]
    proxies = []
    for proxy in args.proxies.split(","):
        slow = proxy in ("ntk_cond", "grasp")
        proxies.append(proxy_ab(proxy, archs[:max(1, len(archs) // 4)] if slow else archs, args.smoke,
                                1 if slow or args.smoke else 3))
        print({k: v for k, v in proxies[-1].items() if not isinstance(v, list)}, file=sys.stderr)
    record = {"benchmark": "box_pool", **provenance("cpu"), "threads": torch.get_num_threads(), "reps": reps,
              "glibc_keeps_freed_memory": kept,
              "rows": rows, "all_bit_identical": all(r["bit_identical"] for r in rows),
              "proxies": proxies, "all_scores_bit_identical": all(p["scores_bit_identical"] for p in proxies)}
    write_json(Path(args.out), record)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
