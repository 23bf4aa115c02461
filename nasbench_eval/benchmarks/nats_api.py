"""Official backends: the NATS-Bench benchmark files and NAS-Bench-201's ``.pth`` files.

NATS-Bench accepts the fast-mode archive folder (``NATS-tss-v1_0-3ffb9-simple`` /
``NATS-sss-v1_0-50262-simple``: ``meta.pickle.pbz2`` plus one ``<index>.pickle.pbz2`` per
architecture), the ``-full`` archive folder (same layout, with weights), a folder holding either
(e.g. ``$TORCH_HOME``), or a single full benchmark file (``*.pickle.pbz2``, loaded at once). With
no path, the official default places are probed as the official API does: ``$TORCH_HOME``, else
``~/.torch``. Every NATS pickle is read through `nasbench_eval.safe_pickle` (a hostile file runs no
code; stored network weights are skipped unread) and turned into nats_bench's result objects with
``ArchResults.create_from_state_dict``, so one query reads one architecture's record.

NAS-Bench-201 ``.pth`` files (``NAS-Bench-201-v1_0-e61699.pth``, ``NAS-Bench-201-v1_1-096897.pth``)
are read with ``torch.load(weights_only=True)`` (no code from the file runs) and the declared
``nas-bench-201`` package's ``ArchResults``; the whole file is loaded (it is one pickle).

Values are the means over the benchmark's seeds at the last epoch of each schedule (NATS's
``is_random=False``), per (dataset, metric, epochs):

| metric | ``cifar10-valid`` | ``cifar10`` | ``cifar100``, ``ImageNet16-120`` |
| --- | --- | --- | --- |
| ``train_acc`` | train | train (train+valid) | train |
| ``valid_acc`` | ``x-valid`` | -- | ``x-valid`` |
| ``test_acc`` | ``ori-test`` | ``ori-test`` | ``x-test`` |

These are exactly the ``train-/valid-/test-accuracy`` of ``api.get_more_info(..., is_random=False)``.
Reading a whole column opens every record file once (all columns are filled in that one pass);
for repeated use convert once with ``nasbench-eval data import``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import safe_pickle
from .._validation import check_option
from ..exceptions import CorruptDataError, DataNotFoundError, InvalidParameterError
from ..space import SPACES
from .base import DATASETS, METRICS, Benchmark, column_name

BASE_NAMES = {"tss": "NATS-tss-v1_0-3ffb9", "sss": "NATS-sss-v1_0-50262"}
"""Official file-name stems of the two spaces."""
META_FILE = "meta.pickle.pbz2"
NB201_HPS = {"less": "12", "full": "200"}
"""NAS-Bench-201 .pth record keys -> the NATS hp string of the same schedule."""
TEST_SET = {"cifar10-valid": "ori-test", "cifar10": "ori-test", "cifar100": "x-test", "ImageNet16-120": "x-test"}
"""The evaluation set NATS-Bench reports as 'test-accuracy', per dataset."""
VALID_SET = "x-valid"
_STATE_ERRORS = (KeyError, TypeError, AttributeError, ValueError, AssertionError)
# what ArchResults.load_state_dict raises on a state of the wrong shape


def default_nats_dirs() -> list[Path]:
    """Where the official API looks when given no path: ``$TORCH_HOME`` if set, else ``~/.torch``."""
    return [Path(os.environ["TORCH_HOME"])] if os.environ.get("TORCH_HOME") else [Path.home() / ".torch"]


class OfficialBenchmark(Benchmark):
    """Ground truth from the official NATS-Bench or NAS-Bench-201 files, behind the common Benchmark interface.

    Parameters
    ----------
    path : path-like or None
        A NATS archive folder (``-simple`` or ``-full``), a folder holding one, a full ``.pickle.pbz2``
        file, or a NAS-Bench-201 ``.pth`` file (tss only); None probes `default_nats_dirs`.
    space : {"tss", "sss"}, default="tss"

    Raises
    ------
    DataNotFoundError
        `path` does not exist or holds no benchmark file for `space`.
    CorruptDataError
        The files exist but cannot be read, or hold architecture strings of another space.
    """

    def __init__(self, path: str | os.PathLike | None = None, space: str = "tss"):
        self.space = check_option("space", space, SPACES, caller="OfficialBenchmark")
        self.path, self.kind = resolve_archive(None if path is None else Path(path), space)
        self.name = f"{'nb201' if self.kind == 'nb201-pth' else 'nats_' + space} official ({self.path.name})"
        self._states: dict | None = None   # whole-file kinds: index -> {hp: state}
        if self.kind == "nats-dir":
            meta = _load_nats(self.path / META_FILE, "could not open it")
        else:
            meta = _load_nats(self.path, "could not open it") if self.kind == "nats-file" else _load_pth(self.path)
            self._states = meta.get("arch2infos") if isinstance(meta, dict) else None
            if not isinstance(self._states, dict):
                raise CorruptDataError(
                    f"{self.path}: holds no 'arch2infos' dict; is it a NATS-Bench / NAS-Bench-201 benchmark file?"
                )
        archs = meta.get("meta_archs") if isinstance(meta, dict) else None
        if not isinstance(archs, (list, tuple)):
            raise CorruptDataError(
                f"{self.path}: could not open it as a benchmark: no 'meta_archs' list; re-download or re-extract it."
            )
        self._arch_strs = [str(s) for s in archs]
        self._check_strings()
        self._keys: list[tuple[str, str, int]] | None = None
        self._hp_of: dict[int, str] = {}
        self._columns: dict[tuple[str, str, int], np.ndarray] | None = None

    def _check_strings(self) -> None:
        try:
            for text in self._arch_strs:
                SPACES[self.space].from_str(text)
        except InvalidParameterError as err:
            raise CorruptDataError(
                f"{self.path}: meta_archs holds a string that is not a {self.space} architecture ({err}); is this "
                f"the other space's archive?"
            ) from err

    # ---- records --------------------------------------------------------------------------------------
    def _records(self, index: int) -> dict:
        """hp string -> result object (nats_bench / nas_201_api ArchResults) of one architecture, read now."""
        where = f"{self.path}: the record of architecture {index}"
        if self._states is not None:
            states = self._states.get(index)
            if states is None:
                raise CorruptDataError(f"{where} is missing; re-download the benchmark file.")
        else:
            file = self.path / f"{index:06d}.pickle.pbz2"
            file = file if file.is_file() else self.path / f"{index}.pickle.pbz2"
            if not file.is_file():
                raise CorruptDataError(f"{where} is missing ({file}); re-download or re-extract the benchmark archive.")
            try:
                states = _load_nats(file, "is unreadable")
            except CorruptDataError as err:
                raise CorruptDataError(f"{where} is unreadable: {err}") from err
        return _results(states, self.kind, where)

    def _ensure_keys(self, records: dict) -> None:
        if self._keys is None:
            self._keys, self._hp_of = _keys_of(records)

    def keys(self) -> list[tuple[str, str, int]]:
        """(dataset, metric, epochs) held, as found in the first record read (schedules: tss 12/200, sss 1/12/90)."""
        if self._keys is None:
            self._ensure_keys(self._records(0))
        return list(self._keys)

    def query(self, arch, dataset: str = "cifar10", metric: str = "test_acc", epochs: int = 200) -> float:
        """The metric (percent) of one architecture, reading only its own record."""
        index = self.index_of(arch)
        if self._columns is not None:
            return float(self._columns[self.check_key(dataset, metric, epochs, caller="query")][index])
        records = self._records(index)
        self._ensure_keys(records)
        d, m, e = self.check_key(dataset, metric, epochs, caller="query")
        return _mean_accuracy(records, self._hp_of[e], d, m)

    def _column(self, dataset: str, metric: str, epochs: int) -> np.ndarray:
        if self._columns is None:
            self._columns = self._read_all_columns()
        return self._columns[(dataset, metric, epochs)]

    def _read_all_columns(self) -> dict[tuple[str, str, int], np.ndarray]:
        keys = self.keys()
        cols = {k: np.full(len(self), np.nan) for k in keys}
        for i in range(len(self)):
            records = self._records(i)
            for key in keys:
                cols[key][i] = _mean_accuracy(records, self._hp_of[key[2]], key[0], key[1])
        return cols

    # ---- extras ---------------------------------------------------------------------------------------
    def isomorph_keys(self) -> list[str] | None:
        """tss: the canonical isomorphism string of every architecture (Arch.isomorph_key); sss: None."""
        if self.space != "tss":
            return None
        return [SPACES["tss"].from_str(s).isomorph_key() for s in self._arch_strs]

    def to_frame(self):
        """The compact table (TableBenchmark's format): index, arch, one column per key, tss also isomorph."""
        import pandas as pd

        frame = pd.DataFrame({"index": np.arange(len(self)), "arch": self._arch_strs})
        for key in self.keys():
            frame[column_name(*key)] = self._column(*key)
        if self.space == "tss":
            frame["isomorph"] = self.isomorph_keys()
        return frame


# ---- reading the files -------------------------------------------------------------------------------------
_NATS_WEIGHTS = frozenset({("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
                           ("torch.storage", "_load_from_bytes")})
"""Globals of pickled torch tensors (the ``-full`` archive's trained weights): replaced by None, never run."""


def _load_nats(path: Path, failure: str):
    try:
        return safe_pickle.load(path, skip=_NATS_WEIGHTS)
    except CorruptDataError as err:
        raise CorruptDataError(
            f"{path}: nats_bench format: {failure} ({err}); re-download or re-extract the archive."
        ) from err


def _load_pth(path: Path) -> dict:
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, AttributeError, ImportError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CorruptDataError(f"{path}: not a readable NAS-Bench-201 .pth file ({first}); re-download it.") from err


def _results(states, kind: str, where: str) -> dict:
    """{hp: state dict} of one architecture -> {hp: ArchResults} (nas_201_api's for .pth, nats_bench's otherwise)."""
    if not isinstance(states, dict):
        raise CorruptDataError(f"{where} holds a {type(states).__name__}; expected a dict of hp -> results.")
    if kind == "nb201-pth":
        from nas_201_api.api_utils import ArchResults

        states = {NB201_HPS.get(hp, hp): st for hp, st in states.items()}
    else:
        from nats_bench.api_utils import ArchResults
    try:
        return {str(hp): ArchResults.create_from_state_dict(dict(st)) for hp, st in states.items()}
    except _STATE_ERRORS as err:
        raise CorruptDataError(
            f"{where} is not in the official format ({type(err).__name__}: {err}); re-download it."
        ) from err


def resolve_archive(path: Path | None, space: str) -> tuple[Path, str]:
    """(file or folder, kind) for what the user passed; kind is "nats-dir", "nats-file" or "nb201-pth"."""
    if path is None:
        tried = []
        for folder in default_nats_dirs():
            try:
                return resolve_archive(folder, space)
            except DataNotFoundError:
                tried.append(str(folder))
        raise DataNotFoundError(
            f"no NATS-Bench {space} archive in the official default places ({', '.join(tried)}; set $TORCH_HOME to "
            f"the folder holding {BASE_NAMES[space]}-simple); or pass its path."
        )
    if path.is_file():
        if path.suffix == ".pth":
            if space != "tss":
                raise InvalidParameterError(
                    f"{path} is a NAS-Bench-201 .pth file (topology space); it has no {space} architectures."
                )
            return path, "nb201-pth"
        return path, "nats-file"
    if path.is_dir():
        stems = (f"{BASE_NAMES[space]}-simple", f"{BASE_NAMES[space]}-full")
        for candidate in (path, *(path / s for s in stems)):
            if (candidate / META_FILE).is_file():
                return candidate, "nats-dir"
        full = path / f"{BASE_NAMES[space]}.pickle.pbz2"
        if full.is_file():
            return full, "nats-file"
        looked = [str(path / META_FILE), *(str(path / s / META_FILE) for s in stems), str(full)]
        raise DataNotFoundError(
            f"OfficialBenchmark(): no NATS-Bench {space} archive in {path}; looked for {'; '.join(looked)}. "
            f"Pass the extracted {BASE_NAMES[space]}-simple (or -full) folder, its parent, or the full .pickle.pbz2 "
            "file."
        )
    raise DataNotFoundError(
        f"OfficialBenchmark(): path={str(path)!r} does not exist; pass the extracted {BASE_NAMES[space]}-simple folder "
        "from the NATS-Bench release, or use the offline table (no path)."
    )


def _keys_of(records: dict) -> tuple[list[tuple[str, str, int]], dict[int, str]]:
    """The (dataset, metric, epochs) one architecture's record holds, and epochs -> hp string."""
    keys, hp_of = [], {}
    for hp, result in records.items():
        epochs = int(hp)
        hp_of[epochs] = hp
        for dataset in result.get_dataset_names():
            if dataset not in DATASETS:
                continue
            keys.extend((dataset, m, epochs) for m in _metrics_held(result, dataset))
    order = {d: i for i, d in enumerate(DATASETS)}
    keys.sort(key=lambda k: (order[k[0]], METRICS.index(k[1]), k[2]))
    return keys, hp_of


def _metrics_held(result, dataset: str) -> list[str]:
    seeds = result.get_dataset_seeds(dataset)
    eval_sets = set.intersection(*(set(result.all_results[(dataset, s)].get_eval_set()) for s in seeds))
    held = {"train_acc": True, "valid_acc": VALID_SET in eval_sets, "test_acc": TEST_SET[dataset] in eval_sets}
    return [m for m in METRICS if held[m]]


def _mean_accuracy(records: dict, hp: str, dataset: str, metric: str) -> float:
    """Mean over seeds, last epoch; NaN where this architecture lacks the record."""
    result = records.get(hp)
    if result is None or dataset not in result.get_dataset_names() or metric not in _metrics_held(result, dataset):
        return float("nan")
    setname = {"train_acc": "train", "valid_acc": VALID_SET, "test_acc": TEST_SET[dataset]}[metric]
    return float(result.get_metrics(dataset, setname, is_random=False)["accuracy"])


def import_official(
    path: str | os.PathLike, space: str, out_dir: str | os.PathLike, *, overwrite: bool = False
) -> tuple[Path, OfficialBenchmark]:
    """Convert official NATS-Bench files into the compact table ``out_dir/nats/{space}_accuracy.csv``.

    Parameters
    ----------
    path : path-like
        Official archive (see OfficialBenchmark).
    space : {"tss", "sss"}
    out_dir : path-like
        Data folder to write into (created if missing).
    overwrite : bool, default=False
        Replace an existing table.

    Returns
    -------
    (Path, OfficialBenchmark)
        The written CSV and the benchmark it was converted from.
    """
    check_option("space", space, SPACES, caller="import_official")
    out = Path(out_dir) / "nats" / f"{space}_accuracy.csv"
    if out.exists() and not overwrite:
        raise InvalidParameterError(
            f"import_official(): out_dir={str(out_dir)!r} already holds {out}; pass overwrite=True (--force) to "
            "replace it."
        )
    bench = OfficialBenchmark(path, space)
    frame = bench.to_frame()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, out)
    return out, bench
