"""Throughput of Stage-1 prediction, one architecture at a time vs batched, same supernet, same device, same run.

A freshly initialised NB201 supernet (default C=16, N=5, full space, seed 0) predicts the accuracy of
a seeded random sample of architectures with ``predict_accuracies(..., batched=False)`` (the reference
loop: `recalibrate_bn`, then eval) and with the batched path (`GroupedSupernet`) at each requested
group size. The script checks that the accuracies agree, compares logits and BatchNorm statistics
of the first group with the single-path forward, and writes
``benchmarks/results/stage1_eval_throughput_<device>.json`` with provenance (command, date,
device, torch version, git commit) and the machine's load average before and after, which shows
how much other jobs shared the processor.

    OMP_NUM_THREADS=1 python benchmarks/stage1_eval_throughput.py --device cpu --archs 16 --bn-batches 2 \
        --n-eval 512 --group-sizes 1,4 --repeats 2
    python benchmarks/stage1_eval_throughput.py --device cuda --archs 512 --bn-batches 20 --n-eval 5000 \
        --group-sizes auto,16,64
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import pathlib
import sys
import time

import numpy as np
import torch

from nasbench_eval._json import write_json
from nasbench_eval.exceptions import NasBenchEvalError
from nasbench_eval.nets.supernet import SUBSPACES, Supernet
from nasbench_eval.provenance import provenance
from nasbench_eval.space import NUM_ARCHS
from nasbench_eval.train import DeviceSplit, GroupedSupernet, load_stage1_data, predict_accuracies, recalibrate_bn
from nasbench_eval.train.batched_eval import auto_group_size

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def make_data(args, device: torch.device) -> tuple[list, list, str]:
    """(valid batches, bn batches, description): CIFAR-10 halves if the mirror is found, else seeded random images."""
    try:
        train, valid = load_stage1_data("cifar10", device=device, data_dir=args.data_dir)
        what = "CIFAR-10 train / valid halves (load_stage1_data)"
    except NasBenchEvalError as err:
        g = torch.Generator().manual_seed(args.seed)
        def split(n):
            return DeviceSplit(torch.randint(0, 256, (n, 32, 32, 3), generator=g, dtype=torch.uint8).to(device),
                               torch.randint(0, 10, (n,), generator=g).to(device), "cifar10")
        train, valid = split(max(args.batch_size * args.bn_batches, args.batch_size)), split(args.n_eval)
        what = f"seeded random uint8 images ({type(err).__name__}: CIFAR-10 not found)"
    b = min(args.batch_size, args.n_eval)
    valid_batches = valid.fixed_batches(b, max(1, args.n_eval // b), seed=args.seed)
    bn = train.fixed_batches(args.batch_size, args.bn_batches, seed=args.seed, augment=True) if args.bn_batches else []
    return valid_batches, bn, what


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device) -> tuple[object, float, int | None]:
    """(result, seconds, peak CUDA bytes or None)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    seconds = time.perf_counter() - t0
    return out, seconds, torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None


