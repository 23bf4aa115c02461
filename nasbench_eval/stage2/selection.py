"""Stage-2 selectors: pick one architecture from a Stage-1 run ([PUP] §4.2, spec §7).

Selectors (`SELECTORS`), each ``f(run, *, seed, ...) -> Stage2Result``:

* ``prune`` -- the argmax of each edge's learned distribution within the run's subspace (needs
  architecture parameters; ties -> the first op in OPS order);
* ``valid`` -- draw `n_samples` architectures with replacement from the run's distribution
  (`stage2_distribution`), rank them by supernet validation accuracy after BatchNorm
  recalibration (`predict_accuracies`), select the argmax;
* ``synflow``, ``jacob_cov`` -- the same draws ranked by the zero-cost score of the path network
  extracted with the supernet's weights (`Supernet.extract`, `compute_proxy`);
* ``perturb`` -- DARTS-PT's perturbation-based selection on the mixed supernet: for a random
  remaining edge, mask each remaining op in turn (its weight set to 0, the others unchanged),
  measure validation accuracy, keep the op whose removal hurts most (lowest accuracy; ties -> the
  first) and fix the edge to it (weight 1), until every edge has one op. Optionally
  (``finetune_epochs`` > 0, off by default) DARTS-PT's fine-tuning between edge decisions: after
  each decision but the last, the shared weights of a *copy* of the supernet train for that many
  epochs on the train half with the current mixed edge weights (SGD restarted at DARTS-PT's
  ``lr / 10``; the architecture mixture itself is not trained, unlike DARTS-PT).

Sample-and-rank selection follows spec §7.2: ties -> the earliest draw, NaN scores skipped, all NaN
-> no selection (``arch`` None). Each distinct drawn architecture is scored once (scores are
deterministic), so duplicates cost nothing.

The four baseline supernets of spec §7.1 (`baseline_run`): ``R_I`` / ``R_U`` are an
``rsps_biased`` run with the idealised biased sampler / the uniform distribution; ``N_I`` / ``N_U``
are a freshly initialised supernet of the same shape with the biased sampler / the softmax of
``1e-3 * randn`` architecture parameters ([PUP]'s code; practically uniform).

All randomness comes from `seed`: draws ``numpy.random.default_rng(seed)``, perturb's edge order
``default_rng(seed)``, BN / evaluation / proxy batches ``seed``, fine-tuning batches a generator
seeded ``seed``.
"""
from __future__ import annotations

import copy
import functools
import inspect
import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_int, check_option
from ..data.specs import FULL_DATASETS
from ..exceptions import InvalidParameterError
from ..metrics import arch_probs, biased_sampler_probs, regret, select_argmax
from ..nets.supernet import SUBSPACES, Supernet
from ..registry import Registry
from ..space import EDGES, OPS, Arch
from ..train.data import DeviceSplit, evaluation_batches, load_stage1_data
from ..train.evaluate import predict_accuracies
from ..train.loop import space_ground_truth
from ..train.methods import PUP_DEFAULTS
from ..train.run import LoadedRun

PROXY_SELECTORS = ("synflow", "jacob_cov")
SAMPLING_SELECTORS = ("valid", *PROXY_SELECTORS)
BASELINES = ("R_I", "R_U", "N_I", "N_U")


@dataclass
class Stage2Result:
    """One Stage-2 selection.

    Attributes
    ----------
    selector : str
    arch : Arch or None
        The selected architecture; None when every score was NaN (spec §7.2).
    trajectory : dict
        How it was reached. Sampling selectors: ``draws`` (codes in draw order), ``scores`` (one per
        draw), ``selected_draw``. ``prune``: ``edge_probs`` (6 x k, the subspace columns).
        ``perturb``: ``edge_order`` and ``steps`` (per edge: ``edge``, ``ops``, ``accuracy_without``
        each op, ``kept``).
    seconds : float
        Wall time of the selection (data loading excluded).
    """

    selector: str
    arch: Arch | None
    trajectory: dict = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Stage2Data:
    """Batches the selectors use, all on the supernet's device.

    Attributes
    ----------
    valid : list of (x, y)
        Fixed valid-half batches for accuracies (``valid``, ``perturb``).
    bn : list of (x, y) or None
        Augmented train-half batches for BN recalibration (``valid``); None skips it.
    proxy : (x, y)
        One train-half batch for the zero-cost proxies.
    train : DeviceSplit or None
        The train half, for perturb's optional fine-tuning; None disables fine-tuning.
    """

    valid: list
    bn: list | None
    proxy: tuple
    train: DeviceSplit | None = None


