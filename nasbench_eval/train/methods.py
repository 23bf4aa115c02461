"""Stage-1 methods: small classes over one `Supernet` and one training loop ([PUP] §4.1, [LZ] §3).

Each method owns the weight optimizer, its architecture parameters (if any) and what one training
step does; `nasbench_eval.train.loop.train_stage1` drives them. Names (registry keys, fixed for good):

==============  =================================================================================
``rsps``        Random search with parameter sharing: a uniformly random path per batch.
``rsps_biased`` RSPS whose path is drawn from the idealised biased sampler over ground truth
                (spec §6; [PUP]'s ``rsps+``).
``darts``       First-order DARTS: alpha (6 x k) softmax-mixes the ops; alpha steps on the valid half.
``darts_minus`` DARTS- : DARTS plus an auxiliary skip ``beta * x`` on every edge, beta decaying 1 -> 0.
``gdas``        GDAS: hard Gumbel-softmax sample, straight-through; only the sampled op runs.
``snas``        SNAS: relaxed Gumbel-softmax (soft) weights.
``drnas``       DrNAS: op weights sampled from Dirichlet(elu(theta) + 1) (reparameterised).
``spos``        Single-path one-shot with [LZ]'s Table 5 schedule; options ``bias_depth`` (D = 1..3,
                bias weights) and ``split_epoch`` (split weights by the previous choice).
==============  =================================================================================

Hyper-parameters: [PUP]'s code (DARTS-PT's NB201 defaults) for every method but SPOS -- SGD lr
0.025 cosine to 0.001, momentum 0.9, weight decay 3e-4, gradient clipping 5, batch 64, 100 epochs,
architecture Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3, alpha init 1e-3 N(0, 1), Gumbel
temperature linear from 10 to 0.1 over the epochs. SPOS: [LZ] Table 5 -- lr 0.025 cosine to 1e-5,
weight decay 3e-4 not on BatchNorm (nor on bias tables), no clipping, batch 256, 250 epochs, 2 cells
per stage. Every value can be overridden; the run's config records the values used.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_option
from ..exceptions import InvalidParameterError
from ..metrics import biased_sampler_probs
from ..nets.supernet import Supernet
from ..registry import Registry
from ..space import OPS

PUP_DEFAULTS = {
    "epochs": 100, "batch_size": 64, "lr": 0.025, "lr_min": 0.001, "momentum": 0.9, "weight_decay": 3e-4,
    "wd_on_bn": True, "grad_clip": 5.0, "cells_per_stage": 5, "C": 16,
}
"""[PUP] ``train_search.py`` defaults (shared by all its Stage-1 methods)."""

ARCH_DEFAULTS = {
    "arch_lr": 3e-4,
    "arch_beta1": 0.5,
    "arch_beta2": 0.999,
    "arch_weight_decay": 1e-3,
    "alpha_init_std": 1e-3,
}
"""DARTS-style architecture optimizer (Adam) and alpha initialisation."""

GUMBEL_DEFAULTS = {"tau_max": 10.0, "tau_min": 0.1}
"""Temperature falls linearly by (tau_min - tau_max) / epochs after every epoch ([PUP] code)."""

SPOS_DEFAULTS = {
    "epochs": 250, "batch_size": 256, "lr": 0.025, "lr_min": 1e-5, "momentum": 0.9, "weight_decay": 3e-4,
    "wd_on_bn": False, "grad_clip": None, "cells_per_stage": 2, "C": 16, "bias_depth": 0, "split_epoch": None,
}
"""[LZ] Table 5 (NB201 super-network) and §3.1.1 (two cells per stage)."""


class Stage1Method:
    """Base class: single-path training with a weight optimizer; subclasses change how paths / weights are chosen.

    Parameters
    ----------
    supernet : Supernet
        Already on its device.
    hp : dict
        Complete hyper-parameters (defaults merged with overrides).
    generator : torch.Generator
        On the supernet's device; draws paths and Gumbel noise.
    ground_truth : tuple (codes, acc), optional
        ``codes`` int[n, 6] (OPS indices) and ``acc`` float[n] of the architectures of the space;
        needed by methods with ``needs_ground_truth``.
    """

    name = "base"
    defaults = PUP_DEFAULTS
    has_alphas = False
    needs_valid = False
    needs_ground_truth = False
    distribution_kind = "uniform"

    def __init__(self, supernet: Supernet, hp: dict, *, generator: torch.Generator, ground_truth=None):
        self.net, self.hp, self.generator = supernet, hp, generator
        self.device = next(supernet.parameters()).device
        self.epochs = hp["epochs"]
        self.optimizer = self._weight_optimizer()

    # ----------------------------------------------------------------------------------- optimisers
    def _weight_optimizer(self) -> torch.optim.Optimizer:
        decay, no_decay = [], []
        for name, p in self.net.named_parameters():
            is_bn_like = p.ndim <= 1 or name.endswith(".bias") and "edges" in name and p.ndim == 2
            (no_decay if is_bn_like and not self.hp["wd_on_bn"] else decay).append(p)
        groups = [{"params": decay, "weight_decay": self.hp["weight_decay"]}]
        if no_decay:
            groups.append({"params": no_decay, "weight_decay": 0.0})
        return torch.optim.SGD(groups, lr=self.hp["lr"], momentum=self.hp["momentum"])

    def set_lr(self, lr: float) -> None:
        """Learning rate of the shared weights for the coming epoch."""
        for g in self.optimizer.param_groups:
            g["lr"] = lr

    def epoch_start(self, epoch: int) -> dict:
        """Update schedules before epoch `epoch` (0-based); returns the values to log."""
        return {}

    # ----------------------------------------------------------------------------------- training
    def sample_path(self) -> tuple[int, ...]:
        """Op code (OPS indices) of the path of the next batch: uniform per edge over the subspace."""
        cols = torch.randint(0, self.net.k, (6,), generator=self.generator, device=self.device).tolist()
        return tuple(self.net.op_indices[c] for c in cols)

    def _weight_update(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.hp["grad_clip"]:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.hp["grad_clip"])
        self.optimizer.step()

    def step(self, batch, valid_batch=None) -> tuple[float, int]:
        """One training step on `batch` = (x, y); returns (loss, number of correct predictions)."""
        x, y = batch
        logits = self.net(x, self.sample_path())
        loss = F.cross_entropy(logits, y)
        self._weight_update(loss)
        return loss.detach(), (logits.detach().argmax(1) == y).sum()

    # ----------------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """What a resumed run needs besides the schedules (which follow from the epoch): weights, optimizer
        state, architecture tensors and the path generator."""
        return {"net": self.net.state_dict(), "is_split": self.net.is_split, "optimizer": self.optimizer.state_dict(),
                "arch": self.arch_parameters(), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()` (split weights are split first, so the optimizer sees the same parameters)."""
        if state["is_split"] and not self.net.is_split:
            self.net.split()
            self.optimizer = self._weight_optimizer()
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state["arch"]:
            self.load_arch_parameters(state["arch"])
        self.generator.set_state(state["generator"])

    # ----------------------------------------------------------------------------------- outputs
    def arch_parameters(self) -> dict[str, torch.Tensor]:
        """Learned architecture tensors by name (saved in the run); none for single-path methods."""
        return {}

    def load_arch_parameters(self, params: dict[str, torch.Tensor]) -> None:
        """Restore what `arch_parameters` returned."""

    def edge_probs(self) -> np.ndarray:
        """float64[6, 5]: the learned per-edge op distribution over all five OPS (0 outside the subspace)."""
        probs = np.zeros((6, len(OPS)))
        probs[:, list(self.net.op_indices)] = self._space_probs()
        return probs

    def _space_probs(self) -> np.ndarray:
        return np.full((6, self.net.k), 1.0 / self.net.k)

    def raw_params(self) -> np.ndarray | None:
        """float64[6, k]: the raw architecture parameters (alpha, theta) in subspace columns, or None."""
        return None


