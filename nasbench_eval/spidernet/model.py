"""The SpiderNet supernet: r+1 large cells (one normal, r reduction) of mixed, pruned edges (paper §3.1).

Layout, for input (n, in_channels, H, W), ``C`` initial channels and ``r`` reductions:

* stem: Conv 3x3 (in_channels -> C) -> BN; its output is "the model input" node of every cell;
* cell j (j = 0 normal, j = 1..r reduction) works at ``C·2^j`` channels and ``ceil(H/2^j)`` ×
  ``ceil(W/2^j)``; it has one input node per earlier source (stem, cells 0..j-1), each brought to
  the cell's shape by an `InputAdapter` (adaptive average pool if the size differs, then
  ReLU -> Conv 1x1 -> BN). All nodes of a cell share one shape, so any op fits any edge;
* head: global average pool -> dropout -> Linear -> logits.

Identifiers: an edge is ``(cell, src, dst)``; an op on it is ``(cell, src, dst, op_name)``.
A slim copy (`SpiderNet.slim`) has the same graphs with every cell at ``width`` channels.

>>> net = SpiderNet(C=4, reductions=1, num_classes=3, seed=0)
>>> net(torch.zeros(2, 3, 8, 8)).shape
torch.Size([2, 3])
>>> len(net.edge_ids())   # cell 0: 1 input + 1 mixing edge; cell 1: 2 inputs + 1
5
"""
from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_fraction, check_int, check_option
from ..device import seeded
from ..exceptions import InvalidParameterError
from ..nets.init import INIT_SCHEMES, init_weights
from .graph import CellGraph, check_edge, triangular_mutation
from .ops import OPS, get_op
from .pruners import Pruner

EdgeId = tuple[int, int, int]
OpKey = tuple[int, int, int, str]


class InputAdapter(nn.Module):
    """Brings one source tensor to the cell's shape: adaptive avg pool (if needed) -> ReLU -> 1x1 conv -> BN."""

    def __init__(self, C_in: int, C_out: int):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(C_in, C_out, 1, bias=False), nn.BatchNorm2d(C_out))

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        if tuple(x.shape[-2:]) != tuple(size):
            x = F.adaptive_avg_pool2d(x, size)
        return self.op(x)


class MixedEdge(nn.Module):
    """Sum over its ops of Pruner(op(x)), times `scale` (0.0 disconnects the edge: S'_off)."""

    def __init__(self, ops: Sequence[str], C: int, *, pruner_init: float = 0.0):
        super().__init__()
        self.ops = nn.ModuleDict({name: get_op(name, C) for name in ops})
        self.pruners = nn.ModuleDict({name: Pruner(pruner_init) for name in ops})
        self.scale = 1.0

    def remove(self, name: str) -> None:
        """Delete op `name` and its pruner."""
        del self.ops[name]
        del self.pruners[name]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = sum(self.pruners[name](op(x)) for name, op in self.ops.items())
        return out * self.scale if self.scale != 1.0 else out


def _key(edge) -> str:
    return f"{edge[0]}_{edge[1]}"


