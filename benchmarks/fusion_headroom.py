"""What fused kernels would buy: the network forward NASWOT runs (C=16, N=5, batch 128, train-mode BN, no grad),
eager against `torch.compile` (inductor's fused CPU kernels), with the compile time each arch costs.

`op_roofline.py` shows that most of the gap between a proxy and its bound is memory-bound passes (BatchNorm, pools,
adds, ReLUs) that only fusing ops removes. Every NB201 arch is a different graph, so a compiled forward is paid
for once per arch; this measures whether the steady-state gain could ever repay it for one-shot scoring. The
compiled forward is not bit-identical to the eager one (other summation orders), so adopting it would also need a
`SCORING_VERSION` bump; the JSON records the largest relative difference of the logits.

    OMP_NUM_THREADS=1 python benchmarks/fusion_headroom.py --archs 3     # results/fusion_headroom_cpu.json
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import torch

from nasbench_eval._json import write_json
from nasbench_eval.data import proxy_batch
from nasbench_eval.nets.network import build_network
from nasbench_eval.provenance import provenance
from nasbench_eval.space import all_archs

RESULTS = Path(__file__).resolve().parent / "results"


def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(arch: str, x: torch.Tensor, reps: int) -> dict:
    """Eager and compiled forward seconds (best of `reps`, after one warm-up), compile seconds, logits' difference."""
    net = build_network(arch, C=16, N=5, num_classes=10, init="torch_default", seed=0).train()
    with torch.no_grad():
        eager_out = net(x)
        eager = min(_seconds(lambda: net(x)) for _ in range(reps))
        torch._dynamo.reset()
        compiled = torch.compile(net)
        compile_s = _seconds(lambda: compiled(x))                 # first call: trace, lower, build the C++ kernels
        fused_out = compiled(x)
        fused = min(_seconds(lambda: compiled(x)) for _ in range(reps))
    diff = ((fused_out - eager_out).abs().max() / eager_out.abs().max()).item()
    return {"arch": arch, "eager_s": eager, "compiled_s": fused, "compile_s": compile_s,
            "steady_speedup": eager / fused, "archs_to_repay_compile": compile_s / max(eager - fused, 1e-9),
            "max_rel_diff_logits": diff}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(RESULTS / "fusion_headroom_cpu.json"))
    args = ap.parse_args(argv)
    x, _ = proxy_batch("cifar10", 128, seed=args.seed, device="cpu")
    archs = [str(a) for a in random.Random(args.seed).sample(list(all_archs()), args.archs)]
    rows = []
    for arch in archs:
        rows.append(measure(arch, x, args.reps))
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in rows[-1].items()}, file=sys.stderr)
    record = {"benchmark": "fusion_headroom", **provenance("cpu"), "threads": torch.get_num_threads(),
              "batch": "proxy_batch cifar10, 128 rows, channels_last", "archs": rows,
              "median_steady_speedup": statistics.median(r["steady_speedup"] for r in rows),
              "median_compile_s": statistics.median(r["compile_s"] for r in rows)}
    write_json(Path(args.out), record)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
