"""The data that ships inside the package (``nasbench_eval/data/files/``), checksum-verified on load.

| file | what |
| --- | --- |
| ``nb201/tss_accuracy.csv.xz`` | the NB201 / NATS-Bench tss ground-truth table (15,625 rows), xz-compressed CSV |
| ``cifar10/cifar10-probe.npz`` | the CIFAR-10 probe set: 3,000 training images (300 per class) as JPEG bytes |
| ``manifest.json`` | sha256 of every file (and of the probe set's decoded pixels) |

Provenance and the rule that picks the probe images: ``files/README.md``. Every file is verified
against the manifest the first time a process uses it; a mismatch is a `CorruptDataError`.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from ..exceptions import CorruptDataError

FILES_DIR = Path(__file__).resolve().parent / "files"
"""Where the package's own data lives; laid out like a data folder (``nb201/``, ``cifar10/``)."""
MANIFEST = "manifest.json"
TABLE_FILE = "nb201/tss_accuracy.csv.xz"
PROBE_FILE = "cifar10/cifar10-probe.npz"
_REINSTALL = "reinstall nasbench-eval (pip install --force-reinstall nasbench-eval, or git checkout the file)"


@functools.lru_cache(maxsize=1)
def manifest() -> dict:
    """The manifest: file name -> {"sha256", "bytes", ...}."""
    path = FILES_DIR / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise CorruptDataError(f"package data manifest {path} is unreadable ({err}); {_REINSTALL}.") from err


def is_packaged(path: Path) -> bool:
    """True if `path` is one of the package's own data files."""
    try:
        return path.resolve().relative_to(FILES_DIR).as_posix() in manifest()
    except ValueError:
        return False


def verified(name: str) -> Path:
    """Path of package data file `name` after checking its size and sha256 against the manifest.

    Raises
    ------
    CorruptDataError
        The file is missing, or its bytes are not the ones the package was built with.
    """
    path = FILES_DIR / name
    try:
        st = path.stat()
    except OSError as err:
        raise CorruptDataError(f"package data file {path} is missing ({err}); {_REINSTALL}.") from err
    _check(name, str(path), st.st_size, st.st_mtime_ns)
    return path


@functools.lru_cache(maxsize=8)
def _check(name: str, path: str, size: int, mtime_ns: int) -> None:
    want = manifest().get(name)
    if want is None:
        raise CorruptDataError(f"package data file {name!r} is not in {FILES_DIR / MANIFEST}; {_REINSTALL}.")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if size != want["bytes"] or digest != want["sha256"]:
        raise CorruptDataError(
            f"package data file {path} fails its checksum (sha256 {digest[:12]}..., {size} bytes; "
            f"expected {want['sha256'][:12]}..., {want['bytes']} bytes); {_REINSTALL}."
        )


@functools.lru_cache(maxsize=1)
def probe_set():
    """The CIFAR-10 probe set: ``(images_u8 uint8 (3000, 32, 32, 3), labels int64 (3000,))``, read-only.

    Decoded with Pillow; the decoded pixels are checked against the manifest's digest, so every
    machine scores on the identical pixels (a JPEG decoder that differs is a `CorruptDataError`).
    """
    import numpy as np

    from .sources import decode_jpegs

    path = verified(PROBE_FILE)
    with np.load(path, allow_pickle=False) as z:
        jpeg, offsets, labels = z["jpeg"], z["offsets"], z["labels"]
    images = decode_jpegs(jpeg, offsets, str(path))
    digest = hashlib.sha256(images.tobytes()).hexdigest()
    if digest != manifest()[PROBE_FILE]["pixels_sha256"]:
        import PIL

        raise CorruptDataError(
            f"{path}: this machine's JPEG decoder (Pillow {PIL.__version__}) gives other pixels than the ones the "
            "probe set was built with, so scores would not match other machines; install a Pillow wheel "
            "(it bundles libjpeg-turbo) or pass --full-split to score on your own CIFAR-10 files."
        )
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels
