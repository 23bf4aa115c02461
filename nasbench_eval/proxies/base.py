"""The proxy contract: registration, the low-level `compute_proxy`, score status and records.

Every training-free score is a function ``fn(net, x, y=None, **options)`` registered in
`nasbench_eval.registry.PROXIES` with its direction and its default settings
(spec/proxies.md §4). Its entry owns the rest of its protocol: ``check(options, rows=B)`` validates
its own options, and ``finalize(raw, **options) -> Scored`` turns what ``fn`` returns (a raw
quantity such as an NTK or a slogdet pair) into the value with its status and reason, so the
one-at-a-time path (`evaluate`), the batched engine and TE-NAS pruning apply one status rule.
`compute_proxy` runs it on a deep copy of the caller's network, in train mode, seeded, with TF32
off and deterministic cuDNN (spec §2.2-§2.4).
The high-level `score_arch` (in `nasbench_eval.proxies.scoring`) builds the networks and
returns a `ScoreRecord`.
"""
from __future__ import annotations

import copy
import fnmatch
import inspect
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import torch
from torch import nn

from .._validation import check_int
from ..device import resolve_device, scoring_numerics, seeded
from ..exceptions import InvalidParameterError
from ..nets.cell import skip_unused_ops
from ..registry import PROXIES, Entry

STATUSES = ("ok", "degenerate", "nan", "inf")
"""Values of `ScoreRecord.status` (spec/proxies.md, header)."""

COMMON_DEFAULTS: dict[str, Any] = {
    "network": "full",           # "full" (§1.1, C=16, N=5), "narrow" (C=3, N=1) or "thin" (LR, §3.4)
    "C": None,                   # width override (None: from `network`)
    "N": None,                   # cells-per-stage override (None: from `network`)
    "num_classes": None,         # classifier width override (None: from the dataset; NASWOT used 1)
    "init": "torch_default",     # weight init scheme (§2.3)
    "repeats": 1,                # new init (and, per repeat_data, new data) per repeat; mean (§2.5)
    "repeat_init": "new",        # "new": re-draw weights each repeat; "same": TE-NAS code (§7.1)
    "repeat_data": "new",        # "new": rows [r*n, (r+1)*n) for repeat r; "same": rows [0, n)
    "nonfinite_value": None,     # None keeps NaN/inf; a float replaces them (NASLib: -1e8)
    "data": "nb201",             # which batch the caller must supply: "nb201" normalization,
                                 # or "zc" (zero-cost-nas normalization); recorded, not applied here
    "batch_policy": "shared",    # "shared" batch for all archs or "fresh_per_arch" (zero-cost-nas);
                                 # recorded, the caller supplies the batch
}
"""Settings every proxy has; an entry's own `defaults` override them."""


class Scored(NamedTuple):
    """A proxy value with its status: one of `STATUSES`, and a reason when not ``"ok"``."""

    value: float
    status: str = "ok"
    reason: str = ""


def classify(value: float) -> Scored:
    """A plain value as a `Scored`: finite -> ``ok``, NaN -> ``nan``, ±inf -> ``inf``."""
    value = float(value)
    if math.isnan(value):
        return Scored(value, "nan", "the score is NaN")
    if math.isinf(value):
        return Scored(value, "inf", f"the score is {value}")
    return Scored(value)


@dataclass(frozen=True)
class ScoreRecord:
    """One architecture's score with everything needed to reproduce it (spec/proxies.md, header).

    Attributes
    ----------
    name : str
        Canonical proxy key (``"ntk_cond"``, never an alias).
    value : float
        Aggregate (mean over `repeats`); NaN/±inf are kept (or replaced by
        ``options["nonfinite_value"]`` when set, with the reason saying so).
    status : {"ok", "degenerate", "nan", "inf"}
        Why a value is not an ordinary finite score.
    reason : str
        Human-readable cause when `status` is not ``"ok"``, else ``""``.
    repeats : tuple of float
        The per-repeat values, in repeat order.
    options : dict
        Every resolved setting (entry defaults < profile < caller options).
    seed : int
        The global seed; repeat r draws its weights from ``repeat_seed(seed, r)``.
    batch_size : int
        Rows per forward pass actually used (1 for synflow/params/flops).
    dataset : str
        Dataset name, NB201 spelling.
    dead_cell : bool
        True for a tss genotype without a ``none``-free path from node 0 to node 3 (spec §1.4).
    profile : str or None
        The reference profile the options came from, if any (informational; `options` is complete).
    """

    name: str
    value: float
    status: str
    reason: str
    repeats: tuple
    options: dict
    seed: int
    batch_size: int
    dataset: str
    dead_cell: bool = False
    profile: str | None = None

    def as_dict(self) -> dict:
        """A JSON-friendly dict (tuples become lists)."""
        d = asdict(self)
        d["repeats"] = list(self.repeats)
        return d