class RSPS(Stage1Method):
    """Random search with parameter sharing (Li & Talwalkar): uniform single path per batch."""

    name = "rsps"


class RSPSBiased(Stage1Method):
    """RSPS whose paths come from the idealised biased sampler over the subspace's ground truth (spec §6)."""

    name = "rsps_biased"
    needs_ground_truth = True
    distribution_kind = "biased"

    def __init__(self, supernet, hp, *, generator, ground_truth=None):
        super().__init__(supernet, hp, generator=generator, ground_truth=ground_truth)
        if ground_truth is None:
            raise InvalidParameterError(
                "RSPSBiased(): ground_truth=None; expected (codes, acc) of the subspace's architectures."
            )
        codes, acc = ground_truth
        self.codes = torch.as_tensor(np.asarray(codes), dtype=torch.int64, device=self.device)
        self.probs = torch.as_tensor(biased_sampler_probs(acc), dtype=torch.float64, device=self.device)

    def sample_path(self) -> tuple[int, ...]:
        i = torch.multinomial(self.probs, 1, generator=self.generator)
        return tuple(self.codes[i[0]].tolist())


class SPOS(Stage1Method):
    # METHODS shows this docstring's first line as the description: kept whole, hence the noqa.
    """Single-path one-shot ([LZ]'s baseline) with optional bias weights (``bias_depth``) and split weights (``split_epoch``)."""  # noqa: E501

    name = "spos"
    defaults = SPOS_DEFAULTS

    def epoch_start(self, epoch: int) -> dict:
        split_epoch = self.hp.get("split_epoch")
        if split_epoch is not None and epoch == split_epoch and not self.net.is_split:
            self.net.split()
            self.optimizer = self._weight_optimizer()  # new copies; momentum restarts
            for g in self.optimizer.param_groups:
                g["lr"] = self._lr
        return {"is_split": self.net.is_split}

    def set_lr(self, lr: float) -> None:
        self._lr = lr
        super().set_lr(lr)


