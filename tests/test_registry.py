"""The one Registry: every named family goes through it, reads like a mapping, and fails loudly on a miss."""
from __future__ import annotations

import pytest

from nasbench_eval.exceptions import NasBenchEvalError, UnknownNameError
from nasbench_eval.registry import BENCHMARKS, METRICS, PROXIES, SEARCHERS, Registry
from nasbench_eval.reproduce import REPRODUCTIONS
from nasbench_eval.reproduce.runner import RUNNERS
from nasbench_eval.spidernet.config import STRATEGIES, Strategy
from nasbench_eval.stage2 import SELECTORS
from nasbench_eval.train.methods import METHODS, Stage1Method


@pytest.mark.parametrize("family", [PROXIES, METRICS, BENCHMARKS, SEARCHERS, METHODS, SELECTORS, STRATEGIES,
                                    REPRODUCTIONS, RUNNERS])
def test_every_named_family_is_a_registry(family):
    assert isinstance(family, Registry) and len(family) == len(list(family)) > 0


def test_registry_reads_like_a_mapping_of_registered_objects():
    assert list(METHODS)[:2] == ["rsps", "darts"] and issubclass(METHODS["darts"], Stage1Method)
    assert METHODS["darts"].name == "darts" and METHODS.get("darts").description
    assert isinstance(STRATEGIES["random3"], Strategy) and STRATEGIES.values()[0] is STRATEGIES["spidernet"]
    assert dict(STRATEGIES.items())["random1"] is STRATEGIES["random1"]


def test_registry_unknown_name_suggests_and_duplicate_raises():
    with pytest.raises(UnknownNameError, match="unknown Stage-1 method 'dartz'. Did you mean 'darts'"):
        METHODS["dartz"]
    reg = Registry("thing", "things")
    reg.add("a", 1, description="one")
    assert reg["a"] == 1 and reg.get("a").description == "one" and "a" in reg and "b" not in reg
    with pytest.raises(NasBenchEvalError, match="registered twice"):
        reg.add("a", 2)
