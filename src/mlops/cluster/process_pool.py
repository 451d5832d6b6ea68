"""The ``processes`` executor: a pool of worker processes on this machine.

CPU-bound Python code needs processes (the GIL serialises threads). A bare
``concurrent.futures.ProcessPoolExecutor`` starts in a fraction of the time a
Dask ``LocalCluster`` takes (no scheduler, no nannies, no TCP), which is what a
run on one machine pays for; ``--cluster local`` keeps the Dask cluster, with
its dashboard, for those who want one.

- Workers are spawned, not forked: a fork of a process with threads (the
  engine's, the progress display's) can deadlock in the child.
- Workers start with SIGINT blocked (they inherit the mask of the thread that
  spawns them): Ctrl-C reaches the whole foreground process group, and a
  worker dying mid-task would print its traceback while the run is stopping
  in order. The run itself stops them (``abandon``).
- A worker that dies (a crash in a C extension, ``os._exit``) breaks the whole
  pool: the tasks then running fail with the reason, and the next submit gets a
  fresh pool, as Dask's nanny would restart the worker.
- The pool starts on the first submit, so a fully cached run starts no workers.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from mlops.cluster.worker_signals import interrupts_for_this_process_only
from mlops.core.executors import ResultFuture


class ProcessPool:
    """The ``Executor`` protocol on worker processes of this machine (see the module docstring)."""

    name = "processes"
    in_process = False

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def started(self) -> bool:
        return self._pool is not None

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # Inside: the pool's queues start multiprocessing's resource tracker,
                # which must be the quiet one (it would warn of "leaked semaphores"
                # after an interrupted run).
                with interrupts_for_this_process_only():
                    self._pool = ProcessPoolExecutor(
                        max_workers=self.workers,
                        mp_context=multiprocessing.get_context("spawn"),
                    )
            return self._pool

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> ResultFuture:
        pool = self._current()
        try:
            return self._submit(pool, fn, *args)
        except BrokenProcessPool:
            # A worker died: the pool cannot take work any more. The tasks that
            # were running on it failed with the reason; this one gets a new pool.
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return self._submit(self._current(), fn, *args)

    @staticmethod
    def _submit(pool: ProcessPoolExecutor, fn: Callable[..., Any], /, *args: Any) -> ResultFuture:
        # The pool spawns its workers inside submit, from this thread: they inherit
        # its signal mask, so SIGINT is blocked here while they start.
        with interrupts_for_this_process_only():
            return pool.submit(fn, *args)

    def wait(self, futures: Collection[ResultFuture]) -> set[ResultFuture]:
        pending: list[Future[Any]] = [f for f in futures if isinstance(f, Future)]
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        return set(done)

    def abandon(self) -> None:
        """Stop the workers now: the program is being interrupted and ends next."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            if process.is_alive():
                process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and not self._closed:
            pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["ProcessPool"]
