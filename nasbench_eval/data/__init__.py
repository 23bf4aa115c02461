"""NB201 datasets: specs, loaders for every supported on-disk format, seeded proxy batches.

>>> from nasbench_eval.data import proxy_batch, get_spec
>>> get_spec("cifar100").num_classes
100
>>> x, y = proxy_batch("cifar10-valid", 64, seed=0, device="cpu")   # doctest: +SKIP
"""
from __future__ import annotations

from .describe import describe_data
from .sampling import POOLS, SPLIT_SEED, crop_flip, default_pool, load_dataset, normalize, proxy_batch, train_valid_split
from .sources import SOURCES, locate
from .specs import DATASET_SPECS, DatasetSpec, get_spec

__all__ = [
    "DATASET_SPECS", "DatasetSpec", "POOLS", "SOURCES", "SPLIT_SEED", "crop_flip", "default_pool", "describe_data", "get_spec",
    "load_dataset", "locate", "normalize", "proxy_batch", "train_valid_split",
]
