"""Settings of a SpiderNet run (Algorithm 2) and the growth strategies of paper Table 1.

Every default is the paper's value where the paper gives one (section in the comment), else the
released SpiderNet code's (``RobGeada/SpiderNet-NTKLRC``, file named), else ours (said so).

>>> SpiderNetConfig().final_epochs, STRATEGIES["random3"]
(600, Strategy(mutation='random', inter_cycle='none', intra_train='pruners'))
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .._validation import check_fraction, check_int, check_option
from ..exceptions import InvalidParameterError
from ..registry import Registry


@dataclass(frozen=True)
class Strategy:
    """What each of the three "non-random" parts of Algorithm 2 does (paper §4.3, Table 1).

    Attributes
    ----------
    mutation : {"ntk_lrc", "random"}
        Alg. 2 line 3: the edge returned by Algorithm 1, or a uniformly random edge.
    inter_cycle : {"deadhead", "random", "none"}
        Alg. 2 lines 1-2: train with pruners then deadhead; delete as many random ops as the
        reference SpiderNet run deadheaded in that cycle (no training: nothing would use it); or
        nothing (no training either).
    intra_train : {"pruners", "random", "none"}
        Alg. 2 line 4: the final training prunes with its pruners (and deadheads); it first deletes
        as many random ops as the reference run deadheaded in its final training, then trains with
        the pruners fixed on; or it trains with the pruners fixed on.
    """

    mutation: str
    inter_cycle: str
    intra_train: str

    @property
    def needs_reference(self) -> bool:
        """Random deletions copy their counts from a SpiderNet run (paper §4.3)."""
        return "random" in (self.inter_cycle, self.intra_train)


STRATEGIES = Registry("SpiderNet strategy", "SpiderNet strategies")
"""Ablation name -> Strategy: SpiderNet itself and Random 1-4 of paper Table 1."""
for _name, _strategy in {
    "spidernet": Strategy("ntk_lrc", "deadhead", "pruners"),
    "random1": Strategy("random", "random", "random"),
    "random2": Strategy("random", "none", "none"),
    "random3": Strategy("random", "none", "pruners"),
    "random4": Strategy("random", "random", "pruners"),
}.items():
    STRATEGIES.add(_name, _strategy)


@dataclass(frozen=True)
class SpiderNetConfig:
    """Hyper-parameters of Algorithm 2 (validated on construction; ``dataclasses.replace`` to override).

    Attributes (units: epochs, images, bytes as GiB where named ``_gb``)
    ----------
    cycles, mutations_per_cycle, epochs_per_cycle : int
        §4.2: 15 cycles of 4 training epochs, then up to 3 mutations each.
    final_epochs : int
        §4.1: 600 epochs of final training (Alg. 2 line 4).
    C, reductions : int
        §4.1: 64 initial channels, 2 reductions (3 large cells).
    vram_gb : float
        §4.1: s_max = 20 (an RTX 3090); read here as GiB (2^30 bytes).
    batch_size, lr : int, float
        §4.1: batch 64, lr 0.01 cosine-annealed to 0. The paper does not say over which span during
        the cycles; like the released code (``trainers.full_train`` with ``T`` = cycle length), each
        training phase (every cycle, and the final training) runs its own cosine from `lr` to 0.
    momentum, weight_decay : float
        Paper silent; released code ``trainers.full_train``: SGD, momentum 0.9, weight decay 3e-4
        (on every parameter, pruner gates included).
    dropout : float
        §4.1: 0.2, before the classifier (the released code uses it as a drop-path rate instead).
    cutout, cutout_prob : int, float
        §4.1 lists Cutout; size 16 px with probability 0.5 from the released ``data_loaders.py``.
        Random crop (4 px) and flip are NB201's, as `DeviceSplit` applies them.
    pruner_init : float
        Paper silent; released code ``net.Edge``: 0.01 (every gate starts on).
    pruner_lr : float or None
        Paper silent; the released code trains gates in the weights' SGD group, so None = `lr`.
    pruner_clamp : float or None
        Released code ``Pruner.clamp``: after every step |w| <= pruner_clamp · pruner_init (5), so an
        off gate can come back; None disables it.
    deadhead_window, deadhead_threshold : int, float
        §3.2: an op whose gate was off in more than 75 % of the batches of the last 4 epochs is
        deleted. In the final training the rule runs after every epoch once 4 epochs are recorded.
    n_good : int
        §3.7 "a configurable number of good mutations"; ours: 3.
    ntk_images, ntk_batches, lrc_patches, lrc_batches : int
        Algorithm 1's samples: NTK on 3 × 64 augmented training images, LRC on 3 × 1,000 single-
        channel 3×3 patches (spec/proxies.md §3.3-3.4, released SpiderNet code).
    slim_width : int
        §3.7: the slim model S has 1 channel per op (the released code uses 3 for the NTK).
    eval_batch_size : int
        Test-set evaluation batch; no effect on the accuracy.
    """

    cycles: int = 15
    mutations_per_cycle: int = 3
    epochs_per_cycle: int = 4
    final_epochs: int = 600
    C: int = 64
    reductions: int = 2
    vram_gb: float = 20.0
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 3e-4
    dropout: float = 0.2
    cutout: int = 16
    cutout_prob: float = 0.5
    pruner_init: float = 0.01
    pruner_lr: float | None = None
    pruner_clamp: float | None = 5.0
    deadhead_window: int = 4
    deadhead_threshold: float = 0.75
    n_good: int = 3
    ntk_images: int = 192
    ntk_batches: int = 3
    lrc_patches: int = 3000
    lrc_batches: int = 3
    slim_width: int = 1
    eval_batch_size: int = 500

    def __post_init__(self):
        caller = "SpiderNetConfig"
        for name in ("cycles", "mutations_per_cycle", "final_epochs", "reductions", "cutout"):
            check_int(name, getattr(self, name), caller=caller, minimum=0)
        for name in ("epochs_per_cycle", "C", "batch_size", "deadhead_window", "n_good", "ntk_images", "ntk_batches",
                     "lrc_patches", "lrc_batches", "slim_width", "eval_batch_size"):
            check_int(name, getattr(self, name), caller=caller, minimum=1)
        for name in ("dropout", "cutout_prob", "deadhead_threshold", "momentum"):
            check_fraction(name, getattr(self, name), caller=caller)
        for name in ("vram_gb", "lr", "pruner_init", "pruner_lr", "pruner_clamp"):
            _check_float(name, getattr(self, name), caller=caller, allow_none=name in ("pruner_lr", "pruner_clamp"))
        _check_float("weight_decay", self.weight_decay, caller=caller, strict=False)
        if self.ntk_images < self.ntk_batches or self.lrc_patches < self.lrc_batches:
            raise InvalidParameterError(
                f"{caller}(): ntk_images={self.ntk_images}, lrc_patches={self.lrc_patches} are fewer than "
                f"their batch counts; expected at least one sample per batch."
            )

    @property
    def max_bytes(self) -> float:
        """s_max in bytes."""
        return self.vram_gb * 2**30

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _check_float(name: str, value, *, caller: str, strict: bool = True, allow_none: bool = False) -> None:
    """A finite real number > 0 (>= 0 if not `strict`), or None where `allow_none`."""
    if value is None and allow_none:
        return
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or value < 0 or (strict and value == 0):
        bound = "> 0" if strict else ">= 0"
        raise InvalidParameterError(f"{caller}(): {name}={value!r} is out of range; expected a finite number {bound}.")


def get_strategy(ablation: str, *, caller: str) -> Strategy:
    """The Strategy of an ablation name (see `STRATEGIES`)."""
    return STRATEGIES[check_option("ablation", ablation, STRATEGIES, caller=caller)]
