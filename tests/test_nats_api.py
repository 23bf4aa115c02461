"""The official NATS-Bench backend on a tiny archive in the official on-disk format (tests/nats_fixture.py).

The interface tests run on every backend: the CSV table, the official fast-mode folder and the
official single file, all holding the same known ground truth.
"""
from __future__ import annotations

import bz2
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nats_fixture as nf
from nasbench_eval import create_benchmark
from nasbench_eval.benchmarks import TableBenchmark
from nasbench_eval.benchmarks.nats_api import OfficialBenchmark, import_official
from nasbench_eval.exceptions import ArchNotFoundError, CorruptDataError, DataNotFoundError, InvalidParameterError
from nasbench_eval.space import Arch, SizeArch

BACKENDS = ["table", "official-dir", "official-file"]
TOP = {"tss": 200, "sss": 90}  # longest schedule held


def open_backend(kind: str, space: str, tmp_path):
    if kind == "table":
        return TableBenchmark(nf.write_table_csv(tmp_path / f"{space}.csv", space), space, expected_rows=None)
    if kind == "official-dir":
        return OfficialBenchmark(nf.build_official_dir(tmp_path, space), space)
    return OfficialBenchmark(nf.build_official_file(tmp_path, space), space)


@pytest.fixture(params=[(k, s) for s in ("tss", "sss") for k in BACKENDS], ids=lambda p: f"{p[0]}-{p[1]}")
def bench(request, tmp_path):
    kind, space = request.param
    return open_backend(kind, space, tmp_path)


# ---- the shared interface --------------------------------------------------------------------------------
def test_architectures_in_benchmark_order(bench):
    archs = nf.ARCHS[bench.space]
    assert len(bench) == len(archs) and bench.arch_strs() == archs
    for i, text in enumerate(archs):
        assert bench.index_of(text) == i and bench.arch_str(i) == text and str(bench.arch(i)) == text
        assert bench.index_of(bench.arch(i)) == i


def test_keys_are_what_the_files_hold(bench):
    assert sorted(bench.keys()) == sorted(nf.expected(bench.space))
    assert ("cifar10", "valid_acc", TOP[bench.space]) not in bench.keys()  # NATS has no valid set for cifar10


def test_every_column_is_the_mean_over_seeds_at_the_last_epoch(bench):
    for key, want in nf.expected(bench.space).items():
        got = bench.accuracies(*key)
        assert got.dtype == np.float64 and got.shape == (len(bench),) and not got.flags.writeable
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, err_msg=str(key))


def test_query_best_info_and_nats_aliases(bench):
    e = TOP[bench.space]
    want = nf.expected(bench.space)
    assert bench.query(1, "cifar100", "test_acc", e) == pytest.approx(want[("cifar100", "test_acc", e)][1], abs=1e-9)
    assert bench.query(nf.ARCHS[bench.space][1], "cifar100", "test_acc", e) == bench.query(1, "cifar100", "test_acc", e)
    assert bench.best("ImageNet16-120", "valid_acc", e)[0] == 2  # RANK puts arch 2 on top
    info = bench.info(3, "cifar10-valid", e)
    assert set(info.accuracies) == {"train_acc", "valid_acc", "test_acc"}
    assert info.accuracies["valid_acc"] == pytest.approx(want[("cifar10-valid", "valid_acc", e)][3], abs=1e-9)
    assert set(bench.get_more_info(3, "cifar10", hp=str(e))) == {"train-accuracy", "test-accuracy"}
    assert bench.query_index_by_arch(nf.ARCHS[bench.space][-1]) == len(bench) - 1


def test_lookup_errors(bench):
    absent = (
        "|nor_conv_1x1~0|+|none~0|nor_conv_1x1~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|"
        if bench.space == "tss"
        else "40:40:40:40:40"
    )
    with pytest.raises(ArchNotFoundError):
        bench.index_of(absent)
    with pytest.raises(InvalidParameterError, match="out of range"):
        bench.query(len(bench), "cifar10", "test_acc", TOP[bench.space])
    with pytest.raises(InvalidParameterError, match="cifar10-valid"):
        bench.query(0, "cifar10", "valid_acc", TOP[bench.space])
    with pytest.raises(InvalidParameterError, match="epochs=7"):
        bench.query(0, "cifar10", "test_acc", 7)


