"""safe_pickle runs no code from a file: a payload that would create a marker file is refused before it is called."""
from __future__ import annotations

import bz2
import os
import pickle

import numpy as np
import pytest

from nasbench_eval import safe_pickle
from nasbench_eval.exceptions import CorruptDataError


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": _Payload(marker)}))
    with pytest.raises(CorruptDataError, match="refuses to unpickle .*system"):
        safe_pickle.load(path)
    assert not marker.exists()


def test_hostile_bz2_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "0.pickle.pbz2"
    path.write_bytes(bz2.compress(pickle.dumps([_Payload(marker)])))
    with pytest.raises(CorruptDataError, match="refuses"):
        safe_pickle.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_plain_data_and_numpy_arrays_round_trip(tmp_path, protocol):
    obj = {"data": np.arange(12, dtype=np.uint8).reshape(3, 4), "labels": [0, 1, 2], "name": "x", "f": (1.5, None)}
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    back = safe_pickle.load(path)
    assert back.keys() == obj.keys()
    np.testing.assert_array_equal(back["data"], obj["data"])
    assert back["labels"] == [0, 1, 2] and back["f"] == (1.5, None)


def test_truncated_pickle_is_one_clear_error(tmp_path):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({"data": list(range(100))})[:20])
    with pytest.raises(CorruptDataError, match="not a readable pickle"):
        safe_pickle.load(path)


# ---- every pickle path of the project, end to end: a hostile file never runs its payload ----------------------
class _Marker:
    """Unpickling this would create `path` (the payload under test); builtins.open is not on the allow-list."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _hostile(path, marker, *, compress=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = pickle.dumps({"data": _Marker(marker), "labels": [0]})
    path.write_bytes(bz2.compress(data) if compress else data)


@pytest.mark.parametrize("dataset, files", [
    ("cifar10", ["cifar10/cifar-10-batches-py/data_batch_1"]),
    ("cifar100", ["cifar100/cifar-100-python/train", "cifar100/cifar-100-python/test"]),
    ("ImageNet16-120", [f"ImageNet16/train_data_batch_{i}" for i in range(1, 11)] + ["ImageNet16/val_data"]),
])
def test_hostile_image_batches_run_nothing(tmp_path, dataset, files):
    from nasbench_eval.data import load_dataset

    marker = tmp_path / "pwned"
    for f in files:
        _hostile(tmp_path / "data" / f, marker)
    with pytest.raises(CorruptDataError, match="refuses to unpickle io.open"):
        load_dataset(dataset, "train", data_dir=tmp_path / "data")
    assert not marker.exists()


def test_data_in_the_current_directory_is_never_read_once_a_place_is_given(tmp_path, monkeypatch):
    """An untrusted checkout's ./data is not even opened when $NASBENCH_EVAL_DATA or --data-dir is set."""
    from nasbench_eval.data import load_dataset
    from nasbench_eval.exceptions import DataNotFoundError

    marker = tmp_path / "pwned"
    _hostile(tmp_path / "checkout" / "data" / "cifar100" / "cifar-100-python" / "train", marker)
    monkeypatch.chdir(tmp_path / "checkout")
    monkeypatch.setenv("NASBENCH_EVAL_DATA", str(tmp_path / "trusted"))
    with pytest.raises(DataNotFoundError, match=r"\$NASBENCH_EVAL_DATA"):
        load_dataset("cifar100", "train")
    monkeypatch.delenv("NASBENCH_EVAL_DATA")
    with pytest.raises(DataNotFoundError, match="--data-dir"):
        load_dataset("cifar100", "train", data_dir=tmp_path / "trusted")
    assert not marker.exists()


def _nats_dir(tmp_path, which: str, marker):
    import nats_fixture as nf

    folder = nf.build_official_dir(tmp_path, "tss")
    target = folder / ("meta.pickle.pbz2" if which == "meta" else "000002.pickle.pbz2")
    _hostile(target, marker, compress=True)
    return folder


@pytest.mark.parametrize("which", ["meta", "record"])
def test_hostile_nats_archive_runs_nothing(tmp_path, which):
    from nasbench_eval.benchmarks.nats_api import OfficialBenchmark

    marker = tmp_path / "pwned"
    folder = _nats_dir(tmp_path, which, marker)
    with pytest.raises(CorruptDataError, match="refuses to unpickle io.open"):
        OfficialBenchmark(folder, "tss").accuracies("cifar10", "test_acc", 200)
    assert not marker.exists()


def test_hostile_full_nats_file_and_data_import_run_nothing(tmp_path, capsys):
    from nasbench_eval.cli import main

    marker = tmp_path / "pwned"
    full = tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    _hostile(full, marker, compress=True)
    folder = _nats_dir(tmp_path / "fast", "record", marker)
    for source in (full, folder):
        assert main(["data", "import", "--nats", str(source), "--space", "tss", "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert "refuses to unpickle io.open" in err and len(err.strip().splitlines()) == 1
    assert not marker.exists() and not (tmp_path / "out" / "nats" / "tss_accuracy.csv").exists()


def test_the_unpickler_is_restored_after_nats_bench_reads(tmp_path):
    import nats_bench.api_utils
    import nats_fixture as nf

    from nasbench_eval.benchmarks.nats_api import OfficialBenchmark

    original = nats_bench.api_utils.pickle_load
    OfficialBenchmark(nf.build_official_dir(tmp_path, "tss"), "tss").accuracies("cifar10", "test_acc", 200)
    assert nats_bench.api_utils.pickle_load is original


def test_hostile_supernet_weights_run_nothing(tmp_path):
    from conftest import STAGE1_TINY, random_split

    from nasbench_eval.train import load_run, save_run, train_stage1

    run = save_run(train_stage1("rsps", hparams=STAGE1_TINY, data=(random_split(32, 0), random_split(32, 1))),
                   tmp_path / "run")
    marker = tmp_path / "pwned"
    (run / "supernet.pt").write_bytes(pickle.dumps(_Marker(marker)))
    with pytest.raises(CorruptDataError, match="supernet.pt"):
        load_run(run)
    assert not marker.exists()
