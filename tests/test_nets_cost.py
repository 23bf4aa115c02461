"""Parameter/FLOP counts against the benchmark's published values (spec/proxies.md §1.2, §1.3).

Expected numbers come from the spec's tables (values stored in the NB201/NATS APIs) or from the
hand derivations written next to them; none is produced by the code under test.
"""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_eval import InvalidParameterError
from nasbench_eval.nets import (
    build_network, build_sss_network, count_flops, count_params, dataset_spec, nb201_flops, nb201_params, space_costs,
)
from nasbench_eval.space import OPS, Arch, all_archs

ALL_3X3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_1X1 = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
TWO_3X3 = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"
FIVE_3X3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
K = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}

# spec §1.2 worked-examples table: (arch, dataset, params)
PUBLISHED_PARAMS = [
    (ALL_3X3, "cifar10", 1_531_546), (ALL_3X3, "cifar100", 1_537_396), (ALL_3X3, "ImageNet16-120", 1_538_696),
    (ALL_NONE, "cifar10", 73_306), (ALL_NONE, "cifar100", 79_156), (ALL_NONE, "ImageNet16-120", 80_456),
    (TWO_3X3, "cifar10", 559_386), (FIVE_3X3, "cifar10", 1_288_506), (ALL_1X1, "cifar10", 241_306),
]
# spec §1.2: (arch, dataset, MFLOPs); exact to the 5 published decimals, i.e. an integer number of MACs
PUBLISHED_MFLOPS = [
    (ALL_3X3, "cifar10", 220.11969), (ALL_3X3, "ImageNet16-120", 55.03756), (ALL_NONE, "cifar10", 7.78305),
    (ALL_NONE, "ImageNet16-120", 1.9534), (TWO_3X3, "cifar10", 78.56193), (ALL_1X1, "cifar100", 31.38186),
]

arch_strategy = st.tuples(*[st.sampled_from(OPS)] * 6).map(Arch)
op_set = st.sets(st.sampled_from(OPS), min_size=1, max_size=5)


@pytest.mark.parametrize("arch, dataset, expected", PUBLISHED_PARAMS)
def test_module_params_equal_published(arch, dataset, expected):
    net = build_network(arch, num_classes=K[dataset], seed=0)
    assert count_params(net) == expected


@pytest.mark.parametrize("arch, dataset, expected", PUBLISHED_PARAMS)
def test_closed_form_params_equal_published(arch, dataset, expected):
    assert nb201_params(arch, K[dataset]) == expected


@pytest.mark.parametrize("arch, dataset, mflops", PUBLISHED_MFLOPS)
def test_module_flops_equal_published(arch, dataset, mflops):
    num_classes, res = dataset_spec(dataset)
    net = build_network(arch, num_classes=num_classes, seed=0)
    assert count_flops(net, (1, 3, res, res)) == round(mflops * 1e6)
    assert nb201_flops(arch, res, num_classes) == round(mflops * 1e6)


@settings(max_examples=25)
@given(arch=arch_strategy)
def test_closed_form_params_equal_module_count(arch):
    assert nb201_params(arch) == count_params(build_network(arch, seed=0))


@settings(max_examples=30)
@given(edges=st.lists(op_set, min_size=6, max_size=6), C=st.integers(1, 4), N=st.integers(1, 2),
       res=st.sampled_from([4, 8, 12, 16]), num_classes=st.integers(1, 20))
def test_closed_form_equals_module_count_on_small_supernets(edges, C, N, res, num_classes):
    # covers mixed edges, other widths/depths and resolutions: every op instantiated and executed
    net = build_network(edges, C=C, N=N, num_classes=num_classes, seed=0)
    assert count_params(net) == nb201_params(edges, num_classes, C=C, N=N)
    assert count_flops(net, (2, 3, res, res)) == nb201_flops(edges, res, num_classes, C=C, N=N)


@pytest.mark.parametrize("channels, expected", [("8:8:8:8:8", 11_714), ("8:8:16:40:40", 107_826),
                                                ("64:64:64:64:64", 713_674)])
