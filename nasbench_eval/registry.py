"""One registry class for every named family (timm-style decorators).

The four shared registries live here: proxies, metrics, benchmarks, searchers. The other families are
`Registry` instances beside their entries: Stage-1 methods (`train.methods.METHODS`), Stage-2 selectors
(`stage2.SELECTORS`), reproductions (`reproduce.REPRODUCTIONS`) and their row runners
(`reproduce.runner.RUNNERS`), SpiderNet strategies (`spidernet.config.STRATEGIES`).
A registry reads like a read-only mapping of name -> registered object (``reg[name]``, ``list(reg)``,
``reg.values()``, ``name in reg``); ``reg.get(name)`` gives the `Entry` with its metadata.

A shared registry imports the module that fills it the first time it is read, so importing the package
stays light (no torch for `query` or `--help`) and a lookup never misses an entry for lack of an import.
"""
from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from dataclasses import dataclass, field

from .exceptions import NasBenchEvalError, UnknownNameError


@dataclass(frozen=True)
class Entry:
    """A registered callable and the metadata the rest of the toolkit reads.

    `higher_is_better` orients a score for ranking and search; `needs_labels` says whether the
    callable needs targets; `tags` are free-form properties (e.g. ``{"label-free"}``); `defaults`
    holds the entry's default options (e.g. a proxy's batch size, init and repeats).
    """

    name: str
    fn: Callable
    higher_is_better: bool = True
    needs_labels: bool = False
    tags: frozenset = field(default_factory=frozenset)
    description: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)  # per-entry default options (batch size, init, ...)
    check: Callable | None = None      # proxies: check(options, rows=B) -> options, validated (None: no own options)
    finalize: Callable | None = None   # proxies: finalize(raw, **options) -> Scored, status rule (None: fn's value)

    def orient(self, value: float) -> float:
        """The "higher is better" view of `value`, for ranking and search."""
        return value if self.higher_is_better else -value


class Registry:
    """Name -> Entry map with aliases, glob listing and suggestions on a miss."""

    def __init__(self, kind: str, plural: str, provider: str | None = None):
        self.kind, self.plural, self._provider = kind, plural, provider
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, tuple[str, bool]] = {}

    def _load(self) -> None:
        """Import the module that registers the built-in entries (once; a no-op while it is importing)."""
        if self._provider is not None:
            provider, self._provider = self._provider, None
            importlib.import_module(provider)

    def register(self, name: str | None = None, *, aliases: tuple[str, ...] = (), **meta):
        """Decorator: register `fn` under `name` (default: its __name__) and optional short aliases."""

        def deco(fn):
            return self.add(name or fn.__name__, fn, aliases=aliases, **meta)

        return deco

    def add(self, name: str, obj, *, aliases: tuple[str, ...] = (), **meta):
        """Register `obj` (a function, a class or a spec object) under `name` and optional aliases; returns `obj`.

        The description defaults to the first docstring line of a function or class (``meta["description"]`` wins).
        """
        for k in (name, *aliases):
            if k in self._entries or k in self._aliases:
                raise NasBenchEvalError(f"{self.kind} {k!r} registered twice ({getattr(obj, '__module__', '?')}).")
        doc = (obj.__doc__ or "").strip().splitlines() if inspect.isroutine(obj) or inspect.isclass(obj) else []
        meta.setdefault("description", doc[0] if doc else "")
        self._entries[name] = Entry(name, obj, **meta)
        for alias in aliases:
            self._aliases[alias] = (name, False)
        return obj

    def deprecate(self, old: str, new: str) -> None:
        """Keep a renamed key working, with a DeprecationWarning on use."""
        self._aliases[old] = (new, True)

    def resolve(self, name: str) -> str:
        """The canonical key for `name` (a key or an alias)."""
        self._load()
        if name in self._entries:
            return name
        if name in self._aliases:
            key, deprecated = self._aliases[name]
            if deprecated:
                warnings.warn(f"{self.kind} {name!r} is deprecated; use {key!r}.", DeprecationWarning, stacklevel=3)
            return key
        near = difflib.get_close_matches(name, [*self._entries, *self._aliases], n=3)
        hint = f" Did you mean {' or '.join(map(repr, near))}?" if near else ""
        raise UnknownNameError(f"unknown {self.kind} {name!r}.{hint} Known {self.plural}: {', '.join(self._entries)}.")

    def get(self, name: str) -> Entry:
        """The Entry registered under `name` or one of its aliases."""
        return self._entries[self.resolve(name)]

    def names(self, pattern: str = "*", *, tags: frozenset | set = frozenset()) -> list[str]:
        """Canonical keys matching the glob `pattern` and carrying all of `tags`, in registration order."""
        self._load()
        return [
            k for k, e in self._entries.items() if fnmatch.fnmatch(k, pattern) and set(tags) <= e.tags
        ]

    def aliases(self) -> dict[str, str]:
        """Alias -> canonical key (deprecated aliases included)."""
        self._load()
        return {a: k for a, (k, _) in self._aliases.items()}

    def __getitem__(self, name: str):
        """The object registered under `name` or an alias (UnknownNameError with suggestions otherwise)."""
        return self.get(name).fn

    def __iter__(self) -> Iterator[str]:
        """Canonical keys, in registration order."""
        self._load()
        return iter(self._entries)

    def values(self) -> list:
        """The registered objects, in registration order."""
        self._load()
        return [e.fn for e in self._entries.values()]

    def items(self) -> list[tuple[str, Any]]:
        """(key, registered object) pairs, in registration order."""
        self._load()
        return [(k, e.fn) for k, e in self._entries.items()]

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries or name in self._aliases

    def __len__(self) -> int:
        self._load()
        return len(self._entries)


PROXIES = Registry("proxy", "proxies", "nasbench_eval.proxies")
METRICS = Registry("metric", "metrics", "nasbench_eval.metrics")
BENCHMARKS = Registry("benchmark", "benchmarks", "nasbench_eval.benchmarks")
SEARCHERS = Registry("searcher", "searchers", "nasbench_eval.search")
