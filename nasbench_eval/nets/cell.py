"""The NB201 cell: 4 nodes, 6 edges, each edge one op or a mixed set of ops (spec/proxies.md §1.1, §1.5).

Node 0 is the cell input; node j = sum over incoming edges of edge(node i); the cell output is node 3.
A *mixed* edge holding k ops outputs ``sum(op(x) * (1/k))``, i.e. the ops weighted by the softmax of
equal architecture logits, as in TE-NAS's pruning supernet.

Module names do not depend on which other ops share an edge (``edges.<e>.ops.<op name>``), so a
sub-supernet can take the weights of a larger one with ``load_state_dict(big.state_dict(), strict=False)``.

>>> parse_cell_spec("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")[0]
('nor_conv_3x3',)
>>> parse_cell_spec([{"nor_conv_3x3", "skip_connect"}] + ["none"] * 5)[0]
('skip_connect', 'nor_conv_3x3')
"""
from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from ..exceptions import InvalidParameterError
from ..space import EDGES, OPS, Arch
from .ops import get_op

CellSpec = tuple[tuple[str, ...], ...]
"""6 tuples of op names (one per edge, in EDGES order), each sorted in OPS order."""

_OP_RANK = {name: i for i, name in enumerate(OPS)}

INCOMING = tuple(tuple((e, src) for e, (src, d) in enumerate(EDGES) if d == dst) for dst in (1, 2, 3))
"""For nodes 1..3: the (edge index, source node) pairs that feed it, in EDGES order."""


def add_all(terms: Iterable[torch.Tensor]) -> torch.Tensor:
    """t_1 + t_2 + ... in that order, starting from an alias of t_1 (no copy).

    Python's ``sum`` would start with ``0 + t_1``: one more full pass over t_1 (about 5 % of a NASWOT forward at
    batch 128 on the CPU), for the same values up to the sign of zeros. The alias takes that node's place in the
    autograd graph and, like it, passes the gradient through untouched, so a shared tensor's gradients are still
    accumulated in the same order and backward-based scores keep their last bits (`tests/test_scores_pinned.py`).
    ``view_as`` would not do: its backward is a view op, which changes grasp's double-backward graph.
    """
    first, *rest = terms
    return functools.reduce(operator.add, rest, torch.ops.aten.alias(first))


def cell_forward(x: torch.Tensor, edge: Callable[[int, torch.Tensor], torch.Tensor],
                 skip: frozenset[int] = frozenset()) -> torch.Tensor:
    """The NB201 cell's node sums: node 0 = x, node j = Σ over its incoming edges e of ``edge(e, node src)``.

    Returns node 3. Edges in `skip` are left out of the sums, and a node all of whose incoming edges are
    skipped is not computed (`unused_edges` gives a `skip` under which that is never read).

    The one cell forward of the single (`Cell`), supernet (`SuperCell`) and grouped
    (`nasbench_eval.engine.grouped.GroupedCell`) networks; each says through `edge` what an edge computes.
    """
    nodes: list[torch.Tensor | None] = [x]
    for incoming in INCOMING:
        terms = [edge(e, nodes[src]) for e, src in incoming if e not in skip]
        nodes.append(add_all(terms) if terms else None)
    return nodes[-1]


def unused_edges(spec: CellSpec) -> frozenset[int]:
    """The edges a cell's output does not depend on, up to the sign of zeros: those `Cell.skip_unused` leaves out.

    Node j < 3 is *used* if some path j -> 3 avoids every edge whose only op is ``none``. The edges into an
    unused node are unused, and so are the ``none`` edges leaving it: they add ``h · 0`` to a used node, and
    leaving that out changes no value while h is finite, only the sign of exact zeros. Empty for a dead cell
    (node 0 unused, spec §1.4), whose output is left as computed.

    >>> sorted(unused_edges(parse_cell_spec("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")))
    [0, 1, 2, 4, 5]
    >>> unused_edges(parse_cell_spec("|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|"))
    frozenset()
    """
    used = {3}
    for e in reversed(range(len(EDGES))):           # EDGES is in topological order
        src, dst = EDGES[e]
        if spec[e] != ("none",) and dst in used:
            used.add(src)
    if 0 not in used:
        return frozenset()
    return frozenset(e for e, (src, dst) in enumerate(EDGES) if dst not in used or src not in used)


