"""Roofline of every proxy kernel: multiply-adds its protocol needs, this machine's sustained rates, our time and
the reference implementation's time on the same seeded archs, interleaved in one process.

Per proxy and arch (spec defaults, CIFAR-10 batch from the data mirror or seeded N(0,1) images):

- work: multiply-adds (MACs) counted on the very networks the protocol builds, run as `evaluate` runs them
  (``logits-only`` proxies skip the ops that never reach the logits, `skip_unused_ops`), from forward hooks on
  every Conv2d/Linear (F_b = forward MACs at batch b) and every ReLU input (D_s = units per sample of ReLU call
  s); ntk_cond's Gram counts only the weights the forward ran.
  Rules (`WORK_RULES`): a backward through a layer costs 2 F (input grad + weight grad), an input-gradient-only
  backward F, a Hessian-vector product 2 × a gradient; kernel products as GEMMs (B² per unit).
- attainable seconds: conv MACs / the best sustained conv rate + GEMM MACs / the sustained GEMM rate, both
  measured in this run (`rates`) in the proxy's dtype (nwot's exact 0/1 code products: the int8 GEMM rate).
- ours: `score_arch` wall time (network build included). reference: the implementation the proxy's numbers are
  quoted from, called on the same networks and rows (already built; build time not charged), alternating with
  ours arch by arch. Reported as medians per arch; ratio = ours / attainable, speedup = reference / ours.

References are imported from ``--ref-root`` (a scratch checkout outside the repo, never copied in):
SamsungLabs/zero-cost-nas (synflow, jacob_cov, snip, grad_norm, fisher, grasp), automl/NASLib (nwot),
VITA-Group/TENAS (ntk_cond, lr_count), with CPU shims (no-op ``.cuda()``, ``torch.symeig`` -> ``eigh``).

    OMP_NUM_THREADS=1 python benchmarks/roofline.py --archs 8 --ntk-archs 2      # writes results/roofline_cpu.json
    OMP_NUM_THREADS=1 python benchmarks/roofline.py --layout contiguous ...       # ours NCHW too: ..._contiguous.json
    python benchmarks/roofline.py --smoke --no-reference --out /tmp/r.json       # seconds, tiny networks
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import itertools
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import time
import types

import torch
import torch.nn.functional as F
from torch import nn

from nasbench_eval._json import write_json
from nasbench_eval.nets.hooks import forward_hooks
from nasbench_eval.proxies import score_arch
from nasbench_eval.proxies.base import as_scored, get_proxy
from nasbench_eval.proxies.ntk import ntk_weights
from nasbench_eval.proxies.scoring import RepeatPlan, build_for_proxy, check_image_batch, resolve_settings
from nasbench_eval.space import all_archs

LAYOUTS = {"channels_last": torch.channels_last, "contiguous": torch.contiguous_format}
"""Memory layouts of our image batch: `proxy_batch` gives channels_last (what the CLI scores). The references always
get the NCHW-contiguous batch their own data loaders stack (NASLib's nwot cannot take another: its hooks call
``.view``). Convolutions follow the batch's layout, so ``--layout contiguous`` compares kernel for kernel and the
default compares each as it runs."""
PROXIES = ("nwot", "synflow", "lr_count", "ntk_cond", "jacob_cov", "snip", "grad_norm", "fisher", "grasp")
RESULTS = pathlib.Path(__file__).resolve().parent / "results"
WORK_RULES = {
    "nwot": "F_B forward + Σ_s B² D_s (one code GEMM per ReLU call)",
    "synflow": "3 F_1 (forward, input- and weight-grad backward), float64, BN removed",
    "lr_count": "repeats × n_batches × F_b (forward only; the unique count is not MACs)",
    "ntk_cond": "repeats × (F_B + B × 2 F_B + B² P): one forward, one full backward per Jacobian row "
                "(train-mode BN couples every row to the whole batch), Gram over P weights",
    "jacob_cov": "2 F_B (forward + input-gradient backward) + B² (3HW) correlation",
    "snip": "3 F_B", "grad_norm": "3 F_B",
    "fisher": "2 F_B (forward + a backward to the layer outputs; no weight gradient is needed)",
    "grasp": "9 F_B (gradient 3 F_B + Hessian-vector product 2 × 3 F_B)",
}


# ---- work -------------------------------------------------------------------------------------
def protocol_calls(arch: str, proxy: str, xy, dataset: str, seed: int, over: dict) -> list[tuple]:
    """The (network, x, y) of each repeat exactly as `score_arch` builds them (train mode, CPU)."""
    entry = get_proxy(proxy)
    s = resolve_settings(proxy, **over)
    k, x, y, need = check_image_batch(entry, xy, dataset=dataset, settings=s, profile=None, options=over,
                                      caller="roofline")
    plan = RepeatPlan(entry, s, seed)
    calls = []
    for r in range(s["repeats"]):
        xb, yb = plan.inputs(x[:need], None if y is None else y[:need], r)
        calls.append((build_for_proxy(arch, s, num_classes=k, seed=plan.weight_seed(r)).train(), xb, yb))
    return calls


def forward_counts(net: nn.Module, x: torch.Tensor) -> tuple[int, list[int], set[int]]:
    """(F = conv + linear MACs of one forward of x, [D_s units per sample of each ReLU call],
    ids of the parameters of every module the forward ran)."""
    macs, units, used = [0], [], set()

    def layer(m, inp, out):
        if isinstance(m, nn.Conv2d):
            macs[0] += out.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        else:
            macs[0] += out.numel() * m.in_features

    def relu(m, inp, out):
        units.append(inp[0][0].numel())

    def ran(m, inp, out):
        used.update(id(p) for p in m.parameters(recurse=False))

    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    relus = [m for m in net.modules() if isinstance(m, nn.ReLU)]
    with forward_hooks(layers, layer), forward_hooks(relus, relu), forward_hooks(list(net.modules()), ran), \
            torch.no_grad():
        net(x)
    return macs[0], units, used


def work(proxy: str, calls: list[tuple]) -> dict:
    """{"conv": MACs, "gemm": MACs} of the whole protocol (all repeats), per `WORK_RULES`."""
    conv = gemm = 0
    for net, x, _ in calls:
        f, units, used = forward_counts(as_scored(get_proxy(proxy), net), x)     # as `evaluate` runs it
        b = len(x)
        if proxy == "nwot":
            conv, gemm = conv + f, gemm + b * b * sum(units)
        elif proxy == "synflow":
            conv += 3 * forward_counts(net.double(), torch.ones_like(x[:1], dtype=torch.float64))[0]
            net.float()
        elif proxy == "lr_count":
            conv += f                                         # x holds all n_batches chunks of patches
        elif proxy == "ntk_cond":
            conv += f + b * 2 * f
            gemm += b * b * sum(p.numel() for p in ntk_weights(net) if id(p) in used)
        elif proxy == "jacob_cov":
            conv, gemm = conv + 2 * f, gemm + b * b * x[0].numel()
        elif proxy == "fisher":
            conv += 2 * f
        else:
            conv += (9 if proxy == "grasp" else 3) * f
    return {"conv": conv, "gemm": gemm}


# ---- machine rates ----------------------------------------------------------------------------
def _best_rate(fn, macs: int, reps: int) -> float:
    fn()
    best = min(_timed(fn) for _ in range(reps))
    return macs / best


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def rates(smoke: bool) -> dict:
    """Sustained MAC/s: best conv forward over NB201's conv shapes in both memory layouts, and a [B, K] x [K, B]
    GEMM, float32 and 64."""
    out = {}
    b, reps = (16, 2) if smoke else (128, 5)
    shapes = [(16, 32, 3), (32, 16, 3), (64, 8, 3), (16, 32, 1)]   # (channels, resolution, kernel)
    for dtype in (torch.float32, torch.float64):
        best = 0.0
        for (c, res, k), fmt in itertools.product(shapes, LAYOUTS.values()):
            x = torch.randn(b, c, res, res, dtype=dtype).contiguous(memory_format=fmt)
            w = torch.randn(c, c, k, k, dtype=dtype)
            macs = b * c * res * res * c * k * k
            with torch.no_grad():
                best = max(best, _best_rate(lambda: F.conv2d(x, w, padding=k // 2), macs, reps))
        a = torch.randn(b, 4096 if smoke else 16384, dtype=dtype)
        gemm = _best_rate(lambda: a @ a.T, b * b * a.shape[1], reps)
        name = str(dtype).removeprefix("torch.")
        out[name] = {"conv_macs_per_s": best, "gemm_macs_per_s": gemm}
    codes = (torch.randn(b, 4096 if smoke else 16384) > 0).view(torch.int8)
    out["int8"] = {"gemm_macs_per_s": _best_rate(lambda: torch._int_mm(codes, codes.T),
                                                 b * b * codes.shape[1], reps)}
    return out


# ---- references ---------------------------------------------------------------------------------
def _load(name: str, path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package(name: str, path: pathlib.Path) -> None:
    module = types.ModuleType(name)
    module.__path__ = [str(path)]
    sys.modules[name] = module


class References:
    """The reference implementations, imported from a scratch checkout with CPU shims."""

    def __init__(self, root: pathlib.Path):
        torch.Tensor.cuda = lambda self, *a, **k: self
        torch.cuda.current_device = lambda: 0
        torch.cuda.empty_cache = lambda: None
        torch.symeig = lambda a, eigenvectors=False: torch.linalg.eigh(a)
        sys.path.insert(0, str(root / "SamsungLabs+zero-cost-nas"))
        from foresight.pruners import predictive

        self.zc = predictive
        naslib = root / "automl+NASLib" / "naslib"
        for name, sub in (("naslib", ""), ("naslib.predictors", "predictors"),
                          ("naslib.predictors.utils", "predictors/utils")):
            _package(name, naslib / sub)
        sys.modules.setdefault("tensorwatch", types.SimpleNamespace(ModelStats=object))
        self.naslib = importlib.import_module("naslib.predictors.utils.pruners.predictive")
        tenas = root / "VITA-Group+TENAS" / "lib" / "procedures"
        self.get_ntk_n = _load("tenas_ntk", tenas / "ntk.py").get_ntk_n
        stubs = {"torchvision": None, "torchvision.transforms": None, "torchvision.datasets": None,
                 "datasets": types.SimpleNamespace(CUTOUT=None, Dataset2Class=None, ImageNet16=None)}
        saved = {k: sys.modules.get(k) for k in stubs}
        for key, stub in stubs.items():
            sys.modules[key] = stub or types.ModuleType(key)
        sys.modules["torchvision"].transforms = sys.modules["torchvision.transforms"]
        sys.modules["torchvision"].datasets = sys.modules["torchvision.datasets"]
        lr = _load("tenas_lr", tenas / "linear_region_counter.py")
        for key, module in saved.items():
            if module is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = module
        lr.LinearRegionCount.calc_LR = _calc_lr_out_of_place
        self.lr = lr

    def __call__(self, proxy: str, calls: list[tuple]) -> None:
        for net, x, y in calls:
            k = net.classifier.out_features
            if proxy == "ntk_cond":
                self.get_ntk_n([(x, y)], [net], train_mode=True, num_batch=1)
            elif proxy == "lr_count":
                collector = self.lr.Linear_Region_Collector.__new__(self.lr.Linear_Region_Collector)
                collector.interFeature = []
                collector.register_hook(net)
                count = self.lr.LinearRegionCount(len(x))
                for chunk in torch.tensor_split(x, resolve_settings("lr_count")["n_batches"]):
                    collector.forward(net, count, chunk)
                count.getLinearReginCount()
            elif proxy == "nwot":
                with _naslib_owns_relu_conv_bn():
                    self.naslib.find_measures(net, [(x, y)], ("random", 1, k), "cpu", loss_fn=F.cross_entropy,
                                              measure_names=["nwot"])
            else:
                y = torch.zeros(len(x), dtype=torch.int64) if y is None else y
                self.zc.find_measures(net, [(x, y)], ("random", 1, k), "cpu", measure_names=[proxy])


@torch.no_grad()
def _calc_lr_out_of_place(self):
    """TE-NAS's calc_LR with its in-place ``res += res.T`` (rejected by current torch) made out of place."""
    res = torch.matmul(self.activations.half(), (1 - self.activations).T.half())
    res = 1 - torch.sign(res + res.T)
    self.n_LR = (1.0 / res.sum(1).float()).sum().item()
    self.activations = None


