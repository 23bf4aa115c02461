"""Reproductions that train supernets: the second kind of `reproduce` target, beside the benchmark-only tables.

Each is an `Experiment` (`experiment`) registered here by name. `run_experiment` runs it in a
context of the command's options, adds provenance and writes ``<name>.md``, ``<name>.csv`` and
``<name>.json`` (figures go beside them). The expensive work -- Stage-1 run directories, cached
evaluations and selections -- lives in ``<out>/work`` and is resumed by running the same command
again.

>>> list_experiments()
['pup-table2', 'interchoice-curves']
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from .._json import write_json
from ..exceptions import UnknownNameError
from ..provenance import provenance
from . import interchoice, pup_table2
from .experiment import Experiment, ExperimentContext

EXPERIMENTS: Mapping[str, Experiment] = MappingProxyType({e.name: e for e in (pup_table2.EXPERIMENT, interchoice.EXPERIMENT)})
"""Every reproduction that trains supernets, by name (read-only)."""


def list_experiments() -> list[str]:
    """Names of the trained reproductions, in a stable order."""
    return list(EXPERIMENTS)


def get_experiment(name: str) -> Experiment:
    """The experiment `name`; raises UnknownNameError listing all names."""
    if name not in EXPERIMENTS:
        raise UnknownNameError(f"reproduce(): name={name!r} is not a trained reproduction; expected one of {list(EXPERIMENTS)}.")
    return EXPERIMENTS[name]


def write_experiment(exp: Experiment, result: dict, out_dir) -> dict:
    """Write ``<name>.md``, ``<name>.csv`` and ``<name>.json`` to `out_dir`; returns their paths (and the figures')."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"markdown": out / f"{exp.name}.md", "csv": out / f"{exp.name}.csv", "json": out / f"{exp.name}.json"}
    paths = {**{k: str(v) for k, v in files.items()}, **result.get("figures", {})}
    result["files"] = paths
    files["markdown"].write_text(exp.markdown(result))
    exp.frame(result).to_csv(files["csv"], index=False)
    write_json(files["json"], result)
    return paths


def run_experiment(name: str, ctx: ExperimentContext) -> dict:
    """Run (or resume) experiment `name` in `ctx`, with provenance; writes its files to ``ctx.out``.

    Returns
    -------
    dict
        The experiment's result (``experiment``, ``title``, ``paper``, ``source``, ``quick``,
        ``warning``, ``reduction``, ``notes``, ``settings``, its tables) plus ``provenance`` and
        ``files``.
    """
    exp = get_experiment(name)
    result = exp.run(ctx)
    result["provenance"] = provenance(ctx.device)
    write_experiment(exp, result, ctx.out)
    return result


__all__ = ["EXPERIMENTS", "Experiment", "ExperimentContext", "get_experiment", "list_experiments", "run_experiment",
           "write_experiment"]
