"""The bad-input corpus: every command, fed wrong numbers, wrong files and unusable output paths, fails fast
with exit 2, at most 3 lines on stderr, no traceback, and a message naming the offending value.

Each case is ``(argv, fragment)``. ``{name}`` in an argument is replaced by the path of the fixture file `name`
(built once per session in `bad`); ``{data}`` by the shared data folder. `fragment` (placeholders replaced too)
must appear in stderr. The cases run in-process through `nasbench_eval.cli.main`; validation comes before any
expensive work, so the whole corpus takes seconds per command.
"""
from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
import signal
import sqlite3
import zipfile

import numpy as np
import pytest
import torch
from conftest import STAGE1_TINY, random_split

from nasbench_eval.cli import main

A0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
"""Architecture 0 of NB201."""


class _Payload:
    """Unpickling this creates the file `path`: the marker a hostile pickle would leave."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _scores_csv(path, rows: list[str], header="index,nwot,synflow"):
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _tiny_run(folder):
    from nasbench_eval.train import save_run, train_stage1

    result = train_stage1("rsps", hparams=STAGE1_TINY, data=(random_split(64, 0), random_split(64, 1)),
                           ground_truth=None)
    return save_run(result, folder)


@pytest.fixture(scope="session")
def bad(tmp_path_factory):
    """Every bad file of the corpus, by name -> path; plus a marker path a hostile payload would create."""
    d = tmp_path_factory.mktemp("corpus")
    f = {"marker": d / "PWNED"}
    f["missing"] = d / "does-not-exist.csv"
    f["dir"] = d / "a-folder"
    f["dir"].mkdir()
    f["file"] = d / "plain-file.txt"
    f["file"].write_text("x\n")
    f["under_file"] = f["file"] / "sub"
    f["binary"] = d / "binary.bin"
    f["binary"].write_bytes(bytes(range(256)) * 4)
    f["empty"] = d / "empty.txt"
    f["empty"].write_text("")
    f["nul_archs"] = d / "nul.txt"
    f["nul_archs"].write_text("12\x0034\n")
    f["comments_only"] = d / "comments.txt"
    f["comments_only"].write_text("# nothing\n\n")
    f["bad_line"] = d / "bad-line.txt"
    f["bad_line"].write_text("1\n2\n|nonsense~0|\n")
    f["out_of_range_archs"] = d / "range.txt"
    f["out_of_range_archs"].write_text("1\n15625\n")
    f["one_arch"] = d / "one.txt"
    f["one_arch"].write_text("7\n7\n")
    f["two_archs"] = d / "two.txt"
    f["two_archs"].write_text("7\n8\n")
    # ---- SQLite stores
    f["not_sqlite"] = d / "garbage.sqlite"
    f["not_sqlite"].write_bytes(b"this is not a database" * 100)
    f["foreign_store"] = d / "foreign.sqlite"
    with sqlite3.connect(f["foreign_store"]) as db:
        db.execute("CREATE TABLE scores (id INTEGER PRIMARY KEY, something TEXT)")
    # ---- scores CSVs for improvement / recall
    rng = np.random.default_rng(0)
    rows = [f"{i},{rng.normal():.4f},{rng.normal():.4f}" for i in range(60)]
    f["good_csv"] = _scores_csv(d / "good.csv", rows)
    f["nan_column"] = _scores_csv(d / "nancol.csv", [f"{i},nan,{rng.normal():.3f}" for i in range(60)])
    f["inf_column"] = _scores_csv(d / "infcol.csv", [f"{i},inf,{rng.normal():.3f}" for i in range(60)])
    f["const_column"] = _scores_csv(d / "constcol.csv", [f"{i},1.0,{rng.normal():.3f}" for i in range(60)])
    f["truncated_csv"] = d / "truncated.csv"
    f["truncated_csv"].write_text(f["good_csv"].read_text()[:-30])
    f["conflicting"] = _scores_csv(d / "dup.csv", rows + ["3,100.0,1.0"])
    f["neg_index"] = _scores_csv(d / "negidx.csv", rows + ["-1,0.5,0.5"])
    f["big_index"] = _scores_csv(d / "bigidx.csv", rows + ["15625,0.5,0.5"])
    f["frac_index"] = _scores_csv(d / "fracidx.csv", rows + ["2.5,0.5,0.5"])
    f["text_index"] = _scores_csv(d / "textidx.csv", rows + ["abc,0.5,0.5"])
    f["no_id"] = _scores_csv(d / "noid.csv", [r.split(",", 1)[1] for r in rows], header="nwot,synflow")
    f["no_score"] = _scores_csv(d / "noscore.csv", [f"{i}" for i in range(60)], header="index")
    f["header_only"] = _scores_csv(d / "header.csv", [])
    f["arch_mismatch"] = _scores_csv(d / "mismatch.csv", [f"5,{A0},1.0"], header="index,arch,nwot")
    f["bad_arch"] = _scores_csv(d / "badarch.csv", ["|foo~0|,1.0", f"{A0},2.0"], header="arch,nwot")
    f["few_rows"] = _scores_csv(d / "few.csv", ["1,0.5,0.1"])
    f["text_score"] = _scores_csv(d / "textscore.csv", [f"{i},{'x' if i == 3 else i}" for i in range(60)],
                                  header="index,nwot")
    # ---- alphas for mass
    f["zero_npy"] = d / "zero.npy"
    f["zero_npy"].write_bytes(b"")
    np.save(d / "shape.npy", np.zeros((5, 5)))
    f["shape_npy"] = d / "shape.npy"
    np.save(d / "object.npy", np.array([{"a": 1}] * 30, dtype=object).reshape(6, 5), allow_pickle=True)
    f["object_npy"] = d / "object.npy"
    np.save(d / "nan.npy", np.full((6, 5), np.nan))
    f["nan_npy"] = d / "nan.npy"
    np.save(d / "text.npy", np.full((6, 5), "a"))
    f["text_npy"] = d / "text.npy"
    f["truncated_npy"] = d / "trunc.npy"
    np.save(f["truncated_npy"], np.zeros((6, 5)))
    f["truncated_npy"].write_bytes(f["truncated_npy"].read_bytes()[:-40])
    f["neg_probs"] = d / "negprobs.json"
    f["neg_probs"].write_text(json.dumps([[-0.2, 0.3, 0.3, 0.3, 0.3]] * 6))
    f["inf_json"] = d / "inf.json"
    f["inf_json"].write_text("[" + ",".join(["[Infinity, 1, 1, 1, 1]"] * 6) + "]")
    f["text_json"] = d / "text.json"
    f["text_json"].write_text(json.dumps([["a"] * 5] * 6))
    f["bad_json"] = d / "bad.json"
    f["bad_json"].write_text("[[1, 2, 3")
    f["dict_json"] = d / "dict.json"
    f["dict_json"].write_text(json.dumps({"weights": [[1] * 5] * 6}))
    f["ragged_json"] = d / "ragged.json"
    f["ragged_json"].write_text(json.dumps([[1] * 5] * 5 + [[1] * 4]))
    f["good_alphas"] = d / "alphas.json"
    f["good_alphas"].write_text(json.dumps([[0.0] * 5] * 6))
    # ---- data folders with damaged tables and images
    table = tmp_path_factory.getbasetemp() / "table.csv"
    _copy_table(table)
    import pandas as pd
    frame = pd.read_csv(table)
    for name, (column, row, value) in {"acc_4437": ("cifar10_test_acc_200ep", 5, 4437.0),
                                       "acc_negative": ("cifar100_test_acc_200ep", 9, -3.0),
                                       "acc_empty": ("cifar10_test_acc_200ep", 0, np.nan)}.items():
        bad_frame = frame.copy()
        bad_frame.loc[row, column] = value
        (d / name / "nb201").mkdir(parents=True)
        bad_frame.to_csv(d / name / "nb201" / "tss_accuracy.csv", index=False)
        f[name] = d / name
    (d / "table_truncated" / "nb201").mkdir(parents=True)
    (d / "table_truncated" / "nb201" / "tss_accuracy.csv").write_text(table.read_text()[:200_000])
    f["table_truncated"] = d / "table_truncated"
    (d / "table_binary" / "nb201").mkdir(parents=True)
    (d / "table_binary" / "nb201" / "tss_accuracy.csv").write_bytes(bytes(range(256)) * 100)
    f["table_binary"] = d / "table_binary"
    f["empty_data"] = d / "empty-data"
    f["empty_data"].mkdir()
    # a data folder with the real table and a truncated CIFAR-10 npz; one with a hostile CIFAR-100 pickle
    for name in ("npz_truncated", "npz_foreign", "hostile_cifar100"):
        (d / name / "nb201").mkdir(parents=True)
        shutil.copy(table, d / name / "nb201" / "tss_accuracy.csv")
        f[name] = d / name
    (d / "npz_truncated" / "cifar10").mkdir()
    (d / "npz_truncated" / "cifar10" / "cifar10-jpeg.npz").write_bytes(b"PK\x03\x04" + b"\0" * 500)
    (d / "npz_foreign" / "cifar10").mkdir()
    with zipfile.ZipFile(d / "npz_foreign" / "cifar10" / "cifar10-jpeg.npz", "w") as z:
        z.writestr("other.npy", b"")
    hostile = d / "hostile_cifar100" / "cifar100" / "cifar-100-python"
    hostile.mkdir(parents=True)
    for part in ("train", "test", "meta"):
        (hostile / part).write_bytes(pickle.dumps(_Payload(f["marker"])))
    f["hostile_pickle"] = d / "hostile.pickle.pbz2"
    import bz2
    f["hostile_pickle"].write_bytes(bz2.compress(pickle.dumps(_Payload(f["marker"]))))
    f["hostile_nats"] = d / "NATS-tss-v1_0-3ffb9-simple"
    f["hostile_nats"].mkdir()
    (f["hostile_nats"] / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(_Payload(f["marker"]))))
    # ---- Stage-1 run folders: one good, then damaged copies
    good = _tiny_run(d / "run_good")
    f["run_good"] = good

    def damaged(name, edit):
        shutil.copytree(good, d / name)
        edit(d / name)
        f[name] = d / name

    damaged("run_no_hparams", lambda r: (r / "config.json").write_text(json.dumps(
        {k: v for k, v in json.loads((r / "config.json").read_text()).items() if k != "hparams"})))
    damaged("run_config_garbage", lambda r: (r / "config.json").write_text("{not json"))
    damaged("run_config_list", lambda r: (r / "config.json").write_text("[1, 2]"))
    damaged("run_bad_space", lambda r: (r / "config.json").write_text(json.dumps(
        {**json.loads((r / "config.json").read_text()), "space": "galaxy"})))
    damaged("run_pt_garbage", lambda r: (r / "supernet.pt").write_bytes(b"garbage" * 50))
    damaged("run_pt_truncated", lambda r: (r / "supernet.pt").write_bytes((r / "supernet.pt").read_bytes()[:300]))
    damaged("run_pt_foreign", lambda r: torch.save({"weight": torch.zeros(3)}, r / "supernet.pt"))
    damaged("run_pt_pickle", lambda r: (r / "supernet.pt").write_bytes(pickle.dumps(_Payload(f["marker"]))))
    damaged("run_probs_garbage", lambda r: (r / "edge_probs.npy").write_bytes(b"\x93NUMPY garbage"))
    damaged("run_no_curves", lambda r: (r / "curves.json").unlink())
    damaged("run_predictions_garbage", lambda r: (r / "predictions.sqlite").write_bytes(b"not sqlite" * 100))
    # ---- SpiderNet run folder with a damaged checkpoint; a trained-experiment folder with a damaged grid.json
    spider = d / "spider_bad"
    (spider / "checkpoints").mkdir(parents=True)
    (spider / "checkpoints" / "cycle_000.pt").write_bytes(b"garbage" * 20)
    f["spider_bad"] = spider
    grid = d / "grid_bad"
    (grid / "work").mkdir(parents=True)
    (grid / "work" / "grid.json").write_text("{truncated")
    f["grid_bad"] = grid
    return f


def _copy_table(dest):
    """The package's NB201 table, decompressed to a plain CSV at `dest`."""
    import lzma

    from nasbench_eval.data.packaged import TABLE_FILE, verified

    Path(dest).write_bytes(lzma.decompress(verified(TABLE_FILE).read_bytes()))


