"""Durability: an interrupted long job loses nothing it finished, and a rerun resumes from there.

* `score` killed with SIGKILL mid-run: the store keeps every finished score, the rerun recomputes none of them;
* `train_stage1` interrupted after an epoch resumes from its checkpoint, bit-identical to an uninterrupted run
  (every method family: plain, valid-batch stream, global-RNG Dirichlet, split weights), also after SIGKILL;
* the two-stage grid killed mid-run keeps its finished cells untouched;
* a read-only store or cache gets its own message, never "corrupt, delete it".
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import STAGE1_TINY, random_split

from nasbench_eval.cli import main
from nasbench_eval.exceptions import CorruptDataError, InvalidParameterError
from nasbench_eval.train import train_stage1

ROOT = Path(__file__).resolve().parents[1]


def _cli(*argv: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "nasbench_eval.cli", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when(proc: subprocess.Popen, ready, *, timeout: float = 120.0) -> bool:
    """SIGKILL `proc` as soon as `ready()` holds; False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.02)
    proc.kill()
    pytest.fail("the job neither reached the kill point nor finished in time")


def _rows(store: Path) -> dict[str, float]:
    if not store.exists():
        return {}
    try:
        with sqlite3.connect(store) as db:
            return dict(db.execute("SELECT key, created FROM scores"))
    except sqlite3.OperationalError:  # the table is not created yet
        return {}


# ---------------------------------------------------------------- score
def test_score_killed_mid_run_keeps_and_reuses_every_finished_score(tmp_path, full_data):
    store, out = tmp_path / "scores.sqlite", tmp_path / "scores.csv"
    argv = ["score", "--metrics", "nwot", "--sample", "12", "--seed", "3", "--store", str(store), "--out", str(out),
            "--data-dir", str(full_data), "--device", "cpu", "--no-progress"]
    killed = _kill_when(_cli(*argv), lambda: len(_rows(store)) >= 2)
    before = _rows(store)
    assert killed and 2 <= len(before) < 12 and not out.exists()
    done = _cli(*argv)
    assert done.wait(timeout=600) == 0, done.stderr.read()
    after = _rows(store)
    assert len(after) == 12
    assert {k: after[k] for k in before} == before        # the finished scores were reused, not recomputed
    assert len(out.read_text().splitlines()) == 13


# ---------------------------------------------------------------- stage-1 checkpoints
class _Stop(Exception):
    pass


def _stop_after(n_epochs: int):
    def progress(epoch, row):
        if epoch + 1 == n_epochs:
            raise _Stop
    return progress


def _assert_same_run(a, b):
    sa, sb = a.supernet.state_dict(), b.supernet.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    for k in a.curves:
        if k != "seconds":
            assert a.curves[k] == b.curves[k], k
    assert a.method.edge_probs().tolist() == b.method.edge_probs().tolist()


@pytest.mark.parametrize("method, extra", [("darts", {}), ("drnas", {}), ("spos", {"split_epoch": 1})])
def test_stage1_resumes_from_its_checkpoint_bit_identically(tmp_path, method, extra):
    hp = {**STAGE1_TINY, "epochs": 3, **extra}
    data = (random_split(96, 0), random_split(64, 1))        # unequal halves: the valid stream crosses epochs
    whole = train_stage1(method, hparams=hp, data=data, seed=5)
    ckpt = tmp_path / "checkpoint.pt"
    with pytest.raises(_Stop):
        train_stage1(method, hparams=hp, data=data, seed=5, checkpoint=ckpt, progress=_stop_after(1))
    with pytest.raises(_Stop):
        train_stage1(method, hparams=hp, data=data, seed=5, checkpoint=ckpt, progress=_stop_after(2))
    resumed = train_stage1(method, hparams=hp, data=data, seed=5, checkpoint=ckpt)
    _assert_same_run(whole, resumed)
    again = train_stage1(method, hparams=hp, data=data, seed=5, checkpoint=ckpt)   # finished: nothing retrained
    _assert_same_run(whole, again)


def test_a_checkpoint_of_other_settings_or_a_damaged_one_is_refused(tmp_path):
    data = (random_split(32, 0), random_split(32, 1))
    ckpt = tmp_path / "checkpoint.pt"
    train_stage1("rsps", hparams=STAGE1_TINY, data=data, seed=0, checkpoint=ckpt)
    with pytest.raises(InvalidParameterError, match="seed"):
        train_stage1("rsps", hparams=STAGE1_TINY, data=data, seed=1, checkpoint=ckpt)
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    with pytest.raises(CorruptDataError, match="checkpoint.pt"):
        train_stage1("rsps", hparams=STAGE1_TINY, data=data, seed=0, checkpoint=ckpt)


