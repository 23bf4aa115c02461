"""The batched scoring engine equals the one-at-a-time path (spec/proxies.md §6.5) and leaks nothing across archs."""
from __future__ import annotations

import math
import random

import pytest
import torch

from nasbench_eval.engine import ENGINE_PROXIES, GroupedNetwork, score_group, score_many, supports
from nasbench_eval.engine.batched import count_unique_rows_grouped, hamming_kernels, ntk_grams
from nasbench_eval.engine.sizing import CPU_GROUP_SIZE, auto_group_size, fit_group_size, iter_groups
from nasbench_eval.exceptions import InvalidParameterError
from nasbench_eval.nets import build_network
from nasbench_eval.proxies import resolve_settings, score_arch
from nasbench_eval.proxies.linear_regions import count_unique_rows
from nasbench_eval.proxies.ntk import ntk_gram
from nasbench_eval.space import OPS, Arch, all_archs

ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
ARCHS = [str(a) for a in random.Random(201).sample(list(all_archs()), 20)] + [ALL_CONV, ALL_NONE, ALL_SKIP]
X = torch.randn(256, 3, 32, 32, generator=torch.Generator().manual_seed(0))

# (proxy, small-net options, relative tolerance of spec §6.5)
CASES = {
    "nwot": ({"C": 4, "N": 1, "batch_size": 16}, 1e-6),
    "synflow": ({"C": 4, "N": 2}, 1e-5),
    "ntk_cond": ({"C": 4, "N": 1, "batch_size": 8, "repeats": 2}, 1e-5),
    "lr_count": ({"batch_size": 80}, 0.0),
}


def assert_same_record(got, want, rel):
    """Every field of a ScoreRecord equal; values (and each repeat) within `rel` (NaN == NaN, inf == inf)."""
    assert (got.name, got.status, got.dead_cell, got.seed, got.batch_size, got.dataset, got.options) == \
        (want.name, want.status, want.dead_cell, want.seed, want.batch_size, want.dataset, want.options)
    assert (got.reason == want.reason) or want.status == "ok"
    for g, w in zip((got.value, *got.repeats), (want.value, *want.repeats)):
        assert (math.isnan(g) and math.isnan(w)) or g == w or abs(g - w) <= rel * abs(w), (g, w)
    assert len(got.repeats) == len(want.repeats)


@pytest.mark.parametrize("proxy", list(CASES))
def test_batched_records_equal_score_arch(proxy):
    """23 genotypes (20 random + all-conv, all-none, all-skip) in groups of 8: catches any cross-arch leak
    (BN statistics, ReLU sites, parameter sums), a wrong seed per repeat, or a wrong status rule."""
    options, rel = CASES[proxy]
    got = score_many(ARCHS, proxy, (X, None), seed=3, device="cpu", group_size=8, **options)
    for arch, rec in zip(ARCHS, got):
        assert_same_record(rec, score_arch(arch, proxy, (X, None), seed=3, device="cpu", **options), rel)
    statuses = {a: r.status for a, r in zip(ARCHS, got)}
    assert statuses[ALL_NONE] == "degenerate" and statuses[ALL_CONV] == "ok" and statuses[ALL_SKIP] == "ok"


def test_default_networks_equal_score_arch():
    """The real C=16, N=5 benchmark network (synflow at its defaults; nwot with a 32-image batch)."""
    archs = [ALL_CONV, ARCHS[0], ALL_SKIP]
    for proxy, options, rel in (("synflow", {}, 1e-5), ("synflow_log", {}, 1e-5), ("nwot", {"batch_size": 32}, 1e-6)):
        for arch, rec in zip(archs, score_group(archs, proxy, (X, None), device="cpu", **options)):
            assert_same_record(rec, score_arch(arch, proxy, (X, None), device="cpu", **options), rel)


def test_naswot_profile_in_the_engine_equals_score_arch():
    """The `naswot` profile's container rule (sites="relu_named") gives score_arch's record in the engine too, and
    differs from the default (the rule is applied, not dropped)."""
    archs = [ALL_CONV, ARCHS[0], ALL_NONE]
    opts = {"C": 4, "N": 1, "batch_size": 16}
    got = score_group(archs, "nwot", (X, None), device="cpu", profile="naswot", **opts)
    for arch, rec in zip(archs, got):
        assert_same_record(rec, score_arch(arch, "nwot", (X, None), device="cpu", profile="naswot", **opts), 0.0)
    assert got[0].value != score_arch(ALL_CONV, "nwot", (X, None), device="cpu", num_classes=1, **opts).value


def test_group_composition_and_order_do_not_change_scores():
    """The same arch scored in a different company, order, or twice in one group gets the same value."""
    first = score_group(ARCHS[:6], "nwot", (X, None), device="cpu", C=4, N=1, batch_size=16)
    other = score_group(
        [ARCHS[5], ALL_NONE, ARCHS[0], ARCHS[5], ALL_CONV], "nwot", (X, None), device="cpu", C=4, N=1, batch_size=16
    )
    assert other[0].value == pytest.approx(first[5].value, rel=1e-9) and other[3].value == other[0].value
    assert other[2].value == pytest.approx(first[0].value, rel=1e-9)