def make_stage2_data(
    train: DeviceSplit,
    valid: DeviceSplit,
    *,
    seed: int = 0,
    batch_size: int = 256,
    n_eval: int = 5000,
    bn_batches: int = 20,
    proxy_batch: int = 64,
) -> Stage2Data:
    """Fixed, seeded batches from the two halves: valid and BN batches from `evaluation_batches`, as `evaluate_runs`.

    Parameters
    ----------
    train, valid : DeviceSplit
    seed : int, default=0
    batch_size : int, default=256
        Capped at the split sizes.
    n_eval : int, default=5000
        Valid-half images per accuracy (capped at the half).
    bn_batches : int, default=20
        Recalibration passes per architecture ([LZ]: 20); 0 disables.
    proxy_batch : int, default=64
        Images of the proxy batch.
    """
    caller = "make_stage2_data"
    seed = check_int("seed", seed, caller=caller, minimum=0)
    n_eval = check_int("n_eval", n_eval, caller=caller, minimum=1)
    batch_size = check_int("batch_size", batch_size, caller=caller, minimum=1)
    bn_batches = check_int("bn_batches", bn_batches, caller=caller, minimum=0)
    proxy_batch = min(check_int("proxy_batch", proxy_batch, caller=caller, minimum=1), len(train))
    batches = evaluation_batches(train, valid, seed=seed, batch_size=batch_size, n_eval=n_eval, bn_batches=bn_batches)
    return Stage2Data(batches.valid, batches.bn, train.fixed_batches(proxy_batch, 1, seed=seed + 1)[0], train)


def _device(run: LoadedRun) -> torch.device:
    return next(run.supernet.parameters()).device


def _default_data(run: LoadedRun, data_dir=None) -> Stage2Data:
    train, valid = load_stage1_data(run.config["dataset"], device=_device(run), data_dir=data_dir)
    return make_stage2_data(train, valid)


# ----------------------------------------------------------------------------------------- distributions
def subspace_codes(space: str) -> np.ndarray:
    """int64[k**6, 6]: every architecture of a subspace in product order (edge 0 slowest)."""
    ops = SUBSPACES[check_option("space", space, SUBSPACES, caller="subspace_codes")]
    return np.array(list(itertools.product(ops, repeat=len(EDGES))), dtype=np.int64)


