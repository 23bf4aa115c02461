"""Stage-2 selectors: prune, valid / synflow / jacob_cov (sample and rank), perturb, the §7.1 baselines, the CLI."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench_eval.cli import main
from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.metrics import biased_sampler_probs
from nasbench_eval.nets.supernet import Supernet
from nasbench_eval.proxies import compute_proxy
from nasbench_eval.space import OPS, Arch
from nasbench_eval.train import (
    DeviceSplit, LoadedRun, load_run, predict_accuracies, recalibrate_bn, save_run, train_stage1,
)
from nasbench_eval.stage2 import selection as stage2
from nasbench_eval.stage2.selection import (
    SELECTORS,
    baseline_run,
    draw_archs,
    make_stage2_data,
    run_selector,
    select_prune,
    stage2_distribution,
    subspace_codes,
)

from conftest import STAGE1_TINY as TINY
from conftest import random_split as _split


@pytest.fixture(scope="module")
def halves():
    return _split(96, 0), _split(64, 1)


@pytest.fixture(scope="module")
def data(halves):
    return make_stage2_data(*halves, batch_size=32, n_eval=64, bn_batches=1, proxy_batch=16)


@pytest.fixture(scope="module")
def darts_dir(halves, tmp_path_factory):
    res = train_stage1("darts", seed=0, data=halves, hparams=TINY, device="cpu")
    return save_run(res, tmp_path_factory.mktemp("darts"))


@pytest.fixture(scope="module")
def fake_truth():
    codes = np.array(np.unravel_index(np.arange(5 ** 6), (5,) * 6)).T
    acc = 50 + 5 * (codes == 3).sum(1) - 6 * (codes == 0).sum(1) + 0.01 * np.arange(5 ** 6) / 5 ** 6
    return codes, acc


def _hand_run(edge_probs, *, space="full", alphas=None, kind="softmax", method="darts") -> LoadedRun:
    net = Supernet(C=4, N=1, space=space, seed=0).eval()
    cfg = {"method": method, "space": space, "dataset": "cifar10", "distribution_kind": kind, "seed": 0}
    return LoadedRun(Path("."), net, cfg, {}, np.asarray(edge_probs, dtype=float), alphas)


def _one_hot(code) -> np.ndarray:
    p = np.zeros((6, 5))
    p[np.arange(6), code] = 1.0
    return p


# ----------------------------------------------------------------------------------------- prune
def test_prune_takes_each_edges_argmax_within_the_subspace():
    # `none` (column 0) is the largest everywhere but lies outside no_none; the subspace argmax must win
    probs = np.array([[.40, .10, .20, .25, .05], [.40, .30, .10, .10, .10], [.40, .05, .05, .10, .40 - 1e-3],
                      [.40, .10, .30, .10, .10], [.40, .00, .25, .35, .00], [.40, .15, .15, .15, .15]])
    probs = probs / probs.sum(1, keepdims=True)
    res = select_prune(_hand_run(probs, space="no_none", alphas=np.log(probs + 1e-9)))
    assert res.arch.code == (3, 1, 4, 2, 3, 1)   # last edge: a tie -> the first op of the subspace
    np.testing.assert_array_equal(res.trajectory["edge_probs"], probs[:, 1:])
    with pytest.raises(InvalidParameterError, match="has no architecture parameters"):
        select_prune(_hand_run(probs, alphas=None))


# ----------------------------------------------------------------------------------------- distributions
def test_one_hot_distribution_draws_its_architecture_every_time():
    code = (3, 0, 2, 4, 1, 3)
    codes, p = stage2_distribution(_hand_run(_one_hot(code)))
    draws = draw_archs(codes, p, 50, seed=7)
    assert (draws == np.array(code)).all()


def test_draws_follow_the_probabilities_and_the_seed():
    codes = subspace_codes("only_conv")
    assert codes.shape == (64, 6) and len({tuple(c) for c in codes.tolist()}) == 64
    p = np.zeros(64)
    p[[0, 5, 9]] = [0.2, 0.5, 0.3]
    draws = draw_archs(codes, p, 20000, seed=1)
    freq = [(draws == codes[i]).all(1).mean() for i in (0, 5, 9)]
    np.testing.assert_allclose(freq, [0.2, 0.5, 0.3], atol=0.015)
    np.testing.assert_array_equal(draw_archs(codes, p, 30, seed=1), draws[:30])
    assert not np.array_equal(draw_archs(codes, p, 30, seed=2), draws[:30])


def test_biased_runs_sample_the_idealised_sampler(fake_truth):
    codes, acc = fake_truth
    run = _hand_run(np.full((6, 5), 0.2), kind="biased", method="rsps_biased")
    got_codes, p = stage2_distribution(run, ground_truth=(codes, acc))
    np.testing.assert_array_equal(got_codes, codes)
    np.testing.assert_allclose(p, biased_sampler_probs(acc))
    draws = draw_archs(got_codes, p, 400, seed=0)
    lookup = {tuple(c): a for c, a in zip(codes.tolist(), acc)}
    assert np.mean([lookup[tuple(d)] for d in draws.tolist()]) > acc.mean() + 2.0


# ----------------------------------------------------------------------------------------- sample and rank
def _independent_scores(selector, run, draws, data, seed):
    out = []
    for code in draws:   # one arch at a time, straight through the public building blocks
        arch = Arch.from_code(code)
        if selector == "valid":
            out.append(predict_accuracies(run.supernet, [arch], data.valid, bn_batches=data.bn)[0])
        else:
            out.append(compute_proxy(selector, run.supernet.extract(arch), data.proxy, device="cpu", seed=seed))
    return np.array(out)


@pytest.mark.parametrize("selector", ["valid", "synflow", "jacob_cov"])
def test_sampled_selectors_pick_the_argmax_of_their_scores(selector, darts_dir, data):
    run = load_run(darts_dir, device="cpu")
    res = run_selector(selector, run, seed=3, n_samples=5, data=data)
    draws = np.array(res.trajectory["draws"])
    codes, p = stage2_distribution(run)
    np.testing.assert_array_equal(draws, draw_archs(codes, p, 5, seed=3))
    expected = _independent_scores(selector, run, draws, data, seed=3)
    np.testing.assert_allclose(res.trajectory["scores"], expected, rtol=1e-6)
    best = int(np.nanargmax(expected))
    assert res.trajectory["selected_draw"] == best and res.arch.code == tuple(draws[best])
    again = run_selector(selector, run, seed=3, n_samples=5, data=data)
    assert again.arch == res.arch and again.trajectory["scores"] == res.trajectory["scores"]


def _colour_split(n: int, seed: int) -> DeviceSplit:
    """Flat-colour ramps: unlike noise, different paths of an untrained supernet classify them differently."""
    g = torch.Generator().manual_seed(seed)
    colour = torch.randint(0, 256, (n, 1, 1, 3), generator=g).float().expand(n, 32, 32, 3)
    ramp = torch.linspace(0, 1, 32).view(1, 1, 32, 1) * torch.rand(n, 1, 1, 1, generator=g) * 2
    return DeviceSplit(
        (colour * ramp).clamp(0, 255).to(torch.uint8), torch.randint(0, 10, (n,), generator=g), "cifar10"
    )


def test_valid_selects_the_draw_that_labelled_the_validation_images():
    run = _hand_run(np.full((6, 5), 0.2))
    with torch.no_grad():   # sharper logits, so that paths disagree
        run.supernet.classifier.bias.zero_()
        run.supernet.classifier.weight.mul_(10)
    data = make_stage2_data(_colour_split(96, 0), _colour_split(64, 1), batch_size=32, n_eval=64, bn_batches=1)
    draws = draw_archs(*stage2_distribution(run), 8, seed=3)
    target = Arch.from_code(draws[2])
    net = copy.deepcopy(run.supernet)
    recalibrate_bn(net, target, data.bn)
    with torch.no_grad():
        labelled = [(x, net.eval()(x, target).argmax(1)) for x, _ in data.valid]
    data = stage2.Stage2Data(labelled, data.bn, data.proxy)
    res = run_selector("valid", run, seed=3, n_samples=8, data=data)
    scores = np.array(res.trajectory["scores"])
    np.testing.assert_array_equal(scores, _independent_scores("valid", run, draws, data, seed=3))
    assert scores[2] == 100.0 and (scores[:2] < 100).all()   # the target path is the first perfect draw
    assert res.trajectory["selected_draw"] == 2 and res.arch == target


def test_ties_go_to_the_earliest_draw_and_all_nan_selects_nothing(monkeypatch, data):
    run = _hand_run(np.full((6, 5), 0.2))
    monkeypatch.setattr(stage2, "score_valid", lambda run, codes, data: np.full(len(codes), 7.0))
    res = run_selector("valid", run, seed=0, n_samples=6, data=data)
    assert res.trajectory["selected_draw"] == 0 and res.arch.code == tuple(res.trajectory["draws"][0])
    monkeypatch.setattr(stage2, "score_valid", lambda run, codes, data: np.full(len(codes), np.nan))
    assert run_selector("valid", run, seed=0, n_samples=6, data=data).arch is None


# ----------------------------------------------------------------------------------------- perturb
def test_perturb_keeps_the_op_whose_removal_hurts_most(monkeypatch, data):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), size=6)
    value = rng.uniform(
        0, 10, size=(6, 5)
    )  # accuracy = sum_e w[e] . value[e]: masking op j costs w[e, j] * value[e, j]
    calls = []

    def fake_accuracy(net, weights, batches):
        calls.append(weights.clone())
        return float((weights.double().numpy() * value).sum())

    monkeypatch.setattr(stage2, "mixed_accuracy", fake_accuracy)
    res = run_selector("perturb", _hand_run(probs), seed=4, data=data)
    expected = (probs * value).argmax(1)
    assert res.arch.code == tuple(int(c) for c in expected)
    steps = res.trajectory["steps"]
    assert (
        sorted(res.trajectory["edge_order"]) == list(range(6))
        and [s["edge"] for s in steps] == res.trajectory["edge_order"]
    )
    assert len(calls) == 30 and all(len(s["accuracy_without"]) == 5 for s in steps)
    for done, s in enumerate(steps):   # decided edges are one-hot in every later evaluation
        e = s["edge"]
        assert s["kept"] == s["ops"][int(np.argmin(s["accuracy_without"]))]
        for w in calls[5 * (done + 1):]:
            np.testing.assert_array_equal(w[e].numpy(), np.eye(5, dtype=np.float32)[expected[e]])
    assert (
        run_selector("perturb", _hand_run(probs), seed=5, data=data).trajectory["edge_order"]
        != res.trajectory["edge_order"]
    )


def test_perturb_on_a_real_supernet_ends_with_one_op_per_edge(darts_dir, data):
    run = load_run(darts_dir, device="cpu")
    state = {k: v.clone() for k, v in run.supernet.state_dict().items()}
    res = run_selector("perturb", run, seed=0, data=data)
    assert len(res.arch.code) == 6 and len(res.trajectory["steps"]) == 6
    assert all(0 <= a <= 100 for s in res.trajectory["steps"] for a in s["accuracy_without"])
    assert all(torch.equal(v, run.supernet.state_dict()[k]) for k, v in state.items())
    assert run_selector("perturb", run, seed=0, data=data).arch == res.arch


# ----------------------------------------------------------------------------------------- baselines
def test_baselines_share_or_reset_weights_and_switch_the_distribution(halves, fake_truth, tmp_path):
    res = train_stage1("rsps_biased", seed=0, data=halves, hparams=TINY, device="cpu", ground_truth=fake_truth)
    run = load_run(save_run(res, tmp_path), device="cpu")
    x = halves[1].batch(torch.arange(8))[0]
    arch = Arch.from_code([3, 3, 2, 1, 4, 3])
    out = {name: baseline_run(name, run, seed=1) for name in stage2.BASELINES}
    with torch.no_grad():
        ref = run.supernet(x, arch)
        assert torch.equal(out["R_I"].supernet(x, arch), ref) and torch.equal(out["R_U"].supernet(x, arch), ref)
        assert not torch.equal(out["N_U"].supernet(x, arch), ref)
    assert [out[n].config["distribution_kind"] for n in stage2.BASELINES] == ["biased", "uniform", "biased", "uniform"]
    np.testing.assert_allclose(stage2_distribution(out["R_U"])[1], 1 / 5 ** 6)
    _, p_nu = stage2_distribution(out["N_U"])
    assert not np.allclose(p_nu, 1 / 5 ** 6) and np.allclose(p_nu, 1 / 5 ** 6, rtol=0.05)
    np.testing.assert_allclose(
        stage2_distribution(out["N_I"], ground_truth=fake_truth)[1], biased_sampler_probs(fake_truth[1])
    )
    with pytest.raises(InvalidParameterError, match="not 'rsps_biased'"):
        baseline_run("R_U", _hand_run(np.full((6, 5), 0.2)))


# ----------------------------------------------------------------------------------------- CLI
def test_cli_stage2_prune_reports_ground_truth_and_regret(darts_dir, full_data, full_bench, capsys):
    assert main(["stage2", str(darts_dir), "--selector", "prune", "--data-dir", str(full_data), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    run = load_run(darts_dir, device="cpu")
    assert Arch.from_str(out["arch"]) == select_prune(run).arch and out["selector"] == "prune"
    assert out["index"] == full_bench.index_of(out["arch"])
    for ds in ("cifar10", "cifar100", "ImageNet16-120"):
        assert out["test_acc"][ds] == full_bench.query(out["index"], dataset=ds, metric="test_acc", epochs=200)
    best = full_bench.accuracies("cifar10", "test_acc", 200).max()
    assert out["regret"] == pytest.approx(best - out["test_acc"]["cifar10"], abs=1e-9) and out["seconds"] >= 0
    assert main(["stage2", str(darts_dir), "--selector", "prune", "--data-dir", str(full_data)]) == 0
    assert "regret" in capsys.readouterr().out


def test_cli_stage2_bad_input_exits_2(darts_dir, full_data, tmp_path, capsys):
    assert main(["stage2", str(darts_dir), "--selector", "best", "--data-dir", str(full_data)]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["stage2", str(tmp_path / "nope"), "--selector", "prune", "--data-dir", str(full_data)]) == 2
    assert "nope' is not a folder" in capsys.readouterr().err
    assert set(SELECTORS) == {"prune", "valid", "synflow", "jacob_cov", "perturb"}


def test_selectors_reject_unknown_keywords_and_accept_the_shared_ones():
    probs = np.full((6, 5), 0.2)
    probs[:, 3] = 0.6
    run = _hand_run(probs, alphas=np.log(probs))
    for call in (lambda: run_selector("valid", run, seed=0, n_sample=3),
                 lambda: SELECTORS["prune"](run, finetune_epoch=1), lambda: run_selector("perturb", run, lr=0.1)):
        with pytest.raises(InvalidParameterError, match="is not a selector option; expected some of"):
            call()
    # prune uses none of the shared keywords: they are accepted and change nothing
    assert run_selector("prune", run, seed=9, n_samples=3, finetune_epochs=2).arch == select_prune(run).arch


# --------------------------------------------------------------------------------------- perturb fine-tuning (DARTS-PT)
@pytest.fixture(scope="module")
def small_data(halves):
    """One valid batch of 16 images: perturb's 30 mixed evaluations stay cheap."""
    return make_stage2_data(*halves, batch_size=16, n_eval=16, bn_batches=1, proxy_batch=16)


