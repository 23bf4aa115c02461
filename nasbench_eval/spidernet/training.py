"""Training pieces of Algorithm 2: data on the device, cutout, SGD with pruner gates, one epoch, test accuracy.

CIFAR-10 stays resident on the device as uint8 (style §1.2): all 50,000 training images (SpiderNet
trains on the full training set; no validation split is used) and the 10,000 test images. Every
batch is cropped and flipped by `DeviceSplit` (NB201's augmentation), normalised, then cut out here.
"""
from __future__ import annotations

import copy
import math
import time

import torch
import torch.nn.functional as F

from ..data import load_dataset
from ..device import resolve_device, seeded
from ..train.data import DeviceSplit, seeded_subset
from .model import EdgeId, SpiderNet, param_bytes
from .pruners import PrunerLog


def load_spidernet_data(*, n_train: int | None = None, n_test: int | None = None, subset_seed: int = 0,
                        device: str | torch.device | None = None, data_dir=None) -> tuple[DeviceSplit, DeviceSplit]:
    """CIFAR-10's training and test images, resident on `device`.

    Parameters
    ----------
    n_train, n_test : int, optional
        Keep only a seeded random subset (quick runs); None keeps all 50,000 / 10,000.
    subset_seed : int, default=0
        Picks the subsets.
    device : str or torch.device, optional
        Default: CUDA if available, else CPU.
    data_dir : path-like, optional
        See `nasbench_eval.paths`.

    Returns
    -------
    train, test : DeviceSplit
        uint8 images of shape (N, 32, 32, 3) and int64 labels (N,).
    """
    dev = resolve_device(device)
    splits = []
    for split, k, name in (("train", n_train, "n_train"), ("test", n_test, "n_test")):
        images, labels = load_dataset("cifar10", split, data_dir=data_dir)
        idx = seeded_subset(len(labels), k, subset_seed, name=name, caller="load_spidernet_data")
        if idx is not None:
            images, labels = images[idx], labels[idx]
        splits.append(DeviceSplit(images.to(dev), labels.to(dev), "cifar10"))
    return splits[0], splits[1]


def cutout(x: torch.Tensor, size: int, prob: float, generator: torch.Generator) -> torch.Tensor:
    """Cutout (DeVries & Taylor) on normalised images: a size x size square set to 0 (the dataset mean).

    Parameters
    ----------
    x : Tensor of shape (B, C, H, W)
        Normalised images; `generator` lives on x's device.
    size : int
        Side of the square in pixels (0: no cutout); it is centred on a uniformly random pixel and
        clipped at the border.
    prob : float
        Each image is cut out with this probability.
    generator : torch.Generator
        Draws the centres (y, then x) and which images are cut, in that order.

    Returns
    -------
    Tensor of shape (B, C, H, W)
    """
    if size == 0 or prob == 0:
        return x
    b, _, h, w = x.shape
    dev = x.device
    cy = torch.randint(0, h, (b, 1), generator=generator, device=dev) - size // 2
    cx = torch.randint(0, w, (b, 1), generator=generator, device=dev) - size // 2
    cut = torch.rand(b, generator=generator, device=dev) < prob
    rows, cols = torch.arange(h, device=dev), torch.arange(w, device=dev)
    in_y = (rows >= cy) & (rows < cy + size)                                   # (B, H)
    in_x = (cols >= cx) & (cols < cx + size)                                   # (B, W)
    mask = in_y[:, :, None] & in_x[:, None, :] & cut[:, None, None]            # (B, H, W)
    return x.masked_fill(mask[:, None], 0.0)


def set_pruners_trainable(model: SpiderNet, trainable: bool) -> None:
    """Let the gates learn, or freeze them at their current value (an "unpruned" run: gates stay on)."""
    for _, pruner in model.pruner_items():
        pruner.w.requires_grad_(trainable)


def make_optimizer(model: SpiderNet, *, lr: float, momentum: float, weight_decay: float,
                   pruner_lr: float | None = None) -> torch.optim.SGD:
    """SGD over two groups, weights then trainable gates, each ordered by parameter name.

    The name order makes the optimizer state of a model rebuilt from its graphs line up with the
    live one (resume). Each group keeps its peak lr as ``base_lr`` (see `set_lr_factor`).
    """
    gates = {id(p.w) for _, p in model.pruner_items()}
    named = sorted(model.named_parameters())
    weights = [p for _, p in named if id(p) not in gates]
    pruners = [p for _, p in named if id(p) in gates and p.requires_grad]
    plr = lr if pruner_lr is None else pruner_lr
    return torch.optim.SGD(
        [{"params": weights, "base_lr": lr, "lr": lr}, {"params": pruners, "base_lr": plr, "lr": plr}],
        lr=lr,
        momentum=momentum,
        weight_decay=weight_decay,
    )


def set_lr_factor(opt: torch.optim.Optimizer, factor: float) -> None:
    """lr of every group = factor · its base_lr."""
    for group in opt.param_groups:
        group["lr"] = factor * group["base_lr"]


