"""Official backend: the NATS-Bench benchmark files read through the `nats_bench` API.

Accepts the fast-mode archive folder (``NATS-tss-v1_0-3ffb9-simple`` / ``NATS-sss-v1_0-50262-simple``:
``meta.pickle.pbz2`` plus one ``<index>.pickle.pbz2`` per architecture), the folder holding it
(e.g. ``$TORCH_HOME``), or a single full benchmark file (``*.pickle.pbz2``, loaded at once).

Values are the means over the benchmark's seeds at the last epoch of each schedule (NATS's
``is_random=False``), per (dataset, metric, epochs):

| metric | ``cifar10-valid`` | ``cifar10`` | ``cifar100``, ``ImageNet16-120`` |
| --- | --- | --- | --- |
| ``train_acc`` | train | train (train+valid) | train |
| ``valid_acc`` | ``x-valid`` | -- | ``x-valid`` |
| ``test_acc`` | ``ori-test`` | ``ori-test`` | ``x-test`` |

These are exactly the ``train-/valid-/test-accuracy`` of ``api.get_more_info(..., is_random=False)``.

Safety: the official files are pickles, and ``nats_bench`` reads them with ``pickle.load``, which runs any code
a hostile file names. While `nats_bench` reads, its loader is replaced by `nasbench_eval.safe_pickle` (plain
containers, numbers, strings and numpy arrays only), and the files are only ever taken from the explicit path
the caller gives (``--nats`` / ``--nats-path`` / ``path=``), never found by searching.
Reading a whole column opens every record file once (all columns are filled in that one pass and
kept in memory); for repeated use convert once with ``nasbench-eval data import``.
"""
from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from .. import safe_pickle
from .._validation import check_option
from ..exceptions import CorruptDataError, DataNotFoundError, InvalidParameterError, NasBenchEvalError
from ..space import SPACES
from .base import DATASETS, METRICS, Benchmark, column_name

BASE_NAMES = {"tss": "NATS-tss-v1_0-3ffb9", "sss": "NATS-sss-v1_0-50262"}
"""Official file-name stems of the two spaces."""
META_FILE = "meta.pickle.pbz2"
TEST_SET = {"cifar10-valid": "ori-test", "cifar10": "ori-test", "cifar100": "x-test", "ImageNet16-120": "x-test"}
"""The evaluation set NATS-Bench reports as 'test-accuracy', per dataset."""
VALID_SET = "x-valid"
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, AssertionError, pickle.UnpicklingError)
# what nats_bench raises for a missing/damaged record (it uses asserts and ValueError for both)


class OfficialBenchmark(Benchmark):
    """Ground truth from the official NATS-Bench files, behind the common Benchmark interface.

    Parameters
    ----------
    path : path-like
        The fast-mode archive folder, a folder holding it, or a full ``.pickle.pbz2`` file.
    space : {"tss", "sss"}, default="tss"

    Raises
    ------
    DataNotFoundError
        `path` does not exist or holds no NATS-Bench archive for `space`.
    CorruptDataError
        The files exist but cannot be read, or hold architecture strings of another space.
    """

    def __init__(self, path: str | os.PathLike, space: str = "tss"):
        self.space = check_option("space", space, SPACES, caller="OfficialBenchmark")
        self.path, fast_mode = _resolve_archive(Path(path), space)
        self.name = f"nats_{space} official ({self.path.name})"
        self._api = _create_api(self.path, space, fast_mode)
        self._fast_mode = fast_mode
        self._arch_strs = [str(s) for s in self._api.meta_archs]
        self._check_strings()
        self._keys: list[tuple[str, str, int]] | None = None
        self._hp_of: dict[int, str] = {}
        self._columns: dict[tuple[str, str, int], np.ndarray] | None = None

    def _check_strings(self) -> None:
        try:
            for text in self._arch_strs:
                SPACES[self.space].from_str(text)
        except InvalidParameterError as err:
            raise CorruptDataError(f"{self.path}: meta_archs holds a string that is not a {self.space} architecture ({err}); is this the other space's archive?") from err

    # ---- records --------------------------------------------------------------------------------------
    def _records(self, index: int) -> dict:
        """hp string -> nats_bench ArchResults of one architecture (fast mode: read, then evicted)."""
        api = self._api
        try:
            if self._fast_mode:
                with _restricted_unpickling():
                    api.reload(api.archive_dir, index)
                api.evaluated_indexes.discard(index)
                return api.arch2infos_dict.pop(index)
            return api.arch2infos_dict[index]
        except _READ_ERRORS as err:  # includes safe_pickle's CorruptDataError (a ValueError), whose text names the file
            raise CorruptDataError(
                f"{self.path}: the record of architecture {index} is missing or unreadable ({type(err).__name__}: {err}); "
                "re-download or re-extract the benchmark archive."
            ) from err

    def keys(self) -> list[tuple[str, str, int]]:
        """(dataset, metric, epochs) held, as found in architecture 0's record (schedules: tss 12/200, sss 1/12/90)."""
        if self._keys is None:
            self._keys, self._hp_of = _keys_of(self._records(0))
        return list(self._keys)

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

    def to_frame(self) -> pd.DataFrame:
        """The compact table (TableBenchmark's format): index, arch, one column per key, tss also isomorph."""
        frame = pd.DataFrame({"index": np.arange(len(self)), "arch": self._arch_strs})
        for key in self.keys():
            frame[column_name(*key)] = self._column(*key)
        if self.space == "tss":
            frame["isomorph"] = self.isomorph_keys()
        return frame


