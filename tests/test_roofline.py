"""benchmarks/roofline.py: the multiply-add counts are right on a net whose count is known, and --smoke runs."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch import nn

from nasbench_eval.proxies import list_proxies

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import roofline  # noqa: E402


def test_forward_counts_conv_linear_and_relu_units():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.ReLU(), nn.Conv2d(4, 4, 1, groups=2),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    macs, units, used = roofline.forward_counts(net, torch.zeros(2, 3, 8, 8))
    assert macs == 2 * (4 * 64 * 3 * 9 + 4 * 64 * 2 + 5 * 4)
    assert units == [4 * 64, 4 * 64]
    assert used == {id(p) for p in net.parameters()}


def test_work_leaves_out_the_ops_a_logits_only_proxy_skips():
    from nasbench_eval.nets import build_network

    skipping = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"   # node 1's conv never counts
    kept = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    x = torch.zeros(2, 3, 8, 8)
    calls = [(build_network(a, C=2, N=1), x, None) for a in (skipping, kept)]
    conv_skip, conv_kept = (roofline.work("snip", [c])["conv"] // 3 for c in calls)     # snip: 3 F
    conv_nwot = roofline.work("nwot", [(build_network(skipping, C=2, N=1), x, None)])["conv"]
    # one 3x3 edge in each of the 3 cells: batch 2 x 128 output units x C_in·9 = 18 (stage 1, 2x8x8 outputs;
    # stages 2 and 3 trade width for resolution, 64 x 36 and 32 x 72, the same product)
    per_edge = 3 * 2 * 128 * 18
    assert conv_nwot == conv_skip + per_edge and conv_kept == conv_skip + 2 * per_edge


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


def test_skip_unused_check_smoke_finds_no_difference_in_either_layout(tmp_path):
    import skip_unused_check

    out = tmp_path / "s.json"
    assert skip_unused_check.main(["--smoke", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["results"]
    assert {(r["proxy"], r["layout"]) for r in rows} == {
        (p, layout) for p in list_proxies(tags={"logits-only"}) for layout in ("contiguous", "channels_last")}
    assert all(r["archs"] == 12 and r["differing"] == 0 for r in rows)


def test_allocator_benchmark_smoke(tmp_path):
    import allocator

    out = tmp_path / "a.json"
    assert allocator.main(["--smoke", "--proxies", "nwot", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {r["mode"] for r in result["runs"]} == {"default", "tuned"}
    assert result["summary"]["nwot"]["speedup"] > 0


def test_machine_throughput_smoke_times_ours_through_the_cli_path(tmp_path):
    import machine_throughput

    out = tmp_path / "m.json"
    assert machine_throughput.main(["--smoke", "--no-reference", "--proxies", "nwot,ntk_cond", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    rows = {r["proxy"]: r for r in result["proxies"]}
    assert set(rows) == {"nwot", "ntk_cond"}
    for r in rows.values():
        assert r["archs"] == 2 and list(r["seconds_per_arch"]) == ["ours"]
        assert r["median_seconds_per_arch"]["ours"] > r["ours_scoring_seconds_per_arch"] > 0
    assert result["available_cores"] >= 1 and result["git_commit"]


def test_box_pool_benchmark_smoke_is_bit_identical(tmp_path):
    import box_pool

    out = tmp_path / "b.json"
    assert box_pool.main(["--smoke", "--archs", "2", "--proxies", "nwot,grasp", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert len(result["rows"]) == 4 and result["all_bit_identical"]
    assert [p["proxy"] for p in result["proxies"]] == ["nwot", "grasp"] and result["all_scores_bit_identical"]
    assert all(r["native_forward_s"] > 0 and r["box_forward_backward_s"] > 0 for r in result["rows"])