def cosine_factor(epoch: int, epochs: int) -> float:
    """Cosine annealing from 1 (epoch 0) towards 0 over `epochs` epochs (torch's CosineAnnealingLR, eta_min=0)."""
    return (1 + math.cos(math.pi * epoch / epochs)) / 2


def drop_deleted_params(opt: torch.optim.Optimizer, model: SpiderNet) -> None:
    """Remove parameters no longer in `model` (deadheaded ops) and their momentum from `opt`; order is kept."""
    live = {id(p) for p in model.parameters()}
    for group in opt.param_groups:
        for p in group["params"]:
            if id(p) not in live:
                opt.state.pop(p, None)
        group["params"] = [p for p in group["params"] if id(p) in live]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_epoch(model: SpiderNet, opt: torch.optim.Optimizer, split: DeviceSplit, *, batch_size: int,
                generator: torch.Generator, cutout_size: int = 0, cutout_prob: float = 0.0,
                log: PrunerLog | None = None, clamp: float | None = None) -> dict:
    """One epoch of cross-entropy SGD on shuffled, augmented batches of `split`.

    Parameters
    ----------
    model, opt : SpiderNet, torch.optim.Optimizer
        Trained in place (train mode).
    split : DeviceSplit
        Batches are cropped and flipped (`DeviceSplit.batches`) then cut out, all from `generator`.
    log : PrunerLog, optional
        Receives, per batch, the on/off state every gate had in that batch's forward, then
        ``end_epoch()``. States are gathered on the device and copied once per epoch.
    clamp : float, optional
        After every step, every gate weight is clipped to [-clamp, clamp].

    Returns
    -------
    row : dict
        ``loss`` (mean cross-entropy), ``acc`` (percent), ``batches``, ``seconds``.
    """
    dev = split.device
    model.train()
    items = model.pruner_items()
    gates = [p.w for _, p in items]
    states = []
    loss_sum = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev, dtype=torch.int64)
    _sync(dev)
    start = time.perf_counter()
    for x, y in split.batches(batch_size, generator):
        x = cutout(x, cutout_size, cutout_prob, generator)
        if log is not None and gates:
            states.append(torch.stack([w.detach() for w in gates]) >= 0)
        out = model(x)
        loss = F.cross_entropy(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if clamp is not None:
            with torch.no_grad():
                for w in gates:
                    w.clamp_(-clamp, clamp)
        loss_sum += loss.detach() * len(y)
        correct += (out.argmax(1) == y).sum()
    opt.zero_grad(set_to_none=True)          # no stale gradients in copies made between epochs
    if log is not None:
        keys = [k for k, _ in items]
        for row in (torch.stack(states).cpu().tolist() if states else []):
            log.record(dict(zip(keys, row)))
        log.end_epoch()
    _sync(dev)
    n_batches = math.ceil(len(split) / batch_size)
    return {"loss": float(loss_sum) / len(split), "acc": 100.0 * int(correct) / len(split), "batches": n_batches,
            "seconds": time.perf_counter() - start}


@torch.no_grad()
def evaluate(model: SpiderNet, split: DeviceSplit, *, batch_size: int = 500) -> float:
    """Top-1 accuracy (percent) of `model` in eval mode on every image of `split`, no augmentation."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), device=split.device, dtype=torch.int64)
    for idx in torch.arange(len(split), device=split.device).split(batch_size):
        x, y = split.batch(idx)
        correct += (model(x).argmax(1) == y).sum()
    model.train(was_training)
    return 100.0 * int(correct) / len(split)


def measured_mutation_bytes(model: SpiderNet, edge: EdgeId, batch: tuple[torch.Tensor, torch.Tensor]) -> float:
    """s(M) + 2·s(e) measured on CUDA: peak memory of one training step of a mutated copy, plus its momentum.

    A deep copy of `model` is mutated at `edge` and runs forward + backward on `batch` (the training
    batch size); the result is the peak allocated bytes above what was allocated before the copy,
    plus the copy's parameter bytes again (SGD's momentum buffers). An out-of-memory error gives +inf.
    `model` and `batch` must be on a CUDA device (on CPU the driver uses `growth.mutation_bytes`).
    """
    x, y = batch
    dev = x.device
    _sync(dev)
    base = torch.cuda.memory_allocated(dev)
    torch.cuda.reset_peak_memory_stats(dev)
    trial = None
    try:
        with seeded(0, dev):                     # dropout and new modules: leave the caller's RNG alone
            trial = copy.deepcopy(model).train()
            trial.mutate(edge, seed=0)
            F.cross_entropy(trial(x), y).backward()
        _sync(dev)
        return float(torch.cuda.max_memory_allocated(dev) - base + param_bytes(trial))
    except torch.cuda.OutOfMemoryError:
        return math.inf
    finally:
        del trial
        torch.cuda.empty_cache()


__all__ = [
    "cosine_factor", "cutout", "drop_deleted_params", "evaluate", "load_spidernet_data", "make_optimizer",
    "measured_mutation_bytes", "set_lr_factor", "set_pruners_trainable", "train_epoch",
]
