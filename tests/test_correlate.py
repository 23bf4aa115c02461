"""`nasbench-eval correlate` and `score` end to end, in-process."""
from __future__ import annotations

import json

import pandas as pd
import pytest

import nasbench_eval.scoring.units as units_module
from nasbench_eval.cli import main
from nasbench_eval.metrics import kendall_tau


def run_json(capsys, argv):
    code = main([*argv, "--json", "--no-progress"])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else None), captured.err


def test_correlate_writes_scores_plot_and_summary(capsys, tmp_path, full_bench):
    argv = ["correlate", "--metric", "params,flops", "--sample", "40", "--seed", "3", "--device", "cpu",
            "--out", str(tmp_path / "out"), "--store", str(tmp_path / "s.sqlite"), "--n-boot", "200"]
    code, obj, err = run_json(capsys, argv)
    assert code == 0, err
    frame = pd.read_csv(obj["scores_file"])
    assert len(frame) == 40 == obj["n_archs"] and frame["index"].is_unique
    assert list(frame["arch"]) == [full_bench.arch_str(i) for i in frame["index"]]
    assert frame["cifar10_test_acc_200ep"].tolist() == [full_bench.query(i) for i in frame["index"]]
    m = obj["metrics"]["params"]
    assert m["n"] == 40 and m["n_failed"] == 0
    assert m["kendall"] == pytest.approx(kendall_tau(frame["cifar10_test_acc_200ep"], frame["params"]))
    assert m["ci95"]["kendall"][0] <= m["kendall"] <= m["ci95"]["kendall"][1]
    assert set(m) >= {"n", "n_failed", "kendall", "spearman", "pearson", "ci95", "without_dead_cells"}
    assert (tmp_path / "out" / "scatter.png").stat().st_size > 5000
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["metrics"]["flops"]["n"] == 40

    # A rerun is served entirely from the store: scoring anything now would fail the test.
    def must_not_score(*args, **kwargs):
        raise AssertionError("rerun recomputed a stored score")

    real = units_module.score_arch
    units_module.score_arch = must_not_score
    try:
        code2, obj2, _ = run_json(capsys, argv)
    finally:
        units_module.score_arch = real
    assert code2 == 0 and obj2["metrics"]["params"]["kendall"] == m["kendall"]


def test_correlate_archs_file(capsys, tmp_path, full_bench):
    listing = tmp_path / "archs.txt"
    listing.write_text(f"# my set\n6111\n{full_bench.arch_str(1651)}\n\n857  # best on ImageNet16-120\n6111\n")
    code, obj, err = run_json(capsys, ["correlate", "--metric", "params", "--archs", str(listing), "--device", "cpu",
                                       "--out", str(tmp_path / "o"), "--store", str(tmp_path / "s.sqlite")])
    assert code == 0, err
    assert pd.read_csv(obj["scores_file"])["index"].tolist() == [6111, 1651, 857]  # file order, duplicate dropped
    assert obj["metrics"]["params"]["without_dead_cells"]["n"] == 2  # 1651 (all none) is a dead cell


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--metric", "ntk_kond"], "Did you mean"),
        (["--sample", "0"], "--sample: '0' is out of range"),
        (["--sample", "20000"], "--sample: '20000' is out of range"),
        (["--dataset", "cifar10", "--target", "valid_acc", "--epochs", "12"], "dataset='cifar10-valid'"),
        (["--archs", "/nonexistent/list.txt"], "'/nonexistent/list.txt' does not exist"),
        (["--device", "cuda:7"], "device="),
        (["--sample", "3", "--all"], "not allowed with argument"),
    ],
)
def test_correlate_bad_input(capsys, tmp_path, extra, fragment):
    code = main(["correlate", *extra, "--out", str(tmp_path), "--store", str(tmp_path / "s.sqlite"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and fragment in err[0]


def test_correlate_bad_archs_line_names_the_line(capsys, tmp_path):
    listing = tmp_path / "archs.txt"
    listing.write_text("12\n|nor_conv_3x3~0|+|oops~0|\n")
    code = main(["correlate", "--metric", "params", "--archs", str(listing), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "line 2" in err


def test_score_command_exports_a_table(capsys, tmp_path):
    code, obj, err = run_json(capsys, ["score", "--metrics", "params,synflow", "--sample", "5", "--device", "cpu",
                                       "--out", str(tmp_path / "t.csv"), "--store", str(tmp_path / "s.sqlite")])
    assert code == 0, err
    table = pd.read_csv(tmp_path / "t.csv")
    assert len(table) == 5 and {"index", "arch", "params", "synflow", "synflow_status"} <= set(table.columns)
    assert obj["proxies"]["params"]["n_ok"] == 5


def test_issue_3_ci_smoke_naswot_synflow_64_archs(capsys, tmp_path):
    """The issue's CI smoke test on real CIFAR-10 images. The true tau is about 0.6 for both scores;
    with 64 archs its sampling spread is about ±0.1, so only a clearly positive tau is asserted."""
    code, obj, err = run_json(
        capsys,
        [
            "correlate",
            "--metric",
            "naswot,synflow",
            "--dataset",
            "cifar10",
            "--sample",
            "64",
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "o"),
            "--store",
            str(tmp_path / "s.sqlite"),
        ],
    )
    assert code == 0, err
    for proxy in ("nwot", "synflow"):
        m = obj["metrics"][proxy]
        assert m["n"] == 64 and m["kendall"] > 0.3 and m["ci95"]["kendall"][0] > 0


def test_issue_4_curves_from_a_correlate_output(capsys, tmp_path):
    """improvement / recall read the scores file `correlate` writes (bookkeeping columns ignored)."""
    out = tmp_path / "o"
    code, obj, err = run_json(capsys, ["correlate", "--metric", "params,flops", "--sample", "60", "--device", "cpu",
                                       "--out", str(out), "--store", str(tmp_path / "s.sqlite"), "--n-boot", "50"])
    assert code == 0, err
    for command in ("improvement", "recall"):
        png = tmp_path / f"{command}.png"
        assert main([command, obj["scores_file"], "--out", str(png), "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert png.stat().st_size > 5000
        assert set(result["columns"]) == {"params", "flops"}  # no *_seconds / dead_cell bookkeeping columns
        assert result["n_archs"] == 60


def test_undefined_statistic_gets_no_interval():
    """nwot is -inf for dead cells: Pearson is undefined (spec §0.2), so its CI must not be a number either,
    while the rank statistics still rank -inf as worst."""
    import math

    import numpy as np

    from nasbench_eval.commands.correlate import correlations

    acc = np.array([10.0, 50.0, 60.0, 70.0, 80.0, 90.0])
    score = np.array([-np.inf, 1.0, 2.0, 3.0, 5.0, 4.0])
    res = correlations(acc, score, n_boot=100, seed=0)
    assert math.isnan(res["pearson"]) and all(math.isnan(v) for v in res["ci95"]["pearson"])
    assert res["kendall"] > 0.8 and not math.isnan(res["ci95"]["kendall"][0])
