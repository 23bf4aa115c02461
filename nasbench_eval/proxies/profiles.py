"""Named reference profiles: presets that set every knob of a reference implementation at once.

A profile is data, not code: a map ``proxy key -> {setting: value}`` layered over the entry's
defaults (entry defaults < profile < caller options). A proxy a profile does not mention keeps
its defaults. Sources: spec/proxies.md §3 (REF columns), §4 and §7.

Settings named ``data`` and ``batch_policy`` describe the batch the *caller* must supply
(normalization, one shared batch vs a fresh one per arch); `score_arch` records them (so they
enter `settings_key`) but cannot change the images it is given.
"""
from __future__ import annotations

from types import MappingProxyType

from ..exceptions import InvalidParameterError

_ZC_DATA = {"batch_size": 64, "data": "zc", "batch_policy": "fresh_per_arch"}
_ZC_SYNFLOW = {"bn": "keep_reduction", "data": "zc", "batch_policy": "fresh_per_arch"}
_NASLIB_DATA = {"batch_size": 32, "nonfinite_value": -1e8, "batch_policy": "fresh_per_arch"}
_NASLIB_SYNFLOW = {"bn": "remove", "nonfinite_value": -1e8}

_PROFILES = {
    # BayesWatch/nas-without-training: batch 128, K=1 head, one shared batch, no augmentation (§3.1); its hook
    # reads every module whose type name contains "ReLU", so a ReLUConvBN's codes count twice (sites).
    "naswot": {
        "nwot": {"batch_size": 128, "num_classes": 1, "init": "torch_default", "repeats": 1,
                 "network": "full", "batch_policy": "shared", "sites": "relu_named"},
    },
    # SamsungLabs/zero-cost-nas: batch 64, fresh batch per arch, its own normalization, and BN kept
    # in the residual blocks for synflow (§1.5, §3.5, §7.6-7.8).
    "zc": {
        "synflow": _ZC_SYNFLOW, "synflow_log": _ZC_SYNFLOW,
        **{k: _ZC_DATA for k in ("jacob_cov", "snip", "grasp", "grad_norm", "fisher", "plain")},
    },
    # VITA-Group/TENAS as released: B=72 narrow NTK net, init silently torch_default, weights fixed
    # across the 3 repeats and new data each repeat, NaN κ -> 1e5 (§3.3, §3.4, §7.1-7.3).
    "tenas_code": {
        "ntk_cond": {"batch_size": 72, "n_batches": 1, "network": "narrow", "init": "torch_default",
                     "repeats": 3, "repeat_init": "same", "repeat_data": "new", "tenas_nan": 1e5},
        "lr_count": {"batch_size": 1000, "n_batches": 3, "network": "thin", "init": "torch_default",
                     "repeats": 3, "repeat_init": "same", "repeat_data": "new"},
    },
    # The TE-NAS paper: B=32, Kaiming normal re-drawn every repeat (§3.3, §3.4).
    "tenas_paper": {
        "ntk_cond": {"batch_size": 32, "n_batches": 1, "init": "kaiming_normal_fan_out", "repeats": 3,
                     "repeat_init": "new", "repeat_data": "new"},
        "lr_count": {"batch_size": 1000, "n_batches": 3, "network": "thin", "init": "kaiming_normal_fan_in",
                     "repeats": 3, "repeat_init": "new", "repeat_data": "new"},
    },
    # automl/NASLib: batch 32, NaN/inf -> -1e8, all BN removed for synflow (§3.1, §2.4, §7.13). Its ZeroCost
    # predictor deep-copies a shuffled train loader per arch, so every arch sees a fresh batch of 32 (crop + flip,
    # NASLib's own CIFAR std 0.2470/0.2435/0.2616, drawn from the first 70 % of the training set).
    "naslib": {
        "nwot": _NASLIB_DATA, "synflow": _NASLIB_SYNFLOW, "synflow_log": _NASLIB_SYNFLOW,
        **{k: _NASLIB_DATA for k in ("jacob_cov", "snip", "grasp", "grad_norm", "fisher", "plain")},
    },
    # RobGeada/SpiderNet-NTKLRC: NTK over 3 batches of 64 at width 3, LRC at width 1, Kaiming applied.
    "spidernet": {
        "ntk_cond": {"batch_size": 64, "n_batches": 3, "network": "narrow", "init": "kaiming_normal_fan_out",
                     "repeats": 3, "repeat_init": "new"},
        "lr_count": {"batch_size": 1000, "n_batches": 3, "network": "thin", "init": "kaiming_normal_fan_in",
                     "repeats": 3, "repeat_init": "new"},
    },
}

PROFILES = MappingProxyType({p: MappingProxyType({k: MappingProxyType(dict(v)) for k, v in m.items()})
                             for p, m in _PROFILES.items()})
"""Profile name -> proxy key -> settings (read-only)."""


def list_profiles() -> list[str]:
    """The names of all reference profiles."""
    return list(PROFILES)


def profile_settings(profile: str | None, name: str, *, caller: str = "profile_settings") -> dict:
    """The settings `profile` sets for proxy key `name` (``{}`` if it does not cover that proxy).

    >>> profile_settings("tenas_code", "ntk_cond")["batch_size"]
    72
    """
    if profile is None:
        return {}
    if profile not in PROFILES:
        raise InvalidParameterError(
            f"{caller}(): profile={profile!r} is not a reference profile; expected one of {list(PROFILES)} or None."
        )
    return dict(PROFILES[profile].get(name, {}))
