"""Search spaces: the NB201 topology space (tss) and the NATS size space (sss)."""
from __future__ import annotations

from ..exceptions import InvalidParameterError
from .nats_sss import CHANNELS, SizeArch, all_size_archs
from .nb201 import EDGES, NUM_ARCHS, OPS, Arch, all_archs, codes_array, mutate

SPACES = {"tss": Arch, "sss": SizeArch}
"""Space name -> architecture class (each has `from_str` and an official `__str__`)."""


def parse_arch(text: str, space: str = "tss") -> Arch | SizeArch:
    """Parse an architecture string of `space` ("tss": ``|op~0|+...``, "sss": ``"8:16:24:32:64"``)."""
    if space not in SPACES:
        raise InvalidParameterError(f"parse_arch(): space={space!r} is not supported; expected one of {list(SPACES)}.")
    return SPACES[space].from_str(text)


__all__ = [
    "CHANNELS", "EDGES", "NUM_ARCHS", "OPS", "SPACES", "Arch", "SizeArch",
    "all_archs", "all_size_archs", "codes_array", "mutate", "parse_arch",
]
