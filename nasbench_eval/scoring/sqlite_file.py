"""One SQLite file holding finished results: opened (and created) with its schema, closed as a context manager.

The score store (`nasbench_eval.scoring.store.ScoreStore`) and the Stage-1 prediction store
(`nasbench_eval.train.prediction_store.PredictionStore`) are both this plus their own tables and
queries. Writers commit after every finished unit of work, so an interrupted run keeps it.
"""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from ..exceptions import CorruptDataError


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            for statement in schema:
                self._db.execute(statement)
            self._db.commit()
        except sqlite3.DatabaseError as err:
            raise CorruptDataError(f"{what} {str(self.path)!r} is not a usable SQLite file ({err}); {remedy}.") from err

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def count(self, table: str) -> int:
        """Rows of `table` (one of the schema's tables)."""
        return self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
