"""Where data lives. Looked up in order, first match wins:

1. ``--data-dir DIR``, else ``$NASBENCH_EVAL_DATA``: an explicit place is authoritative over the user places
   (a typo never silently falls back to other user data, and running inside an untrusted checkout never
   reads, nor unpickles, its ``./data``);
2. only when neither is given: ``./data``, then the per-user data folder (`user_data_dir`, where
   ``nasbench-eval data add`` puts datasets);
3. always last: the package's own data (``nasbench_eval/data/files``: the NB201 table and the CIFAR-10
   probe set), checksum-verified when used.
"""
from __future__ import annotations

import os
from pathlib import Path

from .exceptions import DataNotFoundError, NasBenchEvalError

ENV_VAR = "NASBENCH_EVAL_DATA"
APP_NAME = "nasbench-eval"
PACKAGE_ORIGIN = "package data"


def user_data_dir() -> Path:
    """The platform's per-user data folder for nasbench-eval (not created here).

    Linux ``$XDG_DATA_HOME/nasbench-eval`` (default ``~/.local/share/nasbench-eval``), macOS
    ``~/Library/Application Support/nasbench-eval``, Windows ``%LOCALAPPDATA%\\nasbench-eval``.
    """
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def package_data_dir() -> Path:
    """The folder of data shipped inside the package (laid out like a data folder)."""
    from .data.packaged import FILES_DIR

    return FILES_DIR


def candidate_data_dirs(data_dir: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """The places searched for data, in order, each with where it came from (see the module doc)."""
    if data_dir is not None:
        places = [("--data-dir", Path(data_dir))]
    elif os.environ.get(ENV_VAR):
        places = [(f"${ENV_VAR}", Path(os.environ[ENV_VAR]))]
    else:
        places = [("./data", Path.cwd() / "data"), ("user data folder", user_data_dir())]
    return places + [(PACKAGE_ORIGIN, package_data_dir())]


def find_data_file(relative, data_dir: str | os.PathLike | None = None) -> Path:
    """The first existing `<place>/<name>` over the places in order and, per place, the names in order.

    `relative` is one relative path or a sequence of alternatives. An explicit `data_dir` (or
    $NASBENCH_EVAL_DATA) replaces ./data and the user data folder; the package's own files come last
    and are checksum-verified first.

    Raises
    ------
    DataNotFoundError
        Listing every path looked at (also when an explicit `data_dir` is not a folder).
    CorruptDataError
        A package data file fails its checksum.
    """
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataNotFoundError(
            f"--data-dir {str(data_dir)!r} is not a folder; expected a folder holding nb201/, cifar10/ ..."
        )
    names = [Path(relative)] if isinstance(relative, (str, os.PathLike)) else [Path(r) for r in relative]
    tried = []
    for origin, base in candidate_data_dirs(data_dir):
        for name in names:
            path = base / name
            if path.is_file():
                if origin == PACKAGE_ORIGIN:
                    from .data.packaged import verified

                    return verified(name.as_posix())
                return path.resolve()
            tried.append(f"{path} ({origin})")
    wanted = " or ".join(n.as_posix() for n in names)
    raise DataNotFoundError(
        f"{wanted} not found; looked in: {'; '.join(tried)}. "
        f"Pass --data-dir DIR or set ${ENV_VAR} to a folder holding {wanted}, or register it with `nasbench-eval data "
        "add`."
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
