"""What data is where: a summary of the datasets and benchmark tables the search paths hold."""
from __future__ import annotations

import os

from ..benchmarks.table import TABLE_FILES
from ..exceptions import DataNotFoundError
from ..paths import cache_dir, candidate_data_dirs, find_data_file
from .packaged import PROBE_FILE, manifest, verified
from .sources import locate
from .specs import DATASET_SPECS

TABLE_SPACES = {"nb201": "tss", "nats_tss": "tss", "nats_sss": "sss"}
"""Benchmark name -> the space whose table (`TABLE_FILES`) it reads."""


def describe_data(data_dir: str | os.PathLike | None = None) -> dict:
    """Which NB201 datasets and benchmark tables are found, where, and in which format.

    Nothing is decoded; file existence is checked in the search order of nasbench_eval.paths (an
    explicit `data_dir` replaces the user places), and package data files are checksum-verified.

    Parameters
    ----------
    data_dir : path-like, optional

    Returns
    -------
    dict
        ``{"places": [{"origin", "path", "exists"}], "datasets": {name: {"found", "format", "path",
        "num_classes", "resolution"} | {"found": False, "error"}}, "tables": {benchmark: {"found",
        "path"} | {"found": False, "error"}}, "probe_set": {"path", "images", "per_class"},
        "cache_dir": str}``. Dataset names are NB201's (``cifar10-valid`` and ``cifar10`` share the
        CIFAR-10 files); "datasets" are full datasets, the probe set ships in the package.
    """
    places = candidate_data_dirs(data_dir)
    probe = manifest()[PROBE_FILE]
    return {
        "places": [{"origin": o, "path": str(p), "exists": p.is_dir()} for o, p in places],
        "datasets": {name: _dataset_entry(name, data_dir) for name in DATASET_SPECS},
        "tables": {name: _table_entry(TABLE_FILES[space], data_dir) for name, space in TABLE_SPACES.items()},
        "probe_set": {"path": str(verified(PROBE_FILE)), "images": probe["images"], "per_class": probe["per_class"]},
        "cache_dir": str(cache_dir()),
    }


def _dataset_entry(name: str, data_dir) -> dict:
    spec = DATASET_SPECS[name]
    try:
        found = locate(spec.source, data_dir=data_dir)
    except DataNotFoundError as err:
        return {"found": False, "error": str(err)}
    path = found.path if found.kind.endswith("jpeg") else found.path.parent
    return {
        "found": True,
        "format": found.kind,
        "path": str(path),
        "num_classes": spec.num_classes,
        "resolution": spec.resolution,
    }


def _table_entry(paths: tuple[str, ...], data_dir) -> dict:
    try:
        return {"found": True, "path": str(find_data_file(paths, data_dir))}
    except DataNotFoundError as err:
        return {"found": False, "error": str(err)}
