"""Executors: every executor and worker count gives the in-process scores bit for bit, and a worker killed
mid-run costs nothing (no missing, no duplicate rows). Tiny networks keep the whole file near half a minute."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas as pd
import pytest

from nasbench_eval.executors import ExecutorError, make_executor
from nasbench_eval.executors.local import LocalExecutor
from nasbench_eval.scoring.score_space import score_space
from nasbench_eval.scoring.store import ScoreStore
from nasbench_eval.space import all_archs

ARCHS = [str(a) for a in list(all_archs())[::977][:16]]
PROXIES = ["synflow", "nwot"]  # synflow: engine groups; nwot: one arch per unit, its bits depend on torch threads
TINY = {"C": 4, "N": 1, "batch_size": 8}


def _scores(executor=None, store=None, batched=True) -> pd.DataFrame:
    frame = score_space(ARCHS, PROXIES, device="cpu", options=TINY, progress=False, store=store, batched=batched,
                        executor=executor)
    return frame.drop(columns=[c for c in frame.columns if c.endswith("_seconds")])


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    """The in-process path at one torch thread (the executors' default thread count)."""
    return _scores(LocalExecutor(workers=1, threads=1))


def _assert_identical(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    for col in want.columns:  # values compared as bit patterns: NaN == NaN, 0.0 != -0.0
        assert [repr(v) for v in got[col]] == [repr(v) for v in want[col]], col


class CountingStore(ScoreStore):
    """A store that counts puts and runs `on_put(n)` after the n-th (to kill a worker mid-run)."""

    def __init__(self, path, on_put=None):
        super().__init__(path)
        self.puts, self.on_put = [], on_put

    def put(self, key, **fields):
        super().put(key, **fields)
        self.puts.append(key)
        if self.on_put:
            self.on_put(len(self.puts))


def _check_complete(store: CountingStore, frame, reference) -> None:
    assert len(store.puts) == len(set(store.puts)) == len(store) == len(ARCHS) * len(PROXIES)  # none twice/missing
    _assert_identical(frame, reference)


def test_pool_workers_give_the_in_process_scores_bit_for_bit(reference):
    with make_executor("local", workers=2, threads=1) as ex:
        _assert_identical(_scores(ex), reference)


def test_killed_pool_worker_loses_and_duplicates_nothing(tmp_path, reference):
    ex = LocalExecutor(workers=2, threads=1)

    def kill_one(n):
        if n == 4:
            os.kill(ex.worker_pids()[0], signal.SIGKILL)

    with CountingStore(tmp_path / "s.sqlite", on_put=kill_one) as store:
        frame = _scores(ex, store, batched=False)
        _check_complete(store, frame, reference)
    assert ex.restarts == 1


def test_pool_that_keeps_dying_is_a_clear_error(tmp_path, monkeypatch):
    import nasbench_eval.executors.local as local

    monkeypatch.setattr(local, "MAX_RESTARTS", 0)
    ex = LocalExecutor(workers=2, threads=1)
    kill_first = lambda n: n == 1 and os.kill(ex.worker_pids()[0], signal.SIGKILL)  # noqa: E731
    with CountingStore(tmp_path / "s.sqlite", on_put=kill_first) as s:
        with pytest.raises(ExecutorError, match="rerun to resume"):
            _scores(ex, s, batched=False)
        kept = len(s)
    with ScoreStore(tmp_path / "s.sqlite") as store:  # the rerun resumes from what was kept
        frame = _scores(LocalExecutor(workers=1, threads=1), store)
        assert len(store) == len(ARCHS) * len(PROXIES) > kept >= 1
    assert frame["nwot"].notna().all()


# ---- Ray -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_cluster():
    import builtins

    ray = pytest.importorskip("ray", reason="Ray is not installed (optional extra [ray])")
    plain_print = builtins.print  # ray.init swaps in its own print; later tests (doctests) expect the builtin
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
    builtins.print = plain_print


def _ray_task_pids() -> list[int]:
    """Ray worker processes running a unit now (Ray titles them ``ray::_call``)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes().startswith(b"ray::_call"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_ray_gives_the_local_scores_bit_for_bit(ray_cluster, reference):
    with make_executor("ray", threads=1) as ex:
        assert ex.workers == 2
        _assert_identical(_scores(ex), reference)


def test_killed_ray_worker_is_retried_without_duplicates(ray_cluster, tmp_path, reference):
    killed = []

    def kill_one(n):
        pids = _ray_task_pids()
        if n >= 4 and not killed and pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    with make_executor("ray", threads=1) as ex, CountingStore(tmp_path / "s.sqlite", on_put=kill_one) as store:
        frame = _scores(ex, store, batched=False)
        _check_complete(store, frame, reference)
    assert killed


@pytest.mark.parametrize("argv, fragment", [
    (["--workers", "0"], "--workers: '0' is out of range"),
    (["--workers", "2.5"], "--workers: '2.5' is not an integer"),
    (["--threads", "0"], "--threads: '0' is out of range"),
    (["--executor", "slurm"], "invalid choice: 'slurm'"),
    (["--gpus-per-task", "-1", "--executor", "ray"], "--gpus-per-task: '-1' is out of range"),
    (["--ray-address", "auto"], "--ray-address and --gpus-per-task need --executor ray"),
])
def test_bad_executor_options_fail_in_one_line(capsys, tmp_path, argv, fragment):
    from nasbench_eval.cli import main

    code = main(["score", "--metric", "params", "--sample", "2", "--device", "cpu", "--out", str(tmp_path / "s.csv"),
                 "--store", str(tmp_path / "s.sqlite"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, err


def test_default_workers_follow_the_cores_this_process_may_use(monkeypatch):
    from nasbench_eval.executors import base

    monkeypatch.setattr(base.os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    assert base.available_cores() == 3 == base.default_workers("cpu") == LocalExecutor(device="cpu").workers
    assert LocalExecutor(device="cpu").threads == 1


def test_cli_workers_give_the_same_table(capsys, tmp_path):
    import json

    from nasbench_eval.cli import main

    tables = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}.csv"
        code = main(["score", "--metric", "params,lr", "--sample", "5", "--device", "cpu", "--out", str(out),
                     "--store", str(tmp_path / f"s{workers}.sqlite"), "--workers", workers, "--json", "--no-progress"])
        assert code == 0
        assert json.loads(capsys.readouterr().out)["executor"]["workers"] == int(workers)
        frame = pd.read_csv(out)
        tables.append(frame.drop(columns=[c for c in frame.columns if c.endswith("_seconds")]))
    _assert_identical(tables[1], tables[0])


DRIVER = """
import os, sys, time
from nasbench_eval.executors.local import LocalExecutor

def unit(path):
    with open(path, "a") as f:
        f.write(f"{os.getpid()}\\n")
    time.sleep(60)

if __name__ == "__main__":
    ex = LocalExecutor(workers=2, threads=1)
    list(ex.run(unit, [sys.argv[1]] * 2))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:           # a zombie waiting for its parent counts as gone
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_pool_workers_exit_when_the_driver_is_killed(tmp_path):
    """SIGKILL on the driver (no cleanup can run there) still ends its pool workers within seconds."""
    import subprocess
    import sys
    import time

    pids = tmp_path / "pids"
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    script = tmp_path / "driver.py"               # a file, not -c: pool workers import `unit` from it
    script.write_text(DRIVER)
    driver = subprocess.Popen([sys.executable, str(script), str(pids)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not pids.exists() or len(pids.read_text().split()) < 2):
        time.sleep(0.2)
    workers = [int(p) for p in pids.read_text().split()]
    assert len(workers) == 2 and all(_alive(p) for p in workers)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers)