# (argv, fragment naming the offending value). --data-dir {data} is appended to every command that reads the table.
NUMBERS = [
    # correlate
    (["correlate", "--n-boot", "-1"], "'-1'"),
    (["correlate", "--n-boot", "1000000000000"], "'1000000000000'"),
    (["correlate", "--n-boot", "nan"], "'nan'"),
    (["correlate", "--seed", "1208925819614629174706176"], "'1208925819614629174706176'"),
    (["correlate", "--seed", "-3"], "'-3'"),
    (["correlate", "--seed", "1.5"], "'1.5'"),
    (["correlate", "--sample", "1"], "'1'"),
    (["correlate", "--sample", "0"], "'0'"),
    (["correlate", "--sample", "99999"], "'99999'"),
    (["correlate", "--sample", "1e3"], "'1e3'"),
    (["correlate", "--epochs", "7"], "epochs=7"),
    (["correlate", "--epochs", "-200"], "'-200'"),
    (["correlate", "--batch-size", "1"], "'1'"),
    (["correlate", "--batch-size", "0"], "'0'"),
    (["correlate", "--batch-size", "10000000"], "'10000000'"),
    (["correlate", "--repeats", "0"], "'0'"),
    (["correlate", "--metric", "nosuch"], "nosuch"),
    (["correlate", "--metric", ","], "no proxy"),
    (["correlate", "--profile", "nosuch"], "nosuch"),
    (["correlate", "--dataset", "svhn"], "svhn"),
    (["correlate", "--target", "loss"], "loss"),
    (["correlate", "--device", "tpu:7"], "tpu:7"),
    # score
    (["score", "--metrics", "nwot", "--sample", "0"], "'0'"),
    (["score", "--metrics", "nwot", "--sample", "-5"], "'-5'"),
    (["score", "--metrics", "nwot", "--sample", "20000"], "'20000'"),
    (["score", "--metrics", "nwot", "--sample", "3", "--seed", "99999999999999999999"], "'99999999999999999999'"),
    (["score", "--metrics", "ntk", "--sample", "3", "--batch-size", "1"], "'1'"),
    (["score", "--metrics", "nwot", "--sample", "3", "--repeats", "-1"], "'-1'"),
    (["score", "--metrics", "ntk", "--sample", "3", "--batch-size", "4096"], "'4096'"),
    (["score", "--metrics", "bogus", "--sample", "3"], "bogus"),
    (["score", "--metrics", "nwot"], "--sample N"),
    (["score", "--sample", "3"], "--metrics"),
    # query
    (["query", "²"], "'²'"),
    (["query", "99999"], "99999"),
    (["query", "-1"], "'-1'"),
    (["query", ""], "''"),
    (["query", "1", "--epochs", "0"], "'0'"),
    (["query", "1", "--epochs", "12.5"], "'12.5'"),
    (["query", "1", "--epochs", "90"], "epochs=90"),
    (["query", "1", "--metric", "loss"], "loss"),
    (["query", "1", "--space", "hyper"], "hyper"),
    # improvement / recall / mass numbers
    (["improvement", "{good_csv}", "--k-min", "0"], "'0'"),
    (["improvement", "{good_csv}", "--k-min", "100"], "k_min=100"),
    (["improvement", "{good_csv}", "--k-min", "nan"], "'nan'"),
    (["improvement", "{good_csv}", "--epochs", "3"], "epochs=3"),
    (["improvement", "{good_csv}", "--tie-break", "coin"], "coin"),
    (["recall", "{good_csv}", "--n-groups", "0"], "'0'"),
    (["recall", "{good_csv}", "--n-groups", "100"], "n_groups=100"),
    (["recall", "{good_csv}", "--n-groups", "-4"], "'-4'"),
    (["recall", "{good_csv}", "--epochs", "inf"], "'inf'"),
    (["mass", "{good_alphas}", "--n-groups", "0"], "'0'"),
    (["mass", "{good_alphas}", "--n-groups", "x"], "'x'"),
    (["mass", "{good_alphas}", "--epochs", "5"], "epochs=5"),
    (["mass", "{good_alphas}", "--kind", "magic"], "magic"),
    # reproduce
    (["reproduce"], "name=None"),
    (["reproduce", "table_99"], "table_99"),
    (["reproduce", "--seeds", "0", "--list"], "'0'"),
    (["reproduce", "--epochs", "-1", "--list"], "'-1'"),
    # stage1
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--lr", "nan"], "'nan'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--lr", "inf"], "'inf'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--lr", "-0.1"], "'-0.1'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--lr", "0"], "'0'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--lr", "1e30"], "'1e30'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--epochs", "0"], "'0'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--epochs", "-1"], "'-1'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--batch-size", "0"], "'0'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--seed", "18446744073709551616"], "'18446744073709551616'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--channels", "0"], "'0'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--cells-per-stage", "0"], "'0'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--train-images", "0"], "'0'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--train-images", "999999999"], "'999999999'"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--valid-images", "-2"], "'-2'"),
    (["stage1", "--method", "spos", "--out", "{dir}/s1", "--bias-depth", "7"], "'7'"),
    (["stage1", "--method", "nosuch", "--out", "{dir}/s1"], "nosuch"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--space", "tiny"], "tiny"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1", "--bias-depth", "2"], "bias_depth"),
    (["stage1", "--method", "spos", "--out", "{dir}/s1", "--epochs", "5", "--split-epoch", "5"], "split_epoch=5"),
    # stage1-eval
    (["stage1-eval", "{run_good}", "--sample", "99999"], "99999"),
    (["stage1-eval", "{run_good}", "--sample", "-1"], "'-1'"),
    (["stage1-eval", "{run_good}", "--sample", "1"], "sample=1"),
    (["stage1-eval", "{run_good}", "--seed", "4294967296"], "'4294967296'"),
    (["stage1-eval", "{run_good}", "--batch-size", "0"], "'0'"),
    (["stage1-eval", "{run_good}", "--eval-images", "0"], "'0'"),
    (["stage1-eval", "{run_good}", "--bn-batches", "-1"], "'-1'"),
    (["stage1-eval", "{run_good}", "--group-size", "0"], "'0'"),
    (["stage1-eval", "{run_good}", "--device", "quantum"], "quantum"),
    # stage2
    (["stage2", "{run_good}", "--selector", "valid", "--samples", "0"], "'0'"),
    (["stage2", "{run_good}", "--selector", "valid", "--samples", "99999"], "'99999'"),
    (["stage2", "{run_good}", "--selector", "perturb", "--finetune-lr", "nan"], "'nan'"),
    (["stage2", "{run_good}", "--selector", "perturb", "--finetune-epochs", "-1"], "'-1'"),
    (["stage2", "{run_good}", "--selector", "valid", "--seed", "-1"], "'-1'"),
    (["stage2", "{run_good}", "--selector", "valid", "--eval-images", "0"], "'0'"),
    (["stage2", "{run_good}", "--selector", "oracle"], "oracle"),
    (["stage2", "{run_good}", "--selector", "prune"], "prune"),
    (["stage2", "{run_good}", "--selector", "valid", "--baseline", "R_I"], "rsps_biased"),
    # spidernet
    (["spidernet", "--out", "{dir}/sp", "--cycles", "-1"], "'-1'"),
    (["spidernet", "--out", "{dir}/sp", "--lr", "nan"], "'nan'"),
    (["spidernet", "--out", "{dir}/sp", "--lr", "inf"], "'inf'"),
    (["spidernet", "--out", "{dir}/sp", "--vram-gb", "0"], "'0'"),
    (["spidernet", "--out", "{dir}/sp", "--vram-gb=-inf"], "'-inf'"),
    (["spidernet", "--out", "{dir}/sp", "--ntk-images", "1"], "'1'"),
    (["spidernet", "--out", "{dir}/sp", "--batch-size", "0"], "'0'"),
    (["spidernet", "--out", "{dir}/sp", "--init-channels", "0"], "'0'"),
    (["spidernet", "--out", "{dir}/sp", "--train-images", "0"], "'0'"),
    (["spidernet", "--out", "{dir}/sp", "--seed", "-9"], "'-9'"),
    (["spidernet", "--out", "{dir}/sp", "--ablation", "random9"], "random9"),
    (["spidernet", "--out", "{dir}/sp", "--ablation", "random1"], "reference"),
    (["spidernet", "--out", "{dir}/sp", "--ablation", "random1", "--reference", "{missing}"], "does-not-exist"),
    # data
    (["data", "import", "--nats", "{missing}", "--space", "tss"], "does-not-exist"),
    (["data", "import", "--nats", "{dir}", "--space", "mss"], "mss"),
    (["data", "import", "--space", "tss"], "--nats"),
    (["data", "export"], "export"),
    (["data"], "ACTION"),
]

