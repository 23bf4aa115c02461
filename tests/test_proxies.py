"""Proxy registry contract, score records, profiles, settings keys and the degenerate paths."""
from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench_eval.exceptions import InvalidParameterError, UnknownNameError
from nasbench_eval.nets.network import build_network
from nasbench_eval.proxies import (
    PROFILES, STATUSES, compute_proxy, get_proxy, has_dead_cell, list_profiles, list_proxies,
    Scored, repeat_seed, resolve_settings, rows_needed, score_arch, settings_key, tenas_rank,
)
from nasbench_eval.proxies.base import finalize
from nasbench_eval.space import Arch, all_archs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
SPEC_KEYS = {"nwot", "synflow", "synflow_log", "ntk_cond", "lr_count", "jacob_cov", "snip", "grasp", "fisher",
             "grad_norm", "plain", "params", "flops", "tenas_rank"}
TINY = dict(C=4, N=1)


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(48, 3, 32, 32, generator=g), torch.randint(0, 10, (48,), generator=g)


@pytest.fixture()
def tiny_net():
    return build_network(BEST, C=4, N=1, seed=0)


def _small(name):
    """Options that keep every protocol tiny (C=4, N=1 nets, 8 rows, 1 repeat; LR 2 x 20 patches)."""
    if name == "lr_count":
        return dict(batch_size=20, n_batches=2, repeats=1)
    if "data-free" in get_proxy(name).tags:
        return dict(TINY)
    return dict(TINY, batch_size=8, repeats=1)


# ---- registry ------------------------------------------------------------------------------------
def test_every_spec_key_is_registered():
    assert set(list_proxies()) == SPEC_KEYS


@pytest.mark.parametrize(
    "alias, key", [("naswot", "nwot"), ("ntk", "ntk_cond"), ("lr", "lr_count"), ("jacov", "jacob_cov")]
)
def test_aliases_resolve_to_the_spec_key(alias, key):
    assert get_proxy(alias).name == key
    assert key in list_proxies(alias)


def test_directions_follow_the_spec():
    lower = {k for k in list_proxies() if not get_proxy(k).higher_is_better}
    assert lower == {"ntk_cond"}
    assert get_proxy("ntk").orient(2.0) == -2.0


@pytest.mark.parametrize(
    "key, batch_size, init, repeats",
    [
        ("nwot", 128, "torch_default", 1),
        ("ntk_cond", 32, "kaiming_normal_fan_out", 3),
        ("lr_count", 1000, "kaiming_normal_fan_in", 3),
        ("snip", 64, "torch_default", 1),
        ("synflow", 1, "torch_default", 1),
    ],
)
def test_entry_defaults_follow_spec_summary_table(key, batch_size, init, repeats):
    d = get_proxy(key).defaults
    assert (d["batch_size"], d["init"], d["repeats"]) == (batch_size, init, repeats)
    assert "dtype" in d and "network" in d


def test_unknown_proxy_suggests_a_name():
    with pytest.raises(UnknownNameError, match="nwot"):
        get_proxy("nwott")


# ---- contract: every registered proxy ------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SPEC_KEYS - {"tenas_rank"}))
def test_proxy_contract(name, tiny_net, batch):
    x, y = batch[0][:8], batch[1][:8]
    before = {k: v.clone() for k, v in tiny_net.state_dict().items()}
    rng_before = torch.get_rng_state()
    a = compute_proxy(name, tiny_net, (x, y), device="cpu", seed=0)
    b = compute_proxy(name, tiny_net, (x, y), device="cpu", seed=0)
    assert isinstance(a, float) and a == b and math.isfinite(a)
    assert all(torch.equal(before[k], v) for k, v in tiny_net.state_dict().items())  # deep copy, untouched
    assert all(p.dtype == torch.float32 for p in tiny_net.parameters())               # synflow's float64 stays inside
    assert torch.equal(rng_before, torch.get_rng_state())                             # global RNG restored


