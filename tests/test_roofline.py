"""benchmarks/roofline.py: the multiply-add counts are right on a net whose count is known, and --smoke runs."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import roofline  # noqa: E402


def test_forward_counts_conv_linear_and_relu_units():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.ReLU(), nn.Conv2d(4, 4, 1, groups=2),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    macs, units = roofline.forward_counts(net, torch.zeros(2, 3, 8, 8))
    assert macs == 2 * (4 * 64 * 3 * 9 + 4 * 64 * 2 + 5 * 4)
    assert units == [4 * 64, 4 * 64]


def test_smoke_run_writes_every_proxy(tmp_path):
    out = tmp_path / "r.json"
    assert roofline.main(["--smoke", "--no-reference", "--proxies", "nwot,synflow,ntk_cond", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    rows = {r["proxy"]: r for r in result["proxies"]}
    assert set(rows) == {"nwot", "synflow", "ntk_cond"}
    assert all(r["median_attainable_s"] > 0 and r["ours_over_attainable"] > 0 for r in rows.values())
    assert rows["nwot"]["median_gemm_macs"] > 0 and result["machine_rates"]["int8"]["gemm_macs_per_s"] > 0
    for key in ("device", "torch", "date", "command", "loadavg_before"):
        assert result[key]
