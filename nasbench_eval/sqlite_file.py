"""One SQLite file holding finished results: opened (and created) with its schema, closed as a context manager.

The score store (`nasbench_eval.store.ScoreStore`) and the Stage-1 prediction store
(`nasbench_eval.train.prediction_store.PredictionStore`) are both this plus their own tables and
queries. Writers commit after every finished unit of work, so an interrupted run keeps it.
"""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from .exceptions import CorruptDataError


class SqliteFile:
    """An open SQLite database with `schema` applied (WAL journal, so readers never block the writer).

    Parameters
    ----------
    path : path-like
        The database file; it and its folder are created if missing.
    schema : sequence of str
        ``CREATE TABLE IF NOT EXISTS ...`` statements.
    what, remedy : str
        Name the file and what a user can do in the one-line error raised for a file that is not
        usable SQLite (`CorruptDataError`).
    """

    def __init__(self, path: str | os.PathLike, schema: Sequence[str], *, what: str, remedy: str):
        self.path = Path(path)
        where = f"{what} {str(self.path)!r}"
        if self.path.is_dir():
            raise CorruptDataError(f"{where} is a folder; expected an SQLite file (new or existing); {remedy}.")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CorruptDataError(f"{where} cannot be created ({err.strerror}: {err.filename!r}); pass a path in "
                                   "a writable folder.") from None
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise CorruptDataError(_read_only(where))
        try:
            self._db = sqlite3.connect(self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            for statement in schema:
                self._db.execute(statement)
            self._db.commit()
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            self._db.execute(f"PRAGMA user_version={int(version)}")  # a no-op write: read-only fails now, not later
            self._db.commit()
        except sqlite3.DatabaseError as err:
            if _is_read_only(err):
                raise CorruptDataError(_read_only(where)) from err
            raise CorruptDataError(f"{where} is not a usable SQLite file ({err}); {remedy}.") from err
        foreign = _foreign_tables(self._db, schema)
        if foreign:
            self._db.close()
            raise CorruptDataError(f"{where} is an SQLite file of another kind (table {foreign}); "
                                   f"expected a {what} written by nasbench-eval; {remedy}.")

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def count(self, table: str) -> int:
        """Rows of `table` (one of the schema's tables)."""
        return self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _is_read_only(err: sqlite3.DatabaseError) -> bool:
    text = str(err).lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text


def _read_only(where: str) -> str:
    return (f"{where} cannot be written (read-only file, folder or file system); it is not damaged. "
            "Make it writable or pass a path in a writable folder.")


def _foreign_tables(db: sqlite3.Connection, schema: Sequence[str]) -> str | None:
    """The first table whose columns differ from `schema`'s, as ``name (columns)``; None if all match."""
    expected = sqlite3.connect(":memory:")
    try:
        for statement in schema:
            expected.execute(statement)
        for (name,) in expected.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            want = [row[1] for row in expected.execute(f"PRAGMA table_info({name})")]
            have = [row[1] for row in db.execute(f"PRAGMA table_info({name})")]
            if have != want:
                return f"{name} has columns {have}, not {want}"
        return None
    finally:
        expected.close()
