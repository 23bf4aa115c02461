"""Decoded-array cache: uint8/int64 `.npy` files in `cache_dir()`, named by a fingerprint of the source.

A changed source file gets a new fingerprint, hence a new cache entry; a stale entry is never read.
Writes go to a temporary name first and are renamed into place, so a concurrent reader sees either
a complete entry or none.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path

import numpy as np

from ..paths import cache_dir

_DIGESTS: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256, per process


def content_digest(path: Path) -> str:
    """Streaming sha256 (hex) of a file's bytes; memoised per process on (path, size, mtime)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def stat_digest(paths: list[Path]) -> str:
    """Cheap fingerprint of several large files: sha256 over their names, sizes and mtimes."""
    h = hashlib.sha256()
    for p in paths:
        st = p.stat()
        h.update(f"{p.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _entry_paths(prefix: str, names: tuple[str, ...]) -> dict[str, Path]:
    base = cache_dir()
    return {n: base / f"{prefix}-{n}.npy" for n in names}


def load_cached(prefix: str, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays stored under `prefix`, or None if any of them is missing or damaged (then it is rebuilt)."""
    paths = _entry_paths(prefix, names)
    if not all(p.is_file() for p in paths.values()):
        return None
    try:
        return {n: np.load(p, allow_pickle=False) for n, p in paths.items()}
    except (OSError, ValueError, EOFError) as err:
        print(f"nasbench-eval: warning: damaged cache entry {prefix} in {cache_dir()} ({err}); rebuilding it.",
              file=sys.stderr)
        return None


def save_cached(prefix: str, arrays: dict[str, np.ndarray]) -> None:
    """Store `arrays` under `prefix` (each written to a temporary file, then renamed into place).

    A cache that cannot be written (read-only folder, disk full) costs speed, not the result: a one-line
    warning says so and the caller goes on with the arrays it has.
    """
    paths = _entry_paths(prefix, tuple(arrays))
    for name, arr in arrays.items():
        tmp = paths[name].with_name(f"{paths[name].stem}.{os.getpid()}.tmp.npy")
        try:
            np.save(tmp, np.ascontiguousarray(arr), allow_pickle=False)
            os.replace(tmp, paths[name])
        except OSError as err:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            print(f"nasbench-eval: warning: cache folder {paths[name].parent} cannot be written ({err.strerror}); "
                  "decoded data is not cached. Set $NASBENCH_EVAL_CACHE to a writable folder.", file=sys.stderr)
            return
