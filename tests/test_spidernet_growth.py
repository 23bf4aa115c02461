"""SpiderNet Algorithm 1 (NTK-LRC mutation selection) on tiny slim models."""
from __future__ import annotations

import copy

import pytest
import torch

from nasbench_eval.proxies.linear_regions import random_patches
from nasbench_eval.spidernet import Candidate, SpiderNet, paired_scores, param_bytes, select_mutation
from nasbench_eval.spidernet.growth import _pick, edge_bytes


@pytest.fixture(scope="module")
def inputs():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 6, 6, generator=g)
    return x, random_patches(x, 120, generator=g)


def test_good_means_ntk_not_up_and_lrc_not_down():
    assert Candidate((0, 0, 1), 5.0, 5.0, 10.0, 10.0).good               # non-strict on both
    assert not Candidate((0, 0, 1), 5.1, 5.0, 11.0, 10.0).good
    assert not Candidate((0, 0, 1), 4.0, 5.0, 9.0, 10.0).good
    c = Candidate((0, 0, 1), 4.0, 5.0, 12.0, 10.0)
    assert c.d_ntk == pytest.approx(-0.2) and c.d_lrc == pytest.approx(0.2)


def test_pick_maximizes_joint_rank_of_good_candidates_and_checks_memory():
    net = SpiderNet(C=2, reductions=1, seed=0)
    found = (
        Candidate((0, 0, 1), 1.0, 9.0, 99.0, 10.0),                      # good, best in both deltas
        Candidate((1, 0, 2), 8.0, 9.0, 11.0, 10.0),
        Candidate((1, 2, 3), 0.5, 9.0, 50.0, 100.0),                     # LRC down: not good despite NTK
        Candidate((1, 1, 2), 9.0, 9.0, 10.0, 10.0),
    )
    sel = _pick(net, found, None)
    assert sel.edge == (0, 0, 1) and sel.candidates == found
    assert _pick(net, found[2:3], None).edge is None
    need = param_bytes(net) + 2 * edge_bytes(net, (0, 0, 1))
    assert _pick(net, found, need + 1).edge == (0, 0, 1)
    tight = _pick(net, found, need)                                       # s(M) + 2 s(e*) < s_max is strict
    assert tight.edge is None and "max_bytes" in tight.reason


def test_off_model_of_a_pair_equals_the_model_without_the_new_edges():
    slim = SpiderNet(C=4, reductions=1, seed=0).slim(1)
    x = torch.randn(6, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    on_out, off_out = paired_scores(
        slim, (1, 0, 2), x, lambda n, x: n(x).detach(), init="kaiming_normal_fan_in", seed=4
    )
    plain = copy.deepcopy(slim)                                           # rebuild S'_on, then delete e', e''
    new = plain.mutate((1, 0, 2), seed=4)
    plain.reset_parameters("kaiming_normal_fan_in", generator=torch.Generator().manual_seed(4))
    for e in new:
        for op in list(plain.edge_module(e).ops):
            plain.delete_op((*e, op))
    assert torch.allclose(plain.train()(x), off_out, atol=1e-6)
    assert not torch.allclose(on_out, off_out)


def test_select_mutation_end_to_end(inputs):
    x, patches = inputs
    net = SpiderNet(C=4, reductions=1, seed=0)
    state = copy.deepcopy(net.state_dict())
    sel = select_mutation(net, x, patches, n_good=1, seed=0)
    again = select_mutation(net, x, patches, n_good=1, seed=0)
    assert sel == again                                                    # reproducible by seed
    assert net.edge_ids() == [(0, 0, 1), (0, 1, 2), (1, 0, 2), (1, 1, 2), (1, 2, 3)]   # model untouched
    assert all(torch.equal(v, state[k]) for k, v in net.state_dict().items())
    edges = [c.edge for c in sel.candidates]
    assert len(set(edges)) == len(edges) and set(edges) <= set(net.edge_ids())
    n_good = sum(c.good for c in sel.candidates)
    if sel.edge is None:
        assert n_good == 0 and len(edges) == len(net.edge_ids())
    else:
        assert n_good == 1 and sel.candidates[-1].good and sel.edge == sel.candidates[-1].edge  # stops at n_good
    none = select_mutation(net, x, patches, n_good=1, seed=0, max_bytes=1)
    assert none.edge is None
