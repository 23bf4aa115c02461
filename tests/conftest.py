"""Shared fixtures. Golden tests read the offline mirror at ../shared/data beside the checkout."""
from __future__ import annotations

import os
import pathlib

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHARED_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    """The offline mirror; missing in CI is a failure, locally a skip."""
    if not SHARED_DATA.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATA} is missing in CI")
        pytest.skip("shared/data is not beside this checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def full_bench(shared_data):
    """The tss ground truth from the mirror (15,625 archs)."""
    from nasbench_eval import create_benchmark

    return create_benchmark("nb201", data_dir=shared_data)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Caches (decoded datasets, score stores) go to a per-session temp dir, never the user's home."""
    monkeypatch.setenv("NASBENCH_EVAL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def gt_bench(full_bench):
    """Alias of `full_bench` used by the metrics tests."""
    return full_bench


@pytest.fixture(scope="session")
def c10(full_bench):
    """CIFAR-10 test accuracy (hp=200) of all 15,625 archs, benchmark order."""
    return full_bench.accuracies("cifar10", "test_acc", 200)
