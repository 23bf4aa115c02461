"""Training-free NAS scores (spec/proxies.md): registration happens on import of this package.

Keys (aliases in brackets): ``nwot`` [naswot], ``synflow``, ``synflow_log``, ``ntk_cond`` [ntk],
``lr_count`` [lr], ``jacob_cov`` [jacov], ``snip``, ``grasp``, ``fisher``, ``grad_norm``, ``plain``,
``params``, ``flops``, and the population score ``tenas_rank``.

Low level: ``compute_proxy(name, net, batch)`` scores a built network. High level:
``score_arch(arch, name, batch, dataset=..., profile=...)`` builds the network the protocol asks
for and returns a `ScoreRecord`. ``settings_key`` is what a score store keys on.
"""
from __future__ import annotations

# registration order = listing order
from . import nwot, synflow, ntk, linear_regions, jacov, saliency, size, rank_combination  # noqa: F401, I001
from .base import STATUSES, ScoreRecord, Scored, compute_proxy, get_proxy, list_proxies
from .profiles import PROFILES, list_profiles, profile_settings
from .rank_combination import tenas_rank
from .scoring import has_dead_cell, repeat_seed, resolve_settings, rows_needed, score_arch, settings_key

__all__ = [
    "PROFILES", "STATUSES", "ScoreRecord", "Scored", "compute_proxy", "get_proxy", "has_dead_cell",
    "list_profiles", "list_proxies", "profile_settings", "repeat_seed", "resolve_settings", "rows_needed",
    "score_arch", "settings_key", "tenas_rank",
]
