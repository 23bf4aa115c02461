"""A tiny benchmark in the official NATS-Bench on-disk format, with known accuracies.

Layout (what `nats_bench.create(dir, space, fast_mode=True)` reads, learnt from nats_bench 1.8's
api_utils.py): ``meta.pickle.pbz2`` = bz2-pickled ``{"meta_archs": [arch strings]}``; one
``{index:06d}.pickle.pbz2`` per architecture = ``{hp: ArchResults state dict}``, where an ArchResults
state is ``{arch_index, arch_str, all_results: {(dataset, seed): ResultsCount state}, dataset_seed:
{dataset: [seeds]}, clear_net_done}`` and a ResultsCount state is the plain ``__dict__`` below (per-epoch
dicts ``train_acc1es[epoch]`` and ``eval_acc1es["<set>@<epoch>"]``). Written with plain dicts and bz2,
not with nats_bench's own classes, so reading them is a real test of the format.

Ground truth: `expected(space)[(dataset, metric, epochs)][i]` is the mean over seeds at the last
epoch. Seeds scatter symmetrically around it, and every earlier epoch is 20 points lower, so a
reader that takes one seed or the wrong epoch gets a different number.
"""
from __future__ import annotations

import bz2
import pickle
from pathlib import Path

import pandas as pd

TSS_ARCHS = [
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|",
]
SSS_ARCHS = ["64:64:64:64:64", "8:8:8:8:8", "8:16:24:32:64", "16:16:40:40:56"]
ARCHS = {"tss": TSS_ARCHS, "sss": SSS_ARCHS}
HPS = {"tss": ("12", "200"), "sss": ("01", "12", "90")}
RANK = [2, 0, 4, 1, 3]  # value order of the archs: index 2 is best in every column
DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
EVAL_SETS = {  # as in the official files
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("ori-test", "x-valid", "x-test"),
    "ImageNet16-120": ("ori-test", "x-valid", "x-test"),
}
METRIC_SET = {  # metric -> set name, per dataset (None: not held)
    "cifar10-valid": {"train_acc": "train", "valid_acc": "x-valid", "test_acc": "ori-test"},
    "cifar10": {"train_acc": "train", "valid_acc": None, "test_acc": "ori-test"},
    "cifar100": {"train_acc": "train", "valid_acc": "x-valid", "test_acc": "x-test"},
    "ImageNet16-120": {"train_acc": "train", "valid_acc": "x-valid", "test_acc": "x-test"},
}
SET_OFFSET = {"train": 0.5, "x-valid": 0.25, "x-test": 0.0, "ori-test": 0.125}


def seeds_of(i: int, hp: str) -> list[int]:
    """Odd archs have a third seed at the longest schedule (as NB201's hp=200 does for some archs)."""
    return [777, 888, 999] if i % 2 and hp in ("200", "90") else [777, 888]


def _final(i: int, hp: str, dataset: str, setname: str) -> float:
    return 30 + 10 * RANK[i] + 2 * DATASETS.index(dataset) + SET_OFFSET[setname] + 0.0625 * int(hp)


def _per_seed(value: float, n: int) -> list[float]:
    return [value - 0.5, value + 0.5] if n == 2 else [value - 0.75, value + 0.25, value + 0.5]


def expected(space: str) -> dict[tuple[str, str, int], list[float]]:
    """(dataset, metric, epochs) -> the mean-over-seeds value of every arch, in index order."""
    out = {}
    for hp in HPS[space]:
        for dataset in DATASETS:
            for metric, setname in METRIC_SET[dataset].items():
                if setname is not None:
                    out[(dataset, metric, int(hp))] = [
                        _final(i, hp, dataset, setname) for i in range(len(ARCHS[space]))
                    ]
    return out


