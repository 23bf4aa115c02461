"""Stage-1 data held entirely on the device, with batch-wide augmentation there (style §1.2, airbench).

NB201's protocol for supernet training ([PUP], NB201's ``cifar10-valid``): the 50,000 CIFAR-10
training images are split into two fixed, seeded, class-balanced halves
(`nasbench_eval.data.train_valid_split`, seed `SPLIT_SEED`); weights train on the train half, and
architecture parameters and supernet-predicted accuracies use the valid half. The test images are
never touched.

Images stay uint8 NHWC on the device (CIFAR-10 half: 77 MB); each batch is cropped (zero padding
4, or 2 for 16 px images, as NB201's RandomCrop pads black pixels) and flipped with one device
generator, then normalised with the dataset's NB201 mean / std.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import torch

from .._validation import check_int
from ..data import SPLIT_SEED, crop_flip, get_spec, load_dataset, normalize, train_valid_split
from ..device import resolve_device


@dataclass
class DeviceSplit:
    """One split resident on a device.

    Attributes
    ----------
    images_u8 : torch.Tensor of uint8, shape (N, H, W, 3)
    labels : torch.Tensor of int64, shape (N,)
    dataset : str
        NB201 dataset name (picks mean / std and crop padding).
    """

    images_u8: torch.Tensor
    labels: torch.Tensor
    dataset: str

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def device(self) -> torch.device:
        return self.labels.device

    def batch(self, idx: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Images `idx` as a normalised float32 (b, 3, H, W) batch and their labels; augmented if a generator is
        given."""
        x = self.images_u8[idx]
        if generator is not None:
            x = crop_flip(x, get_spec(self.dataset).crop_padding, generator)
        return normalize(x, self.dataset), self.labels[idx]

    def batches(
        self, batch_size: int, generator: torch.Generator, *, augment: bool = True
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of shuffled batches (the last one may be smaller), drawn from `generator`."""
        batch_size = check_int("batch_size", batch_size, caller="DeviceSplit.batches", minimum=1)
        for idx in self.epoch_order(generator).split(batch_size):
            yield self.batch(idx, generator if augment else None)

    def epoch_order(self, generator: torch.Generator) -> torch.Tensor:
        """One epoch's shuffled image indices, shape (len(self),), drawn from `generator`."""
        return torch.randperm(len(self), generator=generator, device=self.device)

    def fixed_batches(
        self, batch_size: int, n_batches: int, *, seed: int, augment: bool = False
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """`n_batches` batches picked (and augmented) by `seed` alone; without replacement while images last."""
        caller = "DeviceSplit.fixed_batches"
        batch_size = check_int("batch_size", batch_size, caller=caller, minimum=1, maximum=len(self))
        n_batches = check_int("n_batches", n_batches, caller=caller, minimum=1)
        g = torch.Generator(device=self.device).manual_seed(seed)
        out = []
        while len(out) < n_batches:
            for x, y in self.batches(batch_size, g, augment=augment):
                if len(y) == batch_size and len(out) < n_batches:
                    out.append((x, y))
        return out


class EvaluationBatches(NamedTuple):
    """The fixed batches a supernet-predicted accuracy is measured on (Stage-1 evaluation and Stage 2).

    Attributes
    ----------
    valid : list of (x, y)
        ``n_eval // b`` valid-half batches of ``b = min(batch_size, n_eval)`` images, not augmented.
    bn : list of (x, y) or None
        `bn_batches` augmented train-half batches of ``min(batch_size, len(train))`` images for BatchNorm
        recalibration; None when `bn_batches` is 0.
    n_eval : int
        The valid images asked for, capped at the valid half.
    """

    valid: list
    bn: list | None
    n_eval: int


def evaluation_batches(train: DeviceSplit, valid: DeviceSplit, *, seed: int, batch_size: int, n_eval: int,
                       bn_batches: int) -> EvaluationBatches:
    """The one builder of evaluation and BN-recalibration batches, picked by `seed` alone.

    `evaluate_runs` (Stage-1 evaluation) and `make_stage2_data` (Stage 2) both call it, so the two
    measure a path's accuracy on the same images after the same recalibration. The BN batch size does
    not depend on `n_eval`. Arguments are validated by the callers (non-negative `bn_batches`, positive rest).
    """
    n_eval = min(n_eval, len(valid))
    b = min(batch_size, n_eval)
    bn = train.fixed_batches(min(batch_size, len(train)), bn_batches, seed=seed, augment=True) if bn_batches else None
    return EvaluationBatches(valid.fixed_batches(b, max(1, n_eval // b), seed=seed), bn, n_eval)


def seeded_subset(n: int, k: int | None, seed: int, *, name: str, caller: str) -> torch.Tensor | None:
    """Sorted indices of `k` of `n` items picked by `seed` (quick runs); None when `k` is None (keep all)."""
    if k is None:
        return None
    k = check_int(name, k, caller=caller, minimum=1, maximum=n)
    return torch.sort(torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:k]).values


def load_stage1_data(dataset: str = "cifar10", *, n_train: int | None = None, n_valid: int | None = None,
                     subset_seed: int = 0, device: str | torch.device | None = None,
                     data_dir: str | os.PathLike | None = None) -> tuple[DeviceSplit, DeviceSplit]:
    """Train and valid halves of a dataset's training images, resident on `device`.

    Parameters
    ----------
    dataset : {"cifar10", "cifar10-valid", "cifar100", "ImageNet16-120"}, default="cifar10"
        Whose training images are split (cifar10 and cifar10-valid give the same halves).
    n_train, n_valid : int, optional
        Keep only a seeded random subset of each half (quick runs and tests); None keeps all.
    subset_seed : int, default=0
        Picks the subsets (the halves themselves are fixed by `SPLIT_SEED`).
    device : str or torch.device, optional
        Default: CUDA if available, else CPU.
    data_dir : path-like, optional
        See `nasbench_eval.paths`.

    Returns
    -------
    train, valid : DeviceSplit
        CIFAR-10: 25,000 images each (2,500 per class) before subsetting.
    """
    source = get_spec(dataset, caller="load_stage1_data").full
    dev = resolve_device(device)
    images, labels = load_dataset(source, "train", data_dir=data_dir)
    halves = train_valid_split(labels, SPLIT_SEED)
    splits = []
    for half, k, name in zip(halves, (n_train, n_valid), ("n_train", "n_valid")):
        sub = seeded_subset(len(half), k, subset_seed, name=name, caller="load_stage1_data")
        idx = half if sub is None else half[sub]
        splits.append(DeviceSplit(images[idx].to(dev), labels[idx].to(dev), source))
    return splits[0], splits[1]