def settle(out) -> Scored:
    """A proxy's finalized output as a `Scored`: an ``ok`` or plain value is re-classified (NaN, ±inf)."""
    if not isinstance(out, Scored):
        return classify(out)
    return classify(out.value) if out.status == "ok" else Scored(float(out.value), out.status, out.reason)


def _no_options(options: dict, rows: int) -> dict:
    """The `check` of a proxy without options of its own."""
    return options


def _as_is(raw, **options):
    """The `finalize` of a proxy whose function already returns its value (a float or a `Scored`)."""
    return raw


# ---- registration ------------------------------------------------------------------------------
def register_proxy(name: str, *, aliases: tuple[str, ...] = (), higher_is_better: bool = True,
                   needs_labels: bool = False, tags=frozenset(), check=None, finalize=None, **defaults):
    """Register a proxy under its spec key with `COMMON_DEFAULTS` merged under its own `defaults`.

    Parameters
    ----------
    check : callable, optional
        ``check(options, rows) -> options``: validates the function's own keyword options for a batch of
        `rows` rows (one clear `InvalidParameterError`); default: no options of its own.
    finalize : callable, optional
        ``finalize(raw, **options) -> Scored``: the status rule applied to the function's return value;
        default: the function returns its value (float or `Scored`) itself.
    tags : set of str
        Free-form properties (``"data-free"``, ``"labels"``, ...). ``"logits-only"``: the score depends on the
        network only through its logits and gradients through them, so an op that reaches the logits only as
        ``h · 0`` adds exactly nothing; `evaluate` then skips such ops (`nasbench_eval.nets.skip_unused_ops`).
    """
    return PROXIES.register(
        name, aliases=aliases, higher_is_better=higher_is_better, needs_labels=needs_labels,
        tags=frozenset(tags), defaults={**COMMON_DEFAULTS, **defaults},
        check=check or _no_options, finalize=finalize or _as_is,
    )


def finalize(entry: Entry, raw, options: dict) -> Scored:
    """The `Scored` of proxy `entry` for what its function (or a batched kernel of it) returned."""
    return settle(entry.finalize(raw, **options))


def get_proxy(name: str) -> Entry:
    """The registry entry of proxy `name` (a key or an alias such as ``"ntk"``)."""
    return PROXIES.get(name)


def list_proxies(pattern: str = "*", *, tags=frozenset()) -> list[str]:
    """Canonical proxy keys matching the glob `pattern` (aliases are matched too) and carrying `tags`.

    >>> "ntk_cond" in list_proxies("ntk*")
    True
    """
    keys = PROXIES.names("*", tags=tags)
    by_alias = {PROXIES.resolve(a) for a in PROXIES.aliases() if fnmatch.fnmatch(a, pattern)}
    return [k for k in keys if fnmatch.fnmatch(k, pattern) or k in by_alias]


