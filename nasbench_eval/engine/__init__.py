"""Batched scoring engine: many NB201 architectures per pass, the same records as one at a time (spec §6).

- `GroupedNetwork` -- A single-arch networks as one module with disjoint per-arch parameters
  (grouped layout, spec §6.3).
- `score_group(archs, name, batch, ...)` -- the `score_arch` records of a group, computed together.
- `iter_score_groups(...)` / `score_many(...)` -- `score_group` over automatically sized groups (halved on
  CUDA OOM), one finished group at a time / all records.
- `supports(name, arch)` -- whether a proxy/arch is batched (`ENGINE_PROXIES`, tss genotypes).
- `prefers_grouped(name, device_type)` -- whether grouped was measured faster than one at a time there.
"""
from __future__ import annotations

from .batched import ENGINE_PROXIES, iter_score_groups, score_group, score_many, supports
from .dispatch import prefers_grouped
from .grouped import GroupedNetwork
from .sizing import auto_group_size, iter_groups

__all__ = ["ENGINE_PROXIES", "GroupedNetwork", "auto_group_size", "iter_groups", "iter_score_groups", "prefers_grouped",
           "score_group", "score_many", "supports"]
