"""Where data lives: --data-dir if given, else $NASBENCH_EVAL_DATA if set, else ./data, then ../shared/data.

An explicit place is authoritative: once --data-dir or $NASBENCH_EVAL_DATA is given, nothing is looked up
relative to the current directory, so running inside an untrusted checkout never reads (and never unpickles)
its ``./data``.
"""
from __future__ import annotations

import os
from pathlib import Path

from .exceptions import DataNotFoundError, NasBenchEvalError

ENV_VAR = "NASBENCH_EVAL_DATA"
NB201_TABLE = Path("nb201") / "tss_accuracy.csv"
CIFAR10_NPZ = Path("cifar10") / "cifar10-jpeg.npz"


def candidate_data_dirs(data_dir: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """The places searched for data, in order, each with where it came from.

    Only the first explicit one (--data-dir, else $NASBENCH_EVAL_DATA) when there is one: the folders
    relative to the current directory are searched only when neither is given.
    """
    if data_dir is not None:
        return [("--data-dir", Path(data_dir))]
    if os.environ.get(ENV_VAR):
        return [(f"${ENV_VAR}", Path(os.environ[ENV_VAR]))]
    places = [("./data", Path.cwd() / "data")]
    places.append(("../shared/data", Path.cwd().parent / "shared" / "data"))
    return places


def find_data_file(relative, data_dir: str | os.PathLike | None = None) -> Path:
    """The first existing `<place>/<name>` over the places in order and, per place, the names in order.

    `relative` is one relative path or a sequence of alternatives. An explicit `data_dir` (or
    $NASBENCH_EVAL_DATA) is authoritative: if nothing is there, no other place is searched, so a typo
    never silently falls back to other data and the current directory is never trusted.

    Raises
    ------
    DataNotFoundError
        Listing every path looked at.
    """
    names = [Path(relative)] if isinstance(relative, (str, os.PathLike)) else [Path(r) for r in relative]
    places = candidate_data_dirs(data_dir)
    tried = []
    for origin, base in places:
        for name in names:
            path = base / name
            if path.is_file():
                return path.resolve()
            tried.append(f"{path} ({origin})")
    wanted = " or ".join(n.as_posix() for n in names)
    raise DataNotFoundError(
        f"{wanted} not found; looked in: {'; '.join(tried)}. "
        f"Pass --data-dir DIR or set ${ENV_VAR} to a folder holding {wanted}."
    )


def cache_dir() -> Path:
    """User cache folder for decoded datasets and computed tables.

    $NASBENCH_EVAL_CACHE if set, else $XDG_CACHE_HOME/nasbench-eval, else ~/.cache/nasbench-eval.
    """
    if os.environ.get("NASBENCH_EVAL_CACHE"):
        path = Path(os.environ["NASBENCH_EVAL_CACHE"])
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nasbench-eval"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise NasBenchEvalError(f"cache folder {str(path)!r} cannot be created ({err.strerror}); "
                                "set $NASBENCH_EVAL_CACHE to a writable folder.") from None
    return path
