"""TE-NAS pruning-by-importance search (nasbench_eval.search.pruning), GitHub issue 6.

Tiny settings throughout: ImageNet16-120-sized random images (16x16), NTK batch 3 with 1 repeat,
40 LR patches; the measures are real (ntk_cond, lr_count) unless a test patches them.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench_eval.device import derive_seed
from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.nets import build_network
from nasbench_eval.proxies.base import evaluate
from nasbench_eval.registry import SEARCHERS
from nasbench_eval.search import pruning
from nasbench_eval.search.pruning import (
    PruningResult, importance, relative_delta, remove_op, subnet_with_weights, tenas_prune,
)
from nasbench_eval.space import OPS, Arch

DATASET = "ImageNet16-120"
TINY = {"ntk_options": {"batch_size": 3, "repeats": 1}, "lr_options": {"batch_size": 40, "n_batches": 1, "repeats": 1}}


def _images(n: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed))


def _run(bench, **kw) -> PruningResult:
    args = {"dataset": DATASET, "seed": 0, "device": "cpu", "bench": bench, "batch": _images(), **TINY, **kw}
    return tenas_prune(**args)


def _log(result: PruningResult) -> list:
    """Everything a run records except wall times."""
    return [(r.round, r.ops, r.kappa, r.regions, r.candidates, r.pruned) for r in result.rounds]


@pytest.fixture(scope="module")
def tiny_run(full_bench) -> PruningResult:
    return _run(full_bench)


# ---- whole runs ---------------------------------------------------------------------------------------
def test_pruning_ends_with_one_op_per_edge_and_a_benchmark_arch(tiny_run, full_bench):
    final = tiny_run.rounds[-1]
    assert len(tiny_run.rounds) == 5 and tiny_run.config["n_rounds"] == 4        # 5 ops -> 1: 4 rounds
    assert all(len(ops) == 1 for ops in final.ops) and final.candidates == ()
    arch = Arch(tuple(ops[0] for ops in final.ops))
    assert tiny_run.arch == str(arch) and full_bench.index_of(arch) == tiny_run.index
    assert tiny_run.accuracy == pytest.approx(full_bench.query(tiny_run.index, "cifar10", "test_acc", 200))
    assert tiny_run.searcher == "tenas_pruning" and tiny_run.wall_time > 0 and len(tiny_run.trajectory) == 1


def test_each_round_removes_exactly_one_op_per_edge(tiny_run):
    for before, after in zip(tiny_run.rounds, tiny_run.rounds[1:]):
        assert len(before.candidates) == sum(len(ops) for ops in before.ops)     # every op of every edge scored
        for e, (ops, kept, op) in enumerate(zip(before.ops, after.ops, before.pruned)):
            assert op in ops and len(kept) == len(ops) - 1 and kept == tuple(o for o in ops if o != op)
            on_edge = [c for c in before.candidates if c.edge == e]
            assert [c.op for c in on_edge if c.is_pruned] == [op]
            assert min(c.importance for c in on_edge) == next(c.importance for c in on_edge if c.is_pruned)


def test_round_log_holds_kappa_and_regions_of_every_candidate(tiny_run):
    frame = tiny_run.rounds_frame()
    assert len(frame) == 30 + 24 + 18 + 12
    assert (frame["kappa"] >= 1).all() and frame["regions"].between(1, 40).all()
    first = tiny_run.rounds[0]
    c = first.candidates[0]
    assert c.delta_kappa == pytest.approx(round((first.kappa[0] - c.kappa[0]) / first.kappa[0], 3))
    assert c.delta_regions == pytest.approx(round((first.regions[0] - c.regions[0]) / first.regions[0], 3))


def test_same_seed_reproduces_and_other_seed_differs(full_bench):
    three = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3")
    first, again = _run(full_bench, start_ops=three), _run(full_bench, start_ops=three)
    assert _log(again) == _log(first) and again.arch == first.arch and len(first.rounds) == 3
    two = ("skip_connect", "nor_conv_3x3")
    assert _run(full_bench, seed=1, start_ops=two).rounds[0].kappa != _run(full_bench, start_ops=two).rounds[0].kappa


def test_candidates_share_the_supernet_weights(full_bench):
    ops = ("skip_connect", "nor_conv_3x3")
    res = _run(full_bench, start_ops=ops)
    big = build_network([ops] * 6, C=3, N=1, num_classes=120, init="kaiming_normal_fan_out",
                        seed=derive_seed(0, 0, 0, 0))
    spec = remove_op((ops,) * 6, 4, "nor_conv_3x3")
    sub = subnet_with_weights(big, lambda s: build_network(s, C=3, N=1, num_classes=120, seed=7), spec)
    expected = evaluate("ntk_cond", sub, (_images()[:3], None), device="cpu").value
    got = next(c for c in res.rounds[0].candidates if (c.edge, c.op) == (4, "nor_conv_3x3"))
    assert got.kappa == (pytest.approx(expected, rel=1e-12),)
    assert res.rounds[0].kappa == (
        pytest.approx(evaluate("ntk_cond", big, (_images()[:3], None), device="cpu").value, rel=1e-12),
    )


@pytest.mark.parametrize("repeat_init, is_same", [("same", True), ("new", False)])
def test_repeat_init_controls_weight_redraws(full_bench, repeat_init, is_same):
    opts = {"batch_size": 3, "repeats": 2, "repeat_init": repeat_init, "repeat_data": "same"}
    res = _run(full_bench, start_ops=("skip_connect", "nor_conv_1x1"), ntk_options=opts)
    k = res.rounds[0].kappa
    assert len(k) == 2 and (k[0] == k[1]) == is_same


@pytest.mark.gpu
def test_gpu_measures_match_cpu(full_bench):
    three = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3")
    cpu, gpu = _run(full_bench, start_ops=three), _run(full_bench, start_ops=three, device="cuda")
    rc, rg = cpu.rounds[0], gpu.rounds[0]           # later rounds may differ if a rounded delta flips
    assert rg.kappa == pytest.approx(rc.kappa, rel=1e-5) and rg.regions == rc.regions
    for cc, cg in zip(rc.candidates, rg.candidates):
        assert cg.kappa == pytest.approx(cc.kappa, rel=1e-5) and cg.regions == cc.regions


# ---- the ranking, with the measures replaced by known values --------------------------------------------
def _additive_measures(monkeypatch, a: dict, b: dict):
    """κ(spec) = 1000 + Σ a[e][op], R(spec) = 1000 + Σ b[e][op] over the ops present."""
    def total(table, spec):
        return 1000.0 + sum(table[e][op] for e, ops in enumerate(spec) for op in ops)
    monkeypatch.setattr(pruning, "score_supernet",
                        lambda shared, spec: total(a if shared.name == "ntk_cond" else b, spec))


@pytest.mark.parametrize("ties", ["average", "tenas_ties"])
def test_hand_constructed_round_prunes_the_least_important_op(monkeypatch, full_bench, ties):
    # removing avg_pool lowers κ a little (Δκ > 0) and *adds* regions (ΔR < 0): least important everywhere.
    # nor_conv_3x3 helps κ most but costs the most regions; skip_connect hurts κ when removed.
    a = {"none": 0, "skip_connect": -5, "nor_conv_1x1": 3, "nor_conv_3x3": 10, "avg_pool_3x3": 1}
    b = {"none": 0, "skip_connect": 1, "nor_conv_1x1": 4, "nor_conv_3x3": 10, "avg_pool_3x3": -1}
    _additive_measures(monkeypatch, [a] * 6, [b] * 6)
    res = _run(full_bench, ties=ties)
    assert res.rounds[0].pruned == ("avg_pool_3x3",) * 6


def _oracle(a, b, start):
    """Algorithm 1 on additive measures with distinct values: ordinal positions in sorted lists.

    Equal sums on an edge go to the op with the larger Δκ, as in TE-NAS code (a stable sort of the
    candidates listed by Δκ descending).
    """
    ops, pruned = [list(start) for _ in range(6)], []
    while any(len(o) > 1 for o in ops):
        k0 = 1000 + sum(a[e][o] for e in range(6) for o in ops[e])
        r0 = 1000 + sum(b[e][o] for e in range(6) for o in ops[e])
        cands = [(e, o) for e in range(6) if len(ops[e]) > 1 for o in ops[e]]
        dk = {c: a[c[0]][c[1]] / k0 for c in cands}             # κ(N) − κ(N∖o) = a[e][o]
        dr = {c: b[c[0]][c[1]] / r0 for c in cands}
        by_k = sorted(cands, key=lambda c: -dk[c])
        by_r = sorted(cands, key=lambda c: dr[c])
        s = {c: by_k.index(c) + by_r.index(c) for c in cands}
        step = []
        for e in range(6):
            if len(ops[e]) > 1:
                worst = min((c for c in cands if c[0] == e), key=lambda c: (s[c], by_k.index(c)))
                ops[e].remove(worst[1])
                step.append(worst[1])
            else:
                step.append(None)
        pruned.append(tuple(step))
    return pruned


def test_rounds_follow_algorithm_1_on_known_measures(monkeypatch, full_bench):
    rng = np.random.default_rng(5)
    a = [{op: float(v) for op, v in zip(OPS, rng.normal(size=5))} for _ in range(6)]
    b = [{op: float(v) for op, v in zip(OPS, rng.normal(size=5))} for _ in range(6)]
    _additive_measures(monkeypatch, a, b)
    res = _run(full_bench, ties="average")
    expected = _oracle(a, b, OPS)
    assert [r.pruned for r in res.rounds[:-1]] == expected
    assert len(set(expected)) > 1                          # the case is not trivially the same every round


def test_tenas_code_profile_starts_without_none(monkeypatch, full_bench):
    _additive_measures(monkeypatch, [dict.fromkeys(OPS, 0.0)] * 6, [dict.fromkeys(OPS, 0.0)] * 6)
    res = _run(full_bench, profile="tenas_code", ntk_options={"batch_size": 3, "repeats": 1})
    assert res.rounds[0].ops == (tuple(op for op in OPS if op != "none"),) * 6 and len(res.rounds) == 4


# ---- building blocks --------------------------------------------------------------------------------------
def test_subnet_without_one_op_equals_the_network_of_that_set():
    big = build_network([OPS] * 6, C=2, N=1, init="kaiming_normal_fan_in", seed=3)
    spec = remove_op((OPS,) * 6, 2, "nor_conv_3x3")
    sub = subnet_with_weights(big, lambda s: build_network(s, C=2, N=1, seed=11), spec)
    params = dict(big.named_parameters())
    assert all(torch.equal(p, params[name]) for name, p in sub.named_parameters())
    assert "cells.0.edges.2.ops.nor_conv_3x3.1.weight" not in dict(sub.named_parameters())
    x = torch.randn(4, 2, 8, 8, generator=torch.Generator().manual_seed(1))
    rest = [op for op in OPS if op != "nor_conv_3x3"]
    with torch.no_grad():
        want = sum(big.cells[0].edges[2].ops[op](x) for op in rest) / len(rest)
        torch.testing.assert_close(sub.cells[0].edges[2](x), want, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(sub.cells[0].edges[0](x), big.cells[0].edges[0](x), rtol=0, atol=0)
        assert not torch.allclose(sub.cells[0].edges[2](x), big.cells[0].edges[2](x))


def test_two_op_edge_pruned_to_its_remaining_op():
    pair = ("skip_connect", "nor_conv_1x1")
    big = build_network([pair] * 6, C=2, N=1, seed=0)
    sub = subnet_with_weights(
        big, lambda s: build_network(s, C=2, N=1, seed=5), remove_op((pair,) * 6, 0, "skip_connect")
    )
    x = torch.randn(3, 2, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(
            sub.cells[0].edges[0](x), big.cells[0].edges[0].ops["nor_conv_1x1"](x), rtol=0, atol=0
        )


def test_subnet_with_an_op_the_supernet_lacks_raises():
    big = build_network([("skip_connect",)] * 6, C=2, N=1, seed=0)
    with pytest.raises(InvalidParameterError, match="spec"):
        subnet_with_weights(big, lambda s: build_network(s, C=2, N=1, seed=0), [("nor_conv_1x1",)] * 6)


def test_relative_delta_limits_for_infinite_kappa():
    out = relative_delta(np.array([4.0, 4.0, np.inf, np.inf]), np.array([1.0, np.inf, 2.0, np.inf]))
    assert out.tolist() == [0.75, -np.inf, np.inf, 0.0]


def test_importance_ranks_and_tenas_ties():
    rk, rr = importance([0.2, 0.9, -0.3], [0.5, -0.1, 0.0], ties="average")
    assert rk.tolist() == [1.0, 0.0, 2.0] and rr.tolist() == [2.0, 0.0, 1.0]
    rk, _ = importance([0.1234, 0.1231, 0.5], [0.0, 0.0, 0.0], ties="tenas_ties")
    assert rk.tolist() == [1.0, 1.0, 0.0]                   # equal at 3 significant figures: one dense rank


def test_registered_as_searcher():
    assert SEARCHERS.get("tenas_pruning").fn is tenas_prune


# ---- bad input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, param", [
    ({"dataset": "cifar1000"}, "dataset"),
    ({"seed": -1}, "seed"),
    ({"ties": "dense"}, "ties"),
    ({"start_ops": ["conv"]}, "start_ops"),
    ({"start_ops": []}, "start_ops"),
    ({"start_ops": ["none", "none"]}, "start_ops"),
    ({"profile": "nope"}, "profile"),
    ({"ntk_options": {"bogus": 1}}, "bogus"),
    ({"ntk_options": "big"}, "ntk_options"),
    ({"lr_options": {"network": "full"}}, "network"),
    ({"batch": torch.zeros(6, 3, 32, 32)}, "batch"),
    ({"batch": _images(2)}, "batch"),
    ({"device": "tpu"}, "device"),
])
def test_bad_input_raises(full_bench, kw, param):
    with pytest.raises(InvalidParameterError, match=param):
        _run(full_bench, **kw)
