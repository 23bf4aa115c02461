"""`nasbench-eval reproduce`: listing, a quick end-to-end run, skipped rows, exact ground-truth rows,
the transcribed published numbers, and bad input."""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from nasbench_eval.cli import main
from nasbench_eval.reproduce import RunContext, get_table, list_tables, run_table
from nasbench_eval.reproduce.published import Published, RowSpec, TableSpec
from nasbench_eval.scoring.score_space import score_space
from nasbench_eval.search import random_search
from nasbench_eval.scoring.store import ScoreStore

NAMES = ["training-free-table1", "training-free-table2", "training-free-table3", "training-free-table4",
         "training-free-table5", "tenas-table1", "tenas-correlation"]


def _run_json(capsys, argv) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def quick_table3(tmp_path_factory):
    """One quick run of [TF] Table III (synflow is data-free, so all three datasets run), shared by tests."""
    root = tmp_path_factory.mktemp("t3")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):               # module-scoped: capsys is not available here
        assert main([*_table3_argv(root / "scores.sqlite", root / "out"), "--json"]) == 0
    return json.loads(buf.getvalue()), root


def _table3_argv(store, out) -> list[str]:
    return ["reproduce", "training-free-table3", "--quick", "--out", str(out),
            "--store", str(store), "--no-progress"]