def test_sss_params_equal_published(channels, expected):
    assert count_params(build_sss_network(channels, seed=0)) == expected


def test_sss_flops_of_widest_network():
    # By hand (5 conv3x3 edges per cell, all widths 64): stem 27*64*32^2 = 1,769,472; cells
    # 5*9*64^2*(32^2 + 16^2 + 8^2) = 247,726,080; each 64->64 residual block costs (9 + 9 + 1)*64^2 = 77,824
    # MACs per output pixel, at 16^2 and 8^2 pixels; classifier 64*10 + 10 = 650. Spec §1.3: 274.40 MFLOPs.
    expected = 1_769_472 + 247_726_080 + 77_824 * (256 + 64) + 650
    assert expected == 274_399_882
    assert count_flops(build_sss_network("64:64:64:64:64", seed=0)) == expected


def test_count_flops_leaves_modes_and_bn_stats_alone():
    net = build_network(ALL_3X3, C=2, N=1, seed=0)
    net.cells[0].eval()  # a mixed train/eval state must come back as it was
    before = {k: v.clone() for k, v in net.state_dict().items()}
    modes = [m.training for m in net.modules()]
    count_flops(net, (4, 3, 8, 8))
    assert [m.training for m in net.modules()] == modes
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_count_flops_is_per_image():
    net = build_network(ALL_1X1, C=2, N=1, seed=0)
    assert count_flops(net, (1, 3, 8, 8)) == count_flops(net, (5, 3, 8, 8))


def test_space_costs_over_the_whole_space():
    strs = [str(a) for a in all_archs()]
    costs = space_costs(strs)
    assert list(costs.columns) == ["arch", "params", "mflops"] and len(costs) == 15_625
    assert costs["arch"].tolist() == strs
    assert costs["params"].max() == 1_531_546 and costs["params"].min() == 73_306
    assert (costs["params"] == 73_306).sum() == 3**6  # 729 genotypes without a conv (spec §1.4)
    row = costs.iloc[strs.index(TWO_3X3)]
    assert row["params"] == 559_386 and row["mflops"] == pytest.approx(78.56193, abs=1e-9)
    in16 = space_costs([ALL_NONE, ALL_3X3], num_classes=120, resolution=16)
    assert in16["mflops"].tolist() == pytest.approx([1.9534, 55.03756], abs=1e-9)


def test_space_costs_in_benchmark_order(full_bench):
    strs = [full_bench.arch_str(i) for i in range(len(full_bench))]
    costs = space_costs(strs, num_classes=100)
    assert costs["arch"].tolist() == strs
    assert costs["params"].max() == 1_537_396 and costs["params"].min() == 79_156


@pytest.mark.parametrize("dataset, expected", [("cifar10-valid", (10, 32)), ("cifar10", (10, 32)),
                                               ("cifar100", (100, 32)), ("ImageNet16-120", (120, 16))])
def test_dataset_spec(dataset, expected):
    assert dataset_spec(dataset) == expected


@pytest.mark.parametrize("call, param", [
    (lambda: dataset_spec("imagenet"), "dataset"),
    (lambda: count_flops(build_network(ALL_NONE, C=1, N=1), (3, 32, 32)), "input_shape"),
    (lambda: count_flops(build_network(ALL_NONE, C=1, N=1), (1, 3, 0, 32)), "input_shape"),
    (lambda: count_params("net"), "net"),
    (lambda: nb201_flops(ALL_NONE, resolution=30), "resolution"),
    (lambda: nb201_params(ALL_NONE, num_classes=0), "num_classes"),
    (lambda: nb201_params(["none"] * 5), "arch"),
    (lambda: space_costs(ALL_NONE), "arch_strs"),
    (lambda: space_costs(["|bad|"]), "bad"),
])
def test_bad_input_raises(call, param):
    with pytest.raises(InvalidParameterError, match=param):
        call()