FILES = [
    # --archs (correlate and score)
    (["correlate", "--archs", "{missing}"], "does-not-exist"),
    (["correlate", "--archs", "{dir}"], "a-folder"),
    (["correlate", "--archs", "{binary}"], "binary.bin"),
    (["correlate", "--archs", "{empty}"], "empty.txt"),
    (["correlate", "--archs", "{nul_archs}"], "nul.txt"),
    (["correlate", "--archs", "{comments_only}"], "comments.txt"),
    (["correlate", "--archs", "{bad_line}"], "line 3"),
    (["correlate", "--archs", "{out_of_range_archs}"], "15625"),
    (["correlate", "--archs", "{one_arch}"], "one.txt"),
    (["score", "--metrics", "nwot", "--archs", "{binary}"], "binary.bin"),
    (["score", "--metrics", "nwot", "--archs", "{dir}"], "a-folder"),
    (["score", "--metrics", "nwot", "--archs", "{missing}"], "does-not-exist"),
    (["score", "--metrics", "nwot", "--archs", "{bad_line}"], "line 3"),
    # --store
    (["correlate", "--archs", "{two_archs}", "--store", "{not_sqlite}"], "garbage.sqlite"),
    (["correlate", "--archs", "{two_archs}", "--store", "{foreign_store}"], "foreign.sqlite"),
    (["correlate", "--archs", "{two_archs}", "--store", "{dir}"], "a-folder"),
    (["correlate", "--archs", "{two_archs}", "--store", "{under_file}"], "plain-file.txt"),
    (["score", "--metrics", "nwot", "--archs", "{two_archs}", "--store", "{not_sqlite}"], "garbage.sqlite"),
    (["score", "--metrics", "nwot", "--archs", "{two_archs}", "--store", "{foreign_store}"], "foreign.sqlite"),
    (["reproduce", "training-free-table1", "--store", "{not_sqlite}"], "garbage.sqlite"),
    # scores CSVs
    *[([cmd, "{" + name + "}"], frag) for cmd in ("improvement", "recall") for name, frag in (
        ("missing", "does-not-exist"), ("dir", "a-folder"), ("binary", "binary.bin"), ("empty", "empty.txt"),
        ("nan_column", "'nwot'"), ("inf_column", "'nwot'"), ("const_column", "'nwot'"),
        ("truncated_csv", "truncated.csv"), ("neg_index", "-1"),
        ("big_index", "15625"), ("frac_index", "2.5"), ("text_index", "abc"), ("no_id", "index"),
        ("no_score", "score column"), ("header_only", "no rows"), ("arch_mismatch", "row 0"),
        ("bad_arch", "|foo~0|"), ("few_rows", "few.csv"), ("text_score", "textscore.csv"),
    )],
    (["improvement", "{good_csv}", "--columns", "nosuch"], "nosuch"),
    (["recall", "{good_csv}", "--lower-is-better", "ghost"], "ghost"),
    # alphas for mass
    *[(["mass", "{" + name + "}"], frag) for name, frag in (
        ("missing", "does-not-exist"), ("dir", "a-folder"), ("zero_npy", "zero.npy"), ("shape_npy", "(5, 5)"),
        ("object_npy", "object.npy"), ("nan_npy", "nan.npy"), ("text_npy", "text.npy"), ("truncated_npy", "trunc.npy"),
        ("inf_json", "inf.json"), ("text_json", "text.json"), ("bad_json", "bad.json"), ("dict_json", "dict.json"),
        ("ragged_json", "ragged.json"), ("binary", "binary.bin"), ("empty", "empty.txt"),
    )],
    (["mass", "{neg_probs}", "--kind", "probs"], "negprobs.json"),
    (["mass", "{neg_probs}", "--kind", "dirichlet"], "negprobs.json"),
    # damaged tables and images (found through --data-dir)
    *[([*argv, "--data-dir", "{" + name + "}"], frag) for name, frag in (
        ("acc_4437", "4437"), ("acc_negative", "-3"), ("table_truncated", "tss_accuracy.csv"),
        ("table_binary", "tss_accuracy.csv"),
    ) for argv in (["query", "5"], ["info"]) if not (name == "empty_data" and argv == ["info"])],
    (["query", "0", "--data-dir", "{acc_empty}"], "index 0"),
    (["correlate", "--archs", "{two_archs}", "--full-split", "--data-dir", "{npz_truncated}"], "cifar10-jpeg.npz"),
    (["correlate", "--archs", "{two_archs}", "--full-split", "--data-dir", "{npz_foreign}"], "cifar10-jpeg.npz"),
    (["correlate", "--archs", "{two_archs}", "--dataset", "cifar100", "--data-dir", "{hostile_cifar100}"], "train"),
    (["stage1", "--method", "rsps", "--out", "{dir}/s1b", "--data-dir", "{npz_truncated}"], "cifar10-jpeg.npz"),
    # Stage-1 run folders
    *[([*argv, "{" + name + "}"], frag) for name, frag in (
        ("missing", "does-not-exist"), ("file", "plain-file.txt"), ("run_no_hparams", "hparams"),
        ("run_config_garbage", "config.json"), ("run_config_list", "config.json"), ("run_bad_space", "galaxy"),
        ("run_pt_garbage", "supernet.pt"), ("run_pt_truncated", "supernet.pt"), ("run_pt_foreign", "supernet.pt"),
        ("run_pt_pickle", "supernet.pt"), ("run_probs_garbage", "edge_probs.npy"), ("run_no_curves", "curves.json"),
    ) for argv in (["stage1-eval"], ["stage2", "--selector", "valid"])],
    (["stage1-eval", "{run_predictions_garbage}"], "predictions.sqlite"),
    (["stage1-eval", "{run_good}", "{run_bad_space}"], "galaxy"),
    # SpiderNet checkpoints and reference; the trained experiments' grid.json
    (["spidernet", "--out", "{spider_bad}", "--cycles", "1", "--mutations-per-cycle", "0", "--train-images", "64",
      "--test-images", "64"], "cycle_000.pt"),
    (["spidernet", "--out", "{dir}/sp2", "--ablation", "random1", "--reference", "{spider_bad}"], "spider_bad"),
    (["reproduce", "pup-table2", "--quick", "--out", "{grid_bad}"], "grid.json"),
    # official NATS-Bench files: hostile or foreign
    (["data", "import", "--nats", "{hostile_pickle}", "--space", "tss", "--out", "{dir}/imp"], "hostile.pickle.pbz2"),
    (["data", "import", "--nats", "{hostile_nats}", "--space", "tss", "--out", "{dir}/imp"], "meta.pickle.pbz2"),
    (["data", "import", "--nats", "{binary}", "--space", "tss", "--out", "{dir}/imp"], "binary.bin"),
    (["query", "1", "--nats-path", "{hostile_nats}"], "meta.pickle.pbz2"),
    (["query", "1", "--nats-path", "{missing}"], "does-not-exist"),
]

