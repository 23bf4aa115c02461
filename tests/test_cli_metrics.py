"""CLI commands improvement / recall / mass, in-process on a small scores file built from the real ground truth."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nasbench_eval.cli import main
from nasbench_eval.metrics import improvement_curve, top_arch_recall_curve
from nasbench_eval.registry import PROXIES, Entry


def _run(capsys, *argv):
    code = main([*map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def scores_frame(gt_bench):
    """200 random archs: a noisy higher-is-better predictor, a noisy lower-is-better one, ground truth,
    a note column."""
    rng = np.random.default_rng(0)
    acc = gt_bench.accuracies()
    idx = rng.choice(len(gt_bench), 200, replace=False)
    return pd.DataFrame({
        "index": idx, "arch": [gt_bench.arch_str(i) for i in idx],
        "noisy": acc[idx] + rng.normal(0, 3, 200), "my_loss": -acc[idx] + rng.normal(0, 3, 200),
        "cifar10_test_acc_200ep": acc[idx], "note": "run-1",
    })


@pytest.fixture
def scores_csv(tmp_path, scores_frame):
    path = tmp_path / "scores.csv"
    scores_frame.to_csv(path, index=False)
    return path


def test_improvement_json_matches_the_library(capsys, scores_csv, scores_frame, c10):
    out_png = scores_csv.parent / "imp.png"
    code, out, _ = _run(capsys, "improvement", scores_csv, "--json", "--lower-is-better", "my_loss", "--out", out_png)
    assert code == 0
    r = json.loads(out)
    assert set(r["columns"]) == {"noisy", "my_loss"} and r["n_archs"] == 200 and r["n_merged"] == 0
    assert r["columns"]["my_loss"]["negated"] and not r["columns"]["noisy"]["negated"]
    acc = c10[scores_frame["index"].to_numpy()]
    want = improvement_curve(acc, scores_frame["noisy"].to_numpy())
    assert r["columns"]["noisy"]["improvement_at_k_min"] == pytest.approx(want.improvement[-1])
    assert r["mean_acc_all"] == pytest.approx(acc.mean())
    assert r["columns"]["my_loss"]["improvement_at_k_min"] > 0.3        # negated, so it helps
    assert out_png.stat().st_size > 1000 and out_png.read_bytes()[:4] == b"\x89PNG"


def test_registered_lower_is_better_proxy_is_negated(capsys, monkeypatch, tmp_path, scores_frame):
    monkeypatch.setitem(PROXIES._entries, "my_loss", Entry("my_loss", lambda *a: 0.0, higher_is_better=False))
    path = tmp_path / "s.csv"
    scores_frame.to_csv(path, index=False)
    code, out, _ = _run(capsys, "improvement", path, "--json", "--columns", "my_loss")
    assert code == 0
    r = json.loads(out)
    assert list(r["columns"]) == ["my_loss"] and r["columns"]["my_loss"]["negated"]
    assert (tmp_path / "s_improvement.png").stat().st_size > 1000     # default: next to the scores file


def test_recall_json_and_text(capsys, scores_csv, scores_frame, c10):
    code, out, _ = _run(capsys, "recall", scores_csv, "--json", "--lower-is-better", "my_loss", "--n-groups", "10")
    assert code == 0
    r = json.loads(out)
    want = top_arch_recall_curve(c10[scores_frame["index"].to_numpy()], scores_frame["noisy"].to_numpy(), n_groups=10)
    np.testing.assert_allclose(r["columns"]["noisy"]["recall"], want.recall)
    np.testing.assert_allclose(r["baseline"], want.baseline)
    assert len(r["thresholds"]) == 9 and r["columns"]["noisy"]["mean_recall"] > np.mean(r["baseline"])
    code, out, _ = _run(capsys, "recall", scores_csv, "--columns", "noisy")
    assert code == 0 and "noisy" in out and "plot:" in out


def test_arch_only_file_and_duplicates_are_merged(capsys, tmp_path, scores_frame):
    frame = pd.concat([scores_frame, scores_frame.iloc[:5]]).drop(columns=["index"])
    path = tmp_path / "archs.csv"
    frame.to_csv(path, index=False)
    code, out, _ = _run(capsys, "improvement", path, "--json", "--columns", "noisy", "--out", tmp_path / "a.png")
    assert code == 0 and json.loads(out)["n_merged"] == 5 and json.loads(out)["n_archs"] == 200


@pytest.mark.parametrize("argv, match", [
    (["--columns", "nope"], "columns="),
    (["--lower-is-better", "nope"], "lower_is_better"),
    (["--columns", "note"], "columns="),
    (["--k-min", "500"], "k_min"),
])
def test_improvement_bad_options_exit_2(capsys, scores_csv, argv, match):
    code, out, err = _run(capsys, "improvement", scores_csv, *argv)
    assert code == 2 and out == "" and match in err and err.count("\n") == 1


def test_missing_and_corrupt_files_exit_2(capsys, tmp_path, scores_frame):
    code, _, err = _run(capsys, "recall", tmp_path / "missing.csv")
    assert code == 2 and "does not exist" in err
    bad = tmp_path / "bad.csv"
    scores_frame.drop(columns=["index", "arch"]).to_csv(bad, index=False)
    code, _, err = _run(capsys, "recall", bad)
    assert code == 2 and "no 'index' or 'arch'" in err
    wrong = scores_frame.copy()
    wrong.loc[0, "index"] = (wrong.loc[0, "index"] + 1) % 15625
    wrong.to_csv(bad, index=False)
    code, _, err = _run(capsys, "improvement", bad)
    assert code == 2 and "not that index's architecture" in err


def test_mass_softmax_json_with_biased(capsys, tmp_path):
    logits = np.zeros((6, 5))
    logits[:, 3] = 2.0                                  # favour nor_conv_3x3 on every edge
    path = tmp_path / "alphas.json"
    path.write_text(json.dumps({"alphas": logits.tolist()}))
    code, out, _ = _run(capsys, "mass", path, "--json", "--biased")
    assert code == 0
    r = json.loads(out)
    assert r["sum_probs"] == pytest.approx(1.0, abs=1e-9) and r["argmax_index"] == 1462
    assert len(r["mass"]) == 24 and r["mean_mass"] > r["mean_baseline"]
    assert r["biased_mass"][0] == pytest.approx(0.078157, abs=1e-6)
    assert (tmp_path / "alphas_mass.png").stat().st_size > 1000


def test_mass_npy_uniform_and_dirichlet(capsys, tmp_path):
    path = tmp_path / "beta.npy"
    np.save(path, np.full((6, 5), 3.0))
    code, out, _ = _run(capsys, "mass", path, "--json", "--kind", "dirichlet", "--out", tmp_path / "m.png")
    assert code == 0
    r = json.loads(out)
    np.testing.assert_allclose(r["mass"], r["baseline"], atol=1e-12)


@pytest.mark.parametrize("content, kind, match", [
    (np.zeros((5, 5)).tolist(), "softmax", "shape"),
    ((np.ones((6, 5)) / 4).tolist(), "probs", "sum to"),
    ("not json", "softmax", "numeric matrix"),
])
def test_mass_bad_input_exit_2(capsys, tmp_path, content, kind, match):
    path = tmp_path / "a.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    code, out, err = _run(capsys, "mass", path, "--kind", kind)
    assert code == 2 and out == "" and match in err
