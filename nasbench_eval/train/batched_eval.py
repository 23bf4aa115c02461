"""Batched Stage-1 prediction: G architectures of one supernet in one forward pass, per-arch BatchNorm.

The prediction protocol is `predict_accuracies`'s ([LZ] App. B, SPOS): per architecture, recalibrate
the BatchNorm running statistics on `bn_batches` training batches (train mode, no gradients,
momentum update from the supernet's saved statistics, no reset), then count correct eval-mode
predictions on fixed valid batches. Here a group of G architectures shares one pass:

* rows -- each input batch of b images is repeated G times, arch-major: rows ``g*b .. (g+1)*b - 1``
  of every activation belong to the group's g-th architecture;
* edges -- on every cell edge, each candidate op (for split weights: each op copy, selected by the
  previous edge's choice) runs once on the rows of the archs that chose it, and the results are
  added into those archs' rows of the destination node, in edge order as `SuperCell` sums them; a
  `none` op adds x*0 (+-0 for finite x) and is skipped; with bias weights each arch's rows get its
  own bias row (its choices on edges e-D..e, `Supernet._bias_row`) before the op, as in
  `Supernet.forward`;
* BatchNorm -- every BatchNorm keeps running statistics of shape (G, C), one row per arch, starting
  from the supernet's saved statistics. The S archs that reach a BN call are gathered, their rows
  rearranged into one (b, S*C, H, W) tensor and normalised by a single ``F.batch_norm`` whose
  statistics are per channel, hence per arch: batch statistics of each arch's own rows in train
  mode (the momentum update goes to that arch's running statistics only), its own running
  statistics in eval mode;
* memory format -- activations are channels_last, as in the single-path forward of the
  channels_last batches `DeviceSplit` produces (2.3x faster than NCHW on the CPU); inputs in
  another format are converted.

Every weight is shared with the supernet and nothing of the supernet changes. Each arch does the
arithmetic of its single-path forward, so on the CPU the predictions equal `predict_accuracies`
with ``batched=False`` exactly, whatever the group size and whoever else is in the group (tested;
logits and BN statistics bit for bit, up to the sign of zero). On CUDA, kernels chosen by tensor
size may round differently, so logits can differ in the last bits and an accuracy, rarely, by one
image; ``benchmarks/stage1_eval_throughput.py`` reports the agreement on the device it runs on.
Bias and split weights are supported; BatchNorms without running statistics or with
``momentum=None`` (cumulative averages) are not -- use ``batched=False`` for such modules.

>>> from nasbench_eval.nets.supernet import Supernet
>>> net = Supernet(C=4, N=1, seed=0)
>>> group = GroupedSupernet(net)
>>> group.load([(3, 3, 3, 3, 3, 3), (1, 0, 2, 4, 1, 3)])
>>> group.logits(torch.zeros(5, 3, 32, 32)).shape       # (G, b, num_classes)
torch.Size([2, 5, 10])
"""
from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_int
from ..engine.sizing import fit_group_size, iter_groups
from ..exceptions import InvalidParameterError
from ..nets.supernet import SuperCell, Supernet
from ..space import EDGES

Batches = Sequence[tuple[torch.Tensor, torch.Tensor]]

CPU_GROUP_SIZE = 1
"""Group size on the CPU. Measured (C=16, N=5, b=256, one thread, benchmarks/results/stage1_eval_throughput_cpu.json):
G=1 runs as fast as one at a time, G=2 and 4 at 0.6x and 0.5x. Stage-1 maps of G*b rows pass 32 MB, where glibc
maps every fresh buffer anew and each allocation page-faults (a 40 MB zero fill: ~10x slower per byte than 30 MB)."""
MAX_GROUP_SIZE = 256
ACTIVATIONS_PER_ARCH = 16
"""Stage-1-sized activation maps (b x C x H x W float32) one arch keeps alive at the peak of a cell (estimate)."""


class _Rows:
    """The group positions (S,) that the rows of the tensor now flowing through the net belong to."""

    def __init__(self):
        self.idx: torch.Tensor | None = None
        self.count = 0

    def set(self, idx: torch.Tensor, count: int) -> None:
        self.idx, self.count = idx, count


