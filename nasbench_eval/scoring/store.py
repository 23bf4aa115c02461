"""A persistent score store (SQLite): every finished score is committed at once, so an interrupted
run loses nothing and a rerun with the same settings reuses what is there.

A score is keyed by everything that changes it: space, architecture, dataset, proxy key, the proxy's
settings (profile, init, batch size, repeats, ...), the data batch (dataset, source, seed), the seed
and the scoring code version. The key is the SHA-256 of the canonical JSON of those fields; the
fields themselves are stored too, so the store can be queried by hand with any SQLite client.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..paths import cache_dir
from ..proxies.scoring import SCORING_VERSION
from .sqlite_file import SqliteFile


_SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    key TEXT PRIMARY KEY,
    space TEXT NOT NULL,
    arch TEXT NOT NULL,
    dataset TEXT NOT NULL,
    proxy TEXT NOT NULL,
    context TEXT NOT NULL,
    value REAL,
    status TEXT NOT NULL,
    reason TEXT,
    repeats TEXT,
    dead_cell INTEGER,
    seconds REAL,
    created REAL NOT NULL
)
"""


def score_key(*, space: str, arch: str, dataset: str, proxy: str, context: Mapping) -> str:
    """SHA-256 hex key of the fields that determine a score (`context` must be JSON-serialisable)."""
    payload = json.dumps(
        {
            "space": space,
            "arch": arch,
            "dataset": dataset,
            "proxy": proxy,
            "context": context,
            "version": SCORING_VERSION,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class StoredScore:
    """One row of the store. `value` is NaN when the score failed; `status` says why."""

    arch: str
    proxy: str
    value: float
    status: str
    reason: str | None
    repeats: tuple
    dead_cell: bool | None
    seconds: float | None


def default_store_path() -> Path:
    """$NASBENCH_EVAL_CACHE/scores.sqlite (see nasbench_eval.paths.cache_dir)."""
    return cache_dir() / "scores.sqlite"


class ScoreStore(SqliteFile):
    """SQLite-backed map from score key to StoredScore. Use as a context manager or call close()."""

    def __init__(self, path: str | os.PathLike | None = None):
        super().__init__(path if path is not None else default_store_path(), [_SCHEMA],
                         what="score store", remedy="delete it or pass another --store")

    def __len__(self) -> int:
        return self.count("scores")

    def get_many(self, keys: Iterable[str]) -> dict[str, StoredScore]:
        """The stored scores among `keys` (missing keys are absent from the result)."""
        keys = list(keys)
        found: dict[str, StoredScore] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = self._db.execute(
                "SELECT key, arch, proxy, value, status, reason, repeats, dead_cell, seconds FROM scores WHERE key IN "
                f"({','.join('?' * len(chunk))})",
                chunk,
            )
            for key, arch, proxy, value, status, reason, repeats, dead, seconds in rows:
                found[key] = StoredScore(
                    arch, proxy, math.nan if value is None else value, status, reason,
                    tuple(json.loads(repeats)) if repeats else (), None if dead is None else bool(dead), seconds,
                )
        return found

    def put(
        self, key: str, *, space: str, arch: str, dataset: str, proxy: str, context: Mapping, score: StoredScore
    ) -> None:
        """Insert or replace one score and commit at once (an interrupt after this keeps it)."""
        value = None if math.isnan(score.value) else float(score.value)  # SQLite keeps +-inf; NaN becomes NULL
        repeats = json.dumps([float(r) for r in score.repeats])  # Python's json round-trips NaN and +-Infinity
        self._db.execute(
            "INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (key, space, arch, dataset, proxy, json.dumps(context, sort_keys=True), value, score.status, score.reason,
             repeats, None if score.dead_cell is None else int(score.dead_cell), score.seconds, time.time()),
        )
        self._db.commit()
