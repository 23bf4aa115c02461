"""The DAG of one SpiderNet cell and the triangular mutation (paper §3.1, §3.3, Figure 1, Figure 2).

A cell has ``n_inputs`` input nodes (ids ``0 .. n_inputs-1``: the model input, then one per previous
cell), intermediate nodes that sum their inbound edges, and one output node. An edge ``(src, dst)``
carries a set of op names from `ops.OPS`. Node ids are never reused; a new node takes the next
free id, so ids are not a topological order; use `CellGraph.topological_order`.

>>> g = CellGraph.initial(2)
>>> sorted(g.edges)
[(0, 2), (1, 2), (2, 3)]
>>> g2, (e1, e2) = triangular_mutation(g, (2, 3))
>>> e1, e2, g2.is_dag()
((2, 4), (4, 3), True)
"""
from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

from .._validation import check_int
from ..exceptions import InvalidParameterError
from .ops import OPS

Edge = tuple[int, int]


@dataclass
class CellGraph:
    """Nodes and op-labelled edges of one cell.

    Attributes
    ----------
    n_inputs : int
        Input nodes are ``0 .. n_inputs-1``.
    output : int
        Id of the output node.
    nodes : list of int
        Every node id (inputs, intermediates, output), in creation order.
    edges : dict of (int, int) -> list of str
        Ops on each edge, in `OPS` order.
    """

    n_inputs: int
    output: int
    nodes: list[int] = field(default_factory=list)
    edges: dict[Edge, list[str]] = field(default_factory=dict)

    @classmethod
    def initial(cls, n_inputs: int, ops: Iterable[str] = OPS) -> "CellGraph":
        """Figure 1: every input -> one intermediate node -> the output node, all ops on every edge."""
        n_inputs = check_int("n_inputs", n_inputs, caller="CellGraph.initial", minimum=1)
        ops = list(ops)
        mid, out = n_inputs, n_inputs + 1
        edges = {(i, mid): list(ops) for i in range(n_inputs)}
        edges[(mid, out)] = list(ops)
        return cls(n_inputs=n_inputs, output=out, nodes=list(range(n_inputs + 2)), edges=edges)

    def inbound(self, node: int) -> list[Edge]:
        """Edges ending at `node`, sorted."""
        return sorted(e for e in self.edges if e[1] == node)

    def topological_order(self) -> list[int]:
        """Nodes in a deterministic topological order (Kahn, smallest ready id first).

        Raises
        ------
        InvalidParameterError
            If the edges contain a cycle.
        """
        indeg = {n: 0 for n in self.nodes}
        for _, dst in self.edges:
            indeg[dst] += 1
        ready = sorted(n for n, d in indeg.items() if d == 0)
        order = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for src, dst in sorted(self.edges):
                if src == node:
                    indeg[dst] -= 1
                    if indeg[dst] == 0:
                        ready.append(dst)
                        ready.sort()
        if len(order) != len(self.nodes):
            raise InvalidParameterError("CellGraph.topological_order(): edges contain a cycle; expected a DAG.")
        return order

    def is_dag(self) -> bool:
        """True if the edges form a DAG over `nodes` with no edge into an input node."""
        if any(dst < self.n_inputs for _, dst in self.edges):
            return False
        try:
            self.topological_order()
        except InvalidParameterError:
            return False
        return True

    def n_ops(self) -> int:
        """Total number of ops over all edges."""
        return sum(len(v) for v in self.edges.values())

    def to_dict(self) -> dict:
        """Plain JSON-able form: ``{"n_inputs", "output", "nodes", "edges": [[src, dst, [ops...]], ...]}``."""
        return {"n_inputs": self.n_inputs, "output": self.output, "nodes": list(self.nodes),
                "edges": [[s, d, list(ops)] for (s, d), ops in sorted(self.edges.items())]}

    @classmethod
    def from_dict(cls, d: dict) -> "CellGraph":
        """Inverse of `to_dict`.

        Raises
        ------
        InvalidParameterError
            If `d` lacks a field, or its edges do not form a DAG over its nodes.
        """
        try:
            graph = cls(n_inputs=int(d["n_inputs"]), output=int(d["output"]), nodes=[int(n) for n in d["nodes"]],
                        edges={(int(s), int(t)): [str(o) for o in ops] for s, t, ops in d["edges"]})
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidParameterError(f"CellGraph.from_dict(): d is missing or mangles {err}; "
                                        "expected the output of CellGraph.to_dict().") from err
        if not set(e for edge in graph.edges for e in edge) <= set(graph.nodes) or not graph.is_dag():
            raise InvalidParameterError("CellGraph.from_dict(): the edges do not form a DAG over the listed nodes; "
                                        "expected the output of CellGraph.to_dict().")
        return graph


def check_edge(graph: CellGraph, edge, *, caller: str) -> Edge:
    """Return `edge` as a tuple if `graph` has it, else raise InvalidParameterError."""
    try:
        key = (int(edge[0]), int(edge[1]))
    except (TypeError, ValueError, IndexError) as err:
        raise InvalidParameterError(
            f"{caller}(): edge={edge!r} is not a (src, dst) pair; expected two node ids."
        ) from err
    if key not in graph.edges:
        raise InvalidParameterError(
            f"{caller}(): edge={edge!r} is not in the cell; expected one of {sorted(graph.edges)}."
        )
    return key


def triangular_mutation(graph: CellGraph, edge: Edge, ops: Iterable[str] = OPS) -> tuple[CellGraph, tuple[Edge, Edge]]:
    """Mutate edge A -> B: add node C and edges A -> C, C -> B carrying every op (paper §3.3, Figure 2).

    The edge A -> B stays, so A sends two outputs, C receives one and sends one, B receives two.
    The result is a DAG whenever `graph` is one (C is new and sits between A and B).

    Parameters
    ----------
    graph : CellGraph
        Not modified.
    edge : (int, int)
        An existing edge (A, B).
    ops : iterable of str, default=OPS
        Ops placed on each new edge.

    Returns
    -------
    mutated : CellGraph
        A new graph.
    new_edges : ((A, C), (C, B))
    """
    a, b = check_edge(graph, edge, caller="triangular_mutation")
    out = copy.deepcopy(graph)
    c = max(out.nodes) + 1
    out.nodes.append(c)
    out.edges[(a, c)] = list(ops)
    out.edges[(c, b)] = list(ops)
    return out, ((a, c), (c, b))