class GroupBatchNorm(nn.Module):
    """A BatchNorm with one set of running statistics per arch of the group (module docstring).

    Parameters
    ----------
    bn : nn.modules.batchnorm._BatchNorm
        Source of the affine parameters (shared, not copied), eps, momentum and the saved running
        statistics every arch starts from.
    rows : _Rows
        Tells which archs the rows of the input belong to.

    Maps (S*b, C, H, W), arch-major, to the same shape.
    """

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm, rows: _Rows):
        super().__init__()
        self.weight, self.bias, self.eps, self.momentum, self.rows = bn.weight, bn.bias, bn.eps, bn.momentum, rows
        self.register_buffer("saved_mean", bn.running_mean.detach().clone())
        self.register_buffer("saved_var", bn.running_var.detach().clone())
        self.register_buffer("saved_count", bn.num_batches_tracked.detach().clone())
        self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset(self, g: int) -> None:
        """Give each of `g` archs the saved statistics: running mean / var (g, C), batch counts (g,)."""
        self.running_mean = self.saved_mean.expand(g, -1).clone()
        self.running_var = self.saved_var.expand(g, -1).clone()
        self.num_batches_tracked = self.saved_count.expand(g).clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        idx, s = self.rows.idx, self.rows.count
        c = x.shape[1]
        wide = _archs_to_channels(x, s)
        everyone = s == len(self.running_mean)   # positions are distinct, so all of them in order
        mean = self.running_mean.view(-1) if everyone else self.running_mean[idx].view(-1)
        var = self.running_var.view(-1) if everyone else self.running_var[idx].view(-1)
        weight = None if self.weight is None else self.weight.repeat(s)
        bias = None if self.bias is None else self.bias.repeat(s)
        out = F.batch_norm(wide, mean, var, weight, bias, self.training, self.momentum, self.eps)
        if self.training:
            self.num_batches_tracked[idx] += 1
            if not everyone:
                self.running_mean[idx], self.running_var[idx] = mean.view(s, c), var.view(s, c)
        return _channels_to_archs(out, s)


def _arch_blocks(x: torch.Tensor, s: int) -> torch.Tensor:
    """(s*n, C, H, W) arch-major rows -> (s, n*H*W*C): one row per arch (a view for channels_last x)."""
    return x.permute(0, 2, 3, 1).reshape(s, -1)


def _archs_to_channels(x: torch.Tensor, s: int) -> torch.Tensor:
    """(s*n, C, H, W) arch-major rows -> (n, s*C, H, W), channel block k = arch k; channels_last out."""
    _, c, h, w = x.shape
    nhwc = x.permute(0, 2, 3, 1).reshape(s, -1, h, w, c).permute(1, 2, 3, 0, 4)
    return nhwc.reshape(-1, h, w, s * c).permute(0, 3, 1, 2)


