"""NB201 datasets: specs, loaders for every supported on-disk format, seeded proxy batches.

>>> from nasbench_eval.data import proxy_batch, get_spec
>>> get_spec("cifar100").num_classes
100
>>> x, y = proxy_batch("cifar10-valid", 64, seed=0, device="cpu")   # doctest: +SKIP

The loaders (torch, Pillow) are imported on first use, so reading a spec or the package's data
files stays light.
"""
from __future__ import annotations

from .._lazy import lazy_getattr
from .specs import DATASET_SPECS, FULL_DATASETS, DatasetSpec, get_spec

_LAZY = {
    **{name: ("sampling", name) for name in ("POOLS", "SPLIT_SEED", "crop_flip", "default_pool", "load_dataset",
                                             "normalize", "proxy_batch", "train_valid_split")},
    **{name: ("sources", name) for name in ("SOURCES", "locate")},
    "describe_data": ("describe", "describe_data"),
}
"""Public name -> (submodule, attribute), imported on first access."""

__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = ["DATASET_SPECS", "FULL_DATASETS", "DatasetSpec", "get_spec", *_LAZY]
