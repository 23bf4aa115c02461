"""The CLI in-process: exit codes, one-line errors, --json objects."""
from __future__ import annotations

import json

import pytest

from nasbench_eval.cli import main


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_query_6111_prints_the_published_optimum(capsys):
    assert main(["query", "6111", "--dataset", "cifar10"]) == 0
    out = capsys.readouterr().out
    assert "94.37" in out
    assert "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|" in out


def test_query_json_is_one_object_with_the_same_fields(capsys):
    code, obj, _ = run_json(capsys, "query", "6111")
    assert code == 0
    assert obj["index"] == 6111 and obj["value"] == pytest.approx(94.373333) and obj["epochs"] == 200
    assert obj["arch"].startswith("|nor_conv_3x3~0|")


def test_query_by_string_and_twelve_epochs(capsys):
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    code, obj, _ = run_json(
        capsys, "query", arch, "--dataset", "cifar10-valid", "--metric", "valid_acc", "--epochs", "12"
    )
    assert code == 0 and obj["index"] == 6111 and 0 < obj["value"] < 100


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["query", "99999"], "index 99999 is out of range"),
        (["query", "1", "--epochs", "7"], "epochs=7 is not held"),
        (["query", "|nor_conv_3x3~0|+|bad~0|"], "node groups"),
        (["query", "1", "--dataset", "svhn"], "invalid choice: 'svhn'"),
        (["query", "1", "--epochs", "ten"], "'ten' is not an integer"),
        (["query"], "required: arch"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, fragment):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in captured.err


def test_missing_data_dir_is_one_line(capsys, tmp_path):
    assert main(["query", "1", "--data-dir", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "nope") in err and "is not a folder" in err


def test_tampered_package_data_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch):
    import shutil

    from nasbench_eval.data import packaged

    files = tmp_path / "files"
    shutil.copytree(packaged.FILES_DIR, files)
    (files / packaged.TABLE_FILE).write_bytes(b"not the table")
    monkeypatch.setattr(packaged, "FILES_DIR", files)
    assert main(["query", "6111"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fails its checksum" in err and "Traceback" not in err


def test_info_reports_data_and_versions(capsys, tmp_path):
    code, obj, _ = run_json(capsys, "info", "--data-dir", str(tmp_path))
    assert code == 0
    tables, datasets = obj["data"]["tables"], obj["data"]["datasets"]
    assert tables["nb201"]["found"] and tables["nb201"]["archs"] == 15625 and tables["nats_tss"]["archs"] == 15625
    assert tables["nb201"]["path"].endswith("tss_accuracy.csv.xz")  # the package's own table
    assert not tables["nats_sss"]["found"] and str(tmp_path) in tables["nats_sss"]["error"]
    assert not datasets["cifar100"]["found"] and not datasets["cifar10"]["found"]
    assert obj["versions"]["torch"] and obj["device"]["cuda"] in (True, False)
