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

import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .._json import dumps
from .._validation import check_int, check_option
from ..data.specs import DATASET_SPECS, get_spec
from ..device import resolve_device, seeded
from ..exceptions import CorruptDataError, InvalidParameterError, NasBenchEvalError
from ..nets.supernet import SUBSPACES, Supernet
from .data import DeviceSplit, load_stage1_data
from .methods import METHODS, Stage1Method, cosine_lr


class TrainingDivergedError(NasBenchEvalError, FloatingPointError):
    """The training loss became NaN or infinite: nothing worth saving was trained."""


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
            raise InvalidParameterError(
                f"train_stage1(): hparam {key!r} is not used by method={method!r}; expected one of {sorted(hp)}."
            )
        hp[key] = value
    check_int("epochs", hp["epochs"], caller="train_stage1", minimum=1)
    check_int("batch_size", hp["batch_size"], caller="train_stage1", minimum=1)
    check_int("cells_per_stage", hp["cells_per_stage"], caller="train_stage1", minimum=1)
    check_int("C", hp["C"], caller="train_stage1", minimum=1)
    if hp.get("split_epoch") is not None:  # a split at or after the last epoch would silently never happen
        check_int("split_epoch", hp["split_epoch"], caller="train_stage1", minimum=0, maximum=hp["epochs"] - 1)
    if isinstance(hp["lr"], bool) or not isinstance(hp["lr"], (int, float)) or not 0 < hp["lr"] < float("inf"):
        raise InvalidParameterError(f"train_stage1(): lr={hp['lr']!r} is not a positive finite number; "
                                    "expected e.g. 0.025.")
    return hp


def space_ground_truth(
    space: str, dataset: str = "cifar10", *, bench=None, data_dir=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
                 progress: Callable[[int, dict], None] | None = None,
                 checkpoint: str | os.PathLike | None = None) -> Stage1Result:
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
    checkpoint : path-like, optional
        A file written (atomically) after every epoch. If it exists and holds this run (same method, seed,
        dataset, subspace, hyper-parameters and data sizes), training resumes after its last epoch, and the
        result is the one an uninterrupted run gives (bit-identical on the CPU). A checkpoint of other
        settings is an error.

    Returns
    -------
    Stage1Result
    """
    hp = resolve_hparams(method, hparams)
    seed = check_int("seed", seed, caller="train_stage1", minimum=0, maximum=2**62)
    check_option("space", space, SUBSPACES, caller="train_stage1")
    check_option("dataset", dataset, DATASET_SPECS, caller="train_stage1")
    dev = resolve_device(device)
    train, valid = (
        data
        if data is not None
        else load_stage1_data(dataset, n_train=n_train, n_valid=n_valid, device=dev, data_dir=data_dir)
    )
    cls = METHODS[method]
    if cls.needs_ground_truth and ground_truth is None:
        ground_truth = space_ground_truth(space, dataset, data_dir=data_dir)[1:]
    net = Supernet(hp["C"], hp["cells_per_stage"], num_classes=get_spec(dataset).num_classes,
                   space=space, bias_depth=hp.get("bias_depth", 0), seed=seed).to(dev)
    identity = {"method": method, "seed": seed, "dataset": dataset, "space": space, "hparams": hp,
                "n_train": len(train), "n_valid": len(valid)}
    ckpt = None if checkpoint is None else Checkpoint(checkpoint, identity)
    with seeded(seed + 2, dev):
        m = cls(net, hp, generator=torch.Generator(device=dev).manual_seed(seed + 1), ground_truth=ground_truth)
        curves = _run_epochs(m, train, valid, hp, torch.Generator(device=dev).manual_seed(seed), dev, progress, ckpt)
    config = {
        "method": method, "seed": seed, "dataset": dataset, "space": space, "hparams": hp,
        "num_classes": net.num_classes, "n_train": len(train), "n_valid": len(valid), "is_split": net.is_split,
        "device": str(dev), "torch": torch.__version__, "distribution_kind": cls.distribution_kind,
    }
    return Stage1Result(net, m, config, curves)


class _BatchStream:
    """Shuffled batches epoch after epoch (the architecture steps of DARTS-style methods), as an object whose
    position can be saved in a checkpoint: each epoch's order is `DeviceSplit.epoch_order`, as in `batches`."""

    def __init__(self, split: DeviceSplit, batch_size: int, generator: torch.Generator):
        self.split, self.batch_size, self.g = split, batch_size, generator
        self.order: torch.Tensor | None = None
        self.pos = 0

    def __next__(self):
        chunks = None if self.order is None else self.order.split(self.batch_size)
        if chunks is None or self.pos == len(chunks):
            self.order, self.pos = self.split.epoch_order(self.g), 0
            chunks = self.order.split(self.batch_size)
        self.pos += 1
        return self.split.batch(chunks[self.pos - 1], self.g)

    def state(self) -> dict:
        return {"order": self.order, "pos": self.pos}

    def load(self, state: dict) -> None:
        self.order, self.pos = state["order"], state["pos"]


