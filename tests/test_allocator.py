"""keep_freed_memory: freed activation-sized tensors are reused instead of page-faulted in again."""
from __future__ import annotations

import subprocess
import sys

import pytest

from nasbench_eval.allocator import keep_freed_memory

FAULTS = """
import resource, sys, torch
from nasbench_eval.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "tuned" else False
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
x = torch.randn(128, 16, 32, 32)                     # 8 MiB, an NB201 first-stage activation at batch 128
before = faults()
for _ in range(50):
    y = x + 1
    z = y * 2
    del y, z
print(applied, faults() - before)
"""


def _faults(mode: str, env=None) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True, env=env)
    applied, faults = out.stdout.split()
    return applied, int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux") or not keep_freed_memory(), reason="glibc's mallopt only")
def test_freed_tensors_are_reused_not_faulted_in_again():
    applied, faults = _faults("tuned")
    assert applied == "True"
    assert faults < 20_000          # 100 allocations of 2,048 pages each; reused, about 2 allocations' worth


def test_a_users_own_malloc_settings_win(monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert keep_freed_memory() is False
