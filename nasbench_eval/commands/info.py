"""`nasbench-eval info`: versions, device, and what data was found where."""
from __future__ import annotations

import importlib.metadata
import platform

import torch

from .. import __version__
from ..benchmarks.table import TABLE_FILES, TableBenchmark
from ..exceptions import DataNotFoundError
from ..paths import CIFAR10_NPZ, candidate_data_dirs, find_data_file

HELP = "versions, compute device, and where the benchmark tables and images were found"


def add_arguments(p):
    p.add_argument("--no-load", action="store_true", help="only locate files, do not load and validate the tables")


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _locate(relative, data_dir) -> dict:
    try:
        return {"found": True, "path": str(find_data_file(relative, data_dir))}
    except DataNotFoundError as err:
        return {"found": False, "path": None, "message": str(err)}


def run(args) -> dict:
    data = {}
    for space, names in TABLE_FILES.items():
        entry = _locate(names, args.data_dir)
        if entry["found"] and not args.no_load:
            bench = TableBenchmark(entry["path"], space)
            entry.update(archs=len(bench), columns=[f"{d} {m}@{e}" for d, m, e in bench.keys()])
        data[f"{space}_table"] = entry
    data["cifar10_images"] = _locate(CIFAR10_NPZ, args.data_dir)
    cuda = torch.cuda.is_available()
    return {
        "nasbench_eval": __version__,
        "python": platform.python_version(),
        "versions": {d: _version(d) for d in ("torch", "numpy", "pandas", "scipy", "nats_bench", "nas-bench-201")},
        "device": {"cuda": cuda, "name": torch.cuda.get_device_name(0) if cuda else "cpu", "threads": torch.get_num_threads()},
        "data_search_order": [f"{origin}: {path}" for origin, path in candidate_data_dirs(args.data_dir)],
        "data": data,
    }


def format_text(r: dict) -> str:
    lines = [f"nasbench-eval {r['nasbench_eval']} (python {r['python']})"]
    lines.append("versions: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in r["versions"].items()))
    dev = r["device"]
    lines.append(f"device: {dev['name']}" + ("" if dev["cuda"] else f" ({dev['threads']} threads; no CUDA)"))
    lines.append("data search order: " + " > ".join(r["data_search_order"]))
    for name, entry in r["data"].items():
        if entry["found"]:
            extra = f" ({entry['archs']} archs; {', '.join(entry['columns'])})" if "archs" in entry else ""
            lines.append(f"{name}: {entry['path']}{extra}")
        else:
            lines.append(f"{name}: not found")
    return "\n".join(lines)
