"""`nasbench-eval info`: versions, device, and what data was found where."""
from __future__ import annotations

import importlib.metadata
import platform

import torch

from .. import __version__
from ..benchmarks.table import TableBenchmark
from ..data.describe import TABLE_SPACES, describe_data


def add_arguments(p):
    p.add_argument("--no-load", action="store_true", help="only locate files, do not load and validate the tables")


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _add_table_contents(tables: dict) -> None:
    """Load and validate each table found (once per file) and add its size and accuracy columns."""
    loaded = {}
    for name, entry in tables.items():
        if entry["found"]:
            if entry["path"] not in loaded:
                bench = TableBenchmark(entry["path"], TABLE_SPACES[name])
                loaded[entry["path"]] = {"archs": len(bench), "columns": [f"{d} {m}@{e}" for d, m, e in bench.keys()]}
            entry.update(loaded[entry["path"]])


def run(args) -> dict:
    data = describe_data(args.data_dir)
    if not args.no_load:
        _add_table_contents(data["tables"])
    cuda = torch.cuda.is_available()
    return {
        "nasbench_eval": __version__,
        "python": platform.python_version(),
        "versions": {d: _version(d) for d in ("torch", "numpy", "pandas", "scipy", "nats_bench", "nas-bench-201")},
        "device": {
            "cuda": cuda,
            "name": torch.cuda.get_device_name(0) if cuda else "cpu",
            "threads": torch.get_num_threads(),
        },
        "data": data,
    }


def format_text(r: dict) -> str:
    lines = [f"nasbench-eval {r['nasbench_eval']} (python {r['python']})"]
    lines.append("versions: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in r["versions"].items()))
    dev = r["device"]
    lines.append(f"device: {dev['name']}" + ("" if dev["cuda"] else f" ({dev['threads']} threads; no CUDA)"))
    data = r["data"]
    lines.append("data search order: " + " > ".join(f"{p['origin']}: {p['path']}" for p in data["places"]))
    for kind in ("tables", "datasets"):
        for name, entry in data[kind].items():
            if entry["found"]:
                extra = f" ({entry['archs']} archs; {', '.join(entry['columns'])})" if "archs" in entry else ""
                lines.append(f"{name}: {entry['path']}{extra}")
            else:
                lines.append(f"{name}: not found")
    probe = data["probe_set"]
    lines.append(f"CIFAR-10 probe set (default proxy batches): {probe['path']} ({probe['images']} images)")
    lines.append(f"cache: {data['cache_dir']}")
    return "\n".join(lines)
