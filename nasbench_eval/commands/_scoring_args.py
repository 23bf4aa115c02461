"""Options shared by `correlate` and `score`: which archs, which proxies, how to score them."""
from __future__ import annotations

import numpy as np

from .._validation import MAX_PROXY_BATCH, SEED_MAX, check_in_file, check_int, float_arg, int_arg
from ..benchmarks import DATASETS, Benchmark
from ..exceptions import InvalidParameterError
from ..executors.base import DEFAULT_THREADS, EXECUTORS, Executor, make_executor
from ..scoring.store import ScoreStore


def add_scoring_arguments(p, *, default_sample: int | None, min_sample: int = 1) -> None:
    p.add_argument(
        "--dataset",
        default="cifar10",
        choices=DATASETS,
        help="images to score on and ground truth to compare with (default cifar10)",
    )
    p.add_argument(
        "--space",
        default="tss",
        choices=("tss",),
        help="search space (tss; sss scoring needs the sss table from `data import`)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--sample", type=int_arg(min_sample, 15625), default=None,
                       help="score N seeded-random architectures"
                            + (f" (default {default_sample})" if default_sample else ""))
    which.add_argument("--all", action="store_true", help="score every architecture of the space")
    which.add_argument(
        "--archs",
        metavar="FILE",
        help="score exactly the architectures listed in FILE (one index or official string per line; # comments)",
    )
    p.add_argument("--seed", type=int_arg(0, SEED_MAX), default=0,
                   help="fixes the sample, the weights and the image batch (default 0)")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available)")
    p.add_argument(
        "--profile",
        default=None,
        help="reference profile setting every knob at once (naswot, zc, tenas_code, tenas_paper, naslib, spidernet)",
    )
    p.add_argument("--batch-size", type=int_arg(2, MAX_PROXY_BATCH), default=None,
                   help="images per scoring batch (default: each proxy's own)")
    p.add_argument("--repeats", type=int_arg(1, 100), default=None,
                   help="repeats per score, averaged (default: each proxy's own)")
    p.add_argument("--full-split", action="store_true",
                   help="draw CIFAR-10 image batches from your full training split (see `data add`) instead of the "
                        "package's 3,000-image probe set (the default, identical on every machine)")
    p.add_argument(
        "--store", default=None, help="score store SQLite file (default: $NASBENCH_EVAL_CACHE/scores.sqlite)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_executor_arguments(p)


MAX_WORKERS = 4096


def add_executor_arguments(p) -> None:
    """--executor, --workers, --threads, --ray-address, --gpus-per-task (see `nasbench_eval.executors`)."""
    p.add_argument("--executor", default="local", choices=EXECUTORS,
                   help="local: processes on this machine (default); ray: tasks on a Ray cluster (extra [ray])")
    p.add_argument("--workers", type=int_arg(1, MAX_WORKERS), default=None,
                   help="parallel workers (default: local, one per available core, or per visible GPU with CUDA; "
                        "ray, what the cluster fits); 1 scores in this process")
    p.add_argument("--threads", type=int_arg(1, 1024), default=None,
                   help=f"torch threads per worker (default {DEFAULT_THREADS}; scores are bit-identical across "
                        "worker counts at one thread count)")
    p.add_argument("--ray-address", default=None,
                   help="--executor ray: auto (the cluster `ray start` runs here) or HOST:PORT (default: start a "
                        "local Ray instance for this run)")
    p.add_argument("--gpus-per-task", type=float_arg(0, 64), default=None,
                   help="--executor ray: GPUs each task requests (default 1 with CUDA, else 0)")


def open_executor(args) -> Executor:
    """The executor the command's options ask for (close it, or use it in a ``with`` block)."""
    if args.executor != "ray" and (args.ray_address is not None or args.gpus_per_task is not None):
        raise InvalidParameterError("--ray-address and --gpus-per-task need --executor ray.")
    return make_executor(args.executor, workers=args.workers, threads=args.threads or DEFAULT_THREADS,
                         device=args.device, ray_address=args.ray_address, gpus_per_task=args.gpus_per_task)


def read_arch_file(path: str, bench: Benchmark) -> list[int]:
    """Benchmark indices of the architectures listed in `path` (index or string per line), in file order."""
    expected = "a UTF-8 text file with one index or architecture string per line"
    file = check_in_file(path, flag="--archs", expected=expected)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterError(f"--archs {path!r} is not UTF-8 text (binary?); expected {expected}.") from None
    if "\x00" in text:
        raise InvalidParameterError(f"--archs {path!r} contains NUL bytes (binary?); expected {expected}.")
    indices = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
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


def select_indices(args, bench: Benchmark, *, default_sample: int | None, minimum: int = 1) -> list[int]:
    """The benchmark indices to score, from --archs / --all / --sample (seeded, sorted); at least `minimum`."""
    if args.archs:
        indices = read_arch_file(args.archs, bench)
        if len(indices) < minimum:
            raise InvalidParameterError(f"--archs {args.archs!r} lists {len(indices)} distinct architecture(s); "
                                        f"expected at least {minimum} for {args.command}.")
        return indices
    if args.all:
        return list(range(len(bench)))
    n = args.sample if args.sample is not None else default_sample
    if n is None:
        raise InvalidParameterError("choose the architectures: --sample N, --all or --archs FILE.")
    n = check_int("--sample", n, caller=args.command, minimum=minimum, maximum=len(bench))
    rng = np.random.default_rng(check_int("--seed", args.seed, caller=args.command, minimum=0))
    return sorted(int(i) for i in rng.choice(len(bench), size=n, replace=False))


def open_store(args) -> ScoreStore:
    return ScoreStore(args.store)


def batch_pool(args) -> str | None:
    """The `pool` for score_space: "full" with --full-split, else the default (probe set for CIFAR-10)."""
    return "full" if args.full_split else None


def proxy_options(args) -> dict:
    return {"batch_size": args.batch_size, "repeats": args.repeats}
