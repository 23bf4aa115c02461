"""Parameter and FLOP counts with the NB201 API's conventions (spec/proxies.md §1.2).

- params: elements of all ``nn.Parameter`` s (conv kernels, BN gamma/beta, linear weight and bias);
  ops on dead paths count too; independent of the resolution.
- FLOPs: per-image multiply-accumulates (MACs) of Conv2d and Linear layers only (k*k*C_in/groups*C_out*H_out*W_out
  per conv, + C_out*H_out*W_out with a bias; in*out + out per Linear). BN, ReLU, pooling and additions are
  not counted. The API reports both in millions; the functions here return exact integers.

Closed forms for the NB201 network (C=16, N=5; n3 / n1 = number of nor_conv_3x3 / nor_conv_1x1 edges):
params = 72,656 + 65 K + 243,040 n3 + 28,000 n1, MFLOPs at 32x32 = 7.7824 + 0.000065 K + 35.38944 n3 + 3.93216 n1.

>>> nb201_params("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")
559386
>>> nb201_flops("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|") / 1e6
78.56193
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._validation import check_int
from ..data.specs import get_spec
from ..exceptions import InvalidParameterError
from ..space import Arch
from .cell import parse_cell_spec
from .hooks import forward_hooks

def dataset_spec(dataset: str) -> tuple[int, int]:
    """(num_classes, resolution) of a benchmark dataset, from the one dataset table (`nasbench_eval.data.specs`).

    >>> dataset_spec("ImageNet16-120")
    (120, 16)
    """
    spec = get_spec(dataset, caller="dataset_spec")
    return spec.num_classes, spec.resolution


def count_params(net: nn.Module) -> int:
    """Number of parameter elements of `net` (each shared tensor once)."""
    if not isinstance(net, nn.Module):
        raise InvalidParameterError(
            f"count_params(): net={type(net).__name__} is not an nn.Module; expected a network."
        )
    return sum(p.numel() for p in net.parameters())


def _macs_hook(total: list[int]):
    def hook(module, inputs, output):
        per_image = output[0].numel()  # C_out * H_out * W_out, or out_features
        if isinstance(module, nn.Conv2d):
            k_h, k_w = module.kernel_size
            macs = k_h * k_w * (module.in_channels // module.groups) * per_image
        else:
            macs = module.in_features * per_image
        total[0] += macs + (per_image if module.bias is not None else 0)
    return hook


def count_flops(net: nn.Module, input_shape: tuple[int, ...] = (1, 3, 32, 32)) -> int:
    """Per-image multiply-accumulates of every Conv2d and Linear call in one forward pass.

    Parameters
    ----------
    net : nn.Module
        The network; it is run once in eval mode without gradients on zeros of `input_shape`, on the
        device and dtype of its first parameter, and its train/eval modes are restored after, so
        BN running statistics are not changed.
    input_shape : tuple of int, default=(1, 3, 32, 32)
        (n, C, H, W); use (1, 3, 16, 16) for ImageNet16-120. The count is per image (divided by n).

    Returns
    -------
    macs : int
        Divide by 1e6 for the benchmark's "MFLOPs".
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if not shape or len(shape) != 4 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape):
        raise InvalidParameterError(
            f"count_flops(): input_shape={input_shape!r} is not an image batch shape; "
            "expected 4 positive ints (n, C, H, W) like (1, 3, 32, 32)."
        )
    if not isinstance(net, nn.Module):
        raise InvalidParameterError(f"count_flops(): net={type(net).__name__} is not an nn.Module; expected a network.")
    ref = next(net.parameters(), torch.empty(0))
    total = [0]
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    modes = [(m, m.training) for m in net.modules()]
    try:
        net.eval()
        with forward_hooks(layers, _macs_hook(total)), torch.no_grad():
            net(torch.zeros(shape, dtype=ref.dtype, device=ref.device))
    finally:
        for m, training in modes:
            m.training = training
    return total[0]


def _conv_counts(arch, *, caller: str) -> tuple[int, int]:
    """(n3, n1): conv3x3 and conv1x1 ops over all edges (mixed edges count each op)."""
    spec = parse_cell_spec(arch, caller=caller)
    ops = [op for edge in spec for op in edge]
    return ops.count("nor_conv_3x3"), ops.count("nor_conv_1x1")


