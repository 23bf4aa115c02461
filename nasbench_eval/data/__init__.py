"""NB201 datasets: specs, loaders for every supported on-disk format, seeded proxy batches.

>>> from nasbench_eval.data import proxy_batch, get_spec
>>> get_spec("cifar100").num_classes
100
>>> x, y = proxy_batch("cifar10-valid", 64, seed=0, device="cpu")   # doctest: +SKIP

The loaders (torch, Pillow) are imported on first use, so reading a spec or the package's data
files stays light.
"""
from __future__ import annotations

import importlib

from .specs import DATASET_SPECS, FULL_DATASETS, DatasetSpec, get_spec

_LAZY = {
    **dict.fromkeys(("POOLS", "SPLIT_SEED", "crop_flip", "default_pool", "load_dataset", "normalize", "proxy_batch",
                     "train_valid_split"), "sampling"),
    **dict.fromkeys(("SOURCES", "locate"), "sources"),
    "describe_data": "describe",
}
"""Public name -> the submodule that defines it, imported on first access."""


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)


__all__ = ["DATASET_SPECS", "FULL_DATASETS", "DatasetSpec", "get_spec", *_LAZY]
