"""Every proxy under every referenced profile agrees, per architecture, with the implementation it names.

The fixtures under tests/fixtures/proxy_reference/ hold values computed by running the reference code
(zero-cost-nas, NASLib, NASWOT, TE-NAS; repository and commit in each file's ``provenance``) on the very
networks and rows `score_arch` builds here: same weights, same batch. So the values must agree to float
round-off, not just in rank. NASWOT's hook also fires on our ``ReLUConvBN`` containers, double-counting every
conv edge's ReLU codes; the ``naswot`` profile does the same (``sites="relu_named"``), the default counts once
(README).

Networks are the NB201 cells at reduced width/depth (C, N in the fixture) and 16×16 inputs so the whole
check runs in seconds on a CPU; the profile's batch sizes, repeats, init and data rules are kept.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from nasbench_eval.proxies import score_arch
from nasbench_eval.proxies.scoring import resolve_settings

FIXTURES = Path(__file__).parent / "fixtures" / "proxy_reference"

# (profile/proxy) -> relative tolerance on the same weights and batch. The references sum per-layer float32
# tensors in float32 (we sum in float64); TE-NAS diagonalizes Θ in float32 (we use float64); TE-NAS counts
# regions as a float sum of 1/m in float32 (we count exactly).
EXACT = {
    **{f"{p}/{n}": 1e-5 for p in ("zc", "naslib") for n in ("snip", "grasp", "grad_norm", "fisher", "plain")},
    "zc/jacob_cov": 1e-9, "naslib/jacob_cov": 1e-9,
    "naslib/synflow": 1e-9, "naslib/synflow_log": 1e-12, "naslib/nwot": 1e-12, "naswot/nwot": 1e-12,
    "zc/synflow": 1e-9, "zc/synflow_log": 1e-12,
    "tenas_code/ntk_cond": 1e-4, "tenas_paper/ntk_cond": 1e-4,
    "tenas_code/lr_count": 1e-5, "tenas_paper/lr_count": 1e-5,
}
SAME_WEIGHTS_ABS = 1e-6   # absolute floor for plain/grasp, signed sums that can cancel to ~0


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _batch(setup: dict) -> tuple[torch.Tensor, torch.Tensor]:
    b = setup["batch"]
    res, k = (16, 120) if setup["dataset"] == "ImageNet16-120" else (32, 10)
    g = torch.Generator().manual_seed(b["generator_seed"])
    x = torch.randn(b["rows"], 3, res, res, generator=g)
    y = torch.randint(0, k, (b["rows"],), generator=g)
    assert float(x.double().sum()) == pytest.approx(b["x_sum"], rel=1e-12), "the fixture's batch could not be rebuilt"
    assert int(y.sum()) == b["y_sum"]
    return x, y


def _ours(fixture: dict, batch, key: str, arch: str):
    profile, proxy = key.split("/")
    setup = fixture["setup"]
    over = {"C": setup["C"], "N": setup["N"]} if resolve_settings(proxy, profile)["network"] == "full" else {}
    return score_arch(arch, proxy, batch, profile=profile, seed=setup["seed"], device="cpu", dataset=setup["dataset"],
                      **over)


def _cases(keys, *, slow: bool) -> list:
    """(fixture file, profile/proxy) pairs; ntk.json (minutes of per-sample backward passes) is the slow one."""
    cases = []
    for path in sorted(FIXTURES.glob("*.json")):
        if (path.name == "ntk.json") != slow:
            continue
        cases += [pytest.param(path.name, k, id=f"{path.stem}:{k}") for k in _load(path.name)["values"] if k in keys]
    return cases


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The fixtures were computed with one torch thread. grasp and plain are signed float32 sums that can cancel to
    ~1e-3 of their terms, and a different thread count changes the reduction order: on 2 threads one zc/grasp value
    moved by 1e-3 relative (1.3e-6 absolute). One thread keeps the comparison at float round-off."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def fixtures():
    loaded = {p.name: _load(p.name) for p in FIXTURES.glob("*.json")}
    return {name: (f, _batch(f["setup"])) for name, f in loaded.items()}


def _check_nonfinite(key: str, rec, ours: float, theirs: float) -> None:
    """A dead or all-none arch: each reference's own convention for a NaN/inf score."""
    if math.isnan(theirs):                      # zero-cost-nas keeps NaN
        assert math.isnan(ours), (key, ours, theirs)
    elif key == "naswot/nwot":                  # NASWOT's slogdet of a singular kernel: -inf, as ours
        assert theirs == ours == -math.inf and rec.status == "degenerate", (key, ours, theirs)
    elif key.endswith("ntk_cond"):              # TE-NAS maps a NaN κ to 1e5; ours is +inf, or 1e5 with tenas_nan
        assert theirs == 1e5 and rec.status == "degenerate", (key, ours, theirs)
    else:                                       # NASLib's ZeroCost.query maps NaN/inf to -1e8, as the profile does
        assert theirs == rec.value == rec.options["nonfinite_value"] == -1e8, (key, rec.value, theirs)


def _check_exact(fixture, batch, key, rel):
    for arch, ref in fixture["values"][key].items():
        rec = _ours(fixture, batch, key, arch)
        assert len(rec.repeats) == len(ref), (arch, rec.repeats, ref)
        for ours, theirs in zip(rec.repeats, ref):
            if not math.isfinite(ours):
                _check_nonfinite(key, rec, ours, theirs)
                continue
            floor = SAME_WEIGHTS_ABS if key.endswith(("/plain", "/grasp")) else 0.0
            assert ours == pytest.approx(theirs, rel=rel, abs=floor), (key, arch, ours, theirs)


@pytest.mark.parametrize("name,key", _cases(EXACT, slow=False))
def test_same_weights_and_batch_give_the_reference_value(fixtures, name, key):
    fixture, batch = fixtures[name]
    _check_exact(fixture, batch, key, EXACT[key])


@pytest.mark.slow
@pytest.mark.parametrize("name,key", _cases(EXACT, slow=True))
def test_ntk_same_weights_and_batch_give_the_reference_value(fixtures, name, key):
    fixture, batch = fixtures[name]
    _check_exact(fixture, batch, key, EXACT[key])


def test_every_referenced_profile_and_proxy_has_a_fixture():
    """A profile entry that claims a reference must be pinned by a fixture and held to a tolerance."""
    from nasbench_eval.proxies.profiles import PROFILES

    pinned = set()
    for p in FIXTURES.glob("*.json"):
        pinned |= set(_load(p.name)["values"])
    claimed = {f"{profile}/{proxy}" for profile in ("naswot", "zc", "naslib", "tenas_code", "tenas_paper")
               for proxy in PROFILES[profile]}
    assert claimed <= pinned, sorted(claimed - pinned)
    assert pinned <= set(EXACT)
