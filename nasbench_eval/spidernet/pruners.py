"""Differentiable pruners and deadheading (paper §3.2, Kim et al. / Bonsai-Net).

    P(x, w) = (Gate(w) + Saw(w)) · x,   Gate(w) = 1[w >= 0],   Saw(w) = (Mw − ⌊Mw⌋) / M,  M = 1e9

Gate makes the forward a binary switch; Saw is below 1/M in value but has derivative exactly 1
almost everywhere, so ∂P/∂w = x and `w` learns by plain gradient descent. One pruner follows
every op on every edge. A pruner that was off in more than 75 % of the batches of the previous
4 epochs is *deadheaded*: its op is deleted for good (`deadhead_keys` decides which).

>>> p = Pruner(init=0.5)
>>> bool(p.is_on())
True
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import torch
from torch import nn

from .._validation import check_fraction, check_int

SAW_M = 1e9
"""The constant M of Saw(w) (paper: 10^9)."""


def gate(w: torch.Tensor) -> torch.Tensor:
    """Gate(w) = 1 where w >= 0, else 0 (no gradient)."""
    return (w >= 0).to(w.dtype)


def saw(w: torch.Tensor, M: float = SAW_M) -> torch.Tensor:
    """Saw(w) = (Mw − ⌊Mw⌋)/M: in [0, 1/M) in value, derivative 1 w.r.t. w (⌊·⌋ has zero gradient)."""
    mw = w * M
    return (mw - torch.floor(mw)) / M


class Pruner(nn.Module):
    """Scales its input by Gate(w) + Saw(w) with a learnable scalar `w`.

    The parameter is named ``w`` (not ``weight``), so the NTK's parameter set (names containing
    "weight", spec §3.3) does not include it.

    Parameters
    ----------
    init : float, default=0.0
        Initial w; Gate(0) = 1, so a new pruner starts on (the paper does not state a value).
    """

    def __init__(self, init: float = 0.0):
        super().__init__()
        self.init = float(init)
        self.w = nn.Parameter(torch.tensor(self.init))

    def reset_parameters(self) -> None:
        """Set w back to its initial value."""
        with torch.no_grad():
            self.w.fill_(self.init)

    def is_on(self) -> bool:
        """Whether the gate currently passes its input (w >= 0)."""
        return bool(self.w.detach() >= 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.w.to(torch.float64)
        return ((gate(w) + saw(w)).to(x.dtype)) * x


class PrunerLog:
    """Records, per epoch and batch, which pruners were on (input of `deadhead_keys`).

    Usage: ``log.record(model.pruner_states())`` after every training batch and ``log.end_epoch()``
    after every epoch. ``log.history[key]`` is a list of epochs, each a list of bools (on per batch).

    Parameters
    ----------
    keep_epochs : int, optional
        Keep only the last `keep_epochs` finished epochs (plus the one being recorded), so a
        600-epoch run holds the deadheading window, not its whole history; None keeps everything.
    """

    def __init__(self, keep_epochs: int | None = None):
        self.keep_epochs = (
            None if keep_epochs is None else check_int("keep_epochs", keep_epochs, caller="PrunerLog", minimum=1)
        )
        self.history: dict[Hashable, list[list[bool]]] = {}
        self._epoch = 0          # epochs ended so far
        self._first = 0          # epoch that history[key][0] belongs to

    def record(self, states: Mapping[Hashable, bool]) -> None:
        """Append one batch: `states` maps pruner key -> on."""
        slot = self._epoch - self._first
        for key, on in states.items():
            epochs = self.history.setdefault(key, [])
            while len(epochs) <= slot:
                epochs.append([])
            epochs[slot].append(bool(on))

    def end_epoch(self) -> None:
        """Start a new epoch (and drop epochs older than `keep_epochs`)."""
        self._epoch += 1
        drop = 0 if self.keep_epochs is None else self._epoch - self._first - self.keep_epochs
        if drop > 0:
            for epochs in self.history.values():
                del epochs[:drop]
            self._first += drop

    @property
    def epochs_ended(self) -> int:
        """Number of `end_epoch` calls so far."""
        return self._epoch

    def forget(self, key: Hashable) -> None:
        """Drop a deleted pruner's history."""
        self.history.pop(key, None)

    def state(self) -> dict:
        """Everything needed to rebuild the log (`from_state`), as plain containers."""
        return {
            "keep_epochs": self.keep_epochs,
            "epoch": self._epoch,
            "first": self._first,
            "history": [[list(key) if isinstance(key, tuple) else key, epochs] for key, epochs in self.history.items()],
        }

    @classmethod
    def from_state(cls, state: Mapping) -> "PrunerLog":
        """Inverse of `state` (list keys come back as tuples)."""
        log = cls(state["keep_epochs"])
        log._epoch, log._first = int(state["epoch"]), int(state["first"])
        log.history = {
            tuple(key) if isinstance(key, list) else key: [list(e) for e in epochs] for key, epochs in state["history"]
        }
        return log


def off_fraction(epochs: Sequence[Sequence[bool]], *, window: int = 4) -> float:
    """Fraction of the batches of the last `window` recorded epochs in which the pruner was off.

    Fewer than `window` recorded epochs: all recorded ones are used. No batches: 0.0.
    """
    window = check_int("window", window, caller="off_fraction", minimum=1)
    batches = [on for epoch in list(epochs)[-window:] for on in epoch]
    return 0.0 if not batches else sum(1 for on in batches if not on) / len(batches)


def deadhead_keys(history: Mapping[Hashable, Sequence[Sequence[bool]]], *, window: int = 4,
                  threshold: float = 0.75) -> list[Hashable]:
    """Keys of the pruners to deadhead: off in more than `threshold` of the last `window` epochs' batches.

    Parameters
    ----------
    history : mapping of key -> list of epochs, each a list of bools (pruner on, per batch)
        As kept by `PrunerLog`.
    window : int, default=4
        Epochs looked back (paper: 4).
    threshold : float, default=0.75
        Strictly more than this fraction of off batches deadheads (paper: 75 %).

    Returns
    -------
    keys : list
        In the mapping's order.

    Examples
    --------
    >>> deadhead_keys({"a": [[False] * 4], "b": [[False, False, False, True]]})
    ['a']
    """
    threshold = check_fraction("threshold", threshold, caller="deadhead_keys")
    return [key for key, epochs in history.items() if off_fraction(epochs, window=window) > threshold]
