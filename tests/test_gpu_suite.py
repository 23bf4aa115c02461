"""benchmarks/gpu_suite.py --smoke: every step of the GPU suite runs on the CPU at tiny sizes and writes its JSON."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_suite_smoke_runs_every_step(full_data, tmp_path):
    env = {**os.environ, "NASBENCH_EVAL_DATA": str(full_data), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_suite.py"), "--smoke", "--out-dir",
                           str(tmp_path)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "gpu_suite_smoke.json").read_text())
    steps = {r["step"]: r for r in summary["steps"]}
    assert set(steps) == {"gpu_tests", "ntk_device_check", "ntk_rows", "correlate_4_synflow", "correlate_4_lr",
                          "engine_throughput", "stage1_one_epoch", "spidernet_short"}
    assert all(r["returncode"] == 0 for r in steps.values()) and summary["all_steps_ok"]
    for key in ("device", "torch", "date", "command", "git_commit"):
        assert summary[key]
    assert summary["full_space_seconds"] > 0 and "extrapolation" in summary["full_space_note"]
    assert set(summary["engine_speedup"]) == {"nwot", "synflow", "ntk_cond", "lr_count"}
    assert {r["method"] for r in steps["stage1_one_epoch"]["result"]["runs"]} >= {"rsps", "darts", "gdas"}
    check = steps["ntk_device_check"]["result"]["archs"][0]["repeats"][0]
    assert set(check) == {"repeat", "cpu64", "cpu32", "dev32", "dev32_ieee", "dev32_contiguous",
                          "dev32_no_cudnn", "dev64"}
    assert check["cpu32"]["rel_frobenius_vs_cpu64"] < 1e-4 and check["cpu64"]["rel_frobenius_vs_cpu64"] == 0.0
    assert steps["ntk_rows"]["result"]["archs"][0]["max_rel_diff"] < 1e-4
    assert steps["correlate_4_synflow"]["result"]["metrics"] and steps["correlate_4_lr"]["result"]["metrics"]


def test_budget_skips_the_steps_that_no_longer_fit(tmp_path):
    """A budget below one step's minimum runs nothing and records every step as skipped (exit 1)."""
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_suite.py"), "--smoke", "--budget", "1",
                           "--out-dir", str(tmp_path)], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    summary = json.loads((tmp_path / "gpu_suite_smoke.json").read_text())
    assert proc.returncode == 1 and not summary["all_steps_ok"] and summary["steps"] == []
    assert summary["skipped_for_budget"][0] == "gpu_tests" and summary["skipped_for_budget"][-1] == "spidernet_short"


def test_device_agreement_compares_the_archs_both_devices_scored():
    """Known per-arch values: relative differences, rank agreement and statuses over the common, ok archs."""
    import pandas as pd

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from device_agreement import compare

    def table(values, statuses):
        n = len(values)
        return pd.DataFrame({"p": values, "p_status": statuses, "p_seconds": [1.0] * n,
                             "acc": [90.0, 91.0, 92.0, 93.0, 94.0][:n]}, index=pd.Index(range(n), name="index"))

    a = table([1.0, 2.0, 4.0, 8.0, 1.0], ["ok"] * 4 + ["failed"])
    b = table([1.0, 3.0, 4.0, 4.0], ["ok"] * 4)          # arch 4 missing on b; arch 3 halved, ranks 1-2 swap
    got = compare(a, b, "p", "acc")
    assert got["archs"] == 4 and got["archs_ok_on_both"] == 4 and got["statuses_equal"]
    assert got["rel_diff"]["max"] == 0.5 and got["rel_diff"]["median"] == 0.25
    assert got["kendall_vs_target"]["a"] == 1.0 and got["kendall_between_devices"] < 1.0