def _results_count(i: int, space: str, hp: str, dataset: str, seed: int, k: int) -> dict:
    epochs = int(hp)
    n = len(seeds_of(i, hp))
    final = {s: _per_seed(_final(i, hp, dataset, s), n)[k] for s in ("train",) + EVAL_SETS[dataset]}
    acc = lambda s, e: final[s] if e == epochs - 1 else final[s] - 20  # noqa: E731
    arch = ARCHS[space][i]
    config = (
        {"name": "infer.tiny", "channel": 16, "num_cells": 5, "arch_str": arch, "class_num": 10}
        if space == "tss"
        else {
            "name": "infer.shape.tiny",
            "channels": arch,
            "genotype": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                        "|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
            "class_num": 10,
        }
    )
    return {
        "name": dataset, "net_state_dict": None,
        "train_acc1es": {e: acc("train", e) for e in range(epochs)}, "train_acc5es": None,
        "train_losses": {e: 1.0 / (e + 1) for e in range(epochs)}, "train_times": {e: 2.0 for e in range(epochs)},
        "arch_config": config, "params": 0.1 * (i + 1), "flop": 10.0 * (i + 1), "seed": seed, "epochs": epochs,
        "latency": [0.01],
        "eval_names": list(EVAL_SETS[dataset]),
        "eval_acc1es": {f"{s}@{e}": acc(s, e) for s in EVAL_SETS[dataset] for e in range(epochs)},
        "eval_times": {f"{s}@{e}": 0.5 for s in EVAL_SETS[dataset] for e in range(epochs)},
        "eval_losses": {f"{s}@{e}": 1.0 for s in EVAL_SETS[dataset] for e in range(epochs)},
    }


def arch_record(i: int, space: str) -> dict:
    """The content of one ``<index>.pickle.pbz2``: hp -> ArchResults state dict."""
    record = {}
    for hp in HPS[space]:
        seeds = seeds_of(i, hp)
        record[hp] = {
            "arch_index": i,
            "arch_str": ARCHS[space][i],
            "clear_net_done": True,
            "dataset_seed": {d: list(seeds) for d in DATASETS},
            "all_results": {
                (d, s): _results_count(i, space, hp, d, s, k) for d in DATASETS for k, s in enumerate(seeds)
            },
        }
    return record


def _dump(obj, path: Path) -> None:
    with bz2.BZ2File(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)


def build_official_dir(root: Path, space: str) -> Path:
    """Write the fast-mode archive folder ``root/<base>-simple`` and return it."""
    folder = Path(root) / {"tss": "NATS-tss-v1_0-3ffb9-simple", "sss": "NATS-sss-v1_0-50262-simple"}[space]
    folder.mkdir(parents=True)
    _dump({"meta_archs": list(ARCHS[space])}, folder / "meta.pickle.pbz2")
    for i in range(len(ARCHS[space])):
        _dump(arch_record(i, space), folder / f"{i:06d}.pickle.pbz2")
    return folder


def build_official_file(root: Path, space: str) -> Path:
    """Write the single-file (non-fast-mode) form of the same benchmark and return its path."""
    path = Path(root) / f"{space}-full.pickle.pbz2"
    n = len(ARCHS[space])
    _dump(
        {
            "meta_archs": list(ARCHS[space]),
            "arch2infos": {i: arch_record(i, space) for i in range(n)},
            "evaluated_indexes": list(range(n)),
        },
        path,
    )
    return path


def write_table_csv(path: Path, space: str) -> Path:
    """The same ground truth in TableBenchmark's CSV format (no isomorph column)."""
    frame = pd.DataFrame({"index": range(len(ARCHS[space])), "arch": ARCHS[space]})
    for (dataset, metric, epochs), values in expected(space).items():
        frame[f"{dataset}_{metric}_{epochs}ep"] = values
    frame.to_csv(path, index=False)
    return path


def build_nb201_pth(root: Path, name: str = "NAS-Bench-201-v1_1-096897.pth") -> Path:
    """The same tss benchmark as a NAS-Bench-201 ``.pth`` file: ``torch.save`` of ``{meta_archs, arch2infos:
    {index: {"less": hp-12 state, "full": hp-200 state}}, evaluated_indexes}`` (nas_201_api's format)."""
    import torch

    n = len(ARCHS["tss"])
    infos = {i: {"less": arch_record(i, "tss")["12"], "full": arch_record(i, "tss")["200"]} for i in range(n)}
    path = Path(root) / name
    torch.save({"meta_archs": list(ARCHS["tss"]), "arch2infos": infos, "evaluated_indexes": list(range(n))}, path)
    return path