class AlphaMethod(Stage1Method):
    """Differentiable methods: alpha (6 x k) trained by Adam on valid batches, weights by SGD on train batches."""

    has_alphas = True
    needs_valid = True
    distribution_kind = "softmax"
    defaults = {**PUP_DEFAULTS, **ARCH_DEFAULTS}

    def __init__(self, supernet, hp, *, generator, ground_truth=None):
        super().__init__(supernet, hp, generator=generator, ground_truth=ground_truth)
        init = torch.randn(6, supernet.k, generator=generator, device=self.device) * hp["alpha_init_std"]
        self.alpha = nn.Parameter(init)
        self.arch_optimizer = torch.optim.Adam(
            [self.alpha],
            lr=hp["arch_lr"],
            betas=(hp["arch_beta1"], hp["arch_beta2"]),
            weight_decay=hp["arch_weight_decay"],
        )
        self.aux_skip = 0.0

    def edge_weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(weights (6, k), hard op per edge or None) for one forward pass; differentiable in alpha."""
        return F.softmax(self.alpha, dim=-1), None

    def arch_loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, y)

    def step(self, batch, valid_batch=None) -> tuple[float, int]:
        xv, yv = valid_batch
        self.arch_optimizer.zero_grad(set_to_none=True)
        w, hard = self.edge_weights()
        self.arch_loss(self.net(xv, weights=w, hard=hard, aux_skip=self.aux_skip), yv).backward()
        self.arch_optimizer.step()
        x, y = batch
        w, hard = self.edge_weights()
        logits = self.net(x, weights=w.detach(), hard=hard, aux_skip=self.aux_skip)
        loss = F.cross_entropy(logits, y)
        self._weight_update(loss)
        return loss.detach(), (logits.detach().argmax(1) == y).sum()

    def arch_parameters(self) -> dict[str, torch.Tensor]:
        return {"alpha": self.alpha.detach().clone()}

    def state_dict(self) -> dict:
        return {**super().state_dict(), "arch_optimizer": self.arch_optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.arch_optimizer.load_state_dict(state["arch_optimizer"])

    def load_arch_parameters(self, params: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            self.alpha.copy_(params["alpha"])

    def raw_params(self) -> np.ndarray:
        return self.alpha.detach().double().cpu().numpy()

    def _space_probs(self) -> np.ndarray:
        return torch.softmax(self.alpha.detach().double(), dim=-1).cpu().numpy()


class DARTS(AlphaMethod):
    """First-order DARTS (Liu et al.): softmax(alpha) mixes every op."""

    name = "darts"


class DARTSMinus(AlphaMethod):
    # METHODS shows this docstring's first line as the description: kept whole, hence the noqa.
    """DARTS- (Chu et al.): DARTS with an auxiliary skip ``beta * x`` per edge; ``beta_schedule`` "linear" (1 -> 0) or "constant"."""  # noqa: E501

    name = "darts_minus"
    defaults = {**AlphaMethod.defaults, "beta0": 1.0, "beta_schedule": "linear"}

    def epoch_start(self, epoch: int) -> dict:
        check_option("beta_schedule", self.hp["beta_schedule"], ("linear", "constant"), caller="DARTSMinus")
        frac = 0.0 if self.hp["beta_schedule"] == "constant" else epoch / self.epochs
        self.aux_skip = self.hp["beta0"] * (1.0 - frac)
        return {"beta": self.aux_skip}


class GumbelMethod(AlphaMethod):
    """Shared temperature schedule: tau_max at epoch 0, lowered by (tau_min - tau_max) / epochs per epoch."""

    defaults = {**AlphaMethod.defaults, **GUMBEL_DEFAULTS}
    tau = GUMBEL_DEFAULTS["tau_max"]

    def epoch_start(self, epoch: int) -> dict:
        self.tau = self.hp["tau_max"] + epoch * (self.hp["tau_min"] - self.hp["tau_max"]) / self.epochs
        return {"tau": self.tau}

    def _gumbel_logits(self) -> torch.Tensor:
        u = torch.empty_like(self.alpha).exponential_(generator=self.generator)
        return (self.alpha - u.log()) / self.tau  # -log(Exp(1)) is Gumbel(0, 1)


class GDAS(GumbelMethod):
    """GDAS (Dong & Yang): hard one-hot Gumbel sample with straight-through gradients; only the sampled op runs."""

    name = "gdas"

    def edge_weights(self):
        probs = F.softmax(self._gumbel_logits(), dim=-1)
        idx = probs.argmax(dim=-1)
        one_hot = F.one_hot(idx, self.net.k).to(probs.dtype)
        return one_hot - probs.detach() + probs, idx.tolist()


class SNAS(GumbelMethod):
    """SNAS (Xie et al.): relaxed Gumbel-softmax weights at temperature tau."""

    name = "snas"

    def edge_weights(self):
        return F.softmax(self._gumbel_logits(), dim=-1), None


class DrNAS(AlphaMethod):
    """DrNAS (Chen et al.): weights ~ Dirichlet(beta), beta = elu(theta) + 1, reparameterised sample.

    ``reg="l2"`` regularises theta through Adam's weight decay (arch_weight_decay, [PUP]'s default);
    ``reg="kl"`` adds ``reg_scale * KL(Dir(beta) || Dir(1))``. `edge_probs` is the Dirichlet mean
    (spec §5.3); `raw_params` is theta.
    """

    name = "drnas"
    distribution_kind = "dirichlet"
    defaults = {**AlphaMethod.defaults, "reg": "l2", "reg_scale": 1e-3}

    def concentration(self) -> torch.Tensor:
        return F.elu(self.alpha) + 1.0

    def edge_weights(self):
        # torch's Dirichlet sampler reads the global RNG; the loop runs under a seeded, forked global RNG.
        return torch.distributions.Dirichlet(self.concentration()).rsample(), None

    def arch_loss(self, logits, y):
        loss = F.cross_entropy(logits, y)
        if check_option("reg", self.hp["reg"], ("l2", "kl"), caller="DrNAS") == "kl":
            prior = torch.distributions.Dirichlet(torch.ones_like(self.alpha))
            loss = loss + self.hp["reg_scale"] * torch.distributions.kl_divergence(
                torch.distributions.Dirichlet(self.concentration()), prior).sum()
        return loss

    def _space_probs(self) -> np.ndarray:
        beta = self.concentration().detach().double()
        return (beta / beta.sum(dim=-1, keepdim=True)).cpu().numpy()


METHODS = Registry("Stage-1 method", "Stage-1 methods")
"""Method name -> Stage1Method class, in the issue's priority order."""
for _cls in (RSPS, DARTS, GDAS, SPOS, RSPSBiased, SNAS, DrNAS, DARTSMinus):
    METHODS.add(_cls.name, _cls)


def method_defaults(name: str) -> dict:
    """Default hyper-parameters of a method (a copy)."""
    return dict(METHODS[check_option("method", name, METHODS, caller="method_defaults")].defaults)


def cosine_lr(epoch: int, epochs: int, lr: float, lr_min: float) -> float:
    """Cosine annealing per epoch (torch's CosineAnnealingLR with T_max = epochs)."""
    return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * epoch / epochs)) / 2
