"""Device resolution and seeding that never touches the caller's global RNG state."""
from __future__ import annotations

from contextlib import contextmanager

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
        raise InvalidParameterError(f"device={device!r} requested but CUDA is not available; use 'cpu' or leave it unset.")
    if dev.type not in ("cpu", "cuda"):
        raise InvalidParameterError(f"device={device!r} is not supported; expected 'cpu', 'cuda' or 'cuda:N'.")
    return dev


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