def test_naswot_kernel_counts_only_each_archs_own_relu_units():
    """diag K_a = N_A of arch a alone, by closed form at C=4, N=1, 32x32: 10,240 (residual blocks + head)
    + 7,168 per conv edge (4·32² + 8·16² + 16·8²). A kernel that let sites of other archs add rows fails."""
    archs = [ALL_SKIP, ALL_CONV, ALL_NONE, ARCHS[1]]
    nets = [build_network(a, C=4, N=1, seed=0) for a in archs]
    k = hamming_kernels(GroupedNetwork(nets), X[:6])
    for a, arch in enumerate(archs):
        n_conv = sum(op.startswith("nor_conv") for op in Arch.from_str(arch).ops)
        assert torch.all(torch.diagonal(k[a]) == 10_240 + 7_168 * n_conv)
    assert torch.all(k[2] == 10_240)  # all-none: no input-dependent code, every pair agrees everywhere


def test_ntk_gram_equals_per_sample_loop_in_float64():
    """In float64 the grouped NTK equals TE-NAS's per-sample loop per arch to rounding (BN coupling included)."""
    archs = ARCHS[:5] + [ALL_NONE]
    nets = [build_network(a, C=4, N=1, seed=1, init="kaiming_normal_fan_out").double() for a in archs]
    theta = ntk_grams(GroupedNetwork(nets), X[:6].double(), n_batches=2)
    for a, net in enumerate(nets):
        want = ntk_gram(net, X[:6].double(), n_batches=2)
        assert torch.allclose(theta[a], want, rtol=1e-10, atol=1e-12 * float(want.abs().max()))


def test_grouped_forward_matches_each_network():
    nets = [build_network(a, C=4, N=1, seed=2) for a in ARCHS[:4]]
    out = GroupedNetwork(nets)(X[:4])
    for a, net in enumerate(nets):
        assert torch.allclose(out[a], net(X[:4]), rtol=1e-5, atol=1e-6)


def test_grouped_unique_count_matches_single_count():
    g = torch.Generator().manual_seed(0)
    bits = torch.rand(3, 50, 70, generator=g) > 0.5
    bits[1, :, 3:] = False       # few distinct rows
    bits[2] = bits[2, :1]        # one row repeated
    want = [count_unique_rows(b) for b in bits]
    assert count_unique_rows_grouped(bits).tolist() == want and want[1] <= 8 and want[2] == 1


def test_iter_groups_halves_on_cuda_oom_and_keeps_order():
    sizes = []

    def fn(group):
        sizes.append(len(group))
        if len(group) > 2:
            raise torch.cuda.OutOfMemoryError("simulated")
        return [x * 10 for x in group]

    out = [r for _, res in iter_groups(list(range(7)), fn, 8) for r in res]
    assert out == [x * 10 for x in range(7)] and max(s for s in sizes[3:]) <= 2
    with pytest.raises(torch.cuda.OutOfMemoryError):
        list(iter_groups([1], lambda g: (_ for _ in ()).throw(torch.cuda.OutOfMemoryError("x")), 1))


def test_group_size_fits_free_cuda_memory(monkeypatch):
    """One sizer for every batched path: a share of free memory over the per-arch estimate, clamped to
    [1, max_group]; on CPU the fixed size whatever the settings. Larger NTK batches -> smaller groups."""
    free = {"bytes": 8 * 2**30}
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free["bytes"], 80 * 2**30))
    cuda = torch.device("cuda")
    assert fit_group_size(2**20, cuda, cpu_size=3, max_group=10**6) == 4096       # half of 8 GiB / 1 MiB
    assert fit_group_size(2**20, cuda, cpu_size=3, max_group=100) == 100
    assert fit_group_size(2**40, cuda, cpu_size=3, max_group=100) == 1
    assert fit_group_size(2**40, "cpu", cpu_size=3, max_group=100) == 3
    small, large = (auto_group_size("ntk_cond", resolve_settings("ntk_cond", batch_size=b), cuda, max_group=10**6)
                    for b in (8, 64))
    assert small > large >= 1
    free["bytes"] //= 4
    assert auto_group_size("ntk_cond", resolve_settings("ntk_cond", batch_size=8), cuda, max_group=10**6) < small
    assert {auto_group_size(p, resolve_settings(p), "cpu") for p in ENGINE_PROXIES} == {CPU_GROUP_SIZE}