OUTPUTS = [
    (["correlate", "--archs", "{two_archs}", "--out", "{file}"], "plain-file.txt"),
    (["correlate", "--archs", "{two_archs}", "--out", "{under_file}"], "plain-file.txt"),
    (["score", "--metrics", "nwot", "--archs", "{two_archs}", "--out", "{dir}"], "a-folder"),
    (["score", "--metrics", "nwot", "--archs", "{two_archs}", "--out", "{under_file}/s.csv"], "plain-file.txt"),
    (["improvement", "{good_csv}", "--out", "{dir}"], "a-folder"),
    (["improvement", "{good_csv}", "--out", "{under_file}/p.png"], "plain-file.txt"),
    (["improvement", "{good_csv}", "--out", "{dir}/plot.xyz"], "plot.xyz"),
    (["recall", "{good_csv}", "--out", "{dir}"], "a-folder"),
    (["recall", "{good_csv}", "--out", "{under_file}/p.png"], "plain-file.txt"),
    (["mass", "{good_alphas}", "--out", "{dir}"], "a-folder"),
    (["mass", "{good_alphas}", "--out", "{under_file}/m.png"], "plain-file.txt"),
    (["mass", "{good_alphas}", "--out", "{dir}/m.txt"], "m.txt"),
    (["stage1", "--method", "rsps", "--out", "{file}"], "plain-file.txt"),
    (["stage1", "--method", "rsps", "--out", "{under_file}"], "plain-file.txt"),
    (["stage1-eval", "{run_good}", "--out", "{file}"], "plain-file.txt"),
    (["stage1-eval", "{run_good}", "--out", "{under_file}"], "plain-file.txt"),
    (["spidernet", "--out", "{file}"], "plain-file.txt"),
    (["spidernet", "--out", "{under_file}"], "plain-file.txt"),
    (["reproduce", "training-free-table1", "--out", "{file}"], "plain-file.txt"),
    (["reproduce", "pup-table2", "--quick", "--out", "{file}"], "plain-file.txt"),
    (["data", "import", "--nats", "{dir}", "--space", "tss", "--out", "{file}"], "plain-file.txt"),
]

