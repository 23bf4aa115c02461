"""The benchmark interface shared by the offline table backend and the official NATS-Bench backend.

A backend provides the architecture strings in benchmark order and, per available
(dataset, metric, epochs) key, one float64 column over all architectures. Everything users call
(`query`, `table`, `best`, `info`, the NATS-style aliases) is implemented once, here.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_option
from ..exceptions import ArchNotFoundError, InvalidParameterError
from ..space import SPACES, Arch, SizeArch

DATASETS: tuple[str, ...] = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
"""Dataset names as spelled by NAS-Bench-201 / NATS-Bench."""
METRICS: tuple[str, ...] = ("train_acc", "valid_acc", "test_acc")
"""Accuracy metrics (percent, 0-100)."""
EPOCHS: tuple[int, ...] = (1, 12, 90, 200)
"""Training schedules (NATS's `hp`): tss holds 12 and 200, sss 1, 12 and 90."""

COLUMN_RE = re.compile(
    r"^(?P<dataset>cifar10-valid|cifar10|cifar100|ImageNet16-120)_(?P<metric>[a-z]+_acc)_(?P<epochs>\d+)ep$"
)
"""Table column naming: ``{dataset}_{metric}_{epochs}ep``, e.g. ``cifar10_test_acc_200ep``."""


def column_name(dataset: str, metric: str, epochs: int) -> str:
    """The table column that holds (dataset, metric, epochs)."""
    return f"{dataset}_{metric}_{epochs}ep"


@dataclass(frozen=True)
class ArchInfo:
    """Everything the benchmark holds on one architecture for one dataset and schedule (percent)."""

    index: int
    arch: str
    dataset: str
    epochs: int
    accuracies: dict = field(default_factory=dict)  # metric -> percent, only those the backend holds


class Benchmark(ABC):
    """Ground truth for one search space. Architectures may be given as index, string or object.

    Subclasses set `space`, `name`, `_arch_strs` (list[str] in benchmark order) and implement
    `keys()` and `_column()`.
    """

    space: str = "tss"
    name: str = "benchmark"
    _arch_strs: list[str]

    # ---- what a backend provides -----------------------------------------------------------------
    @abstractmethod
    def keys(self) -> list[tuple[str, str, int]]:
        """The (dataset, metric, epochs) combinations this backend holds."""

    @abstractmethod
    def _column(self, dataset: str, metric: str, epochs: int) -> np.ndarray:
        """float64[len(self)] for a key already checked to be in keys()."""

    # ---- architectures ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._arch_strs)

    def _str_to_index(self) -> dict[str, int]:
        if not hasattr(self, "_index_by_str"):
            self._index_by_str = {s: i for i, s in enumerate(self._arch_strs)}
        return self._index_by_str

    def arch(self, index: int) -> Arch | SizeArch:
        """The architecture object at benchmark `index`."""
        return SPACES[self.space].from_str(self._arch_strs[self.index_of(index)])

    def arch_str(self, index: int) -> str:
        """The official string of the architecture at benchmark `index`."""
        return self._arch_strs[self.index_of(index)]

    def arch_strs(self) -> list[str]:
        """All official strings, in benchmark order (a copy)."""
        return list(self._arch_strs)

    def index_of(self, arch: int | str | Arch | SizeArch) -> int:
        """Benchmark index of `arch` (an index, an official string, a decimal string, or an object).

        Raises InvalidParameterError for a malformed architecture and ArchNotFoundError for a
        well-formed one that this benchmark does not hold.
        """
        n = len(self)
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if not 0 <= int(arch) < n:
                raise InvalidParameterError(f"{self.name}: index {int(arch)} is out of range; expected 0..{n - 1}.")
            return int(arch)
        if isinstance(arch, str):
            text = arch.strip()
            if text.isascii() and text.isdigit():  # "²".isdigit() is True but int("²") fails
                return self.index_of(int(text))
            arch = SPACES[self.space].from_str(text)
        if not isinstance(arch, SPACES[self.space]):
            raise InvalidParameterError(
                f"{self.name}: arch={arch!r} is not a {self.space} architecture; expected an index 0..{n - 1}, "
                f"an official string or a {SPACES[self.space].__name__}."
            )
        key = str(arch)
        if key not in self._str_to_index():
            raise ArchNotFoundError(f"{self.name}: architecture {key!r} is not in this benchmark ({n} archs).")
        return self._str_to_index()[key]

    # ---- ground truth ------------------------------------------------------------------------------
    def check_key(self, dataset: str, metric: str, epochs: int, *, caller: str = "query") -> tuple[str, str, int]:
        """Validate a (dataset, metric, epochs) triple against what this backend holds."""
        check_option("dataset", dataset, DATASETS, caller=caller)
        check_option("metric", metric, METRICS, caller=caller)
        try:
            epochs = int(epochs)
        except (TypeError, ValueError) as err:
            raise InvalidParameterError(
                f"{caller}(): epochs={epochs!r} is not an integer; expected one of {list(EPOCHS)}."
            ) from err
        key = (dataset, metric, epochs)
        if key not in self.keys():
            held = [k for k in self.keys() if k[0] == dataset]
            alt = [k for k in self.keys() if k[1:] == (metric, epochs)]
            hint = f" For {dataset} it holds {[f'{m}@{e}' for _, m, e in held]}." if held else ""
            if alt:
                hint += (
                    f" {metric}@{epochs} is held for "
                    f"{' or '.join(f'dataset={d!r}' for d in sorted({k[0] for k in alt}))}."
                )
            raise InvalidParameterError(
                f"{caller}(): dataset={dataset!r}, metric={metric!r}, epochs={epochs} is not held by the {self.name} "
                f"benchmark.{hint}"
            )
        return key

    def accuracies(self, dataset: str = "cifar10", metric: str = "test_acc", epochs: int = 200) -> np.ndarray:
        """float64[len(self)]: the metric (percent) of every architecture, in benchmark order (read-only view)."""
        col = self._column(*self.check_key(dataset, metric, epochs, caller="accuracies"))
        col.flags.writeable = False
        return col

    def table(self, dataset: str = "cifar10", metric: str = "test_acc", epochs: int = 200):
        """The metric of every architecture as a pandas Series indexed by benchmark index."""
        import pandas as pd

        values = self.accuracies(dataset, metric, epochs)
        return pd.Series(
            values.copy(), index=pd.RangeIndex(len(self), name="index"), name=column_name(dataset, metric, epochs)
        )

    def query(self, arch, dataset: str = "cifar10", metric: str = "test_acc", epochs: int = 200) -> float:
        """The metric (percent) of one architecture."""
        key = self.check_key(dataset, metric, epochs, caller="query")
        return float(self._column(*key)[self.index_of(arch)])

    def best(self, dataset: str = "cifar10", metric: str = "test_acc", epochs: int = 200) -> tuple[int, float]:
        """(index, value) of the best architecture; ties go to the lowest index."""
        values = self.accuracies(dataset, metric, epochs)
        i = int(np.nanargmax(values))
        return i, float(values[i])

    def info(self, arch, dataset: str = "cifar10", epochs: int = 200) -> ArchInfo:
        """All metrics this backend holds for `arch` on (dataset, epochs)."""
        i = self.index_of(arch)
        check_option("dataset", dataset, DATASETS, caller="info")
        accs = {m: float(self._column(d, m, e)[i]) for d, m, e in self.keys() if d == dataset and e == int(epochs)}
        if not accs:
            self.check_key(dataset, "test_acc", epochs, caller="info")  # raises with the suggestions
        return ArchInfo(index=i, arch=self._arch_strs[i], dataset=dataset, epochs=int(epochs), accuracies=accs)

    # ---- NATS-Bench-shaped aliases, so old scripts port -----------------------------------------------
    def query_index_by_arch(self, arch) -> int:
        """NATS-Bench name for `index_of` (raises ArchNotFoundError instead of returning -1)."""
        return self.index_of(arch)

    def get_more_info(self, index, dataset: str, hp: str | int = "200") -> dict:
        """NATS-Bench-shaped dict: ``{"test-accuracy": ..., "valid-accuracy": ..., "train-accuracy": ...}``
        (held keys only)."""
        info = self.info(index, dataset, int(hp))
        return {m.replace("_acc", "-accuracy"): v for m, v in info.accuracies.items()}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {self.space}, {len(self)} archs, {len(self.keys())} columns>"
