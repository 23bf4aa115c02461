"""The tss / sss search spaces: parsing, formatting, codes, isomorphism keys."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.space import EDGES, OPS, Arch, SizeArch, all_archs, codes_array, mutate, parse_arch
from nasbench_eval.space.nats_sss import CHANNELS, all_size_archs

INDEX1 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
archs = st.tuples(*[st.sampled_from(OPS)] * 6).map(Arch)


def test_official_order():
    assert OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert EDGES == ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))


def test_spec_example_code():  # spec/metrics.md §1.2
    assert Arch.from_str(INDEX1).code == (3, 3, 4, 1, 3, 1)


@given(archs)
def test_string_roundtrip(a):
    assert Arch.from_str(str(a)) == a


@given(archs)
def test_code_roundtrip(a):
    assert Arch.from_code(a.code) == a
    assert Arch.from_product_index(a.product_index) == a


def test_matrix_layout():
    m = Arch.from_str(INDEX1).to_matrix()
    assert m[1, 0] == 3 and m[2, 1] == 4 and m[3, 0] == 1 and m[3, 2] == 1
    assert np.triu(m).sum() == 0


def test_enumeration_is_complete_and_distinct():
    strs = {str(a) for a in all_archs()}
    assert len(strs) == 15625
    codes = codes_array()
    assert codes.shape == (15625, 6) and len({tuple(c) for c in codes}) == 15625


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|", "node groups"),
        (
            "|conv~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
            "unknown op 'conv'",
        ),
        (
            "|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
            "expected 'op~0'",
        ),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", "has 1 inputs"),
        ("nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", "malformed"),
        (42, "not a string"),
    ],
)
def test_malformed_strings_say_what_is_wrong(text, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        Arch.from_str(text)


@pytest.mark.parametrize(
    "ops, fragment",
    [((0,) * 5, "edge count"), ((0,) * 7, "edge count"), ((5, 0, 0, 0, 0, 0), "index 0..4"), ("abcdef", "edge count")],
)
def test_bad_codes(ops, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        Arch(ops)


def test_bad_product_index():
    with pytest.raises(InvalidParameterError, match="k=15625"):
        Arch.from_product_index(15625)


@given(archs, st.integers(0, 2**32 - 1))
def test_mutate_changes_exactly_one_edge(a, seed):
    b = mutate(a, np.random.default_rng(seed))
    assert sum(x != y for x, y in zip(a.code, b.code)) == 1


def test_isomorph_key_merges_equivalent_cells():
    # node 1 unused by the output: the op on edge 0->1 does not matter when edges 1->2 and 1->3 are none
    a = Arch(("nor_conv_3x3", "skip_connect", "none", "nor_conv_1x1", "none", "skip_connect"))
    b = a.replace(0, "avg_pool_3x3")
    assert a.isomorph_key() == b.isomorph_key()
    # node 1 is a copy of the input (skip), so which of edges 0->2 and 1->2 carries which conv does not matter
    c = Arch(("skip_connect", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect", "skip_connect"))
    d = Arch(("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "skip_connect"))
    assert c.isomorph_key() == d.isomorph_key()
    assert a.isomorph_key() != c.isomorph_key()


def test_isomorph_key_of_dead_cell():
    assert Arch(("none",) * 6).isomorph_key() == "#+#+#"


def test_issue_2_isomorph_partition_matches_benchmark(full_bench):
    """Our keys equal the mirror's `isomorph` strings row by row, hence the same 6,466-class partition."""
    ours = [Arch.from_str(s).isomorph_key() for s in full_bench.arch_strs()]
    theirs = full_bench.isomorph_keys()
    assert ours == theirs
    assert len(set(ours)) == 6466


def test_size_space():
    a = SizeArch.from_str("8:16:24:32:64")
    assert a.channels == (8, 16, 24, 32, 64) and str(a) == "8:16:24:32:64" and a.code == (0, 1, 2, 3, 7)
    assert sum(1 for _ in all_size_archs()) == len(CHANNELS) ** 5 == 32768
    assert parse_arch("64:64:64:64:64", "sss") == SizeArch((64,) * 5)


@pytest.mark.parametrize(
    "text, fragment", [("8:16:24:32", "malformed"), ("8:16:24:32:65", "not allowed"), ("a:b:c:d:e", "malformed")]
)
def test_bad_size_strings(text, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        SizeArch.from_str(text)


def test_parse_arch_unknown_space():
    with pytest.raises(InvalidParameterError, match="space='xss'"):
        parse_arch("8:8:8:8:8", "xss")
