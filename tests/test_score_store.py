"""The score store and the resumable scoring loop."""
from __future__ import annotations

import math

import pytest

import nasbench_eval.scoring.units as units_module
from nasbench_eval.exceptions import CorruptDataError, InvalidParameterError, UnknownNameError
from nasbench_eval.scoring.score_space import resolve_proxies, score_space
from nasbench_eval.space import all_archs
from nasbench_eval.scoring.store import ScoreStore, StoredScore, score_key

ARCHS = [str(a) for a in list(all_archs())[1000:1005]]


def test_key_depends_on_every_field():
    base = dict(space="tss", arch="a", dataset="cifar10", proxy="nwot", context={"seed": 0, "settings": "s"})
    k = score_key(**base)
    assert k == score_key(**{**base, "context": {"settings": "s", "seed": 0}})  # key order irrelevant
    for change in (dict(arch="b"), dict(dataset="cifar100"), dict(proxy="synflow"), dict(space="sss"),
                   dict(context={"seed": 1, "settings": "s"}), dict(context={"seed": 0, "settings": "t"})):
        assert score_key(**{**base, **change}) != k


def test_store_round_trip_keeps_nonfinite_values(tmp_path):
    with ScoreStore(tmp_path / "s.sqlite") as store:
        for i, v in enumerate((1.5, -math.inf, math.inf, math.nan)):
            store.put(f"k{i}", space="tss", arch="a", dataset="cifar10", proxy="p", context={},
                      score=StoredScore("a", "p", v, "ok", None, (v, 2.0), False, 0.1))
    with ScoreStore(tmp_path / "s.sqlite") as store:  # reopened: the rows were committed
        got = store.get_many(["k0", "k1", "k2", "k3", "missing"])
        assert len(store) == 4 and set(got) == {"k0", "k1", "k2", "k3"}
    assert got["k0"].value == 1.5 and got["k1"].value == -math.inf and got["k2"].value == math.inf
    assert math.isnan(got["k3"].value) and math.isnan(got["k3"].repeats[0]) and got["k3"].repeats[1] == 2.0


def test_corrupt_store_is_a_clear_error(tmp_path):
    (tmp_path / "bad.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(CorruptDataError, match="not a usable SQLite file"):
        ScoreStore(tmp_path / "bad.sqlite")


def test_resolve_proxies_aliases_and_errors():
    assert resolve_proxies("naswot, ntk,lr,nwot") == ["nwot", "ntk_cond", "lr_count"]
    with pytest.raises(UnknownNameError, match="Did you mean"):
        resolve_proxies("synflw")
    with pytest.raises(InvalidParameterError, match="ranks a whole population"):
        resolve_proxies("tenas_rank")
    with pytest.raises(InvalidParameterError, match="no proxy given"):
        resolve_proxies(" , ")


def test_scores_match_direct_calls_and_are_deterministic(tmp_path):
    a = score_space(ARCHS[:3], ["params", "synflow"], device="cpu", progress=False)
    b = score_space(ARCHS[:3], ["params", "synflow"], device="cpu", progress=False)
    timing = [c for c in a.columns if c.endswith("_seconds")]
    assert a.drop(columns=timing).equals(b.drop(columns=timing))
    from nasbench_eval.nets import nb201_params

    # params in millions, as the NB201 API reports them
    assert list(a["params"]) == pytest.approx([nb201_params(s) / 1e6 for s in ARCHS[:3]], rel=1e-12)
    assert list(a.columns[:2]) == ["arch", "dead_cell"] and set(a["synflow_status"]) <= {"ok", "degenerate"}


def test_interrupted_run_resumes_without_recomputing(tmp_path, monkeypatch):
    real = units_module.score_arch
    calls = []

    def flaky(arch, name, *args, **kwargs):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append((arch, name))
        return real(arch, name, *args, **kwargs)

    monkeypatch.setattr(units_module, "score_arch", flaky)
    with ScoreStore(tmp_path / "s.sqlite") as store, pytest.raises(KeyboardInterrupt):
        score_space(ARCHS, ["params"], device="cpu", store=store, progress=False)
    with ScoreStore(tmp_path / "s.sqlite") as store:
        assert len(store) == 3  # the finished scores survived the interrupt
    monkeypatch.setattr(
        units_module,
        "score_arch",
        lambda arch, name, *a, **k: calls.append((arch, name)) or real(arch, name, *a, **k),
    )
    with ScoreStore(tmp_path / "s.sqlite") as store:
        frame = score_space(ARCHS, ["params"], device="cpu", store=store, progress=False)
    assert calls[3:] == [(a, "params") for a in ARCHS[3:]]  # only the two unfinished archs were scored
    assert frame["params"].notna().all() and len(frame) == 5


def test_changed_settings_are_not_served_from_the_store(tmp_path, monkeypatch):
    with ScoreStore(tmp_path / "s.sqlite") as store:
        score_space(ARCHS[:2], ["synflow"], device="cpu", store=store, progress=False, seed=0)
        n = len(store)
        score_space(ARCHS[:2], ["synflow"], device="cpu", store=store, progress=False, seed=1)
        assert len(store) == 2 * n
