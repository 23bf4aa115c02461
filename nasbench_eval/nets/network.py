"""The NB201 / NATS-Bench tss network and its TE-NAS variants (spec/proxies.md §1.1, §1.5, §3.4).

Macro structure (xautodl's TinyNetwork; module names follow it)::

    stem: Conv3x3(3 -> C, no bias) -> BN
    cells: N cells(C), ResidualBlock(C -> 2C), N cells(2C), ResidualBlock(2C -> 4C), N cells(4C)
    lastact: BN(4C) -> ReLU;  global_pooling: AdaptiveAvgPool2d(1);  classifier: Linear(4C -> K)

Variants, all from the same builder:

- ``build_network(arch)`` -- the benchmark network (C=16, N=5).
- ``build_network(arch, C=3, N=1)`` -- TE-NAS's narrow NTK skeleton.
- ``build_network([{...}, ...])`` -- a supernet whose edges hold op sets (TE-NAS pruning).
- ``build_thin_network(arch)`` -- TE-NAS's thin linear-region network: no stem, one cell of width 1,
  then the head; input (n, 1, 3, 3).

>>> net = build_network("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
...                     "+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
>>> sum(p.numel() for p in net.parameters())
1531546
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .._validation import check_int
from .cell import Cell, parse_cell_spec
from .init import build_initialized
from .ops import ReLUConvBN


class ResidualBlock(nn.Module):
    """The reduction block: shortcut(x) + conv_b(conv_a(x)), no activation after the sum.

    conv_a = ReLU -> Conv3x3(C_in -> C_out, stride 2) -> BN; conv_b = ReLU -> Conv3x3(C_out -> C_out) -> BN;
    shortcut = AvgPool2d(2, 2) -> Conv1x1(C_in -> C_out, no bias), without BN or ReLU.
    Maps (n, C_in, H, W) to (n, C_out, H/2, W/2); H and W must be even.
    """

    def __init__(self, C_in: int, C_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride=2)
        self.conv_b = ReLUConvBN(C_out, C_out, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2, 0), nn.Conv2d(C_in, C_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class CellNetwork(nn.Module):
    """stem -> body (cells and residual blocks) -> BN -> ReLU -> global average pool -> Linear.

    Parameters
    ----------
    stem : nn.Module or None
        None feeds the input straight into the body (thin network).
    body : sequence of nn.Module
        Stored as ``self.cells``, in order.
    C_last : int
        Channels of the body's output.
    num_classes : int
        Logits per input.
    """

    def __init__(self, stem: nn.Module | None, body: Sequence[nn.Module], C_last: int, num_classes: int):
        super().__init__()
        self.stem = stem if stem is not None else nn.Identity()
        self.cells = nn.ModuleList(body)
        self.lastact = nn.Sequential(nn.BatchNorm2d(C_last), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_last, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features, shape (n, C_last), for inputs (n, C_in, H, W)."""
        x = self.stem(x)
        for block in self.cells:
            x = block(x)
        return self.global_pooling(self.lastact(x)).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (n, num_classes), for inputs (n, C_in, H, W)."""
        return self.classifier(self.features(x))


def stem(C_in: int, C: int) -> nn.Sequential:
    """Conv3x3(C_in -> C, pad 1, no bias) -> BN(C)."""
    return nn.Sequential(nn.Conv2d(C_in, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))


def build_network(arch, *, C: int = 16, N: int = 5, num_classes: int = 10, init: str = "torch_default",
                  seed: int | None = None) -> CellNetwork:
    """The NB201 network of an architecture (or a supernet with mixed edges).

    Parameters
    ----------
    arch : Arch, str or sequence of 6 items
        An `Arch`, an official string, or one item per edge (EDGES order), each an op name or an
        iterable of op names; an edge with k ops outputs the mean of the k ops (TE-NAS supernet).
    C : int, default=16
        Channels of the first stage (stages have C, 2C, 4C). TE-NAS's narrow NTK net: C=3.
    N : int, default=5
        Cells per stage. TE-NAS's narrow NTK net: N=1.
    num_classes : int, default=10
        K: 10 for CIFAR-10, 100 for CIFAR-100, 120 for ImageNet16-120 (see `dataset_spec`).
    init : {"torch_default", "kaiming_normal_fan_in", "kaiming_normal_fan_out"}, default="torch_default"
        Weight initialization (spec §2.3; see `init_weights`).
    seed : int, optional
        With a seed, weights come from ``torch.Generator().manual_seed(seed)`` on the CPU in registration
        order, identical on every device, and the global RNG is left untouched. None draws from the
        global RNG.

    Returns
    -------
    net : CellNetwork
        On the CPU, in training mode. ``net(x)`` maps (n, 3, H, W) to logits (n, K) and
        ``net.features(x)`` to the pooled (n, 4C) features; H and W must be multiples of 4
        (32 for CIFAR, 16 for ImageNet16-120).

    Raises
    ------
    InvalidParameterError
        For a malformed architecture, non-positive C, N or num_classes, an unknown init, or a bad seed.
    """
    spec = parse_cell_spec(arch, caller="build_network")
    C = check_int("C", C, caller="build_network", minimum=1)
    N = check_int("N", N, caller="build_network", minimum=1)
    num_classes = check_int("num_classes", num_classes, caller="build_network", minimum=1)

    def factory() -> CellNetwork:  # modules are created in registration order (see init.py)
        first, body = stem(3, C), []
        for s, width in enumerate((C, 2 * C, 4 * C)):
            if s > 0:
                body.append(ResidualBlock(width // 2, width))
            body.extend(Cell(spec, width, width) for _ in range(N))
        return CellNetwork(first, body, 4 * C, num_classes)

    return build_initialized(factory, init=init, seed=seed, caller="build_network")


def build_thin_network(arch, *, C: int = 1, num_classes: int = 10, init: str = "torch_default",
                       seed: int | None = None) -> CellNetwork:
    """TE-NAS's thin network for counting linear regions (spec §3.4).

    No stem and no residual blocks: input -> one cell of width C -> BN -> ReLU -> GAP -> Linear(C -> K).
    With C=1 every conv edge is ReLU -> Conv(1 -> 1) -> BN(1); on 1x3x3 inputs each ReLU site has
    9 units, so one input's activation pattern has at most 7 * 9 = 63 bits.

    Parameters
    ----------
    arch : Arch, str or sequence of 6 items
        As in `build_network` (mixed edges allowed: TE-NAS's thin supernet).
    C : int, default=1
        Channels of the input and of the cell.
    num_classes, init, seed
        As in `build_network`.

    Returns
    -------
    net : CellNetwork
        Maps (n, C, H, W) (TE-NAS: (n, 1, 3, 3)) to logits (n, K); any H, W >= 1.
    """
    spec = parse_cell_spec(arch, caller="build_thin_network")
    C = check_int("C", C, caller="build_thin_network", minimum=1)
    num_classes = check_int("num_classes", num_classes, caller="build_thin_network", minimum=1)
    return build_initialized(lambda: CellNetwork(None, [Cell(spec, C, C)], C, num_classes),
                             init=init, seed=seed, caller="build_thin_network")
