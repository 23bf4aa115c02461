"""The two-stage grid (resumable, deterministic, summarised as spec §7-§8, §10.2) and the reproductions that
train supernets: `reproduce pup-table2 --quick` and `reproduce interchoice-curves --quick` end to end, their
transcribed numbers, their paper settings and --epochs plumbing, and bad input."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch

from nasbench_eval.cli import main
from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.executors.local import LocalExecutor
from nasbench_eval.reproduce import interchoice, list_experiments, pup_table2
from nasbench_eval.reproduce.base import ReproductionContext, reduction_note
from nasbench_eval.reproduce.grid import GridResult, GridSpec, applicable_selectors, run_grid, summarize_grid

from conftest import STAGE1_TINY as TINY
from conftest import random_split as _split

TINY_GRID = {"methods": ("darts",), "selectors": ("prune", "valid", "synflow"), "seeds": (0,), "hparams": TINY,
             "n_samples": 3, "bn_batches": 1, "batch_size": 16, "n_eval": 16, "proxy_batch": 8, "stage1_sample": 8}


@pytest.fixture(scope="module")
def halves():
    return _split(96, 0), _split(64, 1)


class Recording(LocalExecutor):
    """A local executor that records the units it was given (class name, target) and can stop like Ctrl-C after
    `stop_after` finished units of one `run`."""

    def __init__(self, *, stop_after: int | None = None, **kwargs):
        super().__init__(threads=1, **kwargs)
        self.units, self.stop_after = [], stop_after

    def run(self, fn, payloads):
        self.units += [(type(u).__name__, u.target) for u in payloads]
        for n, item in enumerate(super().run(fn, payloads)):
            if n == self.stop_after:
                raise KeyboardInterrupt
            yield item


@pytest.fixture(scope="module")
def two_grids(halves, full_bench, tmp_path_factory):
    """The same tiny grid (darts + the rsps_biased baselines, one seed) run into two folders: every unit in this
    process, then in two worker processes (one torch thread each in both)."""
    spec = GridSpec(**TINY_GRID)
    dirs = tmp_path_factory.mktemp("grid_a"), tmp_path_factory.mktemp("grid_b")
    pool = Recording(workers=2)
    grids = [run_grid(spec, d, device="cpu", bench=full_bench, data=halves, progress=False, executor=ex)
             for d, ex in zip(dirs, (Recording(workers=1), pool))]
    return spec, grids, pool


def _cells_without_time(result: GridResult) -> list[dict]:
    return [{k: v for k, v in c.items() if k != "seconds"} for c in result.cells]


def _mtimes(folder: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


# ----------------------------------------------------------------------------------------- the grid
def test_grid_runs_every_applicable_cell_and_writes_it(two_grids):
    _, (a, _), _ = two_grids
    assert a.computed == {"train": 2, "stage1": 1, "cells": 3 + 4 * 2}   # darts: 3 selectors; 4 baselines: no prune
    names = sorted(p.stem for p in (a.out_dir / "cells").glob("*.json"))
    assert names == sorted([f"darts__{s}__s0" for s in ("prune", "valid", "synflow")]
                           + [f"{b}__{s}__s0" for b in ("R_I", "R_U", "N_I", "N_U") for s in ("valid", "synflow")])
    assert sorted(p.name for p in (a.out_dir / "runs").iterdir()) == ["darts_s0", "rsps_biased_s0"]
    cell = json.loads((a.out_dir / "cells" / "darts__valid__s0.json").read_text())
    assert cell["arch"] is not None and 0 < cell["test_acc"]["cifar10"] <= 100 and cell["regret"] >= 0
    assert len(cell["trajectory"]["draws"]) == 3 and set(a.stage1["darts_s0"]) >= {"kendall_tau", "mean_mass"}


def test_grid_is_deterministic_by_seed(two_grids):
    _, (a, b), _ = two_grids
    assert _cells_without_time(a) == _cells_without_time(b)
    for run in ("darts_s0", "rsps_biased_s0"):
        wa = torch.load(a.out_dir / "runs" / run / "supernet.pt", weights_only=True)
        wb = torch.load(b.out_dir / "runs" / run / "supernet.pt", weights_only=True)
        assert all(torch.equal(wa[k], wb[k]) for k in wa)


def _json_files(folder: Path) -> dict:
    """Relative path -> content of every Stage-1 evaluation and cell file, wall times dropped."""
    return {str(p.relative_to(folder)): {k: v for k, v in json.loads(p.read_text()).items() if k != "seconds"}
            for sub in ("stage1", "cells") for p in sorted((folder / sub).glob("*.json"))}


def test_grid_units_in_two_workers_write_the_in_process_files(two_grids):
    _, (a, b), pool = two_grids
    kinds = [kind for kind, _ in pool.units]
    assert (kinds.count("TrainUnit"), kinds.count("Stage1Unit"), kinds.count("CellUnit")) == (2, 1, 11)
    assert kinds.index("CellUnit") > kinds.index("TrainUnit")   # trainings first: the cells read their runs
    files = _json_files(a.out_dir)
    assert len(files) == 12 and files == _json_files(b.out_dir)
    assert not list(b.out_dir.rglob("*.partial"))


def test_interrupted_grid_resumes_without_recomputing_finished_units(two_grids, halves, full_bench, tmp_path):
    spec, (a, _), _ = two_grids
    out = tmp_path / "grid"
    out.mkdir()
    shutil.copytree(a.out_dir / "runs", out / "runs")            # trained: the interruption hits the evaluations
    shutil.copy(a.out_dir / "grid.json", out / "grid.json")
    stopped = Recording(workers=2, stop_after=4)
    with pytest.raises(KeyboardInterrupt):
        run_grid(spec, out, device="cpu", bench=full_bench, data=halves, progress=False, executor=stopped)
    kept = {p: t for p, t in _mtimes(out).items() if p.parent.name in ("stage1", "cells")}
    assert len(kept) == 4 and not list(out.rglob("*.partial"))
    rerun = Recording(workers=2)
    again = run_grid(spec, out, device="cpu", bench=full_bench, data=halves, progress=False, executor=rerun)
    assert sum(again.computed.values()) == len(rerun.units) == 12 - 4
    assert not {target for _, target in rerun.units} & {str(p) for p in kept}
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())
    assert _json_files(out) == _json_files(a.out_dir) and _cells_without_time(again) == _cells_without_time(a)


def test_grid_resumes_without_new_work_and_only_adds_what_is_missing(two_grids, halves, full_bench, capsys):
    spec, (_, b), _ = two_grids
    before = _mtimes(b.out_dir)
    again = run_grid(spec, b.out_dir, device="cpu", bench=full_bench, data=halves, progress=True)
    assert again.computed == {"train": 0, "stage1": 0, "cells": 0} and _mtimes(b.out_dir) == before
    assert "14/14" in capsys.readouterr().err and _cells_without_time(again) == _cells_without_time(b)
    (b.out_dir / "cells" / "N_U__synflow__s0.json").unlink()
    more = GridSpec(**{**TINY_GRID, "selectors": ("prune", "valid", "synflow", "jacob_cov")})   # the work list may grow
    grown = run_grid(more, b.out_dir, device="cpu", bench=full_bench, data=halves, progress=False)
    assert grown.computed == {"train": 0, "stage1": 0, "cells": 1 + 1 + 4}
    assert [c for c in _cells_without_time(grown) if c["selector"] != "jacob_cov"] == _cells_without_time(b)


def test_grid_refuses_a_folder_of_other_settings(two_grids, halves, full_bench):
    _, (a, _), _ = two_grids
    with pytest.raises(InvalidParameterError, match=r"other settings \(n_samples\)"):
        run_grid(
            GridSpec(**{**TINY_GRID, "n_samples": 4}),
            a.out_dir,
            device="cpu",
            bench=full_bench,
            data=halves,
            progress=False,
        )


@pytest.mark.parametrize(
    "change, param",
    [
        ({"methods": ("darts", "nope")}, "methods"),
        ({"selectors": ("valid", "valid")}, "selectors"),
        ({"seeds": ()}, "seeds"),
        ({"seeds": (-1,)}, "seeds"),
        ({"space": "tiny"}, "space"),
        ({"n_samples": 0}, "n_samples"),
        ({"finetune_epochs": -2}, "finetune_epochs"),
        ({"stage1_sample": 1}, "stage1_sample"),
        ({"hparams": {"epochs": 0}}, "epochs"),
        ({"method_hparams": {"darts": {"bias_depth": 1}}}, "bias_depth"),
    ],
)
def test_grid_spec_rejects_bad_input(change, param):
    with pytest.raises(InvalidParameterError, match=param):
        GridSpec(**{**TINY_GRID, **change})


def test_applicable_selectors():
    every = ["prune", "valid", "synflow", "jacob_cov", "perturb"]
    assert applicable_selectors("drnas", every) == every
    assert applicable_selectors("rsps_biased", every, is_baseline=True) == every[1:]
    assert applicable_selectors("spos", every) == every[1:]
    assert applicable_selectors("spos", every, hparams={"bias_depth": 2}) == every[1:4]
    assert applicable_selectors("spos", every, hparams={"split_epoch": 3}) == every[1:4]


def _cell(stage1, selector, seed, acc):
    return {"stage1": stage1, "selector": selector, "seed": seed, "arch": f"arch-{stage1}-{selector}-{seed}",
            "test_acc": {"cifar10": acc}, "regret": 94.37 - acc}


def test_summarize_grid_by_hand():
    # spec §8.3-style worked example: ranks darts (mass 2, tau 1), snas (1, 2); valid (dist 1, wts 2), synflow (2, 1)
    spec = GridSpec(methods=("darts", "snas"), selectors=("prune", "valid", "synflow"), seeds=(10, 11), round_to=2)
    acc = {
        ("darts", "prune"): (80, 82),
        ("darts", "valid"): (94.0, 92.0),
        ("darts", "synflow"): (93.456, 93.0),
        ("snas", "prune"): (94.37, 94.37),
        ("snas", "valid"): (94.2, 94.4),
        ("snas", "synflow"): (90, 91),
        ("R_I", "valid"): (94, 93),
        ("R_U", "valid"): (90, 87),
        ("N_U", "valid"): (89, 86),
        ("N_I", "valid"): (90, 88),
        ("R_I", "synflow"): (93, 92),
        ("R_U", "synflow"): (92, 91),
        ("N_U", "synflow"): (89, 88),
        ("N_I", "synflow"): (91, 91),
    }
    cells = [_cell(u, a, s, v) for (u, a), pair in acc.items() for s, v in zip(spec.seeds, pair)]
    quality = {f"{m}_s{s}": {"method": m, "seed": s, "kendall_tau": t, "mean_mass": q}
               for m, per in {"darts": ((0.1, 0.2), (0.3, 0.4)), "snas": ((0.1, 0.5), (0.1, 0.5))}.items()
               for s, (t, q) in zip(spec.seeds, per)}
    out = summarize_grid(GridResult(Path("."), spec, cells, quality, {}, {}))
    rows = {(r["stage1"], r["selector"]): r for r in out["table"]}
    assert len(rows) == 6 + 4 * 2 and ("R_I", "prune") not in rows
    err = rows[("darts", "valid")]["test_error"]
    assert (err["mean"], err["std"]) == pytest.approx((7.0, 1.0))
    assert rows[("darts", "synflow")]["test_acc"]["values"] == [93.46, 93.0]           # rounded to 2 decimals first
    assert rows[("darts", "valid")]["archs"] == ["arch-darts-valid-10", "arch-darts-valid-11"]
    rel = out["reliance"]
    assert set(rel) == {"valid", "synflow"} and rel["valid"]["dist"]["values"] == [4.0, 6.0]
    assert (rel["valid"]["dist"]["mean"], rel["valid"]["dist"]["std"], rel["valid"]["wts"]["mean"]) == pytest.approx(
        (5.0, 1.0, 1.0)
    )
    assert rel["synflow"]["wts"]["mean"] == pytest.approx(3.0) and rel["synflow"]["wts_ideal"]["values"] == [2.0, 1.0]
    assert out["stage1"]["darts"]["kendall_tau"]["mean"] == pytest.approx(0.2)
    comb = out["combination"]
    assert [(o["stage1"], o["selector"], o["score"]) for o in comb["order"][:4]] == [
        ("darts", "synflow", 2.0), ("snas", "valid", 2.0), ("darts", "valid", 8.0), ("snas", "synflow", 8.0)]
    assert all(math.isnan(o["score"]) for o in comb["order"][4:])                      # prune has no baseline results
    assert comb["kendall_tau_score_vs_observed"] == pytest.approx(4 / math.sqrt(24))   # S=4, 2 x-ties, no y-ties


# ----------------------------------------------------------------------------------------- settings and published data
def test_paper_settings_and_the_epochs_override(tmp_path):
    full = pup_table2._spec(ReproductionContext(tmp_path))
    assert full.seeds == (10, 11, 12) and full.methods == ("darts", "darts_minus", "snas", "gdas", "drnas")
    assert full.method_hparams == {"rsps_biased": {"epochs": 250}} and full.hparams == {} and full.n_samples == 100
    short = ReproductionContext(tmp_path, epochs=10)
    assert pup_table2._spec(short).hparams == {"epochs": 10} and pup_table2._spec(short).method_hparams == {}
    note = reduction_note(short, {"Stage-1 methods": 100, "rsps_biased": 250})
    assert "REDUCED RUN" in note and "10" in note and "100 (Stage-1 methods)" in note and "250 (rsps_biased)" in note
    assert reduction_note(ReproductionContext(tmp_path), {"x": 1}) is None
    assert interchoice._hparams("split_175", ReproductionContext(tmp_path)) == {"split_epoch": 175}
    assert interchoice._hparams("split_125", short) == {"epochs": 10, "split_epoch": 5}
    assert interchoice._hparams("split_200", ReproductionContext(tmp_path, epochs=2)) == {"epochs": 2, "split_epoch": 1}
    assert ReproductionContext(tmp_path, seeds=5).seed_list((10, 11, 12), quick=1) == (10, 11, 12, 13, 14)
    with pytest.raises(InvalidParameterError, match="--epochs"):
        ReproductionContext(tmp_path, epochs=0)


def test_transcribed_numbers(full_bench):
    assert len(pup_table2.TABLE2) == 25
    assert pup_table2.TABLE2[("darts", "prune")].mean == 40.16 and pup_table2.TABLE2[("gdas", "valid")].std == 4.39
    assert pup_table2.TABLE2[("drnas", "jacob_cov")].source == "[PUP] Table 2, row 'dirichlet', column 'jac cov'"
    best_err = min(p.mean for p in pup_table2.TABLE2.values())  # spec §11.1 anchor: index 9930, rounded to 2 dp
    assert best_err == pytest.approx(
        100 - round(full_bench.query(9930, dataset="cifar10", metric="test_acc", epochs=200), 2)
    )
    for variant, rows in interchoice._TABLE1.items():              # Table 1's increases agree with its times (±1 %)
        for (secs, pct, _), (base, _, _) in zip(rows, interchoice._TABLE1["baseline"]):
            assert pct is None if variant == "baseline" else abs(100 * (secs / base - 1) - pct) <= 1.0


# ----------------------------------------------------------------------------------------- CLI end to end
def _json_main(capsys, argv) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_quick_pup_table2_end_to_end_and_resumed(tmp_path, full_data, capsys):
    argv = ["reproduce", "pup-table2", "--quick", "--out", str(tmp_path), "--data-dir", str(full_data), "--no-progress"]
    res = _json_main(capsys, argv)
    assert res["quick"] and "NOT comparable" in res["warning"] and res["settings"]["seeds"] == [10]
    assert len(res["rows"]) == 25 and all(r["published"] is not None for r in res["rows"])
    row = next(r for r in res["rows"] if (r["stage1"], r["selector"]) == ("darts", "prune"))
    assert row["published"]["mean"] == 40.16 and row["diff"] == pytest.approx(row["ours"]["mean"] - 40.16)
    assert [r["selector"] for r in res["reliance"]] == ["valid", "synflow", "jacob_cov", "perturb"]
    assert res["grid"]["computed"] == {"train": 6, "stage1": 1, "cells": 25 + 16} and res["provenance"]["git_commit"]
    md = (tmp_path / "pup-table2.md").read_text()
    assert "QUICK RUN" in md and "[PUP] Table 2, row 'darts-', column 'synflow'" in md and "Combination score" in md
    csv = pd.read_csv(tmp_path / "pup-table2.csv")
    assert len(csv) == 25 and {"published_test_error_mean", "ours_test_error_mean", "diff"} <= set(csv.columns)
    assert json.loads((tmp_path / "pup-table2.json").read_text())["rows"][0]["published"] == res["rows"][0]["published"]
    again = _json_main(capsys, argv)                                  # rerun: everything comes from disk
    assert again["grid"]["computed"] == {"train": 0, "stage1": 0, "cells": 0} and again["rows"] == res["rows"]


def test_quick_interchoice_curves_end_to_end(tmp_path, full_data, capsys):
    res = _json_main(
        capsys,
        [
            "reproduce",
            "interchoice-curves",
            "--quick",
            "--out",
            str(tmp_path),
            "--data-dir",
            str(full_data),
            "--no-progress",
        ],
    )
    assert res["quick"] and "NOT comparable" in res["warning"] and res["settings"]["seeds"] == [0, 1]
    assert [(r["space"], r["variant"]) for r in res["rows"]] == [
        (s, v) for s in ("full", "no_none", "only_conv") for v in ("baseline", "bias_D1", "split_125")]
    row = res["rows"][1]
    assert row["published"]["overhead_pct"]["value"] == 24 and row["published"]["train_seconds"]["value"] == 1923
    assert row["n_runs"] == 2 and row["overhead_pct"] is not None and res["rows"][0]["overhead_pct"] is None
    curve = res["curves"]["full"]["baseline"]
    assert curve["k"][0] == 12 and curve["k"][-1] == 10 and len(curve["mean_acc"]) == len(curve["std_acc"]) == 3
    assert res["checks"][0]["ours"] == pytest.approx(93.2024, abs=1e-4)
    for key in ("markdown", "csv", "json", "curves"):
        assert Path(res["files"][key]).is_file()
    assert Path(res["files"]["curves"]).read_bytes()[:4] == b"\x89PNG"
    assert "QUICK RUN" in (tmp_path / "interchoice-curves.md").read_text()
    assert len(pd.read_csv(tmp_path / "interchoice-curves.csv")) == 9


# ----------------------------------------------------------------------------------------- listing and bad input
def test_list_shows_tables_and_experiments(capsys):
    listed = _json_main(capsys, ["reproduce", "--list"])
    assert [e["name"] for e in listed["experiments"]] == list_experiments() == ["pup-table2", "interchoice-curves"]
    assert "tenas-table1" in [t["name"] for t in listed["tables"]]
    assert main(["reproduce", "--list"]) == 0
    text = capsys.readouterr().out
    assert "pup-table2" in text and "interchoice-curves" in text and "training-free-table1" in text


@pytest.mark.parametrize("argv, needle", [
    (["reproduce", "pup-table-2"], "'pup-table2'"),
    (["reproduce", "pup-table2", "--epochs", "0"], "--epochs: '0' is out of range"),
    (["reproduce", "interchoice-curves", "--epochs", "-3"], "--epochs: '-3' is out of range"),
    (["reproduce", "interchoice-curves", "--seeds", "0"], "--seeds: '0' is out of range"),
    (["reproduce", "training-free-table3", "--epochs", "5"], "does not apply"),
    (["reproduce", "pup-table2", "--epochs", "ten"], "'ten' is not an integer"),
])
def test_bad_input_exits_2_with_one_line(argv, needle, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())                                 # nothing was trained or written
