"""Every architecture whose cells skip an op, scored by every ``logits-only`` proxy with and without the skipping:
which values are not the same bit for bit (there must be none), in both image layouts.

`skip_unused_ops` leaves out the ops whose output reaches the cell output only as ``h · 0``. The argument that this
changes no value (the logits and every gradient through them are the same, up to the sign of exact zeros) does not
cover the order in which autograd adds gradient terms, so this script checks every one of the 3,184 such NB201 archs
at reduced size (the order depends on the cell's graph and the layout, not on the widths). ``--proxies grasp``
shows why grasp is not ``logits-only``.

    OMP_NUM_THREADS=1 python benchmarks/skip_unused_check.py        # writes results/skip_unused_check_cpu.json
    python benchmarks/skip_unused_check.py --smoke --out /tmp/s.json  # 12 archs
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from nasbench_eval._json import write_json
from nasbench_eval.nets import build_network
from nasbench_eval.proxies import list_proxies
from nasbench_eval.provenance import provenance
from nasbench_eval.space import all_archs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fast_paths import on_a_copy, proxy_fn, same_bits, skipped_ops, skipping_fn  # noqa: E402  (benchmarks/ is not a package)

RESULTS = Path(__file__).resolve().parent / "results"
LAYOUTS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}


def skipping_archs() -> list[str]:
    """Every NB201 arch whose cells skip at least one op that is not ``none``."""
    return [str(a) for a in all_archs() if any(op != "none" for op in skipped_ops(a))]


def differing(proxy: str, archs: list[str], batch, net_opts: dict) -> list[str]:
    """The archs whose raw `proxy` value with skipping is not bit for bit the value computing every op."""
    x, y = batch
    out = []
    for i, arch in enumerate(tqdm(archs, desc=proxy, leave=False)):
        net = build_network(arch, num_classes=10, seed=i, **net_opts).train()
        values = [on_a_copy(fn, net, x, y)[1] for fn in (skipping_fn(proxy), proxy_fn(proxy))]
        if not same_bits(*values):
            out.append(arch)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--proxies", default=",".join(list_proxies(tags={"logits-only"})))
    ap.add_argument("--C", type=int, default=2)
    ap.add_argument("--N", type=int, default=2)
    ap.add_argument("--rows", type=int, default=8, help="images per batch (8x8 pixels, N(0,1), seeded)")
    ap.add_argument("--smoke", action="store_true", help="the first 12 archs")
    ap.add_argument("--out", default=str(RESULTS / "skip_unused_check_cpu.json"))
    args = ap.parse_args(argv)
    archs = skipping_archs()[:12] if args.smoke else skipping_archs()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(args.rows, 3, 8, 8, generator=g), torch.randint(0, 10, (args.rows,), generator=g)
    net_opts = {"C": args.C, "N": args.N}
    t0, rows = time.perf_counter(), []
    for layout, fmt in LAYOUTS.items():
        for proxy in args.proxies.split(","):
            bad = differing(proxy, archs, (x.contiguous(memory_format=fmt), y), net_opts)
            rows.append({"proxy": proxy, "layout": layout, "archs": len(archs), "differing": len(bad),
                         "first_differing": bad[:5]})
            print(f"{proxy:<10} {layout:<14} {len(bad)} of {len(archs)} differ", file=sys.stderr)
    record = {"benchmark": "skip_unused_check", **provenance("cpu"), "threads": torch.get_num_threads(),
              "network": net_opts, "images": [args.rows, 3, 8, 8], "results": rows,
              "seconds": time.perf_counter() - t0,
              "note": "raw proxy value on a deep copy of the same network (seed = arch position), with "
                      "skip_unused_ops and without; 'differing' counts archs not equal bit for bit"}
    write_json(Path(args.out), record)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
