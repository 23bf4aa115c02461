"""Drawings of SpiderNet cells as PNG (matplotlib Agg canvas, no pyplot state, no graphviz).

Nodes sit in columns by depth (longest path from an input node); input nodes are blue (as in the
paper's Figure 1), the output node green, intermediates grey. Each edge is an arrow labelled with
its ops, abbreviated (`ABBREV`), and drawn thicker the more ops it carries.
"""
from __future__ import annotations

import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .graph import CellGraph

ABBREV = {"identity": "id", "max_pool_3x3": "max", "avg_pool_3x3": "avg", "sep_conv_3x3": "s3", "sep_conv_5x5": "s5",
          "dil_conv_3x3": "d3", "dil_conv_5x5": "d5"}
"""Op name -> edge label."""

_COLOURS = {"input": "#5b8def", "output": "#4caf50", "node": "#bdbdbd"}


def node_depths(graph: CellGraph) -> dict[int, int]:
    """Longest path (in edges) from any input node to each node; inputs and unreachable nodes are 0."""
    depth = {n: 0 for n in graph.nodes}
    for node in graph.topological_order():
        for src, _ in graph.inbound(node):
            depth[node] = max(depth[node], depth[src] + 1)
    return depth


def _positions(graph: CellGraph) -> dict[int, tuple[float, float]]:
    """Columns by depth; within a column, nodes sorted by the mean height of their sources (fewer crossings)."""
    depth = node_depths(graph)
    columns: dict[int, list[int]] = {}
    for node in graph.topological_order():
        columns.setdefault(depth[node], []).append(node)
    pos: dict[int, tuple[float, float]] = {}
    for d in sorted(columns):
        def height(node):
            ys = [pos[src][1] for src, _ in graph.inbound(node) if src in pos]
            return sum(ys) / len(ys) if ys else 0.0
        nodes = columns[d] if d == 0 else sorted(columns[d], key=height)
        for i, node in enumerate(nodes):
            pos[node] = (float(d), i - (len(nodes) - 1) / 2)
    return pos


def _arc_middle(ax, p0, p1, rad: float) -> tuple[float, float]:
    """Data coordinates of the middle of matplotlib's arc3 curve from p0 to p1 (the curve is set in display space)."""
    (x0, y0), (x1, y1) = ax.transData.transform([p0, p1])
    cx, cy = (x0 + x1) / 2 + rad * (y1 - y0), (y0 + y1) / 2 - rad * (x1 - x0)       # Bezier control point
    return tuple(ax.transData.inverted().transform(((x0 + 2 * cx + x1) / 4, (y0 + 2 * cy + y1) / 4)))


def draw_cell(graph: CellGraph, path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write a drawing of one cell to `path` (PNG); returns the path.

    Parameters
    ----------
    graph : CellGraph
    path : path-like
        Parent folders are created.
    title : str, optional
    """
    pos = _positions(graph)
    width = max(x for x, _ in pos.values()) + 1
    height = max(abs(y) for _, y in pos.values()) * 2 + 1
    fig = Figure(figsize=(min(2 + 1.8 * width, 40), min(1.5 + 1.1 * height, 40)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_xlim(-0.6, width - 0.4)
    ax.set_ylim(-height / 2 - 0.2, height / 2 + 0.2)
    for i, ((src, dst), ops) in enumerate(sorted(graph.edges.items())):
        span = abs(pos[dst][0] - pos[src][0])
        rad = (0.1 + 0.1 * max(span - 1, 0)) * (1 if i % 2 else -1)           # long edges bend around nodes
        ax.annotate("", xy=pos[dst], xytext=pos[src],
                    arrowprops={"arrowstyle": "-|>", "lw": 0.6 + 0.4 * len(ops), "color": "#555555",
                                "shrinkA": 11, "shrinkB": 11, "connectionstyle": f"arc3,rad={rad}"})
        ax.text(*_arc_middle(ax, pos[src], pos[dst], rad), " ".join(ABBREV.get(o, o) for o in ops), fontsize=6,
                ha="center", va="center", color="#333333", zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    for node, (x, y) in pos.items():
        kind = "input" if node < graph.n_inputs else "output" if node == graph.output else "node"
        ax.scatter([x], [y], s=420, color=_COLOURS[kind], edgecolors="black", zorder=5)
        ax.text(x, y, str(node), ha="center", va="center", fontsize=8, zorder=6)
    ax.axis("off")
    ax.set_title(title or f"{len(graph.nodes)} nodes, {len(graph.edges)} edges, {graph.n_ops()} ops", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path
