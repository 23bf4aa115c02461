"""Build the data that ships inside the package (nasbench_eval/data/files/) from the offline mirror.

    python -m tools.make_package_data MIRROR_DIR     (from the repository root)

MIRROR_DIR holds ``nb201/tss_accuracy.csv`` and ``cifar10/cifar10-jpeg.npz``. Writes
``nb201/tss_accuracy.csv.xz`` (the CSV byte for byte, xz-compressed), ``cifar10/cifar10-probe.npz``
(the CIFAR-10 probe set, JPEG bytes copied unchanged from the mirror) and ``manifest.json`` (sha256
of every file; for the probe set also of its decoded pixels). The same mirror gives the same CSV
bytes, the same images and the same pixel digest (the npz's zip timestamps, hence its sha256, differ).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import sys
from pathlib import Path

import numpy as np

from nasbench_eval.data.packaged import FILES_DIR, MANIFEST, PROBE_FILE, TABLE_FILE
from nasbench_eval.data.sampling import SPLIT_SEED, train_valid_split
from nasbench_eval.data.sources import decode_jpegs

PROBE_PER_CLASS = 300
"""3,000 images: the most rows any proxy reads under any profile (lr_count: 1,000 x 3)."""
PROBE_SEED = 2026
"""Seed of the per-class draw from the train half of the cifar10-valid split."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_table(mirror: Path) -> bytes:
    raw = (mirror / "nb201" / "tss_accuracy.csv").read_bytes()
    return lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME)


def build_probe(mirror: Path) -> tuple[bytes, str]:
    """(npz bytes, sha256 of the decoded uint8 pixels) of the probe set."""
    with np.load(mirror / "cifar10" / "cifar10-jpeg.npz", allow_pickle=False) as z:
        jpeg, offsets, labels = z["train_jpeg"], z["train_offsets"], z["train_labels"]
    train_half = train_valid_split(labels, SPLIT_SEED)[0].numpy()
    rng = np.random.default_rng(PROBE_SEED)
    chosen = []
    for c in range(10):
        pool = train_half[labels[train_half] == c]
        chosen.append(np.sort(rng.choice(pool, size=PROBE_PER_CLASS, replace=False)))
    idx = np.concatenate(chosen)
    pieces = [jpeg[offsets[i]:offsets[i + 1]] for i in idx]
    arrays = {
        "jpeg": np.concatenate(pieces),
        "offsets": np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64),
        "labels": labels[idx].astype(np.int64),
        "mirror_index": idx.astype(np.int64),
    }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    pixels = decode_jpegs(arrays["jpeg"], arrays["offsets"], "probe set")
    return buf.getvalue(), _sha256(pixels.tobytes())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mirror", type=Path)
    args = p.parse_args(argv)
    table = build_table(args.mirror)
    probe, pixels_sha = build_probe(args.mirror)
    manifest = {
        TABLE_FILE: {"sha256": _sha256(table), "bytes": len(table),
                     "csv_sha256": _sha256((args.mirror / "nb201" / "tss_accuracy.csv").read_bytes())},
        PROBE_FILE: {"sha256": _sha256(probe), "bytes": len(probe), "pixels_sha256": pixels_sha,
                     "images": 10 * PROBE_PER_CLASS, "per_class": PROBE_PER_CLASS, "seed": PROBE_SEED},
    }
    for name, data in ((TABLE_FILE, table), (PROBE_FILE, probe)):
        (FILES_DIR / name).parent.mkdir(parents=True, exist_ok=True)
        (FILES_DIR / name).write_bytes(data)
    (FILES_DIR / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
