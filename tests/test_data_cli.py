"""`nasbench-eval data import|info`, run in-process on the tiny official archive and tiny data dirs."""
from __future__ import annotations

import json

import pytest

import nats_fixture as nf
from nasbench_eval.benchmarks import TableBenchmark, create_benchmark, find_table
from nasbench_eval.cli import main
from nasbench_eval.exceptions import CorruptDataError, DataNotFoundError


def run_json(capsys, *argv) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("space, n_columns, has_iso", [("tss", 22, True), ("sss", 33, False)])
def test_import_writes_a_table_the_table_backend_finds(tmp_path, capsys, space, n_columns, has_iso):
    src = nf.build_official_dir(tmp_path / "src", space)
    r = run_json(
        capsys, "data", "import", "--nats", str(src), "--space", space, "--out", str(tmp_path / "data"), "--json"
    )
    table = tmp_path / "data" / "nats" / f"{space}_accuracy.csv"
    assert r["table"] == str(table) and r["rows"] == len(nf.ARCHS[space]) and len(r["columns"]) == n_columns
    assert r["has_isomorph"] is has_iso and f"cifar100_test_acc_{nf.HPS[space][-1].lstrip('0')}ep" in r["columns"]
    assert find_table(space, tmp_path / "data") == table.resolve()  # create_benchmark(data_dir=...) looks exactly here
    bench = TableBenchmark(table, space, expected_rows=None)
    assert bench.query(2, "cifar10", "test_acc", int(nf.HPS[space][-1])) == pytest.approx(
        nf.expected(space)[("cifar10", "test_acc", int(nf.HPS[space][-1]))][2]
    )


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


# ---- data add: datasets a user has, registered in the per-user data folder ---------------------------------
@pytest.mark.parametrize("dataset, writer, folder", [
    ("cifar10", "write_cifar10_official", "cifar-10-batches-py"),
    ("cifar100", "write_cifar100_official", "cifar-100-python"),
    ("ImageNet16-120", "write_imagenet16", "ImageNet16"),
])
def test_add_registers_a_dataset_every_command_then_finds(tmp_path, capsys, dataset, writer, folder):
    import test_data

    from nasbench_eval.data import load_dataset
    from nasbench_eval.paths import user_data_dir

    getattr(test_data, writer)(tmp_path / "dl" / folder)
    with pytest.raises(DataNotFoundError):  # nowhere before it is added
        load_dataset(dataset, "test")
    r = run_json(capsys, "data", "add", dataset, str(tmp_path / "dl"), "--json")   # the parent folder is enough
    assert r["registered"].startswith(str(user_data_dir())) and not r["copied"] and r["test_images"] > 0
    x, y = load_dataset(dataset, "test")
    assert len(x) == r["test_images"] and x.shape[1] == (16 if dataset == "ImageNet16-120" else 32)
    assert main(["data", "add", dataset, str(tmp_path / "dl" / folder)]) == 2       # registered already
    assert "--force" in capsys.readouterr().err
    assert main(["data", "add", dataset, str(tmp_path / "dl" / folder), "--force", "--copy"]) == 0
    capsys.readouterr()
    (tmp_path / "dl" / folder).rename(tmp_path / "gone")  # the copy does not need the original
    assert len(load_dataset(dataset, "test")[0]) == r["test_images"]


@pytest.mark.parametrize(
    "setup, argv, fragment",
    [
        (None, ["data", "add", "cifar100", "NOPE"], "cifar100 images not found under root="),
        ("cifar10", ["data", "add", "cifar100", "DL"], "cifar100 images not found under root="),
        ("garbage", ["data", "add", "cifar100", "DL"], "not a readable pickle"),
        (None, ["data", "add", "svhn", "DL"], "invalid choice: 'svhn'"),
        (
            "pth",
            ["data", "import", "--nats", "DL/x.pth", "--space", "tss"],
            "is a NAS-Bench-201 .pth file, not a NATS-Bench archive; use --nb201",
        ),
        (
            "pth",
            ["query", "1", "--nats-path", "DL/x.pth"],
            "is a NAS-Bench-201 .pth file, not a NATS-Bench archive; read it with --nb201-path",
        ),
        (None, ["query", "1", "--nb201-path", "DL"], "is not a NAS-Bench-201 .pth file"),
        (None, ["data", "import", "--nats", "DL"], "needs --space"),
    ],
)
def test_bad_data_paths_are_one_line_and_exit_2(tmp_path, capsys, setup, argv, fragment):
    import test_data

    dl = tmp_path / "dl"
    if setup == "cifar10":
        test_data.write_cifar10_official(dl / "cifar-10-batches-py")
    elif setup == "garbage":
        (dl / "cifar-100-python").mkdir(parents=True)
        (dl / "cifar-100-python" / "train").write_bytes(b"junk")
        (dl / "cifar-100-python" / "test").write_bytes(b"junk")
    elif setup == "pth":
        dl.mkdir()
        nf.build_nb201_pth(dl, "x.pth")
    argv = [a.replace("DL", str(dl)).replace("NOPE", str(tmp_path / "nope")) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and fragment in captured.err, captured.err


def test_nb201_pth_import_and_query(tmp_path, capsys):
    pth = nf.build_nb201_pth(tmp_path)
    r = run_json(capsys, "data", "import", "--nb201", str(pth), "--out", str(tmp_path / "data"), "--json")
    assert r["rows"] == len(nf.TSS_ARCHS) and r["has_isomorph"] and r["source"] == str(pth)
    q = run_json(capsys, "query", "2", "--nb201-path", str(pth), "--epochs", "12", "--json")
    assert q["value"] == pytest.approx(nf.expected("tss")[("cifar10", "test_acc", 12)][2])


def test_query_nats_path_reads_the_default_places(tmp_path, capsys, monkeypatch):
    nf.build_official_dir(tmp_path, "tss")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    q = run_json(capsys, "query", "2", "--nats-path", "--json")
    assert q["value"] == pytest.approx(nf.expected("tss")[("cifar10", "test_acc", 200)][2])
