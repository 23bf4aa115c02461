"""The NB201 supernet: every edge holds all candidate ops of a subspace; one forward runs a path or a mixture.

Macro structure and module names are those of `build_network` (stem, ``cells`` with two
`ResidualBlock` s, lastact, global_pooling, classifier), so the weights of one path load straight
into ``build_network(arch, C=C, N=N)`` (`Supernet.path_state_dict`, `Supernet.extract`).

Weight sharing (the NB201 / [PUP] / [LZ] convention): the topology is shared by all cells -- one
choice (or one row of edge weights) per edge for the whole network -- but every cell owns its
ops, so edge e of cell 3 and edge e of cell 4 have different weights. Only the architectures
share weights.

Forward modes (``x`` is (n, 3, H, W), output (n, num_classes)):

* single path -- ``net(x, arch)``: each edge runs only its chosen op (RSPS, SPOS, evaluation);
* weighted -- ``net(x, weights=w)`` with ``w`` of shape (6, k): edge output ``sum_j w[e, j] op_j(x)``
  (DARTS softmax, SNAS relaxed Gumbel, DrNAS Dirichlet samples);
* hard weighted -- ``net(x, weights=w, hard=idx)``: only op ``idx[e]`` runs, the output is
  ``w[e, idx[e]] * op(x) + sum_{j != idx[e]} w[e, j]``; with straight-through one-hot ``w`` (value 1
  at idx, 0 elsewhere) the value equals the single path while gradients reach every ``w[e, j]``
  (GDAS).

``aux_skip=beta`` adds ``beta * x`` to every edge (DARTS-'s auxiliary skip connection).

Inter-choice dependent weights ([LZ] §3.3; choices ordered e0..e5 as in the string):

* bias weights (`bias_depth` D = 1..3): before the chosen op of edge e runs, a learned bias vector
  (C channels, zero-initialised) selected by the choices of edges e-D..e is added to its input;
  edges with fewer than D predecessors use a "no choice" symbol for the missing ones;
* split weights (`Supernet.split`): every op of edges 1..5 is copied once per candidate of the
  previous edge, and the copy selected by edge e-1's choice is used from then on (D = 1).

>>> net = Supernet(C=4, N=1, space="only_conv", seed=0)
>>> arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|"
>>> net.ops, net(torch.zeros(2, 3, 32, 32), arch).shape
(('nor_conv_1x1', 'nor_conv_3x3'), torch.Size([2, 10]))
"""
from __future__ import annotations

import contextlib
import copy

import torch
from torch import nn

from .._validation import check_int, check_option
from ..exceptions import InvalidParameterError
from ..space import EDGES, OPS, Arch
from .cell import add_all, cell_forward
from .init import INIT_SCHEMES, init_weights
from .network import CellNetwork, ResidualBlock, build_network, stem
from .ops import get_op

SUBSPACES: dict[str, tuple[int, ...]] = {
    "full": (0, 1, 2, 3, 4),
    "no_none": (1, 2, 3, 4),
    "only_conv": (2, 3),
}
"""[LZ]'s three NB201 subspaces: name -> op indices (OPS order) allowed on every edge (15,625 / 4,096 / 64 archs)."""

MAX_BIAS_DEPTH = 3


class SuperEdge(nn.Module):
    """All candidate ops of one edge of one cell, plus optional bias / split weights.

    Parameters
    ----------
    op_names : tuple of str
        Candidate ops, in OPS order (column j of the edge weights is ``op_names[j]``).
    C : int
        Channels in and out.
    """

    def __init__(self, op_names: tuple[str, ...], C: int):
        super().__init__()
        self.op_names, self.C = op_names, C
        self.ops = nn.ModuleDict({name: get_op(name, C, C) for name in op_names})
        self.split_ops: nn.ModuleList | None = None
        # [LZ] bias table (rows = choice combinations, C columns), set by Supernet
        self.bias: nn.Parameter | None = None

    def split(self, n_copies: int) -> None:
        """Copy every op `n_copies` times (one copy per previous-edge choice); the originals stay for reference."""
        self.split_ops = nn.ModuleList(copy.deepcopy(self.ops) for _ in range(n_copies))

    def op_for(self, j: int, prev: int | None = None) -> nn.Module:
        """Op of column `j`; its split copy for previous-edge column `prev` when the edge is split."""
        bank = self.ops if self.split_ops is None or prev is None else self.split_ops[prev]
        return bank[self.op_names[j]]

    def path(self, x: torch.Tensor, j: int, prev: int | None = None, bias_row: int | None = None) -> torch.Tensor:
        """Output of op column `j` alone."""
        if self.bias is not None and bias_row is not None:
            x = x + self.bias[bias_row].view(1, -1, 1, 1)
        return self.op_for(j, prev)(x)

    def mixed(self, x: torch.Tensor, w: torch.Tensor, hard: int | None = None) -> torch.Tensor:
        """``sum_j w[j] op_j(x)``, or with `hard` only op `hard` evaluated (others add their scalar weight)."""
        if hard is None:
            return add_all(w[j] * op(x) for j, op in enumerate(self.ops.values()))
        rest = w.sum() - w[hard]
        return w[hard] * self.op_for(hard)(x) + rest