def _recording_accuracy(monkeypatch):
    """Wrap mixed_accuracy: keep a copy of the weights of the net it was called with, then measure for real."""
    seen, real = [], stage2.mixed_accuracy

    def record(net, weights, batches):
        seen.append(torch.cat([p.detach().flatten() for p in net.parameters()]).clone())
        return real(net, weights, batches)
    monkeypatch.setattr(stage2, "mixed_accuracy", record)
    return seen


def test_perturb_finetuning_trains_a_copy_between_decisions(monkeypatch, darts_dir, small_data):
    run = load_run(darts_dir, device="cpu")
    state = {k: v.clone() for k, v in run.supernet.state_dict().items()}
    original = torch.cat([p.detach().flatten() for p in run.supernet.parameters()])
    seen = _recording_accuracy(monkeypatch)
    res = run_selector("perturb", run, seed=0, data=small_data, finetune_epochs=1)
    assert len(seen) == 30   # 6 edges x 5 ops of the full space
    assert all(torch.equal(w, original) for w in seen[:5])            # the first decision sees the trained weights
    assert all(not torch.equal(w, original) for w in seen[5:])        # every later one sees fine-tuned weights
    assert not torch.equal(seen[5], seen[10])                         # which keep training between decisions
    assert all(torch.equal(v, run.supernet.state_dict()[k]) for k, v in state.items())   # the caller's net is untouched
    steps = res.trajectory["steps"]
    assert [("finetune_loss" in s) for s in steps] == [True] * 5 + [False]
    assert all(np.isfinite(s["finetune_loss"]) for s in steps[:5])
    assert res.trajectory["finetune"] == {"epochs": 1, "lr": pytest.approx(0.0025), "batch_size": 32}
    assert len(res.arch.code) == 6 and all(s["kept"] in s["ops"] for s in steps)
    assert res.arch.code == tuple(OPS.index(s["kept"]) for s in sorted(steps, key=lambda s: s["edge"]))
    seen.clear()
    again = run_selector("perturb", run, seed=0, data=small_data, finetune_epochs=1)
    assert again.arch == res.arch and again.trajectory == res.trajectory     # deterministic by seed