CASES = NUMBERS + FILES + OUTPUTS
_NO_TABLE = {"data"}
"""Commands whose cases do not get --data-dir {data} appended."""


def _fill(text: str, files: dict, data) -> str:
    out = text.replace("{data}", str(data))
    for name, path in files.items():
        out = out.replace("{" + name + "}", str(path))
    return out


def _case_id(case) -> str:
    argv, _ = case
    return " ".join(argv)[:80]


def test_the_corpus_is_large_and_covers_every_command():
    from nasbench_eval.cli import COMMANDS

    assert len(CASES) >= 150
    assert {c.replace("_", "-") for c in COMMANDS} - {"info"} <= {argv[0] for argv, _ in CASES}
    assert "info" in {argv[0] for argv, _ in FILES}


class _TooSlow(BaseException):
    """Raised by the alarm: a BaseException, so the CLI's last-resort handler cannot swallow it."""


@pytest.fixture
def time_limit():
    """Fail a case that runs longer than CASE_SECONDS: validation must come before the expensive work."""
    def alarm(signum, frame):
        raise _TooSlow(f"still running after {CASE_SECONDS} s: the bad input was not caught before the work")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(CASE_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


CASE_SECONDS = 30


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_bad_input_fails_fast_in_one_line(case, bad, capsys, monkeypatch, tmp_path, time_limit):
    argv, fragment = case
    monkeypatch.chdir(tmp_path)                      # default outputs (out/...) land in a temp folder
    shared_data = tmp_path / "data"                  # an empty data folder: the package data serves the rest
    shared_data.mkdir()
    if "--train-images" in argv:                     # training reads all CIFAR-10 images
        from conftest import FULL_DATA

        if not FULL_DATA:
            pytest.skip("needs all CIFAR-10 images: set $NASBENCH_EVAL_DATA")
        shared_data = Path(FULL_DATA)
    monkeypatch.setenv("NASBENCH_EVAL_DATA", str(shared_data))
    argv = [_fill(a, bad, shared_data) for a in argv]
    if argv[0] not in _NO_TABLE and "--data-dir" not in argv:
        argv += ["--data-dir", str(shared_data)]
    code = main([*argv, "--device", "cpu"] if _takes_device(argv) else argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err
    assert code == 2, f"exit {code}; stderr: {captured.err}"
    assert 1 <= len(lines) <= 3, captured.err
    assert _fill(fragment, bad, shared_data) in captured.err, captured.err
    assert not bad["marker"].exists(), "a hostile pickle ran its payload"


def _takes_device(argv) -> bool:
    return argv[0] in {"correlate", "score", "stage1", "stage1-eval", "stage2", "spidernet"} and "--device" not in argv


@pytest.mark.parametrize("command", ["improvement", "recall"])
def test_conflicting_duplicates_are_averaged_with_a_warning(command, bad, capsys, tmp_path):
    """Spec §0.4 averages a repeated index; scores that disagree are said so on stderr, and the output still comes."""
    out = tmp_path / "plot.png"
    code = main([command, str(bad["conflicting"]), "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0 and out.is_file()
    assert "warning" in captured.err and "index 3" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert json.loads(captured.out)["n_merged"] == 1
