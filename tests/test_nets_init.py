"""Initialization schemes and seeding (spec/proxies.md §2.3)."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nasbench_eval import InvalidParameterError
from nasbench_eval.nets import build_network, build_sss_network, build_thin_network, init_weights

ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def scrambled(module: nn.Module) -> nn.Module:
    """Set every parameter and BN statistic to 3.0, so a test sees what init changes."""
    with torch.no_grad():
        for t in list(module.parameters()) + [b for b in module.buffers() if b.is_floating_point()]:
            t.fill_(3.0)
    return module


@pytest.mark.parametrize("init", ["torch_default", "kaiming_normal_fan_in", "kaiming_normal_fan_out"])
def test_same_seed_same_weights_different_seed_different(init):
    a = build_network(ARCH, C=4, N=1, init=init, seed=7)
    b = build_network(ARCH, C=4, N=1, init=init, seed=7)
    c = build_network(ARCH, C=4, N=1, init=init, seed=8)
    assert same_weights(a, b)
    assert not torch.equal(a.stem[0].weight, c.stem[0].weight) and not torch.equal(
        a.classifier.weight, c.classifier.weight
    )


@pytest.mark.parametrize("build", [
    lambda: build_network(ARCH, C=4, N=1, init="kaiming_normal_fan_out", seed=0),
    lambda: build_network(ARCH, C=4, N=1, seed=0),
    lambda: build_sss_network("8:16:8:16:8", seed=0),
    lambda: build_thin_network(ARCH, init="kaiming_normal_fan_in", seed=0),
])
def test_seeded_build_neither_reads_nor_changes_the_global_rng(build):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = build()
    assert torch.equal(torch.get_rng_state(), state)  # not consumed
    torch.manual_seed(456)
    assert same_weights(a, build())  # not read


def test_torch_default_equals_pytorch_construction():
    # PyTorch's own reset_parameters, run at construction after manual_seed(s), is the reference
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        reference = build_network(ARCH, C=3, N=2, seed=None)
    assert same_weights(reference, build_network(ARCH, C=3, N=2, seed=11))


def test_unseeded_build_uses_the_global_rng():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        a = build_network(ARCH, C=2, N=1, init="kaiming_normal_fan_in")
        torch.manual_seed(5)
        b = build_network(ARCH, C=2, N=1, init="kaiming_normal_fan_in")
        c = build_network(ARCH, C=2, N=1, init="kaiming_normal_fan_in")
    assert same_weights(a, b) and not same_weights(a, c)


@pytest.mark.parametrize("scheme, fan", [("kaiming_normal_fan_in", 128 * 9), ("kaiming_normal_fan_out", 256 * 9)])
def test_kaiming_normal_statistics(scheme, fan):
    net = scrambled(nn.Sequential(nn.Conv2d(128, 256, 3, bias=True), nn.BatchNorm2d(256), nn.Linear(512, 1024)))
    init_weights(net, scheme, generator=torch.Generator().manual_seed(0))
    w = net[0].weight.detach()  # 294,912 samples: std error of the std about 0.13 %
    assert w.std().item() == pytest.approx(math.sqrt(2 / fan), rel=0.01)
    assert abs(w.mean().item()) < 0.01 * math.sqrt(2 / fan)
    linear_fan = 512 if scheme.endswith("fan_in") else 1024
    assert net[2].weight.detach().std().item() == pytest.approx(math.sqrt(2 / linear_fan), rel=0.01)
    assert torch.equal(net[0].bias, torch.zeros(256)) and torch.equal(net[2].bias, torch.zeros(1024))
    assert torch.equal(net[1].weight, torch.ones(256)) and torch.equal(net[1].bias, torch.zeros(256))
    assert torch.equal(net[1].running_mean, torch.zeros(256)) and torch.equal(net[1].running_var, torch.ones(256))


def test_torch_default_statistics():
    net = scrambled(nn.Sequential(nn.Conv2d(64, 128, 3), nn.BatchNorm2d(128)))
    init_weights(net, "torch_default", generator=torch.Generator().manual_seed(0))
    bound = 1 / math.sqrt(64 * 9)  # U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias
    w, b = net[0].weight.detach(), net[0].bias.detach()
    assert w.abs().max().item() <= bound and w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert b.abs().max().item() <= bound and b.abs().max().item() > bound / 2
    assert torch.equal(net[1].weight, torch.ones(128)) and torch.equal(net[1].bias, torch.zeros(128))


def test_build_network_applies_the_scheme():
    net = build_network(ARCH, init="kaiming_normal_fan_out", seed=0)
    w = net.cells[-1].edges[0].ops["nor_conv_3x3"][1].weight.detach()  # 64 -> 64, 3x3
    assert w.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.02)
    assert torch.equal(net.classifier.bias, torch.zeros(10))


@pytest.mark.parametrize("call, param", [
    (lambda: init_weights(nn.Conv2d(1, 1, 1), "xavier"), "scheme"),
    (lambda: init_weights("net"), "net"),
    (lambda: init_weights(nn.Conv2d(1, 1, 1), generator=0), "generator"),
    (lambda: init_weights(nn.Sequential(nn.Conv2d(1, 1, 1), nn.PReLU())), "PReLU"),
])
def test_init_weights_bad_input(call, param):
    with pytest.raises(InvalidParameterError, match=param):
        call()
