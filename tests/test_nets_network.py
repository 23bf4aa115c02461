"""Ops, cells and networks: shapes, ReLU sites, mixed edges, dead cells (spec/proxies.md §1.1, §1.3-§1.5, §3.4)."""
from __future__ import annotations

import copy
import random

import pytest
import torch
from torch import nn

from nasbench_eval import InvalidParameterError
from nasbench_eval.nets import (Edge, build_network, build_sss_network, build_thin_network, get_op, parse_cell_spec,
                                skip_unused_ops, unused_edges)
from nasbench_eval.space import EDGES, Arch, all_archs

ALL_3X3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
FIVE_3X3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
MIXED = "|nor_conv_1x1~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
# node 3 only receives `none` edges: a dead cell whose other edges still hold convs
DEAD_WITH_CONVS = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|none~1|none~2|"


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def relu_units(net: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """(number of ReLU calls, units per image over all calls) in one forward pass."""
    calls, units = [0], [0]

    def hook(module, inputs, output):
        calls[0] += 1
        units[0] += inputs[0][0].numel()

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    return calls[0], units[0]


# ---- ops -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params", [("none", 0), ("skip_connect", 0), ("avg_pool_3x3", 0),
                                          ("nor_conv_1x1", 5 * 5 + 2 * 5), ("nor_conv_3x3", 9 * 5 * 5 + 2 * 5)])
def test_op_params_and_shape(name, params):
    op = get_op(name, 5, 5)
    assert sum(p.numel() for p in op.parameters()) == params
    assert op(randn(2, 5, 6, 6)).shape == (2, 5, 6, 6)


def test_none_is_zero_and_stays_on_the_graph():
    x = randn(2, 3, 4, 4).requires_grad_()
    out = get_op("none", 3, 3)(x)
    assert torch.equal(out, torch.zeros_like(x)) and out.grad_fn is not None
    assert torch.isnan(get_op("none", 3, 3)(torch.full((1, 3, 2, 2), float("inf")))).all()  # x * 0, as the references


def test_skip_is_identity():
    x = randn(2, 3, 4, 4)
    assert torch.equal(get_op("skip_connect", 3, 3)(x), x)


def test_avg_pool_excludes_padding():
    out = get_op("avg_pool_3x3", 1, 1)(torch.ones(1, 1, 4, 4))
    assert torch.equal(out, torch.ones(1, 1, 4, 4))  # with count_include_pad=True a corner would be 4/9


def test_conv_ops_start_with_an_out_of_place_relu():
    x = -torch.ones(1, 2, 3, 3)
    for name in ("nor_conv_1x1", "nor_conv_3x3"):
        op = get_op(name, 2, 2)
        assert isinstance(op[0], nn.ReLU) and not op[0].inplace
        op(x)
        assert torch.equal(x, -torch.ones(1, 2, 3, 3))  # the source node is not overwritten


@pytest.mark.parametrize("name, params, relus", [
    ("none", 0, 0),
    ("skip_connect", 4 * 6 + 2 * 6, 0),     # Conv1x1 -> BN, no ReLU (spec §1.3)
    ("avg_pool_3x3", 4 * 6 + 2 * 6, 1),     # ReLU -> Conv1x1 -> BN pre-projection
    ("nor_conv_1x1", 4 * 6 + 2 * 6, 1),
    ("nor_conv_3x3", 9 * 4 * 6 + 2 * 6, 1),
])
def test_width_changing_ops(name, params, relus):
    op = get_op(name, 4, 6)
    assert sum(p.numel() for p in op.parameters()) == params
    assert relu_units(op, randn(2, 4, 5, 5))[0] == relus
    assert op(randn(2, 4, 5, 5)).shape == (2, 6, 5, 5)


