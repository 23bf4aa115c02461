"""The Ray executor: one Ray task per unit, with resource requests; Ray schedules, retries and moves the data.

Needs the optional extra ``[ray]``. Without an address a local Ray instance is started for the run (and
stopped by `close`); ``address="auto"`` joins the cluster `ray start` left running on this node.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence

from ..allocator import keep_freed_memory
from .base import DEFAULT_THREADS, Executor, ExecutorError, available_cores

MAX_RETRIES = 3
"""Times Ray reruns a task whose worker process or node died."""
WAIT_SECONDS = 0.5
"""Longest blocking `ray.wait`: Ctrl-C is only seen between waits (a wait without timeout never sees it)."""


def _call(fn: Callable, threads: int, payload):
    """The Ray task body: `fn(payload)` with `threads` torch intra-op threads, freed memory kept for reuse."""
    import torch

    keep_freed_memory()
    torch.set_num_threads(threads)
    return fn(payload)


class RayExecutor(Executor):
    """Units as Ray tasks, each requesting `threads` CPUs and `gpus_per_task` GPUs.

    Parameters
    ----------
    address : str, optional
        None: start a local Ray instance with this process's available cores; ``"auto"`` or ``HOST:PORT``:
        join a running cluster.
    workers : int, optional
        Most tasks in flight at once (default: as many as the cluster's CPUs, or GPUs, can run).
    threads : int, optional
        Torch threads (and CPUs requested) per task, default `DEFAULT_THREADS`.
    device : str, optional
        ``"cuda"``: each task requests `gpus_per_task` GPUs (default 1; Ray sets CUDA_VISIBLE_DEVICES).
    """

    def __init__(self, address: str | None = None, workers: int | None = None, threads: int | None = None,
                 device: str | None = None, gpus_per_task: float | None = None):
        try:
            import ray
        except ImportError:
            raise ExecutorError("--executor ray needs Ray, which is not installed; "
                                "install it with pip install 'nasbench-eval[ray]'.") from None
        self._ray = ray
        self.threads = threads if threads is not None else DEFAULT_THREADS
        cuda = device is not None and str(device).startswith("cuda")
        self.gpus_per_task = gpus_per_task if gpus_per_task is not None else (1.0 if cuda else 0.0)
        self._started = not ray.is_initialized()
        if self._started:
            try:
                ray.init(address=address, num_cpus=None if address else available_cores(), include_dashboard=False,
                         logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise ExecutorError(f"--ray-address {address!r}: cannot join a Ray cluster ({err}); start one with "
                                    "`ray start --head` or leave --ray-address unset for a local one.") from None
        self.address = address
        self.workers = workers if workers is not None else self._capacity()
        self.retried = 0

    def _capacity(self) -> int:
        """Tasks the cluster can run at once under these resource requests (at least 1)."""
        res = self._ray.cluster_resources()
        slots = int(res.get("CPU", 1) // self.threads)
        if self.gpus_per_task:
            slots = min(slots, int(res.get("GPU", 0) // self.gpus_per_task))
        return max(1, slots)

    def run(self, fn: Callable, payloads: Sequence) -> Iterator[tuple[int, object]]:
        ray = self._ray
        task = ray.remote(_call).options(num_cpus=self.threads, num_gpus=self.gpus_per_task, max_retries=MAX_RETRIES)
        queue, running = list(enumerate(payloads))[::-1], {}
        try:
            while queue or running:
                while queue and len(running) < self.workers:
                    i, payload = queue.pop()
                    running[task.remote(fn, self.threads, payload)] = i
                ready, _ = ray.wait(list(running), num_returns=1, timeout=WAIT_SECONDS)
                for ref in ready:
                    i = running.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayTaskError as err:  # fn raised: re-raise its own exception
                        raise err.as_instanceof_cause() from None
                    except ray.exceptions.WorkerCrashedError as err:
                        raise ExecutorError(f"ray executor: unit {i} lost its worker {MAX_RETRIES + 1} times "
                                            f"({err}); finished work is kept: rerun to resume.") from None
                    yield i, result
        except BaseException:
            for ref in running:
                ray.cancel(ref, force=True)
            raise

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False

    def describe(self) -> dict:
        return {**super().describe(), "address": self.address, "gpus_per_task": self.gpus_per_task,
                "cluster": {k: v for k, v in self._ray.cluster_resources().items() if k in ("CPU", "GPU")}}