class Checkpoint:
    """One file holding the state after the last finished epoch of one Stage-1 run (see `train_stage1`)."""

    def __init__(self, path: str | os.PathLike, identity: dict):
        self.path = Path(path)
        self.identity = json.loads(dumps(identity))

    def load(self) -> dict | None:
        """The saved state, or None if there is none; another run's or a damaged file is an error."""
        if not self.path.is_file():
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                state = torch.load(self.path, map_location="cpu", weights_only=True)  # weights_only: runs no code
            saved = json.loads(state["identity"])
        except Exception as err:  # noqa: BLE001 -- torch raises RuntimeError, UnpicklingError, EOFError ...
            raise CorruptDataError(f"train_stage1(): checkpoint {str(self.path)!r} is damaged ({type(err).__name__}); "
                                   "delete it to train from the start.") from None
        if saved != self.identity:
            diff = sorted(k for k in set(saved) | set(self.identity) if saved.get(k) != self.identity.get(k))
            raise InvalidParameterError(f"train_stage1(): checkpoint {str(self.path)!r} belongs to a run with other "
                                        f"{diff}; expected the same settings (to resume) or another output folder.")
        return state

    def save(self, state: dict) -> None:
        """Write `state` (plus this run's identity) to a temporary file, then rename it into place."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".partial")
        torch.save({**state, "identity": json.dumps(self.identity, sort_keys=True)}, tmp)
        os.replace(tmp, self.path)


def _run_epochs(m: Stage1Method, train: DeviceSplit, valid: DeviceSplit, hp: dict, g: torch.Generator,
                dev: torch.device, progress, ckpt: Checkpoint | None = None) -> dict:
    curves: dict[str, list] = {"epoch": [], "lr": [], "train_loss": [], "train_acc": [], "seconds": []}
    valid_iter = _BatchStream(valid, hp["batch_size"], g) if m.needs_valid else None
    start = 0
    state = None if ckpt is None else ckpt.load()
    if state is not None:
        start, curves = _restore(state, m, g, valid_iter, dev)
    m.net.train()
    for epoch in range(start, hp["epochs"]):
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
        if not torch.isfinite(loss_sum):
            raise TrainingDivergedError(f"train_stage1(): the training loss became {float(loss_sum)} in epoch {epoch} "
                                        f"(lr {lr:g}); the run diverged. Expected a finite loss: lower the lr or "
                                        "check the data.")
        row = {"epoch": epoch, "lr": lr, "train_loss": float(loss_sum) / len(train),
               "train_acc": 100.0 * int(correct) / len(train), "seconds": time.perf_counter() - start, **logged}
        if m.has_alphas:
            row["edge_probs"] = m.edge_probs().tolist()
        for key, value in row.items():
            curves.setdefault(key, []).append(value)
        if ckpt is not None:
            ckpt.save(_snapshot(epoch + 1, curves, m, g, valid_iter, dev))
        if progress is not None:
            progress(epoch, row)
    return curves


def _snapshot(epochs_done: int, curves: dict, m: Stage1Method, g: torch.Generator, valid_iter, dev) -> dict:
    return {"epochs_done": epochs_done, "curves": json.dumps(curves), "method": m.state_dict(),
            "batch_generator": g.get_state(), "valid": None if valid_iter is None else valid_iter.state(),
            "rng": torch.get_rng_state(), "cuda_rng": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None}


def _restore(state: dict, m: Stage1Method, g: torch.Generator, valid_iter, dev) -> tuple[int, dict]:
    """Load a `_snapshot` into the method, generators and global RNG; returns (next epoch, curves so far)."""
    m.load_state_dict(state["method"])
    g.set_state(state["batch_generator"])
    if valid_iter is not None:
        valid_iter.load(state["valid"])
    torch.set_rng_state(state["rng"])
    if dev.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"], dev)
    return state["epochs_done"], json.loads(state["curves"])


__all__ = ["Checkpoint", "Stage1Result", "TrainingDivergedError", "resolve_hparams", "space_ground_truth",
           "train_stage1"]