def stage2_distribution(run: LoadedRun, *, ground_truth=None, data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """The architecture distribution Stage-2 samples from: (codes int64[n, 6], probabilities float64[n]).

    Runs whose ``config["distribution_kind"]`` is ``"biased"`` use the idealised biased sampler of
    spec §6 over the subspace's ground truth; all others the product of ``run.edge_probs``.

    Parameters
    ----------
    run : LoadedRun
    ground_truth : (codes, acc), optional
        Subspace ground truth for the biased sampler; default `space_ground_truth` of the run.
    data_dir : path-like, optional
    """
    if run.config.get("distribution_kind") == "biased":
        if ground_truth is None:
            ground_truth = space_ground_truth(run.config["space"], run.config["dataset"], data_dir=data_dir)[1:]
        codes, acc = ground_truth
        return np.asarray(codes, dtype=np.int64), biased_sampler_probs(acc)
    codes = subspace_codes(run.config["space"])
    return codes, arch_probs(run.edge_probs, codes)


def draw_archs(codes: np.ndarray, probs: np.ndarray, n: int, *, seed: int) -> np.ndarray:
    """`n` codes drawn with replacement, ``default_rng(seed).choice(len(codes), n, p=probs)`` (spec §6.1)."""
    rng = np.random.default_rng(check_int("seed", seed, caller="draw_archs", minimum=0))
    p = np.asarray(probs, dtype=np.float64)
    pick = rng.choice(
        len(codes), size=check_int("n_samples", n, caller="draw_archs", minimum=1), replace=True, p=p / p.sum()
    )
    return np.asarray(codes)[pick]


# ----------------------------------------------------------------------------------------- sample and rank
def score_valid(run: LoadedRun, codes: np.ndarray, data: Stage2Data) -> np.ndarray:
    """Supernet validation accuracy (percent) of each code, BN recalibrated per arch."""
    return predict_accuracies(
        run.supernet, [tuple(int(c) for c in row) for row in codes], data.valid, bn_batches=data.bn
    )


def score_proxy(name: str, run: LoadedRun, codes: np.ndarray, data: Stage2Data, *, seed: int = 0) -> np.ndarray:
    """Zero-cost score `name` of each code's path network carrying the supernet's weights."""
    from ..proxies import compute_proxy
    dev = _device(run)
    out = np.empty(len(codes))
    for i, row in enumerate(codes):
        net = run.supernet.extract(Arch.from_code(row))
        out[i] = compute_proxy(name, net, data.proxy, device=dev, seed=seed)
    return out


def _score_unique(score: Callable[[np.ndarray], np.ndarray], draws: np.ndarray) -> np.ndarray:
    unique, inverse = np.unique(draws, axis=0, return_inverse=True)
    return score(unique)[inverse.reshape(-1)]


def select_sampled(
    selector: str,
    run: LoadedRun,
    *,
    seed: int = 0,
    n_samples: int = 100,
    data: Stage2Data | None = None,
    ground_truth=None,
    data_dir=None,
) -> Stage2Result:
    """``valid`` / ``synflow`` / ``jacob_cov``: draw, score, select the argmax (module docstring).

    Parameters
    ----------
    selector : {"valid", "synflow", "jacob_cov"}
    run : LoadedRun
    seed : int, default=0
        Seeds the draws and the proxies.
    n_samples : int, default=100
        Draws with replacement ([PUP]: 100).
    data : Stage2Data, optional
        Default: `make_stage2_data` on the run's dataset halves.
    ground_truth, data_dir
        See `stage2_distribution`.

    Returns
    -------
    Stage2Result
    """
    check_option("selector", selector, SAMPLING_SELECTORS, caller="select_sampled")
    codes, probs = stage2_distribution(run, ground_truth=ground_truth, data_dir=data_dir)
    draws = draw_archs(codes, probs, n_samples, seed=seed)
    data = data if data is not None else _default_data(run, data_dir)
    t0 = time.perf_counter()
    if selector == "valid":
        scores = _score_unique(lambda c: score_valid(run, c, data), draws)
    else:
        scores = _score_unique(lambda c: score_proxy(selector, run, c, data, seed=seed), draws)
    best = None if np.isnan(scores).all() else select_argmax(scores)
    arch = None if best is None else Arch.from_code(draws[best])
    traj = {"draws": draws.tolist(), "scores": scores.tolist(), "selected_draw": best}
    return Stage2Result(selector, arch, traj, time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------- prune
def select_prune(run: LoadedRun) -> Stage2Result:
    """Argmax of each edge's learned distribution over the run's subspace ops (ties -> the first)."""
    if run.alphas is None:
        raise InvalidParameterError(
            f"select_prune(): run method={run.config.get('method')!r} has no architecture parameters; "
            "expected a run of a method with alphas (darts, darts_minus, gdas, snas, drnas)."
        )
    t0 = time.perf_counter()
    ops = list(SUBSPACES[run.config["space"]])
    probs = np.asarray(run.edge_probs)[:, ops]
    arch = Arch.from_code([ops[j] for j in probs.argmax(axis=1)])
    return Stage2Result("prune", arch, {"edge_probs": probs.tolist()}, time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------- perturb
def mixed_accuracy(
    supernet: Supernet, weights: torch.Tensor, batches: Sequence[tuple[torch.Tensor, torch.Tensor]]
) -> float:
    """Top-1 accuracy (percent) of the supernet in eval mode with mixed edge weights (6, k)."""
    was_training = supernet.training
    supernet.eval()
    try:
        with torch.no_grad():
            correct = sum(int((supernet(x, weights=weights).argmax(1) == y).sum()) for x, y in batches)
    finally:
        supernet.train(was_training)
    return 100.0 * correct / sum(len(y) for _, y in batches)


def _perturb_edge(net: Supernet, w: torch.Tensor, e: int, batches) -> dict:
    cols = [j for j in range(net.k) if w[e, j] != 0]
    accs = []
    for j in cols:
        masked = w.clone()
        masked[e, j] = 0.0
        accs.append(mixed_accuracy(net, masked, batches))
    kept = cols[int(np.argmin(accs))]
    w[e] = 0.0
    w[e, kept] = 1.0
    return {"edge": e, "ops": [net.ops[j] for j in cols], "accuracy_without": accs, "kept": net.ops[kept]}


def finetune_mixed(supernet: Supernet, weights: torch.Tensor, train: DeviceSplit, *, epochs: int,
                   optimizer: torch.optim.Optimizer, batch_size: int, generator: torch.Generator,
                   grad_clip: float | None = None) -> float:
    """Train the shared weights for `epochs` passes over `train` with fixed mixed edge weights (6, k).

    Batches are shuffled and augmented by `generator`; the supernet is left in eval mode.

    Returns
    -------
    loss : float
        Mean training cross-entropy over the passes.
    """
    total, seen = 0.0, 0
    supernet.train()
    try:
        for _ in range(epochs):
            for x, y in train.batches(batch_size, generator):
                loss = F.cross_entropy(supernet(x, weights=weights), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if grad_clip:
                    nn.utils.clip_grad_norm_(supernet.parameters(), grad_clip)
                optimizer.step()
                total, seen = total + loss.item() * len(y), seen + len(y)
    finally:
        supernet.eval()
    return total / seen


def _finetuner(run: LoadedRun, net: Supernet, data: Stage2Data, *, epochs: int, lr: float | None, seed: int):
    """``tune(w) -> loss``: DARTS-PT's fine-tuning of `net` (a copy) with a fresh SGD at ``lr`` (default Stage-1 lr /
    10)."""
    if data.train is None:
        raise InvalidParameterError(f"select_perturb(): finetune_epochs={epochs} but data.train is None; "
                                    "expected Stage2Data from make_stage2_data (it keeps the train half).")
    hp = {**PUP_DEFAULTS, **run.config.get("hparams", {})}
    lr = hp["lr"] / 10 if lr is None else lr
    if not lr > 0:
        raise InvalidParameterError(
            f"select_perturb(): finetune_lr={lr!r} is not positive; expected a learning rate > 0."
        )
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=hp["momentum"], weight_decay=hp["weight_decay"])
    g = torch.Generator(device=data.train.device).manual_seed(seed)
    bs = min(hp["batch_size"], len(data.train))
    info = {"epochs": epochs, "lr": lr, "batch_size": bs}
    return info, lambda w: finetune_mixed(net, w, data.train, epochs=epochs, optimizer=opt, batch_size=bs,
                                          generator=g, grad_clip=hp["grad_clip"])


def select_perturb(run: LoadedRun, *, seed: int = 0, data: Stage2Data | None = None, data_dir=None,
                   finetune_epochs: int = 0, finetune_lr: float | None = None) -> Stage2Result:
    """DARTS-PT perturbation-based selection on the mixed supernet (module docstring).

    The mixture starts from ``run.edge_probs`` (subspace columns); ops with probability 0 count as
    already removed. The caller's supernet (weights and BN statistics) is never changed: with
    fine-tuning the selection works on a deep copy.

    Parameters
    ----------
    run : LoadedRun
        Without bias or split weights (they have no mixed forward).
    seed : int, default=0
        Edge order and fine-tuning batches.
    data : Stage2Data, optional
        Default: `make_stage2_data` on the run's dataset halves.
    finetune_epochs : int, default=0
        Passes over the train half after each edge decision but the last (DARTS-PT: 5); 0 = none.
    finetune_lr : float, optional
        SGD learning rate of the fine-tuning; default the run's Stage-1 ``lr / 10`` (DARTS-PT).

    Returns
    -------
    Stage2Result
        Trajectory ``edge_order``, ``steps`` (with ``finetune_loss`` after fine-tuned decisions)
        and ``finetune`` (epochs, lr, batch size; None without fine-tuning).
    """
    caller = "select_perturb"
    seed = check_int("seed", seed, caller=caller, minimum=0)
    finetune_epochs = check_int("finetune_epochs", finetune_epochs, caller=caller, minimum=0)
    if run.supernet.bias_depth or run.supernet.is_split:
        raise InvalidParameterError(
            "select_perturb(): the run has bias or split weights; expected a supernet that supports mixed weights."
        )
    data = data if data is not None else _default_data(run, data_dir)
    net, info, tune = run.supernet, None, None
    if finetune_epochs:
        net = copy.deepcopy(run.supernet)
        info, tune = _finetuner(run, net, data, epochs=finetune_epochs, lr=finetune_lr, seed=seed)
    t0 = time.perf_counter()
    w = torch.tensor(np.asarray(run.edge_probs)[:, list(net.op_indices)], dtype=torch.float32, device=_device(run))
    order = np.random.default_rng(seed).permutation(len(EDGES))
    steps = []
    for i, e in enumerate(order):
        steps.append(_perturb_edge(net, w, int(e), data.valid))
        if tune is not None and i < len(order) - 1:
            steps[-1]["finetune_loss"] = tune(w)
    arch = Arch.from_code([net.op_indices[int(j)] for j in w.argmax(1)])
    traj = {"edge_order": order.tolist(), "steps": steps, "finetune": info}
    return Stage2Result("perturb", arch, traj, time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------- registry
SELECTOR_KEYWORDS = ("seed", "n_samples", "data", "ground_truth", "data_dir", "finetune_epochs", "finetune_lr")
"""The keywords every selector accepts; one it does not use is ignored, any other keyword is an error."""


def _selector(name: str, fn: Callable[..., Stage2Result]) -> Callable[..., Stage2Result]:
    """`fn` behind the one selector interface: ``f(run, **keywords of SELECTOR_KEYWORDS)``."""
    used = set(inspect.signature(fn).parameters)

    def select(run: LoadedRun, **kwargs) -> Stage2Result:
        unknown = [k for k in kwargs if k not in SELECTOR_KEYWORDS]
        if unknown:
            raise InvalidParameterError(f"{name} selector: keyword {unknown[0]!r} is not a selector option; "
                                        f"expected some of {list(SELECTOR_KEYWORDS)}.")
        return fn(run, **{k: v for k, v in kwargs.items() if k in used})
    select.__doc__ = fn.__doc__
    return select


SELECTORS = Registry("selector", "selectors")
"""Selector name -> ``f(run, *, seed, n_samples, data, ground_truth, data_dir, finetune_epochs, finetune_lr)
-> Stage2Result`` (`SELECTOR_KEYWORDS`: a keyword a selector does not use is ignored, an unknown one raises
InvalidParameterError)."""
SELECTORS.add("prune", _selector("prune", select_prune))
for _name in SAMPLING_SELECTORS:
    SELECTORS.add(_name, _selector(_name, functools.partial(select_sampled, _name)),
                  description=f"``{_name}`` selector: `select_sampled` with selector={_name!r}.")
SELECTORS.add("perturb", _selector("perturb", select_perturb))


def run_selector(selector: str, run: LoadedRun, **kwargs) -> Stage2Result:
    """Run the selector named `selector` (a key of `SELECTORS`) on `run`; `kwargs` from `SELECTOR_KEYWORDS`."""
    return SELECTORS[check_option("selector", selector, SELECTORS, caller="run_selector")](run, **kwargs)


# ----------------------------------------------------------------------------------------- ground truth
def selection_truth(
    arch: Arch | None, *, bench, space_truth: tuple[np.ndarray, np.ndarray], round_to: int | None = None
) -> dict:
    """Benchmark facts of a selected architecture (spec §10.1).

    Parameters
    ----------
    arch : Arch or None
        The selection; None (no selection) gives NaN everywhere.
    bench : Benchmark
    space_truth : (codes int[n, 6], acc float[n])
        Ground truth of the searched subspace on the run's dataset (``space_ground_truth(...)[1:]``).
    round_to : int, optional
        Regret from accuracies rounded to this many decimals ([PUP]'s tables: 2).

    Returns
    -------
    dict
        ``index`` (benchmark index), ``arch`` (string), ``test_acc`` (percent, 200 epochs, per
        dataset of `FULL_DATASETS`), ``regret`` (accuracy points below the subspace's best).
    """
    if arch is None:
        return {"index": None, "arch": None, "test_acc": dict.fromkeys(FULL_DATASETS, math.nan), "regret": math.nan}
    index = bench.index_of(arch)
    acc = {d: bench.query(index, dataset=d, metric="test_acc", epochs=200) for d in FULL_DATASETS}
    codes, space_acc = space_truth
    pos = int(np.flatnonzero((np.asarray(codes) == np.asarray(arch.code)).all(axis=1))[0])
    return {"index": index, "arch": str(arch), "test_acc": acc, "regret": regret(space_acc, pos, round_to=round_to)}


# ----------------------------------------------------------------------------------------- baselines
def _uniform_ish(run: LoadedRun, seed: int) -> np.ndarray:
    """Per-edge softmax of ``1e-3 * randn`` over the subspace ops, 0 elsewhere ([PUP]'s untrained alphas)."""
    ops = list(SUBSPACES[run.config["space"]])
    logits = 1e-3 * np.random.default_rng(seed).standard_normal((len(EDGES), len(ops)))
    p = np.exp(logits - logits.max(1, keepdims=True))
    out = np.zeros((len(EDGES), len(OPS)))
    out[:, ops] = p / p.sum(1, keepdims=True)
    return out


def baseline_run(name: str, run: LoadedRun, *, seed: int = 0) -> LoadedRun:
    """One of spec §7.1's four baseline supernets, built from an ``rsps_biased`` run.

    Parameters
    ----------
    name : {"R_I", "R_U", "N_I", "N_U"}
    run : LoadedRun
        The RSPS run trained with the biased sampler (its weights give ``R_*``, its shape ``N_*``).
    seed : int, default=0
        Seeds the untrained weights and the ``N_U`` alphas.

    Returns
    -------
    LoadedRun
        Same path and curves; ``config["baseline"]`` set, ``distribution_kind`` ``"biased"`` for
        ``*_I`` and ``"uniform"`` otherwise, ``alphas`` None.
    """
    check_option("name", name, BASELINES, caller="baseline_run")
    seed = check_int("seed", seed, caller="baseline_run", minimum=0)
    if run.config.get("method") != "rsps_biased":
        raise InvalidParameterError(f"baseline_run(): run method={run.config.get('method')!r} is not 'rsps_biased'; "
                                    "expected the RSPS supernet trained with the biased sampler (spec §7.1).")
    net = run.supernet
    if name.startswith("N"):
        fresh = Supernet(
            net.C, net.N, num_classes=net.num_classes, space=net.space, bias_depth=net.bias_depth, seed=seed
        )
        net = fresh.to(_device(run)).eval()
    k = len(SUBSPACES[run.config["space"]])
    ops = list(SUBSPACES[run.config["space"]])
    probs = np.zeros((len(EDGES), len(OPS)))
    probs[:, ops] = 1.0 / k
    if name == "N_U":
        probs = _uniform_ish(run, seed)
    kind = "biased" if name.endswith("I") else "uniform"
    cfg = {**run.config, "baseline": name, "distribution_kind": kind}
    return replace(run, supernet=net, config=cfg, edge_probs=probs, alphas=None)


__all__ = [
    "BASELINES",
    "PROXY_SELECTORS",
    "SAMPLING_SELECTORS",
    "SELECTORS",
    "SELECTOR_KEYWORDS",
    "Stage2Data",
    "Stage2Result",
    "baseline_run",
    "draw_archs",
    "finetune_mixed",
    "make_stage2_data",
    "mixed_accuracy",
    "run_selector",
    "score_proxy",
    "score_valid",
    "select_perturb",
    "select_prune",
    "select_sampled",
    "selection_truth",
    "stage2_distribution",
    "subspace_codes",
]
