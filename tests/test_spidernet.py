"""SpiderNet core: Figure 1 state, triangular mutation, S'_off, pruners, deadheading, seeds."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.spidernet import (OPS, SAW_M, CellGraph, Pruner, PrunerLog, SpiderNet, deadhead, deadhead_keys,
                                     get_op, saw, triangular_mutation)


def _x(n=4, c=3, hw=8, seed=0):
    return torch.randn(n, c, hw, hw, generator=torch.Generator().manual_seed(seed))


def _cell_outputs(net, x):
    """Output tensor of every cell, via forward hooks."""
    outs = []
    hooks = [cell.register_forward_hook(lambda m, i, o: outs.append(o)) for cell in net.cells]
    net(x)
    for h in hooks:
        h.remove()
    return outs


# ---------------------------------------------------------------- model and Figure 1
@pytest.mark.parametrize("r", [1, 2])
def test_initial_state_is_figure_1(r):
    net = SpiderNet(C=2, reductions=r, seed=0)
    assert len(net.cells) == r + 1
    for j, g in enumerate(net.graphs):
        mid, out = j + 1, j + 2
        assert g.n_inputs == j + 1 and g.output == out and g.nodes == list(range(j + 3))
        assert sorted(g.edges) == sorted([(i, mid) for i in range(j + 1)] + [(mid, out)])
        assert all(ops == list(OPS) for ops in g.edges.values())
        assert all(list(net.edge_module((j, *e)).ops) == list(OPS) for e in g.edges)


@pytest.mark.parametrize("r", [1, 2])
def test_forward_shapes_per_cell(r):
    net = SpiderNet(C=2, reductions=r, num_classes=5, seed=0)
    x = _x(hw=9)
    assert net(x).shape == (4, 5)
    for j, out in enumerate(_cell_outputs(net, x)):
        side = math.ceil(9 / 2 ** j)
        assert out.shape == (4, 2 * 2 ** j, side, side)


def test_slim_copy_has_same_graphs_and_width():
    net = SpiderNet(C=4, reductions=2, seed=0)
    net.mutate((2, 1, 3), seed=0)
    slim = net.slim(1, in_channels=1)
    assert [g.edges for g in slim.graphs] == [g.edges for g in net.graphs]
    assert all(o.shape[1] == 1 for o in _cell_outputs(slim, _x(c=1, hw=3)))


def test_every_op_keeps_shape():
    x = _x(c=3, hw=5)
    for name in OPS:
        assert get_op(name, 3)(x).shape == x.shape


def test_bad_parameters_raise():
    with pytest.raises(InvalidParameterError, match=r"SpiderNet\(\): C=0"):
        SpiderNet(C=0)
    with pytest.raises(InvalidParameterError, match="not in the cell"):
        SpiderNet(C=1, reductions=1).mutate((0, 1, 0))
    with pytest.raises(InvalidParameterError, match=r"get_op\(\): name='conv'"):
        get_op("conv", 2)


# ---------------------------------------------------------------- triangular mutation
def test_triangular_mutation_adds_node_and_two_full_edges():
    g = CellGraph.initial(2)
    g2, (e1, e2) = triangular_mutation(g, (0, 2))
    assert g.edges.keys() == {(0, 2), (1, 2), (2, 3)}                 # input untouched
    assert e1 == (0, 4) and e2 == (4, 2) and g2.nodes == [0, 1, 2, 3, 4]
    assert set(g2.edges) == set(g.edges) | {e1, e2}                    # A -> B kept
    assert g2.edges[e1] == list(OPS) and g2.edges[e2] == list(OPS)
    order = g2.topological_order()
    assert order.index(0) < order.index(4) < order.index(2)


def test_is_dag_detects_a_cycle():
    g = CellGraph.initial(1)
    g.edges[(2, 1)] = ["identity"]                                    # 1 -> 2 -> 1
    assert not g.is_dag()


def test_random_mutations_keep_dag_and_shapes():
    net = SpiderNet(C=2, reductions=2, seed=0)
    rng = np.random.default_rng(0)
    for step in range(8):
        edges = net.edge_ids()
        before = len(edges)
        net.mutate(edges[int(rng.integers(before))], seed=step)
        assert len(net.edge_ids()) == before + 2
        assert all(g.is_dag() for g in net.graphs)
    x = _x(hw=8)
    assert net(x).shape == (4, 10)
    for j, out in enumerate(_cell_outputs(net, x)):
        assert out.shape == (4, 2 * 2 ** j, 8 // 2 ** j, 8 // 2 ** j)
    assert sum(g.n_ops() for g in net.graphs) == len(OPS) * len(net.edge_ids())


@pytest.mark.parametrize("train", [False, True])
def test_off_mutation_computes_the_unmutated_function(train):
    net = SpiderNet(C=2, reductions=2, seed=3).train(train)
    net.mutate((1, 0, 2), seed=1)                                      # some structure first
    x = _x(hw=8, seed=1)
    with torch.no_grad():
        ref = net(x)
        for edge in net.edge_ids():
            off, on = copy.deepcopy(net), copy.deepcopy(net)
            new = off.mutate(edge, off=True, seed=7)
            on.mutate(edge, seed=7)
            assert torch.equal(off(x), ref), edge
            assert not torch.allclose(on(x), ref), edge                  # the new edges do matter when on
            for e in new:
                off.set_edge_scale(e, 1.0)
            assert torch.equal(off(x), on(x))                           # same modules, same weights


# ---------------------------------------------------------------- pruners
def test_saw_is_small_with_unit_gradient():
    w = torch.tensor([-0.37, -1e-4, 0.0, 2e-9, 0.81], dtype=torch.float64, requires_grad=True)
    s = saw(w)
    assert ((s >= 0) & (s < 1 / SAW_M)).all()
    s.sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))


@pytest.mark.parametrize("w, on", [(0.3, True), (0.0, True), (-0.3, False), (-1e-6, False)])
def test_pruner_gates_forward_and_passes_gradient_one(w, on):
    p = Pruner(init=w)
    x = torch.randn(3, 2, 4, 4, generator=torch.Generator().manual_seed(0), requires_grad=True)
    y = p(x)
    assert p.is_on() is on
    torch.testing.assert_close(y, x if on else torch.zeros_like(x), atol=2e-9, rtol=1e-8)
    y.sum().backward()
    torch.testing.assert_close(p.w.grad, x.detach().sum(), rtol=1e-6, atol=1e-6)   # dP/dw = x · 1
    torch.testing.assert_close(x.grad, torch.full_like(x, 1.0 if on else 0.0), atol=2e-9, rtol=0)


def test_pruner_w_is_not_an_ntk_weight():
    from nasbench_eval.proxies.ntk import ntk_weights
    net = SpiderNet(C=1, reductions=0, seed=0)
    pruner_params = {id(m.w) for m in net.modules() if isinstance(m, Pruner)}
    assert pruner_params and not pruner_params & {id(p) for p in ntk_weights(net)}


# ---------------------------------------------------------------- deadheading
def test_deadhead_keys_follow_the_rule():
    on, off = True, False
    history = {
        "all_off": [[off] * 5] * 4,
        "exactly_75": [[off, off, off, on]] * 4,                      # 75 % is not more than 75 %
        "80_percent": [[off, off, off, off, on]] * 4,
        "old_off_recent_on": [[off] * 5] * 3 + [[on] * 5] * 4,        # only the last 4 epochs count
        "recent_off_old_on": [[on] * 5] * 6 + [[off] * 5] * 4,
        "mixed_epochs": [[on] * 4, [off] * 4, [off] * 4, [off] * 4],    # 12 / 16 = 75 %: kept
        "mixed_epochs_2": [[on] * 3, [off] * 4, [off] * 4, [off] * 4],  # 12 / 15 = 80 %: deleted
        "never_off": [[on] * 5] * 4,
    }
    assert deadhead_keys(history) == ["all_off", "80_percent", "recent_off_old_on", "mixed_epochs_2"]
    assert deadhead_keys(history, window=10, threshold=0.5) == ["all_off", "exactly_75", "80_percent",
                                                                "mixed_epochs", "mixed_epochs_2"]


def test_deadhead_removes_exactly_the_recorded_off_ops():
    net = SpiderNet(C=1, reductions=1, seed=0)
    log = PrunerLog()
    victims = {(0, 1, 2, "sep_conv_3x3"), (1, 0, 2, "identity")} | {(1, 2, 3, op) for op in OPS}
    borderline = (0, 0, 1, "avg_pool_3x3")                           # off 3 of 4 batches: kept
    for epoch in range(4):
        for batch in range(4):
            for key in net.op_keys():
                off = key in victims or (key == borderline and batch < 3)
                with torch.no_grad():
                    net.edge_module(key[:3]).pruners[key[3]].w.fill_(-1.0 if off else 1.0)
            log.record(net.pruner_states())
        log.end_epoch()
    before = set(net.op_keys())
    removed = deadhead(net, log)
    assert set(removed) == victims
    assert set(net.op_keys()) == before - victims
    assert (1, 2, 3) not in net.edge_ids() and (2, 3) not in net.graphs[1].edges   # emptied edge is gone
    assert not victims & set(log.history)
    assert net(_x(hw=4)).shape == (4, 10)                             # still runs (output node now zero)


# ---------------------------------------------------------------- seeds
def test_seeds_reproduce_weights_mutations_and_outputs():
    def build(seed):
        net = SpiderNet(C=2, reductions=1, seed=seed)
        net.mutate((1, 2, 3), seed=seed + 10)
        return net

    a, b, c = build(0), build(0), build(1)
    x = _x(hw=4)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert torch.equal(a(x), b(x))
    assert not torch.allclose(a(x), c(x))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    a.reset_parameters("kaiming_normal_fan_in", generator=g1)
    c.reset_parameters("kaiming_normal_fan_in", generator=g2)
    assert torch.equal(a(x), c(x))                                    # same graph, same draws


def test_pruner_log_keeps_only_the_last_epochs_and_round_trips():
    full, short = PrunerLog(), PrunerLog(keep_epochs=2)
    for epoch in range(5):
        for batch in range(3):
            states = {("a", 1): (epoch + batch) % 2 == 0, ("b", 2): epoch < 3}
            if epoch >= 1:
                states[("new", 3)] = batch == 0                             # a key that appears later
            full.record(states)
            short.record(states)
        full.end_epoch()
        short.end_epoch()
    assert short.epochs_ended == full.epochs_ended == 5
    assert all(short.history[k] == full.history[k][-2:] for k in full.history)
    assert deadhead_keys(short.history, window=2) == deadhead_keys(full.history, window=2) == [("b", 2)]
    again = PrunerLog.from_state(short.state())
    again.record({("a", 1): False})
    short.record({("a", 1): False})
    assert again.history == short.history and again.epochs_ended == 5


def test_cell_graph_dict_round_trip_and_bad_dicts():
    g, _ = triangular_mutation(CellGraph.initial(2), (2, 3))
    g.edges[(0, 2)].remove("identity")
    back = CellGraph.from_dict(g.to_dict())
    assert back == g and back.to_dict() == g.to_dict()
    bad = g.to_dict()
    bad["edges"].append([3, 0, ["identity"]])                             # into an input node
    with pytest.raises(InvalidParameterError, match="DAG"):
        CellGraph.from_dict(bad)
    with pytest.raises(InvalidParameterError, match="from_dict"):
        CellGraph.from_dict({"n_inputs": 1})
