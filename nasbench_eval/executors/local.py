"""The local executor: this process for one worker, else a forkserver process pool that survives dead workers."""
from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ..allocator import keep_freed_memory
from .base import DEFAULT_THREADS, Executor, ExecutorError, default_workers, torch_count, torch_threads, visible_gpus

PRELOAD = ["torch", "nasbench_eval.scoring.units", "nasbench_eval.engine"]
"""Imported once by the forkserver; every worker forks with them loaded."""
MAX_RESTARTS = 3
"""Fresh pools after a worker died, per `run`, before giving up with ExecutorError."""


def _init_worker(threads: int, gpus: int, counter, driver: int) -> None:
    """Pool initializer: one torch thread count, one GPU per worker (round robin) on CUDA, freed memory kept for
    reuse (`keep_freed_memory`), and an exit when the driver process `driver` (pid) is gone."""
    import torch

    keep_freed_memory()
    threading.Thread(target=_exit_with, args=(driver,), daemon=True, name="driver-watch").start()
    torch.set_num_threads(threads)
    if gpus:
        with counter.get_lock():
            slot, counter.value = counter.value, counter.value + 1
        torch.cuda.set_device(slot % gpus)


def _exit_with(driver: int, period: float = 1.0) -> None:
    """Exit this worker once process `driver` has died (checked every `period` seconds).

    A worker's parent is the forkserver, not the driver, so a driver killed with SIGKILL would otherwise leave
    its workers, the forkserver and the resource tracker behind for good (the workers hold their pipes open).
    """
    while True:
        time.sleep(period)
        try:
            os.kill(driver, 0)
        except (ProcessLookupError, PermissionError):  # gone, or the pid now belongs to another user's process
            os._exit(1)


def _context():
    """'forkserver' with torch and the scoring code preloaded (workers start in milliseconds, never forked from a
    process whose torch threads are running), 'spawn' where there is no forkserver (macOS, Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


class LocalExecutor(Executor):
    """Units on this machine: in this process for ``workers=1``, else in a pool of worker processes.

    Parameters
    ----------
    workers : int, optional
        Default `default_workers(device)`: one per visible GPU on CUDA, else one per available core.
    threads : int, optional
        Torch intra-op threads per worker (pool default `DEFAULT_THREADS`). In this process: set for the
        run and restored after; None leaves torch's setting alone (today's single-process behaviour).
    device : str, optional
        With ``"cuda"`` (or None on a CUDA machine) each pool worker takes one visible GPU.

    A pool worker that dies (killed, out of memory) breaks the pool: the units already yielded are kept
    by the caller, the others are resubmitted on a fresh pool, up to `MAX_RESTARTS` times per run.
    """

    def __init__(self, workers: int | None = None, threads: int | None = None, device: str | None = None):
        self.workers = workers if workers is not None else default_workers(device)
        self.threads = threads if threads is not None else DEFAULT_THREADS if self.workers > 1 else torch_count()
        self._inline_threads = None if threads is None and self.workers == 1 else self.threads  # None: leave torch be
        self.gpus = visible_gpus(device) if self.workers > 1 else 0
        self.restarts = 0
        self._pool: ProcessPoolExecutor | None = None
        if self.workers > 1 and _context().get_start_method() == "forkserver":
            multiprocessing.forkserver.ensure_running()  # its imports overlap the caller's own set-up

    def run(self, fn: Callable, payloads: Sequence) -> Iterator[tuple[int, object]]:
        if self.workers == 1 or len(payloads) <= 1:
            with torch_threads(self._inline_threads):  # a lone unit runs here, at the pool's thread count
                for i, payload in enumerate(payloads):
                    yield i, fn(payload)
            return
        pending = dict(enumerate(payloads))
        for attempt in range(MAX_RESTARTS + 1):
            try:
                yield from self._run_pool(fn, pending)
                return
            except BrokenProcessPool as err:
                self.close()
                if attempt == MAX_RESTARTS:
                    raise ExecutorError(
                        f"local executor: worker processes died {MAX_RESTARTS + 1} times ({err}); "
                        f"{len(pending)} unit(s) not done. Finished work is kept: rerun to resume, "
                        "with fewer --workers if memory ran out."
                    ) from None
                self.restarts += 1

    def _run_pool(self, fn, pending: dict) -> Iterator[tuple[int, object]]:
        """Submit `pending` (index -> payload) to a fresh pool; yield and drop each unit as it finishes."""
        ctx = _context()
        slots = ctx.Value("i") if self.gpus else None  # hands out GPU indices to the workers
        self._pool = ProcessPoolExecutor(max_workers=min(self.workers, len(pending)), mp_context=ctx,
                                         initializer=_init_worker,
                                         initargs=(self.threads, self.gpus, slots, os.getpid()))
        futures = {self._pool.submit(fn, payload): i for i, payload in pending.items()}
        try:
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=futures.get):  # finished units first, even if the pool broke
                    if not isinstance(future.exception(), BrokenProcessPool):
                        i = futures.pop(future)
                        result = future.result()
                        del pending[i]
                        yield i, result
                for future in done:
                    if future in futures:
                        future.result()  # raises BrokenProcessPool: the caller starts a fresh pool
        except BaseException:  # Ctrl-C, a unit's own error, a broken pool: stop the workers now
            self.close(cancel=True)
            raise
        self.close(cancel=False)

    def close(self, cancel: bool = True) -> None:
        """Shut the pool down; `cancel`: drop queued units and terminate the workers instead of waiting."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if cancel:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=cancel)

    def worker_pids(self) -> list[int]:
        """Process ids of the current pool's workers (empty in-process or between runs)."""
        return [] if self._pool is None else [p.pid for p in self._pool._processes.values()]

    def describe(self) -> dict:
        return {**super().describe(), "restarts": self.restarts}
