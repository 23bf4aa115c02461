"""Supernet-predicted accuracies kept in SQLite beside the run, so no architecture is evaluated twice.

``RUN_DIR/predictions.sqlite`` (`STORE_NAME`) holds one row per (context, architecture). The
context is everything that changes a prediction: the supernet's weights (SHA-256 of its state
dict: parameters, BatchNorm statistics, split copies, bias tables), the recalibration and
evaluation images (SHA-256 of the batch tensors, so dataset, seed, batch size, ``bn_batches`` and
``n_eval`` all enter), the device type, `PREDICTION_VERSION`, and readable settings the caller adds.
Its key is the SHA-256 of the canonical JSON; the JSON itself is stored too, so the file can be
read with any SQLite client. Rows are committed after every group: Ctrl-C keeps finished groups
and a rerun with the same settings computes only what is missing.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch
from tqdm import tqdm

from .._validation import check_int
from ..nets.supernet import Supernet
from ..space import Arch
from ..scoring.sqlite_file import SqliteFile
from .batched_eval import Batches, iter_group_predictions

PREDICTION_VERSION = "1"
"""Bump when a change in the prediction code changes any prediction: old rows then stop matching."""
STORE_NAME = "predictions.sqlite"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS contexts (key TEXT PRIMARY KEY, context TEXT NOT NULL, created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS predictions (key TEXT NOT NULL, code TEXT NOT NULL, arch TEXT NOT NULL, "
    "accuracy REAL NOT NULL, seconds REAL, created REAL NOT NULL, PRIMARY KEY (key, code))",
)


def tensor_digest(named: Iterable[tuple[str, torch.Tensor]]) -> str:
    """SHA-256 hex of (name, dtype, shape, bytes) of each tensor, in the given order."""
    h = hashlib.sha256()
    for name, t in named:
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def prediction_context(supernet: Supernet, valid_batches: Batches, bn_batches: Batches | None = None, *,
                       settings: Mapping | None = None) -> dict:
    """The fields that determine a prediction (module docstring); `settings` must be JSON-serialisable."""
    def images(batches):
        return ((f"{i}.{k}", t) for i, (x, y) in enumerate(batches) for k, t in (("x", x), ("y", y)))
    return {
        "weights": tensor_digest(supernet.state_dict().items()),
        "valid": tensor_digest(images(valid_batches)),
        "bn": tensor_digest(images(bn_batches or [])),
        "device": supernet.classifier.weight.device.type,
        "version": PREDICTION_VERSION,
        "settings": dict(settings or {}),
    }


def context_key(context: Mapping) -> str:
    """SHA-256 hex of the canonical JSON of `context`."""
    return hashlib.sha256(json.dumps(context, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def arch_code(arch) -> str:
    """Six OPS digits of an Arch, official string or 6 OPS indices: the store's key (``"312403"``)."""
    if not isinstance(arch, Arch):
        arch = Arch.from_str(arch) if isinstance(arch, str) else Arch.from_code(arch)
    return "".join(str(c) for c in arch.code)


class PredictionStore(SqliteFile):
    """SQLite map from (context key, arch code) to predicted accuracy. Use as a context manager or call close().

    Parameters
    ----------
    path : path-like
        The database file, created with its folder if missing (normally ``RUN_DIR / STORE_NAME``).
    """

    def __init__(self, path: str | os.PathLike):
        super().__init__(path, _SCHEMA, what="PredictionStore():", remedy="delete it or pass cache=False")

    def __len__(self) -> int:
        return self.count("predictions")

    def get_many(self, key: str, codes: Sequence[str]) -> dict[str, float]:
        """Stored accuracies of `codes` under context `key` (missing codes are absent)."""
        found: dict[str, float] = {}
        for start in range(0, len(codes), 500):
            chunk = list(codes[start:start + 500])
            rows = self._db.execute(
                f"SELECT code, accuracy FROM predictions WHERE key = ? AND code IN ({','.join('?' * len(chunk))})",
                [key, *chunk],
            )
            found.update(rows)
        return found

    def put_group(self, key: str, context: Mapping, rows: Sequence[tuple[str, str, float]], seconds: float) -> None:
        """Insert (code, arch string, accuracy) rows of one group and commit (an interrupt after this keeps them).

        `seconds` is the group's wall time; each row records its share.
        """
        now = time.time()
        self._db.execute(
            "INSERT OR IGNORE INTO contexts VALUES (?,?,?)", (key, json.dumps(context, sort_keys=True), now)
        )
        self._db.executemany("INSERT OR REPLACE INTO predictions VALUES (?,?,?,?,?,?)",
                             [(key, code, arch, float(acc), seconds / len(rows), now) for code, arch, acc in rows])
        self._db.commit()


class Predictions(NamedTuple):
    """Accuracies (percent, float64[n], input order) and how many of the n came from the store."""

    acc: np.ndarray
    n_cached: int


def predict_cached(supernet: Supernet, archs: Sequence, valid_batches: Batches, *, bn_batches: Batches | None = None,
                   store: PredictionStore | None = None, settings: Mapping | None = None, group_size: int | None = None,
                   progress: bool = False, desc: str = "predicting") -> Predictions:
    """`predict_accuracies` (batched) that reads finished archs from `store` and writes each new group to it.

    Parameters
    ----------
    supernet, archs, valid_batches, bn_batches, group_size
        As in `iter_group_predictions`; repeated archs are evaluated once.
    store : PredictionStore, optional
        None computes everything and keeps nothing.
    settings : mapping, optional
        Readable settings added to the context (e.g. ``{"bn_batches": 20, "seed": 0}``).
    progress : bool, default=False
        A tqdm bar on stderr (archs, with ETA); finished archs from the store count as done.
    desc : str
        The bar's label.

    Returns
    -------
    Predictions
    """
    if group_size is not None:
        check_int("group_size", group_size, caller="predict_cached", minimum=1)
    codes = [arch_code(a) for a in archs]
    unique = list(dict.fromkeys(codes))
    context = prediction_context(supernet, valid_batches, bn_batches, settings=settings) if store is not None else None
    key = context_key(context) if store is not None else None
    found = store.get_many(key, unique) if store is not None else {}
    todo = [Arch.from_code(tuple(int(c) for c in code)) for code in unique if code not in found]
    done = dict(found)
    with tqdm(total=len(unique), initial=len(found), disable=not progress, desc=desc, unit="arch",
              mininterval=1.0, dynamic_ncols=True) as bar:
        start = time.perf_counter()
        for group, acc in iter_group_predictions(
            supernet, todo, valid_batches, bn_batches=bn_batches, group_size=group_size
        ):
            rows = [(arch_code(a), str(a), float(v)) for a, v in zip(group, acc)]
            done.update((code, v) for code, _, v in rows)
            if store is not None:
                store.put_group(key, context, rows, time.perf_counter() - start)
            bar.update(len(group))
            start = time.perf_counter()
    return Predictions(np.array([done[c] for c in codes], dtype=np.float64), sum(c in found for c in codes))
