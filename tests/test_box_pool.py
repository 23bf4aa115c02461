"""The cells' 3×3 average pool as a depthwise box sum: bit for bit PyTorch's avg_pool2d, or the native op itself."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_eval.nets import box_pool
from nasbench_eval.nets.box_pool import _BoxMean, avg_pool3x3, native_avg_pool3x3
from nasbench_eval.nets.ops import get_op
from nasbench_eval.spidernet.ops import get_op as spider_op

NB201_SHAPES = [(64, 16, 32, 32), (64, 32, 16, 16), (64, 64, 8, 8), (128, 16, 32, 32), (1, 16, 32, 32)]
LAYOUTS = [torch.contiguous_format, torch.channels_last]


def _pool_and_grads(pool, x, g, gg):
    """(y, dL/dx for cotangent g, and the double backward's gradients w.r.t. g and x for cotangent gg)."""
    x = x.detach().requires_grad_(True)
    g = g.detach().requires_grad_(True)
    y = pool(x)
    (dx,) = torch.autograd.grad(y, x, g, create_graph=True)
    ddg, ddx = torch.autograd.grad(dx, (g, x), gg)
    return y.detach(), dx.detach(), ddg, ddx


def _assert_bitwise_same(pool, shape, layout, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x, g, gg = (torch.randn(shape, generator=gen).contiguous(memory_format=layout) for _ in range(3))
    for ours, theirs in zip(_pool_and_grads(pool, x, g, gg), _pool_and_grads(native_avg_pool3x3, x, g, gg)):
        assert torch.equal(ours, theirs)
        assert ours.stride() == theirs.stride()


@pytest.mark.parametrize("layout", LAYOUTS, ids=["nchw", "channels_last"])
@pytest.mark.parametrize("shape", NB201_SHAPES, ids=str)
def test_box_mean_equals_the_native_pool_bit_for_bit_on_nb201_shapes(shape, layout):
    """The box path itself, not the dispatcher (which would fall back to the native op on a mismatch)."""
    _assert_bitwise_same(_BoxMean.apply, shape, layout)


def test_the_box_path_is_taken_on_nb201_shapes(monkeypatch):
    monkeypatch.setattr(box_pool, "_CHECKED", {})
    x = torch.randn(8, 16, 32, 32).contiguous(memory_format=torch.channels_last)
    avg_pool3x3(x)                                                   # runs the self-check
    assert list(box_pool._CHECKED.values()) == [True]
    calls = []
    monkeypatch.setattr(_BoxMean, "apply", lambda x: calls.append(x.shape) or native_avg_pool3x3(x))
    avg_pool3x3(x)
    assert calls == [x.shape]


@settings(max_examples=40, deadline=None)
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 7), st.integers(1, 7)),
       channels_last=st.booleans(), seed=st.integers(0, 2**16))
def test_the_box_path_and_the_dispatcher_equal_the_native_pool_on_any_shape(shape, channels_last, seed):
    """Values, strides, gradient and double-backward gradients, including 1-pixel-wide images."""
    layout = torch.channels_last if channels_last else torch.contiguous_format
    _assert_bitwise_same(_BoxMean.apply, shape, layout, seed)
    _assert_bitwise_same(avg_pool3x3, shape, layout, seed)


def test_a_failed_self_check_keeps_the_native_pool(monkeypatch):
    monkeypatch.setattr(box_pool, "_CHECKED", {})
    monkeypatch.setattr(box_pool, "_COUNTS", {})                     # counts from the broken sum stay in here
    monkeypatch.setattr(box_pool, "box_sum", lambda x: F.conv2d(x, torch.full((x.shape[1], 1, 3, 3), 1.0000001),
                                                                padding=1, groups=x.shape[1]))
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(avg_pool3x3(x), native_avg_pool3x3(x))
    assert list(box_pool._CHECKED.values()) == [False]


@pytest.mark.parametrize("make", [lambda: torch.randn(2, 4, 6, 6, dtype=torch.float64),
                                  lambda: torch.randn(2, 4, 6, 6)[:, :, ::2], lambda: torch.randn(4, 6, 6)],
                         ids=["float64", "strided", "3d"])
def test_other_inputs_run_the_native_pool(make, monkeypatch):
    monkeypatch.setattr(box_pool, "_CHECKED", {})
    x = make()
    assert torch.equal(avg_pool3x3(x), native_avg_pool3x3(x))
    assert box_pool._CHECKED == {}


