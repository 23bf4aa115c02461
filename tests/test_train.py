"""Stage-1 training: device data, every method's loop, run directories, BN recalibration, evaluation, CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nasbench_eval.cli import main
from nasbench_eval.data import crop_flip
from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.metrics import biased_sampler_probs, kendall_tau
from nasbench_eval.nets.supernet import Supernet
from nasbench_eval.space import Arch
from nasbench_eval.train import (
    METHODS, evaluate_runs, load_run, load_stage1_data, predict_accuracies,
    recalibrate_bn, save_run, train_stage1,
)
from nasbench_eval.train.methods import RSPSBiased

from conftest import STAGE1_TINY as TINY
from conftest import random_split as _split


@pytest.fixture(scope="module")
def data():
    return _split(96, 0), _split(64, 1)


@pytest.fixture(scope="module")
def fake_truth():
    """All 15,625 codes (product order) with a synthetic accuracy: more 3x3 convs and fewer `none` is better."""
    codes = np.array(np.unravel_index(np.arange(5 ** 6), (5,) * 6)).T
    acc = 50 + 5 * (codes == 3).sum(1) - 6 * (codes == 0).sum(1) + 0.01 * np.arange(5 ** 6) / 5 ** 6
    return codes, acc


def _train(method, data, fake_truth, seed=0, **hp):
    return train_stage1(method, seed=seed, data=data, hparams={**TINY, **hp}, device="cpu", ground_truth=fake_truth)


# ----------------------------------------------------------------------------------------- data
def test_crop_flip_is_a_seeded_translation_and_flip():
    x = torch.randint(0, 256, (6, 8, 8, 3), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    out = crop_flip(x, 2, torch.Generator().manual_seed(5))
    assert torch.equal(out, crop_flip(x, 2, torch.Generator().manual_seed(5)))
    padded = torch.nn.functional.pad(x, (0, 0, 2, 2, 2, 2))
    for i in range(6):
        windows = [padded[i, oy:oy + 8, ox:ox + 8] for oy in range(5) for ox in range(5)]
        assert any(torch.equal(out[i], w) or torch.equal(out[i], w.flip(1)) for w in windows)


def test_batches_cover_the_split_once_per_epoch(data):
    train, _ = data
    ys = [y for _, y in train.batches(40, torch.Generator().manual_seed(0), augment=False)]
    assert [len(y) for y in ys] == [40, 40, 16]
    x, _ = next(train.batches(40, torch.Generator().manual_seed(0)))
    assert x.shape == (40, 3, 32, 32) and x.dtype == torch.float32


def test_load_stage1_data_gives_disjoint_class_balanced_halves(full_data):
    train, valid = load_stage1_data("cifar10", data_dir=full_data, device="cpu")
    assert len(train) == len(valid) == 25000
    assert torch.bincount(train.labels).tolist() == [2500] * 10 == torch.bincount(valid.labels).tolist()
    sub, _ = load_stage1_data("cifar10", n_train=300, n_valid=10, data_dir=full_data, device="cpu")
    assert len(sub) == 300
    rows = {bytes(im.numpy()) for im in train.images_u8[:2000]}
    assert all(bytes(im.numpy()) not in rows for im in valid.images_u8[:200])


# ----------------------------------------------------------------------------------------- methods
@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_trains_with_finite_loss_and_reproduces_exactly(method, data, fake_truth):
    a = _train(method, data, fake_truth, seed=3)
    b = _train(method, data, fake_truth, seed=3)
    assert np.isfinite(a.curves["train_loss"]).all()
    assert a.curves["train_loss"] == b.curves["train_loss"]
    assert all(torch.equal(p, q) for p, q in zip(a.supernet.state_dict().values(), b.supernet.state_dict().values()))
    init = Supernet(4, 1, seed=3)
    assert any(not torch.equal(p, q) for p, q in zip(a.supernet.parameters(), init.parameters()))  # weights trained
    probs = a.method.edge_probs()
    np.testing.assert_allclose(probs.sum(1), 1.0)
    if a.method.has_alphas:   # alphas moved away from their seeded init draw (generator seed + 1)
        init = torch.randn(6, 5, generator=torch.Generator().manual_seed(4)) * 1e-3
        assert np.abs(a.method.raw_params() - init.double().numpy()).max() > 1e-4
        np.testing.assert_array_equal(a.method.raw_params(), b.method.raw_params())


def test_schedules_follow_the_papers(data, fake_truth):
    gdas = _train("gdas", data, fake_truth, epochs=2)
    assert gdas.curves["tau"] == [10.0, pytest.approx(10 - 9.9 / 2)]
    minus = _train("darts_minus", data, fake_truth, epochs=2)
    assert minus.curves["beta"] == [1.0, 0.5]
    assert minus.curves["lr"] == [0.025, pytest.approx(0.013)]   # cosine, T_max = epochs
    spos = _train("spos", data, fake_truth, epochs=2, split_epoch=1)
    assert spos.curves["is_split"] == [False, True] and spos.supernet.is_split


def test_unknown_hparam_is_rejected(data):
    with pytest.raises(InvalidParameterError, match="hparam 'tau_max' is not used by method='darts'"):
        train_stage1("darts", data=data, hparams={"tau_max": 3.0}, device="cpu")


def test_biased_sampler_draws_better_archs_than_uniform(fake_truth):
    codes, acc = fake_truth
    net = Supernet(C=4, N=1, seed=0)
    hp = {**METHODS["rsps_biased"].defaults, **TINY}
    biased = RSPSBiased(net, hp, generator=torch.Generator().manual_seed(0), ground_truth=(codes, acc))
    uniform = METHODS["rsps"](net, hp, generator=torch.Generator().manual_seed(0))
    lookup = {tuple(c): a for c, a in zip(codes.tolist(), acc)}
    mean_b = np.mean([lookup[biased.sample_path()] for _ in range(2000)])
    mean_u = np.mean([lookup[uniform.sample_path()] for _ in range(2000)])
    p = biased_sampler_probs(acc)
    assert mean_b > mean_u + 2.0
    assert abs(mean_b - p @ acc) < 1.0 and abs(mean_u - acc.mean()) < 1.0   # spec §6 expectation vs uniform mean


# ----------------------------------------------------------------------------------------- runs
@pytest.mark.parametrize(
    "method,hp", [("darts", {}), ("drnas", {}), ("spos", {"bias_depth": 2}), ("spos", {"epochs": 2, "split_epoch": 1})]
)
def test_run_directory_reloads_to_identical_predictions(method, hp, data, fake_truth, tmp_path):
    res = _train(method, data, fake_truth, **hp)
    save_run(res, tmp_path)
    run = load_run(tmp_path, device="cpu")
    x, _ = data[1].batch(torch.arange(16))
    res.supernet.eval()
    for code in ([3, 1, 2, 4, 0, 3], [2, 2, 3, 3, 1, 4]):
        torch.testing.assert_close(
            run.supernet(x, Arch.from_code(code)), res.supernet(x, Arch.from_code(code)), rtol=0, atol=0
        )
    np.testing.assert_array_equal(run.edge_probs, res.method.edge_probs())
    assert json.loads((tmp_path / "config.json").read_text())["hparams"]["epochs"] == res.config["hparams"]["epochs"]
    if res.method.has_alphas:
        np.testing.assert_array_equal(run.alphas, res.method.raw_params())
        assert len(run.curves["edge_probs"]) == res.config["hparams"]["epochs"]


def test_load_run_names_missing_files(tmp_path):
    from nasbench_eval.exceptions import DataNotFoundError
    with pytest.raises(DataNotFoundError, match="config.json"):
        load_run(tmp_path)


# ----------------------------------------------------------------------------------------- evaluation
def test_bn_recalibration_changes_running_stats_only(data):
    net = Supernet(C=4, N=1, seed=0).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    arch = Arch.from_code([3, 3, 3, 3, 3, 3])
    recalibrate_bn(net, arch, data[0].fixed_batches(32, 2, seed=0))
    after = net.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(
        k.rsplit(".", 1)[1] in ("running_mean", "running_var", "num_batches_tracked") for k in changed
    )
    assert not net.training


def test_predictions_do_not_depend_on_evaluation_order(data):
    net = Supernet(C=4, N=1, seed=0)
    archs = [Arch.from_code([3, 3, 1, 2, 4, 3]), Arch.from_code([2, 1, 0, 3, 3, 4])]
    valid = data[1].fixed_batches(32, 2, seed=0)
    bn = data[0].fixed_batches(32, 2, seed=0, augment=True)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    both = predict_accuracies(net, archs, valid, bn_batches=bn)
    alone = predict_accuracies(net, archs[1:], valid, bn_batches=bn)
    assert both[1] == alone[0] and 0 <= both.min() and both.max() <= 100
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in state.items())   # BN state restored


def test_evaluate_runs_end_to_end(data, fake_truth, tmp_path, full_bench):
    dirs = []
    for seed in (0, 1):
        dirs.append(save_run(_train("gdas", data, fake_truth, seed=seed), tmp_path / f"s{seed}"))
    ev = evaluate_runs(dirs, sample=30, bn_batches=1, batch_size=32, n_eval=64, data=data, bench=full_bench)
    assert ev.predictions.shape == (2, 30) and len(set(ev.indices)) == 30
    np.testing.assert_array_equal(ev.y_true, full_bench.accuracies("cifar10", "test_acc", 200)[ev.indices])
    assert set(ev.summary["self_consistency"]) == {"kendall_tau", "spearman_rho", "pearson_r"}
    for run, pred in zip(ev.runs, ev.predictions):
        np.testing.assert_equal(
            run["kendall_tau"], kendall_tau(ev.y_true, pred)
        )  # NaN when a tiny net predicts one value
        assert len(run["mass"]["mass"]) == 24 and np.all(np.diff(run["mass"]["mass"]) >= -1e-12)


def test_cli_stage1_and_stage1_eval(tmp_path, full_data, capsys):
    common = ["--data-dir", str(full_data), "--json"]
    args = ["stage1", "--method", "rsps", "--epochs", "1", "--cells-per-stage", "1", "--channels", "4",
            "--train-images", "64", "--valid-images", "64", "--batch-size", "32", "--device", "cpu", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "r"), *common]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["hparams"]["cells_per_stage"] == 1 and (tmp_path / "r" / "supernet.pt").is_file()
    ev_args = ["stage1-eval", str(tmp_path / "r"), "--sample", "25", "--bn-batches", "1", "--batch-size", "32",
               "--eval-images", "64", "--device", "cpu", *common]
    assert main(ev_args) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n_archs"] == 25 and (tmp_path / "r" / "stage1_eval" / "improvement.png").is_file()
    assert main(["stage1", "--method", "darts", "--bias-depth", "1", "--out", str(tmp_path / "x"), *common]) == 2
    assert "bias_depth" in capsys.readouterr().err


@pytest.mark.gpu
def test_gpu_training_keeps_data_and_supernet_on_the_device(full_data):
    res = train_stage1("gdas", data_dir=full_data, n_train=512, n_valid=512, hparams=TINY, device="cuda")
    assert next(res.supernet.parameters()).is_cuda and np.isfinite(res.curves["train_loss"]).all()
