"""Pin the exact scores of the proxies whose stored results must not move (tests/test_scores_pinned.py).

Scores 24 seeded NB201 archs at reduced size (C=4, N=1, 16×16 N(0,1) images, one torch thread) with
`score_arch` for every proxy in `PINNED`, and writes each per-repeat value as `float.hex`, so a later kernel
change that alters one bit of any score fails the test. Run it from the tree whose scores are the reference:

    git archive <commit> | tar -x -C /tmp/old && cd /tmp/old && python tools/pin_scores.py OUT.json
"""
from __future__ import annotations

import json
import random
import subprocess
import sys

import torch

PINNED = ("nwot", "synflow", "lr_count", "jacob_cov", "snip", "grasp", "fisher", "grad_norm", "plain")
ENGINE_PINNED = ("nwot", "synflow", "lr_count")
"""Also pinned through the batched engine (groups of 8), which scores synflow and lr_count on the CPU."""
SETUP = {"dataset": "ImageNet16-120", "C": 4, "N": 1, "seed": 0, "archs": 24, "arch_seed": 7, "batch_seed": 2026,
         "layouts": ["contiguous", "channels_last"]}
"""channels_last is the layout of the package's real batches (`proxy_batch`); convolutions follow the input's layout."""


def batch(setup: dict, layout: str, rows: int = 3000) -> tuple[torch.Tensor, torch.Tensor]:
    """The seeded N(0,1) batch (16×16, 120 classes) every pinned score reads, in memory `layout`."""
    g = torch.Generator().manual_seed(setup["batch_seed"])
    x = torch.randn(rows, 3, 16, 16, generator=g)
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    return x.contiguous(memory_format=fmt), torch.randint(0, 120, (rows,), generator=g)


def archs(setup: dict) -> list[str]:
    from nasbench_eval.space import all_archs

    return [str(a) for a in random.Random(setup["arch_seed"]).sample(list(all_archs()), setup["archs"])]


def score(arch: str, proxy: str, xy, setup: dict):
    from nasbench_eval.proxies import score_arch
    from nasbench_eval.proxies.scoring import resolve_settings

    over = {"C": setup["C"], "N": setup["N"]} if resolve_settings(proxy)["network"] == "full" else {}
    return score_arch(arch, proxy, xy, dataset=setup["dataset"], seed=setup["seed"], device="cpu", **over)


def score_engine(proxy: str, xy, setup: dict) -> list:
    from nasbench_eval.engine import score_many
    from nasbench_eval.proxies.scoring import resolve_settings

    over = {"C": setup["C"], "N": setup["N"]} if resolve_settings(proxy)["network"] == "full" else {}
    return score_many(archs(setup), proxy, xy, dataset=setup["dataset"], seed=setup["seed"], device="cpu",
                      group_size=8, **over)


def pinned_values(setup: dict) -> dict:
    """``{"<layout>/<proxy>" or "<layout>/engine/<proxy>": {arch: [float.hex of each repeat]}}``."""
    values = {}
    for layout in setup["layouts"]:
        xy = batch(setup, layout)
        for p in PINNED:
            values[f"{layout}/{p}"] = {a: [float(v).hex() for v in score(a, p, xy, setup).repeats]
                                       for a in archs(setup)}
        for p in ENGINE_PINNED:
            values[f"{layout}/engine/{p}"] = {a: [float(v).hex() for v in r.repeats]
                                              for a, r in zip(archs(setup), score_engine(p, xy, setup))}
    return values


def main(out: str) -> int:
    torch.set_num_threads(1)
    values = pinned_values(SETUP)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    about = {"command": "python tools/pin_scores.py " + out, "torch": torch.__version__, "threads": 1,
             "scored_by": commit or "a `git archive` of the commit named in the commit message"}
    with open(out, "w") as f:
        json.dump({"about": about, "setup": SETUP, "values": values}, f, indent=0, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
