"""Stage-1 run directories: everything a later evaluation needs, in plain files.

Layout of ``DIR``::

    config.json          method, seed, dataset, subspace, complete hyper-parameters, data sizes, versions
    supernet.pt          shared weights (state_dict; split copies and bias tables included)
    arch.pt              architecture tensors of the method (alpha / theta), if any
    edge_probs.json/.npy learned per-edge op distribution, 6 x 5 (rows = edges, columns = OPS; 0 outside the subspace)
    alphas.json/.npy     raw architecture parameters, 6 x 5 (alpha logits or DrNAS theta; -inf outside the subspace),
                         only for methods with architecture parameters
    curves.json          per-epoch training curves

`load_run` rebuilds the supernet from ``config.json`` and loads the weights, so predictions are
identical to those of the saved object.
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .._json import write_json
from ..device import resolve_device
from ..exceptions import CorruptDataError, DataNotFoundError
from ..nets.supernet import SUBSPACES, Supernet
from ..space import OPS
from .loop import Stage1Result

FILES = ("config.json", "supernet.pt", "edge_probs.json", "edge_probs.npy", "curves.json")


def _full_matrix(raw: np.ndarray, op_indices: tuple[int, ...]) -> np.ndarray:
    out = np.full((raw.shape[0], len(OPS)), -np.inf)
    out[:, list(op_indices)] = raw
    return out


def save_run(result: Stage1Result, out_dir: str | os.PathLike) -> Path:
    """Write a trained Stage-1 result to `out_dir` (created; existing files are overwritten). Returns the path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net, m = result.supernet, result.method
    write_json(out / "config.json", {**result.config, "is_split": net.is_split}, indent=None)
    torch.save(net.state_dict(), out / "supernet.pt")
    probs = m.edge_probs()
    np.save(out / "edge_probs.npy", probs)
    write_json(out / "edge_probs.json", {"ops": list(OPS), "edge_probs": probs.tolist(), "kind": "probs"}, indent=None)
    raw = m.raw_params()
    if raw is not None:
        full = _full_matrix(raw, net.op_indices)
        np.save(out / "alphas.npy", full)
        kind = "dirichlet_theta" if result.config["method"] == "drnas" else "softmax"
        write_json(out / "alphas.json", {"ops": list(OPS), "alphas": full, "kind": kind}, indent=None)  # inf -> null
        torch.save(m.arch_parameters(), out / "arch.pt")
    write_json(out / "curves.json", result.curves, indent=None)
    return out


@dataclass
class LoadedRun:
    """A run directory read back.

    Attributes
    ----------
    path : Path
    supernet : Supernet
        In eval mode, on the requested device.
    config : dict
    curves : dict
    edge_probs : float64[6, 5]
    alphas : float64[6, 5] or None
        Raw architecture parameters (-inf outside the subspace).
    """

    path: Path
    supernet: Supernet
    config: dict
    curves: dict
    edge_probs: np.ndarray
    alphas: np.ndarray | None


def _read_json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CorruptDataError(f"load_run(): {str(path)!r} is not readable JSON ({err}); "
                               "expected a file written by save_run.") from None
    if not isinstance(obj, dict):
        raise CorruptDataError(f"load_run(): {str(path)!r} holds a JSON {type(obj).__name__}; "
                               "expected an object written by save_run.")
    return obj


def _check_config(cfg: dict, path: Path) -> None:
    """The fields `load_run` rebuilds the supernet from, with their types and ranges."""
    from ..data.specs import DATASET_SPECS

    where = f"load_run(): {str(path)!r}"
    hp = cfg.get("hparams")
    if not isinstance(hp, dict):
        raise CorruptDataError(f"{where} has no 'hparams' object; "
                               "expected a config.json written by nasbench-eval stage1.")
    for key, value in (("hparams.C", hp.get("C")), ("hparams.cells_per_stage", hp.get("cells_per_stage")),
                       ("num_classes", cfg.get("num_classes"))):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
            raise CorruptDataError(f"{where}: {key}={value!r}; "
                                   "expected a positive integer (a config written by stage1).")
    if cfg.get("space") not in SUBSPACES:
        raise CorruptDataError(f"{where}: space={cfg.get('space')!r}; expected one of {list(SUBSPACES)}.")
    if cfg.get("dataset") not in DATASET_SPECS:
        raise CorruptDataError(f"{where}: dataset={cfg.get('dataset')!r}; expected one of {list(DATASET_SPECS)}.")
    if not isinstance(cfg.get("method"), str):
        raise CorruptDataError(f"{where}: method={cfg.get('method')!r}; expected a Stage-1 method name.")


def _load_weights(net: Supernet, file: Path) -> None:
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols on stderr
            warnings.simplefilter("ignore")
            state = torch.load(file, map_location="cpu", weights_only=True)  # weights_only: no code runs from the file
        net.load_state_dict(state)
    except Exception as err:  # noqa: BLE001 -- torch raises RuntimeError, UnpicklingError, EOFError, KeyError ...
        reason = " ".join(str(err).split())[:160]
        raise CorruptDataError(f"load_run(): {str(file)!r} is not this run's supernet state_dict "
                               f"({type(err).__name__}: {reason}); expected the supernet.pt written with config.json "
                               "by stage1.") from None


def _load_matrix(file: Path) -> np.ndarray:
    try:
        arr = np.load(file, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise CorruptDataError(f"load_run(): {str(file)!r} is not a readable .npy ({err}); "
                               "expected a 6 x 5 matrix.") from None
    if arr.shape != (6, len(OPS)) or not np.issubdtype(arr.dtype, np.floating):
        raise CorruptDataError(f"load_run(): {str(file)!r} holds {arr.dtype} of shape {arr.shape}; "
                               "expected a 6 x 5 float matrix.")
    return arr


def load_run(run_dir: str | os.PathLike, *, device=None) -> LoadedRun:
    """Rebuild the supernet of a run directory (see module docstring); predictions equal the saved supernet's.

    Raises
    ------
    DataNotFoundError
        If `run_dir` or one of its required files is missing.
    CorruptDataError
        If a file is damaged or does not belong to a Stage-1 run (one line naming the file).
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise DataNotFoundError(f"load_run(): run_dir={str(path)!r} is not a folder; "
                                "expected a directory written by nasbench-eval stage1.")
    missing = [f for f in FILES if not (path / f).is_file()]
    if missing:
        raise DataNotFoundError(
            f"load_run(): run_dir={str(path)!r} lacks {missing}; expected a directory written by save_run / "
            "nasbench-eval stage1."
        )
    cfg = _read_json(path / "config.json")
    _check_config(cfg, path / "config.json")
    curves = _read_json(path / "curves.json")
    edge_probs = _load_matrix(path / "edge_probs.npy")
    alphas = _load_matrix(path / "alphas.npy") if (path / "alphas.npy").is_file() else None
    hp = cfg["hparams"]
    dev = resolve_device(device)
    net = Supernet(hp["C"], hp["cells_per_stage"], num_classes=cfg["num_classes"], space=cfg["space"],
                   bias_depth=hp.get("bias_depth") or 0, seed=0)
    if cfg.get("is_split"):
        net.split()
    _load_weights(net, path / "supernet.pt")
    return LoadedRun(path, net.to(dev).eval(), cfg, curves, edge_probs, alphas)
