"""Reading a scores file (what ``nasbench-eval correlate`` writes) and aligning it with the ground truth.

A scores file is a CSV with an ``index`` column (benchmark index) and/or an ``arch`` column
(official string), one numeric column per score named by its proxy key (``nwot``, ``synflow``,
``ntk_cond`` ...), and possibly ground-truth columns (``cifar10_test_acc_200ep``, matched by
`nasbench_eval.benchmarks.base.COLUMN_RE`) and bookkeeping columns, which are not scores.

Scores are returned *oriented*: a column whose name is a registered proxy with
``higher_is_better=False`` (or that the caller lists as lower-is-better) is negated, so every
returned column reads "higher is better" (spec §0.1).
"""
from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..benchmarks.base import COLUMN_RE
from ..exceptions import CorruptDataError, DataNotFoundError, InvalidParameterError
from ..registry import PROXIES

ID_COLUMNS = ("index", "arch")
"""Columns that identify the architecture of a row."""
BOOKKEEPING_SUFFIXES = ("_status", "_seconds")
"""Per-proxy bookkeeping columns that `correlate`/`score` write beside each score; never scores."""


class DuplicateScoresWarning(UserWarning):
    """A scores file repeats an architecture with different scores; they are averaged (spec §0.4)."""


class ScoreTable(NamedTuple):
    """Scores of a set of benchmark architectures, one row per unique benchmark index.

    Attributes
    ----------
    index : int64[n]
        Benchmark indices, ascending and unique.
    scores : pandas.DataFrame
        Shape (n, n_columns); oriented scores (higher = better), rows aligned with `index`.
    negated : tuple of str
        Columns that were negated (lower-is-better in the file).
    n_merged : int
        Rows merged because their index repeated (their scores averaged, spec §0.4).
    path : pathlib.Path
        The file read.
    """

    index: np.ndarray
    scores: pd.DataFrame
    negated: tuple
    n_merged: int
    path: Path


def _load_proxy_registry() -> None:
    """Import the proxies package (registration is an import side effect), if it exists yet."""
    try:
        importlib.import_module("nasbench_eval.proxies")
    except ModuleNotFoundError as err:
        if err.name != "nasbench_eval.proxies":
            raise


def is_lower_better(column: str, lower_is_better: Sequence[str] = ()) -> bool:
    """True if `column` is listed in `lower_is_better` or is a registered proxy with ``higher_is_better=False``.

    Examples
    --------
    >>> is_lower_better("my_loss", ["my_loss"]), is_lower_better("my_score")
    (True, False)
    """
    if column in lower_is_better:
        return True
    _load_proxy_registry()
    return column in PROXIES and not PROXIES.get(column).higher_is_better


def _read_csv(path: Path, *, caller: str) -> pd.DataFrame:
    where = f"{caller}(): {str(path)!r}"
    if not path.is_file():
        raise DataNotFoundError(f"{where} does not exist or is not a file; expected a scores CSV.")
    try:
        frame = pd.read_csv(path)
        text = path.read_text(encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        raise CorruptDataError(f"{where} is not a readable CSV ({' '.join(str(err).split())}); "
                               "expected a scores CSV with an index or arch column.") from err
    if not any(c in frame.columns for c in ID_COLUMNS):
        raise CorruptDataError(f"{where} has columns {list(frame.columns)} but no 'index' or 'arch'; "
                               "expected at least one of them.")
    if frame.empty:
        raise CorruptDataError(f"{where} has no rows; expected one row per architecture.")
    _check_complete_rows(text, len(frame.columns), where)
    for col in frame.columns:
        if col in ID_COLUMNS or pd.api.types.is_numeric_dtype(frame[col]):
            continue
        numbers = pd.to_numeric(frame[col], errors="coerce")
        if numbers.notna().any():  # a numeric column with a stray word: a damaged cell, not a text column
            row = int(np.flatnonzero(numbers.isna() & frame[col].notna())[0])
            raise CorruptDataError(f"{where} column {col!r} row {row} holds {frame[col].iloc[row]!r}, not a number; "
                                   "expected numbers (nan, inf allowed) in a score column.")
    return frame


def _check_complete_rows(text: str, n_columns: int, where: str) -> None:
    """Every data row has as many fields as the header (a cut-off last row means a truncated file)."""
    import csv
    import io

    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if row and len(row) != n_columns:
            raise CorruptDataError(f"{where} line {lineno} has {len(row)} fields, the header {n_columns}; "
                                   "the file is truncated or damaged. Expected complete rows.")


def _check_informative(scores: pd.DataFrame, where: str) -> None:
    """Each score column holds at least two different non-NaN values (else it ranks nothing)."""
    for col in scores.columns:
        values = scores[col].to_numpy(dtype=np.float64)
        values = values[~np.isnan(values)]
        if len(np.unique(values)) < 2:
            what = "only NaN" if not len(values) else f"the single value {values[0]!r} in {len(values)} rows"
            raise CorruptDataError(f"{where} score column {col!r} holds {what}; a curve needs at least two "
                                   "different scores. Leave it out with --columns.")


def _conflicting_duplicates(scores: pd.DataFrame, index: np.ndarray) -> tuple[int, int | None]:
    """(rows whose repeated index has other scores than its first row, the first such index or None)."""
    frame = scores.copy()
    frame["_index"] = index
    first = frame.groupby("_index").transform("first")
    differs = ~((frame[scores.columns] == first) | (frame[scores.columns].isna() & first.isna())).all(axis=1)
    n = int(differs.sum())
    return n, (int(index[np.flatnonzero(differs)[0]]) if n else None)


def score_columns(
    frame: pd.DataFrame, columns: Sequence[str] | None = None, *, caller: str = "score_columns"
) -> list[str]:
    """The score columns of a scores frame: numeric, not an id, not ground truth; or the `columns` chosen.

    Parameters
    ----------
    frame : pandas.DataFrame
        The scores file's content.
    columns : sequence of str, optional
        Explicit choice; each must be a numeric, non-id column of `frame`.
    caller : str
        Name used in error messages.

    Returns
    -------
    list of str
    """
    numeric = [c for c in frame.columns if c not in ID_COLUMNS and pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c]) and not str(c).endswith(BOOKKEEPING_SUFFIXES)]
    if columns is None:
        chosen = [c for c in numeric if not COLUMN_RE.match(str(c))]
        if not chosen:
            raise CorruptDataError(
                f"{caller}(): the scores file has no numeric score column (columns: {list(frame.columns)}); expected "
                "e.g. 'nwot' or pass columns=."
            )
        return chosen
    columns = list(columns)
    bad = [c for c in columns if c not in numeric]
    if not columns or bad:
        raise InvalidParameterError(
            f"{caller}(): columns={columns!r} names missing or non-numeric columns {bad}; expected some of {numeric}."
        )
    return columns


