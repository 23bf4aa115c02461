"""NB201 datasets as torch tensors: splits, normalisation, augmentation and seeded proxy batches.

Everything random here draws from a local CPU ``torch.Generator`` seeded by the caller, so a batch
depends only on (dataset, split, pool, batch_size, seed, augment) -- never on the device, the global
RNG or what ran before. Data is moved to `device` only at the end.

Proxy batches on CIFAR-10 come from the package's probe set by default (`POOLS`), so scores are the
same on every machine whatever else is installed; ``pool="full"`` draws from the full split instead.
"""
from __future__ import annotations

import os

import numpy as np
import torch

from .._validation import check_int
from ..device import resolve_device
from ..exceptions import InvalidParameterError
from .sources import locate, read_part
from .specs import DatasetSpec, get_spec

SPLIT_SEED = 0
"""Seed of the fixed cifar10-valid train/valid split (`train_valid_split`)."""
POOLS = ("probe", "full")
"""Where `proxy_batch` draws from: the package's CIFAR-10 probe set (3,000 training images, the train
half of the cifar10-valid split; see nasbench_eval/data/files/README.md) or the dataset's full split."""
PROBE_DATASETS = ("cifar10", "cifar10-valid")
"""Datasets whose training split the probe set stands in for."""


def default_pool(dataset: str, split: str = "train", root=None) -> str:
    """The pool `proxy_batch` uses when none is given: the probe set for a CIFAR-10 training split
    (unless `root` names files explicitly), else the full split."""
    return "probe" if dataset in PROBE_DATASETS and split == "train" and root is None else "full"