@pytest.mark.parametrize("name", ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"])
@pytest.mark.parametrize("C_out", [4, 6])
def test_stride_two_halves_rounding_up(name, C_out):
    assert get_op(name, 4, C_out, stride=2)(randn(2, 4, 7, 7)).shape == (2, C_out, 4, 4)


@pytest.mark.parametrize("kwargs, param", [
    (dict(name="conv", C_in=2, C_out=2), "name"), (dict(name="none", C_in=0, C_out=2), "C_in"),
    (dict(name="none", C_in=2, C_out=2.5), "C_out"), (dict(name="none", C_in=2, C_out=2, stride=3), "stride"),
])
def test_get_op_bad_input(kwargs, param):
    with pytest.raises(InvalidParameterError, match=param):
        get_op(**kwargs)


# ---- mixed edges -----------------------------------------------------------------------------------
def test_mixed_edge_is_the_mean_of_its_ops():
    with torch.random.fork_rng(devices=[]):
        edge = Edge(("skip_connect", "nor_conv_3x3", "avg_pool_3x3"), 3, 3)
    x = randn(2, 3, 5, 5)
    parts = [op(x) for op in edge.ops.values()]
    torch.testing.assert_close(edge(x), (parts[0] + parts[1] + parts[2]) / 3)


def test_single_op_edges_equal_the_plain_network():
    x = randn(2, 3, 8, 8)
    plain = build_network(MIXED, C=3, N=2, seed=1)
    as_sets = build_network([{op} for op in Arch.from_str(MIXED).ops], C=3, N=2, seed=1)
    assert torch.equal(plain(x), as_sets(x))


def test_supernet_weights_load_into_its_sub_networks():
    # parameter names depend only on (edge, op): a pruned net takes the supernet's weights by name
    ops = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    full = build_network([ops] * 6, C=2, N=1, seed=0)
    sub = build_network([("skip_connect", "nor_conv_3x3", "avg_pool_3x3")] + [ops] * 5, C=2, N=1, seed=1)
    result = sub.load_state_dict(full.state_dict(), strict=False)
    # 3 cells x (conv weight + BN weight, bias, running mean, running var, batch count)
    assert result.missing_keys == [] and len(result.unexpected_keys) == 3 * 6
    assert all(".edges.0.ops.nor_conv_1x1." in k for k in result.unexpected_keys)
    assert all(torch.equal(v, full.state_dict()[k]) for k, v in sub.state_dict().items())


def test_op_set_order_does_not_matter():
    a = build_network([["nor_conv_3x3", "skip_connect"]] + ["none"] * 5, C=2, N=1, seed=3)
    b = build_network([("skip_connect", "nor_conv_3x3")] + ["none"] * 5, C=2, N=1, seed=3)
    assert all(torch.equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))


# ---- unused edges ----------------------------------------------------------------------------------
def _paths_to_output(spec, node: int) -> bool:
    """True if some path node -> 3 avoids edges whose only op is none (depth-first, not the sweep under test)."""
    return node == 3 or any(_paths_to_output(spec, d) for e, (s, d) in enumerate(EDGES)
                            if s == node and spec[e] != ("none",))


def test_unused_edges_are_those_into_or_out_of_nodes_without_a_none_free_path_to_the_output():
    for arch in all_archs():
        spec = parse_cell_spec(arch)
        used = {n for n in range(4) if _paths_to_output(spec, n)}
        expected = set() if 0 not in used else {e for e, (s, d) in enumerate(EDGES) if not {s, d} <= used}
        assert unused_edges(spec) == expected, str(arch)
        # an unused edge out of a used node is never a live op: it goes into an unused node
        assert all(spec[e] == ("none",) or EDGES[e][1] not in used for e in expected if EDGES[e][0] in used)


def _skipping_archs(k: int, seed: int = 5) -> list[str]:
    """k seeded archs whose cells skip at least one convolution (as a `Cell` with skip_unused does)."""
    pool = [a for a in all_archs() if any("conv" in a.ops[e] for e in unused_edges(parse_cell_spec(a)))]
    return [str(a) for a in random.Random(seed).sample(pool, k)]