def test_perturb_without_finetuning_is_unchanged(monkeypatch, darts_dir, small_data):
    run = load_run(darts_dir, device="cpu")
    plain = run_selector("perturb", run, seed=2, data=small_data)
    original = torch.cat([p.detach().flatten() for p in run.supernet.parameters()])
    seen = _recording_accuracy(monkeypatch)
    zero = run_selector("perturb", run, seed=2, data=small_data, finetune_epochs=0)
    assert all(torch.equal(w, original) for w in seen)
    assert zero.arch == plain.arch and zero.trajectory == plain.trajectory and plain.trajectory["finetune"] is None
    assert all("finetune_loss" not in s for s in plain.trajectory["steps"])


def test_perturb_finetuning_bad_input(darts_dir, data):
    run = load_run(darts_dir, device="cpu")
    with pytest.raises(InvalidParameterError, match="finetune_epochs"):
        run_selector("perturb", run, seed=0, data=data, finetune_epochs=-1)
    with pytest.raises(InvalidParameterError, match="data.train is None"):
        run_selector("perturb", run, seed=0, data=stage2.Stage2Data(data.valid, data.bn, data.proxy), finetune_epochs=1)
    with pytest.raises(InvalidParameterError, match="finetune_lr"):
        run_selector("perturb", run, seed=0, data=data, finetune_epochs=1, finetune_lr=0.0)


def test_cli_stage2_perturb_with_finetuning(darts_dir, full_data, capsys):
    argv = ["stage2", str(darts_dir), "--selector", "perturb", "--finetune-epochs", "1", "--finetune-lr", "0.01",
            "--train-images", "32", "--valid-images", "16", "--eval-images", "16", "--batch-size", "16",
            "--device", "cpu", "--data-dir", str(full_data), "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["trajectory"]["finetune"] == {"epochs": 1, "lr": 0.01, "batch_size": 32}
    assert len(out["trajectory"]["steps"]) == 6 and Arch.from_str(out["arch"]).code == tuple(
        OPS.index(s["kept"]) for s in sorted(out["trajectory"]["steps"], key=lambda s: s["edge"]))
