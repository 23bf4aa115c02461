"""The Stage-1 training loop: one loop for every method, data resident on the device (style §1.2).

Randomness, all derived from `seed` and independent of everything that ran before:

* weights: ``Supernet(seed=seed)`` (drawn on the CPU, identical on any device);
* batch order and augmentation: a device generator seeded ``seed``;
* paths, alpha init and Gumbel noise: a device generator seeded ``seed + 1``;
* Dirichlet samples (torch has no generator argument there): the global RNG, forked and seeded ``seed + 2``
  for the duration of the run, so the caller's RNG state is untouched.

On CPU two runs with the same arguments give bit-identical weights; on CUDA that additionally
needs deterministic kernels (``scoring_numerics``), which the loop does not force.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .._validation import check_int, check_option
from ..data.specs import DATASET_SPECS, get_spec
from ..device import resolve_device, seeded
from ..exceptions import InvalidParameterError
from ..nets.supernet import SUBSPACES, Supernet
from .data import DeviceSplit, load_stage1_data
from .methods import METHODS, Stage1Method, cosine_lr

@dataclass
class Stage1Result:
    """A trained supernet and everything needed to save it (see `nasbench_eval.train.run.save_run`).

    Attributes
    ----------
    supernet : Supernet
    method : Stage1Method
    config : dict
        Method, dataset, seed, subspace, the complete hyper-parameters, data sizes, versions.
    curves : dict of str to list
        Per-epoch ``train_loss``, ``train_acc`` (percent), ``lr``, ``seconds`` and method schedules
        (``tau``, ``beta``), plus ``edge_probs`` (epochs x 6 x 5) for methods with alphas.
    """

    supernet: Supernet
    method: Stage1Method
    config: dict
    curves: dict = field(default_factory=dict)


def resolve_hparams(method: str, overrides: dict | None = None) -> dict:
    """A method's defaults updated with the non-None `overrides` (unknown keys are an error)."""
    check_option("method", method, METHODS, caller="train_stage1")
    hp = dict(METHODS[method].defaults)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in hp:
            raise InvalidParameterError(f"train_stage1(): hparam {key!r} is not used by method={method!r}; expected one of {sorted(hp)}.")
        hp[key] = value
    check_int("epochs", hp["epochs"], caller="train_stage1", minimum=1)
    check_int("batch_size", hp["batch_size"], caller="train_stage1", minimum=1)
    check_int("cells_per_stage", hp["cells_per_stage"], caller="train_stage1", minimum=1)
    check_int("C", hp["C"], caller="train_stage1", minimum=1)
    return hp


