"""The table backend: golden values from the mirror, validation on load, query errors, data-dir resolution."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nasbench_eval import create_benchmark
from nasbench_eval.benchmarks import TableBenchmark, list_benchmarks
from nasbench_eval.exceptions import (
    ArchNotFoundError,
    CorruptDataError,
    DataNotFoundError,
    InvalidParameterError,
    UnknownNameError,
)
from nasbench_eval.data.packaged import FILES_DIR
from nasbench_eval.paths import find_data_file
from nasbench_eval.space import Arch, all_archs

PINNED = [  # spec/metrics.md §1.3: index, string (None: all six edges the same op), C10, C100, IN16 (hp=200)
    (
        0,
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
        85.863333,
        52.913333,
        26.633333,
    ),
    (1462, ("nor_conv_3x3",) * 6, 93.76, 71.106667, 41.444444),
    (1651, ("none",) * 6, 10.0, 1.0, 0.833333),
    (1835, ("skip_connect",) * 6, 54.296667, 15.606667, 16.322222),
    (
        6111,
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
        94.373333,
        73.22,
        46.711111,
    ),
    (
        9930,
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        94.363333,
        73.513333,
        46.344444,
    ),
    (
        857,
        "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        93.986667,
        72.88,
        47.311111,
    ),
    (
        15624,
        "|nor_conv_1x1~0|+|none~0|nor_conv_1x1~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|",
        86.823333,
        55.22,
        21.411111,
    ),
]


@pytest.mark.parametrize("index, arch, c10, c100, in16", PINNED)
def test_pinned_rows(full_bench, index, arch, c10, c100, in16):
    a = Arch(arch) if isinstance(arch, tuple) else Arch.from_str(arch)
    assert full_bench.index_of(a) == index and full_bench.index_of(str(a)) == index
    assert full_bench.arch(index) == a
    for dataset, want in (("cifar10", c10), ("cifar100", c100), ("ImageNet16-120", in16)):
        assert full_bench.query(a, dataset=dataset) == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize(
    "dataset, best_value, mean",
    [("cifar10", 94.373333, 87.06), ("cifar100", 73.513333, 61.41), ("ImageNet16-120", 47.311111, 33.59)],
)
def test_optima_and_means_from_data_readme(full_bench, dataset, best_value, mean):
    values = full_bench.accuracies(dataset)
    assert values.shape == (15625,)
    assert values.max() == pytest.approx(best_value, abs=1e-9)
    assert values.mean() == pytest.approx(mean, abs=0.005)


def test_best_ties_go_to_lowest_index(full_bench):
    assert full_bench.best("cifar10") == (6111, pytest.approx(94.373333))  # 6111 and 13714 tie
    assert full_bench.query(13714) == full_bench.query(6111)
    assert full_bench.best("cifar100")[0] == 9930 and full_bench.best("ImageNet16-120")[0] == 857


def test_subspace_statistics(full_bench):  # spec/metrics.md §1.4
    acc = full_bench.accuracies("cifar10")
    codes = np.array([Arch.from_str(s).code for s in full_bench.arch_strs()])
    no_zero = (codes != 0).all(1)
    only_conv = np.isin(codes, (2, 3)).all(1)
    assert no_zero.sum() == 4096 and only_conv.sum() == 64
    assert acc[no_zero].mean() == pytest.approx(89.4491, abs=1e-4)
    assert acc[only_conv].mean() == pytest.approx(93.2024, abs=1e-4)
    assert int(np.flatnonzero(only_conv)[acc[only_conv].argmax()]) == 5721


def test_index_order_is_not_a_product_order(full_bench):
    """spec §1.3: the stored order is the benchmark's, not computable from the ops."""
    product = np.array([Arch.from_str(s).product_index for s in full_bench.arch_strs()])
    assert (product == np.arange(15625)).sum() <= 1
    assert sorted(full_bench.arch_strs()) == sorted(str(a) for a in all_archs())


