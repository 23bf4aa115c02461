"""Which path scores a proxy on a device: the grouped engine or one arch at a time, from measurements.

`GROUPED_SPEEDUP` holds, per device type and engine proxy, the measured throughput of the grouped engine over
one-at-a-time `score_arch` (same archs, same run; `benchmarks/proxy_throughput.py`, JSON in `MEASURED_IN`).
`prefers_grouped` chooses grouped only where it was measured faster, so dispatch is never slower than one at a
time on a measured device (CPU: the 2-core development machine; CUDA: one H200, from `benchmarks/gpu_suite.py`).
A device type without measurements takes the engine's design default: grouped on CUDA (spec §6), one at a time
elsewhere.
"""
from __future__ import annotations

from types import MappingProxyType

from ..proxies.base import get_proxy
from .batched import ENGINE_PROXIES

MEASURED_IN = MappingProxyType({
    "cpu": "benchmarks/results/proxy_throughput_cpu.json",
    "cuda": "benchmarks/results/gpu_suite/engine_throughput_cuda.json",
})
"""Device type -> the committed benchmark JSON the speedups below are copied from (checked by a test)."""

GROUPED_SPEEDUP = MappingProxyType({
    "cpu": MappingProxyType({"synflow": 0.740, "lr_count": 1.069, "nwot": 0.351, "ntk_cond": 0.354}),
    "cuda": MappingProxyType({"synflow": 1.546, "lr_count": 2.534, "nwot": 1.654, "ntk_cond": 2.004}),
})
"""Device type -> proxy -> grouped archs/s over one-at-a-time archs/s (synflow_log shares synflow's kernel)."""

SAME_KERNEL = MappingProxyType({"synflow_log": "synflow"})

NOT_EQUIVALENT = frozenset({"ntk_cond"})
"""Engine proxies whose grouped kernel does not equal one-at-a-time scoring within spec §6.5's tolerance, so
dispatch never groups them on any device. ntk_cond: in float32 the NTK of a deep train-mode-BN net moves by
percents with the order of summation (channels_last images, C=4, N=5: 3.8 % between a group of one and a group of
two; the float64 value lies between the contiguous and channels_last float32 ones), so grouping changes scores.
On an H200 the grouped ntk_cond was 2.0x faster but differed from one at a time by up to 280 % on 20 archs
(`engine_throughput_cuda.json`), and one-at-a-time CPU and CUDA scores differ by a median 12 %
(`gpu_suite/ntk_cond_cpu_vs_cuda.json`).
`tests/test_engine.py::test_grouped_ntk_matches_one_at_a_time` is a strict xfail until that is resolved."""


def prefers_grouped(proxy: str, device_type: str) -> bool:
    """True if the engine should score proxy `proxy` (key or alias) group-wise on `device_type` ("cpu", "cuda").

    >>> prefers_grouped("snip", "cuda")          # not an engine proxy
    False
    """
    name = get_proxy(proxy).name
    if name not in ENGINE_PROXIES or name in NOT_EQUIVALENT:
        return False
    measured = GROUPED_SPEEDUP.get(device_type)
    if measured is None:
        return device_type == "cuda"
    return measured.get(SAME_KERNEL.get(name, name), 0.0) > 1.0
