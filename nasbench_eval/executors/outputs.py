"""Work units whose output is one file or folder: computed wherever the executor runs them, committed by the driver.

A unit names its `target`. `compute()` runs in a worker (or in this process) and never writes `target`:
a `JsonUnit` only returns the content, a `FolderUnit` fills ``<target>.partial``. `commit(result)` runs
in the driver, so the driver is the only writer of every target and of whatever index sits beside it.
A unit whose target exists is done (`done`): a rerun after Ctrl-C, a killed worker or a crash computes
only the units that are missing, and a half-written folder is never mistaken for a finished one.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .._json import read_json, write_json


class OutputUnit:
    """One unit of work with one output path, `target` (a str: units travel to other processes)."""

    target: str

    def done(self) -> bool:
        """Whether the output is already there (the unit is then skipped)."""
        return Path(self.target).exists()

    def compute(self):
        """The work, in whichever process the executor chose; returns a picklable result."""
        raise NotImplementedError

    def commit(self, result) -> None:
        """Put `result` in place (driver only)."""
        raise NotImplementedError

    def load(self):
        """The result of a unit that is `done`, read back from `target` (None: nothing to read)."""
        return None


class JsonUnit(OutputUnit):
    """`compute` returns a JSON-able dict; the driver writes it to `target` atomically (indent 1)."""

    def commit(self, result) -> None:
        write_json(self.target, result, indent=1)

    def load(self) -> dict:
        return read_json(self.target, expected=f"the result of a finished {type(self).__name__}")


class FolderUnit(OutputUnit):
    """`compute` fills the folder `partial`; the driver moves it to `target` (replacing an incomplete one)."""

    @property
    def partial(self) -> Path:
        return Path(self.target + ".partial")

    def commit(self, result) -> None:
        shutil.rmtree(self.target, ignore_errors=True)
        os.replace(self.partial, self.target)


def compute_unit(unit: OutputUnit):
    """The top-level function executors call: ``unit.compute()``."""
    return unit.compute()


def run_missing(executor, units: Sequence[OutputUnit]) -> Iterator[tuple[int, object]]:
    """Compute the units that are not `done` through `executor`, commit each as it finishes (in this process),
    and yield ``(index into units, result)`` in completion order."""
    todo = [i for i, unit in enumerate(units) if not unit.done()]
    for j, result in executor.run(compute_unit, [units[i] for i in todo]):
        units[todo[j]].commit(result)
        yield todo[j], result


def run_all(executor, units: Sequence[OutputUnit], *, advance: Callable[[int], object] | None = None
            ) -> tuple[list, set[int]]:
    """Every unit's result, in order: computed through `executor` where missing (`run_missing`), else read back
    (`load`); and the indices computed now. ``advance(n)`` (e.g. a tqdm bar's ``update``) hears of every unit."""
    advance = advance or (lambda n: None)
    advance(sum(u.done() for u in units))
    computed = {}
    for i, result in run_missing(executor, units):
        computed[i] = result
        advance(1)
    return [computed[i] if i in computed else u.load() for i, u in enumerate(units)], set(computed)
