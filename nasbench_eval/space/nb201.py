"""The NAS-Bench-201 / NATS-Bench topology search space (tss): ops, edges, architectures.

An architecture assigns one of 5 ops to each of the 6 edges of a 4-node cell. Edge order and the
string format follow the official benchmark (spec/metrics.md §1.2):

    |o0~0|+|o1~0|o2~1|+|o3~0|o4~1|o5~2|      edges 0->1, 0->2, 1->2, 0->3, 1->3, 2->3

The benchmark *index* of an architecture is not computable from its ops; it comes from the
benchmark's table (see nasbench_eval.benchmarks). This module needs no torch.
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..exceptions import InvalidParameterError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""The 5 candidate operations in official order (op index = position)."""

EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""The 6 edges as (from_node, to_node), in the order of the architecture string."""

NUM_OPS, NUM_EDGES, NUM_NODES = len(OPS), len(EDGES), 4
NUM_ARCHS = NUM_OPS**NUM_EDGES  # 15,625
_OP_INDEX = {name: i for i, name in enumerate(OPS)}
_FORMAT = "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|"
_TEMPLATE = _FORMAT.replace("{}", "op")


def _op_name(op, *, caller: str) -> str:
    """An op given as a name or an index, as its name."""
    if isinstance(op, str):
        if op not in _OP_INDEX:
            raise InvalidParameterError(f"{caller}: unknown op {op!r}; expected one of {list(OPS)}.")
        return op
    if isinstance(op, (int, np.integer)) and not isinstance(op, bool) and 0 <= op < NUM_OPS:
        return OPS[int(op)]
    raise InvalidParameterError(
        f"{caller}: op {op!r} is neither an op name nor an index 0..{NUM_OPS - 1}; expected one of {list(OPS)}."
    )


@dataclass(frozen=True, order=True)
class Arch:
    """One tss architecture: the op name on each of the 6 edges, in edge order.

    >>> a = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    ...                   "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> a.code
    (3, 3, 4, 1, 3, 1)
    >>> Arch.from_code(a.code) == a
    True
    """

    ops: tuple[str, ...]

    def __post_init__(self):
        ops = tuple(self.ops) if not isinstance(self.ops, str) else None
        if ops is None or len(ops) != NUM_EDGES:
            raise InvalidParameterError(
                f"Arch(): ops={self.ops!r} has the wrong edge count; expected {NUM_EDGES} ops, one per edge "
                f"{list(EDGES)}."
            )
        object.__setattr__(self, "ops", tuple(_op_name(o, caller="Arch()") for o in ops))

    # ---- conversions -------------------------------------------------------------------------
    @classmethod
    def from_str(cls, text: str) -> "Arch":
        """Parse the official string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
        if not isinstance(text, str):
            raise InvalidParameterError(f"Arch.from_str(): text={text!r} is not a string; expected '{_TEMPLATE}'.")
        groups = text.strip().split("+")
        if len(groups) != NUM_NODES - 1:
            raise InvalidParameterError(
                f"Arch.from_str(): {text!r} has {len(groups)} '+'-separated node groups; expected 3, as in "
                f"'{_TEMPLATE}'."
            )
        ops = []
        for node, group in enumerate(groups, start=1):
            if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
                raise InvalidParameterError(
                    f"Arch.from_str(): node group {group!r} of {text!r} is malformed; expected '|op~src|...|' with '|' "
                    "at both ends."
                )
            tokens = group[1:-1].split("|")
            if len(tokens) != node:
                raise InvalidParameterError(
                    f"Arch.from_str(): node {node} of {text!r} has {len(tokens)} inputs; expected {node} "
                    "(one per earlier node)."
                )
            for src, token in enumerate(tokens):
                name, sep, source = token.partition("~")
                if not sep or source != str(src):
                    raise InvalidParameterError(
                        f"Arch.from_str(): token {token!r} of node {node} in {text!r} is malformed; expected "
                        f"'op~{src}'."
                    )
                ops.append(_op_name(name, caller=f"Arch.from_str() for {text!r}"))
        return cls(tuple(ops))

    @classmethod
    def from_code(cls, code) -> "Arch":
        """From a 6-sequence of op indices (0..4)."""
        try:
            items = list(code)
        except TypeError as err:
            raise InvalidParameterError(
                f"Arch.from_code(): code={code!r} is not a sequence; expected 6 op indices 0..4."
            ) from err
        if any(isinstance(c, str) for c in items):
            raise InvalidParameterError(f"Arch.from_code(): code={code!r} holds strings; expected 6 op indices 0..4.")
        return cls(tuple(items))

    @classmethod
    def from_product_index(cls, k: int) -> "Arch":
        """Inverse of `product_index` (a product order over ops, NOT the benchmark index)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < NUM_ARCHS:
            raise InvalidParameterError(
                f"Arch.from_product_index(): k={k!r} is out of range; expected an int in 0..{NUM_ARCHS - 1}."
            )
        return cls(tuple(int(d) for d in np.unravel_index(int(k), (NUM_OPS,) * NUM_EDGES)))

    @property
    def code(self) -> tuple[int, ...]:
        """The 6 op indices, in edge order."""
        return tuple(_OP_INDEX[o] for o in self.ops)

    @property
    def product_index(self) -> int:
        """Sum of op_e * 5**(5-e): a dense id in 0..15624 for lookups. Not the benchmark index."""
        return int(np.ravel_multi_index(self.code, (NUM_OPS,) * NUM_EDGES))

    def __str__(self) -> str:
        return _FORMAT.format(*self.ops)

    def to_matrix(self) -> np.ndarray:
        """4x4 int matrix M with M[to, from] = op index of edge from->to (official `str2matrix` layout)."""
        m = np.zeros((NUM_NODES, NUM_NODES), dtype=np.int64)
        for (src, dst), op in zip(EDGES, self.code):
            m[dst, src] = op
        return m

    def replace(self, edge: int, op) -> "Arch":
        """A copy with `op` on `edge`."""
        ops = list(self.ops)
        ops[edge] = _op_name(op, caller="Arch.replace()")
        return Arch(tuple(ops))

    # ---- isomorphism ---------------------------------------------------------------------------
    def isomorph_key(self) -> str:
        """Canonical string shared by architectures that compute the same function.

        Reproduces the benchmark's own canonical form (NATS-Bench's unique string with zeros
        considered; the mirror's `isomorph` column, 6,466 classes): each node is the sorted
        '+'-join of one term per incoming edge, where `none`, or any op applied to a node whose
        string is exactly ``"#"``, gives ``"#"``; `skip_connect` passes the source string
        through; any other op gives ``"(src)@op"``. Like the benchmark, it does not simplify
        sums that contain ``"#"`` (``"#+#"`` stays), so a few functionally equal cells keep
        distinct keys -- BN after a conv on a zero input is a learned constant, not zero.
        """
        nodes = {0: "0"}
        for dst in range(1, NUM_NODES):
            terms = []
            for (src, d), op in zip(EDGES, self.ops):
                if d != dst:
                    continue
                if op == "none" or nodes[src] == "#":
                    terms.append("#")
                elif op == "skip_connect":
                    terms.append(nodes[src])
                else:
                    terms.append(f"({nodes[src]})@{op}")
            nodes[dst] = "+".join(sorted(terms))
        return nodes[NUM_NODES - 1]


def all_archs() -> Iterator[Arch]:
    """All 15,625 architectures in product order (edge 0 most significant). Not benchmark order."""
    for code in itertools.product(range(NUM_OPS), repeat=NUM_EDGES):
        yield Arch(code)


def codes_array() -> np.ndarray:
    """int8[15625, 6]: op codes of all architectures in product order."""
    return np.array(list(itertools.product(range(NUM_OPS), repeat=NUM_EDGES)), dtype=np.int8)


def mutate(arch: Arch, rng: random.Random | np.random.Generator) -> Arch:
    """A copy of `arch` with one uniformly chosen edge set to a different, uniformly chosen op."""
    edge = int(rng.integers(NUM_EDGES)) if isinstance(rng, np.random.Generator) else rng.randrange(NUM_EDGES)
    choices = [o for o in range(NUM_OPS) if o != arch.code[edge]]
    pick = int(rng.integers(len(choices))) if isinstance(rng, np.random.Generator) else rng.randrange(len(choices))
    return arch.replace(edge, choices[pick])
