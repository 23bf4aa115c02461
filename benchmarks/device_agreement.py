"""Does a proxy give the same score on two devices? Per-arch comparison of two `correlate` score files.

Each input is the ``scores.csv`` that ``nasbench-eval correlate --out DIR`` writes (one row per arch: ``index``,
``<proxy>``, ``<proxy>_status``, ``<proxy>_seconds``, the accuracy target). The JSON holds, over the archs both
files scored: the relative difference |b/a − 1| (median, 90th percentile, max), the Kendall tau and Spearman rho
between the two devices' scores, each device's Kendall tau against the accuracy target, whether every status
agrees, and the median seconds per arch on each.

    python benchmarks/device_agreement.py --proxy ntk_cond \\
        --a benchmarks/results/gpu_suite/ntk_cond_200_scores_cpu.csv --a-label cpu \\
        --b benchmarks/results/gpu_suite/ntk_cond_200_scores_cuda.csv --b-label cuda \\
        --out benchmarks/results/gpu_suite/ntk_cond_cpu_vs_cuda.json
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
import scipy.stats

from nasbench_eval._json import write_json
from nasbench_eval.provenance import provenance


def compare(a: pd.DataFrame, b: pd.DataFrame, proxy: str, target: str) -> dict:
    """The agreement of `proxy` between score tables `a` and `b` (indexed by arch index) over their common archs."""
    both = a.add_suffix("_a").join(b.add_suffix("_b"), how="inner")
    ok = both[(both[f"{proxy}_status_a"] == "ok") & (both[f"{proxy}_status_b"] == "ok")]
    va, vb = ok[f"{proxy}_a"].to_numpy(float), ok[f"{proxy}_b"].to_numpy(float)
    rel = np.abs(vb / va - 1.0)
    acc = ok[f"{target}_a"].to_numpy(float)
    return {
        "archs": len(both), "archs_ok_on_both": len(ok),
        "statuses_equal": bool((both[f"{proxy}_status_a"] == both[f"{proxy}_status_b"]).all()),
        "rel_diff": {"median": float(np.median(rel)), "p90": float(np.quantile(rel, 0.9)), "max": float(rel.max())},
        "kendall_between_devices": float(scipy.stats.kendalltau(va, vb).statistic),
        "spearman_between_devices": float(scipy.stats.spearmanr(va, vb).statistic),
        "kendall_vs_target": {"a": float(scipy.stats.kendalltau(va, acc).statistic),
                              "b": float(scipy.stats.kendalltau(vb, acc).statistic)},
        "median_seconds_per_arch": {"a": float(ok[f"{proxy}_seconds_a"].median()),
                                    "b": float(ok[f"{proxy}_seconds_b"].median())},
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--proxy", required=True, help="the proxy's column name in both files, e.g. ntk_cond")
    p.add_argument("--a", required=True, help="scores.csv from the first device")
    p.add_argument("--b", required=True, help="scores.csv from the second device")
    p.add_argument("--a-label", default="a")
    p.add_argument("--b-label", default="b")
    p.add_argument("--target", default="cifar10_test_acc_200ep")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    cols = [args.proxy, f"{args.proxy}_status", f"{args.proxy}_seconds", args.target]
    a, b = (pd.read_csv(path, index_col="index")[cols] for path in (args.a, args.b))
    record = {"benchmark": "device_agreement", **provenance("cpu"), "proxy": args.proxy,
              "a": {"label": args.a_label, "file": args.a}, "b": {"label": args.b_label, "file": args.b},
              **compare(a, b, args.proxy, args.target)}
    write_json(args.out, record)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
