"""Module-level ``__getattr__`` that imports a package's heavy parts on first access (PEP 562)."""
from __future__ import annotations

import importlib
from typing import Callable, Mapping


def lazy_getattr(package: str, exports: Mapping[str, tuple[str, str | None]]) -> Callable[[str], object]:
    """The ``__getattr__`` for `package`: public name -> (submodule, attribute, or None for the submodule itself)."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = exports[name]
        value = importlib.import_module(f".{module}", package)
        return value if attr is None else getattr(value, attr)

    return __getattr__
