"""The built wheel carries the package data and works from any folder, with no data folder anywhere."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
MAX_WHEEL_BYTES = 10 * 2 ** 20
PACKAGE_FILES = ("manifest.json", "README.md", "nb201/tss_accuracy.csv.xz", "cifar10/cifar10-probe.npz")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Build the wheel from a copy of the sources (the checkout stays clean), without network access."""
    pytest.importorskip("build")
    pytest.importorskip("setuptools")
    src = tmp_path_factory.mktemp("src")
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "nasbench_eval", src / "nasbench_eval", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(src)],
                   check=True, capture_output=True, timeout=300)
    (path,) = dist.glob("nasbench_eval-*.whl")
    return path


def test_wheel_holds_the_package_data_and_is_small(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"nasbench_eval/data/files/{f}" for f in PACKAGE_FILES} <= names
    assert not any(n.startswith(("tests/", "tools/", "benchmarks/")) for n in names)
    assert wheel.stat().st_size <= MAX_WHEEL_BYTES, f"{wheel.stat().st_size} bytes"


def test_installed_wheel_answers_from_an_empty_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)      # a pure-Python wheel: unpacked is installed, for import purposes
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NASBENCH_EVAL_DATA"}
    env.update(PYTHONPATH=str(site), XDG_DATA_HOME=str(tmp_path / "xdg"), NASBENCH_EVAL_CACHE=str(tmp_path / "cache"))
    code = ("from nasbench_eval import create_benchmark; from nasbench_eval.data.packaged import FILES_DIR, probe_set; "
            "print(create_benchmark('nb201').query(6111), probe_set()[0].shape, FILES_DIR)")
    out = subprocess.run([sys.executable, "-c", code], cwd=empty, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    value, shape, where = out.stdout.split(" ", 1)[0], out.stdout.split("(")[1].split(")")[0], out.stdout.split()[-1]
    assert value == "94.373333" and shape == "3000, 32, 32, 3" and where.startswith(str(site))