def _edge_ops(item, edge: int, *, caller: str) -> tuple[str, ...]:
    """One edge's op name or iterable of op names as a sorted, duplicate-free tuple."""
    names = [item] if isinstance(item, str) else item
    try:
        names = list(names)
    except TypeError as err:
        raise InvalidParameterError(
            f"{caller}(): edge {edge} is {item!r}; expected an op name or an iterable of op names from {list(OPS)}."
        ) from err
    unknown = [n for n in names if not isinstance(n, str) or n not in _OP_RANK]
    if not names or unknown or len(set(names)) != len(names):
        what = f"has unknown ops {unknown!r}" if unknown else ("is empty" if not names else "repeats an op")
        raise InvalidParameterError(
            f"{caller}(): edge {edge}={item!r} {what}; expected one or more distinct op names from {list(OPS)}."
        )
    return tuple(sorted(names, key=_OP_RANK.__getitem__))


def parse_cell_spec(arch, *, caller: str = "parse_cell_spec") -> CellSpec:
    """The op set of each edge of an architecture.

    Parameters
    ----------
    arch : Arch, str or sequence of 6 items
        An `Arch`, an official string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``, or one item per edge
        (in EDGES order), each an op name or an iterable of op names (a mixed edge).
    caller : str
        Function name used in error messages.

    Returns
    -------
    spec : tuple of 6 tuples of str
        Each edge's ops, duplicate-free and sorted in OPS order (so sets are accepted).
    """
    if isinstance(arch, str):
        arch = Arch.from_str(arch)
    if isinstance(arch, Arch):
        return tuple((op,) for op in arch.ops)
    if not isinstance(arch, Sequence) or len(arch) != len(EDGES):
        raise InvalidParameterError(
            f"{caller}(): arch={arch!r} is not an architecture; expected an Arch, an official string "
            f"or a sequence of {len(EDGES)} op names / op-name sets "
            "(an int index needs a benchmark: use bench.arch(i))."
        )
    return tuple(_edge_ops(item, e, caller=caller) for e, item in enumerate(arch))


class Edge(nn.Module):
    """One edge: a single op, or the mean of several ops (each weighted 1/k)."""

    def __init__(self, op_names: Iterable[str], C_in: int, C_out: int):
        super().__init__()
        self.ops = nn.ModuleDict({name: get_op(name, C_in, C_out) for name in op_names})
        self.op_scale = 1.0 / len(self.ops)  # softmax of k equal logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.ops) == 1:
            return next(iter(self.ops.values()))(x)
        return add_all(op(x) * self.op_scale for op in self.ops.values())

    def extra_repr(self) -> str:
        return f"ops={list(self.ops)}, op_scale={self.op_scale:.4g}"


class Cell(nn.Module):
    """A cell with a fixed genotype; every listed op is instantiated, dead paths included.

    With ``skip_unused = True`` (set by `skip_unused_ops`) the forward leaves out `unused_edges`: ops whose
    output never reaches the cell output except as ``h · 0``. The output is the same, up to the sign of exact
    zeros, while every value is finite; gradients through it are the same, and the skipped ops' weights get
    none. Off by default: NASWOT and linear regions read every ReLU, dead or not.

    Parameters
    ----------
    spec : CellSpec
        Output of `parse_cell_spec`.
    C_in, C_out : int
        Channels of node 0 and of nodes 1..3. Edges leaving node 0 map C_in -> C_out; edges between
        inner nodes are C_out -> C_out (C_in != C_out only in the NATS size space).

    Maps (n, C_in, H, W) to (n, C_out, H, W).
    """

    def __init__(self, spec: CellSpec, C_in: int, C_out: int):
        super().__init__()
        self.edges = nn.ModuleList(Edge(ops, C_in if src == 0 else C_out, C_out) for (src, _), ops in zip(EDGES, spec))
        self.unused = unused_edges(spec)
        self.skip_unused = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cell_forward(x, lambda e, h: self.edges[e](h), self.unused if self.skip_unused else frozenset())


def skip_unused_ops(net: nn.Module) -> nn.Module:
    """Make every `Cell` of `net` skip its `unused_edges` (in place); returns `net`.

    For scores that read only the logits and gradients through them (the entries tagged ``logits-only``):
    a skipped op's output never reaches the logits except as ``h · 0``, and in a network with BatchNorm
    every h stays finite, so the values are the same while the forward and backward of those ops are not run.
    That argument does not cover the order in which autograd adds gradient terms; bit for bit equality is
    checked instead, on every NB201 arch that skips an op (benchmarks/skip_unused_check.py) and on the pinned
    scores. It fails for grasp's double backward, which therefore runs every op.
    """
    for module in net.modules():
        if isinstance(module, Cell):
            module.skip_unused = True
    return net