def _params_formula(n3, n1, K, C, N):
    """Parameters of the C, N network with n3 / n1 conv edges (ints or int arrays): stem, cells, reductions, head."""
    widths = (C, 2 * C, 4 * C)
    cells = sum(N * (n3 * (9 * w * w + 2 * w) + n1 * (w * w + 2 * w)) for w in widths)
    reductions = sum(56 * w * w + 8 * w for w in widths[:2])  # 9*w*2w + 9*(2w)^2 + w*2w kernels, 2 BN(2w)
    return 27 * C + 2 * C + cells + reductions + 2 * widths[2] + widths[2] * K + K


def _flops_formula(n3, n1, K, C, N, R):
    """Per-image MACs of the same network at R x R input (stages at R, R/2, R/4)."""
    widths, sides = (C, 2 * C, 4 * C), (R, R // 2, R // 4)
    cells = sum(N * (9 * n3 + n1) * w * w * s * s for w, s in zip(widths, sides))
    reductions = sum(56 * w * w * s * s for w, s in zip(widths[:2], sides[1:]))  # at the output side
    return 27 * C * R * R + cells + reductions + widths[2] * K + K


def _check_net_args(num_classes, C, N, *, caller: str) -> tuple[int, int, int]:
    K = check_int("num_classes", num_classes, caller=caller, minimum=1)
    return K, check_int("C", C, caller=caller, minimum=1), check_int("N", N, caller=caller, minimum=1)


def _check_resolution(resolution, *, caller: str) -> int:
    R = check_int("resolution", resolution, caller=caller, minimum=4)
    if R % 4:
        raise InvalidParameterError(
            f"{caller}(): resolution={resolution!r} is not a multiple of 4; expected e.g. 32 (CIFAR) or 16 "
            "(ImageNet16-120)."
        )
    return R


def nb201_params(arch, num_classes: int = 10, *, C: int = 16, N: int = 5) -> int:
    """Closed-form parameter count of ``build_network(arch, C=C, N=N, num_classes=num_classes)``.

    `arch` is anything `build_network` takes (mixed edges count every op they hold).
    """
    n3, n1 = _conv_counts(arch, caller="nb201_params")
    K, C, N = _check_net_args(num_classes, C, N, caller="nb201_params")
    return _params_formula(n3, n1, K, C, N)


def nb201_flops(arch, resolution: int = 32, num_classes: int = 10, *, C: int = 16, N: int = 5) -> int:
    """Closed-form per-image MACs of ``build_network(arch, ...)`` at resolution x resolution input.

    Equal to ``count_flops(net, (1, 3, resolution, resolution))``; divide by 1e6 for "MFLOPs".
    `resolution` must be a multiple of 4 (32 for CIFAR, 16 for ImageNet16-120).
    """
    n3, n1 = _conv_counts(arch, caller="nb201_flops")
    K, C, N = _check_net_args(num_classes, C, N, caller="nb201_flops")
    R = _check_resolution(resolution, caller="nb201_flops")
    return _flops_formula(n3, n1, K, C, N, R)


def space_costs(arch_strs: Iterable[str], *, num_classes: int = 10, resolution: int = 32) -> pd.DataFrame:
    """Params and MFLOPs of many NB201 architectures (C=16, N=5), in the given order.

    Parameters
    ----------
    arch_strs : iterable of str
        Official strings, e.g. ``[bench.arch_str(i) for i in range(len(bench))]`` for benchmark order.
    num_classes, resolution : int
        See `dataset_spec` (CIFAR-10: 10, 32; CIFAR-100: 100, 32; ImageNet16-120: 120, 16).

    Returns
    -------
    costs : pandas.DataFrame
        One row per input, columns ``arch`` (str), ``params`` (int64, count) and ``mflops``
        (float64, millions of MACs per image), with a default RangeIndex (row i = i-th string).
    """
    K, C, N = _check_net_args(num_classes, 16, 5, caller="space_costs")
    R = _check_resolution(resolution, caller="space_costs")
    if isinstance(arch_strs, str):
        raise InvalidParameterError(
            f"space_costs(): arch_strs={arch_strs[:40]!r} is one string; expected an iterable of architecture strings."
        )
    strs = list(arch_strs)
    counts = np.array([_conv_counts(Arch.from_str(s), caller="space_costs") for s in strs], dtype=np.int64).reshape(
        -1, 2
    )
    n3, n1 = counts[:, 0], counts[:, 1]
    return pd.DataFrame({
        "arch": pd.Series(strs, dtype=object),
        "params": _params_formula(n3, n1, K, C, N).astype(np.int64),
        "mflops": _flops_formula(n3, n1, K, C, N, R) / 1e6,
    })
