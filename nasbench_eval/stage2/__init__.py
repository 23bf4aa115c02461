"""Stage 2: select one architecture from a Stage-1 run ([PUP] §4.2, spec §7).

- `SELECTORS` / `run_selector` -- prune, valid, synflow, jacob_cov, perturb (see `selection`);
- `baseline_run` -- the four baseline supernets of spec §7.1 (R_I, R_U, N_I, N_U);
- `make_stage2_data` -- the fixed batches the selectors use (the same evaluation batches as Stage-1 evaluation);
- `selection_truth` -- benchmark facts of a selected architecture (spec §10.1).
"""
from __future__ import annotations

from .selection import (
    BASELINES,
    PROXY_SELECTORS,
    SAMPLING_SELECTORS,
    SELECTOR_KEYWORDS,
    SELECTORS,
    Stage2Data,
    Stage2Result,
    baseline_run,
    draw_archs,
    make_stage2_data,
    run_selector,
    selection_truth,
    stage2_distribution,
    subspace_codes,
)

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
    "make_stage2_data",
    "run_selector",
    "selection_truth",
    "stage2_distribution",
    "subspace_codes",
]