def test_the_self_check_leaves_the_global_rng_alone(monkeypatch):
    monkeypatch.setattr(box_pool, "_CHECKED", {})
    x = torch.randn(2, 4, 6, 6)
    state = torch.get_rng_state()
    avg_pool3x3(x)
    assert box_pool._CHECKED and torch.equal(torch.get_rng_state(), state)


def test_the_self_check_runs_under_no_grad_and_inference_mode(monkeypatch):
    monkeypatch.setattr(box_pool, "_CHECKED", {})
    x = torch.randn(2, 4, 6, 6)
    with torch.inference_mode():
        y = avg_pool3x3(x)
    assert list(box_pool._CHECKED.values()) == [True]
    assert torch.equal(y, native_avg_pool3x3(x))


def test_a_forward_only_call_checks_the_forward_only_and_a_gradient_call_checks_the_rest(monkeypatch):
    """Forward-only scorers (NASWOT) must not pay for starting autograd's engine."""
    monkeypatch.setattr(box_pool, "_CHECKED", {})
    x = torch.randn(2, 4, 6, 6, requires_grad=True)
    with monkeypatch.context() as m:
        m.setattr(torch.autograd, "grad", lambda *a, **k: pytest.fail("a forward-only check ran a backward"))
        with torch.no_grad():
            avg_pool3x3(x)
    avg_pool3x3(x)
    assert sorted(key[-1] for key in box_pool._CHECKED) == [False, True]
    assert all(box_pool._CHECKED.values())


def test_nb201_and_spidernet_pools_use_it():
    assert isinstance(get_op("avg_pool_3x3", 8, 8).pool, box_pool.AvgPool3x3)
    assert isinstance(spider_op("avg_pool_3x3", 8), box_pool.AvgPool3x3)
    assert isinstance(get_op("avg_pool_3x3", 8, 8, stride=2).pool, torch.nn.AvgPool2d)


def test_the_box_path_works_under_torch_func_transforms():
    """vmap over vjp (benchmarks/ntk_rows.py pulls NTK rows back this way) and jvp, against the native pool's."""
    x = torch.randn(3, 4, 6, 6).contiguous(memory_format=torch.channels_last)
    cotangents, tangent = torch.randn(5, 3, 4, 6, 6), torch.randn_like(x)
    rows = torch.func.vmap(torch.func.vjp(_BoxMean.apply, x)[1])(cotangents)[0]
    native_rows = torch.func.vmap(torch.func.vjp(native_avg_pool3x3, x)[1])(cotangents)[0]
    torch.testing.assert_close(rows, native_rows, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(torch.func.jvp(_BoxMean.apply, (x,), (tangent,))[1], native_avg_pool3x3(tangent),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("checked_before", [False, True], ids=["first-call-inside", "checked-outside"])
def test_the_dispatcher_under_torch_func_uses_only_shapes_checked_outside(checked_before, monkeypatch):
    """The self-check cannot run inside a transform: a shape first met there runs the native pool."""
    monkeypatch.setattr(box_pool, "_CHECKED", {})
    x = torch.randn(3, 4, 6, 6).contiguous(memory_format=torch.channels_last)
    if checked_before:
        avg_pool3x3(x.clone().requires_grad_(True))
    sums = []
    real_box_sum = box_pool.box_sum
    monkeypatch.setattr(box_pool, "box_sum", lambda t: sums.append(t.shape) or real_box_sum(t))
    out, pullback = torch.func.vjp(avg_pool3x3, x)
    torch.testing.assert_close(out, native_avg_pool3x3(x), rtol=0, atol=0)
    torch.testing.assert_close(pullback(torch.ones_like(out))[0],
                               torch.func.vjp(native_avg_pool3x3, x)[1](torch.ones_like(out))[0], rtol=1e-6, atol=1e-7)
    assert bool(sums) == checked_before


@pytest.mark.parametrize("layout", LAYOUTS, ids=["nchw", "channels_last"])
def test_the_box_path_gives_the_same_bits_at_any_thread_count(layout):
    """The self-check's key leaves out the thread count: each output is summed by one thread, in one order."""
    from nasbench_eval.executors.base import torch_threads

    gen = torch.Generator().manual_seed(0)
    x, g = (torch.randn(16, 16, 32, 32, generator=gen).contiguous(memory_format=layout) for _ in range(2))
    runs = []
    for threads in (1, 2):
        with torch_threads(threads):
            runs.append(_pool_and_grads(_BoxMean.apply, x, g, g))
    assert all(torch.equal(a, b) for a, b in zip(*runs))
