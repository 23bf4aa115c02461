"""Fixtures shared by the metrics test modules (imported explicitly; conftest.py is not ours)."""
from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

SHARED_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def gt_bench():
    """The nb201 ground truth from the offline mirror; missing in CI fails, locally skips."""
    from nasbench_eval import create_benchmark

    if not (SHARED_DATA / "nb201" / "tss_accuracy.csv").exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATA} is missing in CI")
        pytest.skip("shared/data is not beside this checkout")
    return create_benchmark("nb201", data_dir=SHARED_DATA)


@pytest.fixture(scope="session")
def c10(gt_bench) -> np.ndarray:
    """CIFAR-10 test accuracy (hp=200) of all 15,625 archs, benchmark order."""
    return gt_bench.accuracies("cifar10", "test_acc", 200)
