"""Each exact fast path beside the plain order it replaces, on the same networks and batch, interleaved per arch:
seconds of both, and whether the values are equal bit for bit (they must be: the stored scores depend on it).

Plain orders (also what `tests/test_proxies.py` checks the fast paths against):

- ``nwot_block_reuse`` (and ``_relu_named``, the `naswot` profile's sites): `hamming_kernel` against one agreement
  block computed per ReLU call;
- ``nwot_int_mm_view``: the int8 code product on the transposed view, against a contiguous copy of it first;
- ``fisher_output_grads``: gradients of the layer outputs only, against zero-cost-nas's full backward with
  ``retain_grad``;
- ``grasp_one_forward``: one forward, against the references' two forwards (g, then the graph);
- ``node_sum_alias`` (jacob_cov, snip): cell node sums from an alias of the first term, against Python's ``sum``
  (``0 + t_1`` first);
- ``skip_unused_<proxy>`` (every ``logits-only`` proxy): cells skip the ops that never reach the logits
  (`skip_unused_ops`, what `evaluate` does), against running every op. Only archs with such ops differ, so
  ``--archs-from unused`` samples archs that skip at least one convolution.

    OMP_NUM_THREADS=1 python benchmarks/fast_paths.py --archs 6        # writes results/fast_paths_cpu.json
    OMP_NUM_THREADS=1 python benchmarks/fast_paths.py --paths skip_unused_snip,... --archs-from unused \
        --out benchmarks/results/skip_unused_cpu.json
    python benchmarks/fast_paths.py --smoke --out /tmp/f.json           # tiny networks
"""
from __future__ import annotations

import argparse
import copy
import functools
import random
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import torch

from nasbench_eval._json import write_json
from nasbench_eval.nets import cell, parse_cell_spec, skip_unused_ops, unused_edges
from nasbench_eval.nets.hooks import forward_hooks
from nasbench_eval.nets.network import build_network
from nasbench_eval.proxies import get_proxy, list_proxies
from nasbench_eval.proxies.base import logits_of, weight_layers
from nasbench_eval.proxies import nwot as nwot_module
from nasbench_eval.proxies.nwot import agreement, code_sites, hamming_kernel
from nasbench_eval.proxies.saliency import _weight_grads
from nasbench_eval.provenance import provenance
from nasbench_eval.space import all_archs

RESULTS = Path(__file__).resolve().parent / "results"


# ---- plain orders ---------------------------------------------------------------------------------
def hamming_kernel_per_call(net, x, *, sites: str = "relu") -> torch.Tensor:
    """K_H with one agreement block computed for every ReLU call (no reuse)."""
    blocks = []
    with forward_hooks(code_sites(net, sites), lambda m, i, o: blocks.append(agreement(i[0]))), torch.no_grad():
        net(x)
    return sum(blocks)


def nwot_per_call(net, x, y=None, *, sites: str = "relu") -> float:
    return float(torch.linalg.slogdet(hamming_kernel_per_call(net, x, sites=sites))[1])


def code_gram_copied(c: torch.Tensor) -> torch.Tensor:
    """C Cᵀ with the right operand copied to a contiguous matrix first (the CPU path before the view)."""
    ci = c.view(torch.int8)
    if ci.shape[1] % 8:
        ci = torch.nn.functional.pad(ci, (0, 8 - ci.shape[1] % 8))
    return torch._int_mm(ci, ci.T.contiguous()).double()


def nwot_copied_operand(net, x, y=None) -> float:
    with mock.patch.object(nwot_module, "code_gram", code_gram_copied):
        return _nwot_fast(net, x)


def fisher_full_backward(net, x, y) -> float:
    """zero-cost-nas's order: retain the layer outputs' gradients through one full backward."""
    kept = []

    def keep(module, inputs, output):
        output.retain_grad()
        kept.append((module, output))

    with forward_hooks(weight_layers(net), keep):
        torch.nn.functional.cross_entropy(logits_of(net(x)), y).backward()
    total = 0.0
    for m, a in kept:
        prod = (a.detach() * a.grad).double()
        per_sample = prod.sum(dim=(2, 3)) if prod.ndim == 4 else prod
        total += float(0.5 * per_sample.pow(2).mean(dim=0).sum()) * m.weight[0].numel()
    return total


def grasp_two_forwards(net, x, y) -> float:
    """The references' GraSP: g from a first forward and backward, the graph from a second forward."""
    _, first = _weight_grads(net, x, y)
    weights, second = _weight_grads(net, x, y, create_graph=True)
    hg = torch.autograd.grad(sum((a.detach() * b).sum() for a, b in zip(first, second)), weights)
    return float(sum((-w.detach() * h).double().sum() for w, h in zip(weights, hg)))


def _with_python_sum(proxy: str):
    """`proxy` with cell node sums by Python's ``sum`` (``0 + t_1`` first), as before `cell.add_all`."""
    def plain(net, x, y):
        with mock.patch.object(cell, "add_all", sum):
            return proxy_fn(proxy)(net, x, y)
    return plain


def proxy_fn(proxy: str):
    """The proxy's own function on `net` as given (what `score_arch` runs after building the network)."""
    return lambda net, x, y: get_proxy(proxy).fn(net, x, y)


def skipping_fn(proxy: str):
    """The proxy's function on `net` with its cells' unused ops skipped (what `evaluate` runs for logits-only)."""
    return lambda net, x, y: get_proxy(proxy).fn(skip_unused_ops(net), x, y)


