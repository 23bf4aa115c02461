"""Read official pickles (CIFAR python batches, ImageNet16 batches, NATS-Bench records) without running their code.

A pickle can name any importable callable, and ``pickle.load`` calls it: a hostile file runs code the moment it
is read. The formats this project reads hold only plain containers, numbers, strings, bytes and numpy arrays, so
`load` admits exactly those globals and refuses every other one before it is called.

>>> import io, pickle
>>> load(io.BytesIO(pickle.dumps({"labels": [1, 2], "data": b"x"})))
{'labels': [1, 2], 'data': b'x'}
>>> load(io.BytesIO(pickle.dumps(print)))
Traceback (most recent call last):
...
nasbench_eval.exceptions.CorruptDataError: <stream>: refuses to unpickle builtins.print; only plain containers, \
numbers, strings and numpy arrays are accepted.
"""
from __future__ import annotations

import bz2
import contextlib
import os
import pickle
from pathlib import Path

from .exceptions import CorruptDataError

ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset({
    ("builtins", name) for name in ("dict", "list", "tuple", "set", "frozenset", "str", "bytes", "bytearray",
                                    "int", "float", "bool", "complex", "slice", "range")
} | {
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),                       # how protocol-2 pickles of Python 2 bytes are written
    ("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor"),   # numpy <1.x arrays
} | {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {
    (module, "_frombuffer") for module in ("numpy.core.numeric", "numpy._core.numeric")   # protocol-5 arrays
} | {("numpy", "ndarray"), ("numpy", "dtype")})
"""(module, name) pairs a pickle may reference; everything else is refused before it is imported."""

READ_ERRORS = (pickle.UnpicklingError, EOFError, AttributeError, ValueError, ImportError, IndexError, TypeError,
               KeyError, OSError, MemoryError, RecursionError, UnicodeDecodeError)
"""What a damaged pickle can raise while it is being read."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, *, encoding: str, skip: frozenset = frozenset()):
        super().__init__(file, encoding=encoding)
        self._skip = skip

    def find_class(self, module: str, name: str):
        if (module, name) in self._skip:
            return _skipped
        if (module, name) not in ALLOWED_GLOBALS:
            raise _Refused(f"{module}.{name}")
        return super().find_class(module, name)


def _skipped(*args, **kwargs) -> None:
    """Stands in for a skipped global: its arguments are dropped and the object it would build is None."""
    return None


class _Refused(Exception):
    """A global outside ALLOWED_GLOBALS (kept apart from READ_ERRORS so its message is not mistaken for damage)."""


def load(source, *, encoding: str = "ASCII", skip: frozenset = frozenset()):
    """Unpickle `source` (a path, or a binary file object), admitting only ALLOWED_GLOBALS.

    Files ending in ``.pbz2`` or ``.bz2`` are decompressed first. ``encoding="latin1"`` reads Python 2 pickles
    (CIFAR's official batches). `skip` names (module, name) globals whose objects are not needed (e.g. stored
    network weights): each becomes None, and the global is neither imported nor called.

    Raises
    ------
    CorruptDataError
        One line naming the file: a refused global (a hostile or foreign file) or a damaged pickle.
    """
    where = str(source) if isinstance(source, (str, os.PathLike)) else "<stream>"
    try:
        with _open(source) as f:
            return _RestrictedUnpickler(f, encoding=encoding, skip=frozenset(skip)).load()
    except _Refused as refused:
        raise CorruptDataError(
            f"{where}: refuses to unpickle {refused}; only plain containers, numbers, strings and numpy arrays "
            "are accepted."
        ) from None
    except READ_ERRORS as err:
        raise CorruptDataError(f"{where}: not a readable pickle ({type(err).__name__}: {err}).") from err


def _open(source):
    if not isinstance(source, (str, os.PathLike)):
        return contextlib.nullcontext(source)
    path = Path(source)
    if path.suffix in (".pbz2", ".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")