# ---- official-only behaviour -----------------------------------------------------------------------------
@pytest.mark.parametrize("space", ["tss", "sss"])
def test_values_equal_nats_bench_get_more_info(tmp_path, space):
    import nats_bench

    folder = nf.build_official_dir(tmp_path, space)
    bench = OfficialBenchmark(folder, space)
    api = nats_bench.create(str(folder), space, fast_mode=True, verbose=False)
    names = {"train_acc": "train-accuracy", "valid_acc": "valid-accuracy", "test_acc": "test-accuracy"}
    for dataset, metric, epochs in bench.keys():
        hp = {1: "01"}.get(epochs, str(epochs))
        theirs = [api.get_more_info(i, dataset, hp=hp, is_random=False)[names[metric]] for i in range(len(bench))]
        np.testing.assert_allclose(bench.accuracies(dataset, metric, epochs), theirs, rtol=0, atol=1e-12)


def test_all_columns_come_from_one_pass_and_records_are_released(tmp_path):
    folder = nf.build_official_dir(tmp_path, "tss")
    bench = OfficialBenchmark(folder, "tss")
    first = bench.accuracies("cifar10", "test_acc", 200)
    for record in folder.glob("0*.pickle.pbz2"):
        record.unlink()  # every other column must already be in memory
    assert bench.accuracies("ImageNet16-120", "valid_acc", 12)[2] == pytest.approx(
        nf.expected("tss")[("ImageNet16-120", "valid_acc", 12)][2]
    )
    assert first[0] == bench.query(0)


def test_archive_found_from_its_parent_folder_and_via_create_benchmark(tmp_path):
    nf.build_official_dir(tmp_path, "sss")
    bench = create_benchmark("nats_sss", path=tmp_path)
    assert isinstance(bench, OfficialBenchmark) and bench.path.name == "NATS-sss-v1_0-50262-simple"
    assert bench.arch(0) == SizeArch((64,) * 5)


def test_nothing_is_printed(tmp_path, capsys):
    bench = OfficialBenchmark(nf.build_official_dir(tmp_path, "tss"), "tss")
    bench.accuracies("cifar10", "test_acc", 12)
    assert capsys.readouterr() == ("", "")


