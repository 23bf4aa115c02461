"""Finding and reading the image collections NB201 trains on, in every on-disk format we support.

| source | formats (first found wins, per data-dir place) |
| --- | --- |
| ``cifar10`` | official ``cifar-10-batches-py`` pickles; a ``cifar10/cifar10-jpeg.npz`` of JPEG bytes (decoded once, cached) |
| ``cifar100`` | official ``cifar-100-python`` pickles (``train``, ``test``) |
| ``ImageNet16`` | NB201's ``ImageNet16`` pickles (``train_data_batch_1..10``, ``val_data``); kept: labels 1..120 -> 0..119 |

Every reader returns ``(images_u8, labels)``: numpy uint8 of shape (N, H, W, 3) (RGB, HWC) and int64
of shape (N,). Official pickles are read by `nasbench_eval.safe_pickle`, which runs no code from them.
"""  # noqa: E501 -- markdown table rows cannot be wrapped
from __future__ import annotations

import functools
import io
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..exceptions import CorruptDataError, DataNotFoundError
from ..paths import find_data_file
from .. import safe_pickle
from . import _cache

PARTS = ("train", "test")
"""The two parts every source has (ImageNet16's `test` is its `val_data`)."""


@dataclass(frozen=True)
class Format:
    """One on-disk format of a source: a marker file identifies it, relative to its folder."""

    kind: str            # e.g. "cifar10-official"
    folder: str          # folder name the official archive extracts to ("" for the npz)
    marker: str          # file whose presence identifies the format
    data_dir_paths: tuple[str, ...]  # where it is looked for inside a data dir, relative
    hint: str            # how to get it


SOURCES: dict[str, tuple[Format, ...]] = {
    "cifar10": (
        Format(
            "cifar10-official",
            "cifar-10-batches-py",
            "data_batch_1",
            ("cifar10/cifar-10-batches-py/data_batch_1", "cifar-10-batches-py/data_batch_1"),
            "extract the official CIFAR-10 python version "
            "(cifar-10-python.tar.gz, www.cs.toronto.edu/~kriz/cifar.html) and run "
            "`nasbench-eval data add cifar10 FOLDER`",
        ),
        Format(
            "cifar10-jpeg",
            "",
            "cifar10-jpeg.npz",
            ("cifar10/cifar10-jpeg.npz",),
            "or put a cifar10/cifar10-jpeg.npz in a data folder",
        ),
    ),
    "cifar100": (
        Format(
            "cifar100-official",
            "cifar-100-python",
            "train",
            ("cifar100/cifar-100-python/train", "cifar-100-python/train"),
            "extract the official CIFAR-100 python version "
            "(cifar-100-python.tar.gz, www.cs.toronto.edu/~kriz/cifar.html) and run "
            "`nasbench-eval data add cifar100 FOLDER`",
        ),
    ),
    "ImageNet16": (
        Format(
            "imagenet16-official",
            "ImageNet16",
            "train_data_batch_1",
            ("ImageNet16/train_data_batch_1", "imagenet16/train_data_batch_1"),
            "get NAS-Bench-201's ImageNet16 release (train_data_batch_1..10, val_data) and run "
            "`nasbench-eval data add ImageNet16-120 FOLDER`",
        ),
    ),
}
"""Source name -> its supported formats, in order of preference."""

IMAGENET16_CLASSES = 120
"""ImageNet16-120 keeps the images whose 1-based label is 1..120."""


@dataclass(frozen=True)
class Located:
    """Where a source was found: its format and the marker file's resolved path."""

    source: str
    kind: str
    path: Path


def locate(source: str, *, data_dir: str | os.PathLike | None = None, root: str | os.PathLike | None = None) -> Located:
    """Find `source` under an explicit `root` (a folder of official files, or the npz) or the data dirs.

    Raises
    ------
    DataNotFoundError
        Naming every path looked at and how to get the files.
    """
    formats = SOURCES[source]
    if root is not None:
        return _locate_in_root(source, formats, Path(root))
    names = [p for fmt in formats for p in fmt.data_dir_paths]
    try:
        hit = find_data_file(names, data_dir)
    except DataNotFoundError as err:
        hints = "; ".join(f.hint for f in formats)
        raise DataNotFoundError(f"{source} images: {err} To get them: {hints}; or pass root=FOLDER.") from err
    is_npz = hit.suffix == ".npz"  # each source has at most one official format and one npz format
    fmt = next(f for f in formats if (f.folder == "") == is_npz)
    return Located(source, fmt.kind, hit)