@pytest.mark.parametrize("name", sorted(SPEC_KEYS - {"tenas_rank"}))
def test_score_arch_record_contract(name, batch):
    rec = score_arch(BEST, name, batch, dataset="cifar10", seed=3, device="cpu", **_small(name))
    again = score_arch(BEST, name, batch, dataset="cifar10", seed=3, device="cpu", **_small(name))
    assert rec == again and rec.status == "ok" and math.isfinite(rec.value)
    assert rec.name == name and rec.seed == 3 and rec.dataset == "cifar10" and not rec.dead_cell
    assert rec.value == pytest.approx(float(np.mean(rec.repeats)))
    assert rec.options == resolve_settings(name, **_small(name))
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.value = 0.0                                                               # frozen


def test_population_proxy_is_refused_for_one_network(tiny_net, batch):
    with pytest.raises(InvalidParameterError, match="tenas_rank"):
        compute_proxy("tenas_rank", tiny_net, batch)
    with pytest.raises(InvalidParameterError, match="population"):
        score_arch(BEST, "tenas_rank", batch)


# ---- seeds and repeats ---------------------------------------------------------------------------
def test_seed_changes_weights_and_score(batch):
    a = score_arch(BEST, "nwot", batch, seed=0, batch_size=8, **TINY, device="cpu")
    b = score_arch(BEST, "nwot", batch, seed=1, batch_size=8, **TINY, device="cpu")
    assert a.value != b.value


def test_repeat_r_uses_its_seed_and_its_rows(batch):
    # repeat 1 of a 2-repeat run = compute_proxy on a net built from repeat_seed(seed, 1), rows 8..15.
    x, _ = batch
    rec = score_arch(BEST, "ntk", batch, seed=5, batch_size=8, repeats=2, **TINY, device="cpu")
    net1 = build_network(BEST, **TINY, init="kaiming_normal_fan_out", seed=repeat_seed(5, 1))
    assert rec.repeats[1] == compute_proxy("ntk", net1, (x[8:16], None), device="cpu", seed=repeat_seed(5, 1))
    assert rec.repeats[0] != rec.repeats[1]


def test_same_init_and_same_data_make_repeats_identical(batch):
    rec = score_arch(
        BEST, "ntk", batch, batch_size=8, repeats=3, repeat_init="same", repeat_data="same", **TINY, device="cpu"
    )
    assert len(set(rec.repeats)) == 1


def test_same_init_new_data_varies_only_through_the_data(batch):
    # TE-NAS code (§7.1): fixed weights, new batch each repeat -> repeats differ.
    rec = score_arch(BEST, "ntk", batch, batch_size=8, repeats=2, repeat_init="same", **TINY, device="cpu")
    assert rec.repeats[0] != rec.repeats[1]


def test_too_few_rows_is_a_clear_error(batch):
    with pytest.raises(InvalidParameterError, match="rows"):
        score_arch(BEST, "ntk", (batch[0][:10], None), batch_size=8, repeats=2, **TINY)
    assert rows_needed("ntk") == 96 and rows_needed("ntk", repeat_data="same") == 32
    assert rows_needed("lr") == 3000 and rows_needed("synflow") == 1 and rows_needed("nwot", profile="naslib") == 32


# ---- degenerate architectures (spec §1.4) ---------------------------------------------------------
@pytest.mark.parametrize("name, value, status", [
    ("nwot", -math.inf, "degenerate"), ("synflow", 0.0, "degenerate"), ("synflow_log", 0.0, "degenerate"),
    ("ntk_cond", math.inf, "degenerate"), ("jacob_cov", math.nan, "nan"), ("lr_count", 1.0, "degenerate"),
])
def test_all_none_arch_is_flagged_not_crashed(name, value, status, batch):
    rec = score_arch(ALL_NONE, name, batch, device="cpu", **_small(name))
    assert rec.dead_cell and rec.status == status and rec.reason
    assert (math.isnan(rec.value) if math.isnan(value) else rec.value == value)