def test_missing_path_or_archive_names_what_was_looked_for(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        OfficialBenchmark(tmp_path / "nope", "tss")
    with pytest.raises(DataNotFoundError) as err:
        OfficialBenchmark(tmp_path, "tss")
    assert str(tmp_path / "meta.pickle.pbz2") in str(err.value)
    assert str(tmp_path / "NATS-tss-v1_0-3ffb9-simple" / "meta.pickle.pbz2") in str(err.value)


def test_damaged_files_are_corrupt_data(tmp_path):
    folder = nf.build_official_dir(tmp_path, "tss")
    (folder / "000003.pickle.pbz2").write_bytes(bz2.compress(b"garbage"))
    bench = OfficialBenchmark(folder, "tss")
    with pytest.raises(CorruptDataError, match="architecture 3"):
        bench.accuracies("cifar10")
    (folder / "meta.pickle.pbz2").write_bytes(b"not bz2")
    with pytest.raises(CorruptDataError, match="could not open"):
        OfficialBenchmark(folder, "tss")


def test_other_space_archive_is_rejected(tmp_path):
    folder = nf.build_official_dir(tmp_path, "tss")
    with pytest.raises(CorruptDataError, match="not a sss architecture"):
        OfficialBenchmark(folder, "sss")


def test_bad_space_is_invalid_parameter(tmp_path):
    with pytest.raises(InvalidParameterError, match="space='nas101'"):
        OfficialBenchmark(tmp_path, "nas101")


def test_record_without_a_dataset_gives_nan_for_that_arch(tmp_path):
    folder = nf.build_official_dir(tmp_path, "sss")
    record = nf.arch_record(2, "sss")
    for state in record.values():
        del state["dataset_seed"]["cifar100"]
        state["all_results"] = {k: v for k, v in state["all_results"].items() if k[0] != "cifar100"}
    nf._dump(record, folder / "000002.pickle.pbz2")
    values = OfficialBenchmark(folder, "sss").accuracies("cifar100", "test_acc", 90)
    assert math.isnan(values[2]) and not np.isnan(np.delete(values, 2)).any()


# ---- conversion to the offline table ---------------------------------------------------------------------
@pytest.mark.parametrize("space", ["tss", "sss"])
def test_import_round_trips_exactly(tmp_path, space):
    out, official = import_official(nf.build_official_dir(tmp_path / "src", space), space, tmp_path / "data")
    assert out == tmp_path / "data" / "nats" / f"{space}_accuracy.csv"
    table = TableBenchmark(out, space, expected_rows=None)
    assert table.arch_strs() == official.arch_strs() and table.keys() == official.keys()
    for key in official.keys():
        assert np.array_equal(table.accuracies(*key), official.accuracies(*key))  # exact: repr floats round-trip
    iso = table.isomorph_keys()
    assert (iso == [Arch.from_str(s).isomorph_key() for s in nf.TSS_ARCHS]) if space == "tss" else iso is None


def test_import_refuses_to_overwrite_without_permission(tmp_path):
    src = nf.build_official_dir(tmp_path / "src", "sss")
    import_official(src, "sss", tmp_path / "data")
    with pytest.raises(InvalidParameterError, match="overwrite=True"):
        import_official(src, "sss", tmp_path / "data")
    import_official(src, "sss", tmp_path / "data", overwrite=True)


def test_imported_isomorph_matches_the_mirror(
    tmp_path, full_bench
):  # golden: archs 0, 1, 6111, 1651 are real NB201 archs
    out, _ = import_official(nf.build_official_dir(tmp_path / "src", "tss"), "tss", tmp_path / "data")
    ours = pd.read_csv(out, keep_default_na=False)
    mirror = full_bench.isomorph_keys()
    for text, iso in zip(ours["arch"], ours["isomorph"]):
        assert iso == mirror[full_bench.index_of(text)]


# ---- reading one record, safely, from every official form -------------------------------------------------
def test_query_reads_only_that_architectures_record(tmp_path, monkeypatch):
    from nasbench_eval import safe_pickle

    folder = nf.build_official_dir(tmp_path, "tss")
    read = []
    real = safe_pickle.load
    monkeypatch.setattr(safe_pickle, "load", lambda path, **kw: read.append(Path(path).name) or real(path, **kw))
    bench = OfficialBenchmark(folder, "tss")
    assert bench.query(3, "cifar100", "valid_acc", 12) == pytest.approx(
        nf.expected("tss")[("cifar100", "valid_acc", 12)][3]
    )
    assert read == ["meta.pickle.pbz2", "000003.pickle.pbz2"]


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_hostile_record_runs_no_code(tmp_path):
    folder = nf.build_official_dir(tmp_path, "tss")
    marker = tmp_path / "pwned"
    record = nf.arch_record(1, "tss")
    record["12"]["all_results"][("cifar10", 777)]["latency"] = _Payload(marker)
    nf._dump(record, folder / "000001.pickle.pbz2")
    with pytest.raises(CorruptDataError, match="architecture 1 is unreadable.*refuses to unpickle pathlib"):
        OfficialBenchmark(folder, "tss").query(1)
    assert not marker.exists()


def test_full_archive_in_a_parent_folder_with_weights_skipped(tmp_path):
    import torch

    folder = nf.build_official_dir(tmp_path, "tss").rename(tmp_path / "NATS-tss-v1_0-3ffb9-full")
    record = nf.arch_record(2, "tss")
    record["200"]["all_results"][("cifar10", 777)]["net_state_dict"] = {"w": torch.ones(3)}
    record["200"]["clear_net_done"] = False
    nf._dump(record, folder / "000002.pickle.pbz2")
    bench = create_benchmark("nb201", path=tmp_path)
    assert bench.path == folder and bench.query(2) == pytest.approx(nf.expected("tss")[("cifar10", "test_acc", 200)][2])


def test_official_default_places_are_probed(tmp_path, monkeypatch):
    nf.build_official_dir(tmp_path, "sss")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert OfficialBenchmark(None, "sss").path == tmp_path / "NATS-sss-v1_0-50262-simple"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    with pytest.raises(DataNotFoundError, match="official default places.*empty.*TORCH_HOME"):
        OfficialBenchmark(None, "tss")


def test_nb201_pth_backend_equals_the_ground_truth(tmp_path):
    bench = create_benchmark("nb201", path=nf.build_nb201_pth(tmp_path))
    assert bench.kind == "nb201-pth" and len(bench) == len(nf.TSS_ARCHS)
    for (dataset, metric, epochs), values in nf.expected("tss").items():
        np.testing.assert_allclose(bench.accuracies(dataset, metric, epochs), values, rtol=0, atol=1e-12)
    assert bench.query(2, "cifar10-valid", "valid_acc", 12) == pytest.approx(
        nf.expected("tss")[("cifar10-valid", "valid_acc", 12)][2]
    )


def test_nb201_pth_with_code_is_refused(tmp_path):
    import torch

    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"meta_archs": nf.TSS_ARCHS, "arch2infos": {0: _Payload(marker)}}, path)
    with pytest.raises(CorruptDataError, match="not a readable NAS-Bench-201 .pth file"):
        OfficialBenchmark(path, "tss")
    assert not marker.exists()