def test_stage1_killed_mid_run_resumes_to_the_uninterrupted_result(tmp_path, full_data):
    from nasbench_eval.train import load_run, load_stage1_data

    argv = ["stage1", "--method", "darts", "--epochs", "8", "--batch-size", "16", "--cells-per-stage", "1",
            "--channels", "4", "--train-images", "48", "--valid-images", "32", "--seed", "2", "--device", "cpu",
            "--data-dir", str(full_data), "--quiet", "--out", str(tmp_path / "run")]
    ckpt = tmp_path / "run" / "checkpoint.pt"
    killed = _kill_when(_cli(*argv), ckpt.is_file)
    assert killed and not (tmp_path / "run" / "supernet.pt").exists()
    assert torch.load(ckpt, weights_only=True)["epochs_done"] < 8
    proc = _cli(*argv)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    data = load_stage1_data("cifar10", n_train=48, n_valid=32, data_dir=full_data)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the CLI processes above (OMP_NUM_THREADS=1): float sums depend on the thread count
    try:
        whole = train_stage1("darts", seed=2, hparams={"epochs": 8, "batch_size": 16, "cells_per_stage": 1, "C": 4},
                             data=data, device="cpu")
    finally:
        torch.set_num_threads(threads)
    resumed = load_run(tmp_path / "run")
    for k, v in whole.supernet.state_dict().items():
        assert torch.equal(v, resumed.supernet.state_dict()[k]), k
    assert resumed.curves["train_loss"] == whole.curves["train_loss"]


def test_stage1_with_a_diverging_lr_fails_instead_of_saving_nan(tmp_path):
    from nasbench_eval.train.loop import TrainingDivergedError

    data = (random_split(32, 0), random_split(32, 1))
    with pytest.raises(TrainingDivergedError, match="diverged"):
        train_stage1("rsps", hparams={**STAGE1_TINY, "lr": 1e8, "epochs": 4, "grad_clip": 0}, data=data, seed=0)


# ---------------------------------------------------------------- grid
GRID_SCRIPT = """
import sys
from conftest import STAGE1_TINY, random_split
from nasbench_eval.reproduce.grid import GridSpec, run_grid
from nasbench_eval import create_benchmark
spec = GridSpec(methods=("darts",), selectors=("prune", "valid", "synflow"), seeds=(0, 1), hparams=STAGE1_TINY,
                baselines=False, n_samples=3, bn_batches=1, batch_size=16, n_eval=16, proxy_batch=8, stage1_sample=8)
run_grid(spec, sys.argv[1], device="cpu", bench=create_benchmark("nb201", data_dir=sys.argv[2]),
         data=(random_split(96, 0), random_split(64, 1)), progress=False)
"""


def test_grid_killed_mid_run_keeps_finished_cells(tmp_path, full_data):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
    cmd = [sys.executable, "-c", GRID_SCRIPT, str(tmp_path / "grid"), str(full_data)]
    cells = tmp_path / "grid" / "cells"
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    killed = _kill_when(proc, lambda: cells.is_dir() and len(list(cells.glob("*.json"))) >= 1)
    finished = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in cells.glob("*.json")}
    assert killed and finished
    rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert rerun.returncode == 0, rerun.stderr
    for name, (content, mtime) in finished.items():
        assert (cells / name).read_bytes() == content and (cells / name).stat().st_mtime_ns == mtime, name
    assert len(list(cells.glob("*.json"))) > len(finished)


# ---------------------------------------------------------------- read-only store and cache
def test_a_read_only_store_is_reported_as_read_only_not_corrupt(tmp_path, monkeypatch, capsys, full_data):
    from nasbench_eval.scoring import sqlite_file
    from nasbench_eval.scoring.store import ScoreStore

    path = tmp_path / "scores.sqlite"
    ScoreStore(path).close()
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite_file.sqlite3, "connect",            # root ignores chmod: open it read-only instead
                        lambda p, *a, **k: real_connect(f"file:{p}?mode=ro", *a, uri=True, **k))
    code = main(["score", "--metrics", "params", "--sample", "2", "--store", str(path), "--out",
                 str(tmp_path / "s.csv"), "--data-dir", str(full_data), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "read-only" in err and "delete" not in err and str(path) in err
    assert len(err.strip().splitlines()) == 1


def test_a_read_only_cache_folder_is_named_precisely(tmp_path, monkeypatch, capsys, full_data):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("NASBENCH_EVAL_CACHE", str(blocker / "cache"))
    code = main(["score", "--metrics", "params", "--sample", "2", "--out", str(tmp_path / "s.csv"),
                 "--data-dir", str(full_data), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "cache folder" in err and "NASBENCH_EVAL_CACHE" in err and "delete" not in err


def test_a_damaged_cache_entry_is_rebuilt_and_an_unwritable_cache_costs_only_speed(tmp_path, monkeypatch, capsys):
    import errno

    import numpy as np

    from nasbench_eval.data import _cache

    monkeypatch.setenv("NASBENCH_EVAL_CACHE", str(tmp_path))
    arrays = {"images_u8": np.arange(12, dtype=np.uint8).reshape(3, 4), "labels": np.arange(3)}
    _cache.save_cached("entry", arrays)
    assert _cache.load_cached("entry", tuple(arrays))["labels"].tolist() == [0, 1, 2]
    (tmp_path / "entry-labels.npy").write_bytes(b"\x93NUMPY truncated")
    assert _cache.load_cached("entry", tuple(arrays)) is None
    assert "damaged cache entry" in capsys.readouterr().err

    def full_disk(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(_cache.np, "save", full_disk)
    _cache.save_cached("other", arrays)                      # no exception: the caller keeps its arrays
    err = capsys.readouterr().err
    assert "cannot be written" in err and "NASBENCH_EVAL_CACHE" in err and len(err.strip().splitlines()) == 1