def test_nonfinite_value_and_tenas_nan_replace_the_value(batch):
    rec = score_arch(ALL_NONE, "nwot", batch, profile="naslib", **TINY, device="cpu")
    assert (rec.value, rec.status) == (-1e8, "degenerate") and "nonfinite_value" in rec.reason
    rec = score_arch(ALL_NONE, "ntk", batch, batch_size=8, repeats=1, tenas_nan=1e5, **TINY, device="cpu")
    assert (rec.value, rec.status) == (1e5, "degenerate")


def test_dead_cell_count_matches_spec():
    # spec §1.4: 341 of the 15,625 genotypes have no none-free path from node 0 to node 3.
    assert sum(has_dead_cell(a) for a in all_archs()) == 341
    assert not has_dead_cell(Arch.from_str(BEST))


def test_status_rules_give_exactly_the_spec_statuses():
    """Each proxy's own finalize rule, fed its degenerate and overflowing raw values, gives only statuses of
    STATUSES and all four of them; an ``ok`` value that is not finite is re-classified."""
    raws = {"nwot": [(1.0, 2.5), (0.0, -math.inf), (-1.0, 3.0)], "synflow": [2.0, 0.0, math.nan, math.inf],
            "synflow_log": [math.e, 0.0, math.nan], "lr_count": [(7, 9), (1, 9), (1, 1)],
            "ntk_cond": [torch.eye(3), torch.zeros(3, 3), torch.tensor([[1.0, 1.0], [1.0, 1.0]])]}
    got = {(name, finalize(get_proxy(name), raw, {}).status) for name, values in raws.items() for raw in values}
    assert {s for _, s in got} == set(STATUSES) == {"ok", "degenerate", "nan", "inf"}
    assert ("nwot", "degenerate") in got and ("synflow", "nan") in got and ("ntk_cond", "inf") in got
    assert finalize(get_proxy("lr_count"), (1, 1), {}) == Scored(1.0)          # one input: one region is fine
    assert finalize(get_proxy("synflow_log"), math.e, {}).value == pytest.approx(1.0)
    assert finalize(get_proxy("ntk_cond"), torch.zeros(2, 2), {"tenas_nan": 1e5}).value == 1e5
    assert finalize(get_proxy("snip"), math.inf, {}).status == "inf"            # plain values are classified


def test_seed_hash_is_pinned():
    """The one seed hash gives the seeds every stored score, pruning run and SpiderNet run was made with:
    score_arch's repeat seeds, pruning's (seed, stream, round, repeat) weights, SpiderNet's 32-bit phase seeds."""
    from nasbench_eval.device import derive_seed
    from nasbench_eval.spidernet import phase_seed

    assert (repeat_seed(0, 0), repeat_seed(3, 1, 1)) == (7896617691693857887, 7482082633366827798)
    assert derive_seed(0, 1, 2, 3) == 6463705122041852897 and derive_seed(0, 0, 0, 1) != derive_seed(0, 0, 1, 0)
    assert (phase_seed(0, "cycle_init", 0), phase_seed(7, "final_epoch", 2)) == (2968811710, 1142734250)
    with pytest.raises(InvalidParameterError, match="bits"):
        derive_seed(0, bits=16)


# ---- profiles and settings keys ------------------------------------------------------------------
@pytest.mark.parametrize("profile, name, changed", [
    ("tenas_code", "ntk_cond", {"batch_size": 72, "network": "narrow", "init": "torch_default",
                                "repeat_init": "same", "tenas_nan": 1e5}),
    ("tenas_code", "lr_count", {"init": "torch_default", "repeat_init": "same"}),
    ("tenas_paper", "ntk_cond", {}),
    ("naswot", "nwot", {"num_classes": 1, "sites": "relu_named"}),
    ("naslib", "nwot", {"batch_size": 32, "nonfinite_value": -1e8, "batch_policy": "fresh_per_arch"}),
    ("naslib", "synflow", {"nonfinite_value": -1e8}),
    ("zc", "synflow", {"bn": "keep_reduction", "data": "zc", "batch_policy": "fresh_per_arch"}),
    ("zc", "snip", {"data": "zc", "batch_policy": "fresh_per_arch"}),
    ("spidernet", "ntk_cond", {"batch_size": 64, "n_batches": 3, "network": "narrow"}),
    ("naswot", "ntk_cond", {}),                  # a profile leaves proxies it does not cover alone
])
def test_profiles_change_exactly_their_knobs(profile, name, changed):
    base, prof = resolve_settings(name), resolve_settings(name, profile)
    diff = {k: prof[k] for k in prof if k not in base or prof[k] != base[k]}
    assert diff == changed


