"""Device resolution and seeding that never touches the caller's global RNG state."""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from .exceptions import InvalidParameterError


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """`device` as a torch.device; None means CUDA when available, else CPU.

    An explicit CUDA request without a GPU is an error, never a silent fallback.
    """
    try:
        dev = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
    except (RuntimeError, TypeError) as err:
        raise InvalidParameterError(f"device={device!r} is not a device; expected 'cpu', 'cuda' or 'cuda:N'.") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidParameterError(
            f"device={device!r} requested but CUDA is not available; use 'cpu' or leave it unset."
        )
    if dev.type not in ("cpu", "cuda"):
        raise InvalidParameterError(f"device={device!r} is not supported; expected 'cpu', 'cuda' or 'cuda:N'.")
    return dev


def derive_seed(*keys: int, bits: int = 63) -> int:
    """A seed hashed from the integer `keys` (numpy `SeedSequence`), stable across platforms and Python versions.

    Parameters
    ----------
    *keys : int
        E.g. ``(seed, repeat, stream)``; different tuples give independent seeds.
    bits : {63, 32}, default=63
        63: the top 63 bits of the first 64-bit word, in [0, 2**63); 32: its low 32-bit word, in [0, 2**32)
        (what ``generate_state(1)`` gives, for numpy generators that take 32-bit seeds).

    >>> derive_seed(0, 1, 2) == derive_seed(0, 1, 2) != derive_seed(0, 2, 1)
    True
    """
    word = np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint64)[0]
    if bits == 32:
        return int(word & np.uint64(0xFFFFFFFF))
    if bits == 63:
        return int(word >> np.uint64(1))
    raise InvalidParameterError(f"derive_seed(): bits={bits!r} is not supported; expected 63 or 32.")


@contextmanager
def seeded(seed: int, device: torch.device | None = None):
    """Run the body with torch's global RNG seeded to `seed`, restoring the previous state after."""
    devices = [device] if device is not None and torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextmanager
def scoring_numerics():
    """fp32 without TF32 and deterministic cuDNN, as the proxy spec requires; restores the flags after."""
    saved = (
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        (
            torch.backends.cuda.matmul.allow_tf32,
            torch.backends.cudnn.allow_tf32,
            torch.backends.cudnn.deterministic,
            torch.backends.cudnn.benchmark,
        ) = saved
