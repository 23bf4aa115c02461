"""Datasets: every on-disk format, the decode cache, splits, normalisation, augmentation, proxy batches.

Most tests run on tiny files written to tmp_path in the exact official / mirror formats. Synthetic
JPEGs are uniform colours that encode (class, index within class), so a test can tell which source
image every batch element is, despite JPEG loss (<= 3 levels; the codes are 20+ levels apart).
"""
from __future__ import annotations

import io
import os
import pickle
import time

import numpy as np
import pytest
import torch
from PIL import Image

from nasbench_eval.data import (
    DATASET_SPECS,
    crop_flip,
    default_pool,
    describe_data,
    get_spec,
    load_dataset,
    normalize,
    proxy_batch,
    train_valid_split,
)
from nasbench_eval.data import sources
from nasbench_eval.exceptions import CorruptDataError, DataNotFoundError, InvalidParameterError

PER_CLASS = {"train": 8, "test": 2}


def colour(c: int, k: int) -> tuple[int, int, int]:
    """The uniform RGB colour of synthetic image k of class c."""
    return 20 * c + 10, 24 * k + 12, 200


def decode_colour(rgb) -> tuple[int, int]:
    """(class, index within class) from a (3,) colour read back from a synthetic image."""
    r, g, _ = (float(v) for v in rgb)
    return round((r - 10) / 20), round((g - 12) / 24)


