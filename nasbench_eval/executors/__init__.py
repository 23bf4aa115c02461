"""Executors: run independent work units on every core, every GPU or a Ray cluster, results streaming back.

One interface (`base.Executor`): ``run(fn, payloads)`` calls the picklable top-level ``fn(payload)`` for
every payload and yields ``(index, result)`` as units finish, in completion order. The caller (the
driver) is the only one that writes results anywhere, so the score store's guarantees do not depend on
the executor. `make_executor` builds one by name:

- ``"local"`` (`local.LocalExecutor`): one worker runs in this process (no subprocess); more workers are
  a spawn-context process pool, one torch thread each on CPU, one visible GPU each on CUDA. A worker
  killed mid-run costs only its unfinished units, which are resubmitted on a fresh pool.
- ``"ray"`` (`ray_tasks.RayExecutor`, optional extra ``[ray]``): one Ray task per unit with resource
  requests; Ray retries a task whose worker died.

Scoring units are `nasbench_eval.scoring.units`; the trained experiments' units (trainings, Stage-1
evaluations, Stage-2 cells, SpiderNet runs) are `outputs.OutputUnit` s, one file or folder each, which the
driver commits (`outputs.run_all`).
"""
from .base import Executor, ExecutorError, available_cores, default_workers, make_executor

__all__ = ["Executor", "ExecutorError", "available_cores", "default_workers", "make_executor"]
