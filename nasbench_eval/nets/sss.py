"""The NATS-Bench size-space (sss) network (spec/proxies.md §1.3; xautodl's DynamicShapeTinyNet).

Fixed cell genotype, one cell per stage, five searchable widths c0..c4::

    stem Conv3x3(3 -> c0) + BN -> cell(c0 -> c0) -> ResidualBlock(c0 -> c1) -> cell(c1 -> c2)
    -> ResidualBlock(c2 -> c3) -> cell(c3 -> c4) -> BN(c4) -> ReLU -> GAP -> Linear(c4 -> K)

A cell whose input and output widths differ maps Cin -> Cout on the edges leaving node 0 (see
`nasbench_eval.nets.ops.get_op`).

>>> net = build_sss_network("8:8:8:8:8")
>>> sum(p.numel() for p in net.parameters())
11714
"""
from __future__ import annotations

from .._validation import check_int
from ..exceptions import InvalidParameterError
from ..space import SizeArch
from .cell import Cell, parse_cell_spec
from .init import build_initialized
from .network import CellNetwork, ResidualBlock, stem

SSS_GENOTYPE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
"""The cell every size-space architecture uses."""


def _size_arch(channels, *, caller: str) -> SizeArch:
    if isinstance(channels, SizeArch):
        return channels
    if isinstance(channels, str):
        return SizeArch.from_str(channels)
    try:
        return SizeArch(tuple(channels))
    except TypeError as err:
        raise InvalidParameterError(
            f"{caller}(): channels={channels!r} is not a size architecture; expected a SizeArch, 'c0:c1:c2:c3:c4' or 5 "
            "ints."
        ) from err


def build_sss_network(channels, *, num_classes: int = 10, init: str = "torch_default",
                      seed: int | None = None) -> CellNetwork:
    """The NATS size-space network for widths ``c0:c1:c2:c3:c4``.

    Parameters
    ----------
    channels : SizeArch, str or sequence of 5 ints
        E.g. ``"8:16:24:32:64"``; each width one of 8, 16, ..., 64.
    num_classes, init, seed
        As in `nasbench_eval.nets.build_network`.

    Returns
    -------
    net : CellNetwork
        Maps (n, 3, H, W) to logits (n, K) and ``net.features(x)`` to (n, c4); H, W multiples of 4.
    """
    size = _size_arch(channels, caller="build_sss_network")
    num_classes = check_int("num_classes", num_classes, caller="build_sss_network", minimum=1)
    spec = parse_cell_spec(SSS_GENOTYPE)
    c0, c1, c2, c3, c4 = size.channels

    def factory() -> CellNetwork:
        first = stem(3, c0)  # modules are created in registration order (see init.py)
        body = [
            Cell(spec, c0, c0),
            ResidualBlock(c0, c1),
            Cell(spec, c1, c2),
            ResidualBlock(c2, c3),
            Cell(spec, c3, c4),
        ]
        return CellNetwork(first, body, c4, num_classes)

    return build_initialized(factory, init=init, seed=seed, caller="build_sss_network")
