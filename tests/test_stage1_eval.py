"""Batched and cached Stage-1 evaluation: equal to one architecture at a time, resumable, keyed by every setting."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from nasbench_eval.cli import main
from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.nets.supernet import SUBSPACES, Supernet
from nasbench_eval.train import (
    GroupedSupernet, PredictionStore, evaluate_runs, iter_group_predictions, predict_accuracies, predict_cached,
    recalibrate_bn, save_run, train_stage1,
)
from nasbench_eval.train import batched_eval, evaluate
from nasbench_eval.stage2 import make_stage2_data
from nasbench_eval.train.prediction_store import STORE_NAME, context_key, prediction_context

from conftest import STAGE1_TINY as TINY
from conftest import random_split as _split

SPECIAL = {
    "full": [(0,) * 6, (1,) * 6, (3, 0, 1, 0, 4, 0)],
    "no_none": [(1,) * 6, (4, 1, 1, 2, 1, 4)],
    "only_conv": [(3,) * 6],
}
"""Archs every equivalence test includes: all-`none`, all-skip, and `none` on some edges."""


@pytest.fixture(scope="module")
def batches():
    """(valid, bn): two batches of 32 each, channels_last as `DeviceSplit` makes them; a per-image colour offset makes
    the tiny nets' predictions depend on the image."""
    g = torch.Generator().manual_seed(0)

    def batch():
        x = torch.randn(32, 3, 32, 32, generator=g) + 1.5 * torch.randn(32, 3, 1, 1, generator=g)
        return x.contiguous(memory_format=torch.channels_last), torch.randint(0, 10, (32,), generator=g)
    return [batch(), batch()], [batch(), batch()]


def _supernet(space="full", *, bias_depth=0, split=False, seed=0):
    """A C=4, N=1 supernet whose parameters and BN statistics are all perturbed: bias tables and split copies
    then matter, and a recalibration that reset the statistics instead of starting from them would show."""
    net = Supernet(C=4, N=1, space=space, bias_depth=bias_depth, seed=0)
    if split:
        net.split()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in net.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            p.add_(0.3 * noise) if name.endswith(".bias") and ".edges." in name else p.mul_(1 + 0.3 * noise)
        for name, b in net.named_buffers():
            if name.endswith("running_mean"):
                b.add_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.mul_(torch.rand(b.shape, generator=g) + 0.5)
    return net


def _archs(space, n=7, seed=0):
    ops = SUBSPACES[space]
    rng = np.random.default_rng(seed)
    drawn = [tuple(int(o) for o in rng.choice(ops, 6)) for _ in range(n - len(SPECIAL[space]))]
    return SPECIAL[space] + drawn


def _single_path(net, arch, bn_batches, x):
    """Reference: recalibrate a copy on its own, then eval-mode logits and its BN statistics."""
    ref = copy.deepcopy(net)
    if bn_batches:
        recalibrate_bn(ref, arch, bn_batches)
    ref.eval()
    with torch.no_grad():
        return ref(x, arch), {k: v for k, v in ref.state_dict().items() if k.rsplit(".", 1)[1] in
                              ("running_mean", "running_var", "num_batches_tracked")}


_REFERENCE = {}


def _reference(space, recal, batches):
    if (space, recal) not in _REFERENCE:
        valid, bn = batches
        bn_batches = bn if recal else None
        _REFERENCE[space, recal] = predict_accuracies(
            _supernet(space), _archs(space), valid, bn_batches=bn_batches, batched=False
        )
    return _REFERENCE[space, recal]


# ----------------------------------------------------------------------------------------- equivalence
@pytest.mark.parametrize("space", list(SUBSPACES))
@pytest.mark.parametrize("group_size", [1, 3, 7])
@pytest.mark.parametrize("recal", [True, False])
def test_batched_accuracies_equal_one_at_a_time(space, group_size, recal, batches):
    # 7 archs: group size 3 does not divide them; 7 is a single group
    valid, bn = batches
    got = predict_accuracies(
        _supernet(space), _archs(space), valid, bn_batches=bn if recal else None, group_size=group_size
    )
    ref = _reference(space, recal, batches)
    np.testing.assert_array_equal(got, ref)
    assert len(set(ref)) >= 2   # the archs are told apart, so a mix-up of rows between archs would show