def first_group_differences(net, archs, valid, bn) -> dict:
    """Largest |batched - single path| over logits (first valid batch) and BN running statistics."""
    group = GroupedSupernet(net)
    group.load(archs)
    if bn:
        group.recalibrate(bn)
    logits = group.logits(valid[0][0])
    worst_logit = worst_bn = 0.0
    for g, arch in enumerate(archs):
        ref = copy.deepcopy(net)
        if bn:
            recalibrate_bn(ref, arch, bn)
        ref.eval()
        with torch.no_grad():
            worst_logit = max(worst_logit, (ref(valid[0][0], arch) - logits[g]).abs().max().item())
        state = ref.state_dict()
        worst_bn = max(
            [worst_bn] + [(v.double() - state[k].double()).abs().max().item() for k, v in group.bn_state(g).items()]
        )
    return {"archs_compared": len(archs), "max_abs_logit_diff": worst_logit, "max_abs_bn_stat_diff": worst_bn}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--archs", type=int, default=16, help="seeded random archs of the space")
    ap.add_argument("--bn-batches", type=int, default=2, help="recalibration batches per arch ([LZ]: 20)")
    ap.add_argument(
        "--n-eval", type=int, default=512, help="valid-half images per prediction ([LZ]-style default: 5000)"
    )
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument(
        "--group-sizes",
        default="auto",
        help="comma-separated group sizes for the batched path; 'auto' = auto_group_size",
    )
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--N", type=int, default=5)
    ap.add_argument("--space", default="full", choices=list(SUBSPACES))
    ap.add_argument("--repeats", type=int, default=1, help="interleaved timing repeats; the fastest counts")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--note", default="", help="free text stored with the result (e.g. what else ran on the machine)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    load_before = os.getloadavg()
    valid, bn, data = make_data(args, device)
    net = Supernet(args.C, args.N, space=args.space, seed=args.seed).to(device)
    rng = np.random.default_rng(args.seed)
    archs = [tuple(int(o) for o in rng.choice(SUBSPACES[args.space], 6)) for _ in range(args.archs)]
    sizes = [auto_group_size(net, [*valid, *bn]) if s == "auto" else int(s) for s in args.group_sizes.split(",")]

    predict_accuracies(net, archs[:1], valid, bn_batches=bn, batched=False)      # warm-up, both paths
    predict_accuracies(net, archs[:1], valid, bn_batches=bn, group_size=1)
    seq, batched = [], {size: [] for size in sizes}
    for _ in range(args.repeats):    # interleaved, so a burst of load from other jobs hits every variant alike
        want, t, peak_seq = timed(lambda: predict_accuracies(net, archs, valid, bn_batches=bn, batched=False), device)
        seq.append(t)
        for size in sizes:
            got, t, peak = timed(lambda: predict_accuracies(net, archs, valid, bn_batches=bn, group_size=size), device)
            batched[size].append((t, peak, got))
    t_seq = min(seq)
    rows = []
    for size, runs in batched.items():
        t_b = min(t for t, _, _ in runs)
        got = runs[-1][2]
        rows.append({
            "group_size": size, "seconds": [t for t, _, _ in runs], "archs_per_s": len(archs) / t_b,
            "speedup_vs_one_at_a_time": t_seq / t_b, "peak_cuda_bytes": runs[-1][1],
            "accuracies_equal": int((got == want).sum()), "max_abs_accuracy_diff": float(np.abs(got - want).max()),
            "full_space_hours_extrapolated": NUM_ARCHS * t_b / len(archs) / 3600,
        })
        print(json.dumps(rows[-1]), file=sys.stderr)
    check = first_group_differences(net, archs[:min(4, len(archs))], valid, bn)
    out = {
        **provenance(device),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "torch_threads": torch.get_num_threads(),
        "note": args.note,
        "data": data,
        "settings": {
            "C": args.C,
            "N": args.N,
            "space": args.space,
            "archs": len(archs),
            "bn_batches": args.bn_batches,
            "n_eval": len(valid) * valid[0][0].shape[0],
            "batch_size": args.batch_size,
            "seed": args.seed,
            "forward_passes_per_arch": len(bn) + len(valid),
        },
        "timing": f"wall seconds per variant over all {len(archs)} archs, {args.repeats} interleaved repeat(s); rates "
                  "from the fastest",
        "one_at_a_time": {
            "seconds": seq,
            "archs_per_s": len(archs) / t_seq,
            "peak_cuda_bytes": peak_seq,
            "full_space_hours_extrapolated": NUM_ARCHS * t_seq / len(archs) / 3600,
        },
        "batched": rows,
        "first_group_vs_single_path": check,
        "accuracies": want.tolist(),
    }
    path = pathlib.Path(args.out) if args.out else RESULTS / f"stage1_eval_throughput_{device.type}.json"
    write_json(path, out)   # strict JSON: a non-finite number (e.g. a NaN-vs-number mismatch) is written as null
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
