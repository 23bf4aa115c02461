"""Saliency proxies and jacob_cov on a small conv + BN + ReLU network, against independent computations.

The network (float64, train mode): Conv3x3(3->4) -> BN -> ReLU -> Conv3x3(4->4) -> BN -> ReLU -> GAP -> Linear(4->3),
plus a BN-free 1x1 side conv (like NB201's residual shortcut). Each proxy is recomputed from `torch.func`
gradients / Hessian-vector products, finite differences, or numpy, never through the proxy's own code path.
The scale-invariance identities (a conv followed by train-mode BN contributes 0 to plain and exactly ‖g‖² to
grasp) explain why plain and grasp rank NB201 archs so differently across inits and batches (README).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, jacrev, jvp

from nasbench_eval.proxies import compute_proxy


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-12, track_running_stats=False)


class ConvBNNet(nn.Module):
    """Two conv-BN-ReLU blocks, a BN-free 1x1 side conv, GAP, Linear.

    BN uses eps=1e-12 and batch statistics only, so it is scale invariant up to ~1e-11 relative.
    """

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 4, 3, padding=1, bias=False), _bn(4)
        self.conv2, self.bn2 = nn.Conv2d(4, 4, 3, padding=1, bias=False), _bn(4)
        self.side = nn.Conv2d(4, 4, 1, bias=False)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h))) + self.side(h)
        return self.fc(h.mean(dim=(2, 3)))


WEIGHTS = ("conv1.weight", "conv2.weight", "side.weight", "fc.weight")
BN_FOLLOWED = ("conv1.weight", "conv2.weight")


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(3)
    net = ConvBNNet().double().train()
    with torch.no_grad():                      # non-trivial BN affine parameters
        for bn in (net.bn1, net.bn2):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.3, 0.3)
    x = torch.randn(6, 3, 6, 6, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    params = {k: v.detach().clone() for k, v in net.named_parameters()}
    buffers = {k: v.detach().clone() for k, v in net.named_buffers()}

    def loss_of_weights(w):
        """Mean cross-entropy as a function of the four weight tensors only (the rest held fixed)."""
        return F.cross_entropy(functional_call(net, ({**params, **w}, buffers), (x,)), y)

    w0 = {k: params[k] for k in WEIGHTS}
    return net, x, y, w0, loss_of_weights


def _proxy(name, net, x, y):
    return compute_proxy(name, net, (x, y), device="cpu")


def test_snip_grad_norm_plain_match_torch_func_gradients(setup):
    net, x, y, w0, loss = setup
    g = grad(loss)(w0)
    snip = sum(float((w0[k] * g[k]).abs().sum()) for k in WEIGHTS)
    assert _proxy("snip", net, x, y) == pytest.approx(snip, rel=1e-10)
    assert _proxy("grad_norm", net, x, y) == pytest.approx(sum(float(g[k].norm()) for k in WEIGHTS), rel=1e-10)
    assert _proxy("plain", net, x, y) == pytest.approx(sum(float((w0[k] * g[k]).sum()) for k in WEIGHTS),
                                                       rel=1e-8, abs=1e-14)


def test_plain_gets_nothing_from_convs_followed_by_batchnorm(setup):
    """L(αW) = L(W) for a conv feeding train-mode BN, so Σ W ⊙ ∂L/∂W = dL/dα = 0 there."""
    net, x, y, w0, loss = setup
    g = grad(loss)(w0)
    for k in BN_FOLLOWED:
        assert abs(float((w0[k] * g[k]).sum())) < 1e-9 * float((w0[k] * g[k]).abs().sum())
    rest = sum(float((w0[k] * g[k]).sum()) for k in ("side.weight", "fc.weight"))
    assert _proxy("plain", net, x, y) == pytest.approx(rest, rel=1e-8)
    assert abs(rest) > 1e-6                     # the BN-free layers do contribute


def test_grasp_matches_hessian_vector_product_by_forward_over_reverse_and_finite_differences(setup):
    net, x, y, w0, loss = setup
    g = {k: v.detach() for k, v in grad(loss)(w0).items()}
    _, hg = jvp(grad(loss), (w0,), (g,))        # H g, forward-over-reverse
    expected = -sum(float((w0[k] * hg[k]).sum()) for k in WEIGHTS)
    assert _proxy("grasp", net, x, y) == pytest.approx(expected, rel=1e-8)
    h = 1e-5                                    # central difference of the gradient along g
    plus = grad(loss)({k: w0[k] + h * g[k] for k in WEIGHTS})
    minus = grad(loss)({k: w0[k] - h * g[k] for k in WEIGHTS})
    fd = -sum(float((w0[k] * (plus[k] - minus[k]) / (2 * h)).sum()) for k in WEIGHTS)
    assert _proxy("grasp", net, x, y) == pytest.approx(fd, rel=1e-5)


def test_grasp_of_a_batchnorm_followed_conv_is_its_squared_gradient_norm(setup):
    """Differentiating Σ_l W·g = 0 (scale invariance) gives (H W)_l = -g_l, so -W_l·(H g)_l = ‖g_l‖²."""
    _, _, _, w0, loss = setup
    g = {k: v.detach() for k, v in grad(loss)(w0).items()}
    _, hg = jvp(grad(loss), (w0,), (g,))
    for k in BN_FOLLOWED:
        assert -float((w0[k] * hg[k]).sum()) == pytest.approx(float(g[k].pow(2).sum()), rel=1e-7)


def _channel_gate_grads(net, x, y, layer, h=1e-6):
    """dL/ds[n, k] at s = 1 for a per-sample, per-channel gate s on `layer`'s output, by central differences.

    Σ_{h,w} a ⊙ ∂L/∂a for sample n and channel k equals this derivative (chain rule), so Fisher can be
    recomputed without hooks on gradients.
    """
    out_ch = layer.out_channels if isinstance(layer, nn.Conv2d) else layer.out_features
    result = torch.zeros(len(x), out_ch, dtype=torch.float64)
    for n in range(len(x)):
        for k in range(out_ch):
            vals = []
            for sign in (1, -1):
                gate = torch.ones(len(x), out_ch, dtype=torch.float64)
                gate[n, k] += sign * h
                shape = (len(x), out_ch, 1, 1) if isinstance(layer, nn.Conv2d) else (len(x), out_ch)
                handle = layer.register_forward_hook(lambda m, i, o, gate=gate, shape=shape: o * gate.view(shape))
                try:
                    with torch.no_grad():
                        vals.append(float(F.cross_entropy(net(x), y)))
                finally:
                    handle.remove()
            result[n, k] = (vals[0] - vals[1]) / (2 * h)
    return result


def test_fisher_matches_finite_differences_of_channel_gates(setup):
    net, x, y, _, _ = setup
    expected = 0.0
    for layer in (net.conv1, net.conv2, net.side, net.fc):
        s = _channel_gate_grads(net, x, y, layer)                       # [B, Cout]
        expected += float((0.5 * s.pow(2).mean(dim=0)).sum()) * layer.weight[0].numel()
    assert _proxy("fisher", net, x, y) == pytest.approx(expected, rel=1e-6)


def test_jacob_cov_matches_jacrev_and_numpy_eigenvalues(setup):
    net, x, _, _, _ = setup
    params = {k: v.detach() for k, v in net.named_parameters()}
    buffers = {k: v.detach().clone() for k, v in net.named_buffers()}
    summed = jacrev(lambda inp: functional_call(net, (params, buffers), (inp,)).sum())(x)   # [B, 3, H, W]
    corr = np.corrcoef(summed.reshape(len(x), -1).numpy())
    lam = np.linalg.eigvalsh(corr) + 1e-5
    expected = -float(np.sum(np.log(lam) + 1.0 / lam))
    assert compute_proxy("jacob_cov", net, (x, None), device="cpu") == pytest.approx(expected, rel=1e-9)
    h = 1e-6                                    # the input gradient itself, by a central difference
    e = torch.zeros_like(x)
    e[2, 1, 3, 4] = h
    with torch.no_grad():
        fd = (net(x + e).sum() - net(x - e).sum()) / (2 * h)
    assert float(summed[2, 1, 3, 4]) == pytest.approx(float(fd), rel=1e-6)