def test_table_series_and_twelve_epoch_columns(full_bench):
    s = full_bench.table("cifar10-valid", "valid_acc", 12)
    assert isinstance(s, pd.Series) and s.index.name == "index" and len(s) == 15625
    assert s.name == "cifar10-valid_valid_acc_12ep"
    assert s[6111] == full_bench.query(6111, "cifar10-valid", "valid_acc", 12)
    keys = set(full_bench.keys())
    assert ("cifar100", "valid_acc", 12) in keys and ("ImageNet16-120", "test_acc", 200) in keys


def test_accuracies_are_read_only(full_bench):
    with pytest.raises(ValueError):
        full_bench.accuracies()[0] = 0.0


def test_nats_shaped_aliases(full_bench):
    assert full_bench.query_index_by_arch(full_bench.arch_str(6111)) == 6111
    info = full_bench.get_more_info(6111, "cifar100", hp="12")
    assert set(info) == {"test-accuracy", "valid-accuracy"}


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(dataset="cifar10", metric="valid_acc", epochs=12), "dataset='cifar10-valid'"),
        (dict(dataset="imagenet"), "dataset='imagenet' is not supported"),
        (dict(metric="loss"), "metric='loss'"),
        (dict(epochs=90), "epochs=90 is not held"),
        (dict(epochs="x"), "epochs='x'"),
    ],
)
def test_unheld_combinations_raise_with_hints(full_bench, kwargs, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        full_bench.query(0, **kwargs)


def test_arch_errors(full_bench):
    with pytest.raises(InvalidParameterError, match="out of range"):
        full_bench.index_of(15625)
    with pytest.raises(InvalidParameterError, match="unknown op"):
        full_bench.index_of("|foo~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")
    with pytest.raises(InvalidParameterError, match="not a tss architecture"):
        full_bench.index_of(3.5)


# ---- a small table written by the test: the real loader with no data file ------------------------------
def _write_table(path, n=20, **overrides):
    archs = [str(a) for a in list(all_archs())[:n]]
    frame = pd.DataFrame({"index": range(n), "arch": archs, "cifar10_test_acc_200ep": np.linspace(50, 90, n)})
    for k, v in overrides.items():
        frame[k] = v
    frame.to_csv(path, index=False)
    return archs


def test_small_table_round_trip(tmp_path):
    archs = _write_table(tmp_path / "t.csv")
    bench = TableBenchmark(tmp_path / "t.csv", expected_rows=None)
    assert len(bench) == 20 and bench.keys() == [("cifar10", "test_acc", 200)]
    assert bench.query(archs[19]) == pytest.approx(90.0)
    with pytest.raises(ArchNotFoundError, match="not in this benchmark"):
        bench.index_of(str(list(all_archs())[100]))


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda f: f.drop(columns="arch"), "column 'arch' is missing"),
        (lambda f: f.iloc[:10], "10 rows; expected 20"),
        (lambda f: f.assign(index=f["index"][::-1].to_numpy()), "not 0..19 in order"),
        (lambda f: f.assign(arch=[f["arch"][0]] * len(f)), "repeated"),
        (lambda f: f.assign(arch=f["arch"].str.replace("none", "zero")), "unknown op 'zero'"),
        (lambda f: f.drop(columns="cifar10_test_acc_200ep"), "no accuracy columns"),
        (lambda f: f.assign(cifar10_test_acc_200ep="high"), "not numeric"),
    ],
)
def test_corrupt_tables_are_rejected(tmp_path, mutate, fragment):
    _write_table(tmp_path / "t.csv")
    mutate(pd.read_csv(tmp_path / "t.csv")).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(CorruptDataError, match=fragment):
        TableBenchmark(tmp_path / "bad.csv", expected_rows=20)


def test_full_table_row_count_is_enforced(tmp_path):
    _write_table(tmp_path / "t.csv")
    with pytest.raises(CorruptDataError, match="20 rows; expected 15625"):
        TableBenchmark(tmp_path / "t.csv")


