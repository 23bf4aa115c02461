"""High-level scoring: settings resolution, `settings_key`, the repeat plan and `score_arch`.

Settings are layered: the entry's ``defaults`` < a reference profile (`profiles.PROFILES`) <
the caller's options (an option passed as None never overrides). `score_arch` builds the network
each repeat needs, takes the repeat's weight seed and inputs from the `RepeatPlan`, runs the proxy
through `evaluate` and aggregates the repeats into a `ScoreRecord` (`score_record`). The batched
engine (`nasbench_eval.engine`) and TE-NAS pruning use the same plan, status rules and record.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .._validation import check_int, check_option
from ..device import derive_seed
from ..exceptions import InvalidParameterError
from ..data.specs import DATASET_SPECS
from ..registry import Entry
from ..space import Arch, SizeArch
from ..space.nb201 import EDGES
from .base import ScoreRecord, Scored, check_batch, classify, evaluate, fn_options, get_proxy
from .linear_regions import random_patches
from .profiles import profile_settings

SCORING_VERSION = "2"
"""Bump whenever an implementation change alters scores under unchanged settings: `settings_key` and the
score store's keys (`nasbench_eval.scoring.store.score_key`) both carry it, so old stored scores stop matching.
2: CIFAR-10 batches come from the package's probe set by default."""

NETWORKS = {"full": (16, 5), "narrow": (3, 1), "thin": (1, 1)}
"""Network variant -> default (C, N): §1.1, TE-NAS's narrow NTK skeleton (§1.5), thin LR net (§3.4)."""
INIT_SCHEMES = ("torch_default", "kaiming_normal_fan_in", "kaiming_normal_fan_out")


# ---- settings ----------------------------------------------------------------------------------
def _check_settings(entry, s: dict, *, caller: str) -> dict:
    """Validate resolved settings (types and allowed values)."""
    d = entry.defaults
    check_option("network", s["network"], list(NETWORKS), caller=caller)
    check_option("init", s["init"], INIT_SCHEMES, caller=caller)
    check_option("repeat_init", s["repeat_init"], ("new", "same"), caller=caller)
    check_option("repeat_data", s["repeat_data"], ("new", "same"), caller=caller)
    check_option("data", s["data"], ("nb201", "zc"), caller=caller)
    check_option("batch_policy", s["batch_policy"], ("shared", "fresh_per_arch"), caller=caller)
    for key in ("repeats", "batch_size", "n_batches", "patch_size"):
        if key in s:
            s[key] = check_int(key, s[key], caller=caller, minimum=1)
    for key in ("C", "N", "num_classes"):
        if s[key] is not None:
            s[key] = check_int(key, s[key], caller=caller, minimum=1)
    if s["nonfinite_value"] is not None:
        v = s["nonfinite_value"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InvalidParameterError(
                f"{caller}(): nonfinite_value={v!r} is not a finite number; expected e.g. -1e8 or None."
            )
        s["nonfinite_value"] = float(v)
    if "inputs" in s:
        check_option("inputs", s["inputs"], ("patches", "images"), caller=caller)
    if "dtype" in s and "dtype" not in fn_options(entry) and s["dtype"] != d["dtype"]:
        raise InvalidParameterError(
            f"{caller}(): dtype={s['dtype']!r} is fixed for proxy {entry.name!r}; expected {d['dtype']!r}."
        )
    if s["network"] == "thin" and s.get("inputs") != "patches":
        raise InvalidParameterError(
            f"{caller}(): network='thin' takes 1x3x3 patches, which only lr_count feeds; expected network='full' or "
            f"'narrow' for {entry.name!r}."
        )
    if s.get("inputs") == "patches" and s["network"] != "thin":
        raise InvalidParameterError(
            f"{caller}(): network={s['network']!r} needs images, but inputs='patches'; pass inputs='images' or "
            "network='thin'."
        )
    if s["network"] == "thin" and s["C"] not in (None, 1):
        raise InvalidParameterError(
            f"{caller}(): C={s['C']!r} does not fit 1-channel patches; expected C=1 (or None) with network='thin'."
        )
    return s


def resolve_settings(name: str, profile: str | None = None, *, caller: str = "resolve_settings", **options) -> dict:
    """Every setting of proxy `name`: entry defaults < `profile` < `options` (None options dropped).

    Raises
    ------
    InvalidParameterError
        For an unknown proxy, profile or setting, or an invalid value.
    """
    entry = get_proxy(name)
    settings = dict(entry.defaults)
    settings.update(profile_settings(profile, entry.name, caller=caller))
    given = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(given) - set(settings))
    if unknown:
        raise InvalidParameterError(
            f"{caller}(): option {unknown[0]}={given[unknown[0]]!r} is not a setting of proxy {entry.name!r}; "
            f"expected one of {sorted(settings)}."
        )
    settings.update(given)
    if "population" in entry.tags:
        check_option("ties", settings["ties"], ("average", "tenas_ties"), caller=caller)
        return settings
    return _check_settings(entry, settings, caller=caller)