@pytest.mark.parametrize("space,kw", [("full", {}), ("no_none", {}), ("only_conv", {}), ("full", {"bias_depth": 1}),
                                      ("full", {"bias_depth": 3}), ("no_none", {"split": True})])
def test_batched_logits_and_bn_statistics_equal_single_path(space, kw, batches):
    valid, bn = batches
    net, archs, x = _supernet(space, **kw), _archs(space), valid[0][0]
    group = GroupedSupernet(net)
    group.load(archs)
    group.recalibrate(bn)
    logits = group.logits(x)
    for g, arch in enumerate(archs):
        want_logits, want_bn = _single_path(net, arch, bn, x)
        torch.testing.assert_close(logits[g], want_logits)
        got_bn = group.bn_state(g)
        assert got_bn.keys() == want_bn.keys()
        for k in want_bn:   # reached modules moved from the saved statistics, unreached ones kept them
            torch.testing.assert_close(got_bn[k], want_bn[k], msg=k)


@pytest.mark.parametrize("kw", [{"bias_depth": 2}, {"split": True}])
@pytest.mark.parametrize("group_size", [1, 4])
def test_batched_with_bias_and_split_weights_equals_one_at_a_time(kw, group_size, batches):
    valid, bn = batches
    net, archs = _supernet("full", **kw), _archs("full")
    ref = predict_accuracies(net, archs, valid, bn_batches=bn, batched=False)
    np.testing.assert_array_equal(predict_accuracies(net, archs, valid, bn_batches=bn, group_size=group_size), ref)


def test_prediction_does_not_depend_on_group_partners(batches):
    valid, bn = batches
    net, x = _supernet("full"), valid[0][0]
    target = (3, 1, 0, 2, 4, 3)
    outs = []
    for group_archs in (
        [target],
        [(1,) * 6, target, (0,) * 6],
        [target, (3, 1, 0, 2, 4, 2), (2, 2, 2, 2, 2, 2), (4, 0, 1, 3, 3, 1)],
    ):
        group = GroupedSupernet(net)
        group.load(group_archs)
        group.recalibrate(bn)
        outs.append((group.logits(x)[group_archs.index(target)], group.correct(valid)[group_archs.index(target)]))
    assert all(torch.equal(o[0], outs[0][0]) and o[1] == outs[0][1] for o in outs)


def test_batched_prediction_leaves_the_supernet_untouched(batches):
    valid, bn = batches
    net = _supernet("full", bias_depth=1)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    predict_accuracies(net, _archs("full"), valid, bn_batches=bn, group_size=3)
    assert net.training and all(torch.equal(v, net.state_dict()[k]) for k, v in state.items())


def test_batched_bad_input_is_one_line_invalid_parameter_error(batches):
    valid, _ = batches
    net = _supernet("only_conv")
    for bad, match in (({"group_size": 0}, "group_size"), ({"group_size": 2.5}, "group_size")):
        with pytest.raises(InvalidParameterError, match=match):
            predict_accuracies(net, [(3,) * 6], valid, **bad)
    with pytest.raises(InvalidParameterError, match="outside space='only_conv'"):
        list(iter_group_predictions(net, [(3,) * 6, (0,) * 6], valid))
    with pytest.raises(InvalidParameterError, match="archs is empty"):
        GroupedSupernet(net).load([])
    net.lastact[0].momentum = None
    with pytest.raises(InvalidParameterError, match="momentum=None") as err:
        GroupedSupernet(net)
    assert "\n" not in str(err.value)
    assert predict_accuracies(net, [], valid).shape == (0,)


# ----------------------------------------------------------------------------------------- cache
def _count_passes(monkeypatch, fail_at=None):
    """Count GroupedSupernet.correct calls (one per group); raise KeyboardInterrupt at call `fail_at`."""
    calls = []
    real = batched_eval.GroupedSupernet.correct

    def counted(self, batches):
        calls.append(self.size)
        if fail_at is not None and len(calls) == fail_at:
            raise KeyboardInterrupt
        return real(self, batches)
    monkeypatch.setattr(batched_eval.GroupedSupernet, "correct", counted)
    return calls