def test_every_profile_is_listed_and_valid():
    assert set(list_profiles()) == {"naswot", "zc", "tenas_code", "tenas_paper", "naslib", "spidernet"}
    for profile, per_proxy in PROFILES.items():
        for name in per_proxy:
            resolve_settings(name, profile)          # raises if a profile sets an unknown/invalid knob


def test_caller_options_override_profiles():
    assert resolve_settings("ntk", "tenas_code", batch_size=16)["batch_size"] == 16
    assert resolve_settings("ntk", "tenas_code", batch_size=None)["batch_size"] == 72


def test_settings_key_is_stable_and_complete():
    key = settings_key("ntk_cond")
    assert key == settings_key("ntk") == settings_key("ntk_cond", batch_size=32, init="kaiming_normal_fan_out")
    assert key.startswith("ntk_cond@")
    assert settings_key("ntk", batch_size=33) != key
    assert settings_key("ntk", "tenas_code") == settings_key(
        "ntk", batch_size=72, network="narrow", init="torch_default", repeat_init="same", tenas_nan=1e5)
    assert settings_key("nwot") != settings_key("nwot", num_classes=1)


def test_profile_is_recorded_and_applied(batch):
    rec = score_arch(BEST, "nwot", batch, profile="naswot", batch_size=8, **TINY, device="cpu")
    assert rec.profile == "naswot" and rec.options["num_classes"] == 1 and rec.batch_size == 8


# ---- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, param", [
    (dict(name="nwot", bogus=1), "bogus"),
    (dict(name="nwot", profile="nope"), "profile"),
    (dict(name="nwot", init="xavier"), "init"),
    (dict(name="nwot", repeats=0), "repeats"),
    (dict(name="nwot", dataset="mnist"), "dataset"),
    (dict(name="nwot", network="thin"), "network"),
    (dict(name="snip", labels=False), "labels"),
    (dict(name="synflow", bn="sometimes"), "bn"),
    (dict(name="nwot", dtype="float16"), "dtype"),
])
def test_bad_input_names_the_parameter(kwargs, param, batch):
    kwargs = dict(kwargs)
    name = kwargs.pop("name")
    b = (batch[0], None) if kwargs.pop("labels", True) is False else batch
    with pytest.raises(InvalidParameterError, match=param):
        score_arch(BEST, name, b, **TINY, **kwargs)


def test_compute_proxy_rejects_unknown_options_and_bad_batches(tiny_net, batch):
    with pytest.raises(InvalidParameterError, match="batch_size"):
        compute_proxy("nwot", tiny_net, batch, batch_size=8)      # protocol knobs are score_arch's
    with pytest.raises(InvalidParameterError, match="batch"):
        compute_proxy("nwot", tiny_net, batch[0])
    with pytest.raises(InvalidParameterError, match="net"):
        compute_proxy("nwot", "not a net", batch)


# ---- tenas_rank ----------------------------------------------------------------------------------
def test_tenas_rank_by_hand():
    # κ desc: 3 -> 0, 2 -> 1, 1 -> 2;  R asc: 10 -> 0, 20 -> 1, 30 -> 2.
    assert tenas_rank([3.0, 1.0, 2.0], [10, 30, 20]).tolist() == [0.0, 4.0, 2.0]
    # ties share the average position: κ (1, 1, 2) -> (1.5, 1.5, 0); R all equal -> 1 each.
    assert tenas_rank([1.0, 1.0, 2.0], [5, 5, 5]).tolist() == [2.5, 2.5, 1.0]
    # TE-NAS ties: equal at 3 significant figures, dense ranks: κ (1.0001, 1.0002, 2) -> (1, 1, 0).
    assert tenas_rank([1.0001, 1.0002, 2.0], [1, 2, 3], ties="tenas_ties").tolist() == [1.0, 2.0, 2.0]
    # NaN / +inf κ and NaN R are the worst.
    assert tenas_rank([math.nan, 1.0, math.inf], [7, 8, 9]).tolist() == [0.5, 3.0, 2.5]
    assert tenas_rank([1.0, 2.0], [math.nan, 3.0]).tolist() == [1.0, 1.0]