def _resolve_archive(path: Path, space: str) -> tuple[Path, bool]:
    """(archive path, fast_mode) for what the user passed."""
    if path.is_file():
        return path, False
    if path.is_dir():
        for candidate in (path, path / f"{BASE_NAMES[space]}-simple"):
            if (candidate / META_FILE).is_file():
                return candidate, True
        full = path / f"{BASE_NAMES[space]}.pickle.pbz2"
        if full.is_file():
            return full, False
        looked = [str(path / META_FILE), str(path / f"{BASE_NAMES[space]}-simple" / META_FILE), str(full)]
        raise DataNotFoundError(
            f"OfficialBenchmark(): no NATS-Bench {space} archive in {path}; looked for {'; '.join(looked)}. "
            f"Pass the extracted {BASE_NAMES[space]}-simple folder (or its parent) or the full .pickle.pbz2 file."
        )
    raise DataNotFoundError(
        f"OfficialBenchmark(): path={str(path)!r} does not exist; pass the extracted {BASE_NAMES[space]}-simple folder "
        "from the NATS-Bench release, or use the offline table (no path)."
    )


_NATS_LOADER_MODULES = ("nats_bench.api_utils", "nats_bench.api_topology", "nats_bench.api_size")
"""nats_bench modules that hold a reference to its ``pickle_load``."""


def _restricted_pickle_load(file_path, ext: str = ".pbz2"):
    """nats_bench's ``pickle_load(file_path, ext)``, read through the allow-list unpickler."""
    path = str(file_path)
    return safe_pickle.load(path if os.path.isfile(path) else path + ext)


@contextlib.contextmanager
def _restricted_unpickling():
    """For the body, every file nats_bench unpickles goes through `safe_pickle` (no code runs from it)."""
    import importlib

    modules = [importlib.import_module(name) for name in _NATS_LOADER_MODULES]
    saved = [(m, m.pickle_load) for m in modules if hasattr(m, "pickle_load")]
    for m, _ in saved:
        m.pickle_load = _restricted_pickle_load
    try:
        yield
    finally:
        for m, original in saved:
            m.pickle_load = original


def _create_api(path: Path, space: str, fast_mode: bool):
    try:
        import nats_bench
    except ImportError as err:
        raise NasBenchEvalError("the official backend needs the nats_bench package: pip install nats_bench") from err
    try:
        with _restricted_unpickling():
            return nats_bench.create(str(path), space, fast_mode=fast_mode, verbose=False)
    except _READ_ERRORS as err:  # includes safe_pickle's CorruptDataError, whose text names the file
        raise CorruptDataError(f"{path}: nats_bench could not open it ({type(err).__name__}: {err}); re-download or re-extract the archive.") from err


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
        raise InvalidParameterError(f"import_official(): out_dir={str(out_dir)!r} already holds {out}; pass overwrite=True (--force) to replace it.")
    bench = OfficialBenchmark(path, space)
    frame = bench.to_frame()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, out)
    return out, bench
