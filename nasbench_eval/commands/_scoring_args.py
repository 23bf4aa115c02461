"""Options shared by `correlate` and `score`: which archs, which proxies, how to score them."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .._validation import check_int
from ..benchmarks import DATASETS, Benchmark
from ..exceptions import DataNotFoundError, InvalidParameterError
from ..store import ScoreStore


def add_scoring_arguments(p, *, default_sample: int | None) -> None:
    p.add_argument("--dataset", default="cifar10", choices=DATASETS, help="images to score on and ground truth to compare with (default cifar10)")
    p.add_argument("--space", default="tss", choices=("tss",), help="search space (tss; sss scoring needs the sss table from `data import`)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--sample", type=int, default=None, help=f"score N seeded-random architectures (default {default_sample})" if default_sample else "score N seeded-random architectures")
    which.add_argument("--all", action="store_true", help="score every architecture of the space")
    which.add_argument("--archs", metavar="FILE", help="score exactly the architectures listed in FILE (one index or official string per line; # comments)")
    p.add_argument("--seed", type=int, default=0, help="fixes the sample, the weights and the image batch (default 0)")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available)")
    p.add_argument("--profile", default=None, help="reference profile setting every knob at once (naswot, zc, tenas_code, tenas_paper, naslib, spidernet)")
    p.add_argument("--batch-size", type=int, default=None, help="images per scoring batch (default: each proxy's own)")
    p.add_argument("--repeats", type=int, default=None, help="repeats per score, averaged (default: each proxy's own)")
    p.add_argument("--full-split", action="store_true",
                   help="draw CIFAR-10 image batches from your full training split (see `data add`) instead of the "
                        "package's 3,000-image probe set (the default, identical on every machine)")
    p.add_argument("--store", default=None, help="score store SQLite file (default: $NASBENCH_EVAL_CACHE/scores.sqlite)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def read_arch_file(path: str, bench: Benchmark) -> list[int]:
    """Benchmark indices of the architectures listed in `path` (index or string per line), in file order."""
    file = Path(path)
    if not file.is_file():
        raise DataNotFoundError(f"--archs {path!r}: no such file; expected a text file with one index or architecture string per line.")
    indices = []
    for lineno, raw in enumerate(file.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("|") else raw.strip()
        if not line:
            continue
        try:
            indices.append(bench.index_of(line))
        except (InvalidParameterError, LookupError) as err:
            raise InvalidParameterError(f"--archs {path!r} line {lineno}: {err}") from err
    if not indices:
        raise InvalidParameterError(f"--archs {path!r} lists no architecture; expected one index or string per line.")
    return list(dict.fromkeys(indices))  # duplicates scored once (spec/metrics.md §0.4)


def select_indices(args, bench: Benchmark, *, default_sample: int | None) -> list[int]:
    """The benchmark indices to score, from --archs / --all / --sample (seeded, sorted)."""
    if args.archs:
        return read_arch_file(args.archs, bench)
    if args.all:
        return list(range(len(bench)))
    n = args.sample if args.sample is not None else default_sample
    if n is None:
        raise InvalidParameterError("choose the architectures: --sample N, --all or --archs FILE.")
    n = check_int("--sample", n, caller=args.command, minimum=1, maximum=len(bench))
    rng = np.random.default_rng(check_int("--seed", args.seed, caller=args.command, minimum=0))
    return sorted(int(i) for i in rng.choice(len(bench), size=n, replace=False))


def open_store(args) -> ScoreStore:
    return ScoreStore(args.store)


def batch_pool(args) -> str | None:
    """The `pool` for score_space: "full" with --full-split, else the default (probe set for CIFAR-10)."""
    return "full" if args.full_split else None


def proxy_options(args) -> dict:
    return {"batch_size": args.batch_size, "repeats": args.repeats}