def _channels_to_archs(x: torch.Tensor, s: int) -> torch.Tensor:
    """Inverse of `_archs_to_channels`."""
    n, sc, h, w = x.shape
    nhwc = x.permute(0, 2, 3, 1).reshape(n, h, w, s, sc // s).permute(3, 0, 1, 2, 4)
    return nhwc.reshape(s * n, h, w, sc // s).permute(0, 3, 1, 2)


@dataclass(frozen=True)
class _Branch:
    """The archs of a group that take the same op (copy) on one edge."""

    col: int                            # op column (index into Supernet.ops)
    prev: int | None                    # previous edge's column when the weights are split, else None
    idx: torch.Tensor                   # (S,) int64 group positions
    bias_rows: torch.Tensor | None      # (S,) int64 rows of the edge's bias table, or None
    is_zero: bool                       # the op is `none`


class GroupedSupernet:
    """A `Supernet` evaluated for a group of architectures at once (module docstring).

    Parameters
    ----------
    supernet : Supernet
        Read once: parameters are shared, BatchNorm statistics copied. Later changes to the
        supernet's weights are seen, later changes to its BatchNorm statistics are not.

    Raises
    ------
    InvalidParameterError
        If a BatchNorm tracks no running statistics or has ``momentum=None``.
    """

    def __init__(self, supernet: Supernet):
        self.supernet = supernet
        self.net = copy.deepcopy(supernet, memo={id(p): p for p in supernet.parameters()})
        self._rows = _Rows()
        self._bns: dict[str, GroupBatchNorm] = {}
        for parent_name, parent in list(self.net.named_modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, nn.modules.batchnorm._BatchNorm):
                    qual = f"{parent_name}.{name}" if parent_name else name
                    if child.running_mean is None or child.momentum is None:
                        raise InvalidParameterError(
                            f"GroupedSupernet(): BatchNorm {qual!r} has no running statistics or momentum=None; "
                            "expected tracked statistics with a momentum, or use "
                            "predict_accuracies(..., batched=False)."
                        )
                    self._bns[qual] = GroupBatchNorm(child, self._rows)
                    setattr(parent, name, self._bns[qual])
        self._plan: list[list[_Branch]] = []
        self._all = torch.zeros(0, dtype=torch.long)

    @property
    def size(self) -> int:
        """G, the number of archs loaded."""
        return len(self._all)

    def load(self, archs: Sequence) -> None:
        """Start a group: the archs (Arch, str or 6 OPS indices) with the supernet's saved BN statistics each."""
        net = self.supernet
        cols = [net.columns(a) for a in archs]
        if not cols:
            raise InvalidParameterError("GroupedSupernet.load(): archs is empty; expected at least one architecture.")
        device = net.classifier.weight.device
        self._all = torch.arange(len(cols), device=device)
        self._plan = []
        for e in range(len(EDGES)):
            members: dict[tuple[int, int | None], list[int]] = {}
            for g, c in enumerate(cols):
                members.setdefault((c[e], c[e - 1] if net.is_split and e > 0 else None), []).append(g)
            self._plan.append(
                [
                    _Branch(
                        col,
                        prev,
                        torch.tensor(pos, device=device),
                        torch.tensor([net._bias_row(cols[g], e) for g in pos], device=device)
                        if net.bias_depth
                        else None,
                        net.ops[col] == "none",
                    )
                    for (col, prev), pos in members.items()
                ]
            )
        for bn in self._bns.values():
            bn.reset(len(cols))

    def recalibrate(self, batches: Batches) -> None:
        """`recalibrate_bn` for every loaded arch at once: train-mode passes over `batches`, no gradients."""
        self.net.train()
        with torch.no_grad():
            for x, _ in batches:
                self._forward(x)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Eval-mode logits (G, b, num_classes) of every loaded arch for images x (b, 3, H, W)."""
        self.net.eval()
        with torch.no_grad():
            return self._forward(x)

    def correct(self, batches: Batches) -> np.ndarray:
        """int64[G]: eval-mode top-1 hits of each loaded arch over all (x, y) of `batches`."""
        total = sum((self.logits(x).argmax(-1) == y).sum(1) for x, y in batches)
        return total.cpu().numpy().astype(np.int64)

    def bn_state(self, g: int) -> dict[str, torch.Tensor]:
        """BatchNorm running statistics of the g-th loaded arch, named as in ``supernet.state_dict()``."""
        out = {}
        for name, bn in self._bns.items():
            out[f"{name}.running_mean"] = bn.running_mean[g].clone()
            out[f"{name}.running_var"] = bn.running_var[g].clone()
            out[f"{name}.num_batches_tracked"] = bn.num_batches_tracked[g].clone()
        return out

    # ----------------------------------------------------------------------------------- forward
    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        net, b = self.net, x.shape[0]
        h = torch.cat([x.contiguous(memory_format=torch.channels_last)] * self.size)
        self._rows.set(self._all, self.size)
        h = net.stem(h)
        for block in net.cells:
            h = self._cell(block, h) if isinstance(block, SuperCell) else block(h)
        return net.classifier(net.global_pooling(net.lastact(h)).flatten(1)).view(self.size, b, -1)

    def _cell(self, cell: SuperCell, x: torch.Tensor) -> torch.Tensor:
        """`SuperCell.forward` for the group: node j sums its incoming edges in edge order.

        Not `nasbench_eval.nets.cell.cell_forward`: the same node sums, but accumulated in place in
        NHWC storage (one contiguous block per arch, partial branches added with `index_add_`) and
        with ``none`` branches skipped, which its out-of-place sum over every edge output cannot do.
        """
        n, c, h, w = x.shape
        nodes = [x]
        for dst in range(1, 4):
            acc = None
            for e, (src, d) in enumerate(EDGES):
                if d == dst:
                    acc = self._add_edge(cell.edges[e], self._plan[e], nodes[src], acc)
            nodes.append((acc if acc is not None else x.new_zeros(n, h, w, c)).permute(0, 3, 1, 2))
        self._rows.set(self._all, self.size)
        return nodes[-1]

    def _add_edge(
        self, edge, branches: list[_Branch], x: torch.Tensor, acc: torch.Tensor | None
    ) -> torch.Tensor | None:
        """acc + the edge's output for every arch, in NHWC storage (one contiguous block per arch).

        acc is None before the node's first contribution; a `none` branch adds (+-)0 and is skipped.
        """
        n, c, h, w = x.shape
        for br in branches:
            if br.is_zero:
                continue
            if len(br.idx) == self.size:
                out = self._branch(edge, br, x).permute(0, 2, 3, 1)
                acc = out.clone(memory_format=torch.contiguous_format) if acc is None else acc.add_(out)
                continue
            if acc is None:
                acc = x.new_zeros(n, h, w, c)
            part = _arch_blocks(x, self.size).index_select(0, br.idx).view(-1, h, w, c).permute(0, 3, 1, 2)
            acc.view(self.size, -1).index_add_(0, br.idx, _arch_blocks(self._branch(edge, br, part), len(br.idx)))
        return acc

    def _branch(self, edge, br: _Branch, x: torch.Tensor) -> torch.Tensor:
        s = len(br.idx)
        self._rows.set(br.idx, s)
        if br.bias_rows is not None:
            x = (x.unflatten(0, (s, -1)) + edge.bias[br.bias_rows].view(s, 1, -1, 1, 1)).flatten(0, 1)
        return edge.op_for(br.col, br.prev)(x)


def auto_group_size(supernet: Supernet, batches: Batches) -> int:
    """First group size: `engine.sizing.fit_group_size` of one arch's activations; `CPU_GROUP_SIZE` on the CPU.

    Parameters
    ----------
    supernet : Supernet
        Its device and channel count C are read.
    batches : sequence of (x, y)
        The largest x (b, 3, H, W) sets the activation size: b * C * H * W float32 values per map.

    Returns
    -------
    int
        In ``[1, MAX_GROUP_SIZE]``.
    """
    b, _, h, w = max((x.shape for x, _ in batches), key=lambda s: s[0] * s[2] * s[3], default=(0, 0, 0, 0))
    per_arch = ACTIVATIONS_PER_ARCH * b * supernet.C * h * w * 4
    device = supernet.classifier.weight.device
    return fit_group_size(per_arch, device, cpu_size=CPU_GROUP_SIZE, max_group=MAX_GROUP_SIZE)


def iter_group_predictions(
    supernet: Supernet,
    archs: Sequence,
    valid_batches: Batches,
    *,
    bn_batches: Batches | None = None,
    group_size: int | None = None,
) -> Iterator[tuple[Sequence, np.ndarray]]:
    """Predicted accuracies, one finished group at a time (for callers that store or report progress).

    Parameters
    ----------
    supernet : Supernet
    archs : sequence of Arch, str or 6-tuples of OPS indices
        All are checked against the supernet's subspace before anything runs.
    valid_batches : sequence of (x, y)
        Evaluation images (b, 3, H, W) and labels (b,), on the supernet's device.
    bn_batches : sequence of (x, y), optional
        Recalibration images (the same for every arch); None or empty skips recalibration.
    group_size : int, optional
        Archs per pass; default `auto_group_size`. On CUDA out-of-memory the size is halved and
        the group redone.

    Yields
    ------
    (group, acc)
        The next consecutive slice of `archs` and its accuracies, float64[len(group)] in percent,
        exactly as ``predict_accuracies(..., batched=False)`` computes them (100 * hits / images).
    """
    if group_size is not None:
        group_size = check_int("group_size", group_size, caller="iter_group_predictions", minimum=1)
    for a in archs:
        supernet.columns(a)
    if not len(archs):
        return
    grouped = GroupedSupernet(supernet)
    n_total = sum(len(y) for _, y in valid_batches)

    def run(group):
        grouped.load(group)
        if bn_batches:
            grouped.recalibrate(bn_batches)
        return 100.0 * grouped.correct(valid_batches) / n_total

    yield from iter_groups(archs, run, group_size or auto_group_size(supernet, [*valid_batches, *(bn_batches or [])]))