def test_data_dir_resolution_order(tmp_path, monkeypatch):
    """--data-dir, then $NASBENCH_EVAL_DATA, ./data, the per-user data folder, then the package's own data."""
    for name in ("explicit", "env", "cwd/data", "xdg/nasbench-eval"):
        (tmp_path / name / "nb201").mkdir(parents=True)
        (tmp_path / name / "nb201" / "x.csv").write_text(name)
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("NASBENCH_EVAL_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert find_data_file("nb201/x.csv", tmp_path / "explicit").read_text() == "explicit"
    assert find_data_file("nb201/x.csv").read_text() == "env"
    monkeypatch.delenv("NASBENCH_EVAL_DATA")
    assert find_data_file("nb201/x.csv").read_text() == "cwd/data"
    (tmp_path / "cwd" / "data" / "nb201" / "x.csv").unlink()
    assert find_data_file("nb201/x.csv").read_text() == "xdg/nasbench-eval"
    assert find_data_file("nb201/tss_accuracy.csv.xz") == FILES_DIR / "nb201" / "tss_accuracy.csv.xz"
    assert create_benchmark("nb201").path == FILES_DIR / "nb201" / "tss_accuracy.csv.xz"


def test_missing_data_lists_every_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NASBENCH_EVAL_DATA", raising=False)
    with pytest.raises(DataNotFoundError) as err:
        create_benchmark("nats_sss")
    msg = str(err.value)
    assert all(place in msg for place in ("./data", "user data folder", "package data", "--data-dir"))
    assert "shared" not in msg


def test_an_explicit_place_never_falls_back_to_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "cwd" / "data" / "nb201").mkdir(parents=True)
    (tmp_path / "cwd" / "data" / "nb201" / "x.csv").write_text("untrusted")
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("NASBENCH_EVAL_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError) as err:
        find_data_file("nb201/x.csv")
    assert "$NASBENCH_EVAL_DATA" in str(err.value) and "./data" not in str(err.value)
    monkeypatch.delenv("NASBENCH_EVAL_DATA")
    with pytest.raises(DataNotFoundError, match="--data-dir"):
        find_data_file("nb201/x.csv", tmp_path / "nowhere")


def test_explicit_data_dir_replaces_the_user_places_but_not_the_package(tmp_path, monkeypatch):
    (tmp_path / "env" / "nb201").mkdir(parents=True)
    _write_table(tmp_path / "env" / "nb201" / "tss_accuracy.csv")   # 20 rows: would fail the row count if read
    monkeypatch.setenv("NASBENCH_EVAL_DATA", str(tmp_path / "env"))
    (tmp_path / "explicit").mkdir()
    assert len(create_benchmark("nb201", data_dir=tmp_path / "explicit")) == 15625
    with pytest.raises(DataNotFoundError, match="--data-dir .*nope.* is not a folder"):
        create_benchmark("nb201", data_dir=tmp_path / "nope")


def test_package_table_is_the_mirror_csv_and_fails_loudly_when_tampered(tmp_path, monkeypatch):
    import hashlib
    import lzma
    import shutil

    from nasbench_eval.data import packaged

    raw = lzma.decompress((FILES_DIR / packaged.TABLE_FILE).read_bytes())
    assert hashlib.sha256(raw).hexdigest() == packaged.manifest()[packaged.TABLE_FILE]["csv_sha256"]
    files = tmp_path / "files"
    shutil.copytree(FILES_DIR, files)
    (files / packaged.TABLE_FILE).write_bytes(lzma.compress(raw.replace(b"94.373333", b"99.373333")))
    monkeypatch.setattr(packaged, "FILES_DIR", files)
    with pytest.raises(CorruptDataError, match="fails its checksum"):
        create_benchmark("nb201")


def test_registry():
    assert {"nb201", "nats_tss", "nats_sss"} <= set(list_benchmarks())
    with pytest.raises(UnknownNameError, match="Did you mean 'nb201'"):
        create_benchmark("nb210")