def _jpeg(rgb) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), tuple(rgb)).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def write_synthetic_npz(path, per_class=PER_CLASS, shift: int = 0):
    """The mirror's layout (cifar10/README.md), sorted by class like the mirror; `shift` alters every colour."""
    arrays = {}
    for part, n in per_class.items():
        blobs = [_jpeg(np.add(colour(c, k), (shift, 0, 0))) for c in range(10) for k in range(n)]
        arrays[f"{part}_jpeg"] = np.frombuffer(b"".join(blobs), dtype=np.uint8)
        arrays[f"{part}_offsets"] = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
        arrays[f"{part}_labels"] = np.repeat(np.arange(10), n).astype(np.int64)
    arrays["classes"] = np.array(
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


@pytest.fixture
def npz_dir(tmp_path):
    """A data dir holding only a synthetic cifar10/cifar10-jpeg.npz."""
    write_synthetic_npz(tmp_path / "cifar10" / "cifar10-jpeg.npz")
    return tmp_path


def images_identity(images_u8) -> list[tuple[int, int]]:
    """(class, k) of every image in a uint8 (N, H, W, 3) tensor, read from its centre pixel."""
    return [decode_colour(img[16, 16]) for img in images_u8]


# ---- specs -------------------------------------------------------------------------------------------
def test_specs_match_nb201():
    assert [(s.name, s.num_classes, s.resolution, s.crop_padding) for s in DATASET_SPECS.values()] == [
        ("cifar10-valid", 10, 32, 4), ("cifar10", 10, 32, 4), ("cifar100", 100, 32, 4), ("ImageNet16-120", 120, 16, 2),
    ]
    assert get_spec("cifar10").mean == pytest.approx((125.3 / 255, 123.0 / 255, 113.9 / 255))
    assert get_spec("cifar100").std == pytest.approx((68.2 / 255, 65.4 / 255, 70.4 / 255))
    assert get_spec("ImageNet16-120").mean == pytest.approx((122.68 / 255, 116.66 / 255, 104.01 / 255))


def test_get_spec_rejects_unknown_dataset():
    with pytest.raises(InvalidParameterError, match=r"dataset='cifar-10'.*cifar10-valid"):
        get_spec("cifar-10")


# ---- the JPEG mirror -------------------------------------------------------------------------------------
def test_npz_images_and_labels_line_up(npz_dir):
    for split, n in (("train", 80), ("test", 20)):
        x, y = load_dataset("cifar10", split, data_dir=npz_dir)
        assert x.dtype == torch.uint8 and x.shape == (n, 32, 32, 3) and y.dtype == torch.int64
        ident = images_identity(x)
        assert [c for c, _ in ident] == y.tolist()  # every label belongs to its own image
        assert sorted(ident) == [(c, k) for c in range(10) for k in range(n // 10)]
        assert (x[:, :, :, 2].int() - 200).abs().max() <= 3  # RGB order kept (blue channel constant)


def test_npz_is_decoded_once_then_read_from_the_cache(npz_dir, monkeypatch):
    first = load_dataset("cifar10", "train", data_dir=npz_dir)[0]
    sources._read_part_memo.cache_clear()
    monkeypatch.setattr(sources, "_decode_one", lambda *a: pytest.fail("decoded again despite the cache"))
    again = load_dataset("cifar10", "train", data_dir=npz_dir)[0]
    assert torch.equal(first, again)


def test_changed_npz_is_decoded_again(npz_dir):
    path = npz_dir / "cifar10" / "cifar10-jpeg.npz"
    before = load_dataset("cifar10", "test", data_dir=npz_dir)[0]
    write_synthetic_npz(path, shift=40)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # a different mtime even on coarse clocks
    after = load_dataset("cifar10", "test", data_dir=npz_dir)[0]
    assert (after[:, :, :, 0].float() - before[:, :, :, 0].float()).mean() > 30  # red moved by 40 (JPEG blurs it a bit)


def test_explicit_root_may_be_the_npz_itself(npz_dir, tmp_path):
    x, _ = load_dataset("cifar10", "test", root=npz_dir / "cifar10" / "cifar10-jpeg.npz")
    assert x.shape == (20, 32, 32, 3)
    with pytest.raises(DataNotFoundError, match=r"root=.*elsewhere.*data_batch_1"):
        load_dataset("cifar10", root=tmp_path / "elsewhere")


def test_corrupt_npz_is_reported(tmp_path):
    path = tmp_path / "cifar10" / "cifar10-jpeg.npz"
    write_synthetic_npz(path)
    z = dict(np.load(path))
    z["train_offsets"] = z["train_offsets"][:-1]
    np.savez(path, **z)
    with pytest.raises(CorruptDataError, match="train_offsets"):
        load_dataset("cifar10", data_dir=tmp_path)


# ---- official CIFAR pickles ------------------------------------------------------------------------------
def _rows(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3 * 32 * 32), dtype=np.uint8)


def _dump_py2_style(obj: dict, path):
    """Official CIFAR python files were pickled by Python 2: byte-string keys once loaded in Python 3."""
    with open(path, "wb") as f:
        pickle.dump({k.encode(): v for k, v in obj.items()}, f, protocol=2)


def write_cifar10_official(folder, n=4):
    folder.mkdir(parents=True)
    for i, name in enumerate([f"data_batch_{j}" for j in range(1, 6)] + ["test_batch"]):
        labels = [(i + j) % 10 for j in range(n)]
        _dump_py2_style(
            {"batch_label": name, "labels": labels, "data": _rows(n, i), "filenames": [f"{j}.png" for j in range(n)]},
            folder / name,
        )


def write_cifar100_official(folder, n=6):
    folder.mkdir(parents=True)
    for i, name in enumerate(("train", "test")):
        _dump_py2_style(
            {"fine_labels": [99 - j - i for j in range(n)], "coarse_labels": [0] * n, "data": _rows(n, 10 + i)},
            folder / name,
        )


def test_cifar10_official_pickles_channel_major_rows(tmp_path):
    write_cifar10_official(tmp_path / "cifar10" / "cifar-10-batches-py")
    x, y = load_dataset("cifar10", "train", data_dir=tmp_path)
    assert x.shape == (20, 32, 32, 3) and y.tolist()[:8] == [0, 1, 2, 3, 1, 2, 3, 4]
    row = _rows(4, 1)[2]  # data_batch_2, image 2 -> overall index 6
    assert x[6, 1, 2].tolist() == [row[34], row[1024 + 34], row[2048 + 34]]  # pixel (h=1, w=2): R, G, B planes
    xt, yt = load_dataset("cifar10", "test", data_dir=tmp_path)
    assert xt.shape == (4, 32, 32, 3) and yt.tolist() == [5, 6, 7, 8]


def test_official_cifar10_is_preferred_to_the_mirror_in_the_same_place(npz_dir):
    write_cifar10_official(npz_dir / "cifar10" / "cifar-10-batches-py")
    assert load_dataset("cifar10", data_dir=npz_dir)[0].shape[0] == 20  # official (5 x 4), not the npz's 80


def test_cifar100_official_root_and_fine_labels(tmp_path):
    write_cifar100_official(tmp_path / "somewhere" / "cifar-100-python")
    for root in (tmp_path / "somewhere", tmp_path / "somewhere" / "cifar-100-python"):  # parent or the folder itself
        x, y = load_dataset("cifar100", "test", root=root)
        assert x.shape == (6, 32, 32, 3) and y.tolist() == [98, 97, 96, 95, 94, 93]
        assert x[0, 0, 0].tolist() == [_rows(6, 11)[0][i] for i in (0, 1024, 2048)]


def test_cifar100_missing_names_every_path_and_how_to_get_it(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("cifar100", data_dir=tmp_path)
    msg = str(err.value)
    assert (
        str(tmp_path / "cifar100" / "cifar-100-python" / "train") in msg
        and str(tmp_path / "cifar-100-python" / "train") in msg
    )
    assert "cifar-100-python.tar.gz" in msg


def test_corrupt_official_pickle(tmp_path):
    folder = tmp_path / "cifar-100-python"
    write_cifar100_official(folder)
    (folder / "train").write_bytes(b"not a pickle")
    with pytest.raises(CorruptDataError, match="not a readable pickle"):
        load_dataset("cifar100", root=folder)
    _dump_py2_style({"fine_labels": [1, 2], "data": np.zeros((2, 100), np.uint8)}, folder / "train")
    with pytest.raises(CorruptDataError, match=r"shape \(2, 100\)"):
        load_dataset("cifar100", root=folder)


# ---- ImageNet16-120 -----------------------------------------------------------------------------------
def write_imagenet16(folder, n=5):
    """Labels are 1-based over 1000 classes; ImageNet16-120 keeps 1..120."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, name in enumerate([f"train_data_batch_{j}" for j in range(1, 11)] + ["val_data"]):
        labels = [1 + i, 120, 121, 1000, 60][:n]
        entry = {"data": rng.integers(0, 256, size=(n, 768), dtype=np.uint8), "labels": labels}
        if name != "val_data":
            entry["mean"] = np.zeros(768)
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)


def test_imagenet16_120_keeps_labels_1_to_120_shifted_to_0_based(tmp_path):
    write_imagenet16(tmp_path / "ImageNet16")
    x, y = load_dataset("ImageNet16-120", "train", data_dir=tmp_path)
    assert x.shape == (30, 16, 16, 3)  # 3 of 5 kept per file, 10 files
    assert y.tolist()[:6] == [0, 119, 59, 1, 119, 59] and y.max() == 119 and y.min() == 0
    with open(tmp_path / "ImageNet16" / "train_data_batch_1", "rb") as f:
        row = pickle.load(f)["data"][1]  # the label-120 image of the first file
    assert x[1, 3, 5].tolist() == [row[3 * 16 + 5], row[256 + 3 * 16 + 5], row[512 + 3 * 16 + 5]]
    xv, yv = load_dataset("ImageNet16-120", "test", data_dir=tmp_path)
    assert xv.shape == (3, 16, 16, 3) and yv.tolist() == [10, 119, 59]


def test_imagenet16_missing_batch_is_named(tmp_path):
    write_imagenet16(tmp_path / "ImageNet16")
    (tmp_path / "ImageNet16" / "train_data_batch_7").unlink()
    with pytest.raises(DataNotFoundError, match="train_data_batch_7"):
        load_dataset("ImageNet16-120", data_dir=tmp_path)


def test_imagenet16_proxy_batch_is_16px(tmp_path):
    write_imagenet16(tmp_path / "ImageNet16")
    x, y = proxy_batch("ImageNet16-120", 8, data_dir=tmp_path, augment=True, device="cpu")
    assert x.shape == (8, 3, 16, 16) and y.shape == (8,) and set(y.tolist()) <= {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 59, 119}


# ---- splits -----------------------------------------------------------------------------------------------
def test_train_valid_split_is_class_balanced_disjoint_and_seeded():
    labels = np.repeat(np.arange(10), 50)
    tr, va = train_valid_split(labels, seed=0)
    assert tr.dtype == torch.int64 and len(tr) == len(va) == 250
    assert sorted(tr.tolist() + va.tolist()) == list(range(500))
    assert np.bincount(labels[tr.numpy()]).tolist() == [25] * 10 == np.bincount(labels[va.numpy()]).tolist()
    assert torch.equal(tr, train_valid_split(torch.as_tensor(labels), seed=0)[0])
    assert not torch.equal(tr, train_valid_split(labels, seed=1)[0])
    assert torch.equal(tr, torch.sort(tr).values)


def test_train_valid_split_odd_class_sizes():
    tr, va = train_valid_split([3, 3, 3, 7], seed=0)
    assert len(tr) == 1 and len(va) == 3 and 3 in va.tolist()  # the single class-7 image goes to valid


@pytest.mark.parametrize("labels", [np.zeros((4, 2), int), [0.5, 1.5], "abc"])
def test_train_valid_split_rejects_bad_labels(labels):
    with pytest.raises(InvalidParameterError, match="labels"):
        train_valid_split(labels)


def test_cifar10_valid_halves(npz_dir):
    (xtr, ytr), (xva, yva) = (
        load_dataset("cifar10-valid", "train", data_dir=npz_dir),
        load_dataset("cifar10-valid", "valid", data_dir=npz_dir),
    )
    assert len(ytr) == len(yva) == 40 and np.bincount(ytr.numpy()).tolist() == [4] * 10
    assert not set(images_identity(xtr)) & set(images_identity(xva))
    assert load_dataset("cifar10-valid", "test", data_dir=npz_dir)[0].shape[0] == 20


# ---- normalisation and augmentation ----------------------------------------------------------------------
def test_normalize_uses_the_dataset_constants_per_channel():
    img = torch.tensor([10, 128, 250], dtype=torch.uint8).view(1, 1, 1, 3).expand(2, 4, 4, 3)
    x = normalize(img, "cifar100")
    assert x.dtype == torch.float32 and x.shape == (2, 3, 4, 4)
    want = [
        (v / 255 - m / 255) / (s / 255) for v, m, s in zip((10, 128, 250), (129.3, 124.1, 112.4), (68.2, 65.4, 70.4))
    ]
    assert x[1, :, 3, 2].tolist() == pytest.approx(want, abs=1e-6)


def test_normalize_rejects_float_or_nchw():
    with pytest.raises(InvalidParameterError, match="images_u8"):
        normalize(torch.zeros(2, 3, 32, 32), "cifar10")


def test_crop_flip_is_a_window_of_the_zero_padded_image_maybe_flipped():
    g = torch.Generator().manual_seed(0)
    src = torch.randint(1, 256, (64, 8, 8, 3), generator=g, dtype=torch.uint8)  # no zeros, so padding is visible
    out = crop_flip(src, 2, torch.Generator().manual_seed(1))
    padded = torch.nn.functional.pad(src, (0, 0, 2, 2, 2, 2))
    seen_offsets, seen_flip = set(), set()
    for b in range(64):
        matches = [(dy, dx, f) for dy in range(5) for dx in range(5) for f in (False, True)
                   if torch.equal(out[b], (lambda w: w.flip(1) if f else w)(padded[b, dy:dy + 8, dx:dx + 8]))]
        assert matches, f"image {b} is not a flipped/unflipped window of the padded input"
        seen_offsets.add(matches[0][:2])
        seen_flip.add(matches[0][2])
    assert len(seen_offsets) > 10 and seen_flip == {False, True}
    assert torch.equal(out, crop_flip(src, 2, torch.Generator().manual_seed(1)))


# ---- proxy batches ---------------------------------------------------------------------------------------
def test_proxy_batch_shapes_labels_and_no_repeats(npz_dir):
    x, y = proxy_batch("cifar10", 32, seed=3, data_dir=npz_dir, pool="full", device="cpu")
    assert x.shape == (32, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64 and x.device.type == "cpu"
    mean, std = torch.tensor(get_spec("cifar10").mean), torch.tensor(get_spec("cifar10").std)
    pixels_u8 = ((x[:, :, 16, 16] * std + mean) * 255).round()  # undo the normalisation
    ident = [decode_colour(p) for p in pixels_u8]
    assert [c for c, _ in ident] == y.tolist()  # labels belong to their images
    assert len(set(ident)) == 32  # drawn without replacement


def test_proxy_batch_same_seed_same_batch_other_seed_other_batch(npz_dir):
    a = proxy_batch("cifar10", 16, seed=0, data_dir=npz_dir, pool="full", device="cpu")
    b = proxy_batch("cifar10", 16, seed=0, data_dir=npz_dir, pool="full", device="cpu")
    c = proxy_batch("cifar10", 16, seed=1, data_dir=npz_dir, pool="full", device="cpu")
    torch.manual_seed(123)  # the global RNG must not matter
    d = proxy_batch("cifar10", 16, seed=0, data_dir=npz_dir, pool="full", device="cpu")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and torch.equal(a[0], d[0])
    assert not torch.equal(a[0], c[0])


def test_proxy_batch_cifar10_valid_train_draws_only_from_the_train_half(npz_dir):
    xtr, _ = load_dataset("cifar10-valid", "train", data_dir=npz_dir)
    allowed = set(images_identity(xtr))
    x, _ = proxy_batch(
        "cifar10-valid", 40, seed=5, data_dir=npz_dir, pool="full", device="cpu"
    )  # the whole half, shuffled
    mean, std = torch.tensor(get_spec("cifar10").mean), torch.tensor(get_spec("cifar10").std)
    ident = {decode_colour(((p * std + mean) * 255).round()) for p in x[:, :, 16, 16]}
    assert ident == allowed


def test_proxy_batch_augment_is_seeded_and_changes_pixels(npz_dir):
    plain = proxy_batch("cifar10", 16, seed=0, data_dir=npz_dir, pool="full", device="cpu")
    aug = proxy_batch("cifar10", 16, seed=0, data_dir=npz_dir, pool="full", augment=True, device="cpu")
    again = proxy_batch("cifar10", 16, seed=0, data_dir=npz_dir, pool="full", augment=True, device="cpu")
    assert torch.equal(aug[0], again[0]) and torch.equal(aug[1], plain[1])  # same images, same labels
    black = (-torch.tensor(get_spec("cifar10").mean) / torch.tensor(get_spec("cifar10").std)).view(1, 3, 1, 1)
    is_pad = torch.isclose(aug[0], black, atol=1e-5).all(1)  # (B, H, W): zero-padding pixels
    assert is_pad.any() and not torch.isclose(plain[0], black, atol=1e-5).all(1).any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dataset": "imagenet"}, "dataset"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 81}, "batch_size=81"),
        ({"batch_size": True}, "batch_size"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"augment": "yes"}, "augment"),
        ({"split": "valid"}, "cifar10-valid"),
        ({"split": "val"}, "split"),
        ({"device": "tpu"}, "device"),
        ({"pool": "all"}, "pool='all'"),
        ({"pool": "probe", "batch_size": 3001}, "exceeds the 3000 images of the probe train pool.*--full-split"),
        ({"pool": "probe", "dataset": "cifar100"}, "CIFAR-10 training images only"),
        ({"pool": "probe", "split": "test"}, "CIFAR-10 training images only"),
    ],
)
def test_proxy_batch_rejects_bad_input(npz_dir, kwargs, match):
    args = {"dataset": "cifar10", "batch_size": 8, "data_dir": npz_dir, "device": "cpu", "pool": "full", **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        proxy_batch(args.pop("dataset"), args.pop("batch_size"), **args)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_proxy_batch_cuda_without_gpu_is_an_error(npz_dir):
    with pytest.raises(InvalidParameterError, match="CUDA is not available"):
        proxy_batch("cifar10", 8, data_dir=npz_dir, pool="full", device="cuda")


@pytest.mark.gpu
def test_proxy_batch_is_device_independent(npz_dir):
    cpu = proxy_batch("cifar10", 16, seed=2, data_dir=npz_dir, pool="full", augment=True, device="cpu")
    gpu = proxy_batch("cifar10", 16, seed=2, data_dir=npz_dir, pool="full", augment=True, device="cuda")
    assert gpu[0].device.type == "cuda" and torch.equal(cpu[0], gpu[0].cpu()) and torch.equal(cpu[1], gpu[1].cpu())


def test_default_pool_is_the_probe_set_whatever_else_is_installed(npz_dir):
    """The package's probe set, not the user's files, backs the default CIFAR-10 batch: same batch with and
    without them."""
    assert default_pool("cifar10") == default_pool("cifar10-valid") == "probe"
    assert default_pool("cifar100") == default_pool("cifar10", "test") == default_pool("cifar10", root="x") == "full"
    with_files = proxy_batch("cifar10", 16, seed=4, data_dir=npz_dir, augment=True, device="cpu")
    without = proxy_batch("cifar10-valid", 16, seed=4, augment=True, device="cpu")
    assert torch.equal(with_files[0], without[0]) and torch.equal(with_files[1], without[1])
    assert not torch.equal(
        with_files[0], proxy_batch("cifar10", 16, seed=4, data_dir=npz_dir, pool="full", device="cpu")[0][:16]
    )


def test_probe_set_is_class_balanced_and_large_enough_for_every_profile():
    from nasbench_eval.data.packaged import probe_set
    from nasbench_eval.proxies import list_proxies
    from nasbench_eval.proxies.profiles import list_profiles
    from nasbench_eval.proxies.scoring import rows_needed

    images, labels = probe_set()
    assert images.shape == (3000, 32, 32, 3) and images.dtype == np.uint8 and not images.flags.writeable
    assert np.bincount(labels).tolist() == [300] * 10
    needed = max(rows_needed(n, p) for n in list_proxies() for p in [None, *list_profiles()])
    assert needed == 3000  # lr_count reads 1,000 x 3 images; the probe set holds exactly that many
    x, y = proxy_batch("cifar10", needed, seed=0, device="cpu")
    assert np.bincount(y.numpy()).tolist() == [300] * 10  # the whole set, shuffled


def test_a_tampered_package_file_is_a_checksum_error(tmp_path, monkeypatch):
    import shutil

    from nasbench_eval.data import packaged

    files = tmp_path / "files"
    shutil.copytree(packaged.FILES_DIR, files)
    blob = bytearray((files / packaged.PROBE_FILE).read_bytes())
    blob[-100] ^= 1
    (files / packaged.PROBE_FILE).write_bytes(bytes(blob))
    monkeypatch.setattr(packaged, "FILES_DIR", files)
    packaged.probe_set.cache_clear()
    try:
        with pytest.raises(CorruptDataError, match="fails its checksum.*reinstall"):
            packaged.probe_set()
    finally:
        packaged.probe_set.cache_clear()


# ---- describe_data -------------------------------------------------------------------------------------
def test_describe_data_reports_found_and_missing(npz_dir):
    write_cifar100_official(npz_dir / "cifar100" / "cifar-100-python")
    (npz_dir / "nats").mkdir()
    (npz_dir / "nats" / "sss_accuracy.csv").write_text("index,arch\n")
    d = describe_data(npz_dir)
    from nasbench_eval.data.packaged import FILES_DIR

    assert [p["path"] for p in d["places"]] == [str(npz_dir), str(FILES_DIR)]  # --data-dir replaces the user places
    assert d["datasets"]["cifar10"]["format"] == "cifar10-jpeg" and d["datasets"]["cifar10-valid"]["found"]
    assert d["datasets"]["cifar100"] == {
        "found": True,
        "format": "cifar100-official",
        "path": str((npz_dir / "cifar100" / "cifar-100-python").resolve()),
        "num_classes": 100,
        "resolution": 32,
    }
    assert (
        not d["datasets"]["ImageNet16-120"]["found"]
        and "ImageNet16/train_data_batch_1" in d["datasets"]["ImageNet16-120"]["error"]
    )
    assert d["tables"]["nats_sss"]["found"] and d["tables"]["nb201"]["path"].startswith(str(FILES_DIR))
    assert d["probe_set"]["images"] == 3000


# ---- golden: the real mirror (decoded once per test session into the session's cache) --------------------------------
@pytest.mark.slow
def test_golden_mirror_decodes_to_balanced_cifar10_with_nb201_statistics(full_data):
    x, y = load_dataset("cifar10", "train", data_dir=full_data)  # decodes all 60,000 (~12 s on a busy core)
    assert x.shape == (50000, 32, 32, 3) and np.bincount(y.numpy()).tolist() == [5000] * 10
    assert load_dataset("cifar10", "test", data_dir=full_data)[0].shape == (10000, 32, 32, 3)
    tr, va = train_valid_split(y)
    assert len(tr) == len(va) == 25000 and np.bincount(y[va].numpy()).tolist() == [2500] * 10
    xb, yb = proxy_batch("cifar10-valid", 4096, seed=0, data_dir=full_data, pool="full", device="cpu")
    # NB201's constants are CIFAR-10's own statistics: normalised data is ~zero-mean, unit-std per channel
    assert xb.mean((0, 2, 3)).abs().max() < 0.05 and (xb.std((0, 2, 3)) - 1).abs().max() < 0.05
    # the probe set is the mirror's pixels and labels at `mirror_index`, all in the cifar10-valid train half
    from nasbench_eval.data.packaged import FILES_DIR, PROBE_FILE, probe_set

    with np.load(FILES_DIR / PROBE_FILE) as z:
        where = z["mirror_index"]
    images, labels = probe_set()
    assert np.array_equal(x.numpy()[where], images) and np.array_equal(y.numpy()[where], labels)
    assert set(where.tolist()) <= set(tr.tolist())