# ---- listing and bad input -------------------------------------------------------------------------
def test_list_names_every_table(capsys):
    listed = _run_json(capsys, ["reproduce", "--list"])
    assert [t["name"] for t in listed["tables"]] == NAMES == list_tables()
    assert main(["reproduce", "--list"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in NAMES) and "Table III" in text


def test_unknown_name_exits_2_with_the_names(capsys):
    assert main(["reproduce", "table-42"]) == 2
    err = capsys.readouterr().err
    assert "'table-42'" in err and all(name in err for name in NAMES) and err.count("\n") == 1


def test_missing_name_exits_2(capsys):
    assert main(["reproduce"]) == 2
    assert "tenas-table1" in capsys.readouterr().err


def test_zero_seeds_exits_2(capsys, tmp_path):
    argv = ["reproduce", "tenas-table1", "--seeds", "0", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "--seeds" in capsys.readouterr().err


# ---- the published numbers are data from the papers --------------------------------------------------
def test_every_row_reports_a_benchmark_column(full_bench):
    for table in map(get_table, list_tables()):
        assert len({r.key for r in table.rows}) == len(table.rows), table.name
        for row in table.rows:
            full_bench.check_key(row.dataset, row.metric, row.epochs)
            assert set(row.published) >= set(table.quantities), (table.name, row.key)


def _paper(name):
    """A paper's text from the folder $NASBENCH_EVAL_PAPERS names (`.ci/run` sets it); skipped without it."""
    folder = os.environ.get("NASBENCH_EVAL_PAPERS")
    if not folder or not (Path(folder) / name).is_file():
        pytest.skip(f"{name}: set $NASBENCH_EVAL_PAPERS to a folder holding the papers' text")
    return (Path(folder) / name).read_text()


@pytest.mark.parametrize("name", NAMES[:5])
def test_training_free_numbers_appear_in_the_paper(name):
    text = _paper("training-free-nas-naswot-synflow.txt")
    for row in get_table(name).rows:
        for pub in row.published.values():
            assert f"{pub.mean:.3f}\t{pub.std:.3f}" in text, (row.key, pub)


def test_tenas_numbers_appear_in_the_paper():
    text = _paper("te-nas-ntk-linear-regions.txt")
    for row in get_table("tenas-table1").rows:
        pub = row.published["accuracy"]
        assert f"{pub.mean:g}" in text and (pub.std is None or f"({pub.std:.2f}" in text or f"({pub.std:g}" in text)
    assert "as -0.42" in text and "as 0.5" in text


def test_table1_has_the_papers_grid():
    rows = get_table("training-free-table1").rows
    assert [(r.dataset, r.params["n_samples"]) for r in rows] == [
        (d, n) for d in ("cifar10-valid", "cifar100", "ImageNet16-120") for n in (10, 100, 1000)]
    assert {r.proxy for r in rows} == {"nwot"} and {r.epochs for r in rows} == {12}


# ---- a quick run end to end ----------------------------------------------------------------------------
def test_quick_run_picks_are_consistent_with_the_benchmark(quick_table3, full_bench):
    result, _ = quick_table3
    assert result["quick"] and "NOT comparable" in result["warning"]
    assert [r["status"] for r in result["rows"]] == ["ok"] * 3
    for row in result["rows"]:
        dataset, rest = row["target"].split("/")
        truth = full_bench.accuracies(dataset, "valid_acc", 12)
        picks = row["picks"]
        assert [p["seed"] for p in picks] == [0, 1] and row["params"] == {"n_samples": 8}
        assert all(p["accuracy"] == truth[p["index"]] for p in picks)   # reported = ground truth of the pick
        assert row["ours"]["accuracy"]["mean"] == pytest.approx(np.mean([p["accuracy"] for p in picks]))
        assert row["ours"]["accuracy"]["std"] == pytest.approx(np.std([p["accuracy"] for p in picks]))
        assert row["diff"]["accuracy"] == pytest.approx(
            row["ours"]["accuracy"]["mean"] - row["published"]["accuracy"]["mean"]
        )


def test_quick_run_scores_are_the_proxy_of_the_picked_arch(quick_table3, full_bench):
    result, _ = quick_table3
    row = result["rows"][0]                                # cifar10-valid, synflow_log
    archs = [p["arch"] for p in row["picks"]]
    frame = score_space(archs, "synflow_log", dataset="cifar10-valid", seed=0, device="cpu", progress=False)
    assert [p["score"] for p in row["picks"]] == pytest.approx(frame["synflow_log"].tolist(), rel=1e-12)


def test_quick_run_picks_the_best_scored_draw(quick_table3, full_bench):
    result, root = quick_table3
    row = result["rows"][0]                                # cifar10-valid, synflow_log, N=8
    with ScoreStore(root / "scores.sqlite") as store:      # keys hold dataset, seed and settings: a wrong one misses
        for pick in row["picks"]:
            draws = random_search(
                lambda i: np.zeros(len(i)), full_bench, n_samples=8, seed=pick["seed"]
            ).trajectory.index
            frame = score_space([full_bench.arch_str(int(i)) for i in draws], "synflow_log", dataset="cifar10-valid",
                                seed=0, device="cpu", store=store, progress=False)
            assert pick["index"] == draws[int(np.argmax(frame["synflow_log"]))]


def test_quick_run_writes_published_and_ours(quick_table3):
    result, root = quick_table3
    md = (root / "out" / "training-free-table3.md").read_text()
    assert "QUICK RUN" in md and "70.31 ± 9.64" in md and "48.89 ± 18.76" in md   # Table III, CIFAR-10
    for row in result["rows"]:
        assert row["ours"]["accuracy"]["text"] in md and row["published"]["accuracy"]["text"] in md
    csv = pd.read_csv(root / "out" / "training-free-table3.csv")
    assert list(csv["published_accuracy_mean"]) == [70.313, 41.648, 23.423]
    assert list(csv["ours_accuracy_mean"]) == pytest.approx([r["ours"]["accuracy"]["mean"] for r in result["rows"]])
    assert list(csv["diff_score"]) == pytest.approx(csv["ours_score_mean"] - csv["published_score_mean"])


def test_rerun_is_deterministic_and_reuses_the_store(quick_table3, capsys, tmp_path):
    result, root = quick_table3
    with ScoreStore(root / "scores.sqlite") as store:
        n_before = len(store)
    again = _run_json(capsys, [*_table3_argv(root / "scores.sqlite", tmp_path), "--seeds", "1"])
    with ScoreStore(root / "scores.sqlite") as store:
        assert len(store) == n_before                      # every score came from the store
    assert [r["picks"][0] for r in again["rows"]] == [r["picks"][0] for r in result["rows"]]


# ---- skipped rows and exact ground truth ----------------------------------------------------------------
def test_rows_without_images_are_skipped_and_optimal_is_exact(tmp_path, full_bench):
    """CIFAR-100 / ImageNet16-120 rows need the user's images (the package has CIFAR-10 ones only): skipped, with where
    they were looked for; ground-truth rows still run."""
    import dataclasses

    from nasbench_eval.reproduce import markdown

    data = tmp_path / "data"
    data.mkdir()
    table = get_table("tenas-table1")
    table = dataclasses.replace(table, rows=tuple(r for r in table.rows if r.dataset != "cifar10"))
    with ScoreStore(tmp_path / "s.sqlite") as store:
        result = run_table(table, RunContext(bench=full_bench, store=store, device="cpu", quick=True, data_dir=data))
    rows = {r["key"]: r for r in result["rows"]}
    for dataset in ("cifar100", "ImageNet16-120"):
        index, best = full_bench.best(dataset, "test_acc", 200)
        optimal = rows[f"{dataset}/optimal"]
        assert optimal["status"] == "ok" and optimal["ours"]["accuracy"]["mean"] == best
        assert optimal["picks"][0]["index"] == index
        for tag in ("NASWOT-v1", "NASWOT-v2", "TE-NAS"):
            row = rows[f"{dataset}/{tag}"]
            assert row["status"] == "skipped" and row["ours"]["accuracy"] is None, (dataset, tag, row["reason"])
            assert row["reason"].startswith(f"no images for {dataset} (looked in ") and str(data) in row["reason"]
        assert rows[f"{dataset}/GDAS"]["status"] == "not reproduced"
    md = markdown(result)
    assert "skipped: no images for cifar100 (looked in" in md and "73.51" in md


# ---- correlation rows ---------------------------------------------------------------------------------
def test_correlation_row_is_kendall_tau_of_the_scores(full_bench, tmp_path):
    pub = {"kendall_tau": Published(0.5, None, "test")}
    row = RowSpec(key="c10/params", method="params", kind="correlation", dataset="cifar10", metric="test_acc",
                  epochs=200, proxy="params", quick_params={"n_archs": 12}, seeds=1, published=pub)
    table = TableSpec("t", "t", "p", "s", ("kendall_tau",), (row,))
    with ScoreStore(tmp_path / "s.sqlite") as store:
        result = run_table(table, RunContext(bench=full_bench, store=store, device="cpu", quick=True))
    out = result["rows"][0]
    assert out["n_archs"] == 12 and out["status"] == "ok"
    idx = np.sort(np.random.default_rng(0).choice(len(full_bench), size=12, replace=False))
    with ScoreStore(tmp_path / "s.sqlite") as store:
        frame = score_space(
            [full_bench.arch_str(int(i)) for i in idx],
            "params",
            dataset="cifar10",
            seed=0,
            device="cpu",
            store=store,
            progress=False,
        )
    expected = scipy.stats.kendalltau(full_bench.accuracies("cifar10", "test_acc", 200)[idx], frame["params"]).statistic
    assert out["ours"]["kendall_tau"]["mean"] == pytest.approx(expected)
    assert out["diff"]["kendall_tau"] == pytest.approx(expected - 0.5) and not math.isnan(expected)
