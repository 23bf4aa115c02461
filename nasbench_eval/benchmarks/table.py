"""Offline backend: the compact CSV table (the mirror's `nb201/tss_accuracy.csv`, or one written
by `nasbench-eval data import`).

Format: one row per architecture in benchmark order; columns `index` (0..N-1), `arch` (official
string), any number of ``{dataset}_{metric}_{epochs}ep`` accuracy columns (percent), and for tss
optionally `isomorph` (the benchmark's canonical string).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import CorruptDataError, InvalidParameterError
from ..paths import find_data_file
from ..space import SPACES
from ..space import nats_sss, nb201
from .base import COLUMN_RE, Benchmark

TABLE_FILES = {"tss": ("nb201/tss_accuracy.csv", "nats/tss_accuracy.csv"), "sss": ("nats/sss_accuracy.csv",)}
"""Where each space's table is looked for inside a data directory, first match wins."""
EXPECTED_ROWS = {"tss": nb201.NUM_ARCHS, "sss": nats_sss.NUM_ARCHS}


def find_table(space: str = "tss", data_dir: str | os.PathLike | None = None) -> Path:
    """Path of the table for `space`, searched as described in nasbench_eval.paths."""
    return find_data_file(TABLE_FILES[space], data_dir)


class TableBenchmark(Benchmark):
    """Ground truth read from a CSV table; loads in well under a second and validates on load.

    Parameters
    ----------
    path : path-like
        The CSV file.
    space : {"tss", "sss"}
    expected_rows : int or None
        Row count to insist on (default: the full space; None accepts any, for test fixtures).
    """

    def __init__(self, path: str | os.PathLike, space: str = "tss", *, expected_rows: int | None | str = "full"):
        self.path, self.space = Path(path), space
        self.name = f"{space} table ({self.path.name})"
        frame = self._read(self.path)
        n_expected = EXPECTED_ROWS[space] if expected_rows == "full" else expected_rows
        self._validate(frame, n_expected)
        self._arch_strs = frame["arch"].tolist()
        self._columns = {}
        for col in frame.columns:
            m = COLUMN_RE.match(col)
            if m:
                key = (m["dataset"], m["metric"], int(m["epochs"]))
                self._columns[key] = frame[col].to_numpy(dtype=np.float64)
        self._isomorph = frame["isomorph"].tolist() if "isomorph" in frame.columns else None

    @staticmethod
    def _read(path: Path) -> pd.DataFrame:
        try:
            return pd.read_csv(path, dtype={"arch": str, "isomorph": str}, keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
            raise CorruptDataError(f"{path}: not a readable CSV table ({err}); re-copy it or re-run `nasbench-eval data import`.") from err

    def _validate(self, frame: pd.DataFrame, n_expected: int | None) -> None:
        where = f"{self.path}"
        for col in ("index", "arch"):
            if col not in frame.columns:
                raise CorruptDataError(f"{where}: column {col!r} is missing; expected columns index, arch and {{dataset}}_{{metric}}_{{epochs}}ep.")
        if not any(COLUMN_RE.match(c) for c in frame.columns):
            raise CorruptDataError(f"{where}: no accuracy columns; expected names like 'cifar10_test_acc_200ep'.")
        if n_expected is not None and len(frame) != n_expected:
            raise CorruptDataError(f"{where}: {len(frame)} rows; expected {n_expected} (one per {self.space} architecture). The file is truncated or not this space's table.")
        if not np.array_equal(frame["index"].to_numpy(), np.arange(len(frame))):
            raise CorruptDataError(f"{where}: column 'index' is not 0..{len(frame) - 1} in order; the table must be in benchmark order.")
        archs = frame["arch"]
        if archs.isna().any() or archs.duplicated().any():
            raise CorruptDataError(f"{where}: column 'arch' has {int(archs.isna().sum())} empty and {int(archs.duplicated().sum())} repeated strings; expected one distinct string per row.")
        try:  # every string must parse: catches unknown ops and mangled rows, ~0.1 s for 15,625
            for text in archs:
                SPACES[self.space].from_str(text)
        except InvalidParameterError as err:
            raise CorruptDataError(f"{where}: malformed arch string in column 'arch': {err}") from err
        for col in frame.columns:
            if not COLUMN_RE.match(col):
                continue
            if not pd.api.types.is_numeric_dtype(frame[col]):
                raise CorruptDataError(f"{where}: column {col!r} is not numeric; expected accuracies in percent.")
            values = frame[col].to_numpy(dtype=np.float64)
            bad = ~np.isnan(values) & ~((values >= 0) & (values <= 100))
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise CorruptDataError(f"{where}: column {col!r} row {row} holds {values[row]!r} "
                                       f"({int(bad.sum())} such values); expected accuracies in percent, 0..100 "
                                       "(empty = not measured).")

    def keys(self) -> list[tuple[str, str, int]]:
        return list(self._columns)

    def _column(self, dataset: str, metric: str, epochs: int) -> np.ndarray:
        return self._columns[(dataset, metric, epochs)]

    def isomorph_keys(self) -> list[str] | None:
        """The table's canonical isomorphism strings in benchmark order (None if it has none)."""
        return None if self._isomorph is None else list(self._isomorph)