def test_predict_cached_resumes_after_interrupt_and_reuses_the_store(batches, tmp_path, monkeypatch):
    valid, bn = batches
    net, archs = _supernet("full"), _archs("full", n=7) + [(1,) * 6]   # a repeated arch is evaluated once
    want = predict_accuracies(net, archs, valid, bn_batches=bn, batched=False)
    with PredictionStore(tmp_path / STORE_NAME) as store:
        calls = _count_passes(monkeypatch, fail_at=2)
        with pytest.raises(KeyboardInterrupt):
            predict_cached(net, archs, valid, bn_batches=bn, store=store, group_size=3)
        assert len(store) == 3                                     # the finished first group was committed
        calls = _count_passes(monkeypatch)
        got = predict_cached(net, archs, valid, bn_batches=bn, store=store, group_size=3)
        assert calls == [3, 1] and got.n_cached == 4  # 4 missing unique archs ran; 4 positions (a repeat) were stored
        np.testing.assert_array_equal(got.acc, want)
        calls = _count_passes(monkeypatch)
        again = predict_cached(net, archs, valid, bn_batches=bn, store=store, group_size=3)
        assert calls == [] and again.n_cached == len(archs)
        np.testing.assert_array_equal(again.acc, want)


def test_prediction_key_changes_with_every_setting(batches):
    valid, bn = batches
    net = _supernet("full")
    base = context_key(prediction_context(net, valid, bn, settings={"seed": 0}))
    assert base == context_key(
        prediction_context(copy.deepcopy(net), [(x.clone(), y) for x, y in valid], bn, settings={"seed": 0})
    )
    other_weights = _supernet("full", seed=5)
    other_stats = copy.deepcopy(net)
    other_stats.stem[1].running_mean.add_(1e-3)
    variants = [
        prediction_context(other_weights, valid, bn, settings={"seed": 0}),
        prediction_context(other_stats, valid, bn, settings={"seed": 0}),   # BN statistics are part of the weights
        prediction_context(net, valid[:1], bn, settings={"seed": 0}),       # n_eval
        prediction_context(net, valid, bn[:1], settings={"seed": 0}),       # bn_batches
        prediction_context(net, valid, None, settings={"seed": 0}),
        prediction_context(net, [(x.flip(0), y.flip(0)) for x, y in valid], bn, settings={"seed": 0}),   # other images
        prediction_context(net, valid, bn, settings={"seed": 1}),
    ]
    keys = [context_key(c) for c in variants]
    assert base not in keys and len(set(keys)) == len(keys)


def test_corrupt_store_is_a_one_line_error(tmp_path):
    from nasbench_eval.exceptions import CorruptDataError
    (tmp_path / STORE_NAME).write_text("not a database" * 100)
    with pytest.raises(CorruptDataError, match="cache=False"):
        PredictionStore(tmp_path / STORE_NAME).get_many("k", ["000000"])


# ----------------------------------------------------------------------------------------- evaluate_runs / CLI
@pytest.fixture(scope="module")
def fake_truth():
    codes = np.array(np.unravel_index(np.arange(5 ** 6), (5,) * 6)).T
    return codes, 50 + 5 * (codes == 3).sum(1) - 6 * (codes == 0).sum(1)


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory, fake_truth):
    data = (_split(96, 0), _split(64, 1))
    root = tmp_path_factory.mktemp("runs")
    runs = {
        space: train_stage1("rsps", seed=0, data=data, space=space, hparams=TINY, device="cpu", ground_truth=fake_truth)
        for space in ("full", "only_conv")
    }
    return data, {space: save_run(res, root / space) for space, res in runs.items()}


def test_evaluate_runs_caches_in_the_run_directory(tiny_runs, full_bench, tmp_path, monkeypatch):
    data, dirs = tiny_runs
    kw = dict(sample=12, bn_batches=1, batch_size=32, n_eval=64, data=data, bench=full_bench, group_size=5)
    calls = _count_passes(monkeypatch)
    first = evaluate_runs([dirs["full"]], **kw)
    assert (dirs["full"] / STORE_NAME).is_file() and calls == [5, 5, 2]
    second = evaluate_runs([dirs["full"]], **kw)
    assert calls == [5, 5, 2] and second.runs[0]["predictions_cached"] == 12
    np.testing.assert_array_equal(second.predictions, first.predictions)
    uncached = evaluate_runs([dirs["full"]], **{**kw, "bn_batches": 0}, cache=False)
    assert uncached.runs[0]["predictions_cached"] is None and len(calls) == 6


