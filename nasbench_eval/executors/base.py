"""The executor interface, core and GPU counting, thread settings and the factory by name."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from .._validation import check_int, check_option
from ..exceptions import NasBenchEvalError

EXECUTORS = ("local", "ray")


class ExecutorError(NasBenchEvalError, RuntimeError):
    """Work could not be completed (workers kept dying, Ray not installed or not reachable)."""


class Executor:
    """Runs ``fn(payload)`` for each payload and yields ``(index, result)`` as each finishes.

    Subclasses implement `run`; `close` releases workers (also on leaving a ``with`` block). An
    exception raised by `fn` propagates to the caller; KeyboardInterrupt cancels outstanding units.
    """

    workers: int = 1
    threads: int = 1

    def run(self, fn: Callable, payloads: Sequence) -> Iterator[tuple[int, object]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers (idempotent)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> dict:
        """What ran the work, for summaries and benchmark JSON."""
        return {"executor": type(self).__name__, "workers": self.workers, "threads": self.threads}


def available_cores() -> int:
    """CPU cores this process may run on (`os.sched_getaffinity`, not `os.cpu_count`: cgroups, taskset, SLURM)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS / Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def visible_gpus(device: str | None) -> int:
    """CUDA devices a plain ``device="cuda"`` (or None with CUDA) may spread over; 0 for CPU or ``cuda:N``."""
    import torch

    if device is not None and str(device) != "cuda":
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def default_workers(device: str | None = None) -> int:
    """One worker per visible GPU on CUDA, else one per available core."""
    return visible_gpus(device) or available_cores()


DEFAULT_THREADS = 1
"""Torch intra-op threads per worker: process parallelism scales better than threads on these small
convolutions, and one fixed count keeps scores bit-identical across worker counts (CPU conv and matmul
reductions split work by thread, so their last bits depend on the thread count)."""


def torch_count() -> int:
    """Torch's current intra-op thread count in this process."""
    import torch

    return torch.get_num_threads()


@contextmanager
def torch_threads(n: int | None):
    """Run the body with ``torch.set_num_threads(n)``, restoring the previous count after (None: unchanged)."""
    import torch

    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_executor(name: str = "local", *, workers: int | None = None, threads: int | None = None,
                  device: str | None = None, ray_address: str | None = None,
                  gpus_per_task: float | None = None) -> Executor:
    """An executor by name.

    Parameters
    ----------
    name : {"local", "ray"}
    workers : int, optional
        Parallel units (local: processes, 1 = this process; ray: tasks in flight). Default
        `default_workers(device)` for ``local``, the cluster's CPUs (or GPUs) for ``ray``.
    threads : int, optional
        Torch intra-op threads in each worker (default `DEFAULT_THREADS`, 1).
    device : str, optional
        The scoring device; with ``"cuda"`` the local pool pins one worker per visible GPU.
    ray_address, gpus_per_task
        Ray only: the cluster to join (None: start a local one; ``"auto"``: the running one) and
        the GPUs each task requests (default 1 when `device` is CUDA, else 0).
    """
    check_option("executor", name, EXECUTORS, caller="make_executor")
    if workers is not None:
        workers = check_int("workers", workers, caller="make_executor", minimum=1)
    if threads is not None:
        threads = check_int("threads", threads, caller="make_executor", minimum=1)
    if name == "local":
        from .local import LocalExecutor

        return LocalExecutor(workers=workers, threads=threads, device=device)
    from .ray_tasks import RayExecutor

    return RayExecutor(address=ray_address, workers=workers, threads=threads, device=device,
                       gpus_per_task=gpus_per_task)
