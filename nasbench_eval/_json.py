"""JSON helpers: strict JSON (NaN/inf become null) with numpy scalars and arrays converted, and atomic JSON files."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np


def clean(obj):
    """`obj` with NaN/±inf replaced by None and numpy types by Python ones, recursively."""
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return obj


def dumps(obj, **kwargs) -> str:
    """Strict JSON text of `obj` (see `clean`); anything else unknown is written with str()."""
    return json.dumps(clean(obj), allow_nan=False, default=str, **kwargs)


def write_json(path: str | os.PathLike, obj, *, indent: int | None = 2) -> Path:
    """Write `obj` as strict JSON (`dumps`) plus a newline, creating the folder; atomic (temporary file + rename).

    A reader (or a run resumed after Ctrl-C) sees the old file or the new one, never half of one.
    Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(dumps(obj, indent=indent) + "\n")
    os.replace(tmp, path)
    return path


def read_json(path: str | os.PathLike, *, expected: str = "a JSON object written by nasbench-eval"):
    """The JSON object in `path`; a damaged or foreign file is one CorruptDataError naming it and `expected`.

    A reader of files this package wrote (grid cells, run logs, summaries) uses this, so a truncated file
    left by a crash or a hand edit is reported, not a traceback.
    """
    from .exceptions import CorruptDataError

    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        reason = " ".join(str(err).split())[:160]
        raise CorruptDataError(f"{str(path)!r} is not readable JSON ({reason}); expected {expected}. "
                               "Delete it to recompute what it held.") from None
    if not isinstance(obj, dict):
        raise CorruptDataError(f"{str(path)!r} holds a JSON {type(obj).__name__}; expected {expected}.")
    return obj
