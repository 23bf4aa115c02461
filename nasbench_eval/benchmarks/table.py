"""Offline backend: the compact CSV table (the package's `nb201/tss_accuracy.csv.xz`, a user's
`nb201/tss_accuracy.csv`, or one written by `nasbench-eval data import`).

Format: one row per architecture in benchmark order; columns `index` (0..N-1), `arch` (official
string), any number of ``{dataset}_{metric}_{epochs}ep`` accuracy columns (percent), and for tss
optionally `isomorph` (the benchmark's canonical string). A ``.xz`` suffix means xz-compressed.
Read with the standard library's csv module and numpy (no pandas: `query` answers in well under 1 s).
"""
from __future__ import annotations

import csv
import io
import lzma
import os
from pathlib import Path

import numpy as np

from ..data.packaged import is_packaged
from ..exceptions import CorruptDataError, InvalidParameterError
from ..paths import find_data_file
from ..space import SPACES
from ..space import nats_sss, nb201
from .base import COLUMN_RE, Benchmark

TABLE_FILES = {
    "tss": ("nb201/tss_accuracy.csv", "nats/tss_accuracy.csv", "nb201/tss_accuracy.csv.xz"),
    "sss": ("nats/sss_accuracy.csv",),
}
"""Where each space's table is looked for inside a data directory, first match wins (the package
ships ``nb201/tss_accuracy.csv.xz``)."""
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
        columns = self._read(self.path)
        n_expected = EXPECTED_ROWS[space] if expected_rows == "full" else expected_rows
        self._validate(columns, n_expected, parse_archs=not is_packaged(self.path))
        self._arch_strs = columns["arch"]
        self._columns = {}
        for col, values in columns.items():
            m = COLUMN_RE.match(col)
            if m:
                self._columns[(m["dataset"], m["metric"], int(m["epochs"]))] = self._numeric(col, values)
        self._isomorph = columns.get("isomorph")

    @staticmethod
    def _read(path: Path) -> dict[str, list[str]]:
        """Column name -> its cells (strings), in file order."""
        try:
            raw = path.read_bytes()
            text = (lzma.decompress(raw) if path.suffix == ".xz" else raw).decode("utf-8")
            rows = list(csv.reader(io.StringIO(text)))
        except (lzma.LZMAError, UnicodeDecodeError, csv.Error) as err:
            raise CorruptDataError(
                f"{path}: not a readable CSV table ({err}); re-copy it or re-run `nasbench-eval data import`."
            ) from err
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            raise CorruptDataError(f"{path}: not a CSV table with one header line and equally long rows; re-copy it.")
        return (
            {name: list(cells) for name, cells in zip(rows[0], zip(*rows[1:]))}
            if len(rows) > 1
            else {n: [] for n in rows[0]}
        )

    def _numeric(self, col: str, values: list[str]) -> np.ndarray:
        """A column's accuracies (percent; empty = NaN, not measured); anything else is a CorruptDataError."""
        try:
            out = np.array([v or "nan" for v in values], dtype=np.float64)
        except ValueError as err:
            raise CorruptDataError(
                f"{self.path}: column {col!r} is not numeric ({err}); expected accuracies in percent."
            ) from err
        bad = ~np.isnan(out) & ~((out >= 0) & (out <= 100))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise CorruptDataError(
                f"{self.path}: column {col!r} row {row} holds {out[row]!r} ({int(bad.sum())} such values); "
                "expected accuracies in percent, 0..100 (empty = not measured)."
            )
        return out

    def _validate(self, columns: dict[str, list[str]], n_expected: int | None, *, parse_archs: bool = True) -> None:
        """Check columns, row count, index order and distinct arch strings; `parse_archs` also parses every
        string (skipped for the package's own table, whose checksum was verified)."""
        where = f"{self.path}"
        for col in ("index", "arch"):
            if col not in columns:
                raise CorruptDataError(
                    f"{where}: column {col!r} is missing; expected columns index, arch and "
                    f"{{dataset}}_{{metric}}_{{epochs}}ep."
                )
        if not any(COLUMN_RE.match(c) for c in columns):
            raise CorruptDataError(f"{where}: no accuracy columns; expected names like 'cifar10_test_acc_200ep'.")
        n = len(columns["arch"])
        if n_expected is not None and n != n_expected:
            raise CorruptDataError(
                f"{where}: {n} rows; expected {n_expected} (one per {self.space} architecture). The file is truncated "
                "or not this space's table."
            )
        if columns["index"] != [str(i) for i in range(n)]:
            raise CorruptDataError(
                f"{where}: column 'index' is not 0..{n - 1} in order; the table must be in benchmark order."
            )
        archs = columns["arch"]
        empty, repeated = sum(not a for a in archs), n - len(set(archs))
        if empty or repeated:
            raise CorruptDataError(
                f"{where}: column 'arch' has {empty} empty and {repeated} repeated strings; expected one distinct "
                "string per row."
            )
        try:  # every string must parse: catches unknown ops and mangled rows, ~0.1 s for 15,625
            for text in archs if parse_archs else ():
                SPACES[self.space].from_str(text)
        except InvalidParameterError as err:
            raise CorruptDataError(f"{where}: malformed arch string in column 'arch': {err}") from err

    def keys(self) -> list[tuple[str, str, int]]:
        return list(self._columns)

    def _column(self, dataset: str, metric: str, epochs: int) -> np.ndarray:
        return self._columns[(dataset, metric, epochs)]

    def isomorph_keys(self) -> list[str] | None:
        """The table's canonical isomorphism strings in benchmark order (None if it has none)."""
        return None if self._isomorph is None else list(self._isomorph)