def fn_options(entry: Entry) -> set[str]:
    """The keyword options the proxy function itself accepts (the rest are protocol settings)."""
    params = inspect.signature(entry.fn).parameters.values()
    return {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


# ---- helpers shared by the proxy modules -------------------------------------------------------
def weight_layers(net: nn.Module) -> list[nn.Module]:
    """Every Conv2d and Linear module, in registration order ("layers" of spec §3.5)."""
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def relu_modules(net: nn.Module) -> list[nn.Module]:
    """Every `nn.ReLU` module (the ReLU sites NASWOT and LR hook; functional ReLUs are not seen)."""
    return [m for m in net.modules() if isinstance(m, nn.ReLU)]


def logits_of(out) -> torch.Tensor:
    """The logits of a forward output: a tensor, or the 2-D tensor with the most columns in a tuple.

    NB201 copies return ``(features, logits)`` or ``(logits, features)`` (spec §1.1); with K < 64
    the logits are the narrower one, so a tuple is resolved by taking its last element when the
    network says nothing else. Networks of this package return plain logits.
    """
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out:
        return out[-1]
    raise TypeError(f"the network returned {type(out).__name__}; expected logits as a tensor")


# ---- low level ---------------------------------------------------------------------------------
def check_batch(batch, *, caller: str, needs_labels: bool, name: str):
    """`batch` as (x [B, ...] tensor, y int64 [B] or None), or one clear error naming proxy `name`."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise InvalidParameterError(
            f"{caller}(): batch={type(batch).__name__} is not a pair; expected (x, y) with y a label tensor or None."
        )
    x, y = batch
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or len(x) == 0:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise InvalidParameterError(
            f"{caller}(): batch x={shape!r} is not a non-empty tensor; expected float [B, C, H, W]."
        )
    if y is None:
        if needs_labels:
            raise InvalidParameterError(
                f"{caller}(): batch y=None but proxy {name!r} needs labels; pass (x, y) with int64 y [B]."
            )
    elif not isinstance(y, torch.Tensor) or y.ndim != 1 or len(y) != len(x) or y.is_floating_point():
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise InvalidParameterError(
            f"{caller}(): batch y={shape!r} does not match x of {len(x)} rows; expected int64 labels [B] or None."
        )
    return x, y


def _check_options(entry: Entry, options: Mapping[str, Any], *, caller: str) -> dict:
    allowed = fn_options(entry)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidParameterError(
            f"{caller}(): option {unknown[0]}={options[unknown[0]]!r} is not an option of proxy {entry.name!r}; "
            f"expected one of {sorted(allowed)}."
        )
    return dict(options)


def as_scored(entry: Entry, net: nn.Module) -> nn.Module:
    """`net` (in place) as proxy `entry` scores it: in train mode, as every reference (spec §2.2), and for a
    ``logits-only`` entry with the ops that never reach the logits skipped (the same value, `skip_unused_ops`)."""
    net.train()
    if "logits-only" in entry.tags:
        skip_unused_ops(net)
    return net


def evaluate(name: str, net: nn.Module, batch, *, device=None, seed: int = 0, caller: str = "compute_proxy",
             inplace: bool = False, **options) -> Scored:
    """`compute_proxy` returning the value with its status (used by `score_arch` and TE-NAS pruning).

    With ``inplace=True`` the proxy runs on `net` itself (moved to `device`, put in train mode and
    possibly modified), for a throwaway network the caller built for this one score.
    """
    entry = PROXIES.get(name)
    if "population" in entry.tags:
        raise InvalidParameterError(
            f"{caller}(): name={name!r} ranks a population, not one network; call "
            f"nasbench_eval.proxies.tenas_rank(kappa, regions) on the scores of the population."
        )
    if not isinstance(net, nn.Module):
        raise InvalidParameterError(
            f"{caller}(): net={type(net).__name__} is not a torch.nn.Module; expected a built network."
        )
    x, y = check_batch(batch, caller=caller, needs_labels=entry.needs_labels, name=name)
    seed = check_int("seed", seed, caller=caller, minimum=0)
    options = entry.check(_check_options(entry, options, caller=caller), len(x))
    dev = resolve_device(device)
    with scoring_numerics(), seeded(seed, dev):
        work = (net if inplace else copy.deepcopy(net)).to(dev)   # BN stats, synflow's |w| and dtype stay in the copy
        raw = entry.fn(as_scored(entry, work), x.to(dev), None if y is None else y.to(dev), **options)
    return finalize(entry, raw, options)


def compute_proxy(name: str, net: nn.Module, batch, *, device=None, seed: int = 0, **options) -> float:
    """Score an already-built network with proxy `name` on the whole of `batch`.

    Parameters
    ----------
    name : str
        A proxy key or alias (``list_proxies()``; ``"naswot"``, ``"ntk"``, ``"lr"``, ``"jacov"`` work).
    net : torch.nn.Module
        The initialized network; it is deep-copied, so the caller's weights, BN statistics and
        dtype are untouched. The copy is put in train mode.
    batch : tuple (x, y)
        x: float tensor [B, C, H, W]; y: int64 labels [B], or None for label-free proxies. All B
        rows are used (the row selection of a protocol is `score_arch`'s job).
    device : str or torch.device, optional
        Where to score; None means CUDA when available. Returns a Python float either way.
    seed : int, default=0
        Seeds torch's global RNG (forked, restored afterwards) while the proxy runs.
    **options
        The proxy function's own keyword options (e.g. ``bn="keep"`` for synflow).

    Returns
    -------
    value : float
        The raw score, NaN/±inf included (never raised); see each proxy for units and direction.

    Raises
    ------
    InvalidParameterError
        Unknown proxy or option, malformed batch, labels missing for a proxy that needs them.
    """
    return evaluate(name, net, batch, device=device, seed=seed, caller="compute_proxy", **options).value


__all__ = [
    "COMMON_DEFAULTS", "STATUSES", "ScoreRecord", "Scored", "as_scored", "check_batch", "classify", "compute_proxy",
    "evaluate", "finalize", "fn_options", "get_proxy", "list_proxies", "logits_of", "register_proxy", "relu_modules",
    "settle", "weight_layers",
]