def _forward_backward(net: nn.Module, x: torch.Tensor, y: torch.Tensor):
    """(logits, input gradient, {parameter name: gradient or None}) of the cross-entropy at (x, y)."""
    x = x.clone().requires_grad_(True)
    logits = net(x)
    params = dict(net.named_parameters())
    grads = torch.autograd.grad(nn.functional.cross_entropy(logits, y), [x, *params.values()], allow_unused=True)
    return logits.detach(), grads[0], dict(zip(params, grads[1:]))


@pytest.mark.parametrize("arch", _skipping_archs(6) + [[("none", "nor_conv_3x3"), "nor_conv_1x1", "none",
                                                        "skip_connect", "none", "none"]])
def test_skipping_unused_edges_keeps_logits_and_every_gradient(arch):
    full = build_network(arch, C=4, N=2, num_classes=7, seed=3)
    skipping = skip_unused_ops(copy.deepcopy(full))
    x, y = randn(6, 3, 16, 16, seed=1), torch.arange(6) % 7
    conv_calls = []
    for m in skipping.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(lambda *_: conv_calls.append(1))
    l_full, gx_full, g_full = _forward_backward(full, x, y)
    l_skip, gx_skip, g_skip = _forward_backward(skipping, x, y)
    assert torch.equal(l_full, l_skip) and torch.equal(gx_full, gx_skip)
    skipped = {name for name, g in g_skip.items() if g is None}
    assert skipped and len(conv_calls) < sum(isinstance(m, nn.Conv2d) for m in full.modules())
    assert all(".edges." in name for name in skipped)
    for name, g in g_full.items():
        if name in skipped:      # the skipped op's weights get no gradient; through h · 0 they got exact zeros
            assert g is None or not g.any(), name
        else:
            assert torch.equal(g, g_skip[name]), name


def test_a_dead_cell_skips_nothing():
    assert unused_edges(parse_cell_spec(DEAD_WITH_CONVS)) == frozenset()
    net = skip_unused_ops(build_network(DEAD_WITH_CONVS, C=4, N=1, seed=0))
    assert torch.equal(net(randn(2, 3, 16, 16)), net.classifier.bias.detach().expand(2, -1))


# ---- networks --------------------------------------------------------------------------------------
@pytest.mark.parametrize("res, num_classes", [(32, 10), (16, 120)])
def test_forward_shapes(res, num_classes):
    net = build_network(FIVE_3X3, C=4, N=1, num_classes=num_classes, seed=0)
    x = randn(3, 3, res, res)
    assert net(x).shape == (3, num_classes)
    assert net.features(x).shape == (3, 16)
    torch.testing.assert_close(net.classifier(net.features(x)), net(x))


def test_full_size_structure():
    net = build_network(ALL_3X3)
    kinds = [type(m).__name__ for m in net.cells]
    assert kinds == ["Cell"] * 5 + ["ResidualBlock"] + ["Cell"] * 5 + ["ResidualBlock"] + ["Cell"] * 5
    assert (net.stem[0].in_channels, net.stem[0].out_channels, net.stem[0].bias) == (3, 16, None)
    assert (net.classifier.in_features, net.classifier.out_features) == (64, 10)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.cells[5].shortcut)  # no BN on the shortcut


@pytest.mark.parametrize("arch, units", [(ALL_3X3, 901_120), (FIVE_3X3, 757_760), (ALL_SKIP, 40_960)])
def test_relu_sites_match_spec(arch, units):
    # spec §3.1: N_A at 32x32 for the C=16, N=5 network; ReLU calls = conv edges x 15 cells + 2 x 2 + 1
    calls, n_a = relu_units(build_network(arch, seed=0), randn(1, 3, 32, 32))
    assert n_a == units
    assert calls == 15 * Arch.from_str(arch).ops.count("nor_conv_3x3") + 5
    assert not any(m.inplace for m in build_network(arch).modules() if isinstance(m, nn.ReLU))


