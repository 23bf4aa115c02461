"""Boundary checks shared by the public API. Each returns the converted value.

Every message has one shape: ``<caller>(): <param>=<value!r> <what is wrong>; <what is expected>.``
"""
from __future__ import annotations

import math
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
        raise InvalidParameterError(f"{caller}(): {name}={value!r} is not a number; expected a float in [0, 1].") from err
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
            f"{caller}(): y_true and y_score have lengths {len(t)} and {len(s)}; expected equal lengths (one entry per arch)."
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