@contextlib.contextmanager
def _naslib_owns_relu_conv_bn():
    """NASLib's nwot skips module types from NASLib itself (its ReLUConvBN); ours must be skipped the same way."""
    from nasbench_eval.nets import ops

    saved = ops.ReLUConvBN.__module__
    ops.ReLUConvBN.__module__ = "naslib_equivalent.ops"
    try:
        yield
    finally:
        ops.ReLUConvBN.__module__ = saved


# ---- run ----------------------------------------------------------------------------------------
def make_batch(rows: int, res: int, seed: int, layout: str) -> tuple[tuple, str]:
    """The CIFAR-10 proxy batch from the data mirror (with labels), else seeded N(0,1) images, in `layout`."""
    try:
        from nasbench_eval.data import proxy_batch

        (x, y), data = proxy_batch("cifar10", rows, seed=seed, augment=False, device="cpu"), "real images (proxy_batch)"
    except Exception as err:  # noqa: BLE001 - benchmark falls back to synthetic data and records why
        g = torch.Generator().manual_seed(seed)
        x, y = torch.randn(rows, 3, res, res, generator=g), torch.randint(0, 10, (rows,), generator=g)
        data = f"N(0,1) images ({type(err).__name__})"
    return (x.contiguous(memory_format=LAYOUTS[layout]), y), f"{data}, {layout}"