def test_stage1_evaluation_and_stage2_see_the_same_batches(tiny_runs, full_bench, monkeypatch):
    """With n_eval < batch_size Stage 2 used to shrink its BN batches to n_eval images (issue 13); now both
    measure on the same valid batches after recalibrating on the same full-size BN batches."""
    data, dirs = tiny_runs
    seen = {}

    def spy(supernet, archs, valid_batches, *, bn_batches=None, **_):
        seen["valid"], seen["bn"] = valid_batches, bn_batches
        raise KeyboardInterrupt
    monkeypatch.setattr(evaluate, "predict_cached", spy)
    with pytest.raises(KeyboardInterrupt):
        evaluate_runs([dirs["full"]], sample=4, bn_batches=2, batch_size=32, n_eval=16, seed=3, data=data,
                      bench=full_bench, cache=False)
    stage2 = make_stage2_data(*data, seed=3, batch_size=32, n_eval=16, bn_batches=2)
    assert [len(y) for _, y in seen["valid"]] == [16] and [len(y) for _, y in seen["bn"]] == [32, 32]
    for ours, theirs in ((seen["valid"], stage2.valid), (seen["bn"], stage2.bn)):
        assert len(ours) == len(theirs)
        for (x1, y1), (x2, y2) in zip(ours, theirs):
            assert torch.equal(x1, x2) and torch.equal(y1, y2)


def test_evaluate_runs_sample_none_covers_the_whole_subspace(tiny_runs, full_bench):
    data, dirs = tiny_runs
    ev = evaluate_runs(
        [dirs["only_conv"]],
        sample=None,
        bn_batches=1,
        batch_size=32,
        n_eval=32,
        data=data,
        bench=full_bench,
        cache=False,
    )
    assert ev.predictions.shape == (1, 64) and len(set(ev.indices)) == 64


def test_cli_stage1_eval_uses_the_cache_and_rejects_bad_group_size(tiny_runs, full_data, tmp_path, capsys):
    _, dirs = tiny_runs
    args = [
        "stage1-eval",
        str(dirs["full"]),
        "--sample",
        "6",
        "--bn-batches",
        "1",
        "--batch-size",
        "32",
        "--eval-images",
        "32",
        "--device",
        "cpu",
        "--group-size",
        "4",
        "--no-progress",
        "--out",
        str(tmp_path),
        "--data-dir",
        str(full_data),
        "--json",
    ]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert (
        second["runs"][0]["predictions_cached"] == 6
        and second["runs"][0]["kendall_tau"] == first["runs"][0]["kendall_tau"]
    )
    for flag, value in (("--group-size", "0"), ("--sample", "-3"), ("--bn-batches", "-1")):
        assert main(["stage1-eval", str(tmp_path / "missing"), flag, value, "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{flag}: '{value}' is out of range" in err


@pytest.mark.gpu
def test_gpu_batched_agrees_with_one_at_a_time(batches):
    # cuDNN may pick other kernels for other row counts: logits agree to float tolerance, accuracies to
    # one image at most
    valid, bn = ([(x.cuda(), y.cuda()) for x, y in part] for part in batches)
    net, archs = _supernet("full", bias_depth=1).cuda(), _archs("full")
    with torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True, allow_tf32=False):
        got = predict_accuracies(net, archs, valid, bn_batches=bn, group_size=4)
        want = predict_accuracies(net, archs, valid, bn_batches=bn, batched=False)
        group = GroupedSupernet(net)
        group.load(archs[:3])
        group.recalibrate(bn)
        logits = group.logits(valid[0][0])
        for g, arch in enumerate(archs[:3]):
            torch.testing.assert_close(logits[g], _single_path(net, arch, bn, valid[0][0])[0], rtol=1e-4, atol=1e-4)
    assert np.abs(got - want).max() <= 100 / 64