def train_valid_split(labels, seed: int = SPLIT_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed, seeded, class-balanced split of a training set into two halves (NB201's cifar10-valid style).

    Each class's images are shuffled by a generator seeded with `seed`; the first ``n_c // 2`` go to
    the train half, the rest to the valid half. For CIFAR-10's 50,000 training images this gives
    25,000 / 25,000 with 2,500 per class on each side. It is not NB201's own split file (which is
    not shipped); it plays the same role.

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        Class label of every training image (numpy array, list or torch tensor).
    seed : int, default=0

    Returns
    -------
    train_idx, valid_idx : torch.Tensor of int64, shapes (N - N_valid,) and (N_valid,)
        Disjoint, sorted ascending, together 0..N-1.

    Examples
    --------
    >>> tr, va = train_valid_split([0, 0, 1, 1, 1, 0], seed=0)
    >>> len(tr), len(va), sorted(tr.tolist() + va.tolist())
    (2, 4, [0, 1, 2, 3, 4, 5])
    """
    y = _check_labels_arg(labels)
    seed = check_int("seed", seed, caller="train_valid_split", minimum=0)
    g = torch.Generator().manual_seed(seed)
    train, valid = [], []
    for c in torch.unique(y).tolist():
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        train.append(idx[: len(idx) // 2])
        valid.append(idx[len(idx) // 2:])
    empty = torch.empty(0, dtype=torch.int64)
    return torch.sort(torch.cat(train or [empty])).values, torch.sort(torch.cat(valid or [empty])).values


def _check_labels_arg(labels) -> torch.Tensor:
    try:
        y = labels.detach().cpu() if isinstance(labels, torch.Tensor) else torch.as_tensor(np.array(labels))
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(
            "train_valid_split(): labels is not array-like; expected a 1-D array of class indices."
        ) from err
    if y.ndim != 1 or y.dtype.is_floating_point or y.dtype == torch.bool or y.dtype.is_complex:
        raise InvalidParameterError(
            f"train_valid_split(): labels has shape {tuple(y.shape)} and dtype {y.dtype}; expected a 1-D array of "
            "integer class indices."
        )
    return y.to(torch.int64)


def load_dataset(
    dataset: str,
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    root: str | os.PathLike | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """All images and labels of one split of an NB201 dataset, as CPU tensors.

    Parameters
    ----------
    dataset : {"cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"}
    split : {"train", "valid", "test"}, default="train"
        ``cifar10-valid``: ``train`` / ``valid`` are the halves of CIFAR-10's 50,000 training images
        (`train_valid_split`, seed 0), ``test`` the 10,000 test images. ``cifar10``: ``train`` = all 50,000.
        ``cifar100`` / ``ImageNet16-120``: ``train`` and ``test`` (the official test / val set; NB201's
        x-valid/x-test halves of it need split files that are not shipped).
    data_dir : path-like, optional
        Data folder (see nasbench_eval.paths); ignored when `root` is given.
    root : path-like, optional
        Folder of official files (e.g. ``.../cifar-10-batches-py`` or its parent), or the JPEG npz.

    Returns
    -------
    images_u8 : torch.Tensor of uint8, shape (N, H, W, 3)
        RGB pixels, H = W = the dataset's resolution (32, or 16 for ImageNet16-120).
    labels : torch.Tensor of int64, shape (N,)
        Class indices 0..num_classes-1, as in the files.

    Raises
    ------
    InvalidParameterError
        Unknown dataset, or a split the dataset does not have.
    DataNotFoundError
        The images are in none of the places looked at (all are named).
    """
    images, labels, pool = _split_arrays(dataset, split, data_dir, root, caller="load_dataset")
    if pool is not None:
        images, labels = images[pool], labels[pool]
    return torch.from_numpy(np.array(images)), torch.from_numpy(np.array(labels))


def _split_arrays(dataset, split, data_dir, root, *, caller: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The source part's read-only arrays (not copied) and the split's indices into them (None: all)."""
    spec = get_spec(dataset, caller=caller)
    if split not in spec.splits:
        hint = " Use dataset='cifar10-valid' for a validation split of CIFAR-10." if dataset == "cifar10" else ""
        raise InvalidParameterError(
            f"{caller}(): split={split!r} is not available for dataset={dataset!r}; expected one of "
            f"{list(spec.splits)}.{hint}"
        )
    located = locate(spec.source, data_dir=data_dir, root=root)
    part = "test" if split == "test" else "train"
    images, labels = read_part(located, part)
    if dataset == "cifar10-valid" and split != "test":
        halves = train_valid_split(labels, SPLIT_SEED)
        return images, labels, halves[0 if split == "train" else 1].numpy()
    return images, labels, None


def normalize(images_u8: torch.Tensor, dataset: str) -> torch.Tensor:
    """uint8 NHWC images -> float32 NCHW, scaled to [0, 1] and normalised with the dataset's NB201 mean/std.

    Parameters
    ----------
    images_u8 : torch.Tensor of uint8, shape (B, H, W, 3)
    dataset : str
        NB201 dataset name (picks the constants).

    Returns
    -------
    torch.Tensor of float32, shape (B, 3, H, W), on the input's device.
    """
    spec = get_spec(dataset, caller="normalize")
    if images_u8.dtype != torch.uint8 or images_u8.ndim != 4 or images_u8.shape[-1] != 3:
        raise InvalidParameterError(
            f"normalize(): images_u8 has dtype {images_u8.dtype} and shape {tuple(images_u8.shape)}; expected uint8 of "
            "shape (B, H, W, 3)."
        )
    x = images_u8.permute(0, 3, 1, 2).to(torch.float32).div_(255)
    mean = torch.tensor(spec.mean, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(spec.std, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def crop_flip(images_u8: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """NB201 training augmentation on a batch: zero-pad, random crop back to size, random horizontal flip.

    Batch-wide on the images' device (style §1.2): proxy batches (CPU) and Stage-1 training batches
    (`nasbench_eval.train.DeviceSplit`, on the device) use this one function.

    Parameters
    ----------
    images_u8 : torch.Tensor of uint8, shape (B, H, W, C)
        On any device; `generator` must live on the same device.
    padding : int
        Pixels of zero padding on each side (4 for 32 px images, 2 for 16 px); the crop window of the
        padded image starts at 0..2*padding.
    generator : torch.Generator
        Draws the crop offsets (y, then x) and the flips, in that order.

    Returns
    -------
    torch.Tensor of uint8, shape (B, H, W, C), same device.
    """
    b, h, w, _ = images_u8.shape
    dev = images_u8.device
    padded = torch.nn.functional.pad(images_u8, (0, 0, padding, padding, padding, padding))
    oy = torch.randint(0, 2 * padding + 1, (b,), generator=generator, device=dev)
    ox = torch.randint(0, 2 * padding + 1, (b,), generator=generator, device=dev)
    rows = (oy[:, None] + torch.arange(h, device=dev))[:, :, None]     # (B, H, 1)
    cols = (ox[:, None] + torch.arange(w, device=dev))[:, None, :]     # (B, 1, W)
    out = padded[torch.arange(b, device=dev)[:, None, None], rows, cols]  # (B, H, W, C)
    flip = torch.rand(b, generator=generator, device=dev) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), out.flip(2), out)


def proxy_batch(
    dataset: str,
    batch_size: int,
    *,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    split: str = "train",
    augment: bool = False,
    device: str | torch.device | None = None,
    root: str | os.PathLike | None = None,
    pool: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One fixed, seeded minibatch for scoring networks (spec/proxies.md §2.1).

    The images are a uniformly random subset (without replacement) of the pool, picked by a
    generator seeded with `seed`: the same arguments always give the identical batch, on any device.

    Parameters
    ----------
    dataset : {"cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"}
    batch_size : int
        Number of images, 1..N (N = size of the split).
    seed : int, default=0
        Picks the images (and the augmentation, if any).
    data_dir, root : path-like, optional
        Where the images are (see `load_dataset`).
    split : {"train", "valid", "test"}, default="train"
        See `load_dataset` (proxies use the training split; NASWOT's CIFAR-10 batches come from
        ``dataset="cifar10-valid", split="train"``).
    augment : bool, default=False
        Apply NB201's random crop (padding 4, or 2 for 16 px) and horizontal flip, seeded.
    device : str or torch.device, optional
        Where the tensors go (default: CUDA if available, else CPU).
    pool : {"probe", "full"}, optional
        ``"probe"``: the package's 3,000 CIFAR-10 training images (cifar10 / cifar10-valid, split
        "train" only); ``"full"``: the whole split from the user's files. Default: `default_pool`.

    Returns
    -------
    x : torch.Tensor of float32, shape (batch_size, 3, H, W)
        Normalised with the dataset's NB201 mean/std; H = W = 32 (16 for ImageNet16-120).
    y : torch.Tensor of int64, shape (batch_size,)
        Class labels as in the files (0..num_classes-1).

    Examples
    --------
    >>> x, y = proxy_batch("cifar10-valid", 64, seed=0, device="cpu")   # doctest: +SKIP
    >>> x.shape, y.shape                                                   # doctest: +SKIP
    (torch.Size([64, 3, 32, 32]), torch.Size([64]))
    """
    caller = "proxy_batch"
    spec = get_spec(dataset, caller=caller)
    seed = check_int("seed", seed, caller=caller, minimum=0)
    if not isinstance(augment, (bool, np.bool_)):
        raise InvalidParameterError(f"{caller}(): augment={augment!r} is not a bool; expected True or False.")
    dev = resolve_device(device)
    pool = _check_pool(pool, dataset, split, root, caller=caller)
    if pool == "probe":
        from .packaged import probe_set

        (images, labels), subset = probe_set(), None
        hint = "; pass pool='full' (CLI: --full-split) to draw from your full CIFAR-10 training split"
    else:
        images, labels, subset = _split_arrays(dataset, split, data_dir, root, caller=caller)
        hint = ""
    size = len(labels) if subset is None else len(subset)
    if not isinstance(batch_size, bool) and isinstance(batch_size, int) and batch_size > size:
        raise InvalidParameterError(
            f"{caller}(): batch_size={batch_size} exceeds the {size} images of the {pool} {split} pool{hint}."
        )
    batch_size = check_int("batch_size", batch_size, caller=caller, minimum=1, maximum=size)
    return _draw(spec, images, labels, subset, batch_size, seed, bool(augment), dev)


def _check_pool(pool, dataset: str, split: str, root, *, caller: str) -> str:
    if pool is None:
        return default_pool(dataset, split, root)
    if pool not in POOLS:
        raise InvalidParameterError(f"{caller}(): pool={pool!r} is not a pool; expected one of {list(POOLS)} or None.")
    if pool == "probe" and (dataset not in PROBE_DATASETS or split != "train" or root is not None):
        raise InvalidParameterError(
            f"{caller}(): pool='probe' holds CIFAR-10 training images only; dataset={dataset!r}, split={split!r}"
            f"{', root=' + repr(str(root)) if root is not None else ''} needs pool='full'."
        )
    return pool


def _draw(
    spec: DatasetSpec, images, labels, pool, batch_size: int, seed: int, augment: bool, dev
) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(labels) if pool is None else len(pool), generator=g)[:batch_size].numpy()
    if pool is not None:
        idx = pool[idx]
    x_u8 = torch.from_numpy(images[idx])
    if augment:
        x_u8 = crop_flip(x_u8, spec.crop_padding, g)
    return normalize(x_u8, spec.name).to(dev), torch.from_numpy(labels[idx]).to(dev)
