"""Proxy values on inputs whose answer is known by hand or in closed form (spec/proxies.md §3).

Each expected value is derived independently of the code under test: by enumerating ReLU
patterns by hand, from the closed forms of linear models, or from numbers stated in the spec.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from nasbench_eval.nets.network import build_network, build_thin_network
from nasbench_eval.proxies import compute_proxy, score_arch
from nasbench_eval.proxies.base import evaluate
from nasbench_eval.proxies.linear_regions import activation_patterns, count_unique_rows, random_patches
from nasbench_eval.proxies.ntk import ntk_gram
from nasbench_eval.proxies.nwot import hamming_kernel
from nasbench_eval.proxies.synflow import _strip_bn

ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def _linear(w, b=None):
    w = torch.tensor(w, dtype=torch.float32)
    layer = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
    with torch.no_grad():
        layer.weight.copy_(w)
        if b is not None:
            layer.bias.copy_(torch.tensor(b, dtype=torch.float32))
    return layer


def _conv1x1(w, b):
    w = torch.tensor(w, dtype=torch.float32)
    conv = nn.Conv2d(w.shape[1], w.shape[0], 1)
    with torch.no_grad():
        conv.weight.copy_(w[:, :, None, None])
        conv.bias.copy_(torch.tensor(b, dtype=torch.float32))
    return conv


# ---- nwot ----------------------------------------------------------------------------------------
def test_nwot_two_layer_relu_net_by_hand():
    # layer 1: pre = (x, -x - 1); layer 2: pre = h1 + h2 - 0.5.
    # x=2: (2,-3)->(1,0), h=(2,0), 1.5->1;  x=-2: (-2,1)->(0,1), h=(0,1), 0.5->1;
    # x=0.5: (0.5,-1.5)->(1,0), h=(0.5,0), 0.0->0 (strictly > 0).
    # codes (1,0,1), (0,1,1), (1,0,0): K = [[3,1,2],[1,3,0],[2,0,3]], det K = 12.
    net = nn.Sequential(_linear([[1.0], [-1.0]], [0.0, -1.0]), nn.ReLU(), _linear([[1.0, 1.0]], [-0.5]), nn.ReLU())
    x = torch.tensor([[2.0], [-2.0], [0.5]])
    k = hamming_kernel(net, x)
    assert k.dtype == torch.float64
    assert k.tolist() == [[3, 1, 2], [1, 3, 0], [2, 0, 3]]
    assert compute_proxy("nwot", net, (x, None), device="cpu") == pytest.approx(math.log(12.0), rel=1e-12)


def test_nwot_counts_each_relu_call_separately():
    # One tensor feeding two ReLU modules is two code blocks: K doubles, det gains a factor 2^B.
    class TwoReLU(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.r1, self.r2 = _linear([[1.0], [-1.0]]), nn.ReLU(), nn.ReLU()

        def forward(self, x):
            a = self.lin(x)
            return self.r1(a) + self.r2(a)

    x = torch.tensor([[1.0], [-1.0]])   # codes (1,0), (0,1) per block: K = 2 * [[2,0],[0,2]]
    assert compute_proxy("naswot", TwoReLU(), (x, None), device="cpu") == pytest.approx(math.log(16.0), rel=1e-12)


def test_nwot_repeated_pattern_is_degenerate():
    net = nn.Sequential(_linear([[1.0], [-1.0]]), nn.ReLU())
    x = torch.tensor([[1.0], [-1.0], [2.0]])     # rows 1 and 3 share a pattern: det K = 0
    rec = evaluate("nwot", net, (x, None), device="cpu")
    assert rec.value == -math.inf and rec.status == "degenerate"


@pytest.mark.parametrize("arch, n_a", [(ALL_CONV3, 901_120), (BEST, 757_760), (ALL_SKIP, 40_960)])
def test_nwot_unit_count_matches_spec_sanity_values(arch, n_a):
    # spec §3.1: N_A (= diagonal of K_H) of the C=16, N=5 network at 32x32.
    net = build_network(arch, seed=0)
    k = hamming_kernel(net, torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
    assert k.diagonal().tolist() == [n_a, n_a]


# ---- synflow -------------------------------------------------------------------------------------
def test_synflow_linear_chain_closed_form():
    # Without biases every layer of a chain carries the same synaptic flow R = 1ᵀ|W3||W2||W1|1,
    # so synflow = (number of layers) * R; ReLUs are the identity on positive signals.
    g = np.random.default_rng(0)
    ws = [g.standard_normal((4, 3)), g.standard_normal((5, 4)), g.standard_normal((2, 5))]
    net = nn.Sequential(_linear(ws[0]), nn.ReLU(), _linear(ws[1]), nn.ReLU(), _linear(ws[2]))
    a = [np.abs(w.astype(np.float32).astype(np.float64)) for w in ws]
    r = np.ones(2) @ a[2] @ a[1] @ a[0] @ np.ones(3)
    x = torch.randn(7, 3)
    assert compute_proxy("synflow", net, (x, None), device="cpu") == pytest.approx(3 * r, rel=1e-12)
    assert compute_proxy("synflow_log", net, (x, None), device="cpu") == pytest.approx(math.log(3 * r), rel=1e-12)


def test_synflow_biases_shape_the_flow_but_are_not_summed():
    # f = |W2|(|W1|1 + |b1|) + |b2|: W2's term sees the bias-shifted activations, W1's does not.
    w1, b1, w2, b2 = [[1.0, -2.0], [0.5, 3.0]], [-1.0, 2.0], [[2.0, -1.0]], [5.0]
    net = nn.Sequential(_linear(w1, b1), nn.ReLU(), _linear(w2, b2))
    aw1, ab1, aw2 = np.abs(w1), np.abs(b1), np.abs(w2)
    h = aw1 @ np.ones(2) + ab1
    expected = (aw2 * h[None, :]).sum() + ((aw2.T @ np.ones(1))[:, None] * aw1).sum()
    assert compute_proxy("synflow", net, (torch.zeros(1, 2), None), device="cpu") == pytest.approx(expected, rel=1e-12)


def test_synflow_removes_bn_by_default_and_needs_float64():
    w = [[1e5]]
    chain = [m for _ in range(10) for m in (_linear(w), nn.BatchNorm1d(1))]
    net, bare = nn.Sequential(*chain), nn.Sequential(*[_linear(w) for _ in range(10)])
    x = torch.ones(3, 1)
    expected = 10 * 1e50   # 10 layers, R = (1e5)^10; overflows float32 (max 3.4e38)
    assert compute_proxy("synflow", net, (x, None), device="cpu") == pytest.approx(expected, rel=1e-12)
    assert compute_proxy("synflow", bare, (x, None), device="cpu") == pytest.approx(expected, rel=1e-12)
    low = evaluate("synflow", bare, (x, None), device="cpu", dtype="float32")
    assert low.status in ("nan", "inf") and not math.isfinite(low.value)


def test_synflow_zc_reduction_bn_keeps_exactly_the_residual_block_bns():
    # spec §1.5: zero-cost-nas drops cell/stem/head BN but the 4 BNs of the 2 reduction blocks stay.
    def n_bn(net):
        return sum(isinstance(m, nn.BatchNorm2d) for m in net.modules())

    kept, removed = build_network(BEST, C=4, N=1, seed=0), build_network(BEST, C=4, N=1, seed=0)
    _strip_bn(kept, keep_under_reduction=True)
    _strip_bn(removed, keep_under_reduction=False)
    assert (n_bn(kept), n_bn(removed)) == (4, 0)


# ---- ntk_cond ------------------------------------------------------------------------------------
def test_ntk_of_linear_model_is_scaled_gram_matrix():
    # f(x) = W x + b: ∂(Σ_c f_c(x_i))/∂W = 1 ⊗ x_i (biases excluded), so Θ = K · X Xᵀ.
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 6, generator=g)
    net = nn.Linear(6, 3)
    theta = ntk_gram(net, x)
    xx = x.double().numpy() @ x.double().numpy().T
    np.testing.assert_allclose(theta.numpy(), 3 * xx, rtol=1e-6)
    eig = np.linalg.eigvalsh(xx)
    assert compute_proxy("ntk", net, (x, None), device="cpu") == pytest.approx(eig[-1] / eig[0], rel=1e-5)


def test_ntk_singular_and_zero_kernels_are_flagged():
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))   # B > d: rank(X Xᵀ) = 2 < 5
    singular = evaluate("ntk_cond", nn.Linear(2, 1), (x, None), device="cpu")
    assert singular.value == math.inf and singular.status == "inf"
    zero = nn.Linear(2, 1)
    x0 = torch.zeros(3, 2)
    dead = evaluate("ntk_cond", zero, (x0, None), device="cpu")
    assert dead.value == math.inf and dead.status == "degenerate"
    mapped = evaluate("ntk_cond", zero, (x0, None), device="cpu", tenas_nan=1e5)
    assert mapped.value == 1e5 and mapped.status == "degenerate"


def test_ntk_rows_come_from_the_full_batch_forward():
    # With train-mode BN each row depends on the whole batch; compare with jacrev of the batch function.
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(6, 3)
    names = [n for n, _ in net.named_parameters() if "weight" in n]
    params = {n: p.detach() for n, p in net.named_parameters()}

    def summed(weights):
        return torch.func.functional_call(net, {**params, **weights}, (x,)).sum(dim=1)

    jac = torch.func.jacrev(summed)({n: params[n] for n in names})
    j = torch.cat([jac[n].reshape(6, -1) for n in names], dim=1).double()
    np.testing.assert_allclose(ntk_gram(net, x).numpy(), (j @ j.T).numpy(), rtol=1e-5, atol=1e-9)


# ---- lr_count ------------------------------------------------------------------------------------
def test_linear_regions_of_a_1d_two_layer_net_by_hand():
    # pre1 = (x, -x), pre2 = relu(x) + relu(-x) - 1.5 = |x| - 1.5: breakpoints at -1.5, 0, 1.5.
    net = nn.Sequential(_conv1x1([[1.0], [-1.0]], [0.0, 0.0]), nn.ReLU(), _conv1x1([[1.0, 1.0]], [-1.5]), nn.ReLU())
    x = torch.tensor([-2.0, -1.0, 1.0, 2.0, 3.0]).view(5, 1, 1, 1)   # regions: 4 distinct patterns
    assert compute_proxy("lr_count", net, (x, None), device="cpu") == 4.0
    x_same = torch.tensor([1.0, 1.2, 1.4]).view(3, 1, 1, 1)
    rec = evaluate("lr", net, (x_same, None), device="cpu")
    assert (rec.value, rec.status) == (1.0, "degenerate")


def _gram_count(a: torch.Tensor) -> int:
    """TE-NAS's matrix trick: R = Σ_i 1/m_i with m_i the size of row i's duplicate group."""
    a = a.double()
    hamming = a @ (1 - a).T + (1 - a) @ a.T
    same = 1 - torch.sign(hamming)
    return int(round(float((1.0 / same.sum(dim=1)).sum())))


@given(st.integers(1, 40), st.integers(1, 130), st.integers(0, 2**31 - 1))
def test_unique_row_count_matches_gram_trick_and_set(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(n, d, generator=g) < 0.5
    a[n // 2:] = a[: n - n // 2].clone()            # force duplicates
    expected = len({tuple(r) for r in a.tolist()})
    assert count_unique_rows(a) == expected == _gram_count(a)


def test_thin_network_pattern_width_is_nine_bits_per_relu_site():
    # spec §3.4: one 9-unit ReLU site per conv edge plus the head: BEST has 5 conv edges -> 54 bits.
    net = build_thin_network(BEST, seed=0)
    a = activation_patterns(net, torch.randn(10, 1, 3, 3), n_batches=2)
    assert a.shape == (10, 54) and a.dtype == torch.bool


def test_random_patches_are_crops_of_one_channel():
    x = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).view(2, 3, 5, 5)
    p = random_patches(x, 20, patch_size=3, generator=torch.Generator().manual_seed(0))
    assert p.shape == (20, 1, 3, 3)
    for patch in p[:, 0]:
        flat = int(patch[0, 0])
        img, rest = divmod(flat, 75)
        ch, pos = divmod(rest, 25)
        i, j = divmod(pos, 5)
        assert torch.equal(patch, x[img, ch, i:i + 3, j:j + 3])


# ---- jacob_cov -----------------------------------------------------------------------------------
def test_jacob_cov_of_linear_model_closed_form():
    # Every input gradient of Σ W x equals Σ_c W_c, so corr = all-ones: eigenvalues (B, 0, ..., 0).
    b, eps = 5, 1e-5
    net = nn.Linear(7, 3)
    x = torch.randn(b, 7, generator=torch.Generator().manual_seed(0))
    expected = -(math.log(b + eps) + 1 / (b + eps)) - (b - 1) * (math.log(eps) + 1 / eps)
    assert compute_proxy("jacov", net, (x, None), device="cpu") == pytest.approx(expected, rel=1e-6)


# ---- saliency (snip, grad_norm, plain, grasp, fisher) on softmax regression ------------------------
@pytest.fixture(scope="module")
def softmax_regression():
    g = np.random.default_rng(3)
    b, d, k = 6, 4, 3
    w, bias = g.standard_normal((k, d)), g.standard_normal(k)
    x, y = g.standard_normal((b, d)), g.integers(0, k, b)
    net = _linear(w, bias)
    w, bias, x = (np.asarray(t, dtype=np.float32).astype(np.float64) for t in (w, bias, x))
    logits = x @ w.T + bias
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dlogits = (p - np.eye(k)[y]) / b                     # ∂(mean CE)/∂logits
    grad = dlogits.T @ x                                  # ∂L/∂W
    hg = sum(np.outer((np.diag(pi) - np.outer(pi, pi)) @ (grad @ xi), xi) for pi, xi in zip(p, x)) / b
    batch = (torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.int64))
    return net, batch, dict(w=w, grad=grad, hg=hg, logits=logits, dlogits=dlogits, d=d)


@pytest.mark.parametrize("name, formula", [
    ("snip", lambda c: np.abs(c["w"] * c["grad"]).sum()),
    ("grad_norm", lambda c: np.linalg.norm(c["grad"])),
    ("plain", lambda c: (c["w"] * c["grad"]).sum()),
    ("grasp", lambda c: -(c["w"] * c["hg"]).sum()),
    ("fisher", lambda c: (0.5 * (c["logits"] * c["dlogits"]) ** 2).mean(0).sum() * c["d"]),
])
def test_saliency_closed_forms_on_softmax_regression(softmax_regression, name, formula):
    net, batch, c = softmax_regression
    assert compute_proxy(name, net, batch, device="cpu") == pytest.approx(formula(c), rel=1e-4)


# ---- params / flops ------------------------------------------------------------------------------
@pytest.mark.parametrize("arch, dataset, params, mflops", [
    (ALL_CONV3, "cifar10", 1_531_546, 220.11969),
    (ALL_CONV3, "cifar100", 1_537_396, 220.12554),
    (ALL_NONE, "cifar10", 73_306, 7.78305),
    (BEST, "cifar10", 1_288_506, 184.73025),
])
def test_params_and_flops_equal_the_nb201_api_values(arch, dataset, params, mflops):
    x = torch.zeros(1, 3, 32, 32)
    assert score_arch(arch, "params", (x, None), dataset=dataset, device="cpu").value * 1e6 == pytest.approx(
        params, abs=1e-3
    )
    assert score_arch(arch, "flops", (x, None), dataset=dataset, device="cpu").value == pytest.approx(mflops, abs=5e-6)


def test_flops_at_imagenet16_resolution():
    x = torch.zeros(1, 3, 16, 16)
    rec = score_arch(ALL_CONV3, "flops", (x, None), dataset="ImageNet16-120", device="cpu")
    assert rec.value == pytest.approx(55.03756, abs=5e-6)


# ---- spec §3.1 / §3.2 reference magnitudes (measured on an H100 with the same protocol) ------------
@pytest.mark.parametrize("arch, ln_synflow", [(ALL_CONV3, 114.8), (ALL_SKIP, 35.5)])
def test_synflow_matches_spec_reference_magnitudes(arch, ln_synflow):
    # torch_default init, BN removed, CIFAR-10 head; values vary by ~0.05 across seeds.
    net = build_network(arch, seed=0)
    x = torch.zeros(1, 3, 32, 32)
    assert compute_proxy("synflow_log", net, (x, None), device="cpu") == pytest.approx(ln_synflow, abs=0.2)


def test_synflow_float32_overflows_on_the_largest_arch():
    # spec §3.2: in float32 R = inf and synflow = NaN (0·inf) for all-nor_conv_3x3.
    rec = evaluate(
        "synflow", build_network(ALL_CONV3, seed=0), (torch.zeros(1, 3, 32, 32), None), device="cpu", dtype="float32"
    )
    assert rec.status in ("nan", "inf") and not math.isfinite(rec.value)


def test_nwot_all_skip_matches_spec_reference_value():
    # spec §3.1: all-skip_connect, batch 128 of N(0,1) inputs, torch_default init, seed 0 -> 1,273.2
    # (bound B·ln N_A = 1,359.4); the value moves by ~0.2 across seeds.
    torch.manual_seed(0)
    x = torch.randn(128, 3, 32, 32)
    value = compute_proxy("nwot", build_network(ALL_SKIP, seed=0), (x, None), device="cpu")
    assert value == pytest.approx(1273.2, abs=1.0) and value <= 128 * math.log(40_960)
