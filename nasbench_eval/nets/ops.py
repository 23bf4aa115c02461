"""The five NAS-Bench-201 candidate operations (spec/proxies.md §1.1) and their width-changing forms (§1.3).

Every ReLU is an out-of-place ``nn.ReLU`` module, so forward hooks on ``nn.ReLU`` see every ReLU call
(NASWOT codes, linear regions) and a node tensor that feeds several edges is never overwritten.
All BatchNorms are PyTorch's defaults: affine, tracking running stats, eps=1e-5, momentum=0.1.

>>> op = get_op("nor_conv_3x3", 16, 16)
>>> sum(p.numel() for p in op.parameters())   # 9*C*C + 2*C
2336
"""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_int, check_option
from ..space import OPS
from .box_pool import AvgPool3x3

STRIDES = (1, 2)


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv(k x k, `stride`, padding k//2, no bias) -> BN.

    Maps (n, C_in, H, W) to (n, C_out, ceil(H/stride), ceil(W/stride)).
    """

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int = 1):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(C_out),
        )


class Zero(nn.Module):
    """The `none` op: zeros of the output shape.

    With C_in == C_out the result is ``x * 0`` (strided), which stays attached to the autograd graph
    (so NaN/inf inputs give NaN, as in the references). With C_in != C_out it is a fresh zero tensor
    with C_out channels (the NATS size-space reference does the same).
    """

    def __init__(self, C_in: int, C_out: int, stride: int = 1):
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.C_in == self.C_out:
            return x.mul(0.0)
        return x.new_zeros((x.shape[0], self.C_out, *x.shape[2:]))

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class AvgPool(nn.Module):
    """The `avg_pool_3x3` op: [ReLU -> Conv1x1 -> BN if C_in != C_out] -> AvgPool(3, stride, pad 1,
    count_include_pad=False); at stride 1 (every NB201 cell) the pool is `AvgPool3x3`, the native pool's values
    computed faster."""

    def __init__(self, C_in: int, C_out: int, stride: int = 1):
        super().__init__()
        self.preprocess = ReLUConvBN(C_in, C_out, 1) if C_in != C_out else None
        self.pool = AvgPool3x3() if stride == 1 else nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x if self.preprocess is None else self.preprocess(x))


class FactorizedReduce(nn.Module):
    """`skip_connect` when the shape changes.

    stride 1: Conv1x1(C_in -> C_out, no bias) -> BN, no ReLU (NATS size space, §1.3).
    stride 2: ReLU, then two stride-2 Conv1x1 on x and on x shifted by one pixel, concatenated
    (C_out//2 and C_out - C_out//2 channels), then BN (the DARTS/NB201 reduction form).
    """

    def __init__(self, C_in: int, C_out: int, stride: int = 1):
        super().__init__()
        self.stride = stride
        if stride == 1:
            self.relu = None
            self.convs = nn.ModuleList([nn.Conv2d(C_in, C_out, 1, bias=False)])
        else:
            self.relu = nn.ReLU(inplace=False)
            halves = (C_out // 2, C_out - C_out // 2)
            self.convs = nn.ModuleList([nn.Conv2d(C_in, c, 1, stride=stride, bias=False) for c in halves])
        self.bn = nn.BatchNorm2d(C_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.relu is None:
            return self.bn(self.convs[0](x))
        x = self.relu(x)
        shifted = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1))


def get_op(name: str, C_in: int, C_out: int, stride: int = 1) -> nn.Module:
    """Build one candidate operation by name.

    Parameters
    ----------
    name : {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"}
        The op, spelled as in the benchmark string.
    C_in, C_out : int
        Input and output channels (equal inside NB201 cells; different on the first edges of a
        NATS size-space cell whose width changes).
    stride : {1, 2}, default=1
        Spatial stride; NB201 and NATS cells only use 1.

    Returns
    -------
    op : nn.Module
        Maps (n, C_in, H, W) to (n, C_out, ceil(H/stride), ceil(W/stride)).

    Raises
    ------
    InvalidParameterError
        For an unknown name, non-positive channels or a stride other than 1 or 2.
    """
    check_option("name", name, OPS, caller="get_op")
    C_in = check_int("C_in", C_in, caller="get_op", minimum=1)
    C_out = check_int("C_out", C_out, caller="get_op", minimum=1)
    stride = check_option("stride", check_int("stride", stride, caller="get_op"), STRIDES, caller="get_op")
    if name == "none":
        return Zero(C_in, C_out, stride)
    if name == "skip_connect":
        return nn.Identity() if (C_in == C_out and stride == 1) else FactorizedReduce(C_in, C_out, stride)
    if name == "avg_pool_3x3":
        return AvgPool(C_in, C_out, stride)
    return ReLUConvBN(C_in, C_out, 3 if name == "nor_conv_3x3" else 1, stride)