def _locate_in_root(source: str, formats: tuple[Format, ...], root: Path) -> Located:
    tried = []
    for fmt in formats:
        candidates = [root] if root.suffix == ".npz" and fmt.folder == "" else [root / fmt.marker]
        if fmt.folder:
            candidates.append(root / fmt.folder / fmt.marker)
        for path in candidates:
            if path.is_file():
                return Located(source, fmt.kind, path.resolve())
            tried.append(str(path))
    hints = "; ".join(f.hint for f in formats)
    raise DataNotFoundError(
        f"{source} images not found under root={str(root)!r}; looked for: {'; '.join(tried)}. To get them: {hints}."
    )


def read_part(located: Located, part: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images_u8 (N,H,W,3), labels int64 (N,))`` of one part; memoised per process (read-only arrays)."""
    st = located.path.stat()
    return _read_part_memo(located.kind, str(located.path), part, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=6)
def _read_part_memo(kind: str, path: str, part: str, size: int, mtime_ns: int) -> tuple[np.ndarray, np.ndarray]:
    images, labels = _READERS[kind](Path(path), part)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


# ---- the CIFAR-10 JPEG mirror -------------------------------------------------------------------------
def _read_jpeg_npz(path: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = f"cifar10-jpeg-{_cache.content_digest(path)[:20]}"
    arrays = _cache.load_cached(
        prefix, (f"{part}-images_u8", f"{part}-labels")
    )  # an entry is per array: read only this part
    if arrays is None:
        arrays = {}
        with _open_npz(path) as z:
            for p in PARTS:
                arrays[f"{p}-images_u8"], arrays[f"{p}-labels"] = _decode_part(z, p, path)
        _cache.save_cached(prefix, arrays)
    return arrays[f"{part}-images_u8"], arrays[f"{part}-labels"]


def _open_npz(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise CorruptDataError(f"{path}: not a readable .npz ({err}); re-copy the file.") from err


def _decode_part(z, part: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        jpeg, offsets, labels = z[f"{part}_jpeg"], z[f"{part}_offsets"], z[f"{part}_labels"]
    except KeyError as err:
        raise CorruptDataError(
            f"{path}: array {err} is missing; expected {part}_jpeg, {part}_offsets, {part}_labels."
        ) from err
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise CorruptDataError(
            f"{path}: the {part} arrays cannot be read ({err}); the file is truncated or damaged, "
            "re-copy cifar10/cifar10-jpeg.npz from the mirror."
        ) from err
    n = len(labels)
    if offsets.shape != (n + 1,) or offsets[0] != 0 or offsets[-1] != len(jpeg) or (np.diff(offsets) <= 0).any():
        raise CorruptDataError(
            f"{path}: {part}_offsets does not cut {part}_jpeg into {n} non-empty images; re-copy the file."
        )
    return decode_jpegs(jpeg, offsets, f"{path} ({part})"), _check_labels(labels, 10, f"{path} ({part}_labels)")


def decode_jpegs(jpeg: np.ndarray, offsets: np.ndarray, where: str) -> np.ndarray:
    """uint8 (N, 32, 32, 3) RGB pixels of N concatenated JPEG files; image i is ``jpeg[offsets[i]:offsets[i+1]]``."""
    images = np.empty((len(offsets) - 1, 32, 32, 3), dtype=np.uint8)
    for i in range(len(images)):
        images[i] = _decode_one(jpeg[offsets[i]:offsets[i + 1]].tobytes(), f"{where}, image {i}")
    return images


def _decode_one(data: bytes, where: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as im:
            arr = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as err:
        raise CorruptDataError(f"{where}: not a decodable JPEG ({err}); re-copy the file.") from err
    if arr.shape != (32, 32, 3):
        raise CorruptDataError(f"{where}: decodes to shape {arr.shape}; expected (32, 32, 3).")
    return arr


def _check_labels(labels, num_classes: int, where: str) -> np.ndarray:
    labels = np.asarray(labels)
    if (
        labels.ndim != 1
        or not np.issubdtype(labels.dtype, np.integer)
        or (len(labels) and (labels.min() < 0 or labels.max() >= num_classes))
    ):
        raise CorruptDataError(
            f"{where}: labels are not integers in 0..{num_classes - 1}; the file is damaged or not this dataset."
        )
    return labels.astype(np.int64)


# ---- official pickles ----------------------------------------------------------------------------------
def _unpickle(path: Path) -> dict:
    if not path.is_file():
        raise DataNotFoundError(
            f"{path} not found (the folder {path.parent} is incomplete); re-extract the official archive there."
        )
    obj = safe_pickle.load(path, encoding="latin1")
    if not isinstance(obj, dict):
        raise CorruptDataError(f"{path}: holds a {type(obj).__name__}; expected a dict with 'data' and labels.")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _images_from_rows(entry: dict, label_key: str, resolution: int, path: Path) -> tuple[np.ndarray, list]:
    if "data" not in entry or label_key not in entry:
        raise CorruptDataError(f"{path}: keys {sorted(entry)}; expected 'data' and {label_key!r}.")
    data, labels = np.asarray(entry["data"]), list(entry[label_key])
    width = 3 * resolution * resolution
    if data.ndim != 2 or data.shape[1] != width or len(data) != len(labels):
        raise CorruptDataError(
            f"{path}: 'data' has shape {data.shape} for {len(labels)} labels; expected ({len(labels)}, {width}) "
            f"(rows of 3x{resolution}x{resolution} uint8, channel-major)."
        )
    if data.dtype != np.uint8 and (data.min(initial=0) < 0 or data.max(initial=0) > 255):
        raise CorruptDataError(f"{path}: 'data' values leave 0..255; expected uint8 pixels.")
    images = data.astype(np.uint8, copy=False).reshape(-1, 3, resolution, resolution).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _read_cifar_official(
    folder: Path, files: list[str], label_key: str, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for name in files:
        x, y = _images_from_rows(_unpickle(folder / name), label_key, 32, folder / name)
        images.append(x)
        labels.extend(y)
    return np.concatenate(images), _check_labels(np.asarray(labels, dtype=np.int64), num_classes, str(folder))


def _read_cifar10_official(marker: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    files = [f"data_batch_{i}" for i in range(1, 6)] if part == "train" else ["test_batch"]
    return _read_cifar_official(marker.parent, files, "labels", 10)


def _read_cifar100_official(marker: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    return _read_cifar_official(marker.parent, [part], "fine_labels", 100)


def _imagenet16_files(folder: Path, part: str) -> list[Path]:
    return [folder / f"train_data_batch_{i}" for i in range(1, 11)] if part == "train" else [folder / "val_data"]


def _read_imagenet16(marker: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    files = _imagenet16_files(marker.parent, part)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise DataNotFoundError(
            f"ImageNet16 {part} files missing: {', '.join(missing)}; copy NAS-Bench-201's complete ImageNet16 folder."
        )
    prefix = f"imagenet16-120-{part}-{_cache.stat_digest(files)[:20]}"
    cached = _cache.load_cached(prefix, ("images_u8", "labels"))
    if cached is not None:
        return cached["images_u8"], cached["labels"]
    images, labels = [], []
    for path in files:
        x, y = _images_from_rows(_unpickle(path), "labels", 16, path)
        y = np.asarray(y, dtype=np.int64)
        keep = (y >= 1) & (y <= IMAGENET16_CLASSES)
        images.append(x[keep])
        labels.append(y[keep] - 1)
    result = {
        "images_u8": np.concatenate(images),
        "labels": _check_labels(np.concatenate(labels), IMAGENET16_CLASSES, str(marker.parent)),
    }
    _cache.save_cached(prefix, result)
    return result["images_u8"], result["labels"]


_READERS = {
    "cifar10-jpeg": _read_jpeg_npz,
    "cifar10-official": _read_cifar10_official,
    "cifar100-official": _read_cifar100_official,
    "imagenet16-official": _read_imagenet16,
}

