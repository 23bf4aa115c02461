"""A group of NB201 networks as one module with disjoint per-architecture parameters (spec §6.3).

Grouped layout: A architectures sit side by side along the channel axis, so a tensor of the group
has shape (B, A·C, H, W) and channels ``[a·C, (a+1)·C)`` belong to architecture a. Every conv is a
grouped conv (groups = number of archs it serves) holding each arch's own kernel; BN statistics are
per channel, hence per arch; the classifier is a per-arch linear map. On each cell edge, the archs
that use the same op are gathered, the op is applied to them only, and the results are scattered
back into arch order, so each arch does exactly the arithmetic of its standalone network.

Op semantics are not written again here: a parameter-free op (``none``, ``skip_connect``,
``avg_pool_3x3`` inside a cell, where C_in = C_out) acts on each channel alone, so the single-arch
module itself runs on the grouped tensor; only the parameterized `ReLUConvBN` becomes a grouped
conv, because one ordinary conv per arch would defeat the grouping. The node sums are
`nasbench_eval.nets.cell.cell_forward`, and a proxy's weight set is the proxy's own selector
applied to the single-arch networks (`GroupedNetwork.weight_slices`).

Weights are never drawn here: `GroupedNetwork` copies them from the single-arch networks (built by
`nasbench_eval.nets.build_network` / `build_thin_network` from each arch's seed, spec §6.1).

ReLU sites are reported to an optional *observer* ``observer(pre_activation, idx)`` with
``pre_activation`` of shape (B, S·C, H, W) (the S archs ``idx`` that execute this ReLU call, in
that order); NASWOT and linear regions build their per-arch codes from it.

>>> from nasbench_eval.nets import build_network
>>> archs = ("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|",
...          "|skip_connect~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|nor_conv_3x3~2|")
>>> nets = [build_network(a, C=4, N=1, seed=0) for a in archs]
>>> GroupedNetwork(nets)(torch.zeros(2, 3, 32, 32)).shape        # (A, B, K)
torch.Size([2, 2, 10])
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..exceptions import InvalidParameterError
from ..nets.cell import Cell, cell_forward
from ..nets.network import CellNetwork, ResidualBlock
from ..nets.ops import ReLUConvBN
from ..space import OPS

Observer = Callable[[torch.Tensor, torch.Tensor], None]
"""``observer(pre_activation (B, S·C, H, W), idx (S,) int64)``, called before every ReLU call."""

BN_MODES = ("keep", "remove", "keep_reduction")
"""keep: every BN (train mode); remove: no BN (synflow default); keep_reduction: only residual-block BNs."""


def _stack(tensors: Sequence[torch.Tensor]) -> nn.Parameter:
    return nn.Parameter(torch.stack([t.detach() for t in tensors]).clone())


class GroupedConvBN(nn.Module):
    """[ReLU] -> grouped Conv (one kernel per arch, no bias) -> [BN], for the S archs in `idx`.

    Parameters
    ----------
    convs : sequence of nn.Conv2d
        One conv per arch, all of the same shape; stride and padding are taken from the first.
    bns : sequence of nn.BatchNorm2d or None
        One BN per arch (train-mode batch statistics), or None for no BN.
    idx : Tensor of shape (S,), int64
        Positions in the group of the archs these convs belong to.
    relu : bool
        Apply (and report to the observer) a ReLU before the conv.

    Maps (B, S·C_in, H, W) to (B, S·C_out, H', W').
    """

    def __init__(
        self, convs: Sequence[nn.Conv2d], bns: Sequence[nn.BatchNorm2d] | None, idx: torch.Tensor, *, relu: bool
    ):
        super().__init__()
        first = convs[0]
        self.stride, self.padding, self.relu = first.stride, first.padding, relu
        self.weight = _stack([c.weight for c in convs])                       # (S, C_out, C_in, k, k)
        self.bn_weight = None if bns is None else _stack([b.weight for b in bns])  # (S, C_out)
        self.bn_bias = None if bns is None else _stack([b.bias for b in bns])
        self.eps = 1e-5 if bns is None else bns[0].eps
        self.register_buffer("idx", idx.clone(), persistent=False)
        # the first arch's parameter behind each stacked one (all S play the same role), for `weight_slices`
        self.sources = {"weight": first.weight}
        if bns is not None:
            self.sources.update(bn_weight=bns[0].weight, bn_bias=bns[0].bias)

    def forward(self, x: torch.Tensor, observer: Observer | None = None, *, shared_input: bool = False) -> torch.Tensor:
        """(B, S·C_in, H, W) -> (B, S·C_out, H', W'); with `shared_input`, x is (B, C_in, H, W) for all S archs."""
        if self.relu:
            if observer is not None:
                observer(x, self.idx)
            x = F.relu(x)
        groups = 1 if shared_input else self.weight.shape[0]
        y = F.conv2d(x, self.weight.flatten(0, 1), stride=self.stride, padding=self.padding, groups=groups)
        if self.bn_weight is None:
            return y
        return F.batch_norm(
            y, None, None, self.bn_weight.flatten(), self.bn_bias.flatten(), training=True, eps=self.eps
        )


def _conv_bn(seqs: Sequence[nn.Sequential], idx: torch.Tensor, use_bn: bool) -> GroupedConvBN:
    """Group the ReLUConvBN modules (ReLU, Conv, BN) of S archs."""
    return GroupedConvBN([s[1] for s in seqs], [s[2] for s in seqs] if use_bn else None, idx, relu=True)


def _arange(a: int) -> torch.Tensor:
    return torch.arange(a, dtype=torch.int64)


class GroupedEdge(nn.Module):
    """One cell edge of A archs: archs sharing an op are gathered, processed together, scattered back."""

    def __init__(self, edges: Sequence[nn.Module], use_bn: bool):
        super().__init__()
        names = []
        for edge in edges:
            if len(edge.ops) != 1:
                raise InvalidParameterError(
                    f"GroupedNetwork(): edge with ops {list(edge.ops)} is mixed; expected single-op edges."
                )
            names.append(next(iter(edge.ops)))
        self.ops = [op for op in OPS if op in names]
        order = [a for op in self.ops for a in range(len(names)) if names[a] == op]
        self.register_buffer("inv", torch.argsort(torch.tensor(order)), persistent=False)
        idxs = [torch.tensor([a for a in range(len(names)) if names[a] == op], dtype=torch.int64) for op in self.ops]
        for k, idx in enumerate(idxs):
            self.register_buffer(f"idx_{k}", idx, persistent=False)
        self.convs, self.free = nn.ModuleDict(), nn.ModuleDict()
        for op, idx in zip(self.ops, idxs):
            modules = [edges[a].ops[op] for a in idx.tolist()]
            if isinstance(modules[0], ReLUConvBN):
                self.convs[op] = _conv_bn(modules, idx, use_bn)
            elif next(modules[0].parameters(), None) is None:
                self.free[op] = modules[0]     # channel-wise and stateless: the single-arch module serves all archs
            else:
                raise InvalidParameterError(
                    f"GroupedNetwork(): op {op!r} is a {type(modules[0]).__name__} with parameters; "
                    "expected NB201 cell ops (ReLUConvBN or parameter-free, C_in = C_out)."
                )

    def _op(self, op: str, x: torch.Tensor, observer: Observer | None) -> torch.Tensor:
        if op in self.free:
            return self.free[op](x)
        return self.convs[op](x, observer)

    def forward(self, x: torch.Tensor, observer: Observer | None = None) -> torch.Tensor:
        """Maps (B, A·C, H, W) to (B, A·C, H, W)."""
        if len(self.ops) == 1:
            return self._op(self.ops[0], x, observer)
        b, _, h, w = x.shape
        a = len(self.inv)
        xv = x.reshape(b, a, -1, h, w)
        parts = []
        for k, op in enumerate(self.ops):
            idx = getattr(self, f"idx_{k}")
            parts.append(self._op(op, xv.index_select(1, idx).flatten(1, 2), observer).reshape(b, len(idx), -1, h, w))
        return torch.cat(parts, dim=1).index_select(1, self.inv).flatten(1, 2)


class GroupedCell(nn.Module):
    """A cell position of A archs; node sums in the same order as `nasbench_eval.nets.cell.Cell`."""

    def __init__(self, cells: Sequence[Cell], use_bn: bool):
        super().__init__()
        self.edges = nn.ModuleList(GroupedEdge([c.edges[e] for c in cells], use_bn) for e in range(len(cells[0].edges)))

    def forward(self, x: torch.Tensor, observer: Observer | None = None) -> torch.Tensor:
        return cell_forward(x, lambda e, h: self.edges[e](h, observer))


class GroupedResidual(nn.Module):
    """The reduction block of A archs: shortcut(x) + conv_b(conv_a(x))."""

    def __init__(self, blocks: Sequence[ResidualBlock], use_bn: bool):
        super().__init__()
        idx = _arange(len(blocks))
        self.conv_a = _conv_bn([b.conv_a for b in blocks], idx, use_bn)
        self.conv_b = _conv_bn([b.conv_b for b in blocks], idx, use_bn)
        self.pool = blocks[0].shortcut[0]      # the shortcut's parameter-free AvgPool2d, channel-wise
        self.shortcut = GroupedConvBN([b.shortcut[1] for b in blocks], None, idx, relu=False)

    def forward(self, x: torch.Tensor, observer: Observer | None = None) -> torch.Tensor:
        short = self.shortcut(self.pool(x))
        return short + self.conv_b(self.conv_a(x, observer), observer)


class GroupedNetwork(nn.Module):
    """A architectures' `CellNetwork`s as one module; arch a's output depends only on arch a's parameters.

    Parameters
    ----------
    nets : sequence of CellNetwork
        Initialized single-arch networks of one structure (same C, N, num_classes, stem or none;
        any genotypes; single-op edges). Their weights are copied; the networks are not modified.
    bn : {"keep", "remove", "keep_reduction"}, default="keep"
        Which BatchNorms run (train mode, batch statistics): all, none (synflow's default), or only
        those of the residual blocks (synflow option ``keep_reduction``).

    Notes
    -----
    ``forward(x)`` takes the shared input x of shape (B, C_in, H, W), replicates it per arch and
    returns logits of shape (A, B, K). Running statistics are neither kept nor updated (train mode
    never reads them, spec §2.2).
    """

    def __init__(self, nets: Sequence[CellNetwork], *, bn: str = "keep"):
        super().__init__()
        _check_group(nets, bn)
        self.num_archs = len(nets)
        idx = _arange(len(nets))
        keep_all, keep_red = bn == "keep", bn in ("keep", "keep_reduction")
        first = nets[0]
        self.stem = None
        if not isinstance(first.stem, nn.Identity):
            self.stem = GroupedConvBN(
                [n.stem[0] for n in nets], [n.stem[1] for n in nets] if keep_all else None, idx, relu=False
            )
        self.cells = nn.ModuleList(
            GroupedResidual([n.cells[i] for n in nets], keep_red) if isinstance(block, ResidualBlock)
            else GroupedCell([n.cells[i] for n in nets], keep_all)
            for i, block in enumerate(first.cells)
        )
        self.head_bn_weight = _stack([n.lastact[0].weight for n in nets]) if keep_all else None   # (A, C)
        self.head_bn_bias = _stack([n.lastact[0].bias for n in nets]) if keep_all else None
        self.classifier_weight = _stack([n.classifier.weight for n in nets])                    # (A, K, C)
        self.classifier_bias = _stack([n.classifier.bias for n in nets])                        # (A, K)
        self.register_buffer("idx", idx, persistent=False)
        self.nets = tuple(nets)    # a tuple, not submodules: the weight selectors of `weight_slices` read them
        self.sources = {"classifier_weight": first.classifier.weight, "classifier_bias": first.classifier.bias}
        if keep_all:
            self.sources.update(head_bn_weight=first.lastact[0].weight, head_bn_bias=first.lastact[0].bias)

    def forward(self, x: torch.Tensor, observer: Observer | None = None) -> torch.Tensor:
        """Logits (A, B, K) for the shared input x (B, C_in, H, W)."""
        if self.stem is None:
            x = x.repeat(1, self.num_archs, 1, 1)
        else:   # shared input: one ordinary conv with all archs' kernels (the single-arch arithmetic)
            x = self.stem(x, shared_input=True)
        for block in self.cells:
            x = block(x, observer)
        if self.head_bn_weight is not None:
            x = F.batch_norm(x, None, None, self.head_bn_weight.flatten(), self.head_bn_bias.flatten(), training=True)
        if observer is not None:
            observer(x, self.idx)
        feats = F.adaptive_avg_pool2d(F.relu(x), 1).flatten(1).reshape(len(x), self.num_archs, -1)  # (B, A, C)
        return torch.baddbmm(
            self.classifier_bias.unsqueeze(1), feats.transpose(0, 1), self.classifier_weight.transpose(1, 2)
        )

    def weight_slices(self, select: Callable[[nn.Module], list]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The stacked parameters whose single-arch sources a proxy's weight selector picks.

        Parameters
        ----------
        select : callable
            The proxy's own ``select(net) -> parameters`` of one single-arch network (synflow:
            `nasbench_eval.proxies.synflow.synflow_weights`; NTK: `nasbench_eval.proxies.ntk.ntk_weights`).

        Returns
        -------
        list of (param (S, ...), idx (S,))
            In module order (stem, cells, head BN, classifier), each with the group positions of
            its leading arch axis.
        """
        chosen = {id(p) for net in self.nets for p in select(net)}
        out = []
        for m in self.modules():
            if isinstance(m, GroupedConvBN):
                out += [(getattr(m, name), m.idx) for name, src in m.sources.items() if id(src) in chosen]
        heads = ("head_bn_weight", "head_bn_bias", "classifier_weight", "classifier_bias")
        return out + [(getattr(self, n), self.idx) for n in heads if id(self.sources.get(n)) in chosen]


def _check_group(nets: Sequence[CellNetwork], bn: str) -> None:
    if bn not in BN_MODES:
        raise InvalidParameterError(f"GroupedNetwork(): bn={bn!r} is not supported; expected one of {list(BN_MODES)}.")
    if not nets or not all(isinstance(n, CellNetwork) for n in nets):
        raise InvalidParameterError(
            "GroupedNetwork(): nets must be a non-empty sequence of CellNetwork; build them with build_network()."
        )
    shape = (
        [tuple(p.shape) for p in nets[0].stem.parameters()],
        [type(c) for c in nets[0].cells],
        tuple(nets[0].classifier.weight.shape),
    )
    for n in nets[1:]:
        other = (
            [tuple(p.shape) for p in n.stem.parameters()],
            [type(c) for c in n.cells],
            tuple(n.classifier.weight.shape),
        )
        if other != shape:
            raise InvalidParameterError(
                "GroupedNetwork(): nets differ in macro structure (C, N, classes or stem); expected one structure."
            )
