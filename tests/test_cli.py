"""The CLI in-process: exit codes, one-line errors, --json objects."""
from __future__ import annotations

import json

import pytest

from nasbench_eval.cli import main


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_query_6111_prints_the_published_optimum(capsys, shared_data):
    assert main(["query", "6111", "--dataset", "cifar10", "--data-dir", str(shared_data)]) == 0
    out = capsys.readouterr().out
    assert "94.37" in out
    assert "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|" in out


def test_query_json_is_one_object_with_the_same_fields(capsys, shared_data):
    code, obj, _ = run_json(capsys, "query", "6111", "--data-dir", str(shared_data))
    assert code == 0
    assert obj["index"] == 6111 and obj["value"] == pytest.approx(94.373333) and obj["epochs"] == 200
    assert obj["arch"].startswith("|nor_conv_3x3~0|")


def test_query_by_string_and_twelve_epochs(capsys, shared_data):
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    code, obj, _ = run_json(capsys, "query", arch, "--dataset", "cifar10-valid", "--metric", "valid_acc", "--epochs", "12", "--data-dir", str(shared_data))
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
def test_bad_input_is_one_line_and_exit_2(capsys, shared_data, argv, fragment):
    assert main([*argv, "--data-dir", str(shared_data)] if argv[0] == "query" else argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in captured.err


def test_missing_data_dir_says_where_it_looked(capsys, tmp_path):
    assert main(["query", "1", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "nb201/tss_accuracy.csv" in err


def test_info_reports_data_and_versions(capsys, shared_data):
    code, obj, _ = run_json(capsys, "info", "--data-dir", str(shared_data))
    assert code == 0
    tables, datasets = obj["data"]["tables"], obj["data"]["datasets"]
    assert tables["nb201"]["found"] and tables["nb201"]["archs"] == 15625 and tables["nats_tss"]["archs"] == 15625
    assert not tables["nats_sss"]["found"] and str(shared_data) in tables["nats_sss"]["error"]
    assert datasets["cifar10"]["path"].endswith("cifar10-jpeg.npz") and not datasets["cifar100"]["found"]
    assert obj["versions"]["torch"] and obj["device"]["cuda"] in (True, False)
