"""Per-dataset facts NAS-Bench-201 uses: classes, resolution, normalisation, crop padding.

Normalisation constants are NB201's (spec/proxies.md §2.1), given
in the [0, 1] pixel scale, i.e. the published 0-255 values divided by 255.
"""
from __future__ import annotations

from dataclasses import dataclass

from .._validation import check_option


@dataclass(frozen=True)
class DatasetSpec:
    """What a network and a data pipeline need to know about one NB201 dataset.

    Attributes
    ----------
    name : str
        Dataset name as NAS-Bench-201 spells it.
    source : str
        The image collection it is drawn from (``cifar10``, ``cifar100`` or ``ImageNet16``).
    num_classes : int
        Number of classes (labels are 0..num_classes-1).
    resolution : int
        Height = width of an image, in pixels.
    mean, std : tuple of 3 floats
        Per-channel (RGB) normalisation in the [0, 1] pixel scale.
    crop_padding : int
        Zero padding of NB201's random-crop augmentation, in pixels.
    splits : tuple of str
        The `split` values `load_dataset`/`proxy_batch` accept for this dataset.
    """

    name: str
    source: str
    num_classes: int
    resolution: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    crop_padding: int
    splits: tuple[str, ...]

    @property
    def full(self) -> str:
        """The dataset with these training images and its own test split: ``cifar10`` for ``cifar10-valid``
        (NB201's ``-valid`` halves the training split), itself otherwise. Stage 1 splits its training
        images, and its ground truth is its 200-epoch test accuracy."""
        return self.name.removesuffix("-valid")


def _scaled(*values: float) -> tuple[float, float, float]:
    return tuple(v / 255 for v in values)


_CIFAR10_MEAN, _CIFAR10_STD = _scaled(125.3, 123.0, 113.9), _scaled(63.0, 62.1, 66.7)

DATASET_SPECS: dict[str, DatasetSpec] = {
    "cifar10-valid": DatasetSpec(
        "cifar10-valid", "cifar10", 10, 32, _CIFAR10_MEAN, _CIFAR10_STD, 4, ("train", "valid", "test")
    ),
    "cifar10": DatasetSpec("cifar10", "cifar10", 10, 32, _CIFAR10_MEAN, _CIFAR10_STD, 4, ("train", "test")),
    "cifar100": DatasetSpec(
        "cifar100", "cifar100", 100, 32, _scaled(129.3, 124.1, 112.4), _scaled(68.2, 65.4, 70.4), 4, ("train", "test")
    ),
    "ImageNet16-120": DatasetSpec(
        "ImageNet16-120",
        "ImageNet16",
        120,
        16,
        _scaled(122.68, 116.66, 104.01),
        _scaled(63.22, 61.26, 65.09),
        2,
        ("train", "test"),
    ),
}
"""NB201 dataset name -> DatasetSpec, in the benchmark's dataset order."""

FULL_DATASETS: tuple[str, ...] = tuple(dict.fromkeys(spec.full for spec in DATASET_SPECS.values()))
"""The datasets with their own test split (``DatasetSpec.full``): cifar10, cifar100, ImageNet16-120."""


def get_spec(dataset: str, *, caller: str = "get_spec") -> DatasetSpec:
    """The DatasetSpec of an NB201 dataset name.

    >>> get_spec("ImageNet16-120").num_classes, get_spec("ImageNet16-120").resolution
    (120, 16)
    """
    return DATASET_SPECS[check_option("dataset", dataset, DATASET_SPECS, caller=caller)]