class SuperCell(nn.Module):
    """An NB201 cell whose six edges are `SuperEdge` s; maps (n, C, H, W) to (n, C, H, W)."""

    def __init__(self, op_names: tuple[str, ...], C: int):
        super().__init__()
        self.edges = nn.ModuleList(SuperEdge(op_names, C) for _ in EDGES)

    def forward(self, x: torch.Tensor, route) -> torch.Tensor:
        """`route(edge_index, edge_module, input) -> output` decides what each edge computes (`cell_forward`)."""
        return cell_forward(x, lambda e, h: route(e, self.edges[e], h))


class Supernet(CellNetwork):
    """NB201 supernet over a subspace; see the module docstring for forward modes and weight sharing.

    Parameters
    ----------
    C : int, default=16
        Channels of the first stage (stages C, 2C, 4C).
    N : int, default=5
        Cells per stage: 5 as the benchmark (and [PUP]), 2 as [LZ].
    num_classes : int, default=10
    space : {"full", "no_none", "only_conv"}, default="full"
        Candidate ops on every edge (`SUBSPACES`).
    bias_depth : int, default=0
        D of [LZ]'s bias weights (0 = none, 1..3).
    init : str, default="torch_default"
        Weight initialisation (see `build_network`).
    seed : int, optional
        Seeds the weights exactly as `build_network` does (bias weights start at 0).

    Attributes
    ----------
    ops : tuple of str
        The k candidate op names; column j of edge weights is ``ops[j]``.
    op_indices : tuple of int
        Their indices in OPS.
    is_split : bool
        Whether `split` has been called.
    """

    def __init__(self, C: int = 16, N: int = 5, num_classes: int = 10, *, space: str = "full", bias_depth: int = 0,
                 init: str = "torch_default", seed: int | None = None):
        caller = "Supernet"
        C = check_int("C", C, caller=caller, minimum=1)
        N = check_int("N", N, caller=caller, minimum=1)
        num_classes = check_int("num_classes", num_classes, caller=caller, minimum=1)
        space = check_option("space", space, SUBSPACES, caller=caller)
        bias_depth = check_int("bias_depth", bias_depth, caller=caller, minimum=0, maximum=MAX_BIAS_DEPTH)
        op_indices = SUBSPACES[space]
        op_names = tuple(OPS[i] for i in op_indices)
        k = len(op_names)
        with torch.random.fork_rng(devices=[]) if seed is not None else contextlib.nullcontext():
            body = []
            for s, width in enumerate((C, 2 * C, 4 * C)):
                if s > 0:
                    body.append(ResidualBlock(width // 2, width))
                body.extend(SuperCell(op_names, width) for _ in range(N))
            super().__init__(stem(3, C), body, 4 * C, num_classes)
        self.C, self.N, self.num_classes, self.space, self.bias_depth = C, N, num_classes, space, bias_depth
        self.ops, self.op_indices = op_names, op_indices
        self._column = {o: j for j, o in enumerate(op_indices)}
        self.is_split = False
        check_option("init", init, INIT_SCHEMES, caller=caller)
        if seed is not None:
            seed = check_int("seed", seed, caller=caller, minimum=0, maximum=2**63 - 1)
            init_weights(self, init, generator=torch.Generator().manual_seed(seed))
        elif init != "torch_default":
            init_weights(self, init)
        if bias_depth:  # added after the init, which knows no bias tables; they start at 0
            for edge in self.modules():
                if isinstance(edge, SuperEdge):
                    edge.bias = nn.Parameter(torch.zeros(k * (k + 1) ** bias_depth, edge.C))

    # ----------------------------------------------------------------------------------- arch handling
    @property
    def k(self) -> int:
        """Number of candidate ops per edge."""
        return len(self.ops)

    def columns(self, arch) -> tuple[int, ...]:
        """Column (index into `ops`) of each edge's op for an Arch, a string or a 6-tuple of OPS indices."""
        if isinstance(arch, str):
            arch = Arch.from_str(arch)
        code = arch.code if isinstance(arch, Arch) else tuple(int(c) for c in arch)
        if len(code) != len(EDGES) or any(c not in self._column for c in code):
            allowed = [OPS[i] for i in self.op_indices]
            raise InvalidParameterError(
                f"Supernet(): arch={str(arch)!r} uses ops outside space={self.space!r}; expected 6 edges each in "
                f"{allowed}."
            )
        return tuple(self._column[c] for c in code)

    def _bias_row(self, cols: tuple[int, ...], e: int) -> int | None:
        if not self.bias_depth:
            return None
        row = cols[e]
        for d in range(1, self.bias_depth + 1):
            prev = cols[e - d] if e - d >= 0 else self.k  # k = "no choice" symbol
            row = row * (self.k + 1) + prev
        return row

    def split(self) -> None:
        """[LZ]'s split weights (D = 1): from now on edge e >= 1 uses a copy of its ops per choice of edge e-1."""
        if self.is_split:
            raise InvalidParameterError(
                "Supernet.split(): the weights are already split; expected a call at most once."
            )
        for cell in self.cells:
            if isinstance(cell, SuperCell):
                for e, edge in enumerate(cell.edges):
                    if e > 0:
                        edge.split(self.k)
        self.is_split = True

    # ----------------------------------------------------------------------------------- forward
    def forward(self, x: torch.Tensor, arch=None, *, weights: torch.Tensor | None = None,
                hard: torch.Tensor | None = None, aux_skip: float = 0.0) -> torch.Tensor:
        """Logits (n, num_classes); give exactly one of `arch` (single path) or `weights` (6, k)."""
        return self.classifier(self.features(x, arch, weights=weights, hard=hard, aux_skip=aux_skip))

    def features(self, x: torch.Tensor, arch=None, *, weights: torch.Tensor | None = None,
                 hard: torch.Tensor | None = None, aux_skip: float = 0.0) -> torch.Tensor:
        """Pooled features (n, 4C) under the same modes as `forward`."""
        route = self._router(arch, weights, hard, aux_skip)
        x = self.stem(x)
        for block in self.cells:
            x = block(x, route) if isinstance(block, SuperCell) else block(x)
        return self.global_pooling(self.lastact(x)).flatten(1)

    def _router(self, arch, weights, hard, aux_skip: float):
        if (arch is None) == (weights is None):
            raise InvalidParameterError(
                "Supernet.forward(): got both or neither of arch and weights; expected exactly one."
            )
        if arch is not None:
            cols = self.columns(arch)
            rows = [self._bias_row(cols, e) for e in range(len(EDGES))]
            prevs = [cols[e - 1] if e > 0 and self.is_split else None for e in range(len(EDGES))]

            def route(e, edge, x):
                out = edge.path(x, cols[e], prevs[e], rows[e])
                return out + aux_skip * x if aux_skip else out
            return route
        if tuple(weights.shape) != (len(EDGES), self.k):
            raise InvalidParameterError(
                f"Supernet.forward(): weights has shape {tuple(weights.shape)}; expected ({len(EDGES)}, {self.k}) for "
                f"space={self.space!r}."
            )
        if self.bias_depth or self.is_split:
            raise InvalidParameterError(
                "Supernet.forward(): weights= with bias or split weights; expected arch= (single path) for those."
            )
        idx = None if hard is None else [int(i) for i in hard]

        def route(e, edge, x):
            out = edge.mixed(x, weights[e], None if idx is None else idx[e])
            return out + aux_skip * x if aux_skip else out
        return route

    # ----------------------------------------------------------------------------------- extraction
    def path_state_dict(self, arch) -> dict[str, torch.Tensor]:
        """State dict of ``build_network(arch, C=self.C, N=self.N, num_classes=self.num_classes)`` holding this path's
        weights."""
        if self.bias_depth:
            raise InvalidParameterError(
                "Supernet.path_state_dict(): bias weights have no place in a stand-alone network; expected "
                "bias_depth=0."
            )
        cols = self.columns(arch)
        out = {}
        for name, tensor in self.state_dict().items():
            parts = name.split(".")
            if parts[0] != "cells" or not isinstance(self.cells[int(parts[1])], SuperCell):
                out[name] = tensor
                continue
            e = int(parts[3])
            if parts[4] == "ops" and parts[5] == self.ops[cols[e]] and (not self.is_split or e == 0):
                out[name] = tensor
            elif parts[4] == "split_ops" and int(parts[5]) == cols[e - 1] and parts[6] == self.ops[cols[e]]:
                out[".".join(parts[:4] + ["ops"] + parts[6:])] = tensor
        return out

    def extract(self, arch) -> CellNetwork:
        """A stand-alone ``build_network`` network of `arch` with this supernet's path weights (copies), on the same
        device."""
        net = build_network(arch, C=self.C, N=self.N, num_classes=self.num_classes, seed=0)
        net.load_state_dict(self.path_state_dict(arch))
        return net.to(next(self.parameters()).device).train(self.training)