def space_ground_truth(space: str, dataset: str = "cifar10", *, bench=None, data_dir=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(benchmark indices, codes int[n, 6], 200-epoch test accuracy float[n]) of the archs of a subspace.

    The accuracy is on the test split of ``get_spec(dataset).full`` (spec §1.4).
    """
    from ..benchmarks import create_benchmark
    from ..metrics import benchmark_codes
    bench = bench if bench is not None else create_benchmark("nb201", data_dir=data_dir)
    codes = benchmark_codes(bench).astype(np.int64)
    keep = np.isin(codes, SUBSPACES[space]).all(axis=1)
    acc = np.asarray(bench.accuracies(get_spec(dataset, caller="space_ground_truth").full, "test_acc", 200))
    return np.flatnonzero(keep), codes[keep], acc[keep]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_stage1(method: str, *, seed: int = 0, dataset: str = "cifar10", space: str = "full", device=None,
                 hparams: dict | None = None, n_train: int | None = None, n_valid: int | None = None,
                 data: tuple[DeviceSplit, DeviceSplit] | None = None, ground_truth=None, data_dir=None,
                 progress: Callable[[int, dict], None] | None = None) -> Stage1Result:
    """Train a supernet with a Stage-1 method.

    Parameters
    ----------
    method : str
        A key of `METHODS` (``rsps``, ``rsps_biased``, ``darts``, ``darts_minus``, ``gdas``, ``snas``,
        ``drnas``, ``spos``).
    seed : int, default=0
    dataset : {"cifar10", "cifar100", "ImageNet16-120"}, default="cifar10"
        Training images split into train / valid halves (`load_stage1_data`).
    space : {"full", "no_none", "only_conv"}, default="full"
    device : str or torch.device, optional
    hparams : dict, optional
        Overrides of the method's defaults (``epochs``, ``batch_size``, ``lr``, ``cells_per_stage``, ``C``,
        ``tau_max``, ``bias_depth``, ``split_epoch``...); None values are ignored.
    n_train, n_valid : int, optional
        Use seeded subsets of the halves (quick runs, tests).
    data : (DeviceSplit, DeviceSplit), optional
        Preloaded halves (overrides `n_train`, `n_valid`, `dataset` loading).
    ground_truth : (codes, acc), optional
        Subspace ground truth for ``rsps_biased``; default read from the benchmark table.
    progress : callable(epoch, row), optional
        Called after every epoch with that epoch's curve values.

    Returns
    -------
    Stage1Result
    """
    hp = resolve_hparams(method, hparams)
    seed = check_int("seed", seed, caller="train_stage1", minimum=0, maximum=2**62)
    check_option("space", space, SUBSPACES, caller="train_stage1")
    check_option("dataset", dataset, DATASET_SPECS, caller="train_stage1")
    dev = resolve_device(device)
    train, valid = data if data is not None else load_stage1_data(dataset, n_train=n_train, n_valid=n_valid, device=dev, data_dir=data_dir)
    cls = METHODS[method]
    if cls.needs_ground_truth and ground_truth is None:
        ground_truth = space_ground_truth(space, dataset, data_dir=data_dir)[1:]
    net = Supernet(hp["C"], hp["cells_per_stage"], num_classes=get_spec(dataset).num_classes,
                   space=space, bias_depth=hp.get("bias_depth", 0), seed=seed).to(dev)
    with seeded(seed + 2, dev):
        m = cls(net, hp, generator=torch.Generator(device=dev).manual_seed(seed + 1), ground_truth=ground_truth)
        curves = _run_epochs(m, train, valid, hp, torch.Generator(device=dev).manual_seed(seed), dev, progress)
    config = {
        "method": method, "seed": seed, "dataset": dataset, "space": space, "hparams": hp,
        "num_classes": net.num_classes, "n_train": len(train), "n_valid": len(valid), "is_split": net.is_split,
        "device": str(dev), "torch": torch.__version__, "distribution_kind": cls.distribution_kind,
    }
    return Stage1Result(net, m, config, curves)


def _run_epochs(m: Stage1Method, train: DeviceSplit, valid: DeviceSplit, hp: dict, g: torch.Generator,
                dev: torch.device, progress) -> dict:
    curves: dict[str, list] = {"epoch": [], "lr": [], "train_loss": [], "train_acc": [], "seconds": []}
    valid_iter = valid.forever(hp["batch_size"], g) if m.needs_valid else None
    m.net.train()
    for epoch in range(hp["epochs"]):
        lr = cosine_lr(epoch, hp["epochs"], hp["lr"], hp["lr_min"])
        m.set_lr(lr)
        logged = m.epoch_start(epoch)
        _sync(dev)
        start = time.perf_counter()
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev, dtype=torch.int64)
        for batch in train.batches(hp["batch_size"], g):
            loss, n_ok = m.step(batch, next(valid_iter) if valid_iter is not None else None)
            loss_sum += loss * len(batch[1])
            correct += n_ok
        _sync(dev)
        row = {"epoch": epoch, "lr": lr, "train_loss": float(loss_sum) / len(train),
               "train_acc": 100.0 * int(correct) / len(train), "seconds": time.perf_counter() - start, **logged}
        if m.has_alphas:
            row["edge_probs"] = m.edge_probs().tolist()
        for key, value in row.items():
            curves.setdefault(key, []).append(value)
        if progress is not None:
            progress(epoch, row)
    return curves


__all__ = ["Stage1Result", "resolve_hparams", "space_ground_truth", "train_stage1"]
