"""The NB201 supernet: path forward equals the stand-alone network, mixtures, subspaces, bias and split weights."""
from __future__ import annotations

import random

import pytest
import torch

from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.nets import build_network
from nasbench_eval.nets.supernet import SUBSPACES, Supernet
from nasbench_eval.space import Arch

X = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def _random_arch(space: str, rng: random.Random) -> Arch:
    return Arch.from_code([rng.choice(SUBSPACES[space]) for _ in range(6)])


@pytest.mark.parametrize("space", list(SUBSPACES))
@pytest.mark.parametrize("training", [False, True])
def test_path_forward_equals_build_network_with_copied_weights(space, training):
    net = Supernet(C=4, N=2, space=space, seed=3).train(training)
    rng = random.Random(0)
    for _ in range(4):
        arch = _random_arch(space, rng)
        standalone = build_network(arch, C=4, N=2, seed=99)  # other weights, then the path's copied in
        standalone.load_state_dict(net.path_state_dict(arch))
        standalone.train(training)
        torch.testing.assert_close(net(X, arch), standalone(X), rtol=0, atol=0)


def test_seeded_weights_are_reproducible_and_seed_dependent():
    a, b, c = Supernet(C=4, N=1, seed=0), Supernet(C=4, N=1, seed=0), Supernet(C=4, N=1, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_every_cell_owns_its_ops_and_topology_is_shared():
    net = Supernet(C=4, N=2, seed=0)
    cells = [m for m in net.cells if m.__class__.__name__ == "SuperCell"]
    assert len(cells) == 6
    w0 = cells[0].edges[0].ops["nor_conv_3x3"][1].weight
    w1 = cells[1].edges[0].ops["nor_conv_3x3"][1].weight
    assert w0.data_ptr() != w1.data_ptr() and not torch.equal(w0, w1)


def test_one_hot_weights_equal_single_path():
    net = Supernet(C=4, N=1, seed=0).eval()
    arch = Arch.from_code([3, 1, 2, 4, 0, 3])
    w = torch.nn.functional.one_hot(torch.tensor(arch.code), 5).float()
    torch.testing.assert_close(net(X, weights=w), net(X, arch))


def test_hard_weights_run_one_op_but_give_gradients_to_all_weights():
    net = Supernet(C=4, N=1, seed=0).eval()
    arch = Arch.from_code([3, 1, 2, 4, 0, 3])
    probs = torch.full((6, 5), 0.2, requires_grad=True)
    one_hot = torch.nn.functional.one_hot(torch.tensor(arch.code), 5).float()
    w = one_hot - probs.detach() + probs
    out = net(X, weights=w, hard=torch.tensor(arch.code))
    torch.testing.assert_close(out, net(X, arch))
    out.sum().backward()
    assert (probs.grad != 0).sum() > 6  # not only the chosen entries


def test_mixture_is_linear_in_the_weights_of_one_edge():
    net = Supernet(C=4, N=1, space="only_conv", seed=0).eval()
    cell = net.cells[0]
    x = torch.randn(2, 4, 8, 8)
    w = torch.tensor([0.3, 0.7])
    edge = cell.edges[0]
    expected = 0.3 * edge.ops["nor_conv_1x1"](x) + 0.7 * edge.ops["nor_conv_3x3"](x)
    torch.testing.assert_close(edge.mixed(x, w), expected)


def test_aux_skip_adds_beta_times_input_on_every_edge():
    net = Supernet(C=4, N=1, seed=0).eval()
    none = Arch.from_code([0] * 6)
    cell = net.cells[0]
    x = torch.randn(2, 4, 8, 8)
    # every edge is zero + x_src: node1 = x, node2 = x + node1, node3 = x + node1 + node2 = 4x
    torch.testing.assert_close(cell(x, net._router(none, None, None, 1.0)), 4 * x)
    torch.testing.assert_close(cell(x, net._router(none, None, None, 0.0)), torch.zeros_like(x))


def test_subspaces_have_the_papers_sizes_and_reject_foreign_ops():
    assert [len(v) ** 6 for v in SUBSPACES.values()] == [15625, 4096, 64]
    net = Supernet(C=4, N=1, space="no_none", seed=0)
    assert net.ops == ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    with pytest.raises(InvalidParameterError, match="outside space='no_none'"):
        net(X, Arch.from_code([0, 1, 2, 3, 4, 1]))
    with pytest.raises(InvalidParameterError, match="expected \\(6, 4\\)"):
        net(X, weights=torch.ones(6, 5))
    with pytest.raises(InvalidParameterError, match="exactly one"):
        net(X)
    with pytest.raises(InvalidParameterError, match="space="):
        Supernet(space="tiny")


def test_bias_weights_start_neutral_and_depend_on_current_and_previous_choices():
    plain = Supernet(C=4, N=1, space="only_conv", seed=0).eval()
    biased = Supernet(C=4, N=1, space="only_conv", bias_depth=1, seed=0).eval()
    a = Arch.from_code([3, 3, 2, 3, 3, 3])   # edge 2: current 1x1 (col 0), previous 3x3 (col 1)
    b = Arch.from_code([3, 2, 2, 3, 3, 3])   # edge 2: current 1x1, previous 1x1 (col 0)
    torch.testing.assert_close(biased(X, a), plain(X, a), rtol=0, atol=0)
    assert biased.cells[0].edges[0].bias.shape == (2 * 3, 4)   # k * (k + 1) ** D rows
    row = biased._bias_row(biased.columns(a), 2)
    assert row != biased._bias_row(biased.columns(b), 2)
    before_b = biased(X, b)
    with torch.no_grad():
        biased.cells[0].edges[2].bias[row] += 1.0
    assert not torch.allclose(biased(X, a), plain(X, a))
    torch.testing.assert_close(biased(X, b), before_b, rtol=0, atol=0)
    with pytest.raises(InvalidParameterError, match="bias"):
        biased.path_state_dict(a)


def test_split_weights_copy_then_depend_on_previous_choice():
    net = Supernet(C=4, N=1, space="only_conv", seed=0).eval()
    a = Arch.from_code([3, 3, 2, 3, 3, 3])
    b = Arch.from_code([3, 2, 2, 3, 3, 3])
    before = net(X, a), net(X, b)
    net.split()
    torch.testing.assert_close((net(X, a), net(X, b)), before, rtol=0, atol=0)
    with torch.no_grad():   # the copy of edge 2's 1x1 conv used after a 3x3 on edge 1 (column 1)
        net.cells[0].edges[2].split_ops[1]["nor_conv_1x1"][1].weight.mul_(2.0)
    assert not torch.allclose(net(X, a), before[0])
    torch.testing.assert_close(net(X, b), before[1], rtol=0, atol=0)
    torch.testing.assert_close(net.extract(a).eval()(X), net(X, a), rtol=0, atol=0)
    with pytest.raises(InvalidParameterError, match="already split"):
        net.split()