def test_supports_and_bad_input():
    assert (
        supports("naswot")
        and supports("lr", ALL_CONV)
        and not supports("snip")
        and not supports("nwot", "8:16:24:32:64")
    )
    assert set(ENGINE_PROXIES) >= {"nwot", "synflow", "ntk_cond", "lr_count"}
    with pytest.raises(InvalidParameterError, match="arch"):
        score_group(["8:16:24:32:64"], "nwot", (X, None), device="cpu")
    with pytest.raises(InvalidParameterError, match="name"):
        score_group([ALL_CONV], "snip", (X, torch.zeros(256, dtype=torch.int64)), device="cpu")
    with pytest.raises(InvalidParameterError, match="archs"):
        score_group([], "nwot", (X, None), device="cpu")
    with pytest.raises(InvalidParameterError, match="rows"):
        score_group([ALL_CONV], "nwot", (X[:4], None), device="cpu")


def test_score_space_uses_engine_and_matches_sequential(monkeypatch):
    """lr_count is measured faster grouped on the CPU (`prefers_grouped`), so score_space never calls score_arch."""
    import nasbench_eval.scoring.score_space as module
    import nasbench_eval.scoring.units as units

    archs, opts = ARCHS[:4], {"batch_size": 80}
    seq = module.score_space(archs, ["lr_count"], device="cpu", options=opts, progress=False, batched=False)

    def forbidden(*args, **kwargs):
        raise AssertionError("score_arch called for a batched proxy")

    monkeypatch.setattr(units, "score_arch", forbidden)
    bat = module.score_space(archs, ["lr_count"], device="cpu", options=opts, progress=False)
    assert list(bat["lr_count_status"]) == list(seq["lr_count_status"])
    assert list(bat["lr_count"]) == list(seq["lr_count"])


def test_dispatch_follows_the_committed_measurements():
    """`GROUPED_SPEEDUP` is the committed benchmark JSON's speedups, and grouped is chosen exactly where > 1."""
    import json
    from pathlib import Path

    from nasbench_eval.engine import prefers_grouped
    from nasbench_eval.engine.dispatch import GROUPED_SPEEDUP, MEASURED_IN, NOT_EQUIVALENT

    root = Path(__file__).resolve().parent.parent
    for device, path in MEASURED_IN.items():
        measured = {r["proxy"]: r["speedup"] for r in json.loads((root / path).read_text())["proxies"]}
        assert set(measured) == set(GROUPED_SPEEDUP[device])
        for proxy, speedup in measured.items():
            assert GROUPED_SPEEDUP[device][proxy] == pytest.approx(speedup, abs=5e-4)
            assert prefers_grouped(proxy, device) == (speedup > 1.0 and proxy not in NOT_EQUIVALENT)
    assert prefers_grouped("synflow_log", "cpu") == prefers_grouped("synflow", "cpu")
    assert prefers_grouped("naswot", "cuda") and not prefers_grouped("snip", "cuda")
    assert not prefers_grouped("nwot", "mps")          # unmeasured and not CUDA: one at a time
    assert not prefers_grouped("ntk_cond", "cuda")     # NOT_EQUIVALENT: never grouped until the kernel is fixed


@pytest.mark.xfail(strict=True, reason="float32 NTK of a deep BN net moves by percents with summation order "
                                      "(dispatch.NOT_EQUIVALENT)")
def test_grouped_ntk_matches_one_at_a_time():
    """An arch scored in a group of two equals the same arch alone (channels_last images as proxy_batch gives)."""
    a = "|nor_conv_1x1~0|+|none~0|none~1|+|nor_conv_1x1~0|nor_conv_1x1~1|skip_connect~2|"
    b = "|nor_conv_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, 32, 32, generator=g).contiguous(memory_format=torch.channels_last)
    batch = (x, torch.randint(0, 10, (8,), generator=g))
    opts = {"C": 4, "N": 5, "batch_size": 8, "repeats": 1}
    alone = score_many([a], "ntk_cond", batch, device="cpu", **opts)[0].value
    paired = score_many([a, b], "ntk_cond", batch, device="cpu", **opts)[0].value
    assert paired == pytest.approx(alone, rel=1e-5)


@pytest.mark.gpu
@pytest.mark.parametrize("proxy", list(CASES))
def test_gpu_batched_equals_gpu_score_arch(proxy):
    options, rel = CASES[proxy]
    archs = ARCHS[:8] + [ALL_CONV, ALL_NONE, ALL_SKIP]
    got = score_many(archs, proxy, (X, None), device="cuda", group_size=4, **options)
    for arch, rec in zip(archs, got):
        assert_same_record(rec, score_arch(arch, proxy, (X, None), device="cuda", **options), max(rel, 1e-6))


def test_grouped_edges_holding_every_op_match_each_network():
    """Five archs whose every edge holds all five ops across the group (op k+e on edge e of arch k): each
    gather, op and scatter of a mixed grouped edge gives each arch its own network's logits."""
    archs = [Arch(tuple(OPS[(k + e) % len(OPS)] for e in range(6))) for k in range(len(OPS))]
    nets = [build_network(a, C=4, N=1, seed=k) for k, a in enumerate(archs)]
    out = GroupedNetwork(nets)(X[:4])
    for a, net in enumerate(nets):
        assert torch.allclose(out[a], net(X[:4]), rtol=1e-5, atol=1e-6)
