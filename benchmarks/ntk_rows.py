"""NTK Jacobian rows two ways on the same networks and batch: the per-row backward loop of `ntk_gram` against
`torch.func` vjp + vmap over one-hot cotangents through one shared batch forward (train-mode BN coupling kept).

Writes ``benchmarks/results/ntk_rows_<device>.json`` (seconds per Θ, their ratio, max relative difference of Θ).
On a GPU the loop is launch-bound (B backward passes of a few hundred small kernels each), which one batched
backward may beat by far; `benchmarks/gpu_suite.py` runs it there.

    OMP_NUM_THREADS=1 python benchmarks/ntk_rows.py --archs 2
    python benchmarks/ntk_rows.py --archs 5 --device cuda
"""
from __future__ import annotations

import argparse
import copy
import os
import random
import time
from pathlib import Path

import torch
from torch.func import functional_call, vjp, vmap

from nasbench_eval._json import write_json
from nasbench_eval.device import scoring_numerics
from nasbench_eval.nets import build_network
from nasbench_eval.proxies.base import logits_of
from nasbench_eval.proxies.ntk import ntk_gram, ntk_weights
from nasbench_eval.provenance import provenance
from nasbench_eval.space import all_archs

RESULTS = Path(__file__).resolve().parent / "results"


def ntk_gram_vmap(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Θ (B, B) float64 from J = vmap(vjp)(I): one forward, all B rows pulled back in one batched backward."""
    params = dict(net.named_parameters())
    names = [n for n, p in params.items() if any(p is w for w in ntk_weights(net))]
    buffers = dict(net.named_buffers())

    def summed_logits(weights):    # fresh BN buffers: a transformed function must not mutate captured tensors
        state = ({**params, **weights}, {k: v.clone() for k, v in buffers.items()})
        return logits_of(functional_call(net, state, (x,))).sum(dim=1)

    out, pullback = vjp(summed_logits, {n: params[n] for n in names})
    rows = vmap(pullback)(torch.eye(len(x), dtype=out.dtype, device=out.device))[0]
    theta = torch.zeros(len(x), len(x), dtype=torch.float64, device=x.device)
    for n in names:
        j = rows[n].flatten(1).double()
        theta += j @ j.T
    return theta


def timer(dev: torch.device) -> float:
    """perf_counter after the device's queued work has finished."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    return time.perf_counter()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--archs", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--tiny", action="store_true", help="smoke scale: C=4, N=1 (numbers mean nothing)")
    p.add_argument("--out", default=None, help="default benchmarks/results/ntk_rows_<device>.json")
    args = p.parse_args(argv)
    dev = torch.device(args.device)
    g = torch.Generator().manual_seed(args.seed)
    x = torch.randn(args.batch, 3, 32, 32, generator=g).contiguous(memory_format=torch.channels_last)  # proxy_batch
    x = x.to(dev)
    size = {"C": 4, "N": 1} if args.tiny else {}
    rows = []
    for arch in [str(a) for a in random.Random(args.seed).sample(list(all_archs()), args.archs)]:
        net = build_network(arch, seed=args.seed, init="kaiming_normal_fan_out", **size).to(dev).train()
        with scoring_numerics():
            ntk_gram(copy.deepcopy(net), x)                      # warm-up: kernel selection, allocator
            t0 = timer(dev)
            loop = ntk_gram(copy.deepcopy(net), x)
            t_loop = timer(dev) - t0
            t0 = timer(dev)
            batched = ntk_gram_vmap(copy.deepcopy(net), x).detach()
            t_vmap = timer(dev) - t0
        rows.append({"arch": arch, "seconds_loop": t_loop, "seconds_vmap": t_vmap, "vmap_over_loop": t_vmap / t_loop,
                     "max_rel_diff": float((loop - batched).abs().max() / loop.abs().max())})
        print(rows[-1])
    out = Path(args.out) if args.out else RESULTS / f"ntk_rows_{dev.type}.json"
    write_json(out, {**provenance(args.device), "tiny": args.tiny, "loadavg": os.getloadavg(), "batch": args.batch,
                                "threads": torch.get_num_threads(), "archs": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