def settings_key(name: str, profile: str | None = None, **options) -> str:
    """A stable string of every setting that changes the score of proxy `name`.

    Two calls that resolve to the same settings give the same key, whether they got there through
    a profile, explicit options or defaults (the profile name itself is not part of it), and an
    alias gives the key of its canonical proxy. The dataset, the seed and the architecture are
    *not* included: a score store keys on (arch, dataset, seed, settings_key).

    Returns
    -------
    key : str
        ``"<proxy key>@<SCORING_VERSION>:<sorted JSON of the settings>"``.

    Examples
    --------
    >>> settings_key("ntk") == settings_key("ntk_cond", batch_size=32)
    True
    """
    s = resolve_settings(name, profile, caller="settings_key", **options)
    settings = json.dumps(s, sort_keys=True, separators=(",", ":"), default=str)
    return f"{get_proxy(name).name}@{SCORING_VERSION}:{settings}"


def needs_images(entry) -> bool:
    """True if proxy `entry` reads image rows (False for data-free and population scores)."""
    return not ({"data-free", "population"} & entry.tags)


def rows_needed(name: str, profile: str | None = None, **options) -> int:
    """How many rows of the caller's batch `score_arch` reads for these settings.

    Image proxies read ``batch_size × n_batches`` rows per repeat, and a new slice per repeat when
    ``repeat_data="new"`` (repeat r reads rows ``[r·m, (r+1)·m)``). lr_count draws its patches from
    the first ``batch_size × n_batches`` rows. synflow, params and flops read one row (its shape).
    """
    return RepeatPlan(get_proxy(name), resolve_settings(name, profile, caller="rows_needed", **options), 0).rows


# ---- architectures -----------------------------------------------------------------------------
def has_dead_cell(arch: Arch) -> bool:
    """True if no path node 0 -> node 3 avoids ``none`` (the cell output is identically zero, §1.4).

    >>> has_dead_cell(Arch(("none",) * 6)), has_dead_cell(Arch(("none",) * 5 + ("skip_connect",)))
    (True, True)
    """
    reach = {0}
    for (src, dst), op in zip(EDGES, arch.ops):     # EDGES is in topological order
        if op != "none" and src in reach:
            reach.add(dst)
    return 3 not in reach


def parse_arch(arch, *, caller: str) -> Arch | SizeArch:
    """`arch` (an Arch, a SizeArch or an official string) as an Arch or SizeArch, or one clear error."""
    if isinstance(arch, (Arch, SizeArch)):
        return arch
    if isinstance(arch, str):
        text = arch.strip()
        return SizeArch.from_str(text) if "|" not in text else Arch.from_str(text)
    raise InvalidParameterError(
        f"{caller}(): arch={arch!r} is not an architecture; expected an Arch, a SizeArch or an official string."
    )


def repeat_seed(seed: int, repeat: int, stream: int = 0) -> int:
    """The seed of repeat `repeat` (stream 0: weights, 1: random inputs): ``derive_seed(seed, repeat, stream)``."""
    return derive_seed(seed, repeat, stream)


