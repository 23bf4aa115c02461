"""Where data lives: --data-dir, then $NASBENCH_EVAL_DATA, then ./data, then ../shared/data."""
from __future__ import annotations

import os
from pathlib import Path

from .exceptions import DataNotFoundError

ENV_VAR = "NASBENCH_EVAL_DATA"
NB201_TABLE = Path("nb201") / "tss_accuracy.csv"
CIFAR10_NPZ = Path("cifar10") / "cifar10-jpeg.npz"


def candidate_data_dirs(data_dir: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """The places searched for data, in order, each with where it came from."""
    places: list[tuple[str, Path]] = []
    if data_dir is not None:
        places.append(("--data-dir", Path(data_dir)))
    if os.environ.get(ENV_VAR):
        places.append((f"${ENV_VAR}", Path(os.environ[ENV_VAR])))
    places.append(("./data", Path.cwd() / "data"))
    places.append(("../shared/data", Path.cwd().parent / "shared" / "data"))
    return places


def find_data_file(relative, data_dir: str | os.PathLike | None = None) -> Path:
    """The first existing `<place>/<name>` over the places in order and, per place, the names in order.

    `relative` is one relative path or a sequence of alternatives. An explicit `data_dir` is
    authoritative: if nothing is there, no other place is searched, so a typo never silently
    falls back to other data.

    Raises
    ------
    DataNotFoundError
        Listing every path looked at.
    """
    names = [Path(relative)] if isinstance(relative, (str, os.PathLike)) else [Path(r) for r in relative]
    places = candidate_data_dirs(data_dir)
    if data_dir is not None:
        places = places[:1]
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
    path.mkdir(parents=True, exist_ok=True)
    return path
