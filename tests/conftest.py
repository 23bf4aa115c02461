"""Shared fixtures. Every test runs on the package's own data (the NB201 table, the CIFAR-10 probe set)
and tiny files it writes; the few that need all CIFAR-10 images (supernet training, the decoding golden
test) read the folder named by $NASBENCH_EVAL_DATA, which `.ci/run` sets."""
from __future__ import annotations

import os
import pathlib

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

FULL_DATA_ENV = "NASBENCH_EVAL_DATA"
FULL_DATA = os.environ.get(FULL_DATA_ENV)
"""Read once here; the autouse fixture unsets the variable, so every other test sees the package data only."""


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def full_data() -> pathlib.Path:
    """A data folder with all CIFAR-10 images ($NASBENCH_EVAL_DATA); missing in CI is a failure, locally a skip."""
    if not FULL_DATA or not (pathlib.Path(FULL_DATA) / "cifar10").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"${FULL_DATA_ENV} must name a folder holding cifar10/ in CI (got {FULL_DATA!r})")
        pytest.skip(f"needs all CIFAR-10 images: set ${FULL_DATA_ENV}")
    return pathlib.Path(FULL_DATA)


@pytest.fixture(scope="session")
def full_bench():
    """The tss ground truth shipped in the package (15,625 archs)."""
    from nasbench_eval import create_benchmark

    return create_benchmark("nb201")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch, request):
    """Caches (decoded datasets, score stores) go to a per-session temp dir and the per-user data folder to a
    per-test one (created only if a test writes there), never the user's home."""
    import hashlib

    monkeypatch.setenv("NASBENCH_EVAL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    test_id = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.getbasetemp() / "user-data" / test_id))
    monkeypatch.delenv(FULL_DATA_ENV, raising=False)


@pytest.fixture(scope="session")
def gt_bench(full_bench):
    """Alias of `full_bench` used by the metrics tests."""
    return full_bench


@pytest.fixture(scope="session")
def c10(full_bench):
    """CIFAR-10 test accuracy (hp=200) of all 15,625 archs, benchmark order."""
    return full_bench.accuracies("cifar10", "test_acc", 200)


STAGE1_TINY = {"epochs": 1, "batch_size": 32, "cells_per_stage": 1, "C": 4}
"""Stage-1 hyper-parameters small enough for a CPU test (1 epoch, 1 cell per stage, 4 channels)."""


def random_split(n: int, seed: int):
    """A DeviceSplit of `n` seeded random 32x32 RGB uint8 images with labels 0..9 (CPU)."""
    import torch

    from nasbench_eval.train import DeviceSplit

    g = torch.Generator().manual_seed(seed)
    return DeviceSplit(torch.randint(0, 256, (n, 32, 32, 3), generator=g, dtype=torch.uint8),
                       torch.randint(0, 10, (n,), generator=g), "cifar10")
