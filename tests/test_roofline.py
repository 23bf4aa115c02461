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


def test_op_meter_counts_a_conv_and_its_bytes():
    import op_roofline

    x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
    meter = op_roofline.OpMeter()
    with meter:
        torch.nn.functional.conv2d(x, w, padding=1).view(-1)
    conv = meter.ops["convolution"]
    assert conv["calls"] == 1 and conv["macs"] == 2 * 4 * 64 * 3 * 9
    assert conv["bytes"] == 4 * (x.numel() + w.numel() + 2 * 4 * 64)
    assert meter.ops["view"]["bytes"] == 0


def test_op_roofline_smoke_writes_floors(tmp_path):
    import op_roofline

    out = tmp_path / "o.json"
    assert op_roofline.main(["--smoke", "--proxies", "nwot,snip", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    rows = {r["proxy"]: r for r in result["proxies"]}
    assert set(rows) == {"nwot", "snip"}
    for r in rows.values():
        assert r["floor_s"] > 0 and r["kernel_s"] > 0 and r["ops"][0]["calls"] > 0
    assert rows["nwot"]["compute_floor_s"] > 0 and result["machine_rates"]["bandwidth"]["cache_bytes_per_s"] > 0


def test_fast_paths_smoke_is_bit_identical_to_every_plain_order(tmp_path):
    import fast_paths

    out = tmp_path / "f.json"
    assert fast_paths.main(["--smoke", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["paths"]
    assert {r["path"] for r in rows} == set(fast_paths.PATHS)
    assert all(r["bit_identical"] and r["median_fast_s"] > 0 for r in rows)


def test_allocator_benchmark_smoke(tmp_path):
    import allocator

    out = tmp_path / "a.json"
    assert allocator.main(["--smoke", "--proxies", "nwot", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {r["mode"] for r in result["runs"]} == {"default", "tuned"}
    assert result["summary"]["nwot"]["speedup"] > 0