@pytest.mark.parametrize("arch", [ALL_NONE, DEAD_WITH_CONVS])
def test_dead_cell_logits_equal_classifier_bias(arch):
    net = build_network(arch, C=4, N=2, seed=0)
    x = 10 * randn(5, 3, 16, 16)
    logits = net(x)
    assert torch.equal(logits, net.classifier.bias.detach().expand(5, -1))
    assert not torch.equal(net.classifier.bias, torch.zeros(10))  # torch_default draws a non-zero bias


def test_live_cell_logits_depend_on_input():
    net = build_network(FIVE_3X3, C=4, N=1, seed=0)
    logits = net(randn(4, 3, 16, 16))
    assert (logits - logits[0]).abs()[1:].sum() > 0


def test_narrow_skeleton():
    net = build_network(FIVE_3X3, C=3, N=1, seed=0)  # TE-NAS NTK net: cell(3), res 3->6, cell(6), res 6->12, cell(12)
    widths = [m.edges[0].ops["nor_conv_3x3"][1].out_channels for m in net.cells[::2]]
    assert widths == [3, 6, 12] and len(net.cells) == 5


def test_thin_network():
    net = build_thin_network(ALL_3X3, seed=0)
    # 6 conv edges ReLU -> Conv(1->1, 3x3) -> BN(1): 6 * (9 + 2); head BN(1) 2; Linear(1 -> 10) 20
    assert sum(p.numel() for p in net.parameters()) == 6 * 11 + 2 + 20
    x = randn(7, 1, 3, 3)
    assert net(x).shape == (7, 10)
    assert relu_units(net, x) == (7, 7 * 9)  # 63 bits per input (spec §3.4)
    assert not any(isinstance(m, nn.Conv2d) and m.in_channels == 3 for m in net.modules())  # no stem


def test_sss_network_shapes_and_width_changes():
    net = build_sss_network("8:16:24:32:40", num_classes=100, seed=0)
    x = randn(2, 3, 16, 16)
    assert net(x).shape == (2, 100) and net.features(x).shape == (2, 40)
    cell = net.cells[2]  # 16 -> 24: edges leaving node 0 map 16 -> 24, inner edges 24 -> 24
    assert cell.edges[0].ops["nor_conv_3x3"][1].in_channels == 16
    assert cell.edges[2].ops["nor_conv_3x3"][1].in_channels == 24
    assert cell.edges[3].ops["skip_connect"].convs[0].in_channels == 16


@pytest.mark.parametrize("call, param", [
    (lambda: build_network(6111), "arch"),
    (lambda: build_network(["none"] * 5), "arch"),
    (lambda: build_network(["none"] * 5 + ["conv"]), "edge 5"),
    (lambda: build_network(["none"] * 5 + [[]]), "edge 5"),
    (lambda: build_network(["none"] * 5 + [["none", "none"]]), "edge 5"),
    (lambda: build_network(["none"] * 5 + [3]), "edge 5"),
    (lambda: build_network("|none~0|"), "node group"),
    (lambda: build_network(ALL_NONE, C=0), "C="),
    (lambda: build_network(ALL_NONE, N=1.5), "N="),
    (lambda: build_network(ALL_NONE, num_classes=0), "num_classes"),
    (lambda: build_network(ALL_NONE, init="xavier"), "init"),
    (lambda: build_network(ALL_NONE, seed=-1), "seed"),
    (lambda: build_thin_network(ALL_NONE, C=0), "C="),
    (lambda: build_sss_network("8:8:8:8"), "8:8:8:8"),
    (lambda: build_sss_network([8, 8, 8, 8, 9]), "channel"),
    (lambda: build_sss_network(8), "channels"),
])
def test_build_bad_input(call, param):
    with pytest.raises(InvalidParameterError, match=param):
        call()
