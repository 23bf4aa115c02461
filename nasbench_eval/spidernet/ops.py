"""The DARTS operation set SpiderNet places on its edges (paper §3.1, §4.1).

Every op maps (n, C, H, W) to (n, C, H, W): SpiderNet changes resolution and width only in the
per-input adapters of a cell (`model.InputAdapter`), so any op can sit on any edge and a mutation
never has to reason about shapes. ReLUs are out-of-place ``nn.ReLU`` modules, so the NTK and
linear-region hooks of `nasbench_eval.proxies` see every one of them.

>>> op = get_op("sep_conv_3x3", 4)
>>> op(torch.zeros(2, 4, 8, 8)).shape
torch.Size([2, 4, 8, 8])
"""
from __future__ import annotations

import torch  # noqa: F401  (the module doctest uses it)
from torch import nn

from .._validation import check_int, check_option
from ..nets.box_pool import AvgPool3x3

OPS = ("identity", "max_pool_3x3", "avg_pool_3x3", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
"""Op names, in the order the paper lists them; a new edge carries all of them."""


def _relu_dw_pw_bn(C: int, kernel_size: int, dilation: int) -> list[nn.Module]:
    """ReLU -> depthwise k x k conv (same padding) -> pointwise 1 x 1 conv -> BN, all at C channels."""
    pad = dilation * (kernel_size - 1) // 2
    return [
        nn.ReLU(inplace=False),
        nn.Conv2d(C, C, kernel_size, padding=pad, dilation=dilation, groups=C, bias=False),
        nn.Conv2d(C, C, 1, bias=False),
        nn.BatchNorm2d(C),
    ]


def sep_conv(C: int, kernel_size: int) -> nn.Sequential:
    """DARTS separable conv: the ReLU-depthwise-pointwise-BN block applied twice."""
    return nn.Sequential(*_relu_dw_pw_bn(C, kernel_size, 1), *_relu_dw_pw_bn(C, kernel_size, 1))


def dil_conv(C: int, kernel_size: int) -> nn.Sequential:
    """DARTS dilated conv: one ReLU-depthwise(dilation 2)-pointwise-BN block."""
    return nn.Sequential(*_relu_dw_pw_bn(C, kernel_size, 2))


def get_op(name: str, C: int) -> nn.Module:
    """Build op `name` at `C` channels, stride 1 (output shape = input shape).

    Parameters
    ----------
    name : str
        One of `OPS`.
    C : int
        Channels in and out (>= 1).

    Returns
    -------
    op : nn.Module
    """
    check_option("name", name, OPS, caller="get_op")
    C = check_int("C", C, caller="get_op", minimum=1)
    if name == "identity":
        return nn.Identity()
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    if name == "avg_pool_3x3":
        return AvgPool3x3()
    kind, _, k = name.split("_")
    return (sep_conv if kind == "sep" else dil_conv)(C, int(k[0]))
