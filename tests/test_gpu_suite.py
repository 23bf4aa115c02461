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
    assert set(steps) == {"gpu_tests", "correlate_4_synflow", "correlate_4_lr", "engine_throughput",
                          "stage1_one_epoch", "spidernet_short"}
    assert all(r["returncode"] == 0 for r in steps.values()) and summary["all_steps_ok"]
    for key in ("device", "torch", "date", "command", "git_commit"):
        assert summary[key]
    assert summary["full_space_seconds"] > 0 and "extrapolation" in summary["full_space_note"]
    assert set(summary["engine_speedup"]) == {"nwot", "synflow", "ntk_cond", "lr_count"}
    assert {r["method"] for r in steps["stage1_one_epoch"]["result"]["runs"]} >= {"rsps", "darts", "gdas"}
    assert steps["correlate_4_synflow"]["result"]["metrics"] and steps["correlate_4_lr"]["result"]["metrics"]


def test_budget_skips_the_steps_that_no_longer_fit(tmp_path):
    """A budget below one step's minimum runs nothing and records every step as skipped (exit 1)."""
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_suite.py"), "--smoke", "--budget", "1",
                           "--out-dir", str(tmp_path)], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    summary = json.loads((tmp_path / "gpu_suite_smoke.json").read_text())
    assert proc.returncode == 1 and not summary["all_steps_ok"] and summary["steps"] == []
    assert summary["skipped_for_budget"][0] == "gpu_tests" and summary["skipped_for_budget"][-1] == "spidernet_short"
