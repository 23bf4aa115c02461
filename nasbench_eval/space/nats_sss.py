"""The NATS-Bench size search space (sss): 5 channel counts, each one of 8 values (32,768 archs).

An architecture is written as the official channel string, e.g. ``"8:16:24:32:64"``. As for tss,
the benchmark index comes from the benchmark, not from a formula.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..exceptions import InvalidParameterError

CHANNELS: tuple[int, ...] = (8, 16, 24, 32, 40, 48, 56, 64)
NUM_LAYERS = 5
NUM_ARCHS = len(CHANNELS) ** NUM_LAYERS  # 32,768


@dataclass(frozen=True, order=True)
class SizeArch:
    """One sss architecture: the channel count of each of its 5 searchable layers.

    >>> SizeArch.from_str("8:16:24:32:64").channels
    (8, 16, 24, 32, 64)
    """

    channels: tuple[int, ...]

    def __post_init__(self):
        chans = tuple(self.channels) if not isinstance(self.channels, str) else ()
        if len(chans) != NUM_LAYERS:
            raise InvalidParameterError(
                f"SizeArch(): channels={self.channels!r} has {len(chans)} entries; expected {NUM_LAYERS} values from "
                f"{list(CHANNELS)}."
            )
        for c in chans:
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or int(c) not in CHANNELS:
                raise InvalidParameterError(
                    f"SizeArch(): channel {c!r} is not allowed; expected one of {list(CHANNELS)}."
                )
        object.__setattr__(self, "channels", tuple(int(c) for c in chans))

    @classmethod
    def from_str(cls, text: str) -> "SizeArch":
        """Parse ``"C1:C2:C3:C4:C5"``."""
        if not isinstance(text, str):
            raise InvalidParameterError(
                f"SizeArch.from_str(): text={text!r} is not a string; expected 'C1:C2:C3:C4:C5'."
            )
        parts = text.strip().split(":")
        if len(parts) != NUM_LAYERS or not all(p.strip().isdigit() for p in parts):
            raise InvalidParameterError(
                f"SizeArch.from_str(): {text!r} is malformed; expected {NUM_LAYERS} ':'-separated channel counts from "
                f"{list(CHANNELS)}, e.g. '8:16:24:32:64'."
            )
        return cls(tuple(int(p) for p in parts))

    @property
    def code(self) -> tuple[int, ...]:
        """Position of each channel count in CHANNELS."""
        return tuple(CHANNELS.index(c) for c in self.channels)

    def __str__(self) -> str:
        return ":".join(map(str, self.channels))


def all_size_archs() -> Iterator[SizeArch]:
    """All 32,768 sss architectures in product order (not the benchmark's order)."""
    for chans in itertools.product(CHANNELS, repeat=NUM_LAYERS):
        yield SizeArch(chans)
