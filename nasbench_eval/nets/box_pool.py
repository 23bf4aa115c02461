"""The cells' 3×3 average pool (stride 1, padding 1, ``count_include_pad=False``) as a depthwise box sum.

PyTorch's CPU ``avg_pool2d`` takes 9-18x the time of a ReLU on the same channels-last tensor, and 75-103x on an
NCHW one. A depthwise 3×3 convolution with all-ones weights sums each window in the same row-major order, starting
from zero, so ``box_sum(x) / counts`` gives the native pool's values bit for bit, and oneDNN's depthwise kernel does
it 1.3-4x faster on channels-last input, 4-11x on NCHW (results/box_pool_cpu.json, `benchmarks/box_pool.py`). The
backward pass is the same box sum of ``g / counts``, which is how the native backward accumulates too, and the
double backward (grasp) is the forward again, as for the native op.

Bit-identity is not taken on trust: on first use per (device, dtype, shape, memory format, gradient or not) the
fast path's forward (and, where a gradient will flow, its backward and double backward) is compared with the native
op's on random data (drawn from a private generator, so the global RNG is untouched), and a mismatch keeps that key
on the native op for the rest of the process. Only float32 on the CPU in a standard or channels-last layout is
tried; everything else runs the native op.

>>> x = torch.randn(2, 4, 5, 5)
>>> torch.equal(AvgPool3x3()(x), F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
True
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_CHECKED: dict[tuple, bool] = {}
"""Self-check outcome per `_key`: True where the box path equals the native op bit for bit."""
_in_torch_func = getattr(torch._C, "_are_functorch_transforms_active", lambda: False)
"""Whether a `torch.func` transform (vmap, vjp, jvp, grad...) is running: no public API says so."""
_COUNTS: dict[tuple, torch.Tensor] = {}
"""`_counts` per (H, W, dtype, device)."""


def native_avg_pool3x3(x: torch.Tensor) -> torch.Tensor:
    """PyTorch's own pool: ``avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)``."""
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


def box_sum(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H, W): each pixel's 3×3 neighbourhood summed per channel, zeros outside the image."""
    ones = torch.ones(x.shape[1], 1, 3, 3, dtype=x.dtype, device=x.device)
    return F.conv2d(x, ones, padding=1, groups=x.shape[1])


def _counts(x: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W): how many of each window's 9 pixels lie inside the image (4, 6 or 9 for H, W ≥ 2)."""
    key = (*x.shape[2:], x.dtype, x.device)
    if key not in _COUNTS:
        _COUNTS[key] = box_sum(torch.ones(1, 1, *x.shape[2:], dtype=x.dtype, device=x.device))
    return _COUNTS[key]


class _BoxMean(torch.autograd.Function):
    """y = box_sum(x) / counts; its backward is `_BoxMeanTranspose`. Works under `torch.func` transforms and forward
    mode AD too."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return box_sum(x) / _counts(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _BoxMeanTranspose.apply(grad, x)

    @staticmethod
    def jvp(ctx, x_tangent):
        return _BoxMean.apply(x_tangent)                             # linear: the tangent is pooled alike


class _BoxMeanTranspose(torch.autograd.Function):
    """(g, x) -> box_sum(g / counts): the pool's backward, linear in g; its own backward is the pool for g and
    zeros for x.

    x is an input only to give this node the same edges as the native ``avg_pool2d_backward(grad, self)``, whose
    derivative for self is a zero tensor of self's size in the standard layout (autograd keeps only self's size
    and options). Autograd adds a double backward's gradient terms (grasp) along the graph's edges, and the layout
    of the first term sets the layout of the sum, so without that edge, or with zeros in x's own channels-last
    layout, grasp's last bits change (`tests/test_scores_pinned.py`).
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(grad, x):
        return box_sum(grad / _counts(grad))

    @staticmethod
    def setup_context(ctx, inputs, output):
        x = inputs[1]
        ctx.x_meta = (x.shape, x.dtype, x.device)

    @staticmethod
    def backward(ctx, grad_grad):
        shape, dtype, device = ctx.x_meta
        return _BoxMean.apply(grad_grad), torch.zeros(shape, dtype=dtype, device=device)

    @staticmethod
    def jvp(ctx, grad_tangent, x_tangent):
        return box_sum(grad_tangent / _counts(grad_tangent))           # linear in g, constant in x


def _key(x: torch.Tensor) -> tuple | None:
    """The self-check's key for `x`, or None where the box path is not tried.

    Whether a gradient will flow is part of the key: a forward-only caller (NASWOT, linear regions, under
    ``no_grad``) gets a forward-only check and never pays for the check's backward passes.
    """
    if x.device.type != "cpu" or x.dtype != torch.float32 or x.ndim != 4:
        return None
    if x.is_contiguous():
        layout = torch.contiguous_format
    elif x.is_contiguous(memory_format=torch.channels_last):
        layout = torch.channels_last
    else:
        return None
    return (x.device, x.dtype, tuple(x.shape), layout, torch.is_grad_enabled() and x.requires_grad)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.equal(a, b) and a.stride() == b.stride()


def _box_matches_native(shape: tuple, layout: torch.memory_format, with_grad: bool = True) -> bool:
    """Whether `_BoxMean`'s forward (and, `with_grad`, its backward and double backward) equal the native pool's
    on random data.

    One random image per tensor, repeated over the batch: every window still sums distinct values, and drawing a
    whole batch of normals would cost more than the pools themselves.
    """
    gen = torch.Generator().manual_seed(0)
    with torch.inference_mode(False), torch.enable_grad():
        x, g, gg = (torch.randn((1, *shape[1:]), generator=gen).expand(shape).contiguous(memory_format=layout)
                     for _ in range(3))
        if not with_grad:
            return _same(native_avg_pool3x3(x), _BoxMean.apply(x))
        x.requires_grad_(True)
        g.requires_grad_(True)
        results = []
        for pool in (native_avg_pool3x3, _BoxMean.apply):
            y = pool(x)
            # Scalar outputs: autograd's first call with explicit grad_outputs in a process imports more modules.
            (dx,) = torch.autograd.grad((y * g).sum(), x, create_graph=True)
            ddg, ddx = torch.autograd.grad((dx * gg).sum(), (g, x))
            results.append((y.detach(), dx.detach(), ddg, ddx))
    return all(_same(a, b) for a, b in zip(*results))


def avg_pool3x3(x: torch.Tensor) -> torch.Tensor:
    """The 3×3, stride-1, ``count_include_pad=False`` average pool of x (B, C, H, W), same shape out.

    Bit for bit PyTorch's ``avg_pool2d`` (values, strides, gradients); the box path where the self-check for
    x's key passed, the native op elsewhere.
    """
    key = _key(x)
    if key is None:
        return native_avg_pool3x3(x)
    if key not in _CHECKED:
        if _in_torch_func():            # the check runs autograd on fresh tensors, which torch.func forbids inside
            return native_avg_pool3x3(x)
        _CHECKED[key] = _box_matches_native(*key[2:])
    return _BoxMean.apply(x) if _CHECKED[key] else native_avg_pool3x3(x)


class AvgPool3x3(nn.Module):
    """``nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)``, computed by `avg_pool3x3`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return avg_pool3x3(x)
