"""`nasbench-eval data import|info`, run in-process on the tiny official archive and tiny data dirs."""
from __future__ import annotations

import json

import pytest

import nats_fixture as nf
from nasbench_eval.benchmarks import TableBenchmark, create_benchmark, find_table
from nasbench_eval.cli import main
from nasbench_eval.exceptions import CorruptDataError


def run_json(capsys, *argv) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("space, n_columns, has_iso", [("tss", 22, True), ("sss", 33, False)])
def test_import_writes_a_table_the_table_backend_finds(tmp_path, capsys, space, n_columns, has_iso):
    src = nf.build_official_dir(tmp_path / "src", space)
    r = run_json(capsys, "data", "import", "--nats", str(src), "--space", space, "--out", str(tmp_path / "data"), "--json")
    table = tmp_path / "data" / "nats" / f"{space}_accuracy.csv"
    assert r["table"] == str(table) and r["rows"] == len(nf.ARCHS[space]) and len(r["columns"]) == n_columns
    assert r["has_isomorph"] is has_iso and f"cifar100_test_acc_{nf.HPS[space][-1].lstrip('0')}ep" in r["columns"]
    assert find_table(space, tmp_path / "data") == table.resolve()  # create_benchmark(data_dir=...) looks exactly here
    bench = TableBenchmark(table, space, expected_rows=None)
    assert bench.query(2, "cifar10", "test_acc", int(nf.HPS[space][-1])) == pytest.approx(nf.expected(space)[("cifar10", "test_acc", int(nf.HPS[space][-1]))][2])


def test_imported_tiny_table_is_refused_as_a_full_space_table(tmp_path, capsys):
    src = nf.build_official_dir(tmp_path / "src", "sss")
    run_json(capsys, "data", "import", "--nats", str(src), "--space", "sss", "--out", str(tmp_path / "data"), "--json")
    with pytest.raises(CorruptDataError, match="expected 32768"):  # the full-size check protects real use
        create_benchmark("nats_sss", data_dir=tmp_path / "data")


def test_import_defaults_to_the_data_dir_and_needs_force_to_overwrite(tmp_path, capsys):
    src = nf.build_official_dir(tmp_path / "src", "sss")
    argv = ["data", "import", "--nats", str(src), "--space", "sss", "--data-dir", str(tmp_path / "d")]
    assert main(argv) == 0
    assert "wrote " + str(tmp_path / "d" / "nats" / "sss_accuracy.csv") in capsys.readouterr().out
    assert main(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert main(argv + ["--force"]) == 0


def test_import_of_a_missing_archive_is_one_error_line(tmp_path, capsys):
    assert main(["data", "import", "--nats", str(tmp_path / "none"), "--space", "tss", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_data_needs_an_action(capsys):
    assert main(["data"]) == 2
    assert "ACTION" in capsys.readouterr().err


def test_info_lists_found_and_missing(tmp_path, capsys):
    (tmp_path / "nats").mkdir()
    (tmp_path / "nats" / "tss_accuracy.csv").write_text("index,arch\n")
    r = run_json(capsys, "data", "info", "--data-dir", str(tmp_path), "--json")
    assert r["tables"]["nb201"] == {"found": True, "path": str((tmp_path / "nats" / "tss_accuracy.csv").resolve())}
    assert not r["tables"]["nats_sss"]["found"] and not r["datasets"]["cifar10"]["found"]
    assert main(["data", "--data-dir", str(tmp_path), "info"]) == 0  # common options also work before the action
    text = capsys.readouterr().out
    assert "cifar100         not found" in text and str(tmp_path) in text
