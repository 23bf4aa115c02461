"""Independent SpiderNet runs (Table 1 ablations, seeds) as work units of an executor.

Each run is a `SpiderNetUnit`: `run_spidernet` grows, trains and tests it in ``<target>.partial``
(where its checkpoints let an interrupted run resume), in whichever process the executor chose. The
driver (`run_spidernets`) alone moves a finished folder to `target` and writes its ``result.json``,
so a folder with a ``result.json`` is a finished run, and a rerun computes only the runs without one.
Every executor and worker count gives the same summaries and weights at one torch thread count
(`run_spidernet` draws all randomness from its seed).
"""
from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .._json import read_json, write_json
from ..exceptions import InvalidParameterError
from ..executors.local import LocalExecutor
from ..executors.outputs import FolderUnit, run_all
from .config import SpiderNetConfig, get_strategy
from .cycles import DeletionPlan, _resolve_plan, run_spidernet
from .training import load_spidernet_data

RUN_FILES = ("checkpoints", "log.json", "architecture.json", "result.json")
"""What a run folder may hold besides its cell drawings; a folder with anything else is not adopted."""


@dataclass(frozen=True)
class SpiderNetUnit(FolderUnit):
    """One `run_spidernet` run whose finished folder is `target`; the other fields are its arguments.

    `reference` (random1 / random4): a DeletionPlan, or the folder of a SpiderNet run (which may be the
    target of another unit of the same `run_spidernets` call). `data`: preloaded (train, test) splits,
    or None to load them once per process from `n_train`, `n_test`, `data_dir`.
    """

    target: str
    config: SpiderNetConfig
    ablation: str = "spidernet"
    reference: str | DeletionPlan | None = None
    seed: int = 0
    device: str | None = None
    n_train: int | None = None
    n_test: int | None = None
    data_dir: str | None = None
    data: tuple | None = None
    progress: bool = False

    def done(self) -> bool:
        return (Path(self.target) / "result.json").is_file()

    def compute(self) -> dict:
        data = self.data or _splits(self.n_train, self.n_test, self.device, self.data_dir)
        return run_spidernet(self.partial, config=self.config, ablation=self.ablation, reference=self.reference,
                             seed=self.seed, device=self.device, data=data, progress=self.progress,
                             final_dir=self.target).summary

    def commit(self, summary: dict) -> None:
        super().commit(summary)
        write_json(Path(self.target) / "result.json", summary, indent=1)

    def load(self) -> dict:
        return read_json(Path(self.target) / "result.json", expected="the result.json of a finished SpiderNet run")


@functools.lru_cache(maxsize=1)
def _splits(n_train, n_test, device, data_dir):
    return load_spidernet_data(n_train=n_train, n_test=n_test, device=device, data_dir=data_dir)


def _adopt(unit: SpiderNetUnit) -> None:
    """Let an unfinished `target` resume: move it to ``.partial`` (a run folder from before runs had a
    ``.partial`` stage, or the empty folder a CLI check created); a folder holding other files is refused."""
    target, partial = Path(unit.target), unit.partial
    if unit.done() or not target.is_dir():
        return
    names = {p.name for p in target.iterdir()}
    if not names:
        target.rmdir()
    elif not names <= {*RUN_FILES, *(n for n in names if n.startswith("cell_"))}:
        raise InvalidParameterError(f"run_spidernets(): {str(target)!r} holds files of no finished run "
                                    f"({', '.join(sorted(names)[:3])}...); expected a new or empty folder, or a run "
                                    "folder to resume.")
    elif partial.exists():
        raise InvalidParameterError(f"run_spidernets(): {str(target)!r} and {str(partial)!r} both hold an unfinished "
                                    "run; expected one: delete the one not to resume.")
    else:
        os.replace(target, partial)


def _with_plan(unit: SpiderNetUnit) -> SpiderNetUnit:
    """`unit` with its reference read into a DeletionPlan (bad or missing references fail here, before work)."""
    plan = _resolve_plan(get_strategy(unit.ablation, caller="run_spidernets"), unit.reference, unit.config,
                         unit.ablation)
    return unit if plan is None or plan == unit.reference else replace(unit, reference=plan)


def run_spidernets(units: Sequence[SpiderNetUnit], *, executor=None) -> list[dict]:
    """Run (or resume) SpiderNet runs as work units of `executor`; their summaries, in the order of `units`.

    A unit whose `reference` is the target of another unit waits for that run: it goes out in a second
    round. Default executor: one run after another in this process.

    Raises
    ------
    InvalidParameterError
        Two units with one target, a random ablation without a reference, or a target folder holding
        other files; before any run starts.
    """
    targets = [str(Path(u.target)) for u in units]
    if len(set(targets)) != len(targets):
        raise InvalidParameterError(f"run_spidernets(): targets {targets} repeat a folder; expected one per run.")
    waits = [get_strategy(u.ablation, caller="run_spidernets").needs_reference
             and isinstance(u.reference, (str, os.PathLike)) and str(Path(u.reference)) in targets for u in units]
    rounds = [[i for i, w in enumerate(waits) if not w], [i for i, w in enumerate(waits) if w]]
    prepared = {i: _with_plan(units[i]) for i in rounds[0]}
    for u in units:
        _adopt(u)
    runner = executor if executor is not None else LocalExecutor(workers=1)
    summaries = {}
    for n, batch in enumerate(rounds):
        if n:
            prepared.update({i: _with_plan(units[i]) for i in batch})
        found, _ = run_all(runner, [prepared[i] for i in batch])
        summaries.update(zip(batch, found))
    return [summaries[i] for i in range(len(units))]