class Cell(nn.Module):
    """One large cell: input adapters, then its DAG; intermediate and output nodes sum their in-edges."""

    def __init__(self, graph: CellGraph, C: int, source_channels: Sequence[int], *, pruner_init: float = 0.0):
        super().__init__()
        if len(source_channels) != graph.n_inputs:
            raise InvalidParameterError(
                f"Cell(): graph has {graph.n_inputs} inputs but {len(source_channels)} sources were given; expected "
                "equal counts."
            )
        self.graph, self.C, self.pruner_init = graph, C, pruner_init
        self.adapters = nn.ModuleList(InputAdapter(c, C) for c in source_channels)
        self.edges = nn.ModuleDict(
            {_key(e): MixedEdge(ops, C, pruner_init=pruner_init) for e, ops in sorted(graph.edges.items())}
        )

    def add_edge(self, edge: tuple[int, int]) -> None:
        """Build the module of a graph edge that has none yet."""
        self.edges[_key(edge)] = MixedEdge(self.graph.edges[edge], self.C, pruner_init=self.pruner_init)

    def edge(self, edge: tuple[int, int]) -> MixedEdge:
        return self.edges[_key(edge)]

    def forward(self, sources: Sequence[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        values = {i: adapter(s, size) for i, (adapter, s) in enumerate(zip(self.adapters, sources))}
        for node in self.graph.topological_order():
            if node in values:
                continue
            inbound = [self.edge(e)(values[e[0]]) for e in self.graph.inbound(node)]
            values[node] = sum(inbound) if inbound else torch.zeros_like(values[0])
        return values[self.graph.output]


class SpiderNet(nn.Module):
    """SpiderNet supernet (paper §3.1); starts in the Figure 1 state unless `graphs` are given.

    Parameters
    ----------
    C : int, default=16
        Channels of the stem and the normal cell; reduction cell j has C·2^j (paper: 64).
    reductions : int, default=2
        r; the model has r+1 cells (paper: 2).
    num_classes : int, default=10
    in_channels : int, default=3
    dropout : float, default=0.0
        Before the classifier (paper trains with 0.2).
    width : int, optional
        If set, every cell and the stem have exactly this many channels (the slim model of Alg. 1).
    graphs : sequence of CellGraph, optional
        One per cell (copied); default: ``CellGraph.initial(j + 1)`` for cell j.
    pruner_init : float, default=0.0
        Initial pruner weight (0: on).
    seed : int, optional
        Construction runs on a forked RNG seeded with it (weights reproducible); None: global RNG.
    """

    def __init__(self, C: int = 16, reductions: int = 2, num_classes: int = 10, *, in_channels: int = 3,
                 dropout: float = 0.0, width: int | None = None, graphs: Sequence[CellGraph] | None = None,
                 pruner_init: float = 0.0, seed: int | None = None):
        super().__init__()
        caller = "SpiderNet"
        self.C = check_int("C", C, caller=caller, minimum=1)
        self.reductions = check_int("reductions", reductions, caller=caller, minimum=0)
        self.num_classes = check_int("num_classes", num_classes, caller=caller, minimum=1)
        self.in_channels = check_int("in_channels", in_channels, caller=caller, minimum=1)
        self.width = None if width is None else check_int("width", width, caller=caller, minimum=1)
        self.dropout = check_fraction("dropout", dropout, caller=caller)
        self.pruner_init = float(pruner_init)
        n_cells = self.reductions + 1
        graphs = (
            [CellGraph.initial(j + 1) for j in range(n_cells)] if graphs is None else [copy.deepcopy(g) for g in graphs]
        )
        if len(graphs) != n_cells or any(g.n_inputs != j + 1 for j, g in enumerate(graphs)):
            raise InvalidParameterError(
                f"SpiderNet(): graphs has {len(graphs)} cells; expected {n_cells}, cell j with j+1 input nodes."
            )
        if seed is None:
            self._build(graphs)
        else:
            with seeded(check_int("seed", seed, caller=caller, minimum=0)):
                self._build(graphs)

    def channels(self, j: int) -> int:
        """Channels of cell j (-1: the stem)."""
        return self.width if self.width is not None else self.C * 2 ** max(j, 0)

    def _build(self, graphs: Sequence[CellGraph]) -> None:
        self.stem = nn.Sequential(nn.Conv2d(self.in_channels, self.channels(-1), 3, padding=1, bias=False),
                                  nn.BatchNorm2d(self.channels(-1)))
        self.cells = nn.ModuleList()
        for j, g in enumerate(graphs):
            sources = [self.channels(-1)] + [self.channels(i) for i in range(j)]
            self.cells.append(Cell(g, self.channels(j), sources, pruner_init=self.pruner_init))
        self.classifier = nn.Sequential(
            nn.Dropout(self.dropout), nn.Linear(self.channels(self.reductions), self.num_classes)
        )

    # ---------------------------------------------------------------- forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        outputs = [self.stem(x)]
        for j, cell in enumerate(self.cells):
            size = (math.ceil(h / 2 ** j), math.ceil(w / 2 ** j))
            outputs.append(cell(outputs, size))
        return self.classifier(outputs[-1].mean(dim=(2, 3)))

    # ---------------------------------------------------------------- structure
    @property
    def graphs(self) -> list[CellGraph]:
        """The live cell graphs (modify only through the methods of this class)."""
        return [cell.graph for cell in self.cells]

    def edge_ids(self) -> list[EdgeId]:
        """Every edge as (cell, src, dst), sorted."""
        return [(j, s, d) for j, g in enumerate(self.graphs) for s, d in sorted(g.edges)]

    def _cell(self, edge_id, caller: str) -> tuple[Cell, tuple[int, int]]:
        try:
            j = int(edge_id[0])
        except (TypeError, ValueError, IndexError) as err:
            raise InvalidParameterError(
                f"{caller}(): edge={edge_id!r} is not (cell, src, dst); expected three ints."
            ) from err
        if not 0 <= j < len(self.cells):
            raise InvalidParameterError(
                f"{caller}(): edge={edge_id!r} names cell {j}; expected 0 <= cell < {len(self.cells)}."
            )
        return self.cells[j], check_edge(self.cells[j].graph, edge_id[1:], caller=caller)

    def edge_module(self, edge_id: EdgeId) -> MixedEdge:
        """The MixedEdge of (cell, src, dst)."""
        cell, edge = self._cell(edge_id, "SpiderNet.edge_module")
        return cell.edge(edge)

    def mutate(self, edge_id: EdgeId, *, ops: Sequence[str] = OPS, off: bool = False,
               seed: int | None = None) -> tuple[EdgeId, EdgeId]:
        """Triangular mutation of edge (cell, A, B) in place: new node C, new edges A->C, C->B with `ops`.

        Parameters
        ----------
        edge_id : (int, int, int)
        ops : sequence of str, default=OPS
        off : bool, default=False
            Multiply the new edges' outputs by 0 (S'_off): the net then computes exactly what it
            computed before the mutation, while holding the new modules.
        seed : int, optional
            Build the new modules' weights on a forked RNG seeded with it.

        Returns
        -------
        new_edges : ((cell, A, C), (cell, C, B))
        """
        cell, edge = self._cell(edge_id, "SpiderNet.mutate")
        j = int(edge_id[0])
        cell.graph, new = triangular_mutation(cell.graph, edge, ops)
        if seed is None:
            for e in new:
                cell.add_edge(e)
        else:
            with seeded(check_int("seed", seed, caller="SpiderNet.mutate", minimum=0)):
                for e in new:
                    cell.add_edge(e)
        device = next(self.parameters()).device
        cell.to(device)
        for e in new:
            cell.edge(e).scale = 0.0 if off else 1.0
        return tuple((j, *e) for e in new)

    def set_edge_scale(self, edge_id: EdgeId, scale: float) -> None:
        """Multiply an edge's output by `scale` (0.0: disconnected, 1.0: normal)."""
        self.edge_module(edge_id).scale = float(scale)

    # ---------------------------------------------------------------- pruners
    def op_keys(self) -> list[OpKey]:
        """Every op as (cell, src, dst, name)."""
        return [(*e, name) for e in self.edge_ids() for name in self.edge_module(e).ops]

    def pruner_items(self) -> list[tuple[OpKey, Pruner]]:
        """Every op's key and its pruner, in `op_keys` order."""
        return [((*e, name), p) for e in self.edge_ids() for name, p in self.edge_module(e).pruners.items()]

    def n_params(self) -> int:
        """Number of parameters without the pruner gates (the count of the trained network, paper Table 2)."""
        gates = {id(p.w) for _, p in self.pruner_items()}
        return sum(p.numel() for p in self.parameters() if id(p) not in gates)

    def pruner_states(self) -> dict[OpKey, bool]:
        """Whether each op's pruner is on (w >= 0)."""
        return {(*e, name): p.is_on() for e in self.edge_ids() for name, p in self.edge_module(e).pruners.items()}

    def delete_op(self, key: OpKey) -> None:
        """Delete one op and its pruner; an edge left with no op is deleted too (graph and module)."""
        cell, edge = self._cell(key[:3], "SpiderNet.delete_op")
        if len(key) != 4 or key[3] not in cell.graph.edges[edge]:
            raise InvalidParameterError(
                f"SpiderNet.delete_op(): key={key!r} names no op on that edge; expected one of "
                f"{cell.graph.edges[edge]}."
            )
        cell.graph.edges[edge].remove(key[3])
        cell.edge(edge).remove(key[3])
        if not cell.graph.edges[edge]:
            del cell.graph.edges[edge]
            del cell.edges[_key(edge)]

    # ---------------------------------------------------------------- weights
    def reset_parameters(
        self, scheme: str = "torch_default", *, generator: torch.Generator | None = None
    ) -> "SpiderNet":
        """Re-initialize every weight in registration order (spec §2.3 schemes) and every pruner to its init.

        Parameters
        ----------
        scheme : {"torch_default", "kaiming_normal_fan_in", "kaiming_normal_fan_out"}
        generator : torch.Generator, optional
            CPU generator to draw from; None: the global RNG.
        """
        check_option("scheme", scheme, INIT_SCHEMES, caller="SpiderNet.reset_parameters")
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear, nn.modules.batchnorm._BatchNorm)):
                init_weights(module, scheme, generator=generator)
            elif isinstance(module, Pruner):
                module.reset_parameters()
        return self

    def slim(self, width: int = 1, *, in_channels: int | None = None, seed: int | None = None) -> "SpiderNet":
        """A new SpiderNet with the same cell graphs and every cell at `width` channels (Alg. 1, line 1)."""
        return SpiderNet(self.C, self.reductions, self.num_classes, in_channels=in_channels or self.in_channels,
                         width=width, graphs=self.graphs, pruner_init=self.pruner_init, seed=seed)


def param_bytes(module: nn.Module) -> int:
    """Bytes held by the parameters and buffers of `module` (the size s(x) of Algorithm 1)."""
    return sum(t.numel() * t.element_size() for t in list(module.parameters()) + list(module.buffers()))