@dataclass(frozen=True)
class RepeatPlan:
    """What repeat r of a proxy's protocol uses: its weight seed and its inputs (spec §2.5).

    ``repeat_init="same"`` draws every repeat's weights as repeat 0's; ``repeat_data="same"`` gives
    every repeat repeat 0's rows (or patches). Image proxies read ``batch_size × n_batches`` rows per
    repeat, repeat r rows ``[r·m, (r+1)·m)``; lr_count cuts that many random patches from all the
    rows it is given; data-free proxies read one row (its shape).

    Attributes
    ----------
    entry : Entry
        The proxy.
    settings : dict
        Its resolved settings (`resolve_settings`).
    seed : int
        The global seed.
    weight_key, input_key : callable
        ``key(r) -> tuple of int`` hashed after `seed` for repeat r's weights and random inputs;
        default ``(r, 0)`` and ``(r, 1)`` (`repeat_seed`). TE-NAS pruning keys its own streams.
    """

    entry: Entry
    settings: dict
    seed: int
    weight_key: Callable[[int], tuple] = lambda r: (r, 0)
    input_key: Callable[[int], tuple] = lambda r: (r, 1)

    @property
    def per_repeat(self) -> int:
        """Rows (or patches) one repeat reads."""
        return self.settings["batch_size"] * self.settings.get("n_batches", 1)

    @property
    def rows(self) -> int:
        """Rows of the caller's batch the whole protocol reads (`rows_needed`)."""
        if not needs_images(self.entry):
            return 1
        if self.settings.get("inputs") == "patches" or self.settings["repeat_data"] == "same":
            return self.per_repeat
        return self.per_repeat * self.settings["repeats"]

    def weight_seed(self, r: int) -> int:
        """The seed repeat r's weights are drawn from."""
        return derive_seed(self.seed, *self.weight_key(0 if self.settings["repeat_init"] == "same" else r))

    def inputs(self, x: torch.Tensor, y: torch.Tensor | None, r: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Repeat r's (x, y): its rows of x [B, 3, H, W], random patches cut from all of x, or x's first row."""
        if not needs_images(self.entry):
            return x[:1], None if y is None else y[:1]
        dr = 0 if self.settings["repeat_data"] == "same" else r
        if self.settings.get("inputs") == "patches":
            g = torch.Generator().manual_seed(derive_seed(self.seed, *self.input_key(dr)))
            return random_patches(x, self.per_repeat, patch_size=self.settings["patch_size"], generator=g), None
        rows = slice(dr * self.per_repeat, (dr + 1) * self.per_repeat)
        return x[rows], None if y is None else y[rows]


def build_for_proxy(arch, settings: dict, *, num_classes: int, seed: int):
    """The network a proxy's settings ask for, initialized from `seed` on the CPU."""
    from ..nets.network import build_network, build_thin_network
    from ..nets.sss import build_sss_network

    k = settings["num_classes"] or num_classes
    if isinstance(arch, SizeArch):
        if settings["network"] != "full" or settings["C"] is not None or settings["N"] is not None:
            raise InvalidParameterError(
                f"score_arch(): network={settings['network']!r} with C={settings['C']!r}, N={settings['N']!r} "
                f"does not apply to the size-space arch {str(arch)!r}; expected network='full' and no C/N."
            )
        return build_sss_network(arch, num_classes=k, init=settings["init"], seed=seed)
    c0, n0 = NETWORKS[settings["network"]]
    c, n = settings["C"] or c0, settings["N"] or n0
    if settings["network"] == "thin":
        return build_thin_network(arch, C=c, num_classes=k, init=settings["init"], seed=seed)
    return build_network(arch, C=c, N=n, num_classes=k, init=settings["init"], seed=seed)


def aggregate(parts: list[Scored]) -> Scored:
    """Mean of the repeat values; the status of the first repeat that was not ``ok`` (if any)."""
    mean = float(np.mean([p.value for p in parts]))
    bad = [(r, p) for r, p in enumerate(parts) if p.status != "ok"]
    if not bad:
        return classify(mean)
    r, p = bad[0]
    where = f"repeat {r}" if len(parts) > 1 else "value"
    reason = f"{where}: {p.reason}" + (f" ({len(bad)} of {len(parts)} repeats not ok)" if len(bad) > 1 else "")
    return Scored(mean, p.status, reason)


def score_record(entry, s: dict, arch, parts: list[Scored], *, seed: int, dataset: str, profile) -> ScoreRecord:
    """The `ScoreRecord` of `arch` from its per-repeat `parts`: mean, status, `nonfinite_value`, dead cell."""
    agg = aggregate(parts)
    if s["nonfinite_value"] is not None and not math.isfinite(agg.value):
        fill = s["nonfinite_value"]
        agg = Scored(fill, agg.status, f"{agg.reason}; {agg.value} replaced by nonfinite_value={fill:g}")
    return ScoreRecord(
        name=entry.name, value=agg.value, status=agg.status, reason=agg.reason,
        repeats=tuple(p.value for p in parts), options=dict(s), seed=seed,
        batch_size=s["batch_size"], dataset=dataset,
        dead_cell=isinstance(arch, Arch) and has_dead_cell(arch), profile=profile,
    )


# ---- score_arch --------------------------------------------------------------------------------
def check_image_batch(entry, batch, *, dataset: str, settings: dict, profile, options: dict, caller: str):
    """Validate `batch` for scoring proxy `entry` on `dataset`: image shape and enough rows.

    Returns
    -------
    (num_classes, x, y, rows) : (int, Tensor [B, 3, H, W], Tensor [B] or None, int)
        The dataset's classifier width, the checked batch and the rows the proxy reads.
    """
    check_option("dataset", dataset, list(DATASET_SPECS), caller=caller)
    num_classes, resolution = DATASET_SPECS[dataset].num_classes, DATASET_SPECS[dataset].resolution
    x, y = check_batch(batch, caller=caller, needs_labels=entry.needs_labels, name=entry.name)
    if x.ndim != 4 or tuple(x.shape[2:]) != (resolution, resolution):
        raise InvalidParameterError(
            f"{caller}(): batch x has shape {tuple(x.shape)}; expected images [B, 3, {resolution}, {resolution}] for "
            f"dataset={dataset!r}."
        )
    need = rows_needed(entry.name, profile, **options)
    if len(x) < need:
        raise InvalidParameterError(
            f"{caller}(): batch has {len(x)} rows but proxy {entry.name!r} reads {need} with these settings "
            f"(batch_size={settings['batch_size']}, repeats={settings['repeats']}, "
            f"repeat_data={settings['repeat_data']!r}); "
            "supply more rows (see rows_needed()) or pass repeat_data='same'."
        )
    return num_classes, x, y, need


def score_arch(arch, name: str, batch, *, dataset: str = "cifar10", seed: int = 0, device=None,
               profile: str | None = None, **options) -> ScoreRecord:
    """Score one architecture with proxy `name` under its protocol (spec/proxies.md §2-§4).

    For each repeat r: build the network the settings ask for (`network`, `C`, `N`, `init`,
    `num_classes` from `dataset`) with weights from ``repeat_seed(seed, r)`` (r = 0 for every
    repeat with ``repeat_init="same"``); take that repeat's rows of `batch`; derive special inputs
    (synflow: all-ones of the batch's image shape; lr_count: random 1×3×3 single-channel patches
    from ``repeat_seed(seed, r, 1)``); score with `evaluate` (deep copy, train mode, seeded, TF32
    off). The value is the mean over repeats. NaN/inf never raise: they are kept with a status.

    Parameters
    ----------
    arch : Arch, SizeArch or str
        A tss genotype (``|op~0|+...``) or a size-space string (``"8:16:24:32:64"``).
    name : str
        Proxy key or alias.
    batch : tuple (x, y)
        The real-image batch: x float32 [B, 3, H, W] normalized, y int64 [B] (or None for
        label-free proxies). The proxy reads its first ``rows_needed(name, profile, **options)``
        rows (see `rows_needed`); supply at least that many.
    dataset : {"cifar10", "cifar10-valid", "cifar100", "ImageNet16-120"}, default="cifar10"
        Fixes the classifier width K (10/10/100/120) unless ``num_classes`` is given.
    seed : int, default=0
        Global seed; the same seed gives the same weights to every architecture (NASWOT).
    device : str or torch.device, optional
        Where to score (weights are always drawn on the CPU).
    profile : str, optional
        A reference profile (`profiles.list_profiles()`), applied before `options`.
    **options
        Any setting in ``get_proxy(name).defaults`` (batch_size, init, network, repeats, ...).

    Returns
    -------
    ScoreRecord
        ``dead_cell`` is set for tss genotypes without a ``none``-free path (spec §1.4).

    Raises
    ------
    InvalidParameterError
        Unknown proxy/profile/setting/dataset, a malformed batch, or fewer rows than needed.
    """
    caller = "score_arch"
    entry = get_proxy(name)
    if "population" in entry.tags:
        raise InvalidParameterError(
            f"{caller}(): name={name!r} ranks a population, not one arch; score 'ntk_cond' and 'lr_count' per arch, "
            "then call nasbench_eval.proxies.tenas_rank(kappa, regions)."
        )
    s = resolve_settings(name, profile, caller=caller, **options)
    a = parse_arch(arch, caller=caller)
    seed = check_int("seed", seed, caller=caller, minimum=0)
    num_classes, x, y, need = check_image_batch(
        entry, batch, dataset=dataset, settings=s, profile=profile, options=options, caller=caller
    )
    fn_opts = {k: s[k] for k in fn_options(entry) if k in s}
    plan = RepeatPlan(entry, s, seed)
    parts: list[Scored] = []
    for r in range(s["repeats"]):
        wseed = plan.weight_seed(r)
        net = build_for_proxy(a, s, num_classes=num_classes, seed=wseed)
        batch_r = plan.inputs(x[:need], None if y is None else y[:need], r)
        parts.append(evaluate(entry.name, net, batch_r, device=device, seed=wseed, caller=caller, inplace=True,
                              **fn_opts))
    return score_record(entry, s, a, parts, seed=seed, dataset=dataset, profile=profile)
