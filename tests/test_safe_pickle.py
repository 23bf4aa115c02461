"""safe_pickle runs no code from a file: a payload that would create a marker file is refused before it is called."""
from __future__ import annotations

import bz2
import os
import pickle

import numpy as np
import pytest

from nasbench_eval import safe_pickle
from nasbench_eval.exceptions import CorruptDataError


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": _Payload(marker)}))
    with pytest.raises(CorruptDataError, match="refuses to unpickle .*system"):
        safe_pickle.load(path)
    assert not marker.exists()


def test_hostile_bz2_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "0.pickle.pbz2"
    path.write_bytes(bz2.compress(pickle.dumps([_Payload(marker)])))
    with pytest.raises(CorruptDataError, match="refuses"):
        safe_pickle.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_plain_data_and_numpy_arrays_round_trip(tmp_path, protocol):
    obj = {"data": np.arange(12, dtype=np.uint8).reshape(3, 4), "labels": [0, 1, 2], "name": "x", "f": (1.5, None)}
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    back = safe_pickle.load(path)
    assert back.keys() == obj.keys()
    np.testing.assert_array_equal(back["data"], obj["data"])
    assert back["labels"] == [0, 1, 2] and back["f"] == (1.5, None)


def test_truncated_pickle_is_one_clear_error(tmp_path):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({"data": list(range(100))})[:20])
    with pytest.raises(CorruptDataError, match="not a readable pickle"):
        safe_pickle.load(path)
