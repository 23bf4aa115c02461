"""The C allocator of scoring processes: keep freed memory for the next architecture.

Scoring allocates and frees the same large activation tensors for every arch (8 MiB each at batch 128 in NB201's
first stage). By default glibc hands such chunks back to the OS (unmapped, or trimmed off the top of the heap), so
each new tensor page-faults its memory in again. `keep_freed_memory` raises glibc's mmap and trim thresholds, so
freed chunks stay in the heap and are reused. Measured in `benchmarks/allocator.py` (results/allocator_cpu.json).
The CLI and every executor worker call it; a library user's own process is left as it is.
"""
from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
"""glibc's ``mallopt`` parameter numbers (malloc.h)."""
TRIM_BYTES = 1 << 30
"""Free memory at the top of the heap kept before any is returned to the OS."""
MMAP_BYTES = 1 << 25
"""Requests from this size up get their own mapping; 32 MiB is glibc's maximum on 64-bit systems."""
USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds in this process; True if both were set.

    Linux with glibc only (elsewhere, or without ``mallopt``, nothing happens and False is returned). A user's own
    ``MALLOC_TRIM_THRESHOLD_`` / ``MALLOC_MMAP_THRESHOLD_`` environment settings win: then nothing is changed.
    Calling it again is harmless. The process keeps its peak heap instead of shrinking between archs.
    """
    if not sys.platform.startswith("linux") or any(name in os.environ for name in USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt      # this process's own symbols: no library search (find_library: 24 ms)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(M_TRIM_THRESHOLD, TRIM_BYTES) == 1 and mallopt(M_MMAP_THRESHOLD, MMAP_BYTES) == 1
