"""Why does ntk_cond differ between CPU and GPU? The NTK of the same weights and rows, computed several ways.

On the H200, one-at-a-time ntk_cond differed from the CPU's by a median 12 % and up to 16x per arch
(`results/gpu_suite/ntk_cond_cpu_vs_cuda.json`), while on the CPU float32 and float64 agree to within 0.4 % on the
worst of those archs. This script takes the archs of the committed per-arch files (the worst disagreements and
one typical arch), and for every repeat of the default protocol computes Θ = J Jᵀ from the identical network and
rows as follows (the ``dev`` variants only when `--device` is not the CPU, or with --smoke; a variant that raises
is recorded as its error):

* ``cpu64``: float64 network and rows on the CPU (the reference);
* ``cpu32``: float32 on the CPU, as `score_arch` does there;
* ``dev32``: float32 on `--device` inside `scoring_numerics()`, as `score_arch` does there;
* ``dev32_ieee``: the same with the new TF32 switches (``torch.backends.cudnn.conv.fp32_precision`` and
  ``torch.backends.cuda.matmul.fp32_precision``) set to ``"ieee"`` explicitly, where this torch has them;
* ``dev32_contiguous``: dev32 with the rows copied out of channels_last (cuDNN's train-mode BatchNorm takes
  another, "persistent" kernel for channels_last inputs);
* ``dev32_no_cudnn``: dev32 with cuDNN switched off (PyTorch's own conv and BatchNorm kernels);
* ``dev64``: float64 on `--device`.

For each: κ, λ_min, λ_max, ‖Θ − Θ_cpu64‖_F / ‖Θ_cpu64‖_F and seconds (the first dev variant includes the device's
warm-up); plus the TF32 flags as read inside
`scoring_numerics()`. ``--smoke`` runs one tiny net (C=4,
N=1) on the CPU in seconds (numbers mean nothing).

    python benchmarks/ntk_device_check.py --device cuda          # on the GPU machine
    python benchmarks/ntk_device_check.py --device cpu --archs 2 # CPU only: float32 vs float64
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from nasbench_eval._json import write_json
from nasbench_eval.data import proxy_batch
from nasbench_eval.device import scoring_numerics
from nasbench_eval.proxies.base import get_proxy
from nasbench_eval.proxies.ntk import ntk_gram
from nasbench_eval.proxies.scoring import RepeatPlan, build_for_proxy, resolve_settings
from nasbench_eval.provenance import provenance
from nasbench_eval.space import Arch

RESULTS = Path(__file__).resolve().parent / "results"
SCORES = RESULTS / "gpu_suite"


def pick_archs(n: int) -> list[tuple[int, str]]:
    """The `n` - 1 archs whose committed CPU and CUDA ntk_cond differ most, then the one nearest the median."""
    cpu = pd.read_csv(SCORES / "ntk_cond_200_scores_cpu.csv", index_col="index")
    gpu = pd.read_csv(SCORES / "ntk_cond_200_scores_cuda.csv", index_col="index")
    ratio = (gpu.ntk_cond / cpu.ntk_cond).dropna()
    spread = ratio.map(lambda r: max(r, 1 / r)).sort_values(ascending=False)
    picks = list(spread.index[:max(n - 1, 0)]) + [spread.index[len(spread) // 2]]
    return [(int(i), str(cpu.loc[i, "arch"])) for i in picks[:n]]


@contextlib.contextmanager
def ieee_switches():
    """The new-API TF32 switches set to "ieee" (no TF32) where this torch has them, restored after."""
    cudnn = torch.backends.cudnn
    slots = [(obj, "fp32_precision") for obj in (getattr(cudnn, "conv", None), getattr(cudnn, "rnn", None),
                                                 getattr(torch.backends.cuda, "matmul", None))
             if obj is not None and hasattr(obj, "fp32_precision")]
    saved = [getattr(obj, attr) for obj, attr in slots]
    try:
        for obj, attr in slots:
            setattr(obj, attr, "ieee")
        yield
    finally:
        for (obj, attr), value in zip(slots, saved):
            setattr(obj, attr, value)


def tf32_flags() -> dict:
    """The TF32 switches as this torch reports them (legacy and new API)."""
    b = torch.backends
    flags = {"cudnn.allow_tf32": b.cudnn.allow_tf32, "cuda.matmul.allow_tf32": b.cuda.matmul.allow_tf32}
    for name, obj in (("cudnn.conv", getattr(b.cudnn, "conv", None)), ("cuda.matmul", b.cuda.matmul),
                      ("root", b)):
        if obj is not None and hasattr(obj, "fp32_precision"):
            flags[f"{name}.fp32_precision"] = obj.fp32_precision
    return flags


def gram(net, x, dtype, device, *, ieee: bool = False, cudnn: bool = True, contiguous: bool = False) -> torch.Tensor:
    """Θ (float64, on the CPU) of `net` on rows `x`, both cast to `dtype`, computed on `device` in train mode;
    optionally with the new-API TF32 switches at "ieee", cuDNN off, or the rows copied out of channels_last."""
    extra = ieee_switches() if ieee else contextlib.nullcontext()
    with scoring_numerics(), extra, torch.backends.cudnn.flags(enabled=cudnn):
        work = net.to(device=device, dtype=dtype).train()
        rows = x.to(device=device, dtype=dtype)
        return ntk_gram(work, rows.contiguous() if contiguous else rows).cpu()


def describe(theta: torch.Tensor, ref: torch.Tensor) -> dict:
    ev = torch.linalg.eigvalsh(theta)
    return {"kappa": float(ev[-1] / ev[0]), "lambda_min": float(ev[0]), "lambda_max": float(ev[-1]),
            "rel_frobenius_vs_cpu64": float(torch.linalg.norm(theta - ref) / torch.linalg.norm(ref))}


def _safe(compute, ref: torch.Tensor) -> dict:
    """`describe` of one variant with its seconds (network move and Θ), or the error it raised (a torch that
    refuses mixed TF32 APIs, say)."""
    try:
        start = time.perf_counter()
        theta = compute()                     # ends with .cpu(): the device's queue has drained
        return {**describe(theta, ref), "seconds": time.perf_counter() - start}
    except RuntimeError as err:
        return {"error": str(err)[:300]}


def check_arch(arch: Arch, settings: dict, x: torch.Tensor, device: str, *, with_device: bool) -> list[dict]:
    """Per repeat of the protocol: every variant's κ and its distance from the CPU float64 Θ."""
    plan = RepeatPlan(get_proxy("ntk_cond"), settings, 0)
    out = []
    for r in range(settings["repeats"]):
        rows, _ = plan.inputs(x, None, r)

        def net():
            return build_for_proxy(arch, settings, num_classes=10, seed=plan.weight_seed(r))

        start = time.perf_counter()
        ref = gram(net(), rows, torch.float64, "cpu")
        reference = {**describe(ref, ref), "seconds": time.perf_counter() - start}
        variants = {"cpu32": lambda: gram(net(), rows, torch.float32, "cpu")}
        if with_device:
            variants |= {"dev32": lambda: gram(net(), rows, torch.float32, device),
                         "dev32_ieee": lambda: gram(net(), rows, torch.float32, device, ieee=True),
                         "dev32_contiguous": lambda: gram(net(), rows, torch.float32, device, contiguous=True),
                         "dev32_no_cudnn": lambda: gram(net(), rows, torch.float32, device, cudnn=False),
                         "dev64": lambda: gram(net(), rows, torch.float64, device)}
        out.append({"repeat": r, "cpu64": reference,
                    **{name: _safe(compute, ref) for name, compute in variants.items()}})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--archs", type=int, default=3, help="archs from the committed CPU/CUDA score files")
    p.add_argument("--smoke", action="store_true", help="one tiny net (C=4, N=1) on the CPU; numbers mean nothing")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    over = {"C": 4, "N": 1, "batch_size": 8, "repeats": 1} if args.smoke else {}
    settings = resolve_settings("ntk_cond", **over)
    archs = pick_archs(1 if args.smoke else args.archs)
    rows = settings["batch_size"] * settings["repeats"]
    with_device = args.smoke or torch.device(args.device).type != "cpu"      # smoke: the dev paths, on the CPU
    x, _ = proxy_batch("cifar10", rows, seed=0, augment=True, device="cpu")
    with scoring_numerics():
        flags_inside = tf32_flags()
    record = {"benchmark": "ntk_device_check", **provenance(args.device), "smoke": args.smoke,
              "tf32_flags_inside_scoring_numerics": flags_inside, "settings": {k: settings[k] for k in
                                                                             ("batch_size", "repeats", "C", "N")},
              "archs": [{"index": i, "arch": a, "repeats": check_arch(Arch.from_str(a), settings, x, args.device,
                                                                             with_device=with_device)}
                        for i, a in archs]}
    out = Path(args.out) if args.out else RESULTS / f"ntk_device_check_{args.device.split(':')[0]}.json"
    write_json(out, record)
    for a in record["archs"]:
        for r in a["repeats"]:
            print(a["index"], r["repeat"], {k: round(v.get("kappa", float("nan")), 3) for k, v in r.items()
                                            if k != "repeat"})
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
