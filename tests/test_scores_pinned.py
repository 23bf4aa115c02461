"""Kernel speed-ups leave the stored scores bit for bit unchanged.

tests/fixtures/pinned_scores.json holds the per-repeat values (`float.hex`) that `tools/pin_scores.py` computed
from the tree at commit 29a751e, before the fast kernels (one-matmul Hamming blocks, ...), for every proxy whose
1,000-arch correlation results are stored, one at a time and through the batched engine, with contiguous and
channels_last batches (the layout of `proxy_batch`'s real images, which convolutions follow). Any change of one
bit in any of them fails here.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tools.pin_scores import SETUP, pinned_values

FIXTURE = Path(__file__).parent / "fixtures" / "pinned_scores.json"


@pytest.fixture(scope="module")
def current():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)          # the pins were computed with one thread (reduction order)
    try:
        yield pinned_values(SETUP)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("key", sorted(json.loads(FIXTURE.read_text())["values"]))
def test_scores_are_bit_identical_to_the_pinned_ones(current, key):
    pinned = json.loads(FIXTURE.read_text())
    assert pinned["setup"] == SETUP
    assert current[key] == pinned["values"][key]