def _nwot_fast(net, x, y=None, *, sites: str = "relu") -> float:
    return float(torch.linalg.slogdet(hamming_kernel(net, x, sites=sites))[1])


PATHS = {
    "nwot_block_reuse": ("nwot", _nwot_fast, nwot_per_call),
    "nwot_block_reuse_relu_named": ("nwot", functools.partial(_nwot_fast, sites="relu_named"),
                                    functools.partial(nwot_per_call, sites="relu_named")),
    "nwot_int_mm_view": ("nwot", _nwot_fast, nwot_copied_operand),
    "fisher_output_grads": ("fisher", proxy_fn("fisher"), fisher_full_backward),
    "grasp_one_forward": ("grasp", proxy_fn("grasp"), grasp_two_forwards),
    "node_sum_alias_jacob_cov": ("jacob_cov", proxy_fn("jacob_cov"), _with_python_sum("jacob_cov")),
    "node_sum_alias_snip": ("snip", proxy_fn("snip"), _with_python_sum("snip")),
}
PATHS.update({f"skip_unused_{p}": (p, skipping_fn(p), proxy_fn(p)) for p in list_proxies(tags={"logits-only"})})
"""name -> (proxy, fast(net, x, y), plain(net, x, y)); both return the raw value on a throwaway network."""


def same_bits(a, b) -> bool:
    """Bit for bit: `torch.equal` for tensors (ntk_cond returns its Θ), ``==`` for numbers and `Scored`."""
    return torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b


def skipped_ops(arch) -> list[str]:
    """The ops `skip_unused_ops` leaves out of each cell of `arch` (an `Arch`), ``none`` included."""
    return [arch.ops[e] for e in unused_edges(parse_cell_spec(arch))]


def sample_archs(n: int, seed: int, source: str) -> list[str]:
    """n seeded archs from the whole space (``space``) or from those skipping a convolution (``unused``)."""
    pool = list(all_archs())
    if source == "unused":
        pool = [a for a in pool if any("conv" in op for op in skipped_ops(a))]
    return [str(a) for a in random.Random(seed).sample(pool, n)]


# ---- run ------------------------------------------------------------------------------------------
def on_a_copy(fn, net, x, y) -> tuple[float, object]:
    """(seconds, value) of ``fn(copy, x, y)`` on a train-mode deep copy of `net`, torch's RNG seeded 0 (and
    restored); the copy is made outside the time."""
    work = copy.deepcopy(net).train()
    with torch.random.fork_rng():
        torch.manual_seed(0)
        t0 = time.perf_counter()
        value = fn(work, x, y)
        return time.perf_counter() - t0, value


def measure(name: str, archs: list[str], xy, net_opts: dict) -> dict:
    """Alternate fast and plain on each arch (both twice); seconds per arch and bit-for-bit equality."""
    proxy, fast, plain = PATHS[name]
    rows = get_proxy(proxy).defaults["batch_size"] if net_opts.get("batch_size") is None else net_opts["batch_size"]
    x, y = xy[0][:rows], xy[1][:rows]
    times = {"fast": [], "plain": []}
    equal = True
    for arch in archs:
        net = build_network(arch, C=net_opts["C"], N=net_opts["N"], num_classes=10, seed=0).train()
        values = {}
        for _ in range(2):
            for kind, fn in (("fast", fast), ("plain", plain)):
                seconds, values[kind] = on_a_copy(fn, net, x, y)
                times[kind].append(seconds)
        equal &= same_bits(values["fast"], values["plain"])
    return {"path": name, "proxy": proxy, "archs": len(archs), "rows": rows,
            "median_fast_s": statistics.median(times["fast"]), "median_plain_s": statistics.median(times["plain"]),
            "speedup": statistics.median(p / f for p, f in zip(times["plain"], times["fast"])),
            "bit_identical": equal, "fast_s": times["fast"], "plain_s": times["plain"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=6)
    ap.add_argument("--paths", default=",".join(PATHS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--archs-from", choices=("space", "unused"), default="space",
                    help="sample the whole space, or only archs whose cells skip a convolution")
    ap.add_argument("--smoke", action="store_true", help="C=4, N=1 networks, 16 rows, 2 archs")
    ap.add_argument("--out", default=str(RESULTS / "fast_paths_cpu.json"))
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from roofline import make_batch

    xy, data = make_batch(128, 32, args.seed, "channels_last")
    archs = sample_archs(2 if args.smoke else args.archs, args.seed, args.archs_from)
    net_opts = {"C": 4, "N": 1, "batch_size": 16} if args.smoke else {"C": 16, "N": 5, "batch_size": None}
    rows = []
    for name in args.paths.split(","):
        rows.append(measure(name, archs, xy, net_opts))
        r = rows[-1]
        print(f"{name:<26} fast {r['median_fast_s']:.3f} s  plain {r['median_plain_s']:.3f} s  "
              f"{r['speedup']:.2f}x  bit-identical {r['bit_identical']}", file=sys.stderr)
    record = {"benchmark": "fast_paths", **provenance("cpu"), "threads": torch.get_num_threads(), "data": data,
              "network": net_opts, "seed": args.seed, "archs_from": args.archs_from, "archs": archs, "paths": rows,
              "note": "the proxy's raw value on a deep copy of the same network, fast and plain alternating per "
                      "arch (twice each); no network build in either time"}
    write_json(Path(args.out), record)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