def test_tenas_rank_rejects_mismatched_lengths():
    with pytest.raises(InvalidParameterError, match="lengths"):
        tenas_rank([1.0, 2.0], [1.0])
    with pytest.raises(InvalidParameterError, match="ties"):
        tenas_rank([1.0], [1.0], ties="min")


def test_image_size_must_match_the_dataset(batch):
    with pytest.raises(InvalidParameterError, match="ImageNet16-120"):
        score_arch(BEST, "flops", batch, dataset="ImageNet16-120")


@pytest.mark.parametrize("dataset, k", [("cifar10-valid", 10), ("cifar100", 100)])
def test_dataset_sets_the_classifier_width(dataset, k, batch):
    # params differ only through the head: 65·K in the C=16 formula, (4C + 1)·K = 17·K at C=4.
    rec = score_arch(BEST, "params", batch, dataset=dataset, **TINY)
    base = score_arch(BEST, "params", batch, dataset=dataset, num_classes=1, **TINY)
    assert round((rec.value - base.value) * 1e6) == 17 * (k - 1)


def test_size_space_archs_are_scored_with_their_own_network(batch):
    # spec §1.3: 8:8:8:8:8 has 11,714 parameters with a CIFAR-10 head.
    assert score_arch("8:8:8:8:8", "params", batch).value * 1e6 == pytest.approx(11_714, abs=1e-3)
    rec = score_arch("8:8:8:8:8", "nwot", batch, batch_size=8, device="cpu")
    assert rec.status == "ok" and not rec.dead_cell
    with pytest.raises(InvalidParameterError, match="size-space"):
        score_arch("8:8:8:8:8", "nwot", batch, batch_size=8, network="narrow")


def test_one_matmul_agreement_block_equals_the_two_product_form_exactly():
    """`agreement` (2 C Cᵀ − r_i − r_j + D) is the same exact integer matrix as C Cᵀ + (1−C)(1−C)ᵀ."""
    from nasbench_eval.proxies.nwot import agreement

    g = torch.Generator().manual_seed(1)
    shapes = [(37, 5, 7, 3), (6, 16, 4, 4)] + [(b, d) for b in (1, 2, 3, 9, 17) for d in range(1, 20)]
    for shape in shapes:
        for fmt in (torch.contiguous_format, torch.channels_last) if len(shape) == 4 else (torch.contiguous_format,):
            pre = torch.randn(*shape, generator=g).contiguous(memory_format=fmt)
            c = (pre > 0).flatten(1).float()
            plain = (c @ c.T).double() + ((1.0 - c) @ (1.0 - c).T).double()
            assert torch.equal(agreement(pre), plain), (shape, fmt)


@pytest.mark.parametrize("sites", ["relu", "relu_named"])
def test_hamming_kernel_reusing_blocks_equals_one_block_per_call(sites, batch):
    """A block reused for a tensor that feeds several ReLU calls gives the kernel of one block per call."""
    from fast_paths import hamming_kernel_per_call
    from nasbench_eval.proxies.nwot import hamming_kernel

    net = build_network(BEST, C=4, N=1, seed=0).train()     # node 0 and node 1 each feed two conv edges
    x = batch[0][:16]
    assert torch.equal(hamming_kernel(net, x, sites=sites), hamming_kernel_per_call(net, x, sites=sites))


