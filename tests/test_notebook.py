"""The notebook runs top to bottom (nbclient, CPU) and is committed with its outputs cleared."""
from __future__ import annotations

import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")   # absent on some images (the GPU machine): a skip, not a collection error

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "improvement_curves.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


def test_notebook_executes(monkeypatch, tmp_path):
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Kendall tau" in printed and "normalised improvement" in printed
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 1