def smoke_overrides(proxy: str) -> dict:
    """Settings that make `proxy`'s protocol tiny for --smoke: C=4, N=1 networks (full-network proxies), 8 rows."""
    full = resolve_settings(proxy)["network"] == "full"
    return ({"C": 4, "N": 1} if full else {}) | ({"batch_size": 8} if proxy != "synflow" else {})


def measure(proxy: str, archs: list[str], xy, over: dict, refs, machine: dict, seed: int) -> dict:
    ours_s, ref_s, works = [], [], []
    xy_ref = (xy[0].contiguous(), xy[1])
    for arch in archs:
        calls = protocol_calls(arch, proxy, xy, "cifar10", seed, over)
        works.append(work(proxy, calls))
        ours_s.append(_timed(lambda: score_arch(arch, proxy, xy, seed=seed, device="cpu", **over)))
        if refs is not None:
            ref_s.append(_timed(lambda: refs(proxy, protocol_calls(arch, proxy, xy_ref, "cifar10", seed, over))))
    rate = dict(machine["float64" if proxy == "synflow" else "float32"])
    if proxy == "nwot":                  # exact 0/1 code products: the int8 GEMM is the attainable rate
        rate["gemm_macs_per_s"] = max(rate["gemm_macs_per_s"], machine["int8"]["gemm_macs_per_s"])
    bound = [w["conv"] / rate["conv_macs_per_s"] + w["gemm"] / rate["gemm_macs_per_s"] for w in works]
    ours, attainable = statistics.median(ours_s), statistics.median(bound)
    row = {"proxy": proxy, "archs": len(archs), "work_rule": WORK_RULES[proxy],
           "median_conv_macs": statistics.median(w["conv"] for w in works),
           "median_gemm_macs": statistics.median(w["gemm"] for w in works),
           "median_attainable_s": attainable, "median_ours_s": ours,
           "ours_over_attainable": statistics.median(o / b for o, b in zip(ours_s, bound)),
           "achieved_fraction_of_attainable": statistics.median(b / o for o, b in zip(ours_s, bound)),
           "ours_s": ours_s}
    if ref_s:
        row |= {"median_reference_s": statistics.median(ref_s), "reference_s": ref_s,
                "speedup_vs_reference": statistics.median(r / o for r, o in zip(ref_s, ours_s))}
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=10, help="seeded random NB201 archs per proxy")
    ap.add_argument("--ntk-archs", type=int, default=None, help="fewer archs for ntk_cond")
    ap.add_argument("--proxies", default=",".join(PROXIES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ref-root", default="/tmp/ref", help="scratch folder holding the reference checkouts")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--layout", choices=list(LAYOUTS), default="channels_last",
                    help="memory layout of our image batch (default: what proxy_batch gives and the CLI scores); "
                         "the references always get it NCHW-contiguous")
    ap.add_argument("--smoke", action="store_true", help="tiny networks (C=4, N=1), 2 archs, small batches")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    load = os.getloadavg()
    machine = rates(args.smoke)
    refs = None if args.no_reference else References(pathlib.Path(args.ref_root))
    archs = [str(a) for a in random.Random(args.seed).sample(list(all_archs()), 2 if args.smoke else args.archs)]
    xy, data = make_batch(3000, 32, args.seed, args.layout)
    rows = []
    for proxy in args.proxies.split(","):
        over = smoke_overrides(proxy) if args.smoke else {}
        n = args.ntk_archs if proxy == "ntk_cond" and args.ntk_archs else len(archs)
        rows.append(measure(proxy, archs[:n], xy, over, refs, machine, args.seed) | {"overrides": over})
        print(json.dumps({k: v for k, v in rows[-1].items() if not k.endswith("_s") or k.startswith("median")}),
              file=sys.stderr)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = {"device": f"cpu ({torch.get_num_threads()} threads, {os.cpu_count()} cores)", "torch": torch.__version__,
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": "python " + " ".join([pathlib.Path(sys.argv[0]).as_posix(), *(argv or sys.argv[1:])]),
           "git_commit": commit, "loadavg_before": load, "loadavg_after": os.getloadavg(), "data": data,
           "seed": args.seed, "layout": args.layout, "machine_rates": machine, "proxies": rows,
           "note": "ours = score_arch wall time incl. network build, on the batch in `layout`; reference = its code on "
                   "the same, already built networks and rows, NCHW-contiguous (build not charged), alternating "
                   "with ours arch by arch"}
    default = "roofline_cpu.json" if args.layout == "channels_last" else f"roofline_cpu_{args.layout}.json"
    path = pathlib.Path(args.out) if args.out else RESULTS / default
    write_json(path, out)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
