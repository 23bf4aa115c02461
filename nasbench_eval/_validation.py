"""Boundary checks shared by the public API. Each returns the converted value.

Every message has one shape: ``<caller>(): <param>=<value!r> <what is wrong>; <what is expected>.``
"""
from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable

import numpy as np

from .exceptions import InvalidParameterError

NAN_POLICIES = ("omit", "propagate", "raise")


def check_option(name: str, value, options: Iterable, *, caller: str):
    """Return `value` if it is one of `options`, else raise InvalidParameterError."""
    options = list(options)
    if value not in options:
        raise InvalidParameterError(
            f"{caller}(): {name}={value!r} is not supported; expected one of {options}."
        )
    return value


def check_int(name: str, value, *, caller: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return `value` as an int within [minimum, maximum]; bools and non-integral floats are rejected."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError(f"{caller}(): {name}={value!r} is not an integer; expected an int.")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        lo = "-inf" if minimum is None else minimum
        hi = "inf" if maximum is None else maximum
        raise InvalidParameterError(f"{caller}(): {name}={value!r} is out of range; expected {lo} <= {name} <= {hi}.")
    return value


def check_fraction(name: str, value, *, caller: str) -> float:
    """Return `value` as a float in [0, 1]."""
    try:
        f = float(value)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(
            f"{caller}(): {name}={value!r} is not a number; expected a float in [0, 1]."
        ) from err
    if not 0.0 <= f <= 1.0 or math.isnan(f):
        raise InvalidParameterError(f"{caller}(): {name}={value!r} is out of range; expected a float in [0, 1].")
    return f


def check_1d(name: str, values, *, caller: str) -> np.ndarray:
    """Return `values` as a 1-D float64 array."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(f"{caller}(): {name} is not numeric; expected a 1-D array of numbers.") from err
    if arr.ndim != 1:
        raise InvalidParameterError(f"{caller}(): {name} has shape {arr.shape}; expected a 1-D array.")
    return arr


def check_paired_scores(y_true, y_score, *, caller: str, nan_policy: str = "omit") -> tuple[np.ndarray, np.ndarray]:
    """Validate two aligned 1-D arrays and apply `nan_policy` to pairs that contain NaN.

    Returns the two float64 arrays; with ``"omit"`` pairs containing NaN are dropped, with
    ``"propagate"`` they are kept (the caller returns NaN), with ``"raise"`` they are an error.
    """
    check_option("nan_policy", nan_policy, NAN_POLICIES, caller=caller)
    t = check_1d("y_true", y_true, caller=caller)
    s = check_1d("y_score", y_score, caller=caller)
    if len(t) != len(s):
        raise InvalidParameterError(
            f"{caller}(): y_true and y_score have lengths {len(t)} and {len(s)}; expected equal lengths "
            "(one entry per arch)."
        )
    bad = np.isnan(t) | np.isnan(s)
    if bad.any():
        if nan_policy == "raise":
            raise InvalidParameterError(
                f"{caller}(): nan_policy='raise' but {int(bad.sum())} of {len(t)} pairs contain NaN; "
                "fix the input or pass nan_policy='omit'."
            )
        if nan_policy == "omit":
            t, s = t[~bad], s[~bad]
    return t, s


# ---- command-line boundary: argparse `type=` callables and path checks, run before any work ------------------
SEED_MAX = 2**32 - 1
"""Largest seed accepted anywhere (numpy and torch both take it; seed + 2 still fits in 64 bits)."""


def _range_text(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f"{minimum}..{maximum}"
    if minimum is not None:
        return f">= {minimum}"
    return f"<= {maximum}" if maximum is not None else "any"


def int_arg(minimum: int | None = None, maximum: int | None = None):
    """An argparse ``type=`` that accepts integers in [minimum, maximum] ("0x10", "1e3", "nan" are refused).

    >>> int_arg(1, 10)("3")
    3
    """
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except (ValueError, AttributeError):
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer; "
                                             f"expected an integer {_range_text(minimum, maximum)}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"{text!r} is out of range; "
                                             f"expected an integer {_range_text(minimum, maximum)}")
        return value

    parse.__name__ = "int"
    return parse


def float_arg(minimum: float | None = None, maximum: float | None = None, *, exclusive_minimum: bool = False):
    """An argparse ``type=`` that accepts finite floats in the range (NaN and ±inf are always refused).

    >>> float_arg(0, exclusive_minimum=True)("0.1")
    0.1
    """
    import argparse

    lo = "" if minimum is None else (f"> {minimum}" if exclusive_minimum else f">= {minimum}")
    hi = "" if maximum is None else f"<= {maximum}"
    accepted = f"a finite number {' and '.join(t for t in (lo, hi) if t)}".rstrip()

    def parse(text: str) -> float:
        try:
            value = float(text)
        except (ValueError, TypeError):
            raise argparse.ArgumentTypeError(f"{text!r} is not a number; expected {accepted}")
        too_low = minimum is not None and (value <= minimum if exclusive_minimum else value < minimum)
        if not math.isfinite(value) or too_low or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"{text!r} is out of range; expected {accepted}")
        return value

    parse.__name__ = "float"
    return parse


def check_out_dir(path, *, flag: str = "--out"):
    """Create the output folder `path` now (before any work) and prove it is writable; returns it as a Path.

    Raises InvalidParameterError naming `flag` and the path if it is an existing file, cannot be
    created (a parent is a file, permission denied, read-only file system) or accepts no files.
    """
    from pathlib import Path

    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"{flag} {str(out)!r} is an existing file; expected a folder (existing or new).")
    try:
        out.mkdir(parents=True, exist_ok=True)
        _probe_write(out)
    except OSError as err:
        raise InvalidParameterError(f"{flag} {str(out)!r} cannot be used as an output folder ({_os_reason(err)}); "
                                    "expected a writable folder.") from None
    return out


def check_out_file(path, *, flag: str = "--out", suffixes: tuple[str, ...] = ()):
    """Check, before any work, that file `path` can be written: not a folder, its folder creatable and writable.

    Creates the parent folder; leaves the file itself alone. `suffixes` (e.g. ``(".png",)``) limits the name.
    """
    from pathlib import Path

    out = Path(path)
    if suffixes and out.suffix.lower() not in suffixes:
        raise InvalidParameterError(f"{flag} {str(out)!r} has suffix {out.suffix!r}; expected a file name ending in "
                                    f"{' or '.join(suffixes)}.")
    if out.is_dir():
        raise InvalidParameterError(f"{flag} {str(out)!r} is an existing folder; expected a file name.")
    if out.exists() and not os.access(out, os.W_OK):
        raise InvalidParameterError(f"{flag} {str(out)!r} exists and is read-only; expected a writable file.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _probe_write(out.parent)
    except OSError as err:
        raise InvalidParameterError(f"{flag} {str(out)!r} cannot be written ({_os_reason(err)}); "
                                    "expected a file in a writable folder.") from None
    return out


def check_in_file(path, *, flag: str, expected: str):
    """`path` as a Path if it is a readable regular file; else InvalidParameterError naming `flag` and `expected`."""
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        raise InvalidParameterError(f"{flag} {str(p)!r} does not exist; expected {expected}.")
    if not p.is_file():
        raise InvalidParameterError(f"{flag} {str(p)!r} is not a regular file; expected {expected}.")
    try:
        with open(p, "rb"):
            pass
    except OSError as err:
        raise InvalidParameterError(f"{flag} {str(p)!r} cannot be read ({_os_reason(err)}); "
                                    f"expected {expected}.") from None
    return p


@contextlib.contextmanager
def kept_on_failure(where: str):
    """Turn a failure to write the final outputs into one line that says where the finished work is kept.

    Wrap the last step of a command that trained or scored: an OSError (disk full, folder removed meanwhile)
    becomes a NasBenchEvalError ``writing the results failed (...); <where>``.
    """
    from .exceptions import NasBenchEvalError

    try:
        yield
    except OSError as err:
        raise NasBenchEvalError(f"writing the results failed ({_os_reason(err)}); {where}.") from err


def _probe_write(folder) -> None:
    """Create and delete a file in `folder` (os.access is wrong for root and for read-only mounts)."""
    import tempfile

    with tempfile.NamedTemporaryFile(dir=folder, prefix=".nasbench-eval-probe-"):
        pass


def _os_reason(err: OSError) -> str:
    where = f": {err.filename!r}" if getattr(err, "filename", None) else ""
    return f"{err.strerror or type(err).__name__}{where}"


MAX_EPOCHS = 100_000
"""Largest epoch count any option accepts (ground-truth schedules are checked against the benchmark later)."""
MAX_BATCH = 8192
"""Largest training / evaluation batch size any option accepts."""
MAX_PROXY_BATCH = 1024
"""Largest scoring batch: NTK and Jacobian proxies hold batch x parameters gradients (1024 x ~1.5 M floats = 6 GB)."""
MAX_IMAGES = 200_000
"""Largest image count any option accepts (ImageNet16-120's train set is ~151,700; the data check is exact)."""
MAX_BOOT = 100_000
"""Most bootstrap resamples (each holds one index array of the sample size)."""
MAX_LR = 10.0
"""Largest learning rate any option accepts; NaN, inf and anything above diverge."""