@pytest.mark.parametrize("name, plain", [("fisher", "fisher_full_backward"), ("grasp", "grasp_two_forwards")])
def test_saliency_fast_paths_equal_the_reference_order_bit_for_bit(name, plain, batch):
    """fisher without weight gradients, grasp with one forward: the same numbers as the references' order."""
    import fast_paths

    x, y = batch[0][:16], batch[1][:16]
    for arch in (BEST, "|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|nor_conv_3x3~1|nor_conv_1x1~2|"):
        net = build_network(arch, C=4, N=1, seed=3).train()
        fast = compute_proxy(name, net, (x, y), device="cpu", seed=0)
        with torch.random.fork_rng():
            torch.manual_seed(0)
            assert fast == getattr(fast_paths, plain)(copy.deepcopy(net).train(), x, y), arch


def test_nwot_sites_option_is_checked():
    from nasbench_eval.exceptions import InvalidParameterError
    from nasbench_eval.proxies import score_arch

    x = torch.randn(8, 3, 32, 32)
    with pytest.raises(InvalidParameterError, match="sites='relu_all' is not supported"):
        score_arch(BEST, "nwot", (x, None), C=2, N=1, batch_size=8, device="cpu", profile="naswot",
                   **{"sites": "relu_all"})


# ---- ops that never reach the logits -------------------------------------------------------------
CL = torch.channels_last
SKIPPING = ("|nor_conv_1x1~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|",   # node 1 unused
            "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|skip_connect~1|none~2|")  # node 2


def _value_computing_every_op(name: str, net, x, y) -> float:
    """What `compute_proxy` does, without `skip_unused_ops`."""
    from nasbench_eval.device import scoring_numerics, seeded

    entry = get_proxy(name)
    with scoring_numerics(), seeded(0, torch.device("cpu")):
        raw = entry.fn(copy.deepcopy(net).train(), x, y)
    return finalize(entry, raw, {}).value


def _count_unused_conv_calls(net) -> list:
    """Hooks every Conv2d on an unused edge (they travel with deep copies); returns the list each call appends to."""
    calls = []
    for cell in net.cells:
        for e in getattr(cell, "unused", ()):
            for m in cell.edges[e].modules():
                if isinstance(m, torch.nn.Conv2d):
                    m.register_forward_hook(lambda *_: calls.append(1))
    return calls


@pytest.mark.parametrize("name", list_proxies())
def test_logits_only_proxies_skip_unused_ops_and_give_the_same_value(name, batch):
    """The `logits-only` tag skips every unused op, bit for bit the same score; every other proxy runs them all."""
    if "population" in get_proxy(name).tags or "data-free" in get_proxy(name).tags:
        pytest.skip("no forward of this network")
    y = batch[1][:16]
    for arch, x in itertools.product(SKIPPING, (batch[0][:16], batch[0][:16].contiguous(memory_format=CL))):
        net = build_network(arch, C=4, N=1, seed=3)
        calls = _count_unused_conv_calls(net)
        value = compute_proxy(name, net, (x, y), device="cpu", seed=0)
        if "logits-only" in get_proxy(name).tags:
            assert not calls and value == _value_computing_every_op(name, net, x, y), arch
        else:
            assert calls, arch


GRASP_REORDERED = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|none~2|"


@pytest.mark.parametrize("name, arch", [("nwot", SKIPPING[0]), ("grasp", GRASP_REORDERED)])
def test_proxies_that_would_change_if_they_skipped_unused_ops(name, arch, batch):
    """Why nwot and grasp are not `logits-only`: nwot's codes include the ReLUs of unused ops; in grasp's double
    backward, on channels_last images (as the CLI scores), the skipped ops' nodes change how autograd adds terms
    (the last digits move)."""
    from nasbench_eval.nets import skip_unused_ops

    net = build_network(arch, C=4, N=1, seed=3)
    x, y = batch[0][:16].contiguous(memory_format=CL), batch[1][:16]
    skipping = skip_unused_ops(copy.deepcopy(net))
    assert compute_proxy(name, skipping, (x, y), seed=0, device="cpu") != \
        compute_proxy(name, net, (x, y), seed=0, device="cpu")
    assert {"jacob_cov", "snip", "grad_norm", "plain", "fisher", "ntk_cond"} == set(list_proxies(tags={"logits-only"}))