def _indices(frame: pd.DataFrame, bench, *, caller: str, path: Path) -> np.ndarray:
    if "index" in frame.columns:
        raw = pd.to_numeric(frame["index"], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(raw) | (raw != np.round(raw)) | (raw < 0) | (raw >= len(bench))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise CorruptDataError(
                f"{caller}(): {str(path)!r} row {row} has index {frame['index'].iloc[row]!r}; expected integers "
                f"0..{len(bench) - 1}."
            )
        index = raw.astype(np.int64)
        if "arch" in frame.columns:
            strs = bench.arch_strs()
            wrong = [i for i, (k, s) in enumerate(zip(index, frame["arch"])) if strs[k] != str(s).strip()]
            if wrong:
                raise CorruptDataError(
                    f"{caller}(): {str(path)!r} row {wrong[0]} has index {index[wrong[0]]} but arch "
                    f"{frame['arch'].iloc[wrong[0]]!r}, "
                    f"which is not that index's architecture ({len(wrong)} such rows); expected matching index and "
                    "arch columns."
                )
        return index
    return np.array([bench.index_of(str(s)) for s in frame["arch"]], dtype=np.int64)


def read_scores(path: str | os.PathLike, bench, *, columns: Sequence[str] | None = None,
                lower_is_better: Sequence[str] = ()) -> ScoreTable:
    """Read a scores CSV, map its rows to benchmark indices and orient every score column.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    bench : Benchmark
        Benchmark whose indices / strings the file uses (e.g. ``create_benchmark("nb201")``).
    columns : sequence of str, optional
        Score columns to use (default: every numeric column that is neither an id nor ground truth).
    lower_is_better : sequence of str, default=()
        Columns to negate besides registered lower-is-better proxies; each must be a chosen column.

    Returns
    -------
    ScoreTable

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    CorruptDataError
        Unreadable CSV, no id column, no score column, or a bad index / arch.
    InvalidParameterError
        `columns` or `lower_is_better` name columns that are missing or not numeric.
    """
    caller, path = "read_scores", Path(path)
    frame = _read_csv(path, caller=caller)
    cols = score_columns(frame, columns, caller=caller)
    extra = [c for c in lower_is_better if c not in cols]
    if extra:
        raise InvalidParameterError(
            f"{caller}(): lower_is_better={list(lower_is_better)!r} names {extra}, which are not score columns; "
            f"expected some of {cols}."
        )
    index = _indices(frame, bench, caller=caller, path=path)
    scores = frame[cols].astype(np.float64)
    negated = tuple(c for c in cols if is_lower_better(c, lower_is_better))
    for c in negated:
        scores[c] = -scores[c]
    n_conflicts, first = _conflicting_duplicates(scores, index)
    if n_conflicts:
        warnings.warn(f"{str(path)!r}: {n_conflicts} row(s) repeat an index with different scores (first: index "
                      f"{first}); their scores are averaged (spec/metrics.md §0.4).", DuplicateScoresWarning,
                      stacklevel=2)
    merged = scores.groupby(index, sort=True).mean()
    _check_informative(merged, f"{caller}(): {str(path)!r}")
    return ScoreTable(merged.index.to_numpy(dtype=np.int64), merged.reset_index(drop=True), negated,
                      int(len(frame) - len(merged)), path)
